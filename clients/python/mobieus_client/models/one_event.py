from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.meta import Meta
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


T = TypeVar("T", bound="OneEvent")


@_attrs_define
class OneEvent:
    """One object.

    Attributes:
        data (ModerationPostRemoved | ModerationThreadLocked | ModerationThreadUnlocked | ModerationUserBanned |
            ModerationUserUnbanned | PostCreated | PostDeleted | PostEdited | UserJoined | UserLeft): A public event (a feed
            item, and the body of a webhook request): one of the event types, told apart by `type`.
        meta (Meta): `meta` of a single object.
    """

    data: (
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
    )
    meta: Meta
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

        data: dict[str, Any]
        if (
            isinstance(self.data, UserJoined)
            or isinstance(self.data, UserLeft)
            or isinstance(self.data, PostCreated)
            or isinstance(self.data, PostEdited)
            or isinstance(self.data, PostDeleted)
            or isinstance(self.data, ModerationUserBanned)
            or isinstance(self.data, ModerationUserUnbanned)
            or isinstance(self.data, ModerationPostRemoved)
            or isinstance(self.data, ModerationThreadLocked)
        ):
            data = self.data.to_dict()
        else:
            data = self.data.to_dict()

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
        from ..models.meta import Meta
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

        def _parse_data(
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
                data_type_0 = UserJoined.from_dict(data)

                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_1 = UserLeft.from_dict(data)

                return data_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_2 = PostCreated.from_dict(data)

                return data_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_3 = PostEdited.from_dict(data)

                return data_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_4 = PostDeleted.from_dict(data)

                return data_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_5 = ModerationUserBanned.from_dict(data)

                return data_type_5
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_6 = ModerationUserUnbanned.from_dict(data)

                return data_type_6
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_7 = ModerationPostRemoved.from_dict(data)

                return data_type_7
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_8 = ModerationThreadLocked.from_dict(data)

                return data_type_8
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            data_type_9 = ModerationThreadUnlocked.from_dict(data)

            return data_type_9

        data = _parse_data(d.pop("data"))

        meta = Meta.from_dict(d.pop("meta"))

        one_event = cls(
            data=data,
            meta=meta,
        )

        one_event.additional_properties = d
        return one_event

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
