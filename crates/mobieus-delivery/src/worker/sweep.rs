//! The sweep, every `maintenance_interval`: the safety net for a lost hint, and the
//! purge. It looks at every tenant the first time, then at those changed since the last
//! sweep (a tenant nothing was written to cannot have new work, and its retries are hinted
//! by the worker that scheduled them). A mark of change per tenant (a stat of its files,
//! or one statistics query for all of Postgres's schemas) instead of opening its database
//! keeps ten thousand idle tenants nearly free. The drain purges each tenant it sweeps at
//! its first visit (see [`purge`]).

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_store::{ChangeMark, Purged, Store, TenantDb};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Rows of each kind deleted per retention transaction, and transactions per tenant visit.
const RETENTION_BATCH: u32 = 500;
const RETENTION_BATCHES: usize = 20;

/// The sweeps this worker made, and each tenant's mark of change as the last one saw it.
#[derive(Debug, Default)]
pub(super) struct Sweeps {
    marks: Mutex<HashMap<TenantSlug, Option<ChangeMark>>>,
    done: AtomicU64,
}

impl Sweeps {
    /// How many sweeps this worker has made.
    pub(super) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// A sweep's drain finished.
    pub(super) fn finished(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// The tenants this sweep looks at; `None` if they cannot be listed (logged).
    pub(super) async fn tenants(&self, store: &Store) -> Option<Vec<TenantSlug>> {
        match store.tenants().await {
            Ok(all) => {
                let all: Vec<TenantSlug> = all.into_iter().map(|t| t.slug).collect();
                Some(self.changed(store, all).await)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot list tenants");
                None
            }
        }
    }

    /// Of `all`, every one at the first sweep; then those whose mark changed.
    async fn changed(&self, store: &Store, all: Vec<TenantSlug>) -> Vec<TenantSlug> {
        let first = self.done() == 0;
        let mut now = match store.change_marks(&all).await {
            Ok(marks) => marks,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the tenants' marks of change; sweeping them all");
                return all;
            }
        };
        let mut marks = self.marks.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changed = Vec::new();
        for slug in all {
            let mark = now.remove(&slug).flatten();
            let before = marks.insert(slug.clone(), mark);
            if first || before != Some(mark) {
                changed.push(slug);
            }
        }
        changed
    }
}

/// Purges a tenant's previous secrets whose grace window is over, and what is older
/// than `retention`: in batches of `RETENTION_BATCH`, each a short write transaction, at
/// most `RETENTION_BATCHES` per visit (the next sweep goes on).
pub(super) async fn purge(db: &TenantDb, retention: Duration) {
    match db.purge_expired_secrets(Timestamp::now()).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(tenant = %db.slug(), purged = n, "expired previous signing secrets removed")
        }
        Err(e) => {
            tracing::error!(tenant = %db.slug(), error = %e, "cannot purge expired secrets")
        }
    }
    let retention = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let cutoff = Timestamp::from_millis(Timestamp::now().millis().saturating_sub(retention));
    let mut total = Purged::default();
    for _ in 0..RETENTION_BATCHES {
        match db.purge_before(cutoff, RETENTION_BATCH).await {
            Ok(p) if p == Purged::default() => break,
            Ok(p) => {
                total.deliveries += p.deliveries;
                total.attempts += p.attempts;
                total.events += p.events;
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot purge data past retention");
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    if total != Purged::default() {
        tracing::info!(
            tenant = %db.slug(),
            events = total.events,
            deliveries = total.deliveries,
            attempts = total.attempts,
            "purged data past retention"
        );
    }
}
