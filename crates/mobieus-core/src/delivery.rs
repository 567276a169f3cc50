//! The outcome of a delivery attempt, in one transaction: the attempt as sent, the
//! delivery's next state by the retry schedule, the endpoint's failure count, and
//! auto-disabling (410 Gone at once, or after N consecutive failures), audit-logged.

use crate::Result;
use crate::outbox::audit;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::EndpointId;
use mobieus_domain::webhook::RetrySchedule;
use mobieus_store::{Claim, ClaimedDelivery, DeliveryState, NewAttempt, RecordedAttempt, TenantDb};
use serde_json::json;
use std::time::Duration;

/// The longest `Retry-After` a receiver can ask for; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// How deliveries are retried and when endpoints are given up on.
#[derive(Clone, Debug)]
pub struct DeliveryPolicy {
    pub schedule: RetrySchedule,
    /// Consecutive failed attempts after which an endpoint is disabled.
    pub auto_disable_after: u32,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            schedule: RetrySchedule::default(),
            auto_disable_after: 20,
        }
    }
}

/// How an attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Succeeded,
    /// Anything else; `gone` for 410, `retry_after` from a 429 or 503.
    Failed {
        gone: bool,
        retry_after: Option<Duration>,
    },
}

/// One attempt's outcome, to record.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub claimed: ClaimedDelivery,
    pub attempt: NewAttempt,
    pub outcome: Outcome,
    /// In [0, 1): spreads the next wait.
    pub jitter: f64,
}

/// Records attempt `claimed.attempts + 1`; `jitter` in [0, 1) spreads the next wait.
/// `None`: the claim had run out and passed to another worker, so nothing was recorded.
pub async fn record(
    db: &TenantDb,
    policy: &DeliveryPolicy,
    claimed: &ClaimedDelivery,
    attempt: &NewAttempt,
    outcome: Outcome,
    jitter: f64,
) -> Result<Option<DeliveryState>> {
    let one = Recorded {
        claimed: claimed.clone(),
        attempt: attempt.clone(),
        outcome,
        jitter,
    };
    let states = record_all(db, policy, std::slice::from_ref(&one)).await?;
    Ok(states.first().copied().flatten())
}

/// Records many attempts of one tenant in one transaction (a group commit: the worker
/// records what finished together), in order; returns each delivery's state after it, or
/// `None` where the claim had run out and passed to another worker (nothing recorded:
/// no attempt row, no failure counted). Endpoints' failure counts move by the batch:
/// with a success the count restarts from the failures after the last one.
pub async fn record_all(
    db: &TenantDb,
    policy: &DeliveryPolicy,
    attempts: &[Recorded],
) -> Result<Vec<Option<DeliveryState>>> {
    Ok(record_and_claim(db, policy, attempts, None).await?.0)
}

/// [`record_all`], then, in the same transaction, a claim of the tenant's next due
/// deliveries: a worker draining a backlog pays one commit for both (each commit writes
/// every page it changed, and the deliveries just recorded and those claimed next share
/// their pages). A claim with no attempts to record is a claim alone.
pub async fn record_and_claim(
    db: &TenantDb,
    policy: &DeliveryPolicy,
    attempts: &[Recorded],
    claim: Option<Claim<'_>>,
) -> Result<(Vec<Option<DeliveryState>>, Vec<ClaimedDelivery>)> {
    if attempts.is_empty() {
        let claimed = match claim {
            Some(c) => db.claim_due(&c).await?,
            None => Vec::new(),
        };
        return Ok((Vec::new(), claimed));
    }
    let now = Timestamp::now();
    let states: Vec<DeliveryState> = attempts
        .iter()
        .map(|r| next_state(policy, r, now))
        .collect();
    let items: Vec<RecordedAttempt<'_>> = attempts
        .iter()
        .zip(&states)
        .map(|(r, state)| RecordedAttempt {
            claimed: &r.claimed,
            attempt: &r.attempt,
            state: *state,
        })
        .collect();
    let mut tx = db.begin().await?;
    let held = tx.record_attempts(&items, now).await?;
    if held.iter().any(|h| !h) {
        tracing::warn!(
            dropped = held.iter().filter(|h| !**h).count(),
            "leases ran out before their attempts were recorded; other workers have them"
        );
    }
    // Per endpoint, in order: (restarted by a success, failures since, a 410 among them).
    let mut counts: Vec<(&EndpointId, bool, u32, bool)> = Vec::new();
    for (r, _) in attempts.iter().zip(&held).filter(|(_, h)| **h) {
        let id = &r.claimed.endpoint_id;
        let at = match counts.iter().position(|(e, ..)| *e == id) {
            Some(i) => i,
            None => {
                counts.push((id, false, 0, false));
                counts.len() - 1
            }
        };
        let entry = &mut counts[at];
        match r.outcome {
            Outcome::Succeeded => {
                entry.1 = true;
                entry.2 = 0;
            }
            Outcome::Failed { gone, .. } => {
                entry.2 += 1;
                entry.3 |= gone;
            }
        }
    }
    // Healthy endpoints (a success, no failure since, a count already at 0) need no write.
    let ids: Vec<&EndpointId> = counts.iter().map(|(id, ..)| *id).collect();
    let current = tx.endpoint_failure_counts(&ids).await?;
    for (id, reset, failures, gone) in counts {
        if reset && failures == 0 && current.get(id.as_str()) == Some(&0) {
            continue;
        }
        let after = tx.count_endpoint_results(id, reset, failures).await?;
        let disable = if gone {
            Some("the endpoint answered 410 Gone".to_owned())
        } else if failures > 0 && after >= policy.auto_disable_after {
            Some(format!("{after} consecutive failed attempts"))
        } else {
            None
        };
        if let Some(reason) = disable
            && tx.disable_endpoint(id, &reason, now).await?
        {
            tracing::warn!(endpoint = %id, reason, "webhook endpoint disabled");
            audit(
                &mut tx,
                "worker",
                "endpoint.disabled",
                id.as_str(),
                json!({ "reason": reason }),
            )
            .await?;
        }
    }
    let claimed = match claim {
        Some(c) => tx.claim_due(&c).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let states = states
        .into_iter()
        .zip(held)
        .map(|(state, held)| held.then_some(state))
        .collect();
    Ok((states, claimed))
}

/// Where a delivery goes after this attempt, by the schedule and the receiver's
/// `Retry-After`.
fn next_state(policy: &DeliveryPolicy, r: &Recorded, now: Timestamp) -> DeliveryState {
    match r.outcome {
        Outcome::Succeeded => DeliveryState::Succeeded,
        Outcome::Failed { retry_after, .. } => {
            let number = r.claimed.attempts + 1;
            match policy.schedule.wait_before(number + 1, r.jitter) {
                Some(wait) => {
                    let asked = retry_after.map_or(Duration::ZERO, |r| r.min(MAX_RETRY_AFTER));
                    let wait = wait.max(asked);
                    DeliveryState::Retry {
                        at: now.plus_millis(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                    }
                }
                None => DeliveryState::Failed,
            }
        }
    }
}
