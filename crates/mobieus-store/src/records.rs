//! What the store hands back and takes in, beyond the domain's own entities.

use mobieus_domain::api_key::{ApiKeyId, KeyHash, KeyMode, RateLimit};
use mobieus_domain::event::EventType;
use mobieus_domain::forum::{PostId, ThreadId, UserId};
use mobieus_domain::scope::Scopes;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;

/// A tenant as the control database lists it.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub slug: TenantSlug,
    pub hosts: Vec<HostName>,
    pub created_at: Timestamp,
}

/// How webhook delivery went lately, for the admin dashboard.
#[derive(Clone, Debug, Default)]
pub struct DeliveryHealth {
    /// Attempts answered 2xx since the window's start.
    pub succeeded: u64,
    /// Attempts that failed (an error status, or no answer).
    pub failed: u64,
    /// (succeeded, failed) per hour of the window, oldest hour first.
    pub hourly: Vec<(u64, u64)>,
    /// Only the latest attempts were counted (a very busy window).
    pub capped: bool,
    /// When the oldest delivery still pending was made.
    pub oldest_pending: Option<Timestamp>,
    pub pending: u64,
    pub disabled_endpoints: u64,
}

/// One tenant's delivery queue now.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
    pub pending: u64,
    /// When the oldest pending delivery was made.
    pub oldest_pending: Option<Timestamp>,
    pub disabled_endpoints: u64,
}

/// The delivery queue across every tenant: what the queue's gauges of `/metrics` show.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueFigures {
    pub pending: u64,
    /// Age of the oldest pending delivery, in seconds (0 when none).
    pub oldest_pending_secs: f64,
    pub endpoints_disabled: u64,
}

/// A thread as the forum's list shows it.
#[derive(Clone, Debug)]
pub struct ThreadSummary {
    pub thread: mobieus_domain::forum::Thread,
    /// Posts still shown (not deleted or removed), the opening one included.
    pub visible_posts: u32,
    pub last_post_at: Timestamp,
}

/// A live browser session and its member.
#[derive(Clone)]
pub struct SessionRecord {
    pub user: mobieus_domain::forum::User,
    /// The session's CSRF token, which every form of the session carries.
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user", &self.user.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A public event as stored: its JSON exactly as it is served and sent.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    /// Its place in the feed; only grows.
    pub position: i64,
    pub id: String,
    pub event_type: String,
    pub created_at: Timestamp,
    pub json: String,
}

/// Which events a feed page holds.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Any of these types; all when empty.
    pub types: Vec<EventType>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
}

/// Which posts a page holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostFilter {
    pub thread: Option<ThreadId>,
    pub author: Option<UserId>,
}

/// One page of a list, in position order.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The position of the last item, when more items follow it.
    pub next_after: Option<i64>,
}

/// A key to store: the hash, never the plaintext.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub hash: KeyHash,
    pub mode: KeyMode,
    pub scopes: Scopes,
    pub rate_limit: RateLimit,
    pub created_at: Timestamp,
}

/// A stored API key.
#[derive(Clone, Debug)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub hash: KeyHash,
    pub mode: KeyMode,
    pub scopes: Scopes,
    pub rate_limit: RateLimit,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl From<NewApiKey> for ApiKeyRecord {
    /// The record of a key just stored: never used, not revoked.
    fn from(k: NewApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            hash: k.hash,
            mode: k.mode,
            scopes: k.scopes,
            rate_limit: k.rate_limit,
            created_at: k.created_at,
            last_used_at: None,
            revoked_at: None,
        }
    }
}

/// A moderation action, kept for the record beside its public event.
#[derive(Clone, Debug)]
pub struct ModerationRecord<'a> {
    pub action: &'static str,
    pub moderator: UserId,
    pub target_user: Option<UserId>,
    pub target_post: Option<PostId>,
    pub target_thread: Option<ThreadId>,
    pub reason: Option<&'a str>,
    pub at: Timestamp,
}

/// A webhook endpoint to store; its secret arrives sealed.
#[derive(Clone, Debug)]
pub struct NewEndpoint {
    pub id: mobieus_domain::webhook::EndpointId,
    pub url: mobieus_domain::webhook::WebhookUrl,
    pub label: Option<String>,
    pub events: mobieus_domain::webhook::EventSelection,
    pub sealed_secret: Vec<u8>,
    pub at: Timestamp,
}

/// A stored endpoint with its sealed secrets (opened only by the use case that needs them).
#[derive(Clone, Debug)]
pub struct EndpointRecord {
    pub endpoint: mobieus_domain::webhook::Endpoint,
    pub sealed_secret: Vec<u8>,
    pub sealed_previous_secret: Option<Vec<u8>>,
}

/// The actions the audit log records.
pub const AUDIT_ACTIONS: [&str; 8] = [
    "api_key.created",
    "api_key.revoked",
    "endpoint.created",
    "endpoint.updated",
    "endpoint.deleted",
    "endpoint.secret_rotated",
    "endpoint.disabled",
    "endpoint.recovered",
];

pub(crate) fn audit_action(s: &str) -> Option<&'static str> {
    AUDIT_ACTIONS.iter().copied().find(|a| *a == s)
}

/// One audit entry: who did what to which object, and what changed (never a secret).
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// `cli`, `api_key:key_…`, or `worker`.
    pub actor: String,
    /// One of [`AUDIT_ACTIONS`].
    pub action: &'static str,
    /// The id of the object acted on.
    pub target: String,
    pub details: serde_json::Value,
}

/// What a worker claims: up to `batch` deliveries due at `now`, oldest due first, leased
/// until `lease_until`, no endpoint given more deliveries than it has slots free (a slot
/// is one attempt in flight): `free_slots` for the endpoints listed, `slots_per_endpoint`
/// for the others.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub batch: u32,
    /// Slots free per endpoint with attempts in flight.
    pub free_slots: &'a [(mobieus_domain::webhook::EndpointId, u32)],
    /// Slots free for an endpoint not listed (none of its attempts in flight).
    pub slots_per_endpoint: u32,
}

impl Claim<'static> {
    /// Up to `batch` deliveries due at `now`, leased until `lease_until`, with no limit
    /// per endpoint.
    pub fn new(now: Timestamp, lease_until: Timestamp, batch: u32) -> Self {
        Self {
            now,
            lease_until,
            batch,
            free_slots: &[],
            slots_per_endpoint: u32::MAX,
        }
    }
}

impl<'a> Claim<'a> {
    /// The same claim limited per endpoint: `free_slots` for those listed,
    /// `slots_per_endpoint` for the others.
    pub fn with_slots(
        self,
        free_slots: &'a [(mobieus_domain::webhook::EndpointId, u32)],
        slots_per_endpoint: u32,
    ) -> Claim<'a> {
        Claim {
            free_slots,
            slots_per_endpoint,
            ..self
        }
    }
}

/// A delivery a worker leased: what to send where, and how many attempts it had.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub id: mobieus_domain::webhook::DeliveryId,
    pub event_id: String,
    pub endpoint_id: mobieus_domain::webhook::EndpointId,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The lease this claim holds; recording checks it is still this worker's.
    pub lease_until: Timestamp,
    /// The delivery's place in its tenant's queue (SQLite's rowid): recording finds the
    /// row by it without a look-up in the index of ids.
    pub position: i64,
}

/// One attempt as it went over the wire.
#[derive(Clone, Debug)]
pub struct NewAttempt {
    pub delivery: mobieus_domain::webhook::DeliveryId,
    /// 1 for the first attempt.
    pub number: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    /// The exact request headers sent, signatures included.
    pub request_headers: mobieus_domain::webhook::SentHeaders,
    pub response_status: Option<u16>,
    /// The start of the response body, capped.
    pub response_excerpt: Option<String>,
    /// What failed, for network failures.
    pub error: Option<String>,
}

/// Where a delivery stands after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    Succeeded,
    Retry { at: Timestamp },
    Failed,
    Cancelled,
}

/// An answer kept for an idempotency key; the body sealed with the master key.
#[derive(Clone, Debug)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: String,
    pub sealed_body: Vec<u8>,
}

/// What an idempotency key allows a request to do.
#[derive(Clone, Debug)]
pub enum IdempotencyClaim {
    /// The first request with this key: run it; `token` proves it when completing.
    Started { token: i64 },
    /// A repeat: give this answer again.
    Replay(StoredAnswer),
    /// The first request with this key is still running.
    InUse,
    /// The key was used for a different request.
    Mismatch,
}

/// An attempt to record with the state its delivery takes after it.
#[derive(Clone, Copy, Debug)]
pub struct RecordedAttempt<'a> {
    pub claimed: &'a ClaimedDelivery,
    pub attempt: &'a NewAttempt,
    pub state: DeliveryState,
}
