//! The delivery worker. It takes tenants with due work (raised in-process the moment a
//! transaction enqueues, or found by the poll of the hints of due work and by the sweep:
//! work that other processes enqueued or that came due), claims their due deliveries in
//! batches with a lease, sends each with many in flight, and records what finished
//! together in one transaction per tenant (group commit): under a backlog, the
//! transaction of the tenant's next claim, so one commit records a batch and claims the
//! next. A worker that dies loses nothing: its leases run out and the deliveries are
//! claimed again; a record whose lease ran out is dropped.
//!
//! Its parts, in the order a delivery meets them: [`drain`] claims as [`slots`] free up,
//! holding [`leases`]; [`deliver`] makes the attempt; [`record`] writes what came of it
//! and leaves [`hints`] of retries to come; the [`sweep`] is the safety net and the purge.

mod deliver;
mod drain;
mod hints;
mod leases;
mod record;
mod slots;
mod sweep;

use crate::client::{self, ClientSettings, DeliveryError};
use crate::metrics::DeliveryMetrics;
use crate::targets::Targets;
use hints::Hints;
use leases::Leases;
use mobieus_core::delivery::DeliveryPolicy;
use mobieus_core::url_guard::UrlGuard;
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::Store;
use slots::Slots;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use sweep::Sweeps;
use tokio::task::JoinSet;
use tokio::time::Instant;

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
    slots: Slots,
    hints: Hints,
    sweeps: Sweeps,
    leases: Leases,
    targets: Targets,
    counters: Counters,
    metrics: DeliveryMetrics,
}

impl Worker {
    /// A worker over `store`, counting what it delivers in `metrics` (registered where
    /// `/metrics` renders them, or [`DeliveryMetrics::default`]).
    pub fn new(
        store: Store,
        guard: UrlGuard,
        config: WorkerConfig,
        metrics: DeliveryMetrics,
    ) -> Result<Self, DeliveryError> {
        let client = client::build(&guard, &config.client)?;
        let signal = store.work_signal().clone();
        let slots = Slots::new(config.concurrency, signal.clone());
        let targets = Targets::new(signal.clone());
        signal.worker_in_process();
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                guard,
                client,
                config,
                slots,
                hints: Hints::default(),
                sweeps: Sweeps::default(),
                leases: Leases::default(),
                targets,
                counters: Counters::default(),
                metrics,
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

    /// How many sweeps this worker has made (the first looks at every tenant).
    pub fn sweeps(&self) -> u64 {
        self.inner.sweeps.done()
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
        let mut next_sweep = Instant::now();
        tokio::pin!(shutdown);
        loop {
            // Tenants raised in this process, then what the hints or a sweep add.
            let mut due: Vec<TenantSlug> = signal.take();
            let mut sweeping = false;
            if Instant::now() >= next_poll {
                next_poll = Instant::now() + inner.config.poll_interval;
                if Instant::now() >= next_sweep {
                    next_sweep = Instant::now() + inner.config.maintenance_interval;
                    if let Some(tenants) = inner.sweeps.tenants(&inner.store).await {
                        due = tenants;
                    }
                    sweeping = true;
                } else {
                    inner.hints.poll(&inner.store, &mut due).await;
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.drain(due, &mut tasks, &outcomes, sweeping) => {}
            }
            if sweeping {
                inner.sweeps.finished();
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
        inner.leases.release(&inner.store).await;
        if let Some(listening) = listening {
            listening.abort();
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
}
