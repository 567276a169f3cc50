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
