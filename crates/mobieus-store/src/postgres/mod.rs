//! The Postgres backend: one database shared by many nodes, with a control schema
//! (`mobieus`) and one schema per tenant (`tenant_<id>`). Every tenant-scoped statement
//! runs in a transaction pinned to its tenant's schema (see `conn`), so the cross-tenant
//! guarantee holds as it does with one SQLite file per tenant.
//!
//! The tenant queries are written once for both backends (`crate::queries`); this module
//! holds the pool and its pinned transactions, the control schema, `LISTEN`, and what
//! Postgres does its own way in the delivery queue.

mod conn;
mod control;
pub(crate) mod listen;
mod migrate;
mod queue;

pub(crate) use conn::{Pg, PgTenant, PgTx};
pub(crate) use control::*;
pub(crate) use queue::*;

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
