//! Web accounts: password hashes, sessions and the failed logins the throttle counts.

use super::forum::user_from_row;
use crate::db::{Conn, Stmt};
use crate::{Result, SessionRecord};
use mobieus_domain::forum::{User, UserId};
use mobieus_domain::time::Timestamp;

pub(crate) async fn set_password_hash(c: &mut Conn<'_>, id: UserId, hash: &str) -> Result<()> {
    let stmt = Stmt::new("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id.0);
    c.exec(stmt).await?;
    Ok(())
}

/// The current member with this username (any case) and their password hash, if any.
pub(crate) async fn login_candidate(
    c: &mut Conn<'_>,
    username: &str,
) -> Result<Option<(User, Option<String>)>> {
    let stmt = Stmt::new(
        "SELECT id, username, email, role, banned, joined_at, left_at, password_hash FROM users
         WHERE lower(username) = lower($1) AND left_at IS NULL",
    )
    .bind(username);
    c.one(stmt, |r| Ok((user_from_row(r)?, r.get("password_hash")?)))
        .await
}

pub(crate) async fn insert_session(
    c: &mut Conn<'_>,
    token_hash: &str,
    user: UserId,
    csrf_token: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(csrf_token)
    .bind(created_at.millis())
    .bind(expires_at.millis());
    c.exec(stmt).await?;
    Ok(())
}

/// A live session: not expired, and its member has not left.
pub(crate) async fn session_by_token_hash(
    c: &mut Conn<'_>,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionRecord>> {
    let stmt = Stmt::new(
        "SELECT u.id, u.username, u.email, u.role, u.banned, u.joined_at, u.left_at,
                s.csrf_token, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.left_at IS NULL",
    )
    .bind(token_hash)
    .bind(now.millis());
    c.one(stmt, |r| {
        Ok(SessionRecord {
            user: user_from_row(r)?,
            csrf_token: r.get("csrf_token")?,
            expires_at: Timestamp::from_millis(r.get("expires_at")?),
        })
    })
    .await
}

pub(crate) async fn delete_session(c: &mut Conn<'_>, token_hash: &str) -> Result<()> {
    c.exec(Stmt::new("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash))
        .await?;
    Ok(())
}

/// Ends every session of a member (they left, or changed their password).
pub(crate) async fn delete_user_sessions(c: &mut Conn<'_>, user: UserId) -> Result<()> {
    c.exec(Stmt::new("DELETE FROM sessions WHERE user_id = $1").bind(user.0))
        .await?;
    Ok(())
}

pub(crate) async fn purge_expired_sessions(c: &mut Conn<'_>, now: Timestamp) -> Result<()> {
    c.exec(Stmt::new("DELETE FROM sessions WHERE expires_at <= $1").bind(now.millis()))
        .await?;
    Ok(())
}

/// Failed logins for this username (lower-cased) from this client since `since`, oldest first.
pub(crate) async fn login_failures(
    c: &mut Conn<'_>,
    username: &str,
    client: &str,
    since: Timestamp,
) -> Result<Vec<Timestamp>> {
    let stmt = Stmt::new(
        "SELECT at FROM login_failures WHERE username = $1 AND client = $2 AND at > $3 ORDER BY at",
    )
    .bind(username)
    .bind(client)
    .bind(since.millis());
    c.all(stmt, |r| Ok(Timestamp::from_millis(r.get(0)?))).await
}

/// Counts a failed login, and forgets those older than `forget_before`.
pub(crate) async fn insert_login_failure(
    c: &mut Conn<'_>,
    username: &str,
    client: &str,
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    c.exec(Stmt::new("DELETE FROM login_failures WHERE at <= $1").bind(forget_before.millis()))
        .await?;
    let stmt = Stmt::new("INSERT INTO login_failures (username, client, at) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(client)
        .bind(at.millis());
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn clear_login_failures(
    c: &mut Conn<'_>,
    username: &str,
    client: &str,
) -> Result<()> {
    let stmt = Stmt::new("DELETE FROM login_failures WHERE username = $1 AND client = $2")
        .bind(username)
        .bind(client);
    c.exec(stmt).await?;
    Ok(())
}
