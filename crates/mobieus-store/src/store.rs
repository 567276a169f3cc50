//! The [`Store`]: the control database, and the door to each tenant's database.

use crate::sqlite;
use crate::{Result, StoreError, Tenant, TenantDb, WorkSignal};
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Where the data lives.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The data directory: `control.db`, `master.key` and `tenants/<slug>.db` under it.
    pub data_dir: PathBuf,
    /// The master key for secrets at rest (base64 or hex); `None`: the data dir's key file.
    pub master_key: Option<String>,
}

impl StoreConfig {
    /// A data dir with its own master key file.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            master_key: None,
        }
    }
}

/// The control database and a cache of open tenant databases. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) control: sqlite::Pool,
    master_key: MasterKey,
    pub(crate) tenants_dir: PathBuf,
    /// Open tenant databases, with when each was last used; at most `MAX_OPEN`, the least
    /// recently used closed first (ten thousand tenants must not hold ten thousand pools,
    /// and their file descriptors, open).
    open: Arc<RwLock<HashMap<TenantSlug, OpenTenant>>>,
    uses: Arc<AtomicU64>,
    /// Hosts already resolved to a tenant. Only hits are kept: tenants and their hosts
    /// are never removed, so a hit stays true, while a miss must be asked again (the CLI
    /// may create that tenant a moment later).
    hosts: Arc<RwLock<HashMap<HostName, TenantSlug>>>,
    signal: Arc<WorkSignal>,
    metrics: Arc<crate::Metrics>,
}

impl Store {
    /// Opens (creating when missing) the data directory and migrates the control database.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        let tenants_dir = config.data_dir.join("tenants");
        std::fs::create_dir_all(&tenants_dir).map_err(|source| StoreError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let master_key = crate::master_key::load(&config.data_dir, config.master_key.as_deref())?;
        let control = sqlite::open_control(&config.data_dir.join("control.db")).await?;
        Ok(Self {
            control,
            master_key,
            tenants_dir,
            open: Arc::default(),
            uses: Arc::default(),
            hosts: Arc::default(),
            signal: Arc::default(),
            metrics: Arc::default(),
        })
    }

    /// Creates a tenant and its database. `hosts` are extra host names besides
    /// `<slug>.localhost`. Fails with `Conflict` when the slug or a host is taken.
    pub async fn create_tenant(&self, slug: &TenantSlug, hosts: &[HostName]) -> Result<Tenant> {
        if self.tenant(slug).await?.is_some() {
            return Err(StoreError::Conflict { what: "tenant" });
        }
        // The database exists and is migrated before any process can find the tenant.
        let db = self.open_db(slug).await?;
        let tenant = sqlite::insert_tenant(&self.control, slug, hosts, Timestamp::now()).await?;
        self.cache(db);
        Ok(tenant)
    }

    /// This process's counters for `/metrics`.
    pub fn metrics(&self) -> &Arc<crate::Metrics> {
        &self.metrics
    }

    /// The delivery queue across every tenant: pending deliveries, the oldest one's age,
    /// disabled endpoints. Reads each tenant's database: for `/metrics`, which keeps the
    /// result for [`crate::metrics::QUEUE_FRESH`].
    pub async fn queue_gauges(&self, now: Timestamp) -> Result<crate::QueueGauges> {
        let mut gauges = crate::QueueGauges::default();
        let mut oldest: Option<Timestamp> = None;
        for tenant in self.tenants().await? {
            let stats = self.tenant_db(&tenant.slug).await?.queue_stats().await?;
            gauges.pending += stats.pending;
            gauges.endpoints_disabled += stats.disabled_endpoints;
            if let Some(at) = stats.oldest_pending {
                oldest = Some(oldest.map_or(at, |o: Timestamp| o.min(at)));
            }
        }
        gauges.oldest_pending_secs = oldest.map_or(0.0, |at| {
            (now.millis() - at.millis()).max(0) as f64 / 1000.0
        });
        Ok(gauges)
    }

    /// Raised when a transaction of this process enqueues deliveries.
    pub fn work_signal(&self) -> &Arc<WorkSignal> {
        &self.signal
    }

    /// The tenants with work due by `now`, by the hints in the control database.
    pub async fn due_tenants(&self, now: Timestamp) -> Result<Vec<TenantSlug>> {
        sqlite::due_tenants(&self.control, now).await
    }

    /// Marks `slug` as having work due by `at` (the earlier of this and any hint there).
    pub async fn hint_due(&self, slug: &TenantSlug, at: Timestamp) -> Result<()> {
        sqlite::hint_due(&self.control, slug, at).await
    }

    /// Records when `slug` next has work due (`None`: nothing pending), as found by a look
    /// that started at `checked_at`.
    pub async fn set_due(
        &self,
        slug: &TenantSlug,
        next: Option<Timestamp>,
        checked_at: Timestamp,
    ) -> Result<()> {
        sqlite::set_due(&self.control, slug, next, checked_at).await
    }

    /// A mark of a tenant's database files (the database's size and last change, the
    /// write-ahead log's size): equal marks mean nothing was committed in between, so a
    /// sweep can pass the tenant by. (Opening and closing connections touch the log's
    /// time, not its size, so they do not count as writes.)
    pub fn tenant_files_mark(
        &self,
        slug: &TenantSlug,
    ) -> Option<(std::time::SystemTime, u64, u64)> {
        let db = self.tenant_path(slug);
        let meta = std::fs::metadata(&db).ok()?;
        let wal = std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
        Some((meta.modified().ok()?, meta.len(), wal))
    }

    /// The key that seals secrets at rest.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// Readiness: the control database answers and holds this build's migrations (tenant
    /// databases are migrated as they are opened).
    pub async fn ready(&self) -> Result<bool> {
        sqlite::control_ready(&self.control)
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        sqlite::list_tenants(&self.control).await
    }

    pub async fn tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>> {
        sqlite::tenant_by_slug(&self.control, slug).await
    }

    /// The tenant a request's host names: a configured host, or `<slug>.localhost`.
    /// A host not known yet is looked up in the control database, so a tenant created
    /// by the CLI is served at once.
    pub async fn tenant_for_host(&self, host: &HostName) -> Result<Option<TenantSlug>> {
        if let Some(slug) = self
            .hosts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(host)
        {
            return Ok(Some(slug.clone()));
        }
        let found = match host.localhost_slug() {
            Some(slug) => sqlite::tenant_exists(&self.control, &slug)
                .await?
                .then_some(slug),
            None => sqlite::tenant_by_host(&self.control, host).await?,
        };
        if let Some(slug) = &found {
            self.hosts
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(host.clone(), slug.clone());
        }
        Ok(found)
    }

    /// The database of a tenant known to exist, opened (and migrated) on first use.
    pub async fn tenant_db(&self, slug: &TenantSlug) -> Result<TenantDb> {
        if let Some(db) = self.read_cache(slug) {
            return Ok(db);
        }
        let db = self.open_db(slug).await?;
        Ok(self.cache(db))
    }

    /// Opens (creating and migrating when needed) a tenant's database, uncached.
    async fn open_db(&self, slug: &TenantSlug) -> Result<TenantDb> {
        TenantDb::open(
            slug.clone(),
            &self.tenant_path(slug),
            self.signal.clone(),
            self.control.clone(),
        )
        .await
    }

    fn tenant_path(&self, slug: &TenantSlug) -> PathBuf {
        tenant_file(&self.tenants_dir, slug)
    }

    fn read_cache(&self, slug: &TenantSlug) -> Option<TenantDb> {
        let open = self
            .open
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (db, used) = open.get(slug)?;
        used.store(self.uses.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(db.clone())
    }

    /// Caches `db` unless another task opened the same tenant first; returns the one kept.
    /// Past `MAX_OPEN`, the least recently used tenant is dropped from the cache (its pool
    /// closes once the requests using it finish).
    fn cache(&self, db: TenantDb) -> TenantDb {
        let mut open = self
            .open
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.uses.fetch_add(1, Ordering::Relaxed);
        let kept = open
            .entry(db.slug().clone())
            .or_insert_with(|| (db, Arc::new(AtomicU64::new(now))))
            .0
            .clone();
        if open.len() > MAX_OPEN
            && let Some(oldest) = open
                .iter()
                .filter(|(slug, _)| *slug != kept.slug())
                .min_by_key(|(_, (_, used))| used.load(Ordering::Relaxed))
                .map(|(slug, _)| slug.clone())
        {
            open.remove(&oldest);
        }
        kept
    }
}

/// An open tenant database and when it was last used (a count of uses across tenants).
type OpenTenant = (TenantDb, Arc<AtomicU64>);

/// Tenant databases kept open at most.
const MAX_OPEN: usize = 512;

fn tenant_file(dir: &Path, slug: &TenantSlug) -> PathBuf {
    // Slugs are DNS labels, so they are safe file names.
    dir.join(format!("{}.db", slug.as_str()))
}

/// A tenant's database files as last seen: the database's last change and size, and the
/// write-ahead log's size.
pub type FilesMark = (std::time::SystemTime, u64, u64);
