from enum import StrEnum


class ModerationUserUnbannedType(StrEnum):
    MODERATION_USER_UNBANNED = "moderation.user_unbanned"

    def __str__(self) -> str:
        return str(self.value)
