//! What both backends share in reading and writing rows: cutting a page, and how domain
//! values are spelled in columns (the same text in a SQLite file and a Postgres schema,
//! which is also what lets a tenant's rows move between them as they are).

use crate::DeliveryState;
use crate::{Page, StoreError};
use mobieus_domain::forum::PostStatus;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;

/// A stored value this version cannot read.
pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn slug_from(s: &str) -> Result<TenantSlug, StoreError> {
    TenantSlug::parse(s).map_err(|_| corrupt("tenant slug", s))
}

pub(crate) fn post_status(s: &str) -> Result<PostStatus, StoreError> {
    match s {
        "visible" => Ok(PostStatus::Visible),
        "deleted" => Ok(PostStatus::Deleted),
        "removed" => Ok(PostStatus::Removed),
        other => Err(corrupt("post status", other)),
    }
}

pub(crate) fn post_status_str(s: PostStatus) -> &'static str {
    match s {
        PostStatus::Visible => "visible",
        PostStatus::Deleted => "deleted",
        PostStatus::Removed => "removed",
    }
}

/// A delivery's next state as its `status` and `next_attempt_at` columns.
pub(crate) fn state_columns(state: DeliveryState) -> (&'static str, Option<i64>) {
    match state {
        DeliveryState::Succeeded => ("succeeded", None),
        DeliveryState::Retry { at } => ("pending", Some(at.millis())),
        DeliveryState::Failed => ("failed", None),
        DeliveryState::Cancelled => ("cancelled", None),
    }
}

/// The event type stored for delivery but kept out of the feed (the domain's rule; there
/// is one such type, `webhook.test`).
pub(crate) fn not_in_feed() -> &'static str {
    use mobieus_domain::event::EventType;
    EventType::CATALOG
        .iter()
        .find(|i| !i.event_type.in_feed())
        .map_or(EventType::WebhookTest.name(), |i| i.name)
}

/// Cuts a `limit + 1` fetch down to `limit` and says where the next page starts.
pub(crate) fn paginate<T>(mut items: Vec<T>, limit: u32, position: impl Fn(&T) -> i64) -> Page<T> {
    let limit = limit as usize;
    let more = items.len() > limit;
    items.truncate(limit);
    let next_after = if more {
        items.last().map(position)
    } else {
        None
    };
    Page { items, next_after }
}

/// [`paginate`] for rows fetched with their position beside them (`(position, item)`),
/// for lists whose items do not carry their position themselves.
pub(crate) fn paginate_positioned<T>(items: Vec<(i64, T)>, limit: u32) -> Page<T> {
    let page = paginate(items, limit, |(position, _)| *position);
    Page {
        items: page.items.into_iter().map(|(_, item)| item).collect(),
        next_after: page.next_after,
    }
}

/// The most attempts the health card reads back (newest first); beyond it the figures
/// say so.
pub(crate) const HEALTH_MOST_ATTEMPTS: i64 = 200_000;
const HOUR_MS: i64 = 3_600_000;

/// The health card's tally, the same whichever backend reads the attempts.
impl crate::DeliveryHealth {
    /// An empty tally of the window from `since` to `now`, an hour per slot.
    pub(crate) fn window(since: Timestamp, now: Timestamp) -> Self {
        let hours =
            usize::try_from((now.millis() - since.millis()).div_euclid(HOUR_MS) + 1).unwrap_or(24);
        Self {
            hourly: vec![(0, 0); hours],
            ..Self::default()
        }
    }

    /// Counts an attempt started at `at` (ms) with this answer's status; `false` when it
    /// started before the window, where reading, newest first, stops (attempts are
    /// recorded roughly in time order; a few late ones may lie beyond this one, which is
    /// as far back as the card looks).
    pub(crate) fn count(&mut self, since: Timestamp, at: i64, status: Option<i64>) -> bool {
        if at < since.millis() {
            return false;
        }
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let hour = usize::try_from((at - since.millis()).div_euclid(HOUR_MS)).unwrap_or(0);
        if let Some(slot) = self.hourly.get_mut(hour) {
            if ok {
                slot.0 += 1;
            } else {
                slot.1 += 1;
            }
        }
        if ok {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        true
    }

    /// Completes the tally: whether `read` attempts hit the cap, and the queue now.
    pub(crate) fn finish(mut self, read: i64, queue: crate::QueueStats) -> Self {
        self.capped = read == HEALTH_MOST_ATTEMPTS;
        self.oldest_pending = queue.oldest_pending;
        self.pending = queue.pending;
        self.disabled_endpoints = queue.disabled_endpoints;
        self
    }
}

/// A claimed delivery from its row as both backends read it: (position, id, event id,
/// endpoint id, attempts made), leased until `lease_until`.
pub(crate) fn claimed_delivery(
    (position, id, event_id, endpoint, attempts): (i64, String, String, String, i64),
    lease_until: Timestamp,
) -> Result<crate::ClaimedDelivery, StoreError> {
    Ok(crate::ClaimedDelivery {
        id: mobieus_domain::webhook::DeliveryId::parse(&id)
            .ok_or_else(|| corrupt("delivery id", &id))?,
        event_id,
        endpoint_id: mobieus_domain::webhook::EndpointId::parse(&endpoint)
            .ok_or_else(|| corrupt("endpoint id", &endpoint))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        lease_until,
        position,
    })
}

/// The slots each endpoint has free while a claim takes due deliveries in order (see
/// [`crate::Claim`]): the claim's free slots for the endpoints it lists, its slots per
/// endpoint for the others.
pub(crate) struct Slots {
    free: std::collections::HashMap<String, u32>,
    per_endpoint: u32,
}

impl Slots {
    pub(crate) fn of(claim: &crate::Claim<'_>) -> Self {
        Self {
            free: claim
                .free_slots
                .iter()
                .map(|(id, n)| (id.as_str().to_owned(), *n))
                .collect(),
            per_endpoint: claim.slots_per_endpoint,
        }
    }

    /// Takes a slot for a delivery to `endpoint`; `false` when it has none free.
    pub(crate) fn take(&mut self, endpoint: &str) -> bool {
        let n = match self.free.get_mut(endpoint) {
            Some(n) => n,
            None => self
                .free
                .entry(endpoint.to_owned())
                .or_insert(self.per_endpoint),
        };
        if *n == 0 {
            return false;
        }
        *n -= 1;
        true
    }
}
