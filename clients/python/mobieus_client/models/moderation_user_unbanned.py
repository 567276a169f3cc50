from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.moderation_user_unbanned_type import ModerationUserUnbannedType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.moderation_user_unbanned_data import ModerationUserUnbannedData


T = TypeVar("T", bound="ModerationUserUnbanned")


@_attrs_define
class ModerationUserUnbanned:
    """A moderator lifted a ban. `data` has `user`, `actor` and `reason`.

    Attributes:
        id (str): Stable id, `evt_…`; also the `webhook-id` of its deliveries. Example: evt_01JW3K8Q9Z7M5T2V4X6Y8A0B1C.
        type_ (ModerationUserUnbannedType):
        api_version (str): The API version the event was written with (a date); its shape follows that version. Example:
            2026-05-24.
        created_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        tenant (str): The community's slug. Example: acme.
        data (ModerationUserUnbannedData): The data of a `moderation.user_unbanned` event.
        test (bool | Unset): Present, and `true`, only on a test send of a catalog type to one endpoint (`POST
            /api/v1/webhooks/{id}/test` with `event_type`); such an event is never in the feed. Absent on every other event.
    """

    id: str
    type_: ModerationUserUnbannedType
    api_version: str
    created_at: datetime.datetime
    tenant: str
    data: ModerationUserUnbannedData
    test: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        type_ = self.type_.value

        api_version = self.api_version

        created_at = self.created_at.isoformat()

        tenant = self.tenant

        data = self.data.to_dict()

        test = self.test

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "api_version": api_version,
                "created_at": created_at,
                "tenant": tenant,
                "data": data,
            }
        )
        if test is not UNSET:
            field_dict["test"] = test

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.moderation_user_unbanned_data import ModerationUserUnbannedData

        d = dict(src_dict)
        id = d.pop("id")

        type_ = ModerationUserUnbannedType(d.pop("type"))

        api_version = d.pop("api_version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        tenant = d.pop("tenant")

        data = ModerationUserUnbannedData.from_dict(d.pop("data"))

        test = d.pop("test", UNSET)

        moderation_user_unbanned = cls(
            id=id,
            type_=type_,
            api_version=api_version,
            created_at=created_at,
            tenant=tenant,
            data=data,
            test=test,
        )

        moderation_user_unbanned.additional_properties = d
        return moderation_user_unbanned

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
