//! Where deliveries go and what signs them, cached: an endpoint is read and its secrets
//! opened once, not once per delivery. An entry goes stale the moment a transaction of
//! this process changes any endpoint (the store's endpoint generation), and after a
//! second in any case (a change made by another process, or a rotation's grace ending).

use crate::attempt::Target;
use mobieus_core::url_guard::{Refused, UrlGuard};
use mobieus_core::webhooks::signing_secrets;
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::EndpointId;
use mobieus_store::{TenantDb, WorkSignal};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an entry is trusted without a change seen in this process.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Entries kept at most; the cache is cleared when it grows past this.
const MAX_ENTRIES: usize = 10_000;

/// An endpoint as the worker needs it.
#[derive(Clone, Debug)]
pub(crate) enum Resolved {
    Ready(Arc<Target>),
    /// Deleted (its deliveries went with it).
    Gone,
    /// It could not be read now (a store error, logged): the delivery waits for its lease.
    Unavailable,
    /// It cannot be signed for (its secret does not open with this master key): why.
    Broken(String),
}

#[derive(Debug)]
struct Entry {
    resolved: Resolved,
    generation: u64,
    at: Instant,
    /// Until when the previous secret signs: the entry is stale from then on.
    grace_ends: Option<Timestamp>,
}

#[derive(Debug)]
pub(crate) struct Targets {
    signal: Arc<WorkSignal>,
    entries: Mutex<HashMap<(TenantSlug, EndpointId), Entry>>,
}

impl Targets {
    pub fn new(signal: Arc<WorkSignal>) -> Self {
        Self {
            signal,
            entries: Mutex::default(),
        }
    }

    pub async fn get(
        &self,
        db: &TenantDb,
        key: &MasterKey,
        guard: &UrlGuard,
        id: &EndpointId,
    ) -> Resolved {
        let generation = self.signal.endpoint_generation();
        let cache_key = (db.slug().clone(), id.clone());
        let now = Timestamp::now();
        if let Some(e) = self.lock().get(&cache_key)
            && e.generation == generation
            && e.at.elapsed() < FRESH_FOR
            && e.grace_ends.is_none_or(|t| t > now)
        {
            return e.resolved.clone();
        }
        let (resolved, grace_ends) = load(db, key, guard, id, now).await;
        if let Some(resolved) = &resolved {
            let mut entries = self.lock();
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                cache_key,
                Entry {
                    resolved: resolved.clone(),
                    generation,
                    at: Instant::now(),
                    grace_ends,
                },
            );
        }
        // A store error is not cached.
        resolved.unwrap_or(Resolved::Unavailable)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantSlug, EndpointId), Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `None` on a store error (logged).
async fn load(
    db: &TenantDb,
    key: &MasterKey,
    guard: &UrlGuard,
    id: &EndpointId,
    now: Timestamp,
) -> (Option<Resolved>, Option<Timestamp>) {
    let record = match db.endpoint_by_id(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return (Some(Resolved::Gone), None),
        Err(e) => {
            tracing::error!(endpoint = %id, error = %e, "cannot read endpoint");
            return (None, None);
        }
    };
    let grace_ends = record
        .endpoint
        .previous_secret_expires_at
        .filter(|t| *t > now);
    match signing_secrets(db, key, &record, now) {
        Ok((current, previous)) => (
            Some(Resolved::Ready(Arc::new(Target {
                url: guard
                    .parse(&record.endpoint.url)
                    .map_err(|e| Refused::Unsafe(e).to_string()),
                active: record.endpoint.active,
                current,
                previous,
            }))),
            grace_ends,
        ),
        Err(e) => {
            tracing::error!(endpoint = %id, error = %e, "cannot open the endpoint's signing secret");
            (
                Some(Resolved::Broken(
                    "the endpoint's signing secret cannot be opened with this server's master key"
                        .to_owned(),
                )),
                None,
            )
        }
    }
}
