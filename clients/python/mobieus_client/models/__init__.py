"""Contains all the data models used in inputs/outputs"""

from .attempt import Attempt
from .attempt_request_headers import AttemptRequestHeaders
from .create_endpoint import CreateEndpoint
from .deleted import Deleted
from .delivery import Delivery
from .delivery_status import DeliveryStatus
from .delivery_with_attempts import DeliveryWithAttempts
from .endpoint import Endpoint
from .endpoint_with_secret import EndpointWithSecret
from .event_selection_type_0_item import EventSelectionType0Item
from .event_type_name import EventTypeName
from .list_delivery import ListDelivery
from .list_delivery_data_item import ListDeliveryDataItem
from .list_endpoint import ListEndpoint
from .list_endpoint_data_item import ListEndpointDataItem
from .list_event import ListEvent
from .list_meta import ListMeta
from .list_post import ListPost
from .list_post_data_item import ListPostDataItem
from .list_user import ListUser
from .list_user_data_item import ListUserDataItem
from .meta import Meta
from .moderation_post_removed import ModerationPostRemoved
from .moderation_post_removed_data import ModerationPostRemovedData
from .moderation_post_removed_type import ModerationPostRemovedType
from .moderation_thread_locked import ModerationThreadLocked
from .moderation_thread_locked_data import ModerationThreadLockedData
from .moderation_thread_locked_type import ModerationThreadLockedType
from .moderation_thread_unlocked import ModerationThreadUnlocked
from .moderation_thread_unlocked_data import ModerationThreadUnlockedData
from .moderation_thread_unlocked_type import ModerationThreadUnlockedType
from .moderation_user_banned import ModerationUserBanned
from .moderation_user_banned_data import ModerationUserBannedData
from .moderation_user_banned_type import ModerationUserBannedType
from .moderation_user_unbanned import ModerationUserUnbanned
from .moderation_user_unbanned_data import ModerationUserUnbannedData
from .moderation_user_unbanned_type import ModerationUserUnbannedType
from .one_deleted import OneDeleted
from .one_deleted_data import OneDeletedData
from .one_delivery import OneDelivery
from .one_delivery_data import OneDeliveryData
from .one_delivery_with_attempts import OneDeliveryWithAttempts
from .one_delivery_with_attempts_data import OneDeliveryWithAttemptsData
from .one_endpoint import OneEndpoint
from .one_endpoint_data import OneEndpointData
from .one_endpoint_with_secret import OneEndpointWithSecret
from .one_endpoint_with_secret_data import OneEndpointWithSecretData
from .one_event import OneEvent
from .one_post import OnePost
from .one_post_data import OnePostData
from .one_recovered import OneRecovered
from .one_recovered_data import OneRecoveredData
from .one_rotated_secret import OneRotatedSecret
from .one_rotated_secret_data import OneRotatedSecretData
from .one_user import OneUser
from .one_user_data import OneUserData
from .post import Post
from .post_created import PostCreated
from .post_created_data import PostCreatedData
from .post_created_type import PostCreatedType
from .post_deleted import PostDeleted
from .post_deleted_data import PostDeletedData
from .post_deleted_type import PostDeletedType
from .post_edited import PostEdited
from .post_edited_data import PostEditedData
from .post_edited_type import PostEditedType
from .post_status import PostStatus
from .previous_post import PreviousPost
from .problem import Problem
from .recover_window import RecoverWindow
from .recovered import Recovered
from .role import Role
from .rotate_secret import RotateSecret
from .rotated_secret import RotatedSecret
from .test_send import TestSend
from .thread import Thread
from .update_endpoint import UpdateEndpoint
from .user import User
from .user_joined import UserJoined
from .user_joined_data import UserJoinedData
from .user_joined_type import UserJoinedType
from .user_left import UserLeft
from .user_left_data import UserLeftData
from .user_left_type import UserLeftType
from .user_ref import UserRef
from .user_status import UserStatus
from .webhook_test import WebhookTest
from .webhook_test_data import WebhookTestData
from .webhook_test_type import WebhookTestType

__all__ = (
    "Attempt",
    "AttemptRequestHeaders",
    "CreateEndpoint",
    "Deleted",
    "Delivery",
    "DeliveryStatus",
    "DeliveryWithAttempts",
    "Endpoint",
    "EndpointWithSecret",
    "EventSelectionType0Item",
    "EventTypeName",
    "ListDelivery",
    "ListDeliveryDataItem",
    "ListEndpoint",
    "ListEndpointDataItem",
    "ListEvent",
    "ListMeta",
    "ListPost",
    "ListPostDataItem",
    "ListUser",
    "ListUserDataItem",
    "Meta",
    "ModerationPostRemoved",
    "ModerationPostRemovedData",
    "ModerationPostRemovedType",
    "ModerationThreadLocked",
    "ModerationThreadLockedData",
    "ModerationThreadLockedType",
    "ModerationThreadUnlocked",
    "ModerationThreadUnlockedData",
    "ModerationThreadUnlockedType",
    "ModerationUserBanned",
    "ModerationUserBannedData",
    "ModerationUserBannedType",
    "ModerationUserUnbanned",
    "ModerationUserUnbannedData",
    "ModerationUserUnbannedType",
    "OneDeleted",
    "OneDeletedData",
    "OneDelivery",
    "OneDeliveryData",
    "OneDeliveryWithAttempts",
    "OneDeliveryWithAttemptsData",
    "OneEndpoint",
    "OneEndpointData",
    "OneEndpointWithSecret",
    "OneEndpointWithSecretData",
    "OneEvent",
    "OnePost",
    "OnePostData",
    "OneRecovered",
    "OneRecoveredData",
    "OneRotatedSecret",
    "OneRotatedSecretData",
    "OneUser",
    "OneUserData",
    "Post",
    "PostCreated",
    "PostCreatedData",
    "PostCreatedType",
    "PostDeleted",
    "PostDeletedData",
    "PostDeletedType",
    "PostEdited",
    "PostEditedData",
    "PostEditedType",
    "PostStatus",
    "PreviousPost",
    "Problem",
    "RecoverWindow",
    "Recovered",
    "Role",
    "RotateSecret",
    "RotatedSecret",
    "TestSend",
    "Thread",
    "UpdateEndpoint",
    "User",
    "UserJoined",
    "UserJoinedData",
    "UserJoinedType",
    "UserLeft",
    "UserLeftData",
    "UserLeftType",
    "UserRef",
    "UserStatus",
    "WebhookTest",
    "WebhookTestData",
    "WebhookTestType",
)
