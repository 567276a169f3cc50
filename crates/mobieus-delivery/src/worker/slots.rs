//! Slots: an attempt in flight holds one. The worker has `concurrency` of them, and one
//! endpoint may hold at most a quarter, so a stalled endpoint cannot take every slot from
//! the others. A claim asks the store for no more deliveries to an endpoint than it has
//! slots free ([`mobieus_store::Claim::with_slots`]). A tenant whose last claim used up
//! some endpoint's slots may have more waiting for it: each slot that frees drains that
//! tenant again, so the endpoint's next delivery goes as soon as it has a slot.

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::webhook::EndpointId;
use mobieus_store::{ClaimedDelivery, WorkSignal};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The worker's slots, and those each endpoint holds.
#[derive(Debug)]
pub(super) struct Slots {
    /// Every slot of the worker: a permit is a slot.
    all: Arc<Semaphore>,
    per_endpoint: usize,
    held: Mutex<Held>,
    /// Raised for a tenant short of slots when one of its slots frees.
    signal: Arc<WorkSignal>,
}

#[derive(Debug, Default)]
struct Held {
    /// Slots held per endpoint (attempts in flight, and claimed ones about to start).
    by_endpoint: HashMap<(TenantSlug, EndpointId), usize>,
    /// Tenants whose last claim used up some endpoint's slots.
    short: HashSet<TenantSlug>,
}

impl Slots {
    pub(super) fn new(concurrency: usize, signal: Arc<WorkSignal>) -> Self {
        Self {
            all: Arc::new(Semaphore::new(concurrency.max(1))),
            per_endpoint: (concurrency / 4).max(1),
            held: Mutex::default(),
            signal,
        }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `need` slots are free, then takes every other free one, up to `most`
    /// in all; `None` if the slots were closed.
    pub(super) async fn take(&self, need: usize, most: usize) -> Option<Vec<OwnedSemaphorePermit>> {
        let mut first = self
            .all
            .clone()
            .acquire_many_owned(u32::try_from(need).unwrap_or(1))
            .await
            .ok()?;
        let mut slots = Vec::with_capacity(most);
        while first.num_permits() > 1
            && let Some(one) = first.split(1)
        {
            slots.push(one);
        }
        slots.push(first);
        while slots.len() < most {
            match self.all.clone().try_acquire_owned() {
                Ok(p) => slots.push(p),
                Err(_) => break,
            }
        }
        Some(slots)
    }

    /// Waits for one free slot; `None` if the slots were closed.
    pub(super) async fn take_one(&self) -> Option<OwnedSemaphorePermit> {
        self.all.clone().acquire_owned().await.ok()
    }

    /// The slots an endpoint with nothing in flight has free.
    pub(super) fn per_endpoint(&self) -> u32 {
        u32::try_from(self.per_endpoint).unwrap_or(u32::MAX)
    }

    /// The slots free to each endpoint of `slug` that holds some.
    pub(super) fn free(&self, slug: &TenantSlug) -> Vec<(EndpointId, u32)> {
        let cap = self.per_endpoint;
        self.held()
            .by_endpoint
            .iter()
            .filter(|((s, _), _)| s == slug)
            .map(|((_, id), n)| {
                let free = u32::try_from(cap.saturating_sub(*n)).unwrap_or(0);
                (id.clone(), free)
            })
            .collect()
    }

    /// Claimed deliveries hold their endpoints' slots (the claim kept within `free`, the
    /// slots free before it); notes whether the claim used up some endpoint's slots.
    pub(super) fn claimed(
        &self,
        slug: &TenantSlug,
        claimed: &[ClaimedDelivery],
        free: &[(EndpointId, u32)],
    ) {
        let mut per: HashMap<&EndpointId, u32> = HashMap::new();
        for c in claimed {
            *per.entry(&c.endpoint_id).or_insert(0) += 1;
        }
        let per_endpoint = self.per_endpoint();
        let used_up = per.iter().any(|(id, n)| {
            let free = free
                .iter()
                .find(|(e, _)| e == *id)
                .map_or(per_endpoint, |(_, f)| *f);
            *n >= free
        }) || free.iter().any(|(_, f)| *f == 0);
        let mut held = self.held();
        for (id, n) in per {
            *held
                .by_endpoint
                .entry((slug.clone(), id.clone()))
                .or_insert(0) += n as usize;
        }
        if used_up {
            held.short.insert(slug.clone());
        } else {
            held.short.remove(slug);
        }
    }

    /// One attempt to `endpoint` finished (or will not start): its slot frees. If the
    /// tenant's last claim left work behind for want of slots, the tenant is drained again
    /// at once.
    pub(super) fn freed(&self, slug: &TenantSlug, endpoint: &EndpointId) {
        let short = {
            let mut held = self.held();
            let key = (slug.clone(), endpoint.clone());
            if let Some(n) = held.by_endpoint.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.by_endpoint.remove(&key);
                }
            }
            held.short.contains(slug)
        };
        if short {
            self.signal.raise(slug);
        }
    }
}
