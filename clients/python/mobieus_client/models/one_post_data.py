from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.post_status import PostStatus

if TYPE_CHECKING:
    from ..models.user_ref import UserRef


T = TypeVar("T", bound="OnePostData")


@_attrs_define
class OnePostData:
    """A post in a thread.

    Attributes:
        id (int): A post's id. Example: 42.
        thread_id (int): A thread's id. Example: 42.
        author (UserRef): A member named inside another object (a post's author, an event's actor).
        body (None | str): The current text; `null` once the post is deleted or removed.
        status (PostStatus): Whether a post is shown.
        opens_thread (bool): Whether this post opened its thread.
        created_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        edited_at (datetime.datetime | None):
    """

    id: int
    thread_id: int
    author: UserRef
    body: None | str
    status: PostStatus
    opens_thread: bool
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        thread_id = self.thread_id

        author = self.author.to_dict()

        body: None | str
        body = self.body

        status = self.status.value

        opens_thread = self.opens_thread

        created_at = self.created_at.isoformat()

        edited_at: None | str
        if isinstance(self.edited_at, datetime.datetime):
            edited_at = self.edited_at.isoformat()
        else:
            edited_at = self.edited_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "thread_id": thread_id,
                "author": author,
                "body": body,
                "status": status,
                "opens_thread": opens_thread,
                "created_at": created_at,
                "edited_at": edited_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.user_ref import UserRef

        d = dict(src_dict)
        id = d.pop("id")

        thread_id = d.pop("thread_id")

        author = UserRef.from_dict(d.pop("author"))

        def _parse_body(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        body = _parse_body(d.pop("body"))

        status = PostStatus(d.pop("status"))

        opens_thread = d.pop("opens_thread")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_edited_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                edited_at_type_0 = datetime.datetime.fromisoformat(data)

                return edited_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        edited_at = _parse_edited_at(d.pop("edited_at"))

        one_post_data = cls(
            id=id,
            thread_id=thread_id,
            author=author,
            body=body,
            status=status,
            opens_thread=opens_thread,
            created_at=created_at,
            edited_at=edited_at,
        )

        one_post_data.additional_properties = d
        return one_post_data

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
