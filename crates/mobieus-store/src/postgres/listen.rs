//! `LISTEN` for committed work: a transaction that enqueues deliveries notifies
//! `mobieus_work` with its tenant (delivered on commit), and each worker process turns
//! the notifications into raises of its in-process [`WorkSignal`], so an idle worker on
//! any node sends at once. Notifications are a wake-up, not the record: a lost one (the
//! listening connection dropped) is found by the worker's poll of the due-work rows.

use super::Pg;
use super::control::WORK_CHANNEL;
use crate::WorkSignal;
use mobieus_domain::tenant::TenantSlug;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;

/// Listens until the process ends, reconnecting after a failure.
pub(crate) fn spawn(pg: &Pg, signal: Arc<WorkSignal>) -> tokio::task::JoinHandle<()> {
    let pool = pg.pool().clone();
    tokio::spawn(async move {
        loop {
            match listen(&pool, &signal).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for work failed; the poll finds it meanwhile");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

async fn listen(pool: &sqlx::PgPool, signal: &WorkSignal) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(WORK_CHANNEL).await?;
    loop {
        // `recv` reconnects by itself when the connection drops (what was sent
        // meanwhile is lost, and found by the poll).
        let note = listener.recv().await?;
        if let Ok(slug) = TenantSlug::parse(note.payload()) {
            signal.raise(&slug);
        }
    }
}
