//! Sending again: a test event to one endpoint, the replay of one delivery, and the bulk
//! recovery of every delivery that failed in a window (after a receiver's outage). Each
//! writes new pending deliveries with a full retry schedule; the deliveries they follow
//! stay as they were, for the record. The event, and so `webhook-id`, is the same.

use crate::outbox::{audit, publish_to};
use crate::{CoreError, Result};
use mobieus_domain::event::EventData;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
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

/// Sends a `webhook.test` event to `endpoint` only; returns its delivery.
pub async fn send_test(db: &TenantDb, endpoint: &EndpointId) -> Result<DeliveryId> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    active_endpoint(&mut tx, endpoint).await?;
    let data = EventData::WebhookTest {
        message: "A test event sent from mobieus; no action is needed.".to_owned(),
    };
    let (_, delivery) = publish_to(&mut tx, now, data, endpoint).await?;
    tx.commit().await?;
    Ok(delivery)
}

/// Sends the event of one delivery to its endpoint again; returns the new delivery.
pub async fn replay(db: &TenantDb, endpoint: &EndpointId, of: &DeliveryId) -> Result<DeliveryId> {
    let original = db
        .delivery_by_id(endpoint, of)
        .await?
        .ok_or_else(|| CoreError::not_found("delivery", of))?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    active_endpoint(&mut tx, endpoint).await?;
    let delivery = tx
        .insert_delivery(&original.event_id, endpoint, now)
        .await?;
    tx.commit().await?;
    Ok(delivery)
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
    tx.commit().await?;
    Ok(Recovery {
        queued: events.len(),
        until,
        more: events.len() == RECOVER_BATCH as usize,
    })
}
