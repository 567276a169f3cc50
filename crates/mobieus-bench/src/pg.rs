//! The Postgres backend of the bench: the server `--database-url` names, a fresh database
//! created on it for each engine (`mobieus_bench_<random>`) and dropped with it (also on
//! error and on Ctrl-C), and what the server can tell about the work done: WAL bytes
//! and the CPU time of the database's backends.

use crate::engine::err;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// The server the databases are made on.
#[derive(Debug)]
pub struct PgServer {
    admin_url: String,
    /// `server_version`, e.g. `15.20 (Debian 15.20-0+deb12u1)`.
    pub version: String,
    /// `host:port`, for the report (never the URL: it may hold a password).
    pub address: String,
}

/// Databases created and not dropped yet: (admin URL, name). Whatever is left when the
/// bench ends (an error, Ctrl-C) is dropped by [`drop_leftovers`].
static CREATED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

impl PgServer {
    /// Connects to `admin_url` (a user that may create databases) to check it answers.
    pub async fn connect(admin_url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(admin_url)
            .map_err(|_| "--database-url: not a postgres:// URL".to_owned())?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err("--database-url: not a postgres:// URL".to_owned());
        }
        let address = format!(
            "{}:{}",
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432)
        );
        let mut admin = PgConnection::connect(admin_url)
            .await
            .map_err(|e| format!("cannot connect to the Postgres server at {address}: {e}"))?;
        let version: String = sqlx::query_scalar("SELECT current_setting('server_version')")
            .fetch_one(&mut admin)
            .await
            .map_err(err)?;
        let _ = admin.close().await;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            version,
            address,
        })
    }

    /// A new, empty database on this server.
    pub async fn create_database(&self) -> Result<PgDatabase, String> {
        let name = format!(
            "mobieus_bench_{}",
            mobieus_domain::random::base62(16).to_lowercase()
        );
        let mut admin = PgConnection::connect(&self.admin_url)
            .await
            .map_err(|e| format!("connect to the Postgres server: {e}"))?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(|e| format!("create the database {name}: {e}"))?;
        let _ = admin.close().await;
        registry().push((self.admin_url.clone(), name.clone()));
        let mut url = url::Url::parse(&self.admin_url).map_err(err)?;
        url.set_path(&name);
        let db = PgDatabase {
            admin_url: self.admin_url.clone(),
            url: url.to_string(),
            name,
        };
        Ok(db)
    }
}

fn registry() -> std::sync::MutexGuard<'static, Vec<(String, String)>> {
    CREATED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A database of the bench; dropped (connections and all) when this is.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// The URL of this database (the admin URL with its name as the path).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool of this database's own, for the bench's reads beside the store.
    pub async fn side_pool(&self) -> Result<PgPool, String> {
        let options = PgConnectOptions::from_str(&self.url)
            .map_err(err)?
            .application_name("mobieus-bench");
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(|e| format!("connect to {}: {e}", self.name))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if drop_database(&self.admin_url, &self.name) {
            registry().retain(|(_, n)| *n != self.name);
        }
    }
}

/// Drops every database the bench created and has not dropped yet.
pub fn drop_leftovers() {
    let left = std::mem::take(&mut *registry());
    for (admin_url, name) in left {
        drop_database(&admin_url, &name);
    }
}

/// `DROP DATABASE … WITH (FORCE)` (ending any connection left), on a thread of its own:
/// this runs from `Drop`, inside or outside the runtime. Whether it was dropped.
fn drop_database(admin_url: &str, name: &str) -> bool {
    let (admin_url, sql) = (
        admin_url.to_owned(),
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_url).await.map_err(err)?;
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .map_err(err)?;
            let _ = admin.close().await;
            Ok::<(), String>(())
        })
    })
    .join();
    match dropped {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            eprintln!("warning: could not drop the bench database {name}: {e}");
            false
        }
        Err(_) => {
            eprintln!("warning: could not drop the bench database {name}");
            false
        }
    }
}

/// The server's WAL position, in bytes from its start (the difference of two readings
/// is the WAL written in between, by every database of the server).
pub async fn wal_position(pool: &PgPool) -> Result<i64, String> {
    sqlx::query_scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::BIGINT")
        .fetch_one(pool)
        .await
        .map_err(err)
}

/// CPU time of this database's backend processes (one per connection), by pid, from
/// /proc (the server runs on this machine); empty when they cannot be read.
pub async fn backends_cpu(pool: &PgPool) -> Result<Vec<(i32, Duration)>, String> {
    let pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            .fetch_all(pool)
            .await
            .map_err(err)?;
    Ok(pids
        .into_iter()
        .filter_map(|pid| Some((pid, crate::sys::cpu_time_of(u32::try_from(pid).ok()?)?)))
        .collect())
}

/// The CPU the backends used between two readings of [`backends_cpu`]: a backend in
/// both counts its difference, one only in the second counts whole (it started since).
/// `None` when the backends' /proc entries could not be read.
pub fn cpu_between(before: &[(i32, Duration)], after: &[(i32, Duration)]) -> Option<Duration> {
    if after.is_empty() {
        return None;
    }
    Some(
        after
            .iter()
            .map(|(pid, now)| {
                let then = before
                    .iter()
                    .find(|(p, _)| p == pid)
                    .map_or(Duration::ZERO, |(_, t)| *t);
                now.saturating_sub(then)
            })
            .sum(),
    )
}

/// Connections the server accepts for ordinary users and how many are open now.
pub async fn connection_room(pool: &PgPool) -> Result<(i64, i64), String> {
    let (max, reserved, open): (i64, i64, i64) = sqlx::query_as(
        "SELECT current_setting('max_connections')::BIGINT,
                current_setting('superuser_reserved_connections')::BIGINT,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
    )
    .fetch_one(pool)
    .await
    .map_err(err)?;
    Ok((max - reserved, open))
}
