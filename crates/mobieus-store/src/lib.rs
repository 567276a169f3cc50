//! Persistence of mobieus: the control database (which tenants exist, their host names)
//! and one database per tenant (its forum, event feed and API keys).
//!
//! Every tenant-scoped query goes through a [`TenantDb`] (reads, and the writes that are a
//! transaction of their own) or a [`TenantTx`] (one write transaction), both of which can
//! only be had from [`Store::tenant_db`] for a known tenant, so an unscoped query cannot
//! be written by accident. Callers see domain types.
//!
//! Two backends, SQLite (a file per tenant) and Postgres (a schema per tenant). A tenant
//! statement is written once (`queries`), with `$n` parameters both take, and its rows
//! are mapped once, through `db` (one connection type and one row type over both
//! drivers). The backend modules hold only what truly differs: connections and
//! transactions, migrations, the control database, and the queue's hot writes.

mod backup;
mod db;
mod error;
mod feed_signal;
mod master_key;
mod postgres;
mod queries;
mod records;
mod rows;
mod sqlite;
mod store;
mod tenant_db;
pub mod transfer;
mod work_signal;

pub use backup::BackupSummary;
pub use error::StoreError;
pub use feed_signal::FeedSignal;
pub use queries::retention::Purged;
pub use records::{
    AUDIT_ACTIONS, ApiKeyRecord, AuditEntry, Claim, ClaimedDelivery, DeliveryHealth, DeliveryState,
    EndpointRecord, EventFilter, IdempotencyClaim, ModerationRecord, NewApiKey, NewAttempt,
    NewEndpoint, Page, PostFilter, QueueFigures, QueueStats, RecordedAttempt, SessionRecord,
    StoredAnswer, StoredEvent, Tenant, ThreadSummary,
};
pub use store::{ChangeMark, Store, StoreConfig};
pub use tenant_db::{TenantDb, TenantTx};
pub use work_signal::WorkSignal;

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
