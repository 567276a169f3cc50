from enum import StrEnum


class ModerationPostRemovedType(StrEnum):
    MODERATION_POST_REMOVED = "moderation.post_removed"

    def __str__(self) -> str:
        return str(self.value)
