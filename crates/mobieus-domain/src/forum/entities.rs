//! Forum entities as the public API and the public events show them.

use super::{PostId, Role, ThreadId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Whether a member is still a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    /// The member left the forum; their posts stay, their e-mail address is erased.
    Left,
}

/// A member of the forum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    /// Absent when none was given, and erased when the member leaves.
    #[schema(required = true)]
    pub email: Option<String>,
    pub role: Role,
    pub banned: bool,
    pub status: UserStatus,
    pub joined_at: Timestamp,
    #[schema(required = true)]
    pub left_at: Option<Timestamp>,
}

impl User {
    pub fn as_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            username: self.username.clone(),
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

/// A member named inside another object (a post's author, an event's actor).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// A thread: a title and the posts under it, the first of which opened it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Thread {
    pub id: ThreadId,
    pub title: String,
    pub author: UserRef,
    /// A locked thread takes no replies.
    pub locked: bool,
    pub created_at: Timestamp,
}

/// Whether a post is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Visible,
    /// Deleted by its author (or a moderator); the body is no longer shown.
    Deleted,
    /// Removed by a moderator with a reason; the body is no longer shown.
    Removed,
}

/// A post in a thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Post {
    pub id: PostId,
    pub thread_id: ThreadId,
    pub author: UserRef,
    /// The current text; `null` once the post is deleted or removed.
    #[schema(required = true)]
    pub body: Option<String>,
    pub status: PostStatus,
    /// Whether this post opened its thread.
    pub opens_thread: bool,
    pub created_at: Timestamp,
    /// When the body was last edited; earlier versions are kept as edit history.
    #[schema(required = true)]
    pub edited_at: Option<Timestamp>,
}

impl Post {
    pub fn is_visible(&self) -> bool {
        self.status == PostStatus::Visible
    }
}
