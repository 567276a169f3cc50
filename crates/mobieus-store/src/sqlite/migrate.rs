//! Embedded schema migrations, numbered by `PRAGMA user_version`: migration `n` (from 1)
//! is the `n`-th file of its folder. Safe when several processes open a database at once:
//! they apply what is missing under the write lock, one after another.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

pub(crate) const CONTROL: &[&str] = &[
    include_str!("../../migrations/sqlite/control/0001_tenants.sql"),
    include_str!("../../migrations/sqlite/control/0002_due_work.sql"),
];

pub(crate) const TENANT: &[&str] = &[
    include_str!("../../migrations/sqlite/tenant/0001_forum_events_keys.sql"),
    include_str!("../../migrations/sqlite/tenant/0002_webhooks_audit.sql"),
    include_str!("../../migrations/sqlite/tenant/0003_idempotency.sql"),
    include_str!("../../migrations/sqlite/tenant/0004_attempt_numbers.sql"),
    include_str!("../../migrations/sqlite/tenant/0005_lease_index.sql"),
    include_str!("../../migrations/sqlite/tenant/0006_accounts.sql"),
    include_str!("../../migrations/sqlite/tenant/0007_status_indexes.sql"),
    include_str!("../../migrations/sqlite/tenant/0008_check_without_lists.sql"),
    include_str!("../../migrations/sqlite/tenant/0009_test_events.sql"),
];

fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The version of a database migrated by an earlier build, which kept its migrations in
/// sqlx's table rather than in `user_version`.
fn earlier_build_version(conn: &Connection) -> Result<i64> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success",
        [],
        |r| r.get(0),
    )?)
}

/// Whether the control database answers and holds every migration of this build.
pub(crate) fn control_current(conn: &Connection) -> Result<bool> {
    Ok(version(conn)? == i64::try_from(CONTROL.len()).unwrap_or(i64::MAX))
}

/// Applies the migrations `conn`'s database lacks, all in one transaction, with foreign
/// keys off: a migration may rebuild a table (SQLite alters little in place), and
/// dropping the old one with them on would delete what refers to it (`ON DELETE
/// CASCADE`). They are checked before the commit, and on again after it.
pub(crate) fn run(conn: &mut Connection, migrations: &[&str]) -> Result<()> {
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    // A read first: a database already up to date costs no write lock.
    if version(conn)? == latest {
        return Ok(());
    }
    // Outside any transaction: inside one, SQLite ignores the pragma.
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = apply(conn, migrations, latest);
    conn.pragma_update(None, "foreign_keys", true)?;
    applied
}

fn apply(conn: &mut Connection, migrations: &[&str], latest: i64) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut current = version(&tx)?;
    if current == 0 {
        current = earlier_build_version(&tx)?;
    }
    if current > latest {
        return Err(StoreError::Migrate(format!(
            "the database is at schema version {current}, newer than this build's {latest}"
        )));
    }
    for sql in migrations
        .iter()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(StoreError::Migrate(format!(
            "after the migrations, rows of {table} refer to rows that do not exist; nothing was changed"
        )));
    }
    tx.pragma_update(None, "user_version", latest)?;
    tx.commit()?;
    Ok(())
}
