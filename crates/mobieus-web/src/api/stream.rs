//! `GET /api/v1/events/stream`: the feed, live, as server-sent events. The backlog after
//! the client's cursor comes first, then each event as it commits, in feed order, read
//! from the store at the client's pace (see `mobieus_core::live`).

use super::events::{position_of, types};
use crate::AppState;
use crate::auth::ApiPrincipal;
use crate::openapi::EventStreamParams;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use mobieus_core::live::LiveReader;
use mobieus_domain::api_key::ApiKeyId;
use mobieus_domain::scope::Scope;
use mobieus_store::{StoredEvent, TenantDb};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The most live streams one key may hold open on one server.
pub(crate) const STREAMS_PER_KEY: usize = 10;
/// A comment line at least this often while no event is sent, so proxies and clients
/// see the connection alive.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a client waits before it reconnects (the `retry:` hint).
const RECONNECT: Duration = Duration::from_secs(2);
/// How often a stream checks that its key still holds: a revoked key's streams end
/// within this.
const KEY_CHECK: Duration = Duration::from_secs(3);

/// Stream the feed live (Server-Sent Events).
///
/// Each message is one event of the feed: `id:` its id, `event:` its type, `data:` the
/// same JSON as `GET /api/v1/events` returns for it. The events after the cursor come
/// first, then each new event as it commits, in feed order, never twice and with none
/// missed. Without a cursor the stream starts at the newest event (only events committed
/// from now on); `from=start` replays the whole feed. To resume after a disconnect, send
/// the id of the last event you processed as `Last-Event-ID` (browsers' `EventSource`
/// does this by itself) or as `after`. A comment line (`:`) comes at least every 15
/// seconds when there is nothing to send. A key may hold 10 streams open at once on each
/// server; a stream ends when its key is revoked and when the server shuts down (the
/// client then reconnects, elsewhere if need be, and resumes).
#[utoipa::path(
    get,
    path = "/api/v1/events/stream",
    operation_id = "stream_events",
    tag = "Events",
    params(
        EventStreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, `evt_…` (`EventSource` sends it when it reconnects)"),
    ),
    security(("api_key" = ["events:read"])),
    responses(
        (status = 200, description = "The stream: one message per event, oldest first", body = String, content_type = "text/event-stream",
            example = json!("retry: 2000\n\nid: evt_2Bw1Zk3n4Q8rT5vX7yA9cD\nevent: user.joined\ndata: {\"id\":\"evt_2Bw1Zk3n4Q8rT5vX7yA9cD\",\"type\":\"user.joined\",…}\n\n")),
        (status = 400, description = "A malformed parameter, or a cursor that names no event of this feed (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded (see `Retry-After`), or the key's 10 streams are open already (`too_many_streams`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    principal.require(Scope::EventsRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let types = types(q.all("type"))?;
    let (after, from) = (q.one("after")?, q.one("from")?);
    q.finish()?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::invalid("Last-Event-ID", "must be an event id, `evt_…`"))?
                .trim()
                .to_owned(),
        ),
    };
    let from_start = match from.as_deref() {
        None => false,
        Some("start") => true,
        Some(_) => return Err(ApiError::invalid("from", "the only value is `start`")),
    };
    if after.is_some() && from_start {
        return Err(ApiError::invalid(
            "from",
            "give either `after` or `from`, not both",
        ));
    }
    // A reconnecting `EventSource` sends the URL it first used, and the newer cursor in
    // the header: the header wins.
    let cursor = match (last_event_id, after) {
        (Some(id), _) => position_of(&db, "Last-Event-ID", &id).await?,
        (None, Some(id)) => position_of(&db, "after", &id).await?,
        (None, None) if from_start => 0,
        (None, None) => db.feed_head().await?,
    };
    let slot = state.streams.claim(&principal.key_id)?;
    let live = Live {
        reader: state.live.open(&db, cursor, types),
        db,
        principal,
        key_checked: Instant::now(),
        sent: Instant::now(),
        closing: state.streams.closing.subscribe(),
        greeted: false,
        _slot: slot,
    };
    let body = Body::from_stream(stream::unfold(live, Live::step));
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    // Proxies that buffer answers (nginx) would hold the events back.
    Ok((headers, [("x-accel-buffering", "no")], body).into_response())
}

/// One open stream.
struct Live {
    reader: LiveReader,
    db: TenantDb,
    principal: ApiPrincipal,
    key_checked: Instant,
    /// When the stream last sent anything: a heartbeat follows `HEARTBEAT` of silence.
    sent: Instant,
    closing: watch::Receiver<bool>,
    greeted: bool,
    _slot: Slot,
}

impl Live {
    /// The next bytes to send, when the client is ready for them: every event ready
    /// (up to a page) in one piece, or a heartbeat; `None` ends the stream.
    async fn step(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if !self.greeted {
            self.greeted = true;
            let hello = format!("retry: {}\n\n", RECONNECT.as_millis());
            return Some((Ok(Bytes::from(hello)), self));
        }
        loop {
            if *self.closing.borrow() {
                return None;
            }
            if self.key_checked.elapsed() >= KEY_CHECK {
                // Boxed, as the read below: a stream waits with only the small state of
                // its select, not the largest query's.
                match Box::pin(self.principal.still_valid(&self.db)).await {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot check a stream's key; checking again")
                    }
                }
                self.key_checked = Instant::now();
            }
            match Box::pin(self.reader.next()).await {
                Ok(events) if !events.is_empty() => {
                    let mut out =
                        Vec::with_capacity(events.iter().map(|e| e.json.len() + 80).sum());
                    for e in &events {
                        message(e, &mut out);
                    }
                    self.sent = Instant::now();
                    return Some((Ok(Bytes::from(out)), self));
                }
                Ok(_) => {}
                Err(e) => {
                    // The client reconnects with its last event id and resumes.
                    tracing::warn!(tenant = %self.db.slug(), error = %e, "a live stream cannot read the feed; ending it");
                    return None;
                }
            }
            let heartbeat_at = self.sent + HEARTBEAT;
            if Instant::now() >= heartbeat_at {
                self.sent = Instant::now();
                return Some((Ok(Bytes::from_static(b":\n\n")), self));
            }
            let wake_at = heartbeat_at.min(self.key_checked + KEY_CHECK);
            tokio::select! {
                () = self.reader.changed() => {}
                _ = self.closing.changed() => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }
}

/// Appends one event as a server-sent event: its id, its type, and its JSON as data (one
/// `data:` line per line of it; the feed's JSON has none but its own).
fn message(e: &StoredEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(e.id.as_bytes());
    out.extend_from_slice(b"\nevent: ");
    out.extend_from_slice(e.event_type.as_bytes());
    out.push(b'\n');
    for line in e.json.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// The open streams of this server: how many each key holds, and the signal that ends
/// them all at shutdown.
#[derive(Debug)]
pub(crate) struct Streams {
    open: Arc<Mutex<HashMap<ApiKeyId, usize>>>,
    closing: watch::Sender<bool>,
}

impl Default for Streams {
    fn default() -> Self {
        Self {
            open: Arc::default(),
            closing: watch::channel(false).0,
        }
    }
}

impl Streams {
    fn claim(&self, key: &ApiKeyId) -> Result<Slot, ApiError> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key.clone()).or_default();
        if *n >= STREAMS_PER_KEY {
            return Err(ApiError::TooManyStreams);
        }
        *n += 1;
        Ok(Slot {
            open: self.open.clone(),
            key: key.clone(),
        })
    }

    /// Ends every stream (the server is shutting down).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// A key's hold on one of its streams, given back when the stream ends.
struct Slot {
    open: Arc<Mutex<HashMap<ApiKeyId, usize>>>,
    key: ApiKeyId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}
