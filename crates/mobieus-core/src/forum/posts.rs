//! Threads and posts.

use super::{Actor, lookup};
use crate::outbox::{Published, publish};
use crate::{CoreError, Result};
use mobieus_domain::event::{EventData, PreviousPost};
use mobieus_domain::forum::{
    Post, PostBody, PostId, PostStatus, Thread, ThreadId, Title, can_edit_post, can_post_in,
};
use mobieus_domain::time::Timestamp;
use mobieus_store::{TenantDb, TenantTx};

/// A new thread and its opening post.
#[derive(Clone, Debug)]
pub struct NewThread {
    pub author: Actor,
    pub title: Title,
    pub body: PostBody,
}

/// Opens a thread with its first post: `post.created` (with `opens_thread: true`).
pub async fn create_thread(db: &TenantDb, new: &NewThread) -> Result<Published<Post>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let author = lookup::actor(&mut tx, &new.author).await?;
    let thread_id = tx.insert_thread(new.title.as_str(), author.id, now).await?;
    let thread = lookup::thread(&mut tx, thread_id).await?;
    can_post_in(&author, &thread)?;
    write_post(tx, thread, author.id, &new.body, true, now).await
}

/// Replies in a thread: `post.created`.
pub async fn reply(
    db: &TenantDb,
    thread: ThreadId,
    author: &Actor,
    body: &PostBody,
) -> Result<Published<Post>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let author = lookup::actor(&mut tx, author).await?;
    let thread = lookup::thread(&mut tx, thread).await?;
    can_post_in(&author, &thread)?;
    write_post(tx, thread, author.id, body, false, now).await
}

async fn write_post(
    mut tx: TenantTx,
    thread: Thread,
    author: mobieus_domain::forum::UserId,
    body: &PostBody,
    opens_thread: bool,
    now: Timestamp,
) -> Result<Published<Post>> {
    let id = tx
        .insert_post(thread.id, author, body.as_str(), opens_thread, now)
        .await?;
    let (post, thread) = lookup::post(&mut tx, id).await?;
    let actor = post.author.clone();
    let event_id = publish(
        &mut tx,
        now,
        EventData::PostCreated {
            post: post.clone(),
            thread,
            actor,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Published {
        value: post,
        event_id,
    })
}

/// Edits a post's body, keeping the old one in its history: `post.edited` with `previous`.
pub async fn edit_post(
    db: &TenantDb,
    id: PostId,
    by: &Actor,
    body: &PostBody,
) -> Result<Published<Post>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let actor = lookup::actor(&mut tx, by).await?;
    let (post, _) = lookup::post(&mut tx, id).await?;
    can_edit_post(&actor, &post)?;
    let old = post.body.clone().unwrap_or_default();
    if old == body.as_str() {
        return Err(CoreError::Conflict(format!(
            "post {id} already has that body"
        )));
    }
    tx.edit_post_body(id, &old, body.as_str(), actor.id, now)
        .await?;
    let (edited, thread) = lookup::post(&mut tx, id).await?;
    let previous = PreviousPost {
        body: old,
        edited_at: post.edited_at,
    };
    let data = EventData::PostEdited {
        post: edited.clone(),
        thread,
        actor: actor.as_ref(),
        previous,
    };
    let event_id = publish(&mut tx, now, data).await?;
    tx.commit().await?;
    Ok(Published {
        value: edited,
        event_id,
    })
}

/// Deletes a post (its author, or a moderator): `post.deleted`.
pub async fn delete_post(db: &TenantDb, id: PostId, by: &Actor) -> Result<Published<Post>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let actor = lookup::actor(&mut tx, by).await?;
    let (post, _) = lookup::post(&mut tx, id).await?;
    can_edit_post(&actor, &post)?;
    tx.set_post_status(id, PostStatus::Deleted).await?;
    let (deleted, thread) = lookup::post(&mut tx, id).await?;
    let data = EventData::PostDeleted {
        post: deleted.clone(),
        thread,
        actor: actor.as_ref(),
    };
    let event_id = publish(&mut tx, now, data).await?;
    tx.commit().await?;
    Ok(Published {
        value: deleted,
        event_id,
    })
}
