//! The transactional outbox: the one place a public event (and its webhook deliveries)
//! is written, always inside the transaction of the action it reports; and the audit log.

use crate::Result;
use mobieus_domain::event::{Event, EventData, EventId};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
use mobieus_store::TenantTx;

/// What a use case made, and the id of the event it published.
#[derive(Clone, Debug)]
pub struct Published<T> {
    pub value: T,
    pub event_id: EventId,
}

/// Writes the event for `data` into the feed in `tx`, and one pending delivery for each
/// active endpoint subscribed to its type. The caller commits.
pub(crate) async fn publish(tx: &mut TenantTx, at: Timestamp, data: EventData) -> Result<EventId> {
    let event = Event::new(tx.slug().clone(), at, data);
    tx.insert_event(&event, &event.to_json()).await?;
    let endpoints = tx.subscribed_endpoints(event.event_type).await?;
    tx.insert_deliveries(event.id.as_str(), &endpoints, at)
        .await?;
    Ok(event.id)
}

/// Writes an event meant for one endpoint only (`webhook.test`, or a test send of
/// another type, flagged `test`, which keeps it out of the feed) and its one delivery.
pub(crate) async fn publish_to(
    tx: &mut TenantTx,
    at: Timestamp,
    data: EventData,
    endpoint: &EndpointId,
) -> Result<(EventId, DeliveryId)> {
    let mut event = Event::new(tx.slug().clone(), at, data);
    event.test = event.event_type.in_feed();
    tx.insert_event(&event, &event.to_json()).await?;
    let delivery = tx.insert_delivery(event.id.as_str(), endpoint, at).await?;
    Ok((event.id, delivery))
}

/// Records who changed what, in the transaction of the change.
pub(crate) async fn audit(
    tx: &mut TenantTx,
    actor: &str,
    action: &'static str,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    let entry = mobieus_store::AuditEntry {
        at: Timestamp::now(),
        actor: actor.to_owned(),
        action,
        target: target.to_owned(),
        details,
    };
    Ok(tx.insert_audit(&entry).await?)
}
