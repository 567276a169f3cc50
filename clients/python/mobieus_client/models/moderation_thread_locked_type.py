from enum import StrEnum


class ModerationThreadLockedType(StrEnum):
    MODERATION_THREAD_LOCKED = "moderation.thread_locked"

    def __str__(self) -> str:
        return str(self.value)
