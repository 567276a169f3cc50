//! Leases this worker holds: deliveries claimed and not yet settled (recorded, cancelled,
//! or given up to their lease), by tenant. A stopping worker releases them, so another
//! takes them at once instead of when their leases run out.

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::DeliveryId;
use mobieus_store::{ClaimedDelivery, Store};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

type Held = HashMap<TenantSlug, HashMap<DeliveryId, ClaimedDelivery>>;

#[derive(Debug, Default)]
pub(super) struct Leases {
    held: Mutex<Held>,
}

/// Until when a claim made `now` holds its deliveries: long enough for an attempt to time
/// out and be recorded (twice its timeout, at least 5 s more), short enough that a dead
/// worker's deliveries go out again soon.
pub(super) fn until(now: Timestamp, attempt_timeout: Duration) -> Timestamp {
    let lease = attempt_timeout + attempt_timeout.max(Duration::from_secs(5));
    now.plus_millis(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

impl Leases {
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes claimed deliveries as held until they settle.
    pub(super) fn hold(&self, slug: &TenantSlug, claimed: &[ClaimedDelivery]) {
        if claimed.is_empty() {
            return;
        }
        let mut held = self.held();
        let tenant = held.entry(slug.clone()).or_default();
        for c in claimed {
            tenant.insert(c.id.clone(), c.clone());
        }
    }

    /// A held delivery settled: recorded (or queued for the recorder, which finishes
    /// before anything is released), cancelled, or given up to its lease.
    pub(super) fn settle(&self, slug: &TenantSlug, id: &DeliveryId) {
        let mut held = self.held();
        if let Some(tenant) = held.get_mut(slug) {
            tenant.remove(id);
            if tenant.is_empty() {
                held.remove(slug);
            }
        }
    }

    /// Ends the leases this stopping worker still holds (claimed and not started, or
    /// stopped in flight), so they are due again at once. A lease that changed meanwhile
    /// (another worker's now) is left alone.
    pub(super) async fn release(&self, store: &Store) {
        let held = std::mem::take(&mut *self.held());
        for (slug, claims) in held {
            let claims: Vec<ClaimedDelivery> = claims.into_values().collect();
            let released = match store.tenant_db(&slug).await {
                Ok(db) => db.release_leases(&claims, Timestamp::now()).await,
                Err(e) => Err(e),
            };
            match released {
                Ok(n) => {
                    tracing::info!(tenant = %slug, released = n, "released deliveries held at shutdown")
                }
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot release deliveries; their leases run out instead")
                }
            }
        }
    }
}
