from enum import StrEnum


class PostCreatedType(StrEnum):
    POST_CREATED = "post.created"

    def __str__(self) -> str:
        return str(self.value)
