//! Web accounts: password hashes, sessions and the failed logins the throttle counts.

use super::forum::user_from_row;
use crate::{Result, SessionRecord};
use mobieus_domain::forum::{User, UserId};
use mobieus_domain::time::Timestamp;
use sqlx::{PgConnection, Row};

pub(crate) async fn set_password_hash(c: &mut PgConnection, id: UserId, hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The current member with this username (any case) and their password hash, if any.
pub(crate) async fn login_candidate(
    c: &mut PgConnection,
    username: &str,
) -> Result<Option<(User, Option<String>)>> {
    let row = sqlx::query(
        "SELECT id, username, email, role, banned, joined_at, left_at, password_hash FROM users
         WHERE lower(username) = lower($1) AND left_at IS NULL",
    )
    .bind(username)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

pub(crate) async fn insert_session(
    c: &mut PgConnection,
    token_hash: &str,
    user: UserId,
    csrf_token: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(csrf_token)
    .bind(created_at.millis())
    .bind(expires_at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A live session: not expired, and its member has not left.
pub(crate) async fn session_by_token_hash(
    c: &mut PgConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.email, u.role, u.banned, u.joined_at, u.left_at,
                s.csrf_token, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.left_at IS NULL",
    )
    .bind(token_hash)
    .bind(now.millis())
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| {
        Ok(SessionRecord {
            user: user_from_row(&r)?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at: Timestamp::from_millis(r.try_get("expires_at")?),
        })
    })
    .transpose()
}

pub(crate) async fn delete_session(c: &mut PgConnection, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Ends every session of a member (they left, or changed their password).
pub(crate) async fn delete_user_sessions(c: &mut PgConnection, user: UserId) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn purge_expired_sessions(c: &mut PgConnection, now: Timestamp) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now.millis())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Failed logins for this username (lower-cased) from this client since `since`, oldest first.
pub(crate) async fn login_failures(
    c: &mut PgConnection,
    username: &str,
    client: &str,
    since: Timestamp,
) -> Result<Vec<Timestamp>> {
    let rows = sqlx::query(
        "SELECT at FROM login_failures WHERE username = $1 AND client = $2 AND at > $3 ORDER BY at",
    )
    .bind(username)
    .bind(client)
    .bind(since.millis())
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok(Timestamp::from_millis(r.try_get(0)?)))
        .collect()
}

/// Counts a failed login, and forgets those older than `forget_before`.
pub(crate) async fn insert_login_failure(
    c: &mut PgConnection,
    username: &str,
    client: &str,
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(forget_before.millis())
        .execute(&mut *c)
        .await?;
    sqlx::query("INSERT INTO login_failures (username, client, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(client)
        .bind(at.millis())
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn clear_login_failures(
    c: &mut PgConnection,
    username: &str,
    client: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1 AND client = $2")
        .bind(username)
        .bind(client)
        .execute(&mut *c)
        .await?;
    Ok(())
}
