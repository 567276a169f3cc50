//! The SQLite backend: one file for the control database, one per tenant, all in WAL mode
//! so the CLI and a running server share them safely.
//!
//! Statements run on the calling thread through `rusqlite`, with prepared statements
//! cached per connection. SQLite answers a small statement in microseconds, so handing
//! each one to another thread (as an async driver does) would cost more than the
//! statement itself: two thread wake-ups each. What can wait long never waits on the
//! calling thread: a write transaction takes the lock of its database's one write
//! connection asynchronously, and `BEGIN IMMEDIATE` is retried with an async sleep while
//! another process holds the write lock.

mod conn;
mod control;
mod migrate;
mod queue;

pub(crate) use conn::{Pool, Reader, Tx, begin_write};
pub(crate) use control::{due_tenants, hint_due, set_due};
pub(crate) use queue::{claim, insert_deliveries, record_attempts, release_leases};

use crate::StoreError;
use std::path::Path;

/// Whether the control database answers and its migrations are this build's.
pub(crate) fn control_ready(pool: &Pool) -> Result<bool, StoreError> {
    pool.read(migrate::control_current)
}

pub(crate) async fn open_control(path: &Path) -> Result<Pool, StoreError> {
    Pool::open(path, migrate::CONTROL).await
}

pub(crate) async fn open_tenant(path: &Path) -> Result<Pool, StoreError> {
    Pool::open(path, migrate::TENANT).await
}

/// Names the uniqueness rules a caller can act on; everything else stays a database error.
pub(crate) fn map_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, Some(msg)) = &e
        && matches!(
            code.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    {
        let what = if msg.contains("tenant_hosts") {
            "host"
        } else if msg.contains("tenants") {
            "tenant"
        } else if msg.contains("users") {
            "username"
        } else {
            "row"
        };
        return StoreError::Conflict { what };
    }
    StoreError::Database(e)
}
