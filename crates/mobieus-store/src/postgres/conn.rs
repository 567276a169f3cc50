//! The connection pool, and transactions pinned to one schema.
//!
//! One pool serves every tenant (a connection is not tied to a schema): each transaction
//! starts with `SET LOCAL search_path` to its schema only, sent with its `BEGIN` in one
//! round trip, and the setting ends with the transaction. Nothing else sets the search
//! path, so an unqualified table name in a tenant's transaction can only reach that
//! tenant's tables, exactly as a query on a tenant's SQLite file can only reach its file.

use crate::Result;
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The schema of the control tables.
pub(crate) const CONTROL_SCHEMA: &str = "mobieus";

/// Connections kept per process at most (`MOBIEUS_PG_POOL` overrides it).
const DEFAULT_POOL: u32 = 16;
/// How long a transaction waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A transaction on one schema.
pub(crate) type PgTx = Transaction<'static, Postgres>;

/// The pool of one process. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Pg {
    pool: PgPool,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("Pg")
            .field("size", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl Pg {
    /// Connects to `url` (`postgres://…`). The error never repeats the URL.
    pub(crate) async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|_| {
            crate::StoreError::Migrate("the database URL is not a valid postgres:// URL".to_owned())
        })?;
        let options = options.application_name("mobieus");
        let size = std::env::var("MOBIEUS_PG_POOL")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &u32| *n > 0)
            .unwrap_or(DEFAULT_POOL);
        // One connection first, so a wrong host, port or password is said at once and
        // plainly (a pool would wait out its timeout and say only that).
        let probe = options.connect().await.map_err(|e| {
            crate::StoreError::Migrate(format!("cannot connect to Postgres: {}", describe(&e)))
        })?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction on the control schema.
    pub(crate) async fn control(&self) -> Result<PgTx> {
        self.begin_in(CONTROL_SCHEMA).await
    }

    /// A transaction pinned to `schema` (a name this module made: `mobieus` or
    /// `tenant_<id>`, never one from outside).
    pub(crate) async fn begin_in(&self, schema: &str) -> Result<PgTx> {
        self.begin_with(schema, "").await
    }

    /// A transaction pinned to `schema`, with `more` (constant statements) after its
    /// `BEGIN`, in the same round trip.
    async fn begin_with(&self, schema: &str, more: &'static str) -> Result<PgTx> {
        debug_assert!(is_schema_name(schema));
        Ok(self
            .pool
            .begin_with(AssertSqlSafe(format!(
                "BEGIN; SET LOCAL search_path TO {schema}; {more}"
            )))
            .await?)
    }
}

/// One tenant's schema, over the process's pool. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct PgTenant {
    pub(crate) pg: Pg,
    pub(crate) schema: Arc<str>,
}

impl PgTenant {
    /// A transaction pinned to this tenant's schema.
    pub(crate) async fn begin(&self) -> Result<PgTx> {
        self.pg.begin_in(&self.schema).await
    }

    /// A transaction whose commit does not wait for the log to reach the disk: for what
    /// a crash may lose without harm. A claim lost with the server's last moments only
    /// makes its deliveries claimable again at once (sent at least once, as always), and
    /// the claim is on every delivery's path.
    pub(crate) async fn begin_unflushed(&self) -> Result<PgTx> {
        self.pg
            .begin_with(&self.schema, "SET LOCAL synchronous_commit TO off")
            .await
    }
}

/// The schema of the tenant with this control id.
pub(crate) fn tenant_schema(id: i64) -> String {
    format!("tenant_{id}")
}

/// `mobieus` or `tenant_<digits>`: the only names put into a statement's text.
fn is_schema_name(s: &str) -> bool {
    s == CONTROL_SCHEMA
        || s.strip_prefix("tenant_")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// What went wrong connecting, without the URL: the kind of failure and Postgres's own
/// message (which names the user or database, never a password).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        sqlx::Error::Tls(_) => "TLS failed".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_made_here_are_schema_names() {
        assert!(is_schema_name("mobieus"));
        assert!(is_schema_name(&tenant_schema(42)));
        assert!(!is_schema_name("tenant_"));
        assert!(!is_schema_name("tenant_1; DROP TABLE x"));
        assert!(!is_schema_name("public"));
    }
}
