from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_status import DeliveryStatus

if TYPE_CHECKING:
    from ..models.attempt import Attempt


T = TypeVar("T", bound="DeliveryWithAttempts")


@_attrs_define
class DeliveryWithAttempts:
    """A delivery with its attempts.

    Attributes:
        id (str): A delivery's id, `dlv_…`: one event to one endpoint, across all its attempts.
        event_id (str): The event sent (`evt_…`); also the `webhook-id` header of every attempt.
        event_type (str):
        endpoint_id (str): A webhook endpoint's id, `ep_…`.
        status (DeliveryStatus): Where a delivery stands.
        attempts (int): Attempts made so far.
        next_attempt_at (datetime.datetime | None):
        created_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        updated_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        attempts_made (list[Attempt]):
    """

    id: str
    event_id: str
    event_type: str
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    attempts_made: list[Attempt]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        event_id = self.event_id

        event_type = self.event_type

        endpoint_id = self.endpoint_id

        status = self.status.value

        attempts = self.attempts

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        attempts_made = []
        for attempts_made_item_data in self.attempts_made:
            attempts_made_item = attempts_made_item_data.to_dict()
            attempts_made.append(attempts_made_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "event_id": event_id,
                "event_type": event_type,
                "endpoint_id": endpoint_id,
                "status": status,
                "attempts": attempts,
                "next_attempt_at": next_attempt_at,
                "created_at": created_at,
                "updated_at": updated_at,
                "attempts_made": attempts_made,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt import Attempt

        d = dict(src_dict)
        id = d.pop("id")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        endpoint_id = d.pop("endpoint_id")

        status = DeliveryStatus(d.pop("status"))

        attempts = d.pop("attempts")

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        attempts_made = []
        _attempts_made = d.pop("attempts_made")
        for attempts_made_item_data in _attempts_made:
            attempts_made_item = Attempt.from_dict(attempts_made_item_data)

            attempts_made.append(attempts_made_item)

        delivery_with_attempts = cls(
            id=id,
            event_id=event_id,
            event_type=event_type,
            endpoint_id=endpoint_id,
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            created_at=created_at,
            updated_at=updated_at,
            attempts_made=attempts_made,
        )

        delivery_with_attempts.additional_properties = d
        return delivery_with_attempts

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
