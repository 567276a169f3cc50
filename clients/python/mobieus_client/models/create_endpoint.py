from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_selection_type_0_item import EventSelectionType0Item
from ..models.event_type_name import EventTypeName
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateEndpoint")


@_attrs_define
class CreateEndpoint:
    """A new endpoint.

    Attributes:
        url (str): An https URL on the public internet. Example: https://hooks.example.com/mobieus.
        events (list[EventSelectionType0Item] | list[EventTypeName]): Event types to send (at least one), or `["*"]` for
            every event
        label (None | str | Unset): A name to recognise the endpoint by: at most 100 characters, no control characters.
    """

    url: str
    events: list[EventSelectionType0Item] | list[EventTypeName]
    label: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        events: list[str]
        if isinstance(self.events, list):
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

        label: None | str | Unset
        if isinstance(self.label, Unset):
            label = UNSET
        else:
            label = self.label

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
                "events": events,
            }
        )
        if label is not UNSET:
            field_dict["label"] = label

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        url = d.pop("url")

        def _parse_events(
            data: object,
        ) -> list[EventSelectionType0Item] | list[EventTypeName]:
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

        events = _parse_events(d.pop("events"))

        def _parse_label(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        label = _parse_label(d.pop("label", UNSET))

        create_endpoint = cls(
            url=url,
            events=events,
            label=label,
        )

        return create_endpoint
