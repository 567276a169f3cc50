//! The engine under test, in this process: a store over a temporary data dir (SQLite) or
//! a fresh database (Postgres), a tenant, endpoints registered through the core use case,
//! and the delivery worker.

use crate::pg::{PgDatabase, PgServer};
use mobieus_core::keys::{self, KeyRequest};
use mobieus_core::url_guard::{SystemResolver, UrlGuard};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_delivery::{Worker, WorkerConfig};
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::scope::{Scope, Scopes};
use mobieus_domain::sealing::MasterKey;
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

/// Where the engine keeps its data.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A temporary data dir of SQLite files.
    Sqlite,
    /// A fresh database on this server for each engine.
    Postgres(Arc<PgServer>),
}

impl Backend {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

#[derive(Debug)]
pub struct Engine {
    pub store: Store,
    pub db: TenantDb,
    pub guard: UrlGuard,
    /// Postgres: the engine's database (dropped with the engine) and a pool of the
    /// bench's own on it.
    pub pg: Option<PgSide>,
    pub dir: tempfile::TempDir,
}

/// The engine's Postgres database, and the bench's pool on it (two connections).
#[derive(Debug)]
pub struct PgSide {
    pub pool: sqlx::PgPool,
    // Last: dropping it drops the database.
    pub database: PgDatabase,
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
    /// A fresh data dir (and on Postgres a fresh database) with tenant `bench`.
    pub async fn new(backend: &Backend) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("mobieus-bench-")
            .tempdir()
            .map_err(err)?;
        let mut config = StoreConfig::new(dir.path());
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres(server) => {
                let database = server.create_database().await?;
                // A key given, not a key file: worker processes are given the same.
                config.master_key = Some(MasterKey::generate().to_base64());
                config.database_url = Some(database.url().to_owned());
                Some(database)
            }
        };
        let store = Store::open(&config).await.map_err(err)?;
        let pg = match database {
            Some(database) => Some(PgSide {
                pool: database.side_pool().await?,
                database,
            }),
            None => None,
        };
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
            pg,
            dir,
        })
    }

    /// Postgres: the schema of tenant `slug` (`tenant_<id>`).
    pub async fn tenant_schema(&self, slug: &str) -> Result<String, String> {
        let pg = self.pg.as_ref().ok_or("not on Postgres")?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM mobieus.tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&pg.pool)
            .await
            .map_err(err)?;
        Ok(format!("tenant_{id}"))
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
            None,
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

    /// A key on tenant `bench` that may read the feed, with a rate limit no bench reaches.
    pub async fn feed_key(&self) -> Result<String, String> {
        let request = KeyRequest {
            actor: "bench".to_owned(),
            name: "bench".to_owned(),
            scopes: Scopes::new([Scope::EventsRead]).map_err(err)?,
            mode: KeyMode::Live,
            rate_limit: RateLimit::new(1_000_000).map_err(err)?,
        };
        let key = keys::mint(&self.db, request).await.map_err(err)?;
        Ok(key.secret.expose().to_owned())
    }

    /// The API served on a loopback port, as `mobieus serve` serves it; its address.
    pub async fn serve_api(&self) -> Result<std::net::SocketAddr, String> {
        let app = mobieus_web::router(mobieus_web::AppState::new(
            self.store.clone(),
            self.guard.clone(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        tokio::spawn(async move {
            let _ = mobieus_web::serving::serve_plain(listener, app).await;
        });
        Ok(addr)
    }

    pub fn worker(&self, config: WorkerConfig) -> Result<Worker, String> {
        Worker::new(
            self.store.clone(),
            self.guard.clone(),
            config,
            mobieus_delivery::DeliveryMetrics::default(),
        )
        .map_err(err)
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
