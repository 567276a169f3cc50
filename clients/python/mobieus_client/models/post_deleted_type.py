from enum import StrEnum


class PostDeletedType(StrEnum):
    POST_DELETED = "post.deleted"

    def __str__(self) -> str:
        return str(self.value)
