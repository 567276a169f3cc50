//! The delivery worker. It takes tenants with due work (raised in-process the moment a
//! transaction enqueues, or found by a poll of every tenant for work that other
//! processes enqueued or that came due), claims their due deliveries in batches with a
//! lease, and sends each with many in flight. A worker that dies loses nothing: its
//! leases run out and the deliveries are claimed again.

use crate::attempt::{self, Payload, Target};
use crate::client::{self, ClientSettings, DeliveryError};
use mobieus_core::delivery::{self, DeliveryPolicy};
use mobieus_core::url_guard::UrlGuard;
use mobieus_core::webhooks::signing_secrets;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::EndpointId;
use mobieus_store::{ClaimedDelivery, DeliveryState, Store, TenantDb};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The most deliveries claimed from one tenant at a time, so one busy tenant cannot hold
/// up the others for long.
const MAX_BATCH: usize = 256;

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub policy: DeliveryPolicy,
    /// Requests in flight at once (`--delivery-concurrency`).
    pub concurrency: usize,
    pub client: ClientSettings,
    /// How often every tenant is looked at for work this process was not told about.
    pub poll_interval: Duration,
    /// How often expired previous secrets are purged.
    pub maintenance_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            policy: DeliveryPolicy::default(),
            concurrency: 64,
            client: ClientSettings::default(),
            poll_interval: Duration::from_secs(1),
            maintenance_interval: Duration::from_secs(60),
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
    counters: Counters,
}

impl Worker {
    pub fn new(store: Store, guard: UrlGuard, config: WorkerConfig) -> Result<Self, DeliveryError> {
        let client = client::build(&guard, &config.client)?;
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                guard,
                client,
                config,
                permits,
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
        let mut tasks = JoinSet::new();
        let mut next_poll = Instant::now();
        let mut next_maintenance = Instant::now();
        tokio::pin!(shutdown);
        loop {
            let mut due: Vec<TenantSlug> = signal.take();
            if Instant::now() >= next_poll {
                next_poll = Instant::now() + inner.config.poll_interval;
                match inner.store.tenants().await {
                    Ok(all) => due = all.into_iter().map(|t| t.slug).collect(),
                    Err(e) => tracing::error!(error = %e, "cannot list tenants"),
                }
                if Instant::now() >= next_maintenance {
                    next_maintenance = Instant::now() + inner.config.maintenance_interval;
                    self.maintain(&due).await;
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.drain(due, &mut tasks) => {}
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = signal.raised() => {}
                () = tokio::time::sleep_until(next_poll) => {}
            }
        }
        let deadline = inner.config.client.total_timeout;
        if tokio::time::timeout(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!(
                left = tasks.len(),
                "stopping with attempts in flight; they will be claimed again"
            );
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
        self.maintain(&all).await;
        let mut tasks = JoinSet::new();
        self.drain(all, &mut tasks).await;
        while tasks.join_next().await.is_some() {}
        Ok(self.summary())
    }

    /// Purges the previous secrets whose grace window is over.
    async fn maintain(&self, tenants: &[TenantSlug]) {
        let now = Timestamp::now();
        for slug in tenants {
            let purged = match self.inner.store.tenant_db(slug).await {
                Ok(db) => db.purge_expired_secrets(now).await,
                Err(e) => Err(e),
            };
            match purged {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(tenant = %slug, purged = n, "expired previous signing secrets removed")
                }
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot purge expired secrets")
                }
            }
        }
    }

    /// Claims and starts every due delivery of these tenants, a batch per tenant in
    /// turn, as permits allow; returns when none of them has anything due left.
    async fn drain(&self, tenants: Vec<TenantSlug>, tasks: &mut JoinSet<()>) {
        let mut queue: VecDeque<TenantSlug> = tenants.into();
        while let Some(slug) = queue.pop_front() {
            let db = match self.inner.store.tenant_db(&slug).await {
                Ok(db) => db,
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot open tenant database");
                    continue;
                }
            };
            // Wait for one free slot, then take every other free one, up to a batch.
            let Ok(first) = self.inner.permits.clone().acquire_owned().await else {
                return;
            };
            let mut permits = vec![first];
            while permits.len() < MAX_BATCH {
                match self.inner.permits.clone().try_acquire_owned() {
                    Ok(p) => permits.push(p),
                    Err(_) => break,
                }
            }
            let wanted = permits.len();
            let claimed = match self.claim(&db, wanted).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(tenant = %slug, error = %e, "cannot claim deliveries");
                    continue;
                }
            };
            if claimed.len() == wanted {
                queue.push_back(slug);
            }
            while tasks.try_join_next().is_some() {}
            self.start(db, claimed, permits, tasks).await;
        }
    }

    async fn claim(
        &self,
        db: &TenantDb,
        n: usize,
    ) -> Result<Vec<ClaimedDelivery>, mobieus_store::StoreError> {
        let now = Timestamp::now();
        // Long enough for an attempt to time out and be recorded (twice its timeout, at
        // least 5 s more), short enough that a dead worker's deliveries go out again soon.
        let timeout = self.inner.config.client.total_timeout;
        let lease = timeout + timeout.max(Duration::from_secs(5));
        let until = now.plus_millis(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        db.claim_due(now, until, u32::try_from(n).unwrap_or(u32::MAX))
            .await
    }

    /// Starts one task per claimed delivery, each holding one permit.
    async fn start(
        &self,
        db: TenantDb,
        claimed: Vec<ClaimedDelivery>,
        mut permits: Vec<OwnedSemaphorePermit>,
        tasks: &mut JoinSet<()>,
    ) {
        // Endpoints are looked up (and their secrets opened) once per batch.
        let mut targets: HashMap<EndpointId, Option<Arc<Target>>> = HashMap::new();
        for c in claimed {
            let Some(permit) = permits.pop() else { break };
            let target = match targets.get(&c.endpoint_id) {
                Some(t) => t.clone(),
                None => {
                    let t = self.target(&db, &c.endpoint_id).await;
                    targets.insert(c.endpoint_id.clone(), t.clone());
                    t
                }
            };
            let worker = self.clone();
            let db = db.clone();
            tasks.spawn(async move {
                worker.deliver(&db, c, target).await;
                drop(permit);
            });
        }
    }

    async fn target(&self, db: &TenantDb, id: &EndpointId) -> Option<Arc<Target>> {
        let record = match db.endpoint_by_id(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(endpoint = %id, error = %e, "cannot read endpoint");
                return None;
            }
        };
        let now = Timestamp::now();
        match signing_secrets(db, self.inner.store.master_key(), &record, now) {
            Ok((current, previous)) => Some(Arc::new(Target {
                url: record.endpoint.url,
                active: record.endpoint.active,
                current,
                previous,
            })),
            Err(e) => {
                tracing::error!(endpoint = %id, error = %e, "cannot open the endpoint's signing secret");
                None
            }
        }
    }

    /// One attempt of one claimed delivery, recorded. On a store error the lease is left
    /// to run out, so the delivery is tried again.
    async fn deliver(&self, db: &TenantDb, claimed: ClaimedDelivery, target: Option<Arc<Target>>) {
        let inner = &self.inner;
        // No target: the endpoint was deleted (its deliveries went with it) or its
        // secret cannot be opened (logged); the lease runs out either way.
        let Some(target) = target else { return };
        if !target.active {
            match db.cancel_delivery(&claimed.id, Timestamp::now()).await {
                Ok(()) => inner.counters.cancelled.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    tracing::error!(delivery = %claimed.id, error = %e, "cannot cancel delivery");
                    return;
                }
            };
            return;
        }
        let payload = match db.event_json(&claimed.event_id).await {
            Ok(Some((event_type, body))) => Payload { event_type, body },
            Ok(None) => return,
            Err(e) => {
                tracing::error!(delivery = %claimed.id, error = %e, "cannot read event");
                return;
            }
        };
        let (attempt, outcome) =
            attempt::send(&inner.client, &inner.guard, &claimed, &target, &payload).await;
        tracing::debug!(
            delivery = %claimed.id,
            attempt = attempt.number,
            status = ?attempt.response_status,
            error = attempt.error.as_deref().unwrap_or(""),
            "webhook attempt"
        );
        match delivery::record(
            db,
            &inner.config.policy,
            &claimed,
            &attempt,
            outcome,
            jitter(),
        )
        .await
        {
            Ok(DeliveryState::Succeeded) => {
                inner.counters.succeeded.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {
                inner.counters.failed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(delivery = %claimed.id, error = %e, "cannot record attempt");
            }
        }
    }
}

/// A number in [0, 1) to spread retries.
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    mobieus_domain::random::fill(&mut b);
    // 53 random bits make an f64 in [0, 1) exactly.
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}
