//! A database of its own for each test: a temporary data dir (SQLite), or, when
//! `MOBIEUS_TEST_POSTGRES_URL` names a PostgreSQL server, a new database created on it
//! for the test and dropped with the value. Tests run in parallel either way.

use mobieus_store::{Store, StoreConfig};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::path::Path;

/// The variable that selects Postgres for the suites, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres` (a user that may create databases).
pub const POSTGRES_URL_VAR: &str = "MOBIEUS_TEST_POSTGRES_URL";

/// A data dir, and a Postgres database when the suite runs on Postgres.
#[derive(Debug)]
pub struct TestDb {
    pg: Option<PgDatabase>,
    // Last: the store's files go after everything else.
    dir: tempfile::TempDir,
}

impl TestDb {
    /// The backend the environment selects: Postgres when `MOBIEUS_TEST_POSTGRES_URL` is
    /// set, SQLite otherwise.
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.is_empty() => Self::postgres(&url).await,
            _ => Self::sqlite(),
        }
    }

    /// SQLite, whatever the environment (for what only SQLite has: files, backups).
    pub fn sqlite() -> Self {
        Self {
            pg: None,
            dir: temp_dir(),
        }
    }

    /// A new database on the server `admin_url` points at.
    pub async fn postgres(admin_url: &str) -> Self {
        Self {
            pg: Some(PgDatabase::create(admin_url).await),
            dir: temp_dir(),
        }
    }

    /// Whether the suite runs on Postgres (`MOBIEUS_TEST_POSTGRES_URL` is set).
    pub fn postgres_selected() -> bool {
        std::env::var(POSTGRES_URL_VAR).is_ok_and(|u| !u.is_empty())
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// The data dir (SQLite's files; with Postgres, only the master key file).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of this test's Postgres database.
    pub fn database_url(&self) -> Option<&str> {
        self.pg.as_ref().map(|pg| pg.url.as_str())
    }

    pub fn config(&self) -> StoreConfig {
        let mut config = StoreConfig::new(self.dir.path());
        config.database_url = self.database_url().map(str::to_owned);
        config
    }

    /// Opens a store on this database (again: every call is another node).
    pub async fn open(&self) -> Store {
        Store::open(&self.config()).await.expect("open the store")
    }
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mobieus-test-")
        .tempdir()
        .expect("create a temp data dir")
}

/// A database created for one test; dropped (with any connection left) when this is.
#[derive(Debug)]
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!(
            "mobieus_test_{}",
            mobieus_domain::random::base62(16).to_lowercase()
        );
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("connect to MOBIEUS_TEST_POSTGRES_URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("MOBIEUS_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Self {
            admin_url: admin_url.to_owned(),
            url: url.to_string(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Dropping runs outside any runtime the test may be tearing down.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// A direct connection to a database of the test, around the store: for arranging what
/// the store itself would never write (an old build's URL, a newer schema version) and
/// for reading columns the API never shows. Statements use `$1`-style parameters, which
/// both backends take.
#[derive(Debug)]
pub enum SideDoor {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl TestDb {
    /// Tenant `slug`'s database (SQLite: its file; Postgres: its schema).
    pub async fn tenant_side_door(&self, slug: &str) -> SideDoor {
        match &self.pg {
            None => {
                let path = self.dir.path().join("tenants").join(format!("{slug}.db"));
                SideDoor::sqlite(&path).await
            }
            Some(pg) => {
                let mut admin = PgConnection::connect(&pg.url).await.expect("connect");
                let id: i64 = sqlx::query_scalar("SELECT id FROM mobieus.tenants WHERE slug = $1")
                    .bind(slug)
                    .fetch_one(&mut admin)
                    .await
                    .expect("the tenant exists");
                let _ = admin.close().await;
                SideDoor::postgres(&pg.url, &format!("tenant_{id}")).await
            }
        }
    }

    /// The control database (SQLite: `control.db`; Postgres: the `mobieus` schema).
    pub async fn control_side_door(&self) -> SideDoor {
        match &self.pg {
            None => SideDoor::sqlite(&self.dir.path().join("control.db")).await,
            Some(pg) => SideDoor::postgres(&pg.url, "mobieus").await,
        }
    }
}

impl SideDoor {
    async fn sqlite(path: &Path) -> Self {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false);
        Self::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("open the database file"),
        )
    }

    async fn postgres(url: &str, schema: &str) -> Self {
        let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a postgres URL");
        let options = options.options([("search_path", schema)]);
        Self::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("connect to the test database"),
        )
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Runs a statement with text parameters; the rows it changed.
    pub async fn execute(&self, sql: &str, args: &[&str]) -> u64 {
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite(pool) => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(pool)
                    .await
                    .expect("the statement runs")
                    .rows_affected()
            }
            Self::Postgres(pool) => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(pool)
                    .await
                    .expect("the statement runs")
                    .rows_affected()
            }
        }
    }

    /// The columns of the first row a query returns, each read as bytes (`None`: NULL).
    pub async fn fetch_bytes(&self, sql: &str, args: &[&str]) -> Vec<Option<Vec<u8>>> {
        use sqlx::Row;
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            Self::Sqlite(pool) => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                let row = q.fetch_one(pool).await.expect("a row");
                (0..row.len()).map(|i| row.get(i)).collect()
            }
            Self::Postgres(pool) => {
                let mut q = sqlx::query(sql);
                for a in args {
                    q = q.bind(*a);
                }
                let row = q.fetch_one(pool).await.expect("a row");
                (0..row.len()).map(|i| row.get(i)).collect()
            }
        }
    }
}
