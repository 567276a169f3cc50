//! The request headers of a webhook attempt, signed over the exact body: what the worker
//! sends, and what `mobieus listen` sends to a developer's machine, so that a receiver
//! sees the same request from both.

use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{WebhookSecret, sign};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};

/// Who is calling, as receivers see it.
const AGENT: &str = concat!("mobieus-webhooks/", env!("CARGO_PKG_VERSION"));

/// What one attempt's headers say and what signs them.
#[derive(Debug)]
pub struct AttemptHeaders<'a> {
    /// The event's id (`Mobieus-Event-Id`, `webhook-id`): the same on every attempt.
    pub event_id: &'a str,
    /// The event's type (`Mobieus-Event`).
    pub event_type: &'a HeaderValue,
    /// `Mobieus-Delivery-Id`.
    pub delivery_id: &'a str,
    /// `Mobieus-Attempt`, from 1.
    pub number: u32,
    pub current: &'a WebhookSecret,
    /// The previous secret during a rotation's grace window: a second signature.
    pub previous: Option<&'a WebhookSecret>,
}

impl AttemptHeaders<'_> {
    /// The headers, signatures made at `now` over `body`. The names are static and the
    /// event's values shared by its deliveries, so a request's headers cost few copies; a
    /// value that is not a valid header (never, from this engine's ids and types) fails
    /// the attempt with why.
    pub fn build(&self, body: &[u8], now: Timestamp) -> Result<HeaderMap, String> {
        let ts = now.millis().div_euclid(1000);
        let sig = sign(self.event_id, ts, body, self.current, self.previous);
        let value = |v: String| {
            HeaderValue::try_from(v).map_err(|_| "a request header value is not valid".to_owned())
        };
        let event_id = HeaderValue::from_str(self.event_id)
            .map_err(|_| "the event id is not a valid header value".to_owned())?;
        let mut h = HeaderMap::with_capacity(16);
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(USER_AGENT, HeaderValue::from_static(AGENT));
        h.insert(
            HeaderName::from_static("mobieus-signature"),
            value(sig.mobieus_signature)?,
        );
        h.insert(
            HeaderName::from_static("mobieus-event"),
            self.event_type.clone(),
        );
        h.insert(
            HeaderName::from_static("mobieus-event-id"),
            event_id.clone(),
        );
        h.insert(
            HeaderName::from_static("mobieus-delivery-id"),
            value(self.delivery_id.to_owned())?,
        );
        h.insert(
            HeaderName::from_static("mobieus-attempt"),
            HeaderValue::from(self.number),
        );
        h.insert(HeaderName::from_static("webhook-id"), event_id);
        h.insert(
            HeaderName::from_static("webhook-timestamp"),
            HeaderValue::from(ts),
        );
        h.insert(
            HeaderName::from_static("webhook-signature"),
            value(sig.webhook_signature)?,
        );
        Ok(h)
    }
}
