from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Recovered")


@_attrs_define
class Recovered:
    """What a recovery queued.

    Attributes:
        queued (int): How many events are being sent again (at most 10,000 per call).
        since (datetime.datetime): RFC 3339 time in UTC with milliseconds
        until (datetime.datetime): RFC 3339 time in UTC with milliseconds
        more (bool): More failed deliveries remain in the window: call again with the same window.
    """

    queued: int
    since: datetime.datetime
    until: datetime.datetime
    more: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queued = self.queued

        since = self.since.isoformat()

        until = self.until.isoformat()

        more = self.more

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "queued": queued,
                "since": since,
                "until": until,
                "more": more,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        queued = d.pop("queued")

        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        more = d.pop("more")

        recovered = cls(
            queued=queued,
            since=since,
            until=until,
            more=more,
        )

        recovered.additional_properties = d
        return recovered

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
