//! The SQLite backend: one file for the control database, one per tenant, all in WAL mode
//! with a busy timeout so the CLI and a running server share them safely. Writes run in
//! `BEGIN IMMEDIATE` transactions: they queue for the write lock up front instead of
//! failing when a read turns into a write.

mod control;
mod events;
mod forum;
pub(crate) mod idempotency;
mod keys;
mod queue;
mod webhooks;

pub(crate) use control::{
    due_tenants, hint_due, insert_tenant, list_tenants, set_due, tenant_by_host, tenant_by_slug,
    tenant_exists,
};
pub(crate) use events::{event_by_id, events_page, insert_event};
pub(crate) use forum::*;
pub(crate) use keys::{api_key_by_hash, api_keys, insert_api_key, revoke_api_key, touch_api_key};
pub(crate) use queue::*;
pub(crate) use webhooks::*;

use crate::{Page, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

static CONTROL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite/control");
static TENANT_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite/tenant");

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

async fn pool(path: &Path, max: u32) -> Result<SqlitePool, StoreError> {
    Ok(SqlitePoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(10))
        .connect_with(options(path))
        .await?)
}

pub(crate) async fn open_control(path: &Path) -> Result<SqlitePool, StoreError> {
    let pool = pool(path, 4).await?;
    CONTROL_MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

pub(crate) async fn open_tenant(path: &Path) -> Result<SqlitePool, StoreError> {
    let pool = pool(path, 8).await?;
    TENANT_MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// A connection pool on one database file.
pub(crate) type Pool = SqlitePool;

/// One write transaction.
pub(crate) type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

pub(crate) async fn begin_write(pool: &SqlitePool) -> Result<Tx, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Names the uniqueness rules a caller can act on; everything else stays a database error.
pub(crate) fn map_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let msg = db.message();
        let what = if msg.contains("tenant_hosts") {
            "host"
        } else if msg.contains("tenants") {
            "tenant"
        } else if msg.contains("users_username_active") || msg.contains("users") {
            "username"
        } else {
            "row"
        };
        return StoreError::Conflict { what };
    }
    StoreError::Database(e)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// Cuts a `limit + 1` fetch down to `limit` and says where the next page starts.
pub(crate) fn paginate<T>(mut items: Vec<T>, limit: u32, position: impl Fn(&T) -> i64) -> Page<T> {
    let limit = limit as usize;
    let more = items.len() > limit;
    items.truncate(limit);
    let next_after = if more {
        items.last().map(position)
    } else {
        None
    };
    Page { items, next_after }
}

/// [`paginate`] for rows fetched with their position beside them (`(position, item)`),
/// for lists whose items do not carry their position themselves.
pub(crate) fn paginate_positioned<T>(items: Vec<(i64, T)>, limit: u32) -> Page<T> {
    let page = paginate(items, limit, |(position, _)| *position);
    Page {
        items: page.items.into_iter().map(|(_, item)| item).collect(),
        next_after: page.next_after,
    }
}
