//! Embedded schema migrations for Postgres: migration `n` (from 1) is the `n`-th file of
//! its folder; each schema keeps its version in its own `schema_version` table. Safe
//! when several nodes start at once: a node applies what is missing while holding a
//! transaction-scoped advisory lock of that schema, so the others wait and then find
//! the work done.

use super::conn::PgTx;
use crate::{Result, StoreError};
use sqlx::{AssertSqlSafe, Row};

pub(crate) const CONTROL: &[&str] = &[include_str!(
    "../../migrations/postgres/control/0001_control.sql"
)];

pub(crate) const TENANT: &[&str] = &[
    include_str!("../../migrations/postgres/tenant/0001_tenant.sql"),
    include_str!("../../migrations/postgres/tenant/0002_claim_order_index.sql"),
    include_str!("../../migrations/postgres/tenant/0003_test_events.sql"),
];

/// The first key of every advisory lock mobieus takes ("mobi"); the second is 0 for the
/// control schema and a tenant's id for its schema.
const LOCK_SPACE: i32 = 0x6d6f_6269;

/// The version `tx`'s schema (its search path) is at; 0 when it has no version table.
pub(crate) async fn version(tx: &mut PgTx) -> Result<i64> {
    let exists: bool = sqlx::query("SELECT to_regclass('schema_version') IS NOT NULL")
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    if !exists {
        return Ok(0);
    }
    Ok(
        sqlx::query("SELECT coalesce(max(version), 0) FROM schema_version")
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?,
    )
}

pub(crate) fn latest(migrations: &[&str]) -> i64 {
    i64::try_from(migrations.len()).unwrap_or(i64::MAX)
}

/// Brings the schema `tx` is pinned to (which must exist) up to date, under the advisory
/// lock `(LOCK_SPACE, lock)`. The caller commits.
pub(crate) async fn run(tx: &mut PgTx, migrations: &[&str], lock: i32) -> Result<()> {
    let latest = latest(migrations);
    // A read first: a schema already up to date takes no lock.
    if version(tx).await? == latest {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(LOCK_SPACE)
        .bind(lock)
        .execute(&mut **tx)
        .await?;
    let current = version(tx).await?;
    if current > latest {
        return Err(StoreError::Migrate(format!(
            "the database is at schema version {current}, newer than this build's {latest}"
        )));
    }
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .execute(&mut **tx)
        .await?;
    for sql in migrations
        .iter()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        sqlx::raw_sql(AssertSqlSafe(*sql))
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("DELETE FROM schema_version")
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
        .bind(latest)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes the lock that creating the control schema is done under (a schema cannot be
/// pinned before it exists).
pub(crate) async fn lock_control(tx: &mut PgTx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
        .bind(LOCK_SPACE)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
