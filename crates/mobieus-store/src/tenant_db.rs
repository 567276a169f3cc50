//! Tenant-scoped handles: [`TenantDb`] for reads on one tenant's database and
//! [`TenantTx`] for one write transaction on it. The only way to a tenant's rows.

use crate::sqlite::{self, Tx};
use crate::{
    ApiKeyRecord, AuditEntry, ClaimedDelivery, EndpointRecord, EventFilter, IdempotencyClaim,
    ModerationRecord, NewApiKey, NewEndpoint, Page, PostFilter, RecordedAttempt, Result,
    SessionRecord, StoredAnswer, StoredEvent,
};
use crate::{DeliveryHealth, QueueStats, ThreadSummary, WorkSignal};
use mobieus_domain::api_key::{ApiKeyId, KeyHash};
use mobieus_domain::event::Event;
use mobieus_domain::event::EventType;
use mobieus_domain::forum::{Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId};
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
use std::path::Path;
use std::sync::Arc;

/// One tenant's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TenantDb {
    slug: TenantSlug,
    pool: sqlite::Pool,
    signal: Arc<WorkSignal>,
    /// The control database, for hints of due work.
    control: sqlite::Pool,
}

impl TenantDb {
    pub(crate) async fn open(
        slug: TenantSlug,
        path: &Path,
        signal: Arc<WorkSignal>,
        control: sqlite::Pool,
    ) -> Result<Self> {
        Ok(Self {
            slug,
            pool: sqlite::open_tenant(path).await?,
            signal,
            control,
        })
    }

    /// When the next pending delivery not in flight is due, if any.
    pub async fn next_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        self.pool.read(|c| sqlite::next_due(c, now))
    }

    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    /// Starts a write transaction. Nothing it writes is seen by anyone until `commit`.
    pub async fn begin(&self) -> Result<TenantTx> {
        Ok(TenantTx {
            slug: self.slug.clone(),
            tx: sqlite::begin_write(&self.pool).await?,
            signal: self.signal.clone(),
            control: self.control.clone(),
            enqueued: false,
            endpoints_changed: false,
        })
    }

    pub async fn events_page(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<StoredEvent>> {
        self.pool
            .read(|c| sqlite::events_page(c, filter, after, limit))
    }

    pub async fn event_by_id(&self, id: &str) -> Result<Option<StoredEvent>> {
        self.pool.read(|c| sqlite::event_by_id(c, id))
    }

    pub async fn users_page(&self, after: i64, limit: u32) -> Result<Page<User>> {
        self.pool.read(|c| sqlite::users_page(c, after, limit))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        self.pool.read(|c| sqlite::user_by_id(c, id))
    }

    pub async fn posts_page(
        &self,
        filter: PostFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<Post>> {
        self.pool
            .read(|c| sqlite::posts_page(c, filter, after, limit))
    }

    pub async fn post_by_id(&self, id: PostId) -> Result<Option<Post>> {
        self.pool.read(|c| sqlite::post_by_id(c, id))
    }

    /// Threads newest first, below thread id `before` (`i64::MAX` for the first page).
    pub async fn threads_page(&self, before: i64, limit: u32) -> Result<Page<ThreadSummary>> {
        self.pool.read(|c| sqlite::threads_page(c, before, limit))
    }

    pub async fn thread_by_id(&self, id: ThreadId) -> Result<Option<Thread>> {
        self.pool.read(|c| sqlite::thread_by_id(c, id))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.pool.read(sqlite::api_keys)
    }

    pub async fn api_key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>> {
        self.pool.read(|c| sqlite::api_key_by_hash(c, hash))
    }

    pub async fn endpoints_page(&self, after: i64, limit: u32) -> Result<Page<EndpointRecord>> {
        self.pool.read(|c| sqlite::endpoints_page(c, after, limit))
    }

    pub async fn endpoint_by_id(&self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        self.pool.read(|c| sqlite::endpoint_by_id(c, id))
    }

    /// The deliveries written for an event: (delivery, endpoint, status).
    pub async fn deliveries_of_event(
        &self,
        event_id: &str,
    ) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
        self.pool.read(|c| sqlite::deliveries_of_event(c, event_id))
    }

    /// Leases up to `batch` due deliveries until `lease_until`, oldest first, no endpoint
    /// more than its room (`room` for those listed, `default_room` for the others).
    pub async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        batch: u32,
        room: &[(EndpointId, u32)],
        default_room: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        sqlite::claim_due(&self.pool, now, lease_until, batch, room, default_room).await
    }

    /// Drops previous signing secrets whose grace window is over; returns how many went.
    pub async fn purge_expired_secrets(&self, now: Timestamp) -> Result<u64> {
        // The backend reads before it writes.
        sqlite::purge_expired_secrets(&self.pool, now).await
    }

    /// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
    /// `false` when the claim no longer held.
    pub async fn cancel_delivery(&self, claimed: &ClaimedDelivery, now: Timestamp) -> Result<bool> {
        self.pool.read(|c| sqlite::cancel_delivery(c, claimed, now))
    }

    /// The type of an event and its stored JSON: the exact body its deliveries send.
    pub async fn event_json(&self, event_id: &str) -> Result<Option<(String, String)>> {
        self.pool.read(|c| sqlite::event_json(c, event_id))
    }

    /// The type and stored JSON of each of these events, by id (one query for a batch).
    pub async fn event_jsons(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (String, String)>> {
        self.pool.read(|c| sqlite::event_jsons(c, ids))
    }

    /// An endpoint's deliveries, oldest first, optionally of one status.
    pub async fn deliveries_page(
        &self,
        endpoint: &EndpointId,
        status: Option<mobieus_domain::webhook::DeliveryStatus>,
        after: i64,
        limit: u32,
    ) -> Result<Page<mobieus_domain::webhook::Delivery>> {
        self.pool
            .read(|c| sqlite::deliveries_page(c, endpoint, status, after, limit, false))
    }

    /// An endpoint's deliveries newest first, before position `before` (`i64::MAX` for the
    /// newest), optionally of one status.
    pub async fn recent_deliveries(
        &self,
        endpoint: &EndpointId,
        status: Option<mobieus_domain::webhook::DeliveryStatus>,
        before: i64,
        limit: u32,
    ) -> Result<Page<mobieus_domain::webhook::Delivery>> {
        self.pool
            .read(|c| sqlite::deliveries_page(c, endpoint, status, before, limit, true))
    }

    /// One delivery of an endpoint.
    pub async fn delivery_by_id(
        &self,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<mobieus_domain::webhook::Delivery>> {
        self.pool.read(|c| sqlite::delivery_by_id(c, endpoint, id))
    }

    /// A delivery's attempts, in order.
    pub async fn attempts(&self, id: &DeliveryId) -> Result<Vec<mobieus_domain::webhook::Attempt>> {
        self.pool.read(|c| sqlite::attempts(c, id))
    }

    /// Claims an idempotency key for a request with this fingerprint (see
    /// [`IdempotencyClaim`]); keys live 24 hours.
    pub async fn claim_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
    ) -> Result<IdempotencyClaim> {
        const DAY_MS: i64 = 24 * 3600 * 1000;
        // A first request that has not finished in a minute died with its process.
        const STALE_MS: i64 = 60 * 1000;
        self.pool
            .write(|c| {
                sqlite::idempotency::claim(
                    c,
                    key_id,
                    key,
                    fingerprint,
                    now,
                    now.plus_millis(-DAY_MS),
                    now.plus_millis(-STALE_MS),
                )
            })
            .await
    }

    /// Keeps the first answer given for an idempotency key.
    pub async fn complete_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        token: i64,
        answer: &StoredAnswer,
    ) -> Result<()> {
        self.pool
            .write(|c| sqlite::idempotency::complete(c, key_id, key, token, answer))
            .await
    }

    /// Forgets an idempotency key whose request did not succeed.
    pub async fn release_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        token: i64,
    ) -> Result<()> {
        self.pool
            .write(|c| sqlite::idempotency::release(c, key_id, key, token))
            .await
    }

    /// The live session whose token has this hash, with its member.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>> {
        self.pool
            .read(|c| sqlite::session_by_token_hash(c, token_hash, now))
    }

    /// The current member with this username and their password hash, if any.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        self.pool.read(|c| sqlite::login_candidate(c, username))
    }

    /// Failed logins for a username (lower-cased) from a client since `since`, oldest first.
    pub async fn login_failures(
        &self,
        username: &str,
        client: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        self.pool
            .read(|c| sqlite::login_failures(c, username, client, since))
    }

    /// Webhook delivery since `since`: attempts by outcome and hour, the oldest pending
    /// delivery, disabled endpoints.
    pub async fn delivery_health(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<DeliveryHealth> {
        self.pool.read(|c| sqlite::delivery_health(c, since, now))
    }

    /// The delivery queue now: pending deliveries, the oldest one, disabled endpoints.
    pub async fn queue_stats(&self) -> Result<QueueStats> {
        self.pool.read(sqlite::queue_stats)
    }

    /// Deletes one batch of what is older than `cutoff`: finished deliveries with their
    /// attempts, and events none of whose deliveries is left. Call until it deletes nothing.
    pub async fn purge_before(&self, cutoff: Timestamp, batch: u32) -> Result<crate::Purged> {
        sqlite::purge_before(&self.pool, cutoff, batch).await
    }

    /// Ends the leases of these claims (a worker stopping before it sent them); a lease
    /// that changed meanwhile is left alone. How many were released.
    pub async fn release_leases(
        &self,
        claims: &[ClaimedDelivery],
        now: Timestamp,
    ) -> Result<usize> {
        self.pool
            .write(|c| sqlite::release_leases(c, claims, now))
            .await
    }

    /// Writes a consistent snapshot of this database to a new file (an online backup).
    pub fn snapshot_to(&self, file: &Path) -> Result<u64> {
        self.pool.read(|c| crate::backup::snapshot_db(c, file))
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        self.pool.read(sqlite::audit_log)
    }

    /// Records that a key was used at `at`, unless that was already recorded after `stale_before`.
    pub async fn touch_api_key(
        &self,
        id: &ApiKeyId,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> Result<()> {
        self.pool
            .write(|c| sqlite::touch_api_key(c, id, at, stale_before))
            .await
    }
}

/// One write transaction on one tenant's database. Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct TenantTx {
    slug: TenantSlug,
    tx: Tx,
    signal: Arc<WorkSignal>,
    control: sqlite::Pool,
    /// Whether this transaction made a delivery due; the worker is woken on commit.
    enqueued: bool,
    /// Whether it changed an endpoint; the worker's cached targets go stale on commit.
    endpoints_changed: bool,
}

impl TenantTx {
    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if self.endpoints_changed {
            self.signal.endpoints_changed();
        }
        if self.enqueued {
            self.signal.raise(&self.slug);
            if self.signal.hints_wanted()
                && let Err(e) = sqlite::hint_due(&self.control, &self.slug, Timestamp::now()).await
            {
                // Committed all the same: a worker's sweep finds the work a little later.
                tracing::warn!(tenant = %self.slug, error = %e, "cannot leave a hint of due work");
            }
        }
        Ok(())
    }

    pub async fn user_by_username(&mut self, username: &str) -> Result<Option<User>> {
        sqlite::user_by_username(self.tx.conn(), username)
    }

    pub async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>> {
        sqlite::user_by_id(self.tx.conn(), id)
    }

    pub async fn insert_user(
        &mut self,
        username: &str,
        email: Option<&str>,
        at: Timestamp,
    ) -> Result<UserId> {
        sqlite::insert_user(self.tx.conn(), username, email, at)
    }

    pub async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<()> {
        sqlite::set_password_hash(self.tx.conn(), id, hash)
    }

    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user: UserId,
        csrf_token: &str,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlite::purge_expired_sessions(self.tx.conn(), created_at)?;
        sqlite::insert_session(
            self.tx.conn(),
            token_hash,
            user,
            csrf_token,
            created_at,
            expires_at,
        )
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlite::delete_session(self.tx.conn(), token_hash)
    }

    pub async fn delete_user_sessions(&mut self, user: UserId) -> Result<()> {
        sqlite::delete_user_sessions(self.tx.conn(), user)
    }

    /// Counts a failed login and forgets those older than `forget_before`.
    pub async fn insert_login_failure(
        &mut self,
        username: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        sqlite::insert_login_failure(self.tx.conn(), username, client, at, forget_before)
    }

    pub async fn clear_login_failures(&mut self, username: &str, client: &str) -> Result<()> {
        sqlite::clear_login_failures(self.tx.conn(), username, client)
    }

    pub async fn set_user_left(&mut self, id: UserId, at: Timestamp) -> Result<()> {
        sqlite::set_user_left(self.tx.conn(), id, at)
    }

    pub async fn set_user_role(&mut self, id: UserId, role: Role) -> Result<()> {
        sqlite::set_user_role(self.tx.conn(), id, role)
    }

    pub async fn set_user_banned(&mut self, id: UserId, banned: bool) -> Result<()> {
        sqlite::set_user_banned(self.tx.conn(), id, banned)
    }

    pub async fn insert_thread(
        &mut self,
        title: &str,
        author: UserId,
        at: Timestamp,
    ) -> Result<ThreadId> {
        sqlite::insert_thread(self.tx.conn(), title, author, at)
    }

    pub async fn thread_by_id(&mut self, id: ThreadId) -> Result<Option<Thread>> {
        sqlite::thread_by_id(self.tx.conn(), id)
    }

    pub async fn set_thread_locked(&mut self, id: ThreadId, locked: bool) -> Result<()> {
        sqlite::set_thread_locked(self.tx.conn(), id, locked)
    }

    pub async fn insert_post(
        &mut self,
        thread: ThreadId,
        author: UserId,
        body: &str,
        opens_thread: bool,
        at: Timestamp,
    ) -> Result<PostId> {
        sqlite::insert_post(self.tx.conn(), thread, author, body, opens_thread, at)
    }

    pub async fn post_by_id(&mut self, id: PostId) -> Result<Option<Post>> {
        sqlite::post_by_id(self.tx.conn(), id)
    }

    /// The stored body of a post, whatever its status.
    pub async fn post_body(&mut self, id: PostId) -> Result<Option<String>> {
        sqlite::post_body(self.tx.conn(), id)
    }

    /// Replaces a post's body and keeps the old one in its edit history.
    pub async fn edit_post_body(
        &mut self,
        id: PostId,
        old_body: &str,
        new_body: &str,
        by: UserId,
        at: Timestamp,
    ) -> Result<()> {
        sqlite::insert_revision(self.tx.conn(), id, old_body, by, at)?;
        sqlite::set_post_body(self.tx.conn(), id, new_body, at)
    }

    pub async fn set_post_status(&mut self, id: PostId, status: PostStatus) -> Result<()> {
        sqlite::set_post_status(self.tx.conn(), id, status)
    }

    pub async fn insert_moderation(&mut self, record: &ModerationRecord<'_>) -> Result<()> {
        sqlite::insert_moderation(self.tx.conn(), record)
    }

    /// Appends a public event to the feed with its JSON as given; returns its position.
    pub async fn insert_event(&mut self, event: &Event, json: &str) -> Result<i64> {
        sqlite::insert_event(self.tx.conn(), event, json)
    }

    pub async fn insert_api_key(&mut self, key: &NewApiKey) -> Result<()> {
        sqlite::insert_api_key(self.tx.conn(), key)
    }

    pub async fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>> {
        sqlite::api_keys(self.tx.conn())
    }

    /// Revokes a key; `false` when there is no such unrevoked key.
    pub async fn revoke_api_key(&mut self, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
        sqlite::revoke_api_key(self.tx.conn(), id, at)
    }

    pub async fn insert_endpoint(&mut self, new: &NewEndpoint) -> Result<()> {
        self.endpoints_changed = true;
        sqlite::insert_endpoint(self.tx.conn(), new)
    }

    pub async fn endpoint_by_id(&mut self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        sqlite::endpoint_by_id(self.tx.conn(), id)
    }

    /// Deletes an endpoint and its deliveries; `false` when there is none.
    pub async fn delete_endpoint(&mut self, id: &EndpointId) -> Result<bool> {
        self.endpoints_changed = true;
        sqlite::delete_endpoint(self.tx.conn(), id)
    }

    /// Replaces an endpoint's sealed secret, keeping the previous one until `previous_expires_at`.
    pub async fn rotate_secret(
        &mut self,
        id: &EndpointId,
        sealed_new: &[u8],
        sealed_previous: &[u8],
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<()> {
        self.endpoints_changed = true;
        sqlite::rotate_secret(
            self.tx.conn(),
            id,
            sealed_new,
            sealed_previous,
            previous_expires_at,
            at,
        )
    }

    /// The active endpoints subscribed to events of type `t`.
    pub async fn subscribed_endpoints(&mut self, t: EventType) -> Result<Vec<EndpointId>> {
        sqlite::subscribed_endpoints(self.tx.conn(), t)
    }

    /// Pending deliveries of `event_id` to each of `endpoints`, due at `at`.
    pub async fn insert_deliveries(
        &mut self,
        event_id: &str,
        endpoints: &[EndpointId],
        at: Timestamp,
    ) -> Result<Vec<DeliveryId>> {
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        self.enqueued = true;
        sqlite::insert_deliveries(self.tx.conn(), event_id, endpoints, at)
    }

    /// A pending delivery of `event_id` to `endpoint`, due at `at`.
    pub async fn insert_delivery(
        &mut self,
        event_id: &str,
        endpoint: &EndpointId,
        at: Timestamp,
    ) -> Result<DeliveryId> {
        let ids = self
            .insert_deliveries(event_id, std::slice::from_ref(endpoint), at)
            .await?;
        ids.into_iter()
            .next()
            .ok_or(crate::StoreError::Conflict { what: "delivery" })
    }

    /// The events whose latest delivery to `endpoint` failed or was cancelled, created in
    /// [since, until).
    pub async fn events_to_recover(
        &mut self,
        endpoint: &EndpointId,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<String>> {
        sqlite::events_to_recover(self.tx.conn(), endpoint, since, until, limit)
    }

    pub async fn insert_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        sqlite::insert_audit(self.tx.conn(), entry)
    }

    /// Records attempts with their deliveries' next states where the claim still holds
    /// (its lease did not run out and pass to another worker); whether each was recorded.
    pub async fn record_attempts(
        &mut self,
        items: &[RecordedAttempt<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>> {
        sqlite::record_attempts(self.tx.conn(), items, now)
    }

    /// The consecutive failure counts of these endpoints, by id.
    pub async fn endpoint_failure_counts(
        &mut self,
        ids: &[&EndpointId],
    ) -> Result<std::collections::HashMap<String, u32>> {
        sqlite::endpoint_failure_counts(self.tx.conn(), ids)
    }

    /// Counts a batch's results against an endpoint (see the backend); returns the
    /// consecutive failures after it.
    pub async fn count_endpoint_results(
        &mut self,
        id: &EndpointId,
        reset: bool,
        failures: u32,
    ) -> Result<u32> {
        sqlite::count_endpoint_results(self.tx.conn(), id, reset, failures)
    }

    /// Disables an active endpoint; `false` when it was already inactive.
    pub async fn disable_endpoint(
        &mut self,
        id: &EndpointId,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.endpoints_changed = true;
        sqlite::disable_endpoint(self.tx.conn(), id, reason, now)
    }

    /// Saves an endpoint's url, label, events, active state and failure count.
    pub async fn save_endpoint(
        &mut self,
        endpoint: &mobieus_domain::webhook::Endpoint,
    ) -> Result<()> {
        self.endpoints_changed = true;
        sqlite::save_endpoint(self.tx.conn(), endpoint)
    }
}
