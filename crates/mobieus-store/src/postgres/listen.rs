//! `LISTEN` for commits of other processes. A transaction that enqueues deliveries
//! notifies `mobieus_work` with its tenant (delivered on commit), and each worker process
//! turns the notifications into raises of its in-process [`WorkSignal`], so an idle worker
//! on any node sends at once. A transaction that appends events notifies `mobieus_feed`,
//! and each serving node raises its [`FeedSignal`], so live streams on every node read the
//! new events. Notifications are a wake-up, not the record: a lost one (the listening
//! connection dropped) is found by the worker's poll of the due-work rows, and by the
//! streams' own timer.

use super::Pg;
use super::control::WORK_CHANNEL;
use crate::queries::events::FEED_CHANNEL;
use crate::{FeedSignal, WorkSignal};
use mobieus_domain::tenant::TenantSlug;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;

/// Listens for work until the process ends, reconnecting after a failure.
pub(crate) fn spawn(pg: &Pg, signal: Arc<WorkSignal>) -> tokio::task::JoinHandle<()> {
    spawn_on(pg, WORK_CHANNEL, move |slug| signal.raise(slug))
}

/// Listens for appended events until the process ends, reconnecting after a failure.
pub(crate) fn spawn_feed(pg: &Pg, signal: Arc<FeedSignal>) -> tokio::task::JoinHandle<()> {
    spawn_on(pg, FEED_CHANNEL, move |slug| signal.raise(slug))
}

fn spawn_on(
    pg: &Pg,
    channel: &'static str,
    raise: impl Fn(&TenantSlug) + Send + Sync + 'static,
) -> tokio::task::JoinHandle<()> {
    let pool = pg.pool().clone();
    tokio::spawn(async move {
        loop {
            match listen(&pool, channel, &raise).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(channel, error = %e, "listening failed; the poll finds what it misses meanwhile");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}

async fn listen(
    pool: &sqlx::PgPool,
    channel: &str,
    raise: &(impl Fn(&TenantSlug) + Sync),
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    loop {
        // `recv` reconnects by itself when the connection drops (what was sent
        // meanwhile is lost, and found by the poll).
        let note = listener.recv().await?;
        if let Ok(slug) = TenantSlug::parse(note.payload()) {
            raise(&slug);
        }
    }
}
