//! The Postgres backend: one database shared by many nodes, with a control schema
//! (`mobieus`) and one schema per tenant (`tenant_<id>`). Every tenant-scoped statement
//! runs in a transaction pinned to its tenant's schema (see `conn`), so the cross-tenant
//! guarantee holds as it does with one SQLite file per tenant.
//!
//! The query functions mirror the SQLite backend's, one for one, with the same names and
//! arguments; each takes the connection of a transaction already pinned to its schema.

mod accounts;
mod conn;
mod control;
mod events;
mod forum;
mod health;
pub(crate) mod idempotency;
mod keys;
pub(crate) mod listen;
mod migrate;
mod queue;
mod retention;
pub(crate) mod transfer;
mod webhooks;

pub(crate) use accounts::*;
pub(crate) use conn::{Pg, PgTenant, PgTx};
pub(crate) use control::*;
pub(crate) use events::*;
pub(crate) use forum::*;
pub(crate) use health::*;
pub(crate) use keys::*;
pub(crate) use queue::*;
pub(crate) use retention::*;
pub(crate) use webhooks::*;

use crate::StoreError;

/// Names the uniqueness rules a caller can act on; everything else stays a database error.
pub(crate) fn map_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some("23505")
    {
        let what = match db.constraint() {
            Some("tenant_hosts_pkey") => "host",
            Some("tenants_pkey") => "tenant",
            Some("users_username_active") => "username",
            _ => "row",
        };
        return StoreError::Conflict { what };
    }
    StoreError::Postgres(e)
}
