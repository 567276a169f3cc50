//! Joining and leaving the forum, and roles.

use super::Actor;
use super::lookup;
use crate::outbox::{Published, publish};
use crate::{CoreError, Result};
use mobieus_domain::account::PasswordHash;
use mobieus_domain::event::EventData;
use mobieus_domain::forum::{Email, Role, User, UserStatus, Username};
use mobieus_domain::time::Timestamp;
use mobieus_store::TenantDb;

/// A new member joins: `user.joined`.
pub async fn join(
    db: &TenantDb,
    username: &Username,
    email: Option<&Email>,
) -> Result<Published<User>> {
    join_as(db, username, email, Role::Member, None).await
}

/// A new member joins with a role and, for a web account, a password: `user.joined`
/// (showing the role they joined with).
pub(crate) async fn join_as(
    db: &TenantDb,
    username: &Username,
    email: Option<&Email>,
    role: Role,
    password: Option<&PasswordHash>,
) -> Result<Published<User>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    if tx.user_by_username(username.as_str()).await?.is_some() {
        return Err(CoreError::Conflict(format!("username {username} is taken")));
    }
    let id = tx
        .insert_user(username.as_str(), email.map(Email::as_str), now)
        .await?;
    if role != Role::Member {
        tx.set_user_role(id, role).await?;
    }
    if let Some(hash) = password {
        tx.set_password_hash(id, hash.as_str()).await?;
    }
    let user = tx
        .user_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("user", id))?;
    let event_id = publish(&mut tx, now, EventData::UserJoined { user: user.clone() }).await?;
    tx.commit().await?;
    Ok(Published {
        value: user,
        event_id,
    })
}

/// A member leaves (deletes their account): `user.left`. Their posts stay; their
/// sessions end.
pub async fn leave(db: &TenantDb, who: &Actor) -> Result<Published<User>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let user = lookup::actor(&mut tx, who).await?;
    if user.status == UserStatus::Left {
        return Err(CoreError::not_found("user", user.id));
    }
    tx.set_user_left(user.id, now).await?;
    tx.delete_user_sessions(user.id).await?;
    let user = lookup::reload_user(&mut tx, &user).await?;
    let event_id = publish(&mut tx, now, EventData::UserLeft { user: user.clone() }).await?;
    tx.commit().await?;
    Ok(Published {
        value: user,
        event_id,
    })
}

/// Sets a member's role. An operator's act (no public event in the catalog).
pub async fn set_role(db: &TenantDb, username: &Username, role: Role) -> Result<User> {
    let mut tx = db.begin().await?;
    let user = lookup::member(&mut tx, username).await?;
    tx.set_user_role(user.id, role).await?;
    let user = lookup::reload_user(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(user)
}
