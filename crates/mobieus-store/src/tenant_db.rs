//! Tenant-scoped handles: [`TenantDb`], one tenant's database, for reads and for the few
//! writes that are a transaction of their own, and [`TenantTx`], one write transaction on
//! it. The only way to a tenant's rows, and the list of every operation on them.
//!
//! Each method runs a query of `crate::queries`, written once for both backends, on a
//! connection of the tenant's own: on SQLite, its own file; on Postgres, a transaction
//! pinned to its own schema.

use crate::db::Conn;
use crate::postgres::{self, PgTenant, PgTx};
use crate::queries::{
    accounts, events, forum, health, idempotency, keys, queue, retention, transfer, webhooks,
};
use crate::sqlite::{self, Tx};
use crate::{
    ApiKeyRecord, AuditEntry, Claim, ClaimedDelivery, EndpointRecord, EventFilter,
    IdempotencyClaim, ModerationRecord, NewApiKey, NewEndpoint, Page, PostFilter, Purged,
    RecordedAttempt, Result, SessionRecord, StoredAnswer, StoredEvent,
};
use crate::{DeliveryHealth, FeedSignal, QueueStats, ThreadSummary, WorkSignal};
use mobieus_domain::api_key::{ApiKeyId, KeyHash};
use mobieus_domain::event::Event;
use mobieus_domain::event::EventType;
use mobieus_domain::forum::{Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId};
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

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

/// The connection of a read: on SQLite, one of the file's read connections (reads in WAL
/// mode never wait for the writer); on Postgres, a transaction of its own, dropped rather
/// than committed: it wrote nothing, and its `ROLLBACK` goes out with the pool's check of
/// the connection on release, off the caller's path, instead of a `COMMIT` round trip on it.
enum Reader {
    Sqlite(sqlite::Reader),
    Postgres(PgTx),
}

impl Reader {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Reader::Sqlite(r) => Conn::Sqlite(r.conn()),
            Reader::Postgres(tx) => Conn::Pg(tx),
        }
    }
}

/// One tenant's database: its reads, and the writes that are a transaction of their own.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct TenantDb {
    slug: TenantSlug,
    conn: TenantConn,
    signal: Arc<WorkSignal>,
    feed: Arc<FeedSignal>,
}

impl TenantDb {
    pub(crate) async fn open_sqlite(
        slug: TenantSlug,
        path: &Path,
        (signal, feed): (Arc<WorkSignal>, Arc<FeedSignal>),
        control: sqlite::Pool,
    ) -> Result<Self> {
        Ok(Self {
            slug,
            conn: TenantConn::Sqlite {
                pool: sqlite::open_tenant(path).await?,
                control,
            },
            signal,
            feed,
        })
    }

    pub(crate) async fn open_postgres(
        slug: TenantSlug,
        pg: &postgres::Pg,
        (signal, feed): (Arc<WorkSignal>, Arc<FeedSignal>),
    ) -> Result<Self> {
        Ok(Self {
            conn: TenantConn::Postgres(postgres::open_tenant(pg, &slug).await?),
            slug,
            signal,
            feed,
        })
    }

    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    async fn reader(&self) -> Result<Reader> {
        Ok(match &self.conn {
            TenantConn::Sqlite { pool, .. } => Reader::Sqlite(pool.reader()?),
            TenantConn::Postgres(pg) => Reader::Postgres(pg.begin().await?),
        })
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
        Ok(self.tx(tx, control))
    }

    fn tx(&self, tx: TxConn, control: Option<sqlite::Pool>) -> TenantTx {
        TenantTx {
            slug: self.slug.clone(),
            tx,
            signal: self.signal.clone(),
            feed: self.feed.clone(),
            control,
            appended: false,
            enqueued: false,
            endpoints_changed: false,
        }
    }

    /// When the next pending delivery not in flight is due, if any.
    pub async fn next_due(&self, now: Timestamp) -> Result<Option<Timestamp>> {
        queue::next_due(&mut self.reader().await?.conn(), now).await
    }

    pub async fn events_page(
        &self,
        filter: &EventFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<StoredEvent>> {
        events::events_page(&mut self.reader().await?.conn(), filter, after, limit).await
    }

    /// The position of the newest event (0 for an empty feed).
    pub async fn feed_head(&self) -> Result<i64> {
        events::feed_head(&mut self.reader().await?.conn()).await
    }

    /// Watches this tenant's feed: the receiver changes when a transaction of this
    /// process appends events, or (Postgres, with `Store::listen_for_feed`) of any process.
    pub fn watch_feed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.watch(&self.slug)
    }

    pub async fn event_by_id(&self, id: &str) -> Result<Option<StoredEvent>> {
        events::event_by_id(&mut self.reader().await?.conn(), id).await
    }

    pub async fn users_page(&self, after: i64, limit: u32) -> Result<Page<User>> {
        forum::users_page(&mut self.reader().await?.conn(), after, limit).await
    }

    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        forum::user_by_id(&mut self.reader().await?.conn(), id).await
    }

    pub async fn posts_page(
        &self,
        filter: PostFilter,
        after: i64,
        limit: u32,
    ) -> Result<Page<Post>> {
        forum::posts_page(&mut self.reader().await?.conn(), filter, after, limit).await
    }

    pub async fn post_by_id(&self, id: PostId) -> Result<Option<Post>> {
        forum::post_by_id(&mut self.reader().await?.conn(), id).await
    }

    /// Threads newest first, below thread id `before` (`i64::MAX` for the first page).
    pub async fn threads_page(&self, before: i64, limit: u32) -> Result<Page<ThreadSummary>> {
        forum::threads_page(&mut self.reader().await?.conn(), before, limit).await
    }

    pub async fn thread_by_id(&self, id: ThreadId) -> Result<Option<Thread>> {
        forum::thread_by_id(&mut self.reader().await?.conn(), id).await
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        keys::api_keys(&mut self.reader().await?.conn()).await
    }

    pub async fn api_key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>> {
        keys::api_key_by_hash(&mut self.reader().await?.conn(), hash).await
    }

    pub async fn endpoints_page(&self, after: i64, limit: u32) -> Result<Page<EndpointRecord>> {
        webhooks::endpoints_page(&mut self.reader().await?.conn(), after, limit).await
    }

    pub async fn endpoint_by_id(&self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        webhooks::endpoint_by_id(&mut self.reader().await?.conn(), id).await
    }

    /// The deliveries written for an event: (delivery, endpoint, status).
    pub async fn deliveries_of_event(
        &self,
        event_id: &str,
    ) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
        webhooks::deliveries_of_event(&mut self.reader().await?.conn(), event_id).await
    }

    /// Leases the due deliveries `claim` asks for (see [`Claim`]), in a transaction of
    /// its own. On SQLite a read first: a tenant with nothing due costs one index probe,
    /// not the write lock. On Postgres the commit does not wait for the disk: a claim
    /// lost in a crash only makes its deliveries claimable again.
    pub async fn claim_due(&self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        let mut tx = match &self.conn {
            TenantConn::Sqlite { .. } => {
                if !queue::any_due(&mut self.reader().await?.conn(), claim.now).await? {
                    return Ok(Vec::new());
                }
                self.begin().await?
            }
            TenantConn::Postgres(pg) => {
                self.tx(TxConn::Postgres(pg.begin_unflushed().await?), None)
            }
        };
        let claimed = tx.claim_due(claim).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Drops previous signing secrets whose grace window is over; returns how many went.
    pub async fn purge_expired_secrets(&self, now: Timestamp) -> Result<u64> {
        // A read first: most tenants have nothing to purge and need no write lock.
        if !webhooks::any_expired_secret(&mut self.reader().await?.conn(), now).await? {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let n = webhooks::purge_expired_secrets(&mut tx.conn(), now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
    /// `false` when the claim no longer held.
    pub async fn cancel_delivery(&self, claimed: &ClaimedDelivery, now: Timestamp) -> Result<bool> {
        match &self.conn {
            // An autocommit write on a read connection: no wait for the write lock.
            TenantConn::Sqlite { .. } => {
                queue::cancel_delivery(&mut self.reader().await?.conn(), claimed, now).await
            }
            TenantConn::Postgres(_) => {
                let mut tx = self.begin().await?;
                let cancelled = queue::cancel_delivery(&mut tx.conn(), claimed, now).await?;
                tx.commit().await?;
                Ok(cancelled)
            }
        }
    }

    /// The type of an event and its stored JSON: the exact body its deliveries send.
    pub async fn event_json(&self, event_id: &str) -> Result<Option<(String, String)>> {
        events::event_json(&mut self.reader().await?.conn(), event_id).await
    }

    /// The type and stored JSON of each of these events, by id (one query for a batch).
    pub async fn event_jsons(&self, ids: &[&str]) -> Result<HashMap<String, (String, String)>> {
        queue::event_jsons(&mut self.reader().await?.conn(), ids).await
    }

    /// An endpoint's deliveries, oldest first, optionally of one status.
    pub async fn deliveries_page(
        &self,
        endpoint: &EndpointId,
        status: Option<DeliveryStatus>,
        after: i64,
        limit: u32,
    ) -> Result<Page<Delivery>> {
        let mut r = self.reader().await?;
        queue::deliveries_page(&mut r.conn(), endpoint, status, after, limit, false).await
    }

    /// An endpoint's deliveries newest first, before position `before` (`i64::MAX` for the
    /// newest), optionally of one status.
    pub async fn recent_deliveries(
        &self,
        endpoint: &EndpointId,
        status: Option<DeliveryStatus>,
        before: i64,
        limit: u32,
    ) -> Result<Page<Delivery>> {
        let mut r = self.reader().await?;
        queue::deliveries_page(&mut r.conn(), endpoint, status, before, limit, true).await
    }

    /// One delivery of an endpoint.
    pub async fn delivery_by_id(
        &self,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>> {
        queue::delivery_by_id(&mut self.reader().await?.conn(), endpoint, id).await
    }

    /// A delivery's attempts, in order.
    pub async fn attempts(&self, id: &DeliveryId) -> Result<Vec<Attempt>> {
        queue::attempts(&mut self.reader().await?.conn(), id).await
    }

    /// What a claim of an idempotency key would find (see [`TenantTx::claim_idempotency_key`]),
    /// without writing: `None` when the request may run.
    pub async fn peek_idempotency_key(
        &self,
        key_id: &ApiKeyId,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
    ) -> Result<Option<IdempotencyClaim>> {
        let mut r = self.reader().await?;
        let (expired, stale) = idempotency_windows(now);
        idempotency::peek(&mut r.conn(), key_id, key, fingerprint, expired, stale).await
    }

    /// The live session whose token has this hash, with its member.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>> {
        accounts::session_by_token_hash(&mut self.reader().await?.conn(), token_hash, now).await
    }

    /// The current member with this username and their password hash, if any.
    pub async fn login_candidate(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        accounts::login_candidate(&mut self.reader().await?.conn(), username).await
    }

    /// Failed logins for a username (lower-cased) from a client since `since`, oldest first.
    pub async fn login_failures(
        &self,
        username: &str,
        client: &str,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        let mut r = self.reader().await?;
        accounts::login_failures(&mut r.conn(), username, client, since).await
    }

    /// Webhook delivery since `since`: attempts by outcome and hour, the oldest pending
    /// delivery, disabled endpoints.
    pub async fn delivery_health(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<DeliveryHealth> {
        health::delivery_health(&mut self.reader().await?.conn(), since, now).await
    }

    /// The delivery queue now: pending deliveries, the oldest one, disabled endpoints.
    pub async fn queue_stats(&self) -> Result<QueueStats> {
        health::queue_stats(&mut self.reader().await?.conn()).await
    }

    /// Deletes one batch of what is older than `cutoff`: finished deliveries with their
    /// attempts, and events none of whose deliveries is left. Call until it deletes nothing.
    pub async fn purge_before(&self, cutoff: Timestamp, batch: u32) -> Result<Purged> {
        // A read first: a tenant with nothing that old costs one probe per table, no write.
        if !retention::anything_before(&mut self.reader().await?.conn(), cutoff).await? {
            return Ok(Purged::default());
        }
        let mut tx = self.begin().await?;
        let purged = retention::purge_before(&mut tx.conn(), cutoff, batch).await?;
        tx.commit().await?;
        Ok(purged)
    }

    /// Ends the leases of these claims (a worker stopping before it sent them); a lease
    /// that changed meanwhile is left alone. How many were released.
    pub async fn release_leases(
        &self,
        claims: &[ClaimedDelivery],
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.begin().await?;
        let released = queue::release_leases(&mut tx.conn(), claims, now).await?;
        tx.commit().await?;
        Ok(released)
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
        transfer::export_page(&mut self.reader().await?.conn(), table, after, limit).await
    }

    /// The audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        webhooks::audit_log(&mut self.reader().await?.conn()).await
    }

    /// Records that a key was used at `at`, unless that was already recorded after `stale_before`.
    pub async fn touch_api_key(
        &self,
        id: &ApiKeyId,
        at: Timestamp,
        stale_before: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        keys::touch_api_key(&mut tx.conn(), id, at, stale_before).await?;
        tx.commit().await
    }
}

/// Keys live 24 hours (rows older are dropped and not found); a first request that had
/// no answer after a minute died with its process.
fn idempotency_windows(now: Timestamp) -> (Timestamp, Timestamp) {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    const STALE_MS: i64 = 60 * 1000;
    (now.plus_millis(-DAY_MS), now.plus_millis(-STALE_MS))
}

/// The open transaction of a [`TenantTx`].
#[derive(Debug)]
enum TxConn {
    Sqlite(Tx),
    Postgres(PgTx),
}

impl TxConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            TxConn::Sqlite(tx) => Conn::Sqlite(tx.conn()),
            TxConn::Postgres(tx) => Conn::Pg(tx),
        }
    }
}

/// One write transaction on one tenant's database. Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub struct TenantTx {
    slug: TenantSlug,
    tx: TxConn,
    signal: Arc<WorkSignal>,
    feed: Arc<FeedSignal>,
    /// SQLite's control database, for hints of due work left after the commit.
    control: Option<sqlite::Pool>,
    /// Whether this transaction appended events; live streams are woken on commit.
    appended: bool,
    /// Whether this transaction made a delivery due; the worker is woken on commit.
    enqueued: bool,
    /// Whether it changed an endpoint; the worker's cached targets go stale on commit.
    endpoints_changed: bool,
}

impl TenantTx {
    pub fn slug(&self) -> &TenantSlug {
        &self.slug
    }

    fn conn(&mut self) -> Conn<'_> {
        self.tx.conn()
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
        if self.appended {
            self.feed.raise(&self.slug);
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
        forum::user_by_username(&mut self.conn(), username).await
    }

    pub async fn user_by_id(&mut self, id: UserId) -> Result<Option<User>> {
        forum::user_by_id(&mut self.conn(), id).await
    }

    pub async fn insert_user(
        &mut self,
        username: &str,
        email: Option<&str>,
        at: Timestamp,
    ) -> Result<UserId> {
        forum::insert_user(&mut self.conn(), username, email, at).await
    }

    pub async fn set_password_hash(&mut self, id: UserId, hash: &str) -> Result<()> {
        accounts::set_password_hash(&mut self.conn(), id, hash).await
    }

    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user: UserId,
        csrf_token: &str,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let c = &mut self.conn();
        accounts::purge_expired_sessions(c, created_at).await?;
        accounts::insert_session(c, token_hash, user, csrf_token, created_at, expires_at).await
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        accounts::delete_session(&mut self.conn(), token_hash).await
    }

    pub async fn delete_user_sessions(&mut self, user: UserId) -> Result<()> {
        accounts::delete_user_sessions(&mut self.conn(), user).await
    }

    /// Counts a failed login and forgets those older than `forget_before`.
    pub async fn insert_login_failure(
        &mut self,
        username: &str,
        client: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        accounts::insert_login_failure(&mut self.conn(), username, client, at, forget_before).await
    }

    pub async fn clear_login_failures(&mut self, username: &str, client: &str) -> Result<()> {
        accounts::clear_login_failures(&mut self.conn(), username, client).await
    }

    pub async fn set_user_left(&mut self, id: UserId, at: Timestamp) -> Result<()> {
        forum::set_user_left(&mut self.conn(), id, at).await
    }

    pub async fn set_user_role(&mut self, id: UserId, role: Role) -> Result<()> {
        forum::set_user_role(&mut self.conn(), id, role).await
    }

    pub async fn set_user_banned(&mut self, id: UserId, banned: bool) -> Result<()> {
        forum::set_user_banned(&mut self.conn(), id, banned).await
    }

    pub async fn insert_thread(
        &mut self,
        title: &str,
        author: UserId,
        at: Timestamp,
    ) -> Result<ThreadId> {
        forum::insert_thread(&mut self.conn(), title, author, at).await
    }

    pub async fn thread_by_id(&mut self, id: ThreadId) -> Result<Option<Thread>> {
        forum::thread_by_id(&mut self.conn(), id).await
    }

    pub async fn set_thread_locked(&mut self, id: ThreadId, locked: bool) -> Result<()> {
        forum::set_thread_locked(&mut self.conn(), id, locked).await
    }

    pub async fn insert_post(
        &mut self,
        thread: ThreadId,
        author: UserId,
        body: &str,
        opens_thread: bool,
        at: Timestamp,
    ) -> Result<PostId> {
        forum::insert_post(&mut self.conn(), thread, author, body, opens_thread, at).await
    }

    pub async fn post_by_id(&mut self, id: PostId) -> Result<Option<Post>> {
        forum::post_by_id(&mut self.conn(), id).await
    }

    /// The stored body of a post, whatever its status.
    pub async fn post_body(&mut self, id: PostId) -> Result<Option<String>> {
        forum::post_body(&mut self.conn(), id).await
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
        let c = &mut self.conn();
        forum::insert_revision(c, id, old_body, by, at).await?;
        forum::set_post_body(c, id, new_body, at).await
    }

    pub async fn set_post_status(&mut self, id: PostId, status: PostStatus) -> Result<()> {
        forum::set_post_status(&mut self.conn(), id, status).await
    }

    pub async fn insert_moderation(&mut self, record: &ModerationRecord<'_>) -> Result<()> {
        forum::insert_moderation(&mut self.conn(), record).await
    }

    /// Appends a public event to the feed with its JSON as given; returns its position.
    pub async fn insert_event(&mut self, event: &Event, json: &str) -> Result<i64> {
        let position = events::insert_event(&mut self.tx.conn(), &self.slug, event, json).await?;
        self.appended |= event.in_feed();
        Ok(position)
    }

    pub async fn insert_api_key(&mut self, key: &NewApiKey) -> Result<()> {
        keys::insert_api_key(&mut self.conn(), key).await
    }

    pub async fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>> {
        keys::api_keys(&mut self.conn()).await
    }

    /// Revokes a key; `false` when there is no such unrevoked key.
    pub async fn revoke_api_key(&mut self, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
        keys::revoke_api_key(&mut self.conn(), id, at).await
    }

    pub async fn insert_endpoint(&mut self, new: &NewEndpoint) -> Result<()> {
        self.endpoints_changed = true;
        webhooks::insert_endpoint(&mut self.conn(), new).await
    }

    pub async fn endpoint_by_id(&mut self, id: &EndpointId) -> Result<Option<EndpointRecord>> {
        webhooks::endpoint_by_id(&mut self.conn(), id).await
    }

    /// Deletes an endpoint and its deliveries; `false` when there is none.
    pub async fn delete_endpoint(&mut self, id: &EndpointId) -> Result<bool> {
        self.endpoints_changed = true;
        webhooks::delete_endpoint(&mut self.conn(), id).await
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
        let c = &mut self.conn();
        webhooks::rotate_secret(c, id, sealed_new, sealed_previous, previous_expires_at, at).await
    }

    /// The active endpoints subscribed to events of type `t`.
    pub async fn subscribed_endpoints(&mut self, t: EventType) -> Result<Vec<EndpointId>> {
        webhooks::subscribed_endpoints(&mut self.conn(), t).await
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
        webhooks::insert_deliveries(&mut self.conn(), event_id, endpoints, at).await
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

    /// One delivery of an endpoint, as this transaction sees it.
    pub async fn delivery_by_id(
        &mut self,
        endpoint: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>> {
        queue::delivery_by_id(&mut self.conn(), endpoint, id).await
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
        queue::events_to_recover(&mut self.conn(), endpoint, since, until, limit).await
    }

    /// Claims an idempotency key for a request with this fingerprint (see
    /// [`IdempotencyClaim`]), in this transaction: should it roll back, the key is free
    /// again. A concurrent claim of the same key waits for this transaction's end.
    pub async fn claim_idempotency_key(
        &mut self,
        key_id: &ApiKeyId,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
    ) -> Result<IdempotencyClaim> {
        let (expired, stale) = idempotency_windows(now);
        let c = &mut self.conn();
        idempotency::claim(c, key_id, key, fingerprint, now, expired, stale).await
    }

    /// Keeps the answer of a key this transaction claimed (`token`), with the action's rows.
    pub async fn keep_idempotent_answer(
        &mut self,
        key_id: &ApiKeyId,
        key: &str,
        token: i64,
        answer: &StoredAnswer,
    ) -> Result<()> {
        idempotency::complete(&mut self.conn(), key_id, key, token, answer).await
    }

    pub async fn insert_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        webhooks::insert_audit(&mut self.conn(), entry).await
    }

    /// Records attempts with their deliveries' next states where the claim still holds
    /// (its lease did not run out and pass to another worker); whether each was recorded.
    pub async fn record_attempts(
        &mut self,
        items: &[RecordedAttempt<'_>],
        now: Timestamp,
    ) -> Result<Vec<bool>> {
        queue::record_attempts(&mut self.conn(), items, now).await
    }

    /// [`TenantDb::claim_due`] in this transaction: a worker claims in the transaction
    /// that records its last attempts, one commit for both.
    pub async fn claim_due(&mut self, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
        queue::claim(&mut self.tx.conn(), &self.slug, claim).await
    }

    /// The consecutive failure counts of these endpoints, by id.
    pub async fn endpoint_failure_counts(
        &mut self,
        ids: &[&EndpointId],
    ) -> Result<HashMap<String, u32>> {
        queue::endpoint_failure_counts(&mut self.conn(), ids).await
    }

    /// Counts a batch's results against an endpoint (see the query); returns the
    /// consecutive failures after it.
    pub async fn count_endpoint_results(
        &mut self,
        id: &EndpointId,
        reset: bool,
        failures: u32,
    ) -> Result<u32> {
        queue::count_endpoint_results(&mut self.conn(), id, reset, failures).await
    }

    /// Disables an active endpoint; `false` when it was already inactive.
    pub async fn disable_endpoint(
        &mut self,
        id: &EndpointId,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.endpoints_changed = true;
        queue::disable_endpoint(&mut self.conn(), id, reason, now).await
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
        transfer::import_rows(&mut self.conn(), table, rows).await
    }

    /// Saves an endpoint's url, label, events, active state and failure count.
    pub async fn save_endpoint(
        &mut self,
        endpoint: &mobieus_domain::webhook::Endpoint,
    ) -> Result<()> {
        self.endpoints_changed = true;
        webhooks::save_endpoint(&mut self.conn(), endpoint).await
    }
}
