//! Web accounts: registering with a password (`user.joined`), logging in and out, and
//! the operator's first admin. Passwords are hashed and checked with argon2id on a
//! blocking thread (tens of milliseconds each, by design), never inside a transaction.

use crate::forum::join_as;
use crate::{CoreError, Published, Result};
use mobieus_domain::account::{
    CsrfToken, Password, PasswordHash, SESSION_DAYS, SessionToken, throttle,
};
use mobieus_domain::forum::{Email, Role, User, Username};
use mobieus_domain::time::Timestamp;
use mobieus_store::TenantDb;

/// A session just opened: the token goes in the cookie, shown to nobody else.
#[derive(Debug)]
pub struct LoggedIn {
    pub token: SessionToken,
    pub csrf: CsrfToken,
    pub user: User,
    pub expires_at: Timestamp,
}

async fn hash(password: &Password) -> Result<PasswordHash> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || PasswordHash::new(&password))
        .await
        .map_err(|e| CoreError::Internal(format!("password hashing stopped: {e}")))
}

/// A visitor registers in the browser: a member with a password (`user.joined`).
pub async fn register(
    db: &TenantDb,
    username: &Username,
    email: Option<&Email>,
    password: &Password,
) -> Result<Published<User>> {
    let hash = hash(password).await?;
    join_as(db, username, email, Role::Member, Some(&hash)).await
}

/// The operator makes an admin who logs in with a password (`user.joined`, role admin).
pub async fn create_admin(
    db: &TenantDb,
    username: &Username,
    password: &Password,
) -> Result<Published<User>> {
    let hash = hash(password).await?;
    join_as(db, username, None, Role::Admin, Some(&hash)).await
}

/// Sets a current member's password (an operator's reset), ending their sessions.
pub async fn set_password(db: &TenantDb, username: &Username, password: &Password) -> Result<User> {
    let hash = hash(password).await?;
    let mut tx = db.begin().await?;
    let user = tx
        .user_by_username(username.as_str())
        .await?
        .ok_or_else(|| CoreError::not_found("user", username))?;
    tx.set_password_hash(user.id, hash.as_str()).await?;
    tx.delete_user_sessions(user.id).await?;
    tx.commit().await?;
    Ok(user)
}

/// Logs a member in from `client` (their address): a new session, or `BadCredentials`
/// (an unknown name takes as long as a wrong password), or `Throttled` after
/// `throttle::MAX_FAILURES` failures for that name from that address within the window.
pub async fn login(
    db: &TenantDb,
    username: &str,
    password: &Password,
    client: &str,
) -> Result<LoggedIn> {
    let key = username.to_lowercase();
    let now = Timestamp::now();
    let window = throttle::WINDOW_MINUTES * 60_000;
    let since = Timestamp::from_millis(now.millis() - window);
    let failures = db.login_failures(&key, client, since).await?;
    if let Some(until) = throttle::locked_until(&failures, now) {
        let secs = (until.millis() - now.millis()).max(1_000) / 1_000;
        return Err(CoreError::Throttled {
            retry_after_secs: u64::try_from(secs).unwrap_or(60),
        });
    }
    let candidate = db.login_candidate(username).await?;
    let stored = candidate
        .as_ref()
        .and_then(|(_, hash)| hash.clone())
        .map(PasswordHash::from_stored);
    let typed = password.clone();
    let matches = tokio::task::spawn_blocking(move || {
        let hash = stored.as_ref().unwrap_or_else(|| PasswordHash::decoy());
        // A member without a password (made through the API or the CLI) cannot log in,
        // but is refused only after the same work.
        hash.verify(&typed) && stored.is_some()
    })
    .await
    .map_err(|e| CoreError::Internal(format!("password check stopped: {e}")))?;
    let mut tx = db.begin().await?;
    let Some((user, _)) = candidate.filter(|_| matches) else {
        tx.insert_login_failure(&key, client, now, since).await?;
        tx.commit().await?;
        return Err(CoreError::BadCredentials);
    };
    tx.clear_login_failures(&key, client).await?;
    let token = SessionToken::generate();
    let csrf = CsrfToken::generate();
    let expires_at = now.plus_millis(SESSION_DAYS * 24 * 3_600_000);
    tx.insert_session(&token.hash(), user.id, csrf.as_str(), now, expires_at)
        .await?;
    tx.commit().await?;
    Ok(LoggedIn {
        token,
        csrf,
        user,
        expires_at,
    })
}

/// Ends a session (logging out). Ending one that is gone already is not an error.
pub async fn logout(db: &TenantDb, token: &SessionToken) -> Result<()> {
    let mut tx = db.begin().await?;
    tx.delete_session(&token.hash()).await?;
    tx.commit().await?;
    Ok(())
}
