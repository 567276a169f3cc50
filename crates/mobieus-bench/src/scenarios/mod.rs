//! One module per scenario; each returns its figures and targets.

pub mod api;
pub mod fanout;
pub mod idle;
pub mod ingest;
pub mod latency;
pub mod queue_scale;
pub mod stream;
pub mod throughput;

use crate::engine::err;
use mobieus_domain::forum::Username;
use mobieus_store::TenantDb;

/// A member joins: one forum action, its event and its deliveries, in one transaction.
pub async fn join(db: &TenantDb, name: &str) -> Result<mobieus_domain::event::EventId, String> {
    let name = Username::parse(name).map_err(err)?;
    Ok(mobieus_core::forum::join(db, &name, None)
        .await
        .map_err(err)?
        .event_id)
}

/// `n` scaled, at least `min`.
pub fn scaled(n: usize, scale: f64, min: usize) -> usize {
    ((n as f64 * scale) as usize).max(min)
}
