//! `mobieus forum --tenant SLUG …`: forum actions through the core use cases, each
//! printing what it created (ids, and the id of the event it published).

use super::{print_json, tenant_db};
use crate::Result;
use crate::cli::{ForumArgs, ForumCmd, ModCmd, PostCmd, ThreadCmd, UserCmd};
use crate::error::CliError;
use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_domain::forum::{Email, PostBody, PostId, Reason, Role, ThreadId, Title, Username};
use serde_json::{Value, json};

fn username(s: &str) -> Result<Username> {
    Username::parse(s).map_err(CliError::usage)
}

fn actor(s: &str) -> Result<Actor> {
    username(s).map(Actor::Username)
}

fn post_id(s: &str) -> Result<PostId> {
    PostId::parse(s)
        .ok_or_else(|| CliError::usage(format!("post id {s:?} is not a positive integer")))
}

fn thread_id(s: &str) -> Result<ThreadId> {
    ThreadId::parse(s)
        .ok_or_else(|| CliError::usage(format!("thread id {s:?} is not a positive integer")))
}

fn reason(r: Option<&String>) -> Result<Option<Reason>> {
    r.map(|r| Reason::parse(r).map_err(CliError::usage))
        .transpose()
}

pub async fn run(store: &mobieus_store::Store, args: ForumArgs) -> Result {
    let db = tenant_db(store, &args.tenant).await?;
    let (summary, out): (String, Value) = match args.command {
        ForumCmd::User(UserCmd::Join {
            username: name,
            email,
        }) => {
            let email = email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(CliError::usage)?;
            let p = forum::join(&db, &username(&name)?, email.as_ref()).await?;
            (
                format!("{} joined as user {}", p.value.username, p.value.id),
                json!({"user_id": p.value.id, "username": p.value.username, "event_id": p.event_id}),
            )
        }
        ForumCmd::User(UserCmd::Leave { username: name }) => {
            let p = forum::leave(&db, &Actor::Username(username(&name)?)).await?;
            (
                format!("{} left", p.value.username),
                json!({"user_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::User(UserCmd::Role {
            username: name,
            role,
        }) => {
            let role = Role::parse(&role).map_err(CliError::usage)?;
            let user = forum::set_role(&db, &username(&name)?, role).await?;
            (
                format!("{} is now {}", user.username, user.role.as_str()),
                json!({"user_id": user.id, "role": user.role}),
            )
        }
        ForumCmd::Thread(ThreadCmd::Create {
            author,
            title,
            body,
        }) => {
            let new = NewThread {
                author: actor(&author)?,
                title: Title::parse(&title).map_err(CliError::usage)?,
                body: PostBody::parse(&body).map_err(CliError::usage)?,
            };
            let p = forum::create_thread(&db, &new).await?;
            let v = &p.value;
            (
                format!("opened thread {} with post {}", v.thread_id, v.id),
                json!({"thread_id": v.thread_id, "post_id": v.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Post(PostCmd::Create {
            thread,
            author,
            body,
        }) => {
            let body = PostBody::parse(&body).map_err(CliError::usage)?;
            let p = forum::reply(&db, thread_id(&thread)?, &actor(&author)?, &body).await?;
            let v = &p.value;
            (
                format!("posted {} in thread {}", v.id, v.thread_id),
                json!({"post_id": v.id, "thread_id": v.thread_id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Post(PostCmd::Edit {
            post_id: id,
            by,
            body,
        }) => {
            let body = PostBody::parse(&body).map_err(CliError::usage)?;
            let p = forum::edit_post(&db, post_id(&id)?, &actor(&by)?, &body).await?;
            (
                format!("edited post {}", p.value.id),
                json!({"post_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Post(PostCmd::Delete { post_id: id, by }) => {
            let p = forum::delete_post(&db, post_id(&id)?, &actor(&by)?).await?;
            (
                format!("deleted post {}", p.value.id),
                json!({"post_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Mod(ModCmd::Ban {
            username: name,
            by,
            reason: r,
        }) => {
            let p = forum::ban(
                &db,
                &username(&name)?,
                &actor(&by)?,
                reason(r.as_ref())?.as_ref(),
            )
            .await?;
            (
                format!("banned {}", p.value.username),
                json!({"user_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Mod(ModCmd::Unban {
            username: name,
            by,
            reason: r,
        }) => {
            let p = forum::unban(
                &db,
                &username(&name)?,
                &actor(&by)?,
                reason(r.as_ref())?.as_ref(),
            )
            .await?;
            (
                format!("unbanned {}", p.value.username),
                json!({"user_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Mod(ModCmd::RemovePost {
            post_id: id,
            by,
            reason: r,
        }) => {
            let p = forum::remove_post(
                &db,
                post_id(&id)?,
                &actor(&by)?,
                reason(r.as_ref())?.as_ref(),
            )
            .await?;
            (
                format!("removed post {}", p.value.id),
                json!({"post_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Mod(ModCmd::LockThread {
            thread_id: id,
            by,
            reason: r,
        }) => {
            let p = forum::lock_thread(
                &db,
                thread_id(&id)?,
                &actor(&by)?,
                reason(r.as_ref())?.as_ref(),
            )
            .await?;
            (
                format!("locked thread {}", p.value.id),
                json!({"thread_id": p.value.id, "event_id": p.event_id}),
            )
        }
        ForumCmd::Mod(ModCmd::UnlockThread {
            thread_id: id,
            by,
            reason: r,
        }) => {
            let p = forum::unlock_thread(
                &db,
                thread_id(&id)?,
                &actor(&by)?,
                reason(r.as_ref())?.as_ref(),
            )
            .await?;
            (
                format!("unlocked thread {}", p.value.id),
                json!({"thread_id": p.value.id, "event_id": p.event_id}),
            )
        }
    };
    if args.json {
        return print_json(&out);
    }
    println!("{summary}");
    Ok(())
}
