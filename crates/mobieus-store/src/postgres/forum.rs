//! Forum queries. Each takes the connection of a transaction pinned to its tenant's
//! schema, so the same query serves a read on its own and a read inside a write.

use crate::rows::{corrupt, paginate, post_status, post_status_str};
use crate::{ModerationRecord, Page, PostFilter, Result, ThreadSummary};
use mobieus_domain::forum::{
    Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId, UserRef, UserStatus,
};
use mobieus_domain::time::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row};

const USER_SELECT: &str = "SELECT id, username, email, role, banned, joined_at, left_at FROM users";
const THREAD_SELECT: &str =
    "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at
     FROM threads t JOIN users u ON u.id = t.author_id";
const POST_SELECT: &str =
    "SELECT p.id, p.thread_id, p.author_id, u.username AS author_name, p.body, p.status,
            p.opens_thread, p.created_at, p.edited_at
     FROM posts p JOIN users u ON u.id = p.author_id";

pub(super) fn user_from_row(row: &PgRow) -> Result<User> {
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

fn thread_from_row(row: &PgRow) -> Result<Thread> {
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

fn post_from_row(row: &PgRow) -> Result<Post> {
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

/// The id an `INSERT … RETURNING id` gave.
fn inserted_id(row: Option<PgRow>) -> Result<i64> {
    let row = row.ok_or(crate::StoreError::Conflict { what: "row" })?;
    Ok(row.try_get(0)?)
}

/// Maps every row of a result by `f`.
fn map_rows<T>(rows: &[PgRow], f: impl FnMut(&PgRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

/// The current member with this username (any case); members who left are not found.
pub(crate) async fn user_by_username(c: &mut PgConnection, username: &str) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE lower(username) = lower($1) AND left_at IS NULL");
    sqlx::query(AssertSqlSafe(sql))
        .bind(username)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(crate) async fn user_by_id(c: &mut PgConnection, id: UserId) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(crate) async fn users_page(c: &mut PgConnection, after: i64, limit: u32) -> Result<Page<User>> {
    let sql = format!("{USER_SELECT} WHERE id > $1 ORDER BY id LIMIT $2");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(after)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *c)
        .await?;
    let items = map_rows(&rows, user_from_row)?;
    Ok(paginate(items, limit, |u| u.id.0))
}

pub(crate) async fn insert_user(
    c: &mut PgConnection,
    username: &str,
    email: Option<&str>,
    at: Timestamp,
) -> Result<UserId> {
    let row = sqlx::query(
        "INSERT INTO users (username, email, joined_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(username)
    .bind(email)
    .bind(at.millis())
    .fetch_optional(&mut *c)
    .await?;
    inserted_id(row).map(UserId)
}

/// Marks a member as gone and erases their e-mail address.
pub(crate) async fn set_user_left(c: &mut PgConnection, id: UserId, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE users SET left_at = $1, email = NULL WHERE id = $2")
        .bind(at.millis())
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn set_user_role(c: &mut PgConnection, id: UserId, role: Role) -> Result<()> {
    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn set_user_banned(c: &mut PgConnection, id: UserId, banned: bool) -> Result<()> {
    sqlx::query("UPDATE users SET banned = $1 WHERE id = $2")
        .bind(banned)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_thread(
    c: &mut PgConnection,
    title: &str,
    author: UserId,
    at: Timestamp,
) -> Result<ThreadId> {
    let row = sqlx::query(
        "INSERT INTO threads (title, author_id, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(title)
    .bind(author.0)
    .bind(at.millis())
    .fetch_optional(&mut *c)
    .await?;
    inserted_id(row).map(ThreadId)
}

pub(crate) async fn thread_by_id(c: &mut PgConnection, id: ThreadId) -> Result<Option<Thread>> {
    let sql = format!("{THREAD_SELECT} WHERE t.id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(thread_from_row)
        .transpose()
}

/// Threads newest first, each with its visible posts and the time of its latest post,
/// below thread id `before` (the page's cursor: `next_after` is the last id shown).
pub(crate) async fn threads_page(
    c: &mut PgConnection,
    before: i64,
    limit: u32,
) -> Result<Page<ThreadSummary>> {
    let sql = "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at,
                (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND p.status = 'visible') AS visible_posts,
                (SELECT max(p.created_at) FROM posts p WHERE p.thread_id = t.id) AS last_post_at
         FROM threads t JOIN users u ON u.id = t.author_id
         WHERE t.id < $1 ORDER BY t.id DESC LIMIT $2";
    let rows = sqlx::query(sql)
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *c)
        .await?;
    let items = map_rows(&rows, |r| {
        let thread = thread_from_row(r)?;
        Ok(ThreadSummary {
            visible_posts: u32::try_from(r.try_get::<i64, _>("visible_posts")?).unwrap_or(0),
            last_post_at: r
                .try_get::<Option<i64>, _>("last_post_at")?
                .map_or(thread.created_at, Timestamp::from_millis),
            thread,
        })
    })?;
    Ok(paginate(items, limit, |t| t.thread.id.0))
}

pub(crate) async fn set_thread_locked(
    c: &mut PgConnection,
    id: ThreadId,
    locked: bool,
) -> Result<()> {
    sqlx::query("UPDATE threads SET locked = $1 WHERE id = $2")
        .bind(locked)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_post(
    c: &mut PgConnection,
    thread: ThreadId,
    author: UserId,
    body: &str,
    opens_thread: bool,
    at: Timestamp,
) -> Result<PostId> {
    let row = sqlx::query(
        "INSERT INTO posts (thread_id, author_id, body, opens_thread, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(thread.0)
    .bind(author.0)
    .bind(body)
    .bind(opens_thread)
    .bind(at.millis())
    .fetch_optional(&mut *c)
    .await?;
    inserted_id(row).map(PostId)
}

pub(crate) async fn post_by_id(c: &mut PgConnection, id: PostId) -> Result<Option<Post>> {
    let sql = format!("{POST_SELECT} WHERE p.id = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(post_from_row)
        .transpose()
}

pub(crate) async fn posts_page(
    c: &mut PgConnection,
    filter: PostFilter,
    after: i64,
    limit: u32,
) -> Result<Page<Post>> {
    let mut q = QueryBuilder::<Postgres>::new(POST_SELECT);
    q.push(" WHERE p.id > ").push_bind(after);
    if let Some(thread) = filter.thread {
        q.push(" AND p.thread_id = ").push_bind(thread.0);
    }
    if let Some(author) = filter.author {
        q.push(" AND p.author_id = ").push_bind(author.0);
    }
    q.push(" ORDER BY p.id LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = q.build().fetch_all(&mut *c).await?;
    let items = map_rows(&rows, post_from_row)?;
    Ok(paginate(items, limit, |p| p.id.0))
}

/// Replaces a post's body, keeping the old one in the edit history.
pub(crate) async fn insert_revision(
    c: &mut PgConnection,
    post: PostId,
    old_body: &str,
    by: UserId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO post_revisions (post_id, body, edited_by, replaced_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(post.0)
    .bind(old_body)
    .bind(by.0)
    .bind(at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The text a post had before the edit, straight from the row (its API view hides it once gone).
pub(crate) async fn post_body(c: &mut PgConnection, post: PostId) -> Result<Option<String>> {
    sqlx::query("SELECT body FROM posts WHERE id = $1")
        .bind(post.0)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(Into::into)
}

pub(crate) async fn set_post_body(
    c: &mut PgConnection,
    post: PostId,
    body: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE posts SET body = $1, edited_at = $2 WHERE id = $3")
        .bind(body)
        .bind(at.millis())
        .bind(post.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn set_post_status(
    c: &mut PgConnection,
    post: PostId,
    status: PostStatus,
) -> Result<()> {
    sqlx::query("UPDATE posts SET status = $1 WHERE id = $2")
        .bind(post_status_str(status))
        .bind(post.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn insert_moderation(
    c: &mut PgConnection,
    m: &ModerationRecord<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO moderation_actions (action, moderator_id, target_user_id, target_post_id, target_thread_id, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.action)
    .bind(m.moderator.0)
    .bind(m.target_user.map(|u| u.0))
    .bind(m.target_post.map(|p| p.0))
    .bind(m.target_thread.map(|t| t.0))
    .bind(m.reason)
    .bind(m.at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}
