from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_selection_type_0_item import EventSelectionType0Item
from ..models.event_type_name import EventTypeName
from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateEndpoint")


@_attrs_define
class UpdateEndpoint:
    """Changes to an endpoint; fields left out stay as they are.

    Attributes:
        url (str | Unset): A new https URL, checked like a new registration.
        label (None | str | Unset): A new label (at most 100 characters, no control characters); `null` removes it.
        events (list[EventSelectionType0Item] | list[EventTypeName] | Unset): Event types to send (at least one), or
            `["*"]` for every event
        active (bool | Unset): `false` stops deliveries; `true` re-enables a disabled endpoint and clears its failure
            count.
    """

    url: str | Unset = UNSET
    label: None | str | Unset = UNSET
    events: list[EventSelectionType0Item] | list[EventTypeName] | Unset = UNSET
    active: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        label: None | str | Unset
        if isinstance(self.label, Unset):
            label = UNSET
        else:
            label = self.label

        events: list[str] | Unset
        if isinstance(self.events, Unset):
            events = UNSET
        elif isinstance(self.events, list):
            events = []
            for componentsschemas_event_selection_type_0_item_data in self.events:
                componentsschemas_event_selection_type_0_item = (
                    componentsschemas_event_selection_type_0_item_data.value
                )
                events.append(componentsschemas_event_selection_type_0_item)

        else:
            events = []
            for componentsschemas_event_selection_type_1_item_data in self.events:
                componentsschemas_event_selection_type_1_item = (
                    componentsschemas_event_selection_type_1_item_data.value
                )
                events.append(componentsschemas_event_selection_type_1_item)

        active = self.active

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
        if label is not UNSET:
            field_dict["label"] = label
        if events is not UNSET:
            field_dict["events"] = events
        if active is not UNSET:
            field_dict["active"] = active

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        url = d.pop("url", UNSET)

        def _parse_label(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label = _parse_label(d.pop("label", UNSET))

        def _parse_events(
            data: object,
        ) -> list[EventSelectionType0Item] | list[EventTypeName] | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_event_selection_type_0 = []
                _componentsschemas_event_selection_type_0 = data
                for (
                    componentsschemas_event_selection_type_0_item_data
                ) in _componentsschemas_event_selection_type_0:
                    componentsschemas_event_selection_type_0_item = (
                        EventSelectionType0Item(
                            componentsschemas_event_selection_type_0_item_data
                        )
                    )

                    componentsschemas_event_selection_type_0.append(
                        componentsschemas_event_selection_type_0_item
                    )

                return componentsschemas_event_selection_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, list):
                raise TypeError()
            componentsschemas_event_selection_type_1 = []
            _componentsschemas_event_selection_type_1 = data
            for (
                componentsschemas_event_selection_type_1_item_data
            ) in _componentsschemas_event_selection_type_1:
                componentsschemas_event_selection_type_1_item = EventTypeName(
                    componentsschemas_event_selection_type_1_item_data
                )

                componentsschemas_event_selection_type_1.append(
                    componentsschemas_event_selection_type_1_item
                )

            return componentsschemas_event_selection_type_1

        events = _parse_events(d.pop("events", UNSET))

        active = d.pop("active", UNSET)

        update_endpoint = cls(
            url=url,
            label=label,
            events=events,
            active=active,
        )

        return update_endpoint
