//! The engine under test, in this process: a store over a temporary data dir, a tenant,
//! endpoints registered through the core use case, and the delivery worker.

use mobieus_core::url_guard::{SystemResolver, UrlGuard};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_delivery::{Worker, WorkerConfig};
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::webhook::{EndpointId, EventSelection, LoopbackPolicy, RetrySchedule};
use mobieus_store::{Store, StoreConfig, TenantDb};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[derive(Debug)]
pub struct Engine {
    pub store: Store,
    pub db: TenantDb,
    pub guard: UrlGuard,
    pub dir: tempfile::TempDir,
}

/// A worker running in the background until stopped.
#[derive(Debug)]
pub struct Running {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

impl Engine {
    /// A fresh data dir with tenant `bench`.
    pub async fn new() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("mobieus-bench-")
            .tempdir()
            .map_err(err)?;
        let store = Store::open(&StoreConfig::new(dir.path()))
            .await
            .map_err(err)?;
        let slug = TenantSlug::parse("bench").map_err(err)?;
        mobieus_core::tenants::create(&store, &slug, &[])
            .await
            .map_err(err)?;
        let db = store.tenant_db(&slug).await.map_err(err)?;
        // The receiver is on loopback: the development allowance, as in the tests.
        let guard = UrlGuard::new(Arc::new(SystemResolver), LoopbackPolicy::Allow);
        Ok(Self {
            store,
            db,
            guard,
            dir,
        })
    }

    /// Registers an endpoint for `events` (all when empty) on `db`.
    pub async fn endpoint_on(&self, db: &TenantDb, url: &str) -> Result<EndpointId, String> {
        let created = webhooks::create(
            db,
            self.store.master_key(),
            EndpointRequest {
                url: self.guard.parse(url).map_err(err)?,
                label: None,
                events: EventSelection::All,
            },
            "bench",
        )
        .await
        .map_err(err)?;
        Ok(created.endpoint.id)
    }

    pub async fn endpoint(&self, url: &str) -> Result<EndpointId, String> {
        self.endpoint_on(&self.db, url).await
    }

    pub fn config(concurrency: usize) -> WorkerConfig {
        let mut config = WorkerConfig {
            concurrency,
            ..WorkerConfig::default()
        };
        config.client.idle_per_host = concurrency;
        config.policy.schedule = RetrySchedule::parse("0s,1s,5s").unwrap_or_default();
        config
    }

    pub fn worker(&self, config: WorkerConfig) -> Result<Worker, String> {
        Worker::new(self.store.clone(), self.guard.clone(), config).map_err(err)
    }

    pub fn spawn(worker: Worker) -> Running {
        let (stop, mut rx) = watch::channel(false);
        let handle = tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
        });
        Running { stop, handle }
    }
}

/// Lets the worker's first poll pass happen before measuring.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}
