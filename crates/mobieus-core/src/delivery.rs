//! The outcome of a delivery attempt, in one transaction: the attempt as sent, the
//! delivery's next state by the retry schedule, the endpoint's failure count, and
//! auto-disabling (410 Gone at once, or after N consecutive failures), audit-logged.

use crate::Result;
use crate::outbox::audit;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::RetrySchedule;
use mobieus_store::{ClaimedDelivery, DeliveryState, NewAttempt, TenantDb, TenantTx};
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
/// no attempt row, no failure counted).
pub async fn record_all(
    db: &TenantDb,
    policy: &DeliveryPolicy,
    attempts: &[Recorded],
) -> Result<Vec<Option<DeliveryState>>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let mut states = Vec::with_capacity(attempts.len());
    for r in attempts {
        states.push(record_in(&mut tx, policy, r, now).await?);
    }
    tx.commit().await?;
    Ok(states)
}

async fn record_in(
    tx: &mut TenantTx,
    policy: &DeliveryPolicy,
    r: &Recorded,
    now: Timestamp,
) -> Result<Option<DeliveryState>> {
    let claimed = &r.claimed;
    if !tx.claim_holds(claimed).await? {
        tracing::warn!(delivery = %claimed.id, "lease ran out before the attempt was recorded; another worker has it");
        return Ok(None);
    }
    let number = claimed.attempts + 1;
    let state = match r.outcome {
        Outcome::Succeeded => {
            tx.count_endpoint_result(&claimed.endpoint_id, true).await?;
            DeliveryState::Succeeded
        }
        Outcome::Failed { gone, retry_after } => {
            let failures = tx
                .count_endpoint_result(&claimed.endpoint_id, false)
                .await?;
            let disable = if gone {
                Some("the endpoint answered 410 Gone".to_owned())
            } else if failures >= policy.auto_disable_after {
                Some(format!("{failures} consecutive failed attempts"))
            } else {
                None
            };
            if let Some(reason) = disable
                && tx
                    .disable_endpoint(&claimed.endpoint_id, &reason, now)
                    .await?
            {
                tracing::warn!(endpoint = %claimed.endpoint_id, reason, "webhook endpoint disabled");
                audit(
                    tx,
                    "worker",
                    "endpoint.disabled",
                    claimed.endpoint_id.as_str(),
                    json!({ "reason": reason }),
                )
                .await?;
            }
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
    };
    tx.record_attempt(&r.attempt, state, now).await?;
    Ok(Some(state))
}
