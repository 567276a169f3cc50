//! Loading the rows an action is about, as `NotFound` errors when they are missing.

use super::Actor;
use crate::{CoreError, Result};
use mobieus_domain::forum::{Post, PostId, Thread, ThreadId, User, Username};
use mobieus_store::TenantTx;

pub(super) async fn actor(tx: &mut TenantTx, actor: &Actor) -> Result<User> {
    match actor {
        Actor::Username(name) => member(tx, name).await,
        Actor::Id(id) => tx
            .user_by_id(*id)
            .await?
            .ok_or_else(|| CoreError::not_found("user", id)),
    }
}

/// A current member by username.
pub(super) async fn member(tx: &mut TenantTx, name: &Username) -> Result<User> {
    tx.user_by_username(name.as_str())
        .await?
        .ok_or_else(|| CoreError::not_found("user", name))
}

pub(super) async fn thread(tx: &mut TenantTx, id: ThreadId) -> Result<Thread> {
    tx.thread_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("thread", id))
}

pub(super) async fn post(tx: &mut TenantTx, id: PostId) -> Result<(Post, Thread)> {
    let post = tx
        .post_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("post", id))?;
    let thread = thread(tx, post.thread_id).await?;
    Ok((post, thread))
}

pub(super) async fn reload_user(tx: &mut TenantTx, user: &User) -> Result<User> {
    tx.user_by_id(user.id)
        .await?
        .ok_or_else(|| CoreError::not_found("user", user.id))
}
