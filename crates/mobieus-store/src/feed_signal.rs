//! The in-process wake-up of live event streams: a transaction that appended events raises
//! its tenant the moment it commits, and whoever watches that tenant's feed reads it
//! again. On Postgres, commits of other processes arrive through `LISTEN` (see
//! `Store::listen_for_feed`); on SQLite, whoever watches also reads on a short timer, which
//! finds what the CLI or another process committed. A raise is a wake-up, not the record:
//! the feed in the store is.

use mobieus_domain::tenant::TenantSlug;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Tenants whose feed grew, for those watching them.
#[derive(Debug, Default)]
pub struct FeedSignal {
    /// One counter per watched tenant; it grows at each raise.
    watched: Mutex<HashMap<TenantSlug, watch::Sender<u64>>>,
}

impl FeedSignal {
    /// Wakes the watchers of `slug`'s feed; nothing when no one watches it.
    pub fn raise(&self, slug: &TenantSlug) {
        let mut watched = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = watched.get(slug) {
            if tx.receiver_count() == 0 {
                watched.remove(slug);
            } else {
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }

    /// A receiver that changes at each raise of `slug` from now on.
    pub fn watch(&self, slug: &TenantSlug) -> watch::Receiver<u64> {
        let mut watched = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        watched
            .entry(slug.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[tokio::test]
    async fn a_raise_wakes_the_watchers_of_its_tenant_only() {
        let signal = FeedSignal::default();
        let (acme, other) = (
            TenantSlug::parse("acme").unwrap(),
            TenantSlug::parse("other").unwrap(),
        );
        let mut a = signal.watch(&acme);
        let b = signal.watch(&other);
        signal.raise(&acme);
        assert!(a.has_changed().unwrap());
        assert!(!b.has_changed().unwrap());
        a.changed().await.unwrap();
        drop(b);
        // The last watcher gone, the tenant is forgotten at its next raise.
        signal.raise(&other);
        assert!(!signal.watched.lock().unwrap().contains_key(&other));
    }
}
