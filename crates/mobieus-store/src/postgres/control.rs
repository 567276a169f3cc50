//! Queries on the control schema, and the creation of tenants' schemas.

use super::conn::{Pg, PgTenant, PgTx, tenant_schema};
use super::migrate;
use crate::db::Conn;
use crate::rows::{corrupt, slug_from};
use crate::{Result, StoreError, Tenant};
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use sqlx::{AssertSqlSafe, Row};
use std::sync::Arc;

/// Creates the control schema when missing, brings it up to date, and checks that
/// `key` is the master key the database's secrets were sealed with.
pub(crate) async fn init(pg: &Pg, key: &MasterKey) -> Result<()> {
    let mut tx = pg.control().await?;
    migrate::lock_control(&mut tx).await?;
    sqlx::raw_sql("CREATE SCHEMA IF NOT EXISTS mobieus")
        .execute(&mut *tx)
        .await?;
    migrate::run(&mut tx, migrate::CONTROL, 0).await?;
    check_master_key(&mut tx, key).await?;
    tx.commit().await?;
    Ok(())
}

const KEY_CHECK: &str = "master_key_check";
const KEY_CHECK_AAD: &[u8] = b"mobieus master key check";

/// The first node leaves a value sealed with its key; every node after must open it.
async fn check_master_key(tx: &mut PgTx, key: &MasterKey) -> Result<()> {
    let stored: Option<String> = sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(KEY_CHECK)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match stored {
        Some(sealed) => {
            let bytes = hex::decode(&sealed).map_err(|_| corrupt("master key check", "…"))?;
            key.open(&bytes, KEY_CHECK_AAD).map_err(|_| {
                StoreError::MasterKey(
                    "this is not the master key the database was created with (give every node the same MOBIEUS_MASTER_KEY)"
                        .to_owned(),
                )
            })?;
        }
        None => {
            let sealed = key.seal(b"mobieus", KEY_CHECK_AAD);
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(KEY_CHECK)
            .bind(hex::encode(&sealed))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Whether the control schema answers and holds every migration of this build.
pub(crate) async fn ready(pg: &Pg) -> Result<bool> {
    let mut tx = pg.control().await?;
    let v = migrate::version(&mut tx).await?;
    tx.commit().await?;
    Ok(v == migrate::latest(migrate::CONTROL))
}

/// Creates a tenant: its control rows and its schema, migrated, in one transaction, so
/// no process can find the tenant before its schema is complete.
pub(crate) async fn insert_tenant(
    pg: &Pg,
    slug: &TenantSlug,
    hosts: &[HostName],
    at: Timestamp,
) -> Result<Tenant> {
    let mut tx = pg.control().await?;
    let tenant =
        crate::queries::control::insert_tenant(&mut Conn::Pg(&mut tx), slug, hosts, at).await?;
    let id: i64 = sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let schema = tenant_schema(id);
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}"
    )))
    .execute(&mut *tx)
    .await?;
    migrate::run(&mut tx, migrate::TENANT, lock_of(id)).await?;
    tx.commit().await?;
    Ok(tenant)
}

fn lock_of(id: i64) -> i32 {
    // Ids past 2^31 share locks, which only makes two migrations wait for each other.
    (id & 0x7fff_ffff) as i32
}

/// The schema of a tenant known to exist, brought up to date (a newer build may have
/// added migrations since it was created).
pub(crate) async fn open_tenant(pg: &Pg, slug: &TenantSlug) -> Result<PgTenant> {
    let mut tx = pg.control().await?;
    let id: Option<i64> = sqlx::query("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    tx.commit().await?;
    let id = id.ok_or_else(|| corrupt("tenant without a schema", slug.as_str()))?;
    let tenant = PgTenant {
        pg: pg.clone(),
        schema: Arc::from(tenant_schema(id)),
    };
    let mut tx = tenant.begin().await?;
    migrate::run(&mut tx, migrate::TENANT, lock_of(id)).await?;
    tx.commit().await?;
    Ok(tenant)
}

/// Notes work due in `slug` at `at`, in the caller's transaction.
async fn hint_due_in(c: &mut sqlx::PgConnection, slug: &TenantSlug, at: Timestamp) -> Result<()> {
    sqlx::query("INSERT INTO mobieus.due_work (slug, due_at) VALUES ($1, $2)")
        .bind(slug.as_str())
        .bind(at.millis())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Notes work due in `slug` at `at`.
pub(crate) async fn hint_due(pg: &Pg, slug: &TenantSlug, at: Timestamp) -> Result<()> {
    let mut tx = pg.control().await?;
    hint_due_in(&mut tx, slug, at).await?;
    tx.commit().await?;
    Ok(())
}

/// The rows of work due by `now`: (row, tenant).
pub(crate) async fn due_work(pg: &Pg, now: Timestamp) -> Result<Vec<(i64, TenantSlug)>> {
    let mut tx = pg.control().await?;
    let rows =
        sqlx::query("SELECT id, slug FROM due_work WHERE due_at <= $1 ORDER BY id LIMIT 10000")
            .bind(now.millis())
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, slug_from(&r.try_get::<String, _>(1)?)?)))
        .collect()
}

/// Deletes the rows of due work a look at `slug` answered (rows read before the look
/// began), and notes when it next has work due, if it has.
pub(crate) async fn answer_due(
    pg: &Pg,
    slug: &TenantSlug,
    answered: &[i64],
    next: Option<Timestamp>,
) -> Result<()> {
    let mut tx = pg.control().await?;
    if !answered.is_empty() {
        sqlx::query("DELETE FROM due_work WHERE id = ANY($1)")
            .bind(answered)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(at) = next {
        hint_due_in(&mut tx, slug, at).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The channel a committed enqueue notifies, with the tenant's slug as payload.
pub(crate) const WORK_CHANNEL: &str = "mobieus_work";

/// Notes, in the caller's transaction, that `slug` has work due at `at`, and notifies
/// listening workers of it on commit: one statement.
pub(crate) async fn enqueued(
    c: &mut sqlx::PgConnection,
    slug: &TenantSlug,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "WITH hint AS (INSERT INTO mobieus.due_work (slug, due_at) VALUES ($1, $2))
         SELECT pg_notify($3, $1)",
    )
    .bind(slug.as_str())
    .bind(at.millis())
    .bind(WORK_CHANNEL)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Rows inserted, updated and deleted so far in each tenant's schema, by the server's
/// statistics (which lag commits by up to a second or so): a mark of change for the
/// worker's sweep, read for every tenant at once.
pub(crate) async fn rows_written(pg: &Pg) -> Result<std::collections::HashMap<TenantSlug, u64>> {
    let mut tx = pg.control().await?;
    let rows = sqlx::query(
        "SELECT t.slug, coalesce(sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del), 0)::BIGINT
         FROM tenants t
         JOIN pg_catalog.pg_stat_user_tables s ON s.schemaname = 'tenant_' || t.id
         -- Every change that matters to a sweep writes one of these (an action writes
         -- its event): three tables' counters, not all thirteen, are read per tenant.
         WHERE s.relname IN ('api_events', 'webhook_endpoints', 'webhook_deliveries')
         GROUP BY t.slug",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.iter()
        .map(|r| {
            let n: i64 = r.try_get(1)?;
            Ok((slug_from(&r.try_get::<String, _>(0)?)?, n.unsigned_abs()))
        })
        .collect()
}
