//! Sending again: a test event to one endpoint (`webhook.test`, or any catalog type's
//! example flagged as a test), the replay of one delivery, and the bulk
//! recovery of every delivery that failed in a window (after a receiver's outage). Each
//! writes new pending deliveries with a full retry schedule; the deliveries they follow
//! stay as they were, for the record. The event, and so `webhook-id`, is the same.

use crate::idempotency::{self, Claimed, Idempotency};
use crate::outbox::{audit, publish_to};
use crate::{CoreError, Result};
use mobieus_domain::event::EventType;
use mobieus_domain::event_examples;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Delivery, DeliveryId, EndpointId};
use mobieus_store::{TenantDb, TenantTx};
use serde_json::json;

/// Refuses to send to a missing or disabled endpoint.
async fn active_endpoint(tx: &mut TenantTx, id: &EndpointId) -> Result<()> {
    let record = tx
        .endpoint_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("endpoint", id))?;
    if !record.endpoint.active {
        return Err(CoreError::Conflict(format!(
            "endpoint {id} is disabled; enable it first"
        )));
    }
    Ok(())
}

/// The delivery `id` of `endpoint` just queued in `tx`, kept as the answer when the
/// request has an idempotency key, then committed.
async fn queued(
    mut tx: TenantTx,
    claimed: Option<Claimed<'_, '_, Delivery>>,
    endpoint: &EndpointId,
    id: &DeliveryId,
) -> Result<Delivery> {
    let delivery = tx
        .delivery_by_id(endpoint, id)
        .await?
        .ok_or_else(|| CoreError::not_found("delivery", id))?;
    idempotency::keep(&mut tx, claimed, &delivery).await?;
    tx.commit().await?;
    Ok(delivery)
}

/// Sends a `webhook.test` event to `endpoint` only; returns its delivery, queued.
pub async fn send_test(
    db: &TenantDb,
    endpoint: &EndpointId,
    idem: Option<&Idempotency<'_, Delivery>>,
) -> Result<Delivery> {
    send_test_of(db, endpoint, EventType::WebhookTest, idem).await
}

/// Sends the catalog example of `event_type` to `endpoint` only, whether or not the
/// endpoint subscribes to that type (it is an explicit test of the endpoint), with a
/// fresh id and the current time; returns its delivery, queued. Any type but
/// `webhook.test` is flagged `"test": true` and kept out of the feed.
pub async fn send_test_of(
    db: &TenantDb,
    endpoint: &EndpointId,
    event_type: EventType,
    idem: Option<&Idempotency<'_, Delivery>>,
) -> Result<Delivery> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let claimed = idempotency::claim(&mut tx, idem).await?;
    active_endpoint(&mut tx, endpoint).await?;
    let data = event_examples::example(tx.slug(), event_type).data;
    let (_, delivery) = publish_to(&mut tx, now, data, endpoint).await?;
    queued(tx, claimed, endpoint, &delivery).await
}

/// Sends the event of one delivery to its endpoint again; returns the new delivery, queued.
pub async fn replay(
    db: &TenantDb,
    endpoint: &EndpointId,
    of: &DeliveryId,
    idem: Option<&Idempotency<'_, Delivery>>,
) -> Result<Delivery> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let claimed = idempotency::claim(&mut tx, idem).await?;
    let original = tx
        .delivery_by_id(endpoint, of)
        .await?
        .ok_or_else(|| CoreError::not_found("delivery", of))?;
    active_endpoint(&mut tx, endpoint).await?;
    let delivery = tx
        .insert_delivery(&original.event_id, endpoint, now)
        .await?;
    queued(tx, claimed, endpoint, &delivery).await
}

/// The most events one recovery queues (one write transaction); the rest wait for the
/// next call, which carries on where this one stopped.
pub const RECOVER_BATCH: u32 = 10_000;

/// What a recovery queued.
#[derive(Clone, Copy, Debug)]
pub struct Recovery {
    pub queued: usize,
    /// The end of the window used (now, when none was given).
    pub until: Timestamp,
    /// More failed deliveries remain in the window: call again.
    pub more: bool,
}

/// Sends again every event whose latest delivery to `endpoint` failed (or was cancelled
/// when the endpoint was disabled), created in [since, until), up to [`RECOVER_BATCH`].
/// Recovering a window twice sends nothing twice.
pub async fn recover(
    db: &TenantDb,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Option<Timestamp>,
    actor: &str,
    idem: Option<&Idempotency<'_, Recovery>>,
) -> Result<Recovery> {
    let now = Timestamp::now();
    let until = until.unwrap_or(now);
    if until <= since {
        return Err(CoreError::Invalid(mobieus_domain::forum::InvalidValue {
            field: "until",
            message: "must be after since",
        }));
    }
    let mut tx = db.begin().await?;
    let claimed = idempotency::claim(&mut tx, idem).await?;
    active_endpoint(&mut tx, endpoint).await?;
    let events = tx
        .events_to_recover(endpoint, since, until, RECOVER_BATCH)
        .await?;
    for event in &events {
        tx.insert_delivery(event, endpoint, now).await?;
    }
    audit(
        &mut tx,
        actor,
        "endpoint.recovered",
        endpoint.as_str(),
        json!({ "since": since, "until": until, "queued": events.len() }),
    )
    .await?;
    let recovery = Recovery {
        queued: events.len(),
        until,
        more: events.len() == RECOVER_BATCH as usize,
    };
    idempotency::keep(&mut tx, claimed, &recovery).await?;
    tx.commit().await?;
    Ok(recovery)
}
