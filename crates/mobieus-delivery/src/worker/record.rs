//! Recording finished attempts: the recorder records those the drain does not record with
//! a claim, in one transaction per tenant (see [`Outcomes`]); after either, the hint of
//! retries to come, the counters and the metrics.

use super::Worker;
use crate::metrics::DeliveryOutcome;
use crate::outcomes::Outcomes;
use mobieus_core::delivery::{self, Recorded};
use mobieus_store::{DeliveryState, TenantDb};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Worker {
    /// The recorder: records the attempts the drain does not record with a claim, until
    /// they are closed.
    pub(super) fn recorder(&self) -> (Arc<Outcomes>, tokio::task::JoinHandle<()>) {
        let outcomes = Arc::new(Outcomes::new((self.inner.config.concurrency / 2).max(1)));
        let (worker, taking) = (self.clone(), outcomes.clone());
        let handle = tokio::spawn(async move {
            while let Some(groups) = taking.next().await {
                for (db, items) in groups {
                    worker.record(&db, &items).await;
                }
            }
        });
        (outcomes, handle)
    }

    async fn record(&self, db: &TenantDb, items: &[Recorded]) {
        match delivery::record_all(db, &self.inner.config.policy, items).await {
            Ok(states) => self.recorded(db, items, states).await,
            // The leases run out and the deliveries are tried again.
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, attempts = items.len(), "cannot record attempts")
            }
        }
    }

    /// After attempts were recorded: the hint of retries to come, the counters and the
    /// metrics.
    pub(super) async fn recorded(
        &self,
        db: &TenantDb,
        items: &[Recorded],
        states: Vec<Option<DeliveryState>>,
    ) {
        let inner = &self.inner;
        // Retries are due later: leave the hint, for this worker's poll and others'.
        let retry = states
            .iter()
            .flatten()
            .filter_map(|s| match s {
                DeliveryState::Retry { at } => Some(*at),
                _ => None,
            })
            .min();
        if let Some(at) = retry {
            inner.hints.retry_at(&inner.store, db.slug(), at).await;
        }
        let metrics = &inner.metrics;
        for (state, item) in states.into_iter().zip(items) {
            let Some(state) = state else { continue };
            let (counter, outcome) = match state {
                DeliveryState::Succeeded => (&inner.counters.succeeded, DeliveryOutcome::Succeeded),
                DeliveryState::Retry { .. } => (&inner.counters.failed, DeliveryOutcome::Retrying),
                DeliveryState::Failed => (&inner.counters.failed, DeliveryOutcome::Failed),
                DeliveryState::Cancelled => (&inner.counters.failed, DeliveryOutcome::Cancelled),
            };
            counter.fetch_add(1, Ordering::Relaxed);
            metrics.delivery(
                outcome,
                Some(Duration::from_millis(item.attempt.duration_ms)),
            );
        }
    }
}
