from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role
from ..models.user_status import UserStatus

T = TypeVar("T", bound="User")


@_attrs_define
class User:
    """A member of the forum.

    Attributes:
        id (int): A member's id. Example: 42.
        username (str):
        email (None | str): Absent when none was given, and erased when the member leaves.
        role (Role): A member's role. Moderators and admins moderate; an admin outranks a moderator.
        banned (bool):
        status (UserStatus): Whether a member is still a member.
        joined_at (datetime.datetime): RFC 3339 time in UTC with milliseconds
        left_at (datetime.datetime | None):
    """

    id: int
    username: str
    email: None | str
    role: Role
    banned: bool
    status: UserStatus
    joined_at: datetime.datetime
    left_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        username = self.username

        email: None | str
        email = self.email

        role = self.role.value

        banned = self.banned

        status = self.status.value

        joined_at = self.joined_at.isoformat()

        left_at: None | str
        if isinstance(self.left_at, datetime.datetime):
            left_at = self.left_at.isoformat()
        else:
            left_at = self.left_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "username": username,
                "email": email,
                "role": role,
                "banned": banned,
                "status": status,
                "joined_at": joined_at,
                "left_at": left_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        username = d.pop("username")

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        role = Role(d.pop("role"))

        banned = d.pop("banned")

        status = UserStatus(d.pop("status"))

        joined_at = datetime.datetime.fromisoformat(d.pop("joined_at"))

        def _parse_left_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                left_at_type_0 = datetime.datetime.fromisoformat(data)

                return left_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        left_at = _parse_left_at(d.pop("left_at"))

        user = cls(
            id=id,
            username=username,
            email=email,
            role=role,
            banned=banned,
            status=status,
            joined_at=joined_at,
            left_at=left_at,
        )

        user.additional_properties = d
        return user

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
