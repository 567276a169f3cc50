//! Tenant-scoped handles: [`TenantDb`] for reads on one tenant's database and
//! [`TenantTx`] for one write transaction on it. The only way to a tenant's rows.
//!
//! Each method runs the same-named query of the tenant's backend: on SQLite, on the
//! tenant's own file; on Postgres, in a transaction pinned to the tenant's schema.

use crate::postgres::{self, PgTenant, PgTx};
use crate::sqlite::{self, Tx};
use crate::{
    ApiKeyRecord, AuditEntry, Claim, ClaimedDelivery, EndpointRecord, EventFilter,
    IdempotencyClaim, ModerationRecord, NewApiKey, NewEndpoint, Page, PostFilter, RecordedAttempt,
    Result, SessionRecord, StoredAnswer, StoredEvent,
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

/// A read: on SQLite, on a read connection; on Postgres, in its own transaction, which
/// is dropped rather than committed: it wrote nothing, and its `ROLLBACK` goes out with
/// the pool's check of the connection on release, off the caller's path, instead of a
/// `COMMIT` round trip on it.
macro_rules! read {
    ($db:expr, $($f:ident)::+($($arg:expr),* $(,)?)) => {
        match &$db.conn {
            TenantConn::Sqlite { pool, .. } => pool.read(|c| sqlite::$($f)::+(c $(, $arg)*)),
            TenantConn::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                postgres::$($f)::+(&mut tx $(, $arg)*).await
            }
        }
    };
}

/// A write of one statement: on SQLite, on the write connection; on Postgres, in its
/// own transaction.
macro_rules! write {
    ($db:expr, $($f:ident)::+($($arg:expr),* $(,)?)) => {
        match &$db.conn {
            TenantConn::Sqlite { pool, .. } => {
                pool.write(|c| sqlite::$($f)::+(c $(, $arg)*)).await
            }
            TenantConn::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                let out = postgres::$($f)::+(&mut tx $(, $arg)*).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    };
}

/// A statement in the open transaction.
macro_rules! in_tx {
    ($tx:expr, $($f:ident)::+($($arg:expr),* $(,)?)) => {
        match &mut $tx.tx {
            TxConn::Sqlite(tx) => sqlite::$($f)::+(tx.conn() $(, $arg)*),
            TxConn::Postgres(tx) => postgres::$($f)::+(&mut *tx $(, $arg)*).await,
        }
    };
}

/// Where a tenant's rows live.
#[derive(Clone, Debug)]
enum TenantConn {
    /// Its own file; `control` is the control database, for hints of due work.
    Sqlite {
        pool: sqlite::Pool,
        control: sqlite::Pool,
    },
    /// Its own schema.
    Postgres(PgTenant),
}

/// One tenant's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TenantDb {
    slug: TenantSlug,
    conn: TenantConn,
    signal: Arc<WorkSignal>,
}

impl TenantDb {
    pub(crate) async fn open_sqlite(
        slug: TenantSlug,
        path: &Path,
        signal: Arc<WorkSignal>,
        control: sqlite::Pool,
    ) -> Result<Self> {
        Ok(Self {
            slug,
            conn: TenantConn::Sqlite {
                pool: sqlite::open_tenant(path).await?,
                control,
            },
            signal,
        })
    }

    pub(crate) async fn open_postgres(
        slug: TenantSlug,
        pg: &postgres::Pg,
        signal: Arc<WorkSignal>,
    ) -> Result<Self> {
        Ok(Self {
            conn: TenantConn::Postgres(postgres::open_tenant(pg, &slug).await?),
            slug,
            signal,
        })
    }

    /// When the next pending delivery not in flight is due, if any.
    pub async fn next_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        read!(self, next_due(now))
    }

    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    /// Starts a write transaction. Nothing it writes is seen by anyone until `commit`.
    pub async fn begin(&self) -> Result<TenantTx> {
        let (tx, control) = match &self.conn {
            TenantConn::Sqlite { pool, control } => (
                TxConn::Sqlite(sqlite::begin_write(pool).await?),
                Some(control.clone()),
            ),
            TenantConn::Postgres(pg) => (TxConn::Postgres(pg.begin().await?), None),
        };
        Ok(TenantTx {
            slug: self.slug.clone(),
            tx,
            signal: self.signal.clone(),
            control,
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
        read!(self, events_page(filter, after, limit))
    }

    pub async fn event_by_id(&self, id: &str) -> Result<Option<StoredEvent>> {
        read!(self, event_by_id(id))
    }

    pub async fn users_page(&self, after: i64, limit: u32) -> Result<Page<User>> {
        read!(self, users_page(after, limit))
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        read!(self, user_by_id(id))
    }

    pub async fn posts_page(
        &self,
        filter: PostFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<Post>> {
        read!(self, posts_page(filter, after, limit))
    }

    pub async fn post_by_id(&self, id: PostId) -> Result<Option<Post>> {
        read!(self, post_by_id(id))
    }

    /// Threads newest first, below thread id `before` (`i64::MAX` for the first page).
    pub async fn threads_page(&self, before: i64, limit: u32) -> Result<Page<ThreadSummary>> {
        read!(self, threads_page(before, limit))
    }

    pub async fn thread_by_id(&self, id: ThreadId) -> Result<Option<Thread>> {
        read!(self, thread_by_id(id))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        read!(self, api_keys())
    }

    pub async fn api_key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>> {
        read!(self, api_key_by_hash(hash))
    }

    pub async fn endpoints_page(&self, after: i64, limit: u32) -> Result<Page<EndpointRecord>> {
        read!(self, endpoints_page(after, limit))
    }

    pub async fn endpoint_by_id(&self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        read!(self, endpoint_by_id(id))
    }

    /// The deliveries written for an event: (delivery, endpoint, status).
    pub async fn deliveries_of_event(
        &self,
        event_id: &str,
    ) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
        read!(self, deliveries_of_event(event_id))
    }

    /// Leases the due deliveries `claim` asks for (see [`Claim`]).
    pub async fn claim_due(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        match &self.conn {
            TenantConn::Sqlite { pool, .. } => sqlite::claim_due(pool, claim).await,
            TenantConn::Postgres(pg) => {
                let mut tx = pg.begin_unflushed().await?;
                let claimed = postgres::claim_due(&mut tx, &self.slug, claim).await?;
                tx.commit().await?;
                Ok(claimed)
            }
        }
    }

    /// Drops previous signing secrets whose grace window is over; returns how many went.
    pub async fn purge_expired_secrets(&self, now: Timestamp) -> Result<u64> {
        // The backend reads before it writes.
        match &self.conn {
            TenantConn::Sqlite { pool, .. } => sqlite::purge_expired_secrets(pool, now).await,
            TenantConn::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                let n = postgres::purge_expired_secrets(&mut tx, now).await?;
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
    /// `false` when the claim no longer held.
    pub async fn cancel_delivery(&self, claimed: &ClaimedDelivery, now: Timestamp) -> Result<bool> {
        match &self.conn {
            // An autocommit write on a read connection: no wait for the write lock.
            TenantConn::Sqlite { pool, .. } => {
                pool.read(|c| sqlite::cancel_delivery(c, claimed, now))
            }
            TenantConn::Postgres(_) => write!(self, cancel_delivery(claimed, now)),
        }
    }

    /// The type of an event and its stored JSON: the exact body its deliveries send.
    pub async fn event_json(&self, event_id: &str) -> Result<Option<(String, String)>> {
        read!(self, event_json(event_id))
    }

    /// The type and stored JSON of each of these events, by id (one query for a batch).
    pub async fn event_jsons(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (String, String)>> {
        read!(self, event_jsons(ids))
    }

    /// An endpoint's deliveries, oldest first, optionally of one status.
    pub async fn deliveries_page(
        &self,
        endpoint: &EndpointId,
        status: Option<mobieus_domain::webhook::DeliveryStatus>,
        after: i64,
        limit: u32,
    ) -> Result<Page<mobieus_domain::webhook::Delivery>> {
        read!(self, deliveries_page(endpoint, status, after, limit, false))
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
        read!(self, deliveries_page(endpoint, status, before, limit, true))
    }

    /// One delivery of an endpoint.
    pub async fn delivery_by_id(
        &self,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<mobieus_domain::webhook::Delivery>> {
        read!(self, delivery_by_id(endpoint, id))
    }

    /// A delivery's attempts, in order.
    pub async fn attempts(&self, id: &DeliveryId) -> Result<Vec<mobieus_domain::webhook::Attempt>> {
        read!(self, attempts(id))
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
        write!(
            self,
            idempotency::claim(
                key_id,
                key,
                fingerprint,
                now,
                now.plus_millis(-DAY_MS),
                now.plus_millis(-STALE_MS),
            )
        )
    }

    /// Keeps the first answer given for an idempotency key.
    pub async fn complete_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        token: i64,
        answer: &StoredAnswer,
    ) -> Result<()> {
        write!(self, idempotency::complete(key_id, key, token, answer))
    }

    /// Forgets an idempotency key whose request did not succeed.
    pub async fn release_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        token: i64,
    ) -> Result<()> {
        write!(self, idempotency::release(key_id, key, token))
    }

    /// The live session whose token has this hash, with its member.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>> {
        read!(self, session_by_token_hash(token_hash, now))
    }

    /// The current member with this username and their password hash, if any.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        read!(self, login_candidate(username))
    }

    /// Failed logins for a username (lower-cased) from a client since `since`, oldest first.
    pub async fn login_failures(
        &self,
        username: &str,
        client: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        read!(self, login_failures(username, client, since))
    }

    /// Webhook delivery since `since`: attempts by outcome and hour, the oldest pending
    /// delivery, disabled endpoints.
    pub async fn delivery_health(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<DeliveryHealth> {
        read!(self, delivery_health(since, now))
    }

    /// The delivery queue now: pending deliveries, the oldest one, disabled endpoints.
    pub async fn queue_stats(&self) -> Result<QueueStats> {
        read!(self, queue_stats())
    }

    /// Deletes one batch of what is older than `cutoff`: finished deliveries with their
    /// attempts, and events none of whose deliveries is left. Call until it deletes nothing.
    pub async fn purge_before(&self, cutoff: Timestamp, batch: u32) -> Result<crate::Purged> {
        match &self.conn {
            TenantConn::Sqlite { pool, .. } => sqlite::purge_before(pool, cutoff, batch).await,
            TenantConn::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                let purged = postgres::purge_before(&mut tx, cutoff, batch).await?;
                tx.commit().await?;
                Ok(purged)
            }
        }
    }

    /// Ends the leases of these claims (a worker stopping before it sent them); a lease
    /// that changed meanwhile is left alone. How many were released.
    pub async fn release_leases(
        &self,
        claims: &[ClaimedDelivery],
        now: Timestamp,
    ) -> Result<usize> {
        write!(self, release_leases(claims, now))
    }

    /// Writes a consistent snapshot of this database to a new file (an online backup);
    /// SQLite only (a Postgres database is backed up with Postgres's own tools).
    pub fn snapshot_to(&self, file: &Path) -> Result<u64> {
        match &self.conn {
            TenantConn::Sqlite { pool, .. } => pool.read(|c| crate::backup::snapshot_db(c, file)),
            TenantConn::Postgres(_) => Err(crate::StoreError::Unsupported(
                "a file snapshot of a Postgres schema (use pg_dump)",
            )),
        }
    }

    /// Up to `limit` rows of `table` after key `after` (`None`: from the first), in key
    /// order, for an export.
    pub async fn export_page(
        &self,
        table: &crate::transfer::Table,
        after: Option<&crate::transfer::Cell>,
        limit: u32,
    ) -> Result<Vec<Vec<crate::transfer::Cell>>> {
        read!(self, transfer::export_page(table, after, limit))
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        read!(self, audit_log())
    }

    /// Records that a key was used at `at`, unless that was already recorded after `stale_before`.
    pub async fn touch_api_key(
        &self,
        id: &ApiKeyId,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> Result<()> {
        write!(self, touch_api_key(id, at, stale_before))
    }
}

/// The open transaction of a [`TenantTx`].
#[derive(Debug)]
enum TxConn {
    Sqlite(Tx),
    Postgres(PgTx),
}

/// One write transaction on one tenant's database. Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct TenantTx {
    slug: TenantSlug,
    tx: TxConn,
    signal: Arc<WorkSignal>,
    /// SQLite's control database, for hints of due work left after the commit.
    control: Option<sqlite::Pool>,
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
        match self.tx {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(mut tx) => {
                if self.enqueued {
                    // In the transaction: no commit can leave its work unknown to the
                    // workers of other nodes, and those listening are woken at once.
                    postgres::enqueued(&mut tx, &self.slug, Timestamp::now()).await?;
                }
                tx.commit().await?;
            }
        }
        if self.endpoints_changed {
            self.signal.endpoints_changed();
        }
        if self.enqueued {
            self.signal.raise(&self.slug);
            if let Some(control) = &self.control
                && self.signal.hints_wanted()
                && let Err(e) = sqlite::hint_due(control, &self.slug, Timestamp::now()).await
            {
                // Committed all the same: a worker's sweep finds the work a little later.
                tracing::warn!(tenant = %self.slug, error = %e, "cannot leave a hint of due work");
            }
        }
        Ok(())
    }

    pub async fn user_by_username(&mut self, username: &str) -> Result<Option<User>> {
        in_tx!(self, user_by_username(username))
    }

    pub async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>> {
        in_tx!(self, user_by_id(id))
    }

    pub async fn insert_user(
        &mut self,
        username: &str,
        email: Option<&str>,
        at: Timestamp,
    ) -> Result<UserId> {
        in_tx!(self, insert_user(username, email, at))
    }

    pub async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<()> {
        in_tx!(self, set_password_hash(id, hash))
    }

    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user: UserId,
        csrf_token: &str,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        in_tx!(self, purge_expired_sessions(created_at))?;
        in_tx!(
            self,
            insert_session(token_hash, user, csrf_token, created_at, expires_at,)
        )
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        in_tx!(self, delete_session(token_hash))
    }

    pub async fn delete_user_sessions(&mut self, user: UserId) -> Result<()> {
        in_tx!(self, delete_user_sessions(user))
    }

    /// Counts a failed login and forgets those older than `forget_before`.
    pub async fn insert_login_failure(
        &mut self,
        username: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        in_tx!(
            self,
            insert_login_failure(username, client, at, forget_before)
        )
    }

    pub async fn clear_login_failures(&mut self, username: &str, client: &str) -> Result<()> {
        in_tx!(self, clear_login_failures(username, client))
    }

    pub async fn set_user_left(&mut self, id: UserId, at: Timestamp) -> Result<()> {
        in_tx!(self, set_user_left(id, at))
    }

    pub async fn set_user_role(&mut self, id: UserId, role: Role) -> Result<()> {
        in_tx!(self, set_user_role(id, role))
    }

    pub async fn set_user_banned(&mut self, id: UserId, banned: bool) -> Result<()> {
        in_tx!(self, set_user_banned(id, banned))
    }

    pub async fn insert_thread(
        &mut self,
        title: &str,
        author: UserId,
        at: Timestamp,
    ) -> Result<ThreadId> {
        in_tx!(self, insert_thread(title, author, at))
    }

    pub async fn thread_by_id(&mut self, id: ThreadId) -> Result<Option<Thread>> {
        in_tx!(self, thread_by_id(id))
    }

    pub async fn set_thread_locked(&mut self, id: ThreadId, locked: bool) -> Result<()> {
        in_tx!(self, set_thread_locked(id, locked))
    }

    pub async fn insert_post(
        &mut self,
        thread: ThreadId,
        author: UserId,
        body: &str,
        opens_thread: bool,
        at: Timestamp,
    ) -> Result<PostId> {
        in_tx!(self, insert_post(thread, author, body, opens_thread, at))
    }

    pub async fn post_by_id(&mut self, id: PostId) -> Result<Option<Post>> {
        in_tx!(self, post_by_id(id))
    }

    /// The stored body of a post, whatever its status.
    pub async fn post_body(&mut self, id: PostId) -> Result<Option<String>> {
        in_tx!(self, post_body(id))
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
        in_tx!(self, insert_revision(id, old_body, by, at))?;
        in_tx!(self, set_post_body(id, new_body, at))
    }

    pub async fn set_post_status(&mut self, id: PostId, status: PostStatus) -> Result<()> {
        in_tx!(self, set_post_status(id, status))
    }

    pub async fn insert_moderation(&mut self, record: &ModerationRecord<'_>) -> Result<()> {
        in_tx!(self, insert_moderation(record))
    }

    /// Appends a public event to the feed with its JSON as given; returns its position.
    pub async fn insert_event(&mut self, event: &Event, json: &str) -> Result<i64> {
        in_tx!(self, insert_event(event, json))
    }

    pub async fn insert_api_key(&mut self, key: &NewApiKey) -> Result<()> {
        in_tx!(self, insert_api_key(key))
    }

    pub async fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>> {
        in_tx!(self, api_keys())
    }

    /// Revokes a key; `false` when there is no such unrevoked key.
    pub async fn revoke_api_key(&mut self, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
        in_tx!(self, revoke_api_key(id, at))
    }

    pub async fn insert_endpoint(&mut self, new: &NewEndpoint) -> Result<()> {
        self.endpoints_changed = true;
        in_tx!(self, insert_endpoint(new))
    }

    pub async fn endpoint_by_id(&mut self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        in_tx!(self, endpoint_by_id(id))
    }

    /// Deletes an endpoint and its deliveries; `false` when there is none.
    pub async fn delete_endpoint(&mut self, id: &EndpointId) -> Result<bool> {
        self.endpoints_changed = true;
        in_tx!(self, delete_endpoint(id))
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
        in_tx!(
            self,
            rotate_secret(id, sealed_new, sealed_previous, previous_expires_at, at,)
        )
    }

    /// The active endpoints subscribed to events of type `t`.
    pub async fn subscribed_endpoints(&mut self, t: EventType) -> Result<Vec<EndpointId>> {
        in_tx!(self, subscribed_endpoints(t))
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
        in_tx!(self, insert_deliveries(event_id, endpoints, at))
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
        in_tx!(self, events_to_recover(endpoint, since, until, limit))
    }

    pub async fn insert_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        in_tx!(self, insert_audit(entry))
    }

    /// Records attempts with their deliveries' next states where the claim still holds
    /// (its lease did not run out and pass to another worker); whether each was recorded.
    pub async fn record_attempts(
        &mut self,
        items: &[RecordedAttempt<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>> {
        in_tx!(self, record_attempts(items, now))
    }

    /// [`TenantDb::claim_due`] in this transaction: a worker claims in the transaction
    /// that records its last attempts, one commit for both.
    pub async fn claim_due(&mut self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        match &mut self.tx {
            TxConn::Sqlite(tx) => sqlite::claim_in(tx.conn(), claim),
            TxConn::Postgres(tx) => postgres::claim_due(&mut *tx, &self.slug, claim).await,
        }
    }

    /// The consecutive failure counts of these endpoints, by id.
    pub async fn endpoint_failure_counts(
        &mut self,
        ids: &[&EndpointId],
    ) -> Result<std::collections::HashMap<String, u32>> {
        in_tx!(self, endpoint_failure_counts(ids))
    }

    /// Counts a batch's results against an endpoint (see the backend); returns the
    /// consecutive failures after it.
    pub async fn count_endpoint_results(
        &mut self,
        id: &EndpointId,
        reset: bool,
        failures: u32,
    ) -> Result<u32> {
        in_tx!(self, count_endpoint_results(id, reset, failures))
    }

    /// Disables an active endpoint; `false` when it was already inactive.
    pub async fn disable_endpoint(
        &mut self,
        id: &EndpointId,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.endpoints_changed = true;
        in_tx!(self, disable_endpoint(id, reason, now))
    }

    /// Writes exported rows of `table` back as they were, ids included (an import into
    /// a new tenant).
    pub async fn import_rows(
        &mut self,
        table: &crate::transfer::Table,
        rows: &[Vec<crate::transfer::Cell>],
    ) -> Result<()> {
        self.endpoints_changed |= table.name == "webhook_endpoints";
        self.enqueued |= table.name == "webhook_deliveries" && !rows.is_empty();
        in_tx!(self, transfer::import_rows(table, rows))
    }

    /// Saves an endpoint's url, label, events, active state and failure count.
    pub async fn save_endpoint(
        &mut self,
        endpoint: &mobieus_domain::webhook::Endpoint,
    ) -> Result<()> {
        self.endpoints_changed = true;
        in_tx!(self, save_endpoint(endpoint))
    }
}
