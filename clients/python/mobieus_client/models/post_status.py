from enum import StrEnum


class PostStatus(StrEnum):
    DELETED = "deleted"
    REMOVED = "removed"
    VISIBLE = "visible"

    def __str__(self) -> str:
        return str(self.value)
