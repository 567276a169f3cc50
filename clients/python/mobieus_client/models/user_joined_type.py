from enum import StrEnum


class UserJoinedType(StrEnum):
    USER_JOINED = "user.joined"

    def __str__(self) -> str:
        return str(self.value)
