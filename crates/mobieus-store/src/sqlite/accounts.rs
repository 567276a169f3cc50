//! Web accounts: password hashes, sessions and the failed logins the throttle counts.

use super::forum::user_from_row;
use super::sql::{all, exec, one};
use crate::{Result, SessionRecord};
use mobieus_domain::forum::{User, UserId};
use mobieus_domain::time::Timestamp;
use rusqlite::{Connection, params};

pub(crate) fn set_password_hash(c: &Connection, id: UserId, hash: &str) -> Result<()> {
    exec(
        c,
        "UPDATE users SET password_hash = ? WHERE id = ?",
        params![hash, id.0],
    )?;
    Ok(())
}

/// The current member with this username (any case) and their password hash, if any.
pub(crate) fn login_candidate(
    c: &Connection,
    username: &str,
) -> Result<Option<(User, Option<String>)>> {
    one(
        c,
        "SELECT id, username, email, role, banned, joined_at, left_at, password_hash FROM users
         WHERE lower(username) = lower(?) AND left_at IS NULL",
        [username],
        |r| Ok((user_from_row(r)?, r.get("password_hash")?)),
    )
}

pub(crate) fn insert_session(
    c: &Connection,
    token_hash: &str,
    user: UserId,
    csrf_token: &str,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        params![
            token_hash,
            user.0,
            csrf_token,
            created_at.millis(),
            expires_at.millis()
        ],
    )?;
    Ok(())
}

/// A live session: not expired, and its member has not left.
pub(crate) fn session_by_token_hash(
    c: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionRecord>> {
    one(
        c,
        "SELECT u.id, u.username, u.email, u.role, u.banned, u.joined_at, u.left_at,
                s.csrf_token, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.left_at IS NULL",
        params![token_hash, now.millis()],
        |r| {
            Ok(SessionRecord {
                user: user_from_row(r)?,
                csrf_token: r.get("csrf_token")?,
                expires_at: Timestamp::from_millis(r.get("expires_at")?),
            })
        },
    )
}

pub(crate) fn delete_session(c: &Connection, token_hash: &str) -> Result<()> {
    exec(c, "DELETE FROM sessions WHERE token_hash = ?", [token_hash])?;
    Ok(())
}

/// Ends every session of a member (they left, or changed their password).
pub(crate) fn delete_user_sessions(c: &Connection, user: UserId) -> Result<()> {
    exec(c, "DELETE FROM sessions WHERE user_id = ?", [user.0])?;
    Ok(())
}

pub(crate) fn purge_expired_sessions(c: &Connection, now: Timestamp) -> Result<()> {
    exec(
        c,
        "DELETE FROM sessions WHERE expires_at <= ?",
        [now.millis()],
    )?;
    Ok(())
}

/// Failed logins for this username (lower-cased) from this client since `since`, oldest first.
pub(crate) fn login_failures(
    c: &Connection,
    username: &str,
    client: &str,
    since: Timestamp,
) -> Result<Vec<Timestamp>> {
    all(
        c,
        "SELECT at FROM login_failures WHERE username = ? AND client = ? AND at > ? ORDER BY at",
        params![username, client, since.millis()],
        |r| Ok(Timestamp::from_millis(r.get(0)?)),
    )
}

/// Counts a failed login, and forgets those older than `forget_before`.
pub(crate) fn insert_login_failure(
    c: &Connection,
    username: &str,
    client: &str,
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<()> {
    exec(
        c,
        "DELETE FROM login_failures WHERE at <= ?",
        [forget_before.millis()],
    )?;
    exec(
        c,
        "INSERT INTO login_failures (username, client, at) VALUES (?, ?, ?)",
        params![username, client, at.millis()],
    )?;
    Ok(())
}

pub(crate) fn clear_login_failures(c: &Connection, username: &str, client: &str) -> Result<()> {
    exec(
        c,
        "DELETE FROM login_failures WHERE username = ? AND client = ?",
        params![username, client],
    )?;
    Ok(())
}
