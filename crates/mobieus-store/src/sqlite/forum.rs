//! Forum queries. Each takes a connection, so the same query serves a read on its own
//! and a read inside a write transaction.

use super::sql::{Sql, all, exec, one};
use crate::rows::{corrupt, paginate, post_status, post_status_str};
use crate::{ModerationRecord, Page, PostFilter, Result, ThreadSummary};
use mobieus_domain::forum::{
    Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId, UserRef, UserStatus,
};
use mobieus_domain::time::Timestamp;
use rusqlite::{Connection, Row, params};

const USER_SELECT: &str = "SELECT id, username, email, role, banned, joined_at, left_at FROM users";
const THREAD_SELECT: &str =
    "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at
     FROM threads t JOIN users u ON u.id = t.author_id";
const POST_SELECT: &str =
    "SELECT p.id, p.thread_id, p.author_id, u.username AS author_name, p.body, p.status,
            p.opens_thread, p.created_at, p.edited_at
     FROM posts p JOIN users u ON u.id = p.author_id";

pub(super) fn user_from_row(row: &Row<'_>) -> Result<User> {
    let role: String = row.get("role")?;
    let left_at: Option<i64> = row.get("left_at")?;
    Ok(User {
        id: UserId(row.get("id")?),
        username: row.get("username")?,
        email: row.get("email")?,
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        banned: row.get("banned")?,
        status: if left_at.is_some() {
            UserStatus::Left
        } else {
            UserStatus::Active
        },
        joined_at: Timestamp::from_millis(row.get("joined_at")?),
        left_at: left_at.map(Timestamp::from_millis),
    })
}

fn thread_from_row(row: &Row<'_>) -> Result<Thread> {
    Ok(Thread {
        id: ThreadId(row.get("id")?),
        title: row.get("title")?,
        author: UserRef {
            id: UserId(row.get("author_id")?),
            username: row.get("author_name")?,
        },
        locked: row.get("locked")?,
        created_at: Timestamp::from_millis(row.get("created_at")?),
    })
}

fn post_from_row(row: &Row<'_>) -> Result<Post> {
    let status = post_status(&row.get::<_, String>("status")?)?;
    let body: String = row.get("body")?;
    let edited_at: Option<i64> = row.get("edited_at")?;
    Ok(Post {
        id: PostId(row.get("id")?),
        thread_id: ThreadId(row.get("thread_id")?),
        author: UserRef {
            id: UserId(row.get("author_id")?),
            username: row.get("author_name")?,
        },
        // A deleted or removed post's text stays in the database for moderators, never in the API.
        body: (status == PostStatus::Visible).then_some(body),
        status,
        opens_thread: row.get("opens_thread")?,
        created_at: Timestamp::from_millis(row.get("created_at")?),
        edited_at: edited_at.map(Timestamp::from_millis),
    })
}

/// The id an `INSERT … RETURNING id` gave.
fn inserted_id(c: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<i64> {
    one(c, sql, params, |r| Ok(r.get::<_, i64>(0)?))?
        .ok_or(crate::StoreError::Conflict { what: "row" })
}

/// The current member with this username (any case); members who left are not found.
pub(crate) fn user_by_username(c: &Connection, username: &str) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE lower(username) = lower(?) AND left_at IS NULL");
    one(c, &sql, [username], user_from_row)
}

pub(crate) fn user_by_id(c: &Connection, id: UserId) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE id = ?");
    one(c, &sql, [id.0], user_from_row)
}

pub(crate) fn users_page(c: &Connection, after: i64, limit: u32) -> Result<Page<User>> {
    let sql = format!("{USER_SELECT} WHERE id > ? ORDER BY id LIMIT ?");
    let items = all(c, &sql, [after, i64::from(limit) + 1], user_from_row)?;
    Ok(paginate(items, limit, |u| u.id.0))
}

pub(crate) fn insert_user(
    c: &Connection,
    username: &str,
    email: Option<&str>,
    at: Timestamp,
) -> Result<UserId> {
    inserted_id(
        c,
        "INSERT INTO users (username, email, joined_at) VALUES (?, ?, ?) RETURNING id",
        params![username, email, at.millis()],
    )
    .map(UserId)
}

/// Marks a member as gone and erases their e-mail address.
pub(crate) fn set_user_left(c: &Connection, id: UserId, at: Timestamp) -> Result<()> {
    exec(
        c,
        "UPDATE users SET left_at = ?, email = NULL WHERE id = ?",
        [at.millis(), id.0],
    )?;
    Ok(())
}

pub(crate) fn set_user_role(c: &Connection, id: UserId, role: Role) -> Result<()> {
    exec(
        c,
        "UPDATE users SET role = ? WHERE id = ?",
        params![role.as_str(), id.0],
    )?;
    Ok(())
}

pub(crate) fn set_user_banned(c: &Connection, id: UserId, banned: bool) -> Result<()> {
    exec(
        c,
        "UPDATE users SET banned = ? WHERE id = ?",
        params![banned, id.0],
    )?;
    Ok(())
}

pub(crate) fn insert_thread(
    c: &Connection,
    title: &str,
    author: UserId,
    at: Timestamp,
) -> Result<ThreadId> {
    inserted_id(
        c,
        "INSERT INTO threads (title, author_id, created_at) VALUES (?, ?, ?) RETURNING id",
        params![title, author.0, at.millis()],
    )
    .map(ThreadId)
}

pub(crate) fn thread_by_id(c: &Connection, id: ThreadId) -> Result<Option<Thread>> {
    let sql = format!("{THREAD_SELECT} WHERE t.id = ?");
    one(c, &sql, [id.0], thread_from_row)
}

/// Threads newest first, each with its visible posts and the time of its latest post,
/// below thread id `before` (the page's cursor: `next_after` is the last id shown).
pub(crate) fn threads_page(c: &Connection, before: i64, limit: u32) -> Result<Page<ThreadSummary>> {
    let sql = "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at,
                (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND p.status = 'visible') AS visible_posts,
                (SELECT max(p.created_at) FROM posts p WHERE p.thread_id = t.id) AS last_post_at
         FROM threads t JOIN users u ON u.id = t.author_id
         WHERE t.id < ? ORDER BY t.id DESC LIMIT ?";
    let items = all(c, sql, [before, i64::from(limit) + 1], |r| {
        let thread = thread_from_row(r)?;
        Ok(ThreadSummary {
            visible_posts: u32::try_from(r.get::<_, i64>("visible_posts")?).unwrap_or(0),
            last_post_at: r
                .get::<_, Option<i64>>("last_post_at")?
                .map_or(thread.created_at, Timestamp::from_millis),
            thread,
        })
    })?;
    Ok(paginate(items, limit, |t| t.thread.id.0))
}

pub(crate) fn set_thread_locked(c: &Connection, id: ThreadId, locked: bool) -> Result<()> {
    exec(
        c,
        "UPDATE threads SET locked = ? WHERE id = ?",
        params![locked, id.0],
    )?;
    Ok(())
}

pub(crate) fn insert_post(
    c: &Connection,
    thread: ThreadId,
    author: UserId,
    body: &str,
    opens_thread: bool,
    at: Timestamp,
) -> Result<PostId> {
    inserted_id(
        c,
        "INSERT INTO posts (thread_id, author_id, body, opens_thread, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        params![thread.0, author.0, body, opens_thread, at.millis()],
    )
    .map(PostId)
}

pub(crate) fn post_by_id(c: &Connection, id: PostId) -> Result<Option<Post>> {
    let sql = format!("{POST_SELECT} WHERE p.id = ?");
    one(c, &sql, [id.0], post_from_row)
}

pub(crate) fn posts_page(
    c: &Connection,
    filter: PostFilter,
    after: i64,
    limit: u32,
) -> Result<Page<Post>> {
    let mut q = Sql::new(POST_SELECT);
    q.push(" WHERE p.id > ").bind(after);
    if let Some(thread) = filter.thread {
        q.push(" AND p.thread_id = ").bind(thread.0);
    }
    if let Some(author) = filter.author {
        q.push(" AND p.author_id = ").bind(author.0);
    }
    q.push(" ORDER BY p.id LIMIT ").bind(i64::from(limit) + 1);
    let items = q.all(c, post_from_row)?;
    Ok(paginate(items, limit, |p| p.id.0))
}

/// Replaces a post's body, keeping the old one in the edit history.
pub(crate) fn insert_revision(
    c: &Connection,
    post: PostId,
    old_body: &str,
    by: UserId,
    at: Timestamp,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO post_revisions (post_id, body, edited_by, replaced_at) VALUES (?, ?, ?, ?)",
        params![post.0, old_body, by.0, at.millis()],
    )?;
    Ok(())
}

/// The text a post had before the edit, straight from the row (its API view hides it once gone).
pub(crate) fn post_body(c: &Connection, post: PostId) -> Result<Option<String>> {
    one(c, "SELECT body FROM posts WHERE id = ?", [post.0], |r| {
        Ok(r.get(0)?)
    })
}

pub(crate) fn set_post_body(c: &Connection, post: PostId, body: &str, at: Timestamp) -> Result<()> {
    exec(
        c,
        "UPDATE posts SET body = ?, edited_at = ? WHERE id = ?",
        params![body, at.millis(), post.0],
    )?;
    Ok(())
}

pub(crate) fn set_post_status(c: &Connection, post: PostId, status: PostStatus) -> Result<()> {
    exec(
        c,
        "UPDATE posts SET status = ? WHERE id = ?",
        params![post_status_str(status), post.0],
    )?;
    Ok(())
}

pub(crate) fn insert_moderation(c: &Connection, m: &ModerationRecord<'_>) -> Result<()> {
    exec(
        c,
        "INSERT INTO moderation_actions (action, moderator_id, target_user_id, target_post_id, target_thread_id, reason, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            m.action,
            m.moderator.0,
            m.target_user.map(|u| u.0),
            m.target_post.map(|p| p.0),
            m.target_thread.map(|t| t.0),
            m.reason,
            m.at.millis()
        ],
    )?;
    Ok(())
}
