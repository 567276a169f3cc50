//! The transactional outbox: the one place a public event is written, always inside the
//! transaction of the action it reports.

use crate::Result;
use mobieus_domain::event::{Event, EventData, EventId};
use mobieus_domain::time::Timestamp;
use mobieus_store::TenantTx;

/// What a use case made, and the id of the event it published.
#[derive(Clone, Debug)]
pub struct Published<T> {
    pub value: T,
    pub event_id: EventId,
}

/// Writes the event for `data` into the feed in `tx`. The caller commits.
pub(crate) async fn publish(tx: &mut TenantTx, at: Timestamp, data: EventData) -> Result<EventId> {
    let event = Event::new(tx.slug().clone(), at, data);
    tx.insert_event(&event, &event.to_json()).await?;
    Ok(event.id)
}
