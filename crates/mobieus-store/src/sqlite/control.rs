//! Queries on the control database.

use super::corrupt;
use crate::{Result, Tenant};
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use sqlx::{Row, SqlitePool};

pub(crate) async fn insert_tenant(
    pool: &SqlitePool,
    slug: &TenantSlug,
    hosts: &[HostName],
    at: Timestamp,
) -> Result<Tenant> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("INSERT INTO tenants (slug, created_at) VALUES (?, ?)")
        .bind(slug.as_str())
        .bind(at.millis())
        .execute(&mut *tx)
        .await?;
    for host in hosts {
        sqlx::query("INSERT INTO tenant_hosts (host, slug) VALUES (?, ?)")
            .bind(host.as_str())
            .bind(slug.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Tenant {
        slug: slug.clone(),
        hosts: hosts.to_vec(),
        created_at: at,
    })
}

const TENANT_SELECT: &str = "SELECT t.slug, t.created_at, group_concat(h.host, ' ') AS hosts
     FROM tenants t LEFT JOIN tenant_hosts h ON h.slug = t.slug";

pub(crate) async fn list_tenants(pool: &SqlitePool) -> Result<Vec<Tenant>> {
    let sql = format!("{TENANT_SELECT} GROUP BY t.slug ORDER BY t.slug");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.iter().map(tenant_from_row).collect()
}

fn tenant_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Tenant> {
    let slug: String = row.try_get("slug")?;
    let hosts: Option<String> = row.try_get("hosts")?;
    let mut hosts = hosts
        .unwrap_or_default()
        .split_whitespace()
        .map(|h| HostName::parse(h).map_err(|_| corrupt("host", h)))
        .collect::<Result<Vec<_>>>()?;
    hosts.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(Tenant {
        slug: TenantSlug::parse(&slug).map_err(|_| corrupt("tenant slug", &slug))?,
        hosts,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
    })
}

pub(crate) async fn tenant_by_slug(pool: &SqlitePool, slug: &TenantSlug) -> Result<Option<Tenant>> {
    let sql = format!("{TENANT_SELECT} WHERE t.slug = ? GROUP BY t.slug");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(tenant_from_row).transpose()
}

pub(crate) async fn tenant_exists(pool: &SqlitePool, slug: &TenantSlug) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE slug = ?")
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

pub(crate) async fn tenant_by_host(
    pool: &SqlitePool,
    host: &HostName,
) -> Result<Option<TenantSlug>> {
    let slug: Option<String> = sqlx::query_scalar("SELECT slug FROM tenant_hosts WHERE host = ?")
        .bind(host.as_str())
        .fetch_optional(pool)
        .await?;
    slug.map(|s| TenantSlug::parse(&s).map_err(|_| corrupt("tenant slug", &s)))
        .transpose()
}

/// Marks `slug` as having work due by `at` (the earlier of this and any hint there).
pub(crate) async fn hint_due(pool: &SqlitePool, slug: &TenantSlug, at: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO due_work (slug, due_at) VALUES (?1, ?2)
         ON CONFLICT (slug) DO UPDATE SET due_at = min(due_at, excluded.due_at)",
    )
    .bind(slug.as_str())
    .bind(at.millis())
    .execute(pool)
    .await?;
    Ok(())
}

/// Sets when `slug` next has work due (`None`: nothing pending), as found by a look at
/// its deliveries that started at `checked_at`: hints of work committed before then are
/// answered by it and replaced; a later one is kept when it asks for earlier.
pub(crate) async fn set_due(
    pool: &SqlitePool,
    slug: &TenantSlug,
    next: Option<Timestamp>,
    checked_at: Timestamp,
) -> Result<()> {
    match next {
        Some(at) => {
            sqlx::query(
                "INSERT INTO due_work (slug, due_at) VALUES (?1, ?2)
                 ON CONFLICT (slug) DO UPDATE SET due_at = CASE WHEN due_at <= ?3 THEN excluded.due_at ELSE min(due_at, excluded.due_at) END",
            )
            .bind(slug.as_str())
            .bind(at.millis())
            .bind(checked_at.millis())
            .execute(pool)
            .await?;
        }
        None => {
            // A hint at or before the check is answered by it; a later one is kept.
            sqlx::query("DELETE FROM due_work WHERE slug = ? AND due_at <= ?")
                .bind(slug.as_str())
                .bind(checked_at.millis())
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// The tenants with work due by `now`.
pub(crate) async fn due_tenants(pool: &SqlitePool, now: Timestamp) -> Result<Vec<TenantSlug>> {
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM due_work WHERE due_at <= ?")
        .bind(now.millis())
        .fetch_all(pool)
        .await?;
    slugs
        .iter()
        .map(|s| TenantSlug::parse(s).map_err(|_| corrupt("tenant slug", s)))
        .collect()
}
