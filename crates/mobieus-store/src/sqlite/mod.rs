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

mod accounts;
mod conn;
mod control;
mod events;
mod forum;
mod health;
pub(crate) mod idempotency;
mod keys;
mod migrate;
mod queue;
mod retention;
mod sql;
pub(crate) mod transfer;
mod webhooks;

pub(crate) use accounts::*;
pub(crate) use conn::{Pool, Tx, begin_write};
pub(crate) use control::{
    due_tenants, hint_due, insert_tenant, list_tenants, set_due, tenant_by_host, tenant_by_slug,
    tenant_exists,
};
pub(crate) use events::{event_by_id, events_page, insert_event};
pub(crate) use forum::*;
pub(crate) use health::{delivery_health, queue_stats};
pub(crate) use keys::{api_key_by_hash, api_keys, insert_api_key, revoke_api_key, touch_api_key};
pub(crate) use queue::*;
pub use retention::Purged;
pub(crate) use retention::purge_before;
pub(crate) use webhooks::*;

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
