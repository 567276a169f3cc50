//! Forum queries: members, threads, posts and moderation records. Each takes a
//! connection, so the same query serves a read on its own and a read inside a write.

use crate::db::{Conn, Row, Stmt};
use crate::rows::{corrupt, paginate, post_status, post_status_str};
use crate::{ModerationRecord, Page, PostFilter, Result, ThreadSummary};
use mobieus_domain::forum::{
    Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId, UserRef, UserStatus,
};
use mobieus_domain::time::Timestamp;

const USER_SELECT: &str = "SELECT id, username, email, role, banned, joined_at, left_at FROM users";
const THREAD_SELECT: &str =
    "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at
     FROM threads t JOIN users u ON u.id = t.author_id";
const POST_SELECT: &str =
    "SELECT p.id, p.thread_id, p.author_id, u.username AS author_name, p.body, p.status,
            p.opens_thread, p.created_at, p.edited_at
     FROM posts p JOIN users u ON u.id = p.author_id";

pub(crate) fn user_from_row(row: &Row<'_>) -> Result<User> {
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
    let status = post_status(&row.get::<String>("status")?)?;
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
pub(crate) async fn inserted_id(c: &mut Conn<'_>, stmt: Stmt<'_>) -> Result<i64> {
    c.one(stmt, |r| r.get(0))
        .await?
        .ok_or(crate::StoreError::Conflict { what: "row" })
}

/// The current member with this username (any case); members who left are not found.
pub(crate) async fn user_by_username(c: &mut Conn<'_>, username: &str) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE lower(username) = lower($1) AND left_at IS NULL");
    c.one(Stmt::new(sql).bind(username), user_from_row).await
}

pub(crate) async fn user_by_id(c: &mut Conn<'_>, id: UserId) -> Result<Option<User>> {
    let sql = format!("{USER_SELECT} WHERE id = $1");
    c.one(Stmt::new(sql).bind(id.0), user_from_row).await
}

pub(crate) async fn users_page(c: &mut Conn<'_>, after: i64, limit: u32) -> Result<Page<User>> {
    let sql = format!("{USER_SELECT} WHERE id > $1 ORDER BY id LIMIT $2");
    let stmt = Stmt::new(sql).bind(after).bind(i64::from(limit) + 1);
    let items = c.all(stmt, user_from_row).await?;
    Ok(paginate(items, limit, |u| u.id.0))
}

pub(crate) async fn insert_user(
    c: &mut Conn<'_>,
    username: &str,
    email: Option<&str>,
    at: Timestamp,
) -> Result<UserId> {
    let stmt = Stmt::new(
        "INSERT INTO users (username, email, joined_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(username)
    .bind(email)
    .bind(at.millis());
    inserted_id(c, stmt).await.map(UserId)
}

/// Marks a member as gone and erases their e-mail address.
pub(crate) async fn set_user_left(c: &mut Conn<'_>, id: UserId, at: Timestamp) -> Result<()> {
    let stmt = Stmt::new("UPDATE users SET left_at = $1, email = NULL WHERE id = $2")
        .bind(at.millis())
        .bind(id.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn set_user_role(c: &mut Conn<'_>, id: UserId, role: Role) -> Result<()> {
    let stmt = Stmt::new("UPDATE users SET role = $1 WHERE id = $2")
        .bind(role.as_str())
        .bind(id.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn set_user_banned(c: &mut Conn<'_>, id: UserId, banned: bool) -> Result<()> {
    let stmt = Stmt::new("UPDATE users SET banned = $1 WHERE id = $2")
        .bind(banned)
        .bind(id.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn insert_thread(
    c: &mut Conn<'_>,
    title: &str,
    author: UserId,
    at: Timestamp,
) -> Result<ThreadId> {
    let stmt = Stmt::new(
        "INSERT INTO threads (title, author_id, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(title)
    .bind(author.0)
    .bind(at.millis());
    inserted_id(c, stmt).await.map(ThreadId)
}

pub(crate) async fn thread_by_id(c: &mut Conn<'_>, id: ThreadId) -> Result<Option<Thread>> {
    let sql = format!("{THREAD_SELECT} WHERE t.id = $1");
    c.one(Stmt::new(sql).bind(id.0), thread_from_row).await
}

/// Threads newest first, each with its visible posts and the time of its latest post,
/// below thread id `before` (the page's cursor: `next_after` is the last id shown).
pub(crate) async fn threads_page(
    c: &mut Conn<'_>,
    before: i64,
    limit: u32,
) -> Result<Page<ThreadSummary>> {
    let stmt = Stmt::new(
        "SELECT t.id, t.title, t.author_id, u.username AS author_name, t.locked, t.created_at,
                (SELECT count(*) FROM posts p WHERE p.thread_id = t.id AND p.status = 'visible') AS visible_posts,
                (SELECT max(p.created_at) FROM posts p WHERE p.thread_id = t.id) AS last_post_at
         FROM threads t JOIN users u ON u.id = t.author_id
         WHERE t.id < $1 ORDER BY t.id DESC LIMIT $2",
    )
    .bind(before)
    .bind(i64::from(limit) + 1);
    let items = c
        .all(stmt, |r| {
            let thread = thread_from_row(r)?;
            Ok(ThreadSummary {
                visible_posts: u32::try_from(r.get::<i64>("visible_posts")?).unwrap_or(0),
                last_post_at: r
                    .get::<Option<i64>>("last_post_at")?
                    .map_or(thread.created_at, Timestamp::from_millis),
                thread,
            })
        })
        .await?;
    Ok(paginate(items, limit, |t| t.thread.id.0))
}

pub(crate) async fn set_thread_locked(c: &mut Conn<'_>, id: ThreadId, locked: bool) -> Result<()> {
    let stmt = Stmt::new("UPDATE threads SET locked = $1 WHERE id = $2")
        .bind(locked)
        .bind(id.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn insert_post(
    c: &mut Conn<'_>,
    thread: ThreadId,
    author: UserId,
    body: &str,
    opens_thread: bool,
    at: Timestamp,
) -> Result<PostId> {
    let stmt = Stmt::new(
        "INSERT INTO posts (thread_id, author_id, body, opens_thread, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(thread.0)
    .bind(author.0)
    .bind(body)
    .bind(opens_thread)
    .bind(at.millis());
    inserted_id(c, stmt).await.map(PostId)
}

pub(crate) async fn post_by_id(c: &mut Conn<'_>, id: PostId) -> Result<Option<Post>> {
    let sql = format!("{POST_SELECT} WHERE p.id = $1");
    c.one(Stmt::new(sql).bind(id.0), post_from_row).await
}

pub(crate) async fn posts_page(
    c: &mut Conn<'_>,
    filter: PostFilter,
    after: i64,
    limit: u32,
) -> Result<Page<Post>> {
    let mut q = Stmt::new(POST_SELECT);
    q.push(" WHERE p.id > ").push_bind(after);
    if let Some(thread) = filter.thread {
        q.push(" AND p.thread_id = ").push_bind(thread.0);
    }
    if let Some(author) = filter.author {
        q.push(" AND p.author_id = ").push_bind(author.0);
    }
    q.push(" ORDER BY p.id LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let items = c.all(q, post_from_row).await?;
    Ok(paginate(items, limit, |p| p.id.0))
}

/// Keeps a post's body in its edit history before it is replaced.
pub(crate) async fn insert_revision(
    c: &mut Conn<'_>,
    post: PostId,
    old_body: &str,
    by: UserId,
    at: Timestamp,
) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO post_revisions (post_id, body, edited_by, replaced_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(post.0)
    .bind(old_body)
    .bind(by.0)
    .bind(at.millis());
    c.exec(stmt).await?;
    Ok(())
}

/// The text a post had before the edit, straight from the row (its API view hides it once gone).
pub(crate) async fn post_body(c: &mut Conn<'_>, post: PostId) -> Result<Option<String>> {
    let stmt = Stmt::new("SELECT body FROM posts WHERE id = $1").bind(post.0);
    c.one(stmt, |r| r.get(0)).await
}

pub(crate) async fn set_post_body(
    c: &mut Conn<'_>,
    post: PostId,
    body: &str,
    at: Timestamp,
) -> Result<()> {
    let stmt = Stmt::new("UPDATE posts SET body = $1, edited_at = $2 WHERE id = $3")
        .bind(body)
        .bind(at.millis())
        .bind(post.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn set_post_status(
    c: &mut Conn<'_>,
    post: PostId,
    status: PostStatus,
) -> Result<()> {
    let stmt = Stmt::new("UPDATE posts SET status = $1 WHERE id = $2")
        .bind(post_status_str(status))
        .bind(post.0);
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn insert_moderation(c: &mut Conn<'_>, m: &ModerationRecord<'_>) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO moderation_actions (action, moderator_id, target_user_id, target_post_id, target_thread_id, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.action)
    .bind(m.moderator.0)
    .bind(m.target_user.map(|u| u.0))
    .bind(m.target_post.map(|p| p.0))
    .bind(m.target_thread.map(|t| t.0))
    .bind(m.reason)
    .bind(m.at.millis());
    c.exec(stmt).await?;
    Ok(())
}
