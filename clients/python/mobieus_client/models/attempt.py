from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.attempt_request_headers import AttemptRequestHeaders


T = TypeVar("T", bound="Attempt")


@_attrs_define
class Attempt:
    """One attempt, as it went over the wire.

    Attributes:
        number (int): 1 for the first attempt.
        started_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        duration_ms (int):
        request_headers (AttemptRequestHeaders): The request headers exactly as sent, signatures included.
        response_status (int | None): The receiver's status code; `null` when no answer came (see `error`).
        response_excerpt (None | str): The start of the response body (capped).
        error (None | str): What went wrong when no answer came.
    """

    number: int
    started_at: datetime.datetime
    duration_ms: int
    request_headers: AttemptRequestHeaders
    response_status: int | None
    response_excerpt: None | str
    error: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        started_at = self.started_at.isoformat()

        duration_ms = self.duration_ms

        request_headers = self.request_headers.to_dict()

        response_status: int | None
        response_status = self.response_status

        response_excerpt: None | str
        response_excerpt = self.response_excerpt

        error: None | str
        error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "number": number,
                "started_at": started_at,
                "duration_ms": duration_ms,
                "request_headers": request_headers,
                "response_status": response_status,
                "response_excerpt": response_excerpt,
                "error": error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_request_headers import AttemptRequestHeaders

        d = dict(src_dict)
        number = d.pop("number")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        duration_ms = d.pop("duration_ms")

        request_headers = AttemptRequestHeaders.from_dict(d.pop("request_headers"))

        def _parse_response_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        response_status = _parse_response_status(d.pop("response_status"))

        def _parse_response_excerpt(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        response_excerpt = _parse_response_excerpt(d.pop("response_excerpt"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        attempt = cls(
            number=number,
            started_at=started_at,
            duration_ms=duration_ms,
            request_headers=request_headers,
            response_status=response_status,
            response_excerpt=response_excerpt,
            error=error,
        )

        attempt.additional_properties = d
        return attempt

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
