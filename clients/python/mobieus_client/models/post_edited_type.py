from enum import StrEnum


class PostEditedType(StrEnum):
    POST_EDITED = "post.edited"

    def __str__(self) -> str:
        return str(self.value)
