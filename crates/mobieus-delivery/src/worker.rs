//! The delivery worker. It takes tenants with due work (raised in-process the moment a
//! transaction enqueues, or found by a poll of every tenant for work that other
//! processes enqueued or that came due), claims their due deliveries in batches with a
//! lease, sends each with many in flight, and records what finished together in one
//! transaction per tenant (group commit): under a backlog, the transaction of the
//! tenant's next claim, so one commit records a batch and claims the next. A worker that
//! dies loses nothing: its leases run out and the deliveries are claimed again; a record
//! whose lease ran out is dropped.

use crate::attempt::{self, Payload, Target};
use crate::client::{self, ClientSettings, DeliveryError};
use crate::outcomes::Outcomes;
use crate::targets::{Resolved, Targets};
use mobieus_core::delivery::{self, DeliveryPolicy, Outcome, Recorded};
use mobieus_core::url_guard::UrlGuard;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EndpointId, SentHeaders};
use mobieus_store::{
    Claim, ClaimedDelivery, DeliveryOutcome, DeliveryState, NewAttempt, Store, TenantDb,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The most deliveries claimed from one tenant at a time, so one busy tenant cannot hold
/// up the others for long.
const MAX_BATCH: usize = 256;
/// Rows of each kind deleted per retention transaction, and transactions per tenant visit.
const RETENTION_BATCH: u32 = 500;
const RETENTION_BATCHES: usize = 20;

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub policy: DeliveryPolicy,
    /// Requests in flight at once (`--delivery-concurrency`).
    pub concurrency: usize,
    pub client: ClientSettings,
    /// How often the control database's hints of due work are read (work enqueued by
    /// other processes, retries coming due).
    pub poll_interval: Duration,
    /// How often every tenant is looked at, hinted or not (the safety net for a lost
    /// hint), and expired previous secrets and data past retention are purged.
    pub maintenance_interval: Duration,
    /// Events, deliveries and attempts older than this are deleted (`--retention-days`).
    pub retention: Duration,
    /// On shutdown, how long attempts in flight may take to finish before the worker
    /// stops and releases what it still holds; `None`: the attempt's total timeout.
    pub shutdown_grace: Option<Duration>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            policy: DeliveryPolicy::default(),
            concurrency: 64,
            client: ClientSettings::default(),
            poll_interval: Duration::from_secs(1),
            maintenance_interval: Duration::from_secs(300),
            retention: Duration::from_secs(30 * 86_400),
            shutdown_grace: None,
        }
    }
}

/// What a run of the worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
}

#[derive(Debug, Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
}

/// The delivery worker of one process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Worker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    guard: UrlGuard,
    client: reqwest::Client,
    config: WorkerConfig,
    permits: Arc<Semaphore>,
    /// Attempts in flight per endpoint: one endpoint may hold only `per_endpoint` slots,
    /// so a stalled endpoint cannot take every slot from the others.
    in_flight: Mutex<HashMap<(TenantSlug, EndpointId), usize>>,
    per_endpoint: usize,
    /// Tenants this worker knows to have a hint in the control database (so a tenant
    /// with nothing pending and no hint costs no write).
    hinted: Mutex<HashMap<TenantSlug, Timestamp>>,
    /// Tenants whose last claim filled some endpoint's room: each landing drains them
    /// again, so the endpoint's next delivery goes as soon as it has room.
    limited: Mutex<std::collections::HashSet<TenantSlug>>,
    /// Each tenant's database files as the last sweep saw them.
    file_marks: Mutex<HashMap<TenantSlug, Option<mobieus_store::ChangeMark>>>,
    sweeps: AtomicU64,
    /// Deliveries claimed and not yet settled (recorded, cancelled, or given up), by
    /// tenant: what a stopping worker releases, so another takes them at once instead of
    /// when their leases run out.
    outstanding:
        Mutex<HashMap<TenantSlug, HashMap<mobieus_domain::webhook::DeliveryId, ClaimedDelivery>>>,
    targets: Targets,
    counters: Counters,
}

impl Worker {
    pub fn new(store: Store, guard: UrlGuard, config: WorkerConfig) -> Result<Self, DeliveryError> {
        let client = client::build(&guard, &config.client)?;
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        let targets = Targets::new(store.work_signal().clone());
        store.work_signal().worker_in_process();
        let per_endpoint = (config.concurrency / 4).max(1);
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                guard,
                client,
                config,
                permits,
                in_flight: Mutex::default(),
                per_endpoint,
                hinted: Mutex::default(),
                limited: Mutex::default(),
                file_marks: Mutex::default(),
                sweeps: AtomicU64::new(0),
                outstanding: Mutex::default(),
                targets,
                counters: Counters::default(),
            }),
        })
    }

    /// What this worker did since it started.
    pub fn summary(&self) -> RunSummary {
        let c = &self.inner.counters;
        RunSummary {
            succeeded: c.succeeded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            cancelled: c.cancelled.load(Ordering::Relaxed),
        }
    }

    /// Delivers until `shutdown` completes, then stops claiming and gives the attempts
    /// in flight up to the total timeout to finish (the rest are claimed again later).
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let inner = &self.inner;
        let signal = inner.store.work_signal().clone();
        let listening = inner.store.listen_for_work();
        let (outcomes, recorder) = self.recorder();
        let mut tasks = JoinSet::new();
        let mut next_poll = Instant::now();
        let mut next_maintenance = Instant::now();
        tokio::pin!(shutdown);
        loop {
            let mut due: Vec<TenantSlug> = signal.take();
            let mut sweeping = false;
            if Instant::now() >= next_poll {
                next_poll = Instant::now() + inner.config.poll_interval;
                if Instant::now() >= next_maintenance {
                    // The sweep: every tenant, and the purge of expired secrets.
                    next_maintenance = Instant::now() + inner.config.maintenance_interval;
                    match inner.store.tenants().await {
                        Ok(all) => {
                            let all: Vec<TenantSlug> = all.into_iter().map(|t| t.slug).collect();
                            due = self.changed_since_last_sweep(all).await;
                        }
                        Err(e) => tracing::error!(error = %e, "cannot list tenants"),
                    }
                    sweeping = true;
                } else {
                    match inner.store.due_tenants(Timestamp::now()).await {
                        Ok(hinted) => {
                            let mut known = self
                                .inner
                                .hinted
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            for slug in hinted {
                                // Due now, as far as this worker knows.
                                known.insert(slug.clone(), Timestamp::from_millis(0));
                                if !due.contains(&slug) {
                                    due.push(slug);
                                }
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "cannot read the hints of due work"),
                    }
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.drain(due, &mut tasks, &outcomes, sweeping) => {}
            }
            if sweeping {
                inner.sweeps.fetch_add(1, Ordering::Relaxed);
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = signal.raised() => {}
                () = tokio::time::sleep_until(next_poll) => {}
            }
        }
        let deadline = inner
            .config
            .shutdown_grace
            .unwrap_or(inner.config.client.total_timeout);
        if tokio::time::timeout(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                left = tasks.len(),
                "stopping with attempts in flight; they are released for another worker"
            );
        }
        drop(tasks);
        outcomes.close();
        let _ = recorder.await;
        self.release_outstanding().await;
        if let Some(listening) = listening {
            listening.abort();
        }
    }

    /// Notes claimed deliveries as held until they settle.
    fn hold(&self, slug: &TenantSlug, claimed: &[ClaimedDelivery]) {
        if claimed.is_empty() {
            return;
        }
        let mut held = self
            .inner
            .outstanding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tenant = held.entry(slug.clone()).or_default();
        for c in claimed {
            tenant.insert(c.id.clone(), c.clone());
        }
    }

    /// A held delivery settled: recorded (or queued for the recorder, which finishes
    /// before anything is released), cancelled, or given up to its lease.
    fn settle(&self, slug: &TenantSlug, id: &mobieus_domain::webhook::DeliveryId) {
        let mut held = self
            .inner
            .outstanding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tenant) = held.get_mut(slug) {
            tenant.remove(id);
            if tenant.is_empty() {
                held.remove(slug);
            }
        }
    }

    /// Ends the leases this stopping worker still holds (claimed and not started, or
    /// stopped in flight), so they are due again at once. A lease that changed meanwhile
    /// (another worker's now) is left alone.
    async fn release_outstanding(&self) {
        let held = std::mem::take(
            &mut *self
                .inner
                .outstanding
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for (slug, claims) in held {
            let claims: Vec<ClaimedDelivery> = claims.into_values().collect();
            let released = match self.inner.store.tenant_db(&slug).await {
                Ok(db) => db.release_leases(&claims, Timestamp::now()).await,
                Err(e) => Err(e),
            };
            match released {
                Ok(n) => {
                    tracing::info!(tenant = %slug, released = n, "released deliveries held at shutdown")
                }
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot release deliveries; their leases run out instead")
                }
            }
        }
    }

    /// Delivers everything due now in every tenant, waits for it, and returns (cron mode).
    pub async fn run_once(&self) -> Result<RunSummary, mobieus_store::StoreError> {
        let all: Vec<TenantSlug> = self
            .inner
            .store
            .tenants()
            .await?
            .into_iter()
            .map(|t| t.slug)
            .collect();
        let (outcomes, recorder) = self.recorder();
        let mut tasks = JoinSet::new();
        self.drain(all, &mut tasks, &outcomes, true).await;
        while tasks.join_next().await.is_some() {}
        outcomes.close();
        let _ = recorder.await;
        Ok(self.summary())
    }

    /// Purges a tenant's previous secrets whose grace window is over, and what is older
    /// than the retention window: in batches of `RETENTION_BATCH`, each a short write
    /// transaction, at most `RETENTION_BATCHES` per visit (the next sweep goes on).
    async fn purge(&self, db: &TenantDb) {
        match db.purge_expired_secrets(Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(tenant = %db.slug(), purged = n, "expired previous signing secrets removed")
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot purge expired secrets")
            }
        }
        let retention = i64::try_from(self.inner.config.retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = Timestamp::from_millis(Timestamp::now().millis().saturating_sub(retention));
        let mut total = mobieus_store::Purged::default();
        for _ in 0..RETENTION_BATCHES {
            match db.purge_before(cutoff, RETENTION_BATCH).await {
                Ok(p) if p == mobieus_store::Purged::default() => break,
                Ok(p) => {
                    total.deliveries += p.deliveries;
                    total.attempts += p.attempts;
                    total.events += p.events;
                }
                Err(e) => {
                    tracing::error!(tenant = %db.slug(), error = %e, "cannot purge data past retention");
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
        if total != mobieus_store::Purged::default() {
            tracing::info!(
                tenant = %db.slug(),
                events = total.events,
                deliveries = total.deliveries,
                attempts = total.attempts,
                "purged data past retention"
            );
        }
    }

    /// Claims and starts every due delivery of these tenants, a batch per tenant in
    /// turn, as permits allow; returns when none of them has anything due left. In a
    /// sweep (`purge`), each tenant's expired secrets are purged at its first visit, so a
    /// sweep opens each tenant's database once (ten thousand tenants do not fit in the
    /// cache of open databases, so a separate pass would open each of them twice).
    async fn drain(
        &self,
        tenants: Vec<TenantSlug>,
        tasks: &mut JoinSet<()>,
        outcomes: &Arc<Outcomes>,
        purge: bool,
    ) {
        let mut unpurged: HashSet<TenantSlug> = if purge {
            tenants.iter().cloned().collect()
        } else {
            HashSet::new()
        };
        let mut queue: VecDeque<TenantSlug> = tenants.into();
        let mut backlog = false;
        while let Some(slug) = queue.pop_front() {
            let db = match self.inner.store.tenant_db(&slug).await {
                Ok(db) => db,
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot open tenant database");
                    continue;
                }
            };
            if unpurged.remove(&slug) {
                self.purge(&db).await;
            }
            // Wait for one free slot (while a backlog keeps every slot busy, for a quarter
            // of them: a claim's fixed cost, its transaction and commit with the records
            // of the attempts before it, is then shared by several deliveries instead of
            // paid for each as it finishes; with the claims ahead below, a quarter beat an
            // eighth in 11 of 14 interleaved runs, a half left slots idle), then take every
            // other free one, up to a batch.
            let need = if backlog {
                (self.inner.config.concurrency / 4).max(1)
            } else {
                1
            };
            let Ok(mut first) = self
                .inner
                .permits
                .clone()
                .acquire_many_owned(u32::try_from(need).unwrap_or(1))
                .await
            else {
                return;
            };
            let mut permits = Vec::with_capacity(MAX_BATCH);
            while first.num_permits() > 1
                && let Some(one) = first.split(1)
            {
                permits.push(one);
            }
            permits.push(first);
            while permits.len() < MAX_BATCH {
                match self.inner.permits.clone().try_acquire_owned() {
                    Ok(p) => permits.push(p),
                    Err(_) => break,
                }
            }
            // Under a backlog, claim half the slots more than are free now, and start
            // those as slots free up: the slots are refilled at once instead of waiting
            // for the next claim's transaction.
            let ahead = if backlog {
                (self.inner.config.concurrency / 2).max(1)
            } else {
                0
            };
            let wanted = (permits.len() + ahead).min(MAX_BATCH);
            let checked_at = Timestamp::now();
            let room_before = self.room(&db);
            let claimed = match self.claim(&db, wanted, &room_before, outcomes).await {
                Some(c) => c,
                None => {
                    outcomes.draining(&slug, false);
                    continue;
                }
            };
            backlog = claimed.len() == wanted;
            outcomes.draining(&slug, backlog);
            if backlog {
                queue.push_back(slug);
            } else {
                self.note_next_due(&db, checked_at).await;
            }
            self.hold(db.slug(), &claimed);
            self.count_in_flight(&db, &claimed, &room_before);
            while tasks.try_join_next().is_some() {}
            self.start(db, claimed, permits, tasks, outcomes).await;
        }
    }

    /// The tenants a sweep looks at: every one the first time; then those changed since
    /// (a tenant nothing was written to cannot have new work, and its retries are hinted
    /// by the worker that scheduled them). A mark of change per tenant (a stat of its
    /// files, or one statistics query for all of Postgres's schemas) instead of opening
    /// its database keeps ten thousand idle tenants nearly free.
    async fn changed_since_last_sweep(&self, all: Vec<TenantSlug>) -> Vec<TenantSlug> {
        let first = self.inner.sweeps.load(Ordering::Relaxed) == 0;
        let mut now = match self.inner.store.change_marks(&all).await {
            Ok(marks) => marks,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the tenants' marks of change; sweeping them all");
                return all;
            }
        };
        let mut marks = self
            .inner
            .file_marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut changed = Vec::new();
        for slug in all {
            let mark = now.remove(&slug).flatten();
            let before = marks.insert(slug.clone(), mark);
            if first || before != Some(mark) {
                changed.push(slug);
            }
        }
        changed
    }

    /// How many sweeps this worker has made (the first looks at every tenant).
    pub fn sweeps(&self) -> u64 {
        self.inner.sweeps.load(Ordering::Relaxed)
    }

    /// Leaves the hint of when this tenant next has work due (its retries, its leases in
    /// flight), for this worker's next poll and for workers elsewhere; no write when there
    /// is nothing pending and no hint to clear.
    async fn note_next_due(&self, db: &TenantDb, checked_at: Timestamp) {
        let next = match db.next_due(checked_at).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot read when work is next due");
                return;
            }
        };
        let store = &self.inner.store;
        let known = self
            .inner
            .hinted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(db.slug())
            .copied();
        match (next, known) {
            // Nothing pending and no hint to clear.
            (None, None) => return,
            // A hint still to come is as early as needed: an early one costs only a look.
            (Some(at), Some(hint)) if hint > checked_at && hint <= at => return,
            _ => {}
        }
        match store.set_due(db.slug(), next, checked_at).await {
            Ok(()) => {
                let mut hinted = self
                    .inner
                    .hinted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match next {
                    Some(at) => hinted.insert(db.slug().clone(), at),
                    None => hinted.remove(db.slug()),
                };
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, "cannot leave a hint of due work")
            }
        }
    }

    /// Counts claimed deliveries in flight per endpoint (the claim kept within each
    /// endpoint's room), and notes whether the claim filled some endpoint's room.
    fn count_in_flight(
        &self,
        db: &TenantDb,
        claimed: &[ClaimedDelivery],
        room: &[(EndpointId, u32)],
    ) {
        let mut per: HashMap<&EndpointId, u32> = HashMap::new();
        for c in claimed {
            *per.entry(&c.endpoint_id).or_insert(0) += 1;
        }
        let default_room = u32::try_from(self.inner.per_endpoint).unwrap_or(u32::MAX);
        let filled = per.iter().any(|(id, n)| {
            let room = room
                .iter()
                .find(|(e, _)| e == *id)
                .map_or(default_room, |(_, r)| *r);
            *n >= room
        }) || room.iter().any(|(_, r)| *r == 0);
        {
            let mut in_flight = self.in_flight();
            for (id, n) in per {
                *in_flight
                    .entry((db.slug().clone(), id.clone()))
                    .or_insert(0) += n as usize;
            }
        }
        let mut limited = self.limited();
        if filled {
            limited.insert(db.slug().clone());
        } else {
            limited.remove(db.slug());
        }
    }

    /// The room of each endpoint of `db` with attempts in flight.
    fn room(&self, db: &TenantDb) -> Vec<(EndpointId, u32)> {
        let cap = self.inner.per_endpoint;
        self.in_flight()
            .iter()
            .filter(|((slug, _), _)| slug == db.slug())
            .map(|((_, id), n)| {
                let room = u32::try_from(cap.saturating_sub(*n)).unwrap_or(0);
                (id.clone(), room)
            })
            .collect()
    }

    /// One attempt of `endpoint` finished. If the tenant's last claim left work behind for
    /// lack of room, the tenant is drained again at once.
    fn landed(&self, slug: &TenantSlug, endpoint: &EndpointId) {
        {
            let mut in_flight = self.in_flight();
            let key = (slug.clone(), endpoint.clone());
            if let Some(n) = in_flight.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    in_flight.remove(&key);
                }
            }
        }
        if self.limited().contains(slug) {
            self.inner.store.work_signal().raise(slug);
        }
    }

    /// Tenants whose last claim gave some endpoint all its room (more may be waiting).
    fn limited(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<TenantSlug>> {
        self.inner
            .limited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantSlug, EndpointId), usize>> {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims up to `n` of the tenant's due deliveries; under a backlog, in the
    /// transaction that records the tenant's attempts waiting to be recorded. `None` if it
    /// failed (logged: the attempts' leases run out and they are made again).
    async fn claim(
        &self,
        db: &TenantDb,
        n: usize,
        room: &[(EndpointId, u32)],
        outcomes: &Outcomes,
    ) -> Option<Vec<ClaimedDelivery>> {
        let now = Timestamp::now();
        // Long enough for an attempt to time out and be recorded (twice its timeout, at
        // least 5 s more), short enough that a dead worker's deliveries go out again soon.
        let timeout = self.inner.config.client.total_timeout;
        let lease = timeout + timeout.max(Duration::from_secs(5));
        let until = now.plus_millis(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let claim = Claim::new(now, until, u32::try_from(n).unwrap_or(u32::MAX)).with_room(
            room,
            u32::try_from(self.inner.per_endpoint).unwrap_or(u32::MAX),
        );
        let items = outcomes.take_for_claim(db.slug());
        match delivery::record_and_claim(db, &self.inner.config.policy, &items, Some(claim)).await {
            Ok((states, claimed)) => {
                self.recorded(db, &items, states).await;
                Some(claimed)
            }
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, attempts = items.len(), "cannot record attempts and claim deliveries");
                None
            }
        }
    }

    /// Starts one task per claimed delivery, each holding one permit. The batch's events
    /// are read in one query; endpoints come from the cache of targets.
    async fn start(
        &self,
        db: TenantDb,
        claimed: Vec<ClaimedDelivery>,
        mut permits: Vec<OwnedSemaphorePermit>,
        tasks: &mut JoinSet<()>,
        outcomes: &Arc<Outcomes>,
    ) {
        if claimed.is_empty() {
            return;
        }
        let ids: Vec<&str> = claimed.iter().map(|c| c.event_id.as_str()).collect();
        let mut events = match db.event_jsons(&ids).await {
            Ok(e) => e,
            Err(e) => {
                // The leases run out and the batch is claimed again.
                tracing::error!(tenant = %db.slug(), error = %e, "cannot read the batch's events");
                for c in &claimed {
                    self.landed(db.slug(), &c.endpoint_id);
                    self.settle(db.slug(), &c.id);
                }
                return;
            }
        };
        let mut resolved: HashMap<&EndpointId, Resolved> = HashMap::new();
        for c in &claimed {
            if !resolved.contains_key(&c.endpoint_id) {
                let r = self
                    .inner
                    .targets
                    .get(
                        &db,
                        self.inner.store.master_key(),
                        &self.inner.guard,
                        &c.endpoint_id,
                    )
                    .await;
                resolved.insert(&c.endpoint_id, r);
            }
        }
        let resolved: HashMap<_, _> = resolved.into_iter().map(|(k, v)| (k.clone(), v)).collect();
        let events: HashMap<String, Arc<Payload>> = events
            .drain()
            .filter_map(|(id, (event_type, body))| {
                // Event types are dotted names: a valid header value, or an unreadable event.
                let Ok(event_type) = reqwest::header::HeaderValue::try_from(event_type) else {
                    tracing::error!(event = id, "the event's type is not a valid header value");
                    return None;
                };
                let payload = Payload {
                    event_type,
                    body: body.into(),
                };
                Some((id, Arc::new(payload)))
            })
            .collect();
        for c in claimed {
            // Claimed ahead of the free slots: wait for one.
            let permit = match permits.pop() {
                Some(p) => p,
                None => match self.inner.permits.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let target = resolved
                .get(&c.endpoint_id)
                .cloned()
                .unwrap_or(Resolved::Gone);
            let payload = events.get(&c.event_id).cloned();
            let worker = self.clone();
            let (db, outcomes) = (db.clone(), outcomes.clone());
            tasks.spawn(async move {
                let done = worker.deliver(&db, &c, target, payload).await;
                worker.landed(db.slug(), &c.endpoint_id);
                if let Some(done) = done {
                    outcomes.push(db.clone(), done);
                }
                // The slot is free once the outcome waits to be recorded, so the claim
                // that takes the slot records it.
                drop(permit);
                worker.settle(db.slug(), &c.id);
            });
        }
    }

    /// One attempt of one claimed delivery; what to record, if anything.
    async fn deliver(
        &self,
        db: &TenantDb,
        claimed: &ClaimedDelivery,
        target: Resolved,
        payload: Option<Arc<Payload>>,
    ) -> Option<Recorded> {
        let inner = &self.inner;
        let target: Arc<Target> = match target {
            // Deleted (its deliveries went with it), or unreadable now (the lease runs out
            // and the delivery is tried again).
            Resolved::Gone | Resolved::Unavailable => return None,
            Resolved::Broken(why) => return Some(self.unsent(claimed, why)),
            Resolved::Ready(t) => t,
        };
        if !target.active {
            // Boxed: a store call's future holds either backend's query and is large;
            // unboxed it would make every attempt's task that large, copied at each spawn.
            match Box::pin(db.cancel_delivery(claimed, Timestamp::now())).await {
                Ok(true) => {
                    inner.counters.cancelled.fetch_add(1, Ordering::Relaxed);
                    inner
                        .store
                        .metrics()
                        .delivery(DeliveryOutcome::Cancelled, None);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(delivery = %claimed.id, error = %e, "cannot cancel delivery")
                }
            }
            return None;
        }
        let Some(payload) = payload else {
            return Some(self.unsent(
                claimed,
                "the event of this delivery is missing or unreadable".to_owned(),
            ));
        };
        let (attempt, outcome) = attempt::send(&inner.client, claimed, &target, &payload).await;
        tracing::debug!(
            delivery = %claimed.id,
            attempt = attempt.number,
            status = ?attempt.response_status,
            error = attempt.error.as_deref().unwrap_or(""),
            "webhook attempt"
        );
        Some(Recorded {
            claimed: claimed.clone(),
            attempt,
            outcome,
            jitter: jitter(),
        })
    }

    /// A failed attempt that sent nothing, with why: it counts like any failure, so the
    /// retry schedule ends it instead of the lease running out forever.
    fn unsent(&self, claimed: &ClaimedDelivery, why: String) -> Recorded {
        tracing::error!(delivery = %claimed.id, reason = why, "delivery cannot be sent");
        Recorded {
            claimed: claimed.clone(),
            attempt: NewAttempt {
                delivery: claimed.id.clone(),
                number: claimed.attempts + 1,
                started_at: Timestamp::now(),
                duration_ms: 0,
                request_headers: SentHeaders::none(),
                response_status: None,
                response_excerpt: None,
                error: Some(why),
            },
            outcome: Outcome::Failed {
                gone: false,
                retry_after: None,
            },
            jitter: jitter(),
        }
    }

    /// The recorder: records the attempts the drain loop does not record with a claim,
    /// in one transaction per tenant (see [`Outcomes`]), until they are closed.
    fn recorder(&self) -> (Arc<Outcomes>, tokio::task::JoinHandle<()>) {
        let outcomes = Arc::new(Outcomes::new((self.inner.config.concurrency / 2).max(1)));
        let (worker, taking) = (self.clone(), outcomes.clone());
        let handle = tokio::spawn(async move {
            while let Some(groups) = taking.next().await {
                for (db, items) in groups {
                    worker.record(&db, &items).await;
                }
            }
        });
        (outcomes, handle)
    }

    async fn record(&self, db: &TenantDb, items: &[Recorded]) {
        match delivery::record_all(db, &self.inner.config.policy, items).await {
            Ok(states) => self.recorded(db, items, states).await,
            // The leases run out and the deliveries are tried again.
            Err(e) => {
                tracing::error!(tenant = %db.slug(), error = %e, attempts = items.len(), "cannot record attempts")
            }
        }
    }

    /// After attempts were recorded: the hint of retries to come, the counters and the
    /// metrics.
    async fn recorded(
        &self,
        db: &TenantDb,
        items: &[Recorded],
        states: Vec<Option<DeliveryState>>,
    ) {
        let inner = &self.inner;
        // Retries are due later: leave the hint, for this worker's poll and others'.
        let retry = states
            .iter()
            .flatten()
            .filter_map(|s| match s {
                DeliveryState::Retry { at } => Some(*at),
                _ => None,
            })
            .min();
        if let Some(at) = retry {
            match inner.store.hint_due(db.slug(), at).await {
                Ok(()) => {
                    let mut hinted = inner
                        .hinted
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let known = hinted.entry(db.slug().clone()).or_insert(at);
                    *known = (*known).min(at);
                }
                Err(e) => {
                    tracing::error!(tenant = %db.slug(), error = %e, "cannot leave a hint of due work")
                }
            }
        }
        let metrics = inner.store.metrics();
        for (state, item) in states.into_iter().zip(items) {
            let Some(state) = state else { continue };
            let (counter, outcome) = match state {
                DeliveryState::Succeeded => (&inner.counters.succeeded, DeliveryOutcome::Succeeded),
                DeliveryState::Retry { .. } => (&inner.counters.failed, DeliveryOutcome::Retrying),
                DeliveryState::Failed => (&inner.counters.failed, DeliveryOutcome::Failed),
                DeliveryState::Cancelled => (&inner.counters.failed, DeliveryOutcome::Cancelled),
            };
            counter.fetch_add(1, Ordering::Relaxed);
            metrics.delivery(
                outcome,
                Some(Duration::from_millis(item.attempt.duration_ms)),
            );
        }
    }
}

/// A number in [0, 1) to spread retries.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    mobieus_domain::random::id_fill(&mut b);
    // 53 random bits make an f64 in [0, 1) exactly.
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}
