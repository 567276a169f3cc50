//! Forum use cases: membership, posting, moderation. Each validates inside its
//! transaction (so the check and the write see the same rows), writes, publishes its
//! event, and commits.

mod lookup;
mod moderation;
mod posts;
mod users;

pub use moderation::{ban, lock_thread, remove_post, unban, unlock_thread};
pub use posts::{NewThread, create_thread, delete_post, edit_post, reply};
pub(crate) use users::join_as;
pub use users::{join, leave, set_role};

use mobieus_domain::forum::{UserId, Username};

/// Who performs an action: named by username (CLI) or by id (a logged-in session).
#[derive(Clone, Debug)]
pub enum Actor {
    Username(Username),
    Id(UserId),
}
