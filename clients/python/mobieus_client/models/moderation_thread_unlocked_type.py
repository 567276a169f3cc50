from enum import StrEnum


class ModerationThreadUnlockedType(StrEnum):
    MODERATION_THREAD_UNLOCKED = "moderation.thread_unlocked"

    def __str__(self) -> str:
        return str(self.value)
