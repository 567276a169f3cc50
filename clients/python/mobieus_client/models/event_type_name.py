from enum import StrEnum


class EventTypeName(StrEnum):
    MODERATION_POST_REMOVED = "moderation.post_removed"
    MODERATION_THREAD_LOCKED = "moderation.thread_locked"
    MODERATION_THREAD_UNLOCKED = "moderation.thread_unlocked"
    MODERATION_USER_BANNED = "moderation.user_banned"
    MODERATION_USER_UNBANNED = "moderation.user_unbanned"
    POST_CREATED = "post.created"
    POST_DELETED = "post.deleted"
    POST_EDITED = "post.edited"
    USER_JOINED = "user.joined"
    USER_LEFT = "user.left"

    def __str__(self) -> str:
        return str(self.value)
