from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An RFC 9457 problem document as mobieus sends it.

    Attributes:
        type_ (str): A URI reference naming the kind of problem; resolves to its documentation. Example:
            /know/errors#invalid_api_key.
        title (str): A short, human-readable summary of the kind of problem.
        status (int): The HTTP status code.
        detail (str): What went wrong with this request.
        code (str): Stable machine-readable code: `missing_api_key`, `invalid_api_key`,
            `insufficient_scope`, `rate_limited`, `too_many_streams`, `invalid_request`, `not_found`, `unsafe_webhook_url`,
            `conflict`, `idempotency_key_in_use`, `idempotency_key_reused`, `method_not_allowed`,
            `unknown_tenant`, `https_required`, `payload_too_large`, `unsupported_media_type`,
            `internal_error`. Example: invalid_api_key.
        request_id (str): The request's id, as in the `X-Request-Id` header.
    """

    type_: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        code = self.code

        request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
                "code": code,
                "request_id": request_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        code = d.pop("code")

        request_id = d.pop("request_id")

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            code=code,
            request_id=request_id,
        )

        problem.additional_properties = d
        return problem

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
