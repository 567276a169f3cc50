//! Forum queries. Each takes any executor, so the same query serves a read on the pool
//! and a read inside a write transaction.

use super::corrupt;
use super::paginate;
use crate::{ModerationRecord, Page, PostFilter, Result};
use mobieus_domain::forum::{
    Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId, UserRef, UserStatus,
};
use mobieus_domain::time::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor};

const USER_SELECT: &str = "SELECT id, username, email, role, banned, joined_at, left_at FROM users";
const THREAD_SELECT: &str =
    "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at
     FROM threads t JOIN users u ON u.id = t.author_id";
const POST_SELECT: &str =
    "SELECT p.id, p.thread_id, p.author_id, u.username AS author_name, p.body, p.status,
            p.opens_thread, p.created_at, p.edited_at
     FROM posts p JOIN users u ON u.id = p.author_id";

fn user_from_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    let left_at: Option<i64> = row.try_get("left_at")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        banned: row.try_get("banned")?,
        status: if left_at.is_some() {
            UserStatus::Left
        } else {
            UserStatus::Active
        },
        joined_at: Timestamp::from_millis(row.try_get("joined_at")?),
        left_at: left_at.map(Timestamp::from_millis),
    })
}

fn thread_from_row(row: &SqliteRow) -> Result<Thread> {
    Ok(Thread {
        id: ThreadId(row.try_get("id")?),
        title: row.try_get("title")?,
        author: UserRef {
            id: UserId(row.try_get("author_id")?),
            username: row.try_get("author_name")?,
        },
        locked: row.try_get("locked")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    })
}

fn post_status(s: &str) -> Result<PostStatus> {
    match s {
        "visible" => Ok(PostStatus::Visible),
        "deleted" => Ok(PostStatus::Deleted),
        "removed" => Ok(PostStatus::Removed),
        other => Err(corrupt("post status", other)),
    }
}

fn post_status_str(s: PostStatus) -> &'static str {
    match s {
        PostStatus::Visible => "visible",
        PostStatus::Deleted => "deleted",
        PostStatus::Removed => "removed",
    }
}

fn post_from_row(row: &SqliteRow) -> Result<Post> {
    let status = post_status(&row.try_get::<String, _>("status")?)?;
    let body: String = row.try_get("body")?;
    let edited_at: Option<i64> = row.try_get("edited_at")?;
    Ok(Post {
        id: PostId(row.try_get("id")?),
        thread_id: ThreadId(row.try_get("thread_id")?),
        author: UserRef {
            id: UserId(row.try_get("author_id")?),
            username: row.try_get("author_name")?,
        },
        // A deleted or removed post's text stays in the database for moderators, never in the API.
        body: (status == PostStatus::Visible).then_some(body),
        status,
        opens_thread: row.try_get("opens_thread")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        edited_at: edited_at.map(Timestamp::from_millis),
    })
}

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

/// The current member with this username (any case); members who left are not found.
pub(crate) async fn user_by_username<'e>(
    e: impl SqliteExecutor<'e>,
    username: &str,
) -> Result<Option<User>> {
    let row = sqlx::query(sql(format!(
        "{USER_SELECT} WHERE lower(username) = lower(?) AND left_at IS NULL"
    )))
    .bind(username)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn user_by_id<'e>(e: impl SqliteExecutor<'e>, id: UserId) -> Result<Option<User>> {
    let row = sqlx::query(sql(format!("{USER_SELECT} WHERE id = ?")))
        .bind(id.0)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn users_page<'e>(
    e: impl SqliteExecutor<'e>,
    after: i64,
    limit: u32,
) -> Result<Page<User>> {
    let rows = sqlx::query(sql(format!(
        "{USER_SELECT} WHERE id > ? ORDER BY id LIMIT ?"
    )))
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(e)
    .await?;
    let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    Ok(paginate(items, limit, |u| u.id.0))
}

pub(crate) async fn insert_user<'e>(
    e: impl SqliteExecutor<'e>,
    username: &str,
    email: Option<&str>,
    at: Timestamp,
) -> Result<UserId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, joined_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(username)
    .bind(email)
    .bind(at.millis())
    .fetch_one(e)
    .await?;
    Ok(UserId(id))
}

/// Marks a member as gone and erases their e-mail address.
pub(crate) async fn set_user_left<'e>(
    e: impl SqliteExecutor<'e>,
    id: UserId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE users SET left_at = ?, email = NULL WHERE id = ?")
        .bind(at.millis())
        .bind(id.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn set_user_role<'e>(
    e: impl SqliteExecutor<'e>,
    id: UserId,
    role: Role,
) -> Result<()> {
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn set_user_banned<'e>(
    e: impl SqliteExecutor<'e>,
    id: UserId,
    banned: bool,
) -> Result<()> {
    sqlx::query("UPDATE users SET banned = ? WHERE id = ?")
        .bind(banned)
        .bind(id.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn insert_thread<'e>(
    e: impl SqliteExecutor<'e>,
    title: &str,
    author: UserId,
    at: Timestamp,
) -> Result<ThreadId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO threads (title, author_id, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(title)
    .bind(author.0)
    .bind(at.millis())
    .fetch_one(e)
    .await?;
    Ok(ThreadId(id))
}

pub(crate) async fn thread_by_id<'e>(
    e: impl SqliteExecutor<'e>,
    id: ThreadId,
) -> Result<Option<Thread>> {
    let row = sqlx::query(sql(format!("{THREAD_SELECT} WHERE t.id = ?")))
        .bind(id.0)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(thread_from_row).transpose()
}

pub(crate) async fn set_thread_locked<'e>(
    e: impl SqliteExecutor<'e>,
    id: ThreadId,
    locked: bool,
) -> Result<()> {
    sqlx::query("UPDATE threads SET locked = ? WHERE id = ?")
        .bind(locked)
        .bind(id.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn insert_post<'e>(
    e: impl SqliteExecutor<'e>,
    thread: ThreadId,
    author: UserId,
    body: &str,
    opens_thread: bool,
    at: Timestamp,
) -> Result<PostId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO posts (thread_id, author_id, body, opens_thread, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(thread.0)
    .bind(author.0)
    .bind(body)
    .bind(opens_thread)
    .bind(at.millis())
    .fetch_one(e)
    .await?;
    Ok(PostId(id))
}

pub(crate) async fn post_by_id<'e>(e: impl SqliteExecutor<'e>, id: PostId) -> Result<Option<Post>> {
    let row = sqlx::query(sql(format!("{POST_SELECT} WHERE p.id = ?")))
        .bind(id.0)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(post_from_row).transpose()
}

pub(crate) async fn posts_page<'e>(
    e: impl SqliteExecutor<'e>,
    filter: PostFilter,
    after: i64,
    limit: u32,
) -> Result<Page<Post>> {
    let mut q = sqlx::QueryBuilder::<Sqlite>::new(POST_SELECT);
    q.push(" WHERE p.id > ").push_bind(after);
    if let Some(thread) = filter.thread {
        q.push(" AND p.thread_id = ").push_bind(thread.0);
    }
    if let Some(author) = filter.author {
        q.push(" AND p.author_id = ").push_bind(author.0);
    }
    q.push(" ORDER BY p.id LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = q.build().fetch_all(e).await?;
    let items = rows.iter().map(post_from_row).collect::<Result<Vec<_>>>()?;
    Ok(paginate(items, limit, |p| p.id.0))
}

/// Replaces a post's body, keeping the old one in the edit history.
pub(crate) async fn insert_revision<'e>(
    e: impl SqliteExecutor<'e>,
    post: PostId,
    old_body: &str,
    by: UserId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO post_revisions (post_id, body, edited_by, replaced_at) VALUES (?, ?, ?, ?)",
    )
    .bind(post.0)
    .bind(old_body)
    .bind(by.0)
    .bind(at.millis())
    .execute(e)
    .await?;
    Ok(())
}

/// The text a post had before the edit, straight from the row (its API view hides it once gone).
pub(crate) async fn post_body<'e>(
    e: impl SqliteExecutor<'e>,
    post: PostId,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT body FROM posts WHERE id = ?")
        .bind(post.0)
        .fetch_optional(e)
        .await?)
}

pub(crate) async fn set_post_body<'e>(
    e: impl SqliteExecutor<'e>,
    post: PostId,
    body: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE posts SET body = ?, edited_at = ? WHERE id = ?")
        .bind(body)
        .bind(at.millis())
        .bind(post.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn set_post_status<'e>(
    e: impl SqliteExecutor<'e>,
    post: PostId,
    status: PostStatus,
) -> Result<()> {
    sqlx::query("UPDATE posts SET status = ? WHERE id = ?")
        .bind(post_status_str(status))
        .bind(post.0)
        .execute(e)
        .await?;
    Ok(())
}

pub(crate) async fn insert_moderation<'e>(
    e: impl SqliteExecutor<'e>,
    m: &ModerationRecord<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO moderation_actions (action, moderator_id, target_user_id, target_post_id, target_thread_id, reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.action)
    .bind(m.moderator.0)
    .bind(m.target_user.map(|u| u.0))
    .bind(m.target_post.map(|p| p.0))
    .bind(m.target_thread.map(|t| t.0))
    .bind(m.reason)
    .bind(m.at.millis())
    .execute(e)
    .await?;
    Ok(())
}
