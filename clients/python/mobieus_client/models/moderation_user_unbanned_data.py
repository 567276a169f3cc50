from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.user import User
    from ..models.user_ref import UserRef


T = TypeVar("T", bound="ModerationUserUnbannedData")


@_attrs_define
class ModerationUserUnbannedData:
    """The data of a `moderation.user_unbanned` event.

    Attributes:
        user (User): A member of the forum.
        actor (UserRef): A member named inside another object (a post's author, an event's actor).
        reason (None | str): The moderator's reason; `null` when none was given.
    """

    user: User
    actor: UserRef
    reason: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user = self.user.to_dict()

        actor = self.actor.to_dict()

        reason: None | str
        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user": user,
                "actor": actor,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.user import User
        from ..models.user_ref import UserRef

        d = dict(src_dict)
        user = User.from_dict(d.pop("user"))

        actor = UserRef.from_dict(d.pop("actor"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        moderation_user_unbanned_data = cls(
            user=user,
            actor=actor,
            reason=reason,
        )

        moderation_user_unbanned_data.additional_properties = d
        return moderation_user_unbanned_data

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
