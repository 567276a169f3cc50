from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.user_ref import UserRef


T = TypeVar("T", bound="Thread")


@_attrs_define
class Thread:
    """A thread: a title and the posts under it, the first of which opened it.

    Attributes:
        id (int): A thread's id. Example: 42.
        title (str):
        author (UserRef): A member named inside another object (a post's author, an event's actor).
        locked (bool): A locked thread takes no replies.
        created_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
    """

    id: int
    title: str
    author: UserRef
    locked: bool
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        title = self.title

        author = self.author.to_dict()

        locked = self.locked

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "author": author,
                "locked": locked,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.user_ref import UserRef

        d = dict(src_dict)
        id = d.pop("id")

        title = d.pop("title")

        author = UserRef.from_dict(d.pop("author"))

        locked = d.pop("locked")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        thread = cls(
            id=id,
            title=title,
            author=author,
            locked=locked,
            created_at=created_at,
        )

        thread.additional_properties = d
        return thread

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
