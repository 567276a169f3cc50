from enum import StrEnum


class UserLeftType(StrEnum):
    USER_LEFT = "user.left"

    def __str__(self) -> str:
        return str(self.value)
