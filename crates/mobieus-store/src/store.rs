//! The [`Store`]: the control database, and the door to each tenant's database.

use crate::db::Conn;
use crate::queries::control;
use crate::{FeedSignal, Result, StoreError, Tenant, TenantDb, WorkSignal};
use crate::{postgres, sqlite};
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
    /// `postgres://…`: the data lives in this Postgres database (a control schema and one
    /// schema per tenant) instead of SQLite files in the data dir, which then holds only
    /// the master key file, if that. Several nodes may share it.
    pub database_url: Option<String>,
}

impl StoreConfig {
    /// A data dir with its own master key file.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            master_key: None,
            database_url: None,
        }
    }
}

/// The control database and a cache of open tenant databases. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) control: Control,
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
    /// Raised when a transaction of this process appends events.
    feed: Arc<FeedSignal>,
    /// Postgres: the rows of due work this process read, by tenant, with when it read
    /// them; a look at the tenant that began after the read answers them (see
    /// [`Store::set_due`]).
    due_read: Arc<std::sync::Mutex<DueRead>>,
}

/// The connection of a read of the control database (see `TenantDb`'s reads).
enum ControlReader {
    Sqlite(sqlite::Reader),
    Postgres(postgres::PgTx),
}

impl ControlReader {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            ControlReader::Sqlite(r) => Conn::Sqlite(r.conn()),
            ControlReader::Postgres(tx) => Conn::Pg(tx),
        }
    }
}

impl Control {
    async fn reader(&self) -> Result<ControlReader> {
        Ok(match self {
            Control::Sqlite(pool) => ControlReader::Sqlite(pool.reader()?),
            Control::Postgres(pg) => ControlReader::Postgres(pg.control().await?),
        })
    }
}

/// Rows of due work read, by tenant: row id → when it was first read.
type DueRead = HashMap<TenantSlug, HashMap<i64, Timestamp>>;

/// The control database.
#[derive(Clone, Debug)]
pub(crate) enum Control {
    Sqlite(sqlite::Pool),
    Postgres(postgres::Pg),
}

impl Store {
    /// Opens (creating when missing) the data directory and migrates the control database.
    pub async fn open(config: &StoreConfig) -> Result<Self> {
        let tenants_dir = config.data_dir.join("tenants");
        let dir_error = |source| StoreError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        };
        let (control, master_key) = match &config.database_url {
            Some(url) => {
                // Connect first: a database that cannot be reached leaves nothing behind.
                let pg = postgres::Pg::connect(url).await?;
                if config.master_key.is_none() {
                    std::fs::create_dir_all(&config.data_dir).map_err(dir_error)?;
                }
                let key = crate::master_key::load(&config.data_dir, config.master_key.as_deref())?;
                postgres::init(&pg, &key).await?;
                (Control::Postgres(pg), key)
            }
            None => {
                std::fs::create_dir_all(&tenants_dir).map_err(dir_error)?;
                let key = crate::master_key::load(&config.data_dir, config.master_key.as_deref())?;
                let pool = sqlite::open_control(&config.data_dir.join("control.db")).await?;
                (Control::Sqlite(pool), key)
            }
        };
        Ok(Self {
            control,
            master_key,
            tenants_dir,
            open: Arc::default(),
            uses: Arc::default(),
            hosts: Arc::default(),
            signal: Arc::default(),
            feed: Arc::default(),
            due_read: Arc::default(),
        })
    }

    /// Creates a tenant and its database. `hosts` are extra host names besides
    /// `<slug>.localhost`. Fails with `Conflict` when the slug or a host is taken.
    pub async fn create_tenant(&self, slug: &TenantSlug, hosts: &[HostName]) -> Result<Tenant> {
        if self.tenant(slug).await?.is_some() {
            return Err(StoreError::Conflict { what: "tenant" });
        }
        // The database exists and is migrated before any process can find the tenant.
        let tenant = match &self.control {
            Control::Sqlite(control) => {
                let db = self.open_db(slug).await?;
                let mut tx = sqlite::begin_write(control).await?;
                let tenant = control::insert_tenant(
                    &mut Conn::Sqlite(tx.conn()),
                    slug,
                    hosts,
                    Timestamp::now(),
                )
                .await?;
                tx.commit().await?;
                self.cache(db);
                tenant
            }
            // The schema is made in the transaction that records the tenant.
            Control::Postgres(pg) => {
                postgres::insert_tenant(pg, slug, hosts, Timestamp::now()).await?
            }
        };
        Ok(tenant)
    }

    /// The delivery queue across every tenant: pending deliveries, the oldest one's age,
    /// disabled endpoints. Reads each tenant's database: for the gauges of `/metrics`, which
    /// keep the result a while.
    pub async fn queue_figures(&self, now: Timestamp) -> Result<crate::QueueFigures> {
        let mut figures = crate::QueueFigures::default();
        let mut oldest: Option<Timestamp> = None;
        for tenant in self.tenants().await? {
            let stats = self.tenant_db(&tenant.slug).await?.queue_stats().await?;
            figures.pending += stats.pending;
            figures.endpoints_disabled += stats.disabled_endpoints;
            if let Some(at) = stats.oldest_pending {
                oldest = Some(oldest.map_or(at, |o: Timestamp| o.min(at)));
            }
        }
        figures.oldest_pending_secs = oldest.map_or(0.0, |at| {
            (now.millis() - at.millis()).max(0) as f64 / 1000.0
        });
        Ok(figures)
    }

    /// Wakes this process's worker when a transaction of another process enqueues
    /// deliveries (Postgres `LISTEN`); on SQLite, the worker's poll finds them.
    /// Listens until the handle returned is aborted.
    pub fn listen_for_work(&self) -> Option<tokio::task::JoinHandle<()>> {
        match &self.control {
            Control::Postgres(pg) => Some(postgres::listen::spawn(pg, self.signal.clone())),
            Control::Sqlite(_) => None,
        }
    }

    /// Wakes this process's live streams when a transaction of another process appends
    /// events (Postgres `LISTEN`); on SQLite, those watching the feed also read it on a
    /// timer. Listens until the handle returned is aborted.
    pub fn listen_for_feed(&self) -> Option<tokio::task::JoinHandle<()>> {
        match &self.control {
            Control::Postgres(pg) => Some(postgres::listen::spawn_feed(pg, self.feed.clone())),
            Control::Sqlite(_) => None,
        }
    }

    /// Raised when a transaction of this process appends events.
    pub fn feed_signal(&self) -> &Arc<FeedSignal> {
        &self.feed
    }

    /// Raised when a transaction of this process enqueues deliveries.
    pub fn work_signal(&self) -> &Arc<WorkSignal> {
        &self.signal
    }

    /// The tenants with work due by `now`, by the hints in the control database.
    pub async fn due_tenants(&self, now: Timestamp) -> Result<Vec<TenantSlug>> {
        match &self.control {
            Control::Sqlite(control) => sqlite::due_tenants(control, now).await,
            Control::Postgres(pg) => {
                let rows = postgres::due_work(pg, now).await?;
                let read_at = Timestamp::now();
                let mut read = self
                    .due_read
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (id, slug) in rows {
                    read.entry(slug).or_default().entry(id).or_insert(read_at);
                }
                // With the tenants read earlier and not looked at since.
                let slugs = read.keys().cloned().collect();
                Ok(slugs)
            }
        }
    }

    /// Marks `slug` as having work due by `at` (the earlier of this and any hint there).
    pub async fn hint_due(&self, slug: &TenantSlug, at: Timestamp) -> Result<()> {
        match &self.control {
            Control::Sqlite(control) => sqlite::hint_due(control, slug, at).await,
            Control::Postgres(pg) => postgres::hint_due(pg, slug, at).await,
        }
    }

    /// Records when `slug` next has work due (`None`: nothing pending), as found by a look
    /// that started at `checked_at`.
    pub async fn set_due(
        &self,
        slug: &TenantSlug,
        next: Option<Timestamp>,
        checked_at: Timestamp,
    ) -> Result<()> {
        match &self.control {
            Control::Sqlite(control) => sqlite::set_due(control, slug, next, checked_at).await,
            Control::Postgres(pg) => {
                // The rows read before the look began are answered by it; rows read
                // since (or committed since, not read yet) stay. Should the delete
                // fail, the rows are read again at the next poll: one more look.
                let answered = self.take_answered(slug, checked_at);
                postgres::answer_due(pg, slug, &answered, next).await
            }
        }
    }

    /// A mark of change of each of these tenants: equal marks mean nothing was
    /// committed in between, so a sweep can pass the tenant by. SQLite: its database
    /// files (the database's size and last change, the write-ahead log's size; opening
    /// and closing connections touch the log's time, not its size, so they do not count
    /// as writes). Postgres: the rows its schema's tables have had written, by the
    /// server's statistics, for every tenant in one query.
    pub async fn change_marks(
        &self,
        slugs: &[TenantSlug],
    ) -> Result<HashMap<TenantSlug, Option<ChangeMark>>> {
        match &self.control {
            Control::Sqlite(_) => Ok(slugs
                .iter()
                .map(|slug| (slug.clone(), self.tenant_files_mark(slug)))
                .collect()),
            Control::Postgres(pg) => {
                let mut written = postgres::rows_written(pg).await?;
                Ok(slugs
                    .iter()
                    .map(|slug| {
                        let mark = written
                            .remove(slug)
                            .map(|n| (std::time::SystemTime::UNIX_EPOCH, n, 0));
                        (slug.clone(), mark)
                    })
                    .collect())
            }
        }
    }

    fn tenant_files_mark(&self, slug: &TenantSlug) -> Option<ChangeMark> {
        let db = self.tenant_path(slug);
        let meta = std::fs::metadata(&db).ok()?;
        let wal = std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
        Some((meta.modified().ok()?, meta.len(), wal))
    }

    /// The key that seals secrets at rest.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// The rows of due work read for `slug` before `checked_at`, taken from those kept.
    fn take_answered(&self, slug: &TenantSlug, checked_at: Timestamp) -> Vec<i64> {
        let mut read = self
            .due_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(rows) = read.get_mut(slug) else {
            return Vec::new();
        };
        let answered = rows
            .iter()
            .filter(|(_, at)| **at < checked_at)
            .map(|(id, _)| *id)
            .collect();
        rows.retain(|_, at| *at >= checked_at);
        if rows.is_empty() {
            read.remove(slug);
        }
        answered
    }

    /// Readiness: the control database answers and holds this build's migrations (tenant
    /// databases are migrated as they are opened).
    pub async fn ready(&self) -> Result<bool> {
        match &self.control {
            Control::Sqlite(control) => sqlite::control_ready(control),
            Control::Postgres(pg) => postgres::ready(pg).await,
        }
    }

    /// Whether the data lives in Postgres.
    pub fn is_postgres(&self) -> bool {
        matches!(self.control, Control::Postgres(_))
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        control::list_tenants(&mut self.control.reader().await?.conn()).await
    }

    pub async fn tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>> {
        control::tenant_by_slug(&mut self.control.reader().await?.conn(), slug).await
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
        let mut reader = self.control.reader().await?;
        let c = &mut reader.conn();
        let found = match host.localhost_slug() {
            Some(slug) => control::tenant_exists(c, &slug).await?.then_some(slug),
            None => control::tenant_by_host(c, host).await?,
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
        match &self.control {
            Control::Sqlite(control) => {
                TenantDb::open_sqlite(
                    slug.clone(),
                    &self.tenant_path(slug),
                    (self.signal.clone(), self.feed.clone()),
                    control.clone(),
                )
                .await
            }
            Control::Postgres(pg) => {
                TenantDb::open_postgres(slug.clone(), pg, (self.signal.clone(), self.feed.clone()))
                    .await
            }
        }
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

/// A tenant's mark of change (see [`Store::change_marks`]); only compared for equality.
pub type ChangeMark = (std::time::SystemTime, u64, u64);
