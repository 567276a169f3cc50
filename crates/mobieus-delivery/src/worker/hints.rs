//! Hints of due work: the control database keeps, per tenant, when it next has work due,
//! left by whoever schedules it (a transaction that enqueues, a worker scheduling retries
//! or holding leases) and read by every worker's poll, so a poll reads one table instead
//! of every tenant's database. This worker remembers the hints it knows of, so a tenant
//! with nothing pending and no hint costs no write.

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_store::{Store, TenantDb};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The hints this worker knows to be in the control database, by tenant.
#[derive(Debug, Default)]
pub(super) struct Hints {
    known: Mutex<HashMap<TenantSlug, Timestamp>>,
}

impl Hints {
    fn known(&self) -> MutexGuard<'_, HashMap<TenantSlug, Timestamp>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The poll: adds to `due` the tenants whose hints say they have work due by now
    /// (work enqueued by other processes, retries coming due).
    pub(super) async fn poll(&self, store: &Store, due: &mut Vec<TenantSlug>) {
        match store.due_tenants(Timestamp::now()).await {
            Ok(hinted) => {
                let mut known = self.known();
                for slug in hinted {
                    // Due now, as far as this worker knows.
                    known.insert(slug.clone(), Timestamp::from_millis(0));
                    if !due.contains(&slug) {
                        due.push(slug);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the hints of due work"),
        }
    }

    /// Retries were scheduled for `at`: leave the hint, for this worker's poll and
    /// others'.
    pub(super) async fn retry_at(&self, store: &Store, slug: &TenantSlug, at: Timestamp) {
        match store.hint_due(slug, at).await {
            Ok(()) => {
                let mut known = self.known();
                let hint = known.entry(slug.clone()).or_insert(at);
                *hint = (*hint).min(at);
            }
            Err(e) => {
                tracing::error!(tenant = %slug, error = %e, "cannot leave a hint of due work")
            }
        }
    }

    /// Leaves the hint of when this tenant next has work due (its retries, its leases in
    /// flight), for this worker's next poll and for workers elsewhere; no write when there
    /// is nothing pending and no hint to clear.
    pub(super) async fn note_next_due(&self, store: &Store, db: &TenantDb, checked_at: Timestamp) {
        let next = match db.next_due(checked_at).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot read when work is next due");
                return;
            }
        };
        let known = self.known().get(db.slug()).copied();
        match (next, known) {
            // Nothing pending and no hint to clear.
            (None, None) => return,
            // A hint still to come is as early as needed: an early one costs only a look.
            (Some(at), Some(hint)) if hint > checked_at && hint <= at => return,
            _ => {}
        }
        match store.set_due(db.slug(), next, checked_at).await {
            Ok(()) => {
                let mut known = self.known();
                match next {
                    Some(at) => known.insert(db.slug().clone(), at),
                    None => known.remove(db.slug()),
                };
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot leave a hint of due work")
            }
        }
    }
}
