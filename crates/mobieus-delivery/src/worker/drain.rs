//! The drain: claims the due deliveries of a list of tenants, a batch per tenant in turn,
//! as slots free up, and starts them. Under a backlog it comes back to a tenant until it
//! has nothing due, and each of its claims records that tenant's finished attempts in the
//! same transaction (one commit records a batch and claims the next).

use super::{Worker, leases, sweep};
use crate::outcomes::Outcomes;
use mobieus_core::delivery;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::EndpointId;
use mobieus_store::{Claim, ClaimedDelivery, TenantDb};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use tokio::task::JoinSet;

/// The most deliveries claimed from one tenant at a time, so one busy tenant cannot hold
/// up the others for long.
const MAX_BATCH: usize = 256;

impl Worker {
    /// Claims and starts every due delivery of these tenants, a batch per tenant in
    /// turn, as slots allow; returns when none of them has anything due left. In a sweep
    /// (`purge`), each tenant is purged at its first visit, so a sweep opens each tenant's
    /// database once (ten thousand tenants do not fit in the cache of open databases, so a
    /// separate pass would open each of them twice).
    pub(super) async fn drain(
        &self,
        tenants: Vec<TenantSlug>,
        tasks: &mut JoinSet<()>,
        outcomes: &Arc<Outcomes>,
        purge: bool,
    ) {
        let inner = &self.inner;
        let mut unpurged: HashSet<TenantSlug> = if purge {
            tenants.iter().cloned().collect()
        } else {
            HashSet::new()
        };
        let mut queue: VecDeque<TenantSlug> = tenants.into();
        let mut backlog = false;
        while let Some(slug) = queue.pop_front() {
            let db = match inner.store.tenant_db(&slug).await {
                Ok(db) => db,
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot open tenant database");
                    continue;
                }
            };
            if unpurged.remove(&slug) {
                sweep::purge(&db, inner.config.retention).await;
            }
            // Wait for one free slot (while a backlog keeps every slot busy, for a quarter
            // of them: a claim's fixed cost, its transaction and commit with the records
            // of the attempts before it, is then shared by several deliveries instead of
            // paid for each as it finishes; an eighth made more and smaller claims, a half
            // left slots idle: docs/benchmarks.md), then take every other free one, up to
            // a batch.
            let need = if backlog {
                (inner.config.concurrency / 4).max(1)
            } else {
                1
            };
            let Some(slots) = inner.slots.take(need, MAX_BATCH).await else {
                return;
            };
            // Under a backlog, claim half the slots more than are free now, and start
            // those as slots free up: the slots are refilled at once instead of waiting
            // for the next claim's transaction.
            let ahead = if backlog {
                (inner.config.concurrency / 2).max(1)
            } else {
                0
            };
            let wanted = (slots.len() + ahead).min(MAX_BATCH);
            let checked_at = Timestamp::now();
            let free = inner.slots.free(&slug);
            let claimed = match self.claim(&db, wanted, &free, outcomes).await {
                Some(c) => c,
                None => {
                    outcomes.draining(&slug, false);
                    continue;
                }
            };
            backlog = claimed.len() == wanted;
            outcomes.draining(&slug, backlog);
            if backlog {
                queue.push_back(slug);
            } else {
                inner
                    .hints
                    .note_next_due(&inner.store, &db, checked_at)
                    .await;
            }
            inner.leases.hold(db.slug(), &claimed);
            inner.slots.claimed(db.slug(), &claimed, &free);
            while tasks.try_join_next().is_some() {}
            self.start(db, claimed, slots, tasks, outcomes).await;
        }
    }

    /// Claims up to `n` of the tenant's due deliveries, none beyond an endpoint's `free`
    /// slots; under a backlog, in the transaction that records the tenant's attempts
    /// waiting to be recorded. `None` if it failed (logged: the attempts' leases run out
    /// and they are made again).
    async fn claim(
        &self,
        db: &TenantDb,
        n: usize,
        free: &[(EndpointId, u32)],
        outcomes: &Outcomes,
    ) -> Option<Vec<ClaimedDelivery>> {
        let inner = &self.inner;
        let now = Timestamp::now();
        let until = leases::until(now, inner.config.client.total_timeout);
        let claim = Claim::new(now, until, u32::try_from(n).unwrap_or(u32::MAX))
            .with_slots(free, inner.slots.per_endpoint());
        let items = outcomes.take_for_claim(db.slug());
        match delivery::record_and_claim(db, &inner.config.policy, &items, Some(claim)).await {
            Ok((states, claimed)) => {
                self.recorded(db, &items, states).await;
                Some(claimed)
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, attempts = items.len(), "cannot record attempts and claim deliveries");
                None
            }
        }
    }
}
