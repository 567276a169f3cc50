//! The in-process wake-up of the delivery worker: a transaction that enqueued deliveries
//! raises its tenant the moment it commits, so the worker sends at once instead of at its
//! next poll. Work enqueued by another process is found by the worker's poll. Also a
//! generation count of endpoint changes, so the worker's cached endpoints go stale the
//! moment one of this process's transactions changes an endpoint. A process without a
//! worker (the CLI, `serve --no-worker`) leaves a hint in the control database instead
//! (see `due_work`), which workers elsewhere read at their next poll.

use mobieus_domain::tenant::TenantSlug;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

/// Tenants with new deliveries since the worker last looked.
#[derive(Debug, Default)]
pub struct WorkSignal {
    raised: Mutex<HashSet<TenantSlug>>,
    notify: Notify,
    endpoint_generation: AtomicU64,
    /// Set when a worker runs in this process: it is woken in-process, so commits need
    /// not leave hints in the control database for workers elsewhere.
    worker_here: AtomicBool,
}

impl WorkSignal {
    /// Marks `slug` as having new work and wakes the waiting worker.
    pub fn raise(&self, slug: &TenantSlug) {
        let fresh = self
            .raised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(slug.clone());
        if fresh {
            self.notify.notify_one();
        }
    }

    /// The tenants raised since the last call, clearing them.
    pub fn take(&self) -> Vec<TenantSlug> {
        self.raised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain()
            .collect()
    }

    /// A worker runs in this process from now on.
    pub fn worker_in_process(&self) {
        self.worker_here.store(true, Ordering::Release);
    }

    /// Whether a commit that enqueued work should leave a hint for workers elsewhere.
    pub(crate) fn hints_wanted(&self) -> bool {
        !self.worker_here.load(Ordering::Acquire)
    }

    /// An endpoint changed (created, updated, rotated, disabled, deleted) in this process.
    pub fn endpoints_changed(&self) {
        self.endpoint_generation.fetch_add(1, Ordering::Release);
    }

    /// Grows at every endpoint change in this process.
    pub fn endpoint_generation(&self) -> u64 {
        self.endpoint_generation.load(Ordering::Acquire)
    }

    /// Waits until a tenant is raised (at once when one was raised since the last wait).
    pub async fn raised(&self) {
        self.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_raise_before_the_wait_is_not_lost() {
        let signal = WorkSignal::default();
        let slug = TenantSlug::parse("acme").unwrap();
        signal.raise(&slug);
        signal.raise(&slug);
        signal.raised().await;
        assert_eq!(signal.take(), vec![slug]);
        assert!(signal.take().is_empty());
    }
}
