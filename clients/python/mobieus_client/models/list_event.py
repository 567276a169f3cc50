from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.list_meta import ListMeta
    from ..models.moderation_post_removed import ModerationPostRemoved
    from ..models.moderation_thread_locked import ModerationThreadLocked
    from ..models.moderation_thread_unlocked import ModerationThreadUnlocked
    from ..models.moderation_user_banned import ModerationUserBanned
    from ..models.moderation_user_unbanned import ModerationUserUnbanned
    from ..models.post_created import PostCreated
    from ..models.post_deleted import PostDeleted
    from ..models.post_edited import PostEdited
    from ..models.user_joined import UserJoined
    from ..models.user_left import UserLeft


T = TypeVar("T", bound="ListEvent")


@_attrs_define
class ListEvent:
    """A page of a list.

    Attributes:
        data (list[ModerationPostRemoved | ModerationThreadLocked | ModerationThreadUnlocked | ModerationUserBanned |
            ModerationUserUnbanned | PostCreated | PostDeleted | PostEdited | UserJoined | UserLeft]):
        meta (ListMeta): `meta` of a list page.
    """

    data: list[
        ModerationPostRemoved
        | ModerationThreadLocked
        | ModerationThreadUnlocked
        | ModerationUserBanned
        | ModerationUserUnbanned
        | PostCreated
        | PostDeleted
        | PostEdited
        | UserJoined
        | UserLeft
    ]
    meta: ListMeta
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.moderation_post_removed import ModerationPostRemoved
        from ..models.moderation_thread_locked import ModerationThreadLocked
        from ..models.moderation_user_banned import ModerationUserBanned
        from ..models.moderation_user_unbanned import ModerationUserUnbanned
        from ..models.post_created import PostCreated
        from ..models.post_deleted import PostDeleted
        from ..models.post_edited import PostEdited
        from ..models.user_joined import UserJoined
        from ..models.user_left import UserLeft

        data = []
        for data_item_data in self.data:
            data_item: dict[str, Any]
            if (
                isinstance(data_item_data, UserJoined)
                or isinstance(data_item_data, UserLeft)
                or isinstance(data_item_data, PostCreated)
                or isinstance(data_item_data, PostEdited)
                or isinstance(data_item_data, PostDeleted)
                or isinstance(data_item_data, ModerationUserBanned)
                or isinstance(data_item_data, ModerationUserUnbanned)
                or isinstance(data_item_data, ModerationPostRemoved)
                or isinstance(data_item_data, ModerationThreadLocked)
            ):
                data_item = data_item_data.to_dict()
            else:
                data_item = data_item_data.to_dict()

            data.append(data_item)

        meta = self.meta.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "meta": meta,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.list_meta import ListMeta
        from ..models.moderation_post_removed import ModerationPostRemoved
        from ..models.moderation_thread_locked import ModerationThreadLocked
        from ..models.moderation_thread_unlocked import ModerationThreadUnlocked
        from ..models.moderation_user_banned import ModerationUserBanned
        from ..models.moderation_user_unbanned import ModerationUserUnbanned
        from ..models.post_created import PostCreated
        from ..models.post_deleted import PostDeleted
        from ..models.post_edited import PostEdited
        from ..models.user_joined import UserJoined
        from ..models.user_left import UserLeft

        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in _data:

            def _parse_data_item(
                data: object,
            ) -> (
                ModerationPostRemoved
                | ModerationThreadLocked
                | ModerationThreadUnlocked
                | ModerationUserBanned
                | ModerationUserUnbanned
                | PostCreated
                | PostDeleted
                | PostEdited
                | UserJoined
                | UserLeft
            ):
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_0 = UserJoined.from_dict(data)

                    return data_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_1 = UserLeft.from_dict(data)

                    return data_item_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_2 = PostCreated.from_dict(data)

                    return data_item_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_3 = PostEdited.from_dict(data)

                    return data_item_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_4 = PostDeleted.from_dict(data)

                    return data_item_type_4
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_5 = ModerationUserBanned.from_dict(data)

                    return data_item_type_5
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_6 = ModerationUserUnbanned.from_dict(data)

                    return data_item_type_6
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_7 = ModerationPostRemoved.from_dict(data)

                    return data_item_type_7
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    data_item_type_8 = ModerationThreadLocked.from_dict(data)

                    return data_item_type_8
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                data_item_type_9 = ModerationThreadUnlocked.from_dict(data)

                return data_item_type_9

            data_item = _parse_data_item(data_item_data)

            data.append(data_item)

        meta = ListMeta.from_dict(d.pop("meta"))

        list_event = cls(
            data=data,
            meta=meta,
        )

        list_event.additional_properties = d
        return list_event

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
