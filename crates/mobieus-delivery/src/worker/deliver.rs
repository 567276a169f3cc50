//! From claimed to done: a task per claimed delivery, holding one slot, that makes one
//! attempt (or finds there is nothing to send) and hands what to record to the recorder.

use super::Worker;
use crate::attempt::{self, Payload, Target};
use crate::metrics::DeliveryOutcome;
use crate::outcomes::Outcomes;
use crate::targets::Resolved;
use mobieus_core::delivery::{Outcome, Recorded};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EndpointId, SentHeaders};
use mobieus_store::{ClaimedDelivery, NewAttempt, TenantDb};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinSet;

impl Worker {
    /// Starts one task per claimed delivery, each holding one slot (taken first from
    /// `slots`, then as slots free up). The batch's events are read in one query;
    /// endpoints come from the cache of targets.
    pub(super) async fn start(
        &self,
        db: TenantDb,
        claimed: Vec<ClaimedDelivery>,
        mut slots: Vec<OwnedSemaphorePermit>,
        tasks: &mut JoinSet<()>,
        outcomes: &Arc<Outcomes>,
    ) {
        let inner = &self.inner;
        if claimed.is_empty() {
            return;
        }
        let ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
        let mut events = match db.event_jsons(&ids).await {
            Ok(e) => e,
            Err(e) => {
                // The leases run out and the batch is claimed again.
                tracing::error!(tenant = %db.slug(), error = %e, "cannot read the batch's events");
                for c in &claimed {
                    inner.slots.freed(db.slug(), &c.endpoint_id);
                    inner.leases.settle(db.slug(), &c.id);
                }
                return;
            }
        };
        let mut resolved: HashMap<&EndpointId, Resolved> = HashMap::new();
        for c in &claimed {
            if !resolved.contains_key(&c.endpoint_id) {
                let r = inner
                    .targets
                    .get(&db, inner.store.master_key(), &inner.guard, &c.endpoint_id)
                    .await;
                resolved.insert(&c.endpoint_id, r);
            }
        }
        let resolved: HashMap<_, _> = resolved.into_iter().map(|(k, v)| (k.clone(), v)).collect();
        let events: HashMap<String, Arc<Payload>> = events
            .drain()
            .filter_map(|(id, (event_type, body))| {
                // Event types are dotted names: a valid header value, or an unreadable event.
                let Ok(event_type) = reqwest::header::HeaderValue::try_from(event_type) else {
                    tracing::error!(event = id, "the event's type is not a valid header value");
                    return None;
                };
                let payload = Payload {
                    event_type,
                    body: body.into(),
                };
                Some((id, Arc::new(payload)))
            })
            .collect();
        for c in claimed {
            // Claimed ahead of the free slots: wait for one.
            let slot = match slots.pop() {
                Some(p) => p,
                None => match inner.slots.take_one().await {
                    Some(p) => p,
                    None => break,
                },
            };
            let target = resolved
                .get(&c.endpoint_id)
                .cloned()
                .unwrap_or(Resolved::Gone);
            let payload = events.get(&c.event_id).cloned();
            let worker = self.clone();
            let (db, outcomes) = (db.clone(), outcomes.clone());
            tasks.spawn(async move {
                let done = worker.deliver(&db, &c, target, payload).await;
                worker.inner.slots.freed(db.slug(), &c.endpoint_id);
                if let Some(done) = done {
                    outcomes.push(db.clone(), done);
                }
                // The slot is free once the outcome waits to be recorded, so the claim
                // that takes the slot records it.
                drop(slot);
                worker.inner.leases.settle(db.slug(), &c.id);
            });
        }
    }

    /// One attempt of one claimed delivery; what to record, if anything.
    async fn deliver(
        &self,
        db: &TenantDb,
        claimed: &ClaimedDelivery,
        target: Resolved,
        payload: Option<Arc<Payload>>,
    ) -> Option<Recorded> {
        let inner = &self.inner;
        let target: Arc<Target> = match target {
            // Deleted (its deliveries went with it), or unreadable now (the lease runs out
            // and the delivery is tried again).
            Resolved::Gone | Resolved::Unavailable => return None,
            Resolved::Broken(why) => return Some(unsent(claimed, why)),
            Resolved::Ready(t) => t,
        };
        if !target.active {
            // Boxed: a store call's future holds either backend's query and is large;
            // unboxed it would make every attempt's task that large, copied at each spawn.
            match Box::pin(db.cancel_delivery(claimed, Timestamp::now())).await {
                Ok(true) => {
                    inner.counters.cancelled.fetch_add(1, Ordering::Relaxed);
                    inner.metrics.delivery(DeliveryOutcome::Cancelled, None);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(delivery = %claimed.id, error = %e, "cannot cancel delivery")
                }
            }
            return None;
        }
        let Some(payload) = payload else {
            return Some(unsent(
                claimed,
                "the event of this delivery is missing or unreadable".to_owned(),
            ));
        };
        let (attempt, outcome) = attempt::send(&inner.client, claimed, &target, &payload).await;
        tracing::debug!(
            delivery = %claimed.id,
            attempt = attempt.number,
            status = ?attempt.response_status,
            error = attempt.error.as_deref().unwrap_or(""),
            "webhook attempt"
        );
        Some(Recorded {
            claimed: claimed.clone(),
            attempt,
            outcome,
            jitter: jitter(),
        })
    }
}

/// A failed attempt that sent nothing, with why: it counts like any failure, so the
/// retry schedule ends it instead of the lease running out forever.
fn unsent(claimed: &ClaimedDelivery, why: String) -> Recorded {
    tracing::error!(delivery = %claimed.id, reason = why, "delivery cannot be sent");
    Recorded {
        claimed: claimed.clone(),
        attempt: NewAttempt {
            delivery: claimed.id.clone(),
            number: claimed.attempts + 1,
            started_at: Timestamp::now(),
            duration_ms: 0,
            request_headers: SentHeaders::none(),
            response_status: None,
            response_excerpt: None,
            error: Some(why),
        },
        outcome: Outcome::Failed {
            gone: false,
            retry_after: None,
        },
        jitter: jitter(),
    }
}

/// A number in [0, 1) to spread retries.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    mobieus_domain::random::id_fill(&mut b);
    // 53 random bits make an f64 in [0, 1) exactly.
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}
