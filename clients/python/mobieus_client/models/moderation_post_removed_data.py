from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.post import Post
    from ..models.thread import Thread
    from ..models.user_ref import UserRef


T = TypeVar("T", bound="ModerationPostRemovedData")


@_attrs_define
class ModerationPostRemovedData:
    """The data of a `moderation.post_removed` event.

    Attributes:
        post (Post): A post in a thread.
        thread (Thread): A thread: a title and the posts under it, the first of which opened it.
        actor (UserRef): A member named inside another object (a post's author, an event's actor).
        reason (None | str): The moderator's reason; `null` when none was given.
    """

    post: Post
    thread: Thread
    actor: UserRef
    reason: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        post = self.post.to_dict()

        thread = self.thread.to_dict()

        actor = self.actor.to_dict()

        reason: None | str
        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "post": post,
                "thread": thread,
                "actor": actor,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.post import Post
        from ..models.thread import Thread
        from ..models.user_ref import UserRef

        d = dict(src_dict)
        post = Post.from_dict(d.pop("post"))

        thread = Thread.from_dict(d.pop("thread"))

        actor = UserRef.from_dict(d.pop("actor"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        moderation_post_removed_data = cls(
            post=post,
            thread=thread,
            actor=actor,
            reason=reason,
        )

        moderation_post_removed_data.additional_properties = d
        return moderation_post_removed_data

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
