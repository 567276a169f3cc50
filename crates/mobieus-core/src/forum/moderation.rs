//! Moderation: bans, post removal, thread locks. Each is recorded in
//! `moderation_actions` with its reason, beside its public event.

use super::{Actor, lookup};
use crate::outbox::{Published, publish};
use crate::{CoreError, Result};
use mobieus_domain::event::EventData;
use mobieus_domain::forum::{
    Post, PostId, PostStatus, Reason, Thread, ThreadId, User, Username, can_moderate,
    can_moderate_user,
};
use mobieus_domain::time::Timestamp;
use mobieus_store::{ModerationRecord, TenantDb};

fn record<'a>(
    action: &'static str,
    moderator: &User,
    reason: Option<&'a Reason>,
    at: Timestamp,
) -> ModerationRecord<'a> {
    ModerationRecord {
        action,
        moderator: moderator.id,
        target_user: None,
        target_post: None,
        target_thread: None,
        reason: reason.map(Reason::as_str),
        at,
    }
}

/// Bans a member: `moderation.user_banned`. A banned member cannot post.
pub async fn ban(
    db: &TenantDb,
    target: &Username,
    by: &Actor,
    reason: Option<&Reason>,
) -> Result<Published<User>> {
    set_banned(db, target, by, reason, true).await
}

/// Lifts a ban: `moderation.user_unbanned`.
pub async fn unban(
    db: &TenantDb,
    target: &Username,
    by: &Actor,
    reason: Option<&Reason>,
) -> Result<Published<User>> {
    set_banned(db, target, by, reason, false).await
}

async fn set_banned(
    db: &TenantDb,
    target: &Username,
    by: &Actor,
    reason: Option<&Reason>,
    banned: bool,
) -> Result<Published<User>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let actor = lookup::actor(&mut tx, by).await?;
    let user = lookup::member(&mut tx, target).await?;
    can_moderate_user(&actor, &user)?;
    if user.banned == banned {
        let state = if banned {
            "already banned"
        } else {
            "not banned"
        };
        return Err(CoreError::Conflict(format!("{target} is {state}")));
    }
    tx.set_user_banned(user.id, banned).await?;
    let action = if banned { "ban" } else { "unban" };
    tx.insert_moderation(&ModerationRecord {
        target_user: Some(user.id),
        ..record(action, &actor, reason, now)
    })
    .await?;
    let user = lookup::reload_user(&mut tx, &user).await?;
    let (actor, reason) = (actor.as_ref(), reason.map(ToString::to_string));
    let data = if banned {
        EventData::UserBanned {
            user: user.clone(),
            actor,
            reason,
        }
    } else {
        EventData::UserUnbanned {
            user: user.clone(),
            actor,
            reason,
        }
    };
    let event_id = publish(&mut tx, now, data).await?;
    tx.commit().await?;
    Ok(Published {
        value: user,
        event_id,
    })
}

/// Removes a post with a reason: `moderation.post_removed`.
pub async fn remove_post(
    db: &TenantDb,
    id: PostId,
    by: &Actor,
    reason: Option<&Reason>,
) -> Result<Published<Post>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let actor = lookup::actor(&mut tx, by).await?;
    let (post, _) = lookup::post(&mut tx, id).await?;
    can_moderate(&actor)?;
    if !post.is_visible() {
        return Err(CoreError::Conflict(format!(
            "post {id} is already deleted or removed"
        )));
    }
    tx.set_post_status(id, PostStatus::Removed).await?;
    tx.insert_moderation(&ModerationRecord {
        target_post: Some(id),
        target_user: Some(post.author.id),
        ..record("remove_post", &actor, reason, now)
    })
    .await?;
    let (removed, thread) = lookup::post(&mut tx, id).await?;
    let data = EventData::PostRemoved {
        post: removed.clone(),
        thread,
        actor: actor.as_ref(),
        reason: reason.map(ToString::to_string),
    };
    let event_id = publish(&mut tx, now, data).await?;
    tx.commit().await?;
    Ok(Published {
        value: removed,
        event_id,
    })
}

/// Locks a thread against replies: `moderation.thread_locked`.
pub async fn lock_thread(
    db: &TenantDb,
    id: ThreadId,
    by: &Actor,
    reason: Option<&Reason>,
) -> Result<Published<Thread>> {
    set_locked(db, id, by, reason, true).await
}

/// Unlocks a thread: `moderation.thread_unlocked`.
pub async fn unlock_thread(
    db: &TenantDb,
    id: ThreadId,
    by: &Actor,
    reason: Option<&Reason>,
) -> Result<Published<Thread>> {
    set_locked(db, id, by, reason, false).await
}

async fn set_locked(
    db: &TenantDb,
    id: ThreadId,
    by: &Actor,
    reason: Option<&Reason>,
    locked: bool,
) -> Result<Published<Thread>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let actor = lookup::actor(&mut tx, by).await?;
    let thread = lookup::thread(&mut tx, id).await?;
    can_moderate(&actor)?;
    if thread.locked == locked {
        let state = if locked {
            "already locked"
        } else {
            "not locked"
        };
        return Err(CoreError::Conflict(format!("thread {id} is {state}")));
    }
    tx.set_thread_locked(id, locked).await?;
    let action = if locked {
        "lock_thread"
    } else {
        "unlock_thread"
    };
    tx.insert_moderation(&ModerationRecord {
        target_thread: Some(id),
        ..record(action, &actor, reason, now)
    })
    .await?;
    let thread = lookup::thread(&mut tx, id).await?;
    let (actor, reason) = (actor.as_ref(), reason.map(ToString::to_string));
    let data = if locked {
        EventData::ThreadLocked {
            thread: thread.clone(),
            actor,
            reason,
        }
    } else {
        EventData::ThreadUnlocked {
            thread: thread.clone(),
            actor,
            reason,
        }
    };
    let event_id = publish(&mut tx, now, data).await?;
    tx.commit().await?;
    Ok(Published {
        value: thread,
        event_id,
    })
}
