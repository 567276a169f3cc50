//! The forum: who its members are, what they write, and the rules of who may do what.

mod entities;
mod ids;
mod rules;
mod values;

pub use entities::{Post, PostStatus, Thread, User, UserRef, UserStatus};
pub use ids::{PostId, ThreadId, UserId};
pub use rules::{Refusal, can_edit_post, can_moderate, can_moderate_user, can_post_in};
pub use values::{Email, InvalidValue, PostBody, Reason, Role, Title, Username};
