from enum import StrEnum


class ModerationUserBannedType(StrEnum):
    MODERATION_USER_BANNED = "moderation.user_banned"

    def __str__(self) -> str:
        return str(self.value)
