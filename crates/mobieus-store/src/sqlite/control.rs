//! Queries on the control database.

use super::Pool;
use super::sql::{all, exec, one};
use crate::rows::{corrupt, slug_from};
use crate::{Result, Tenant};
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use rusqlite::{Row, params};

pub(crate) async fn insert_tenant(
    pool: &Pool,
    slug: &TenantSlug,
    hosts: &[HostName],
    at: Timestamp,
) -> Result<Tenant> {
    pool.write(|c| {
        exec(
            c,
            "INSERT INTO tenants (slug, created_at) VALUES (?, ?)",
            params![slug.as_str(), at.millis()],
        )?;
        for host in hosts {
            exec(
                c,
                "INSERT INTO tenant_hosts (host, slug) VALUES (?, ?)",
                params![host.as_str(), slug.as_str()],
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(Tenant {
        slug: slug.clone(),
        hosts: hosts.to_vec(),
        created_at: at,
    })
}

const TENANT_SELECT: &str = "SELECT t.slug, t.created_at, group_concat(h.host, ' ') AS hosts
     FROM tenants t LEFT JOIN tenant_hosts h ON h.slug = t.slug";

pub(crate) async fn list_tenants(pool: &Pool) -> Result<Vec<Tenant>> {
    let sql = format!("{TENANT_SELECT} GROUP BY t.slug ORDER BY t.slug");
    pool.read(|c| all(c, &sql, [], tenant_from_row))
}

fn tenant_from_row(row: &Row<'_>) -> Result<Tenant> {
    let slug: String = row.get("slug")?;
    let hosts: Option<String> = row.get("hosts")?;
    let mut hosts = hosts
        .unwrap_or_default()
        .split_whitespace()
        .map(|h| HostName::parse(h).map_err(|_| corrupt("host", h)))
        .collect::<Result<Vec<_>>>()?;
    hosts.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(Tenant {
        slug: TenantSlug::parse(&slug).map_err(|_| corrupt("tenant slug", &slug))?,
        hosts,
        created_at: Timestamp::from_millis(row.get("created_at")?),
    })
}

pub(crate) async fn tenant_by_slug(pool: &Pool, slug: &TenantSlug) -> Result<Option<Tenant>> {
    let sql = format!("{TENANT_SELECT} WHERE t.slug = ? GROUP BY t.slug");
    pool.read(|c| one(c, &sql, [slug.as_str()], tenant_from_row))
}

pub(crate) async fn tenant_exists(pool: &Pool, slug: &TenantSlug) -> Result<bool> {
    pool.read(|c| {
        Ok(one(
            c,
            "SELECT 1 FROM tenants WHERE slug = ?",
            [slug.as_str()],
            |_| Ok(()),
        )?
        .is_some())
    })
}

pub(crate) async fn tenant_by_host(pool: &Pool, host: &HostName) -> Result<Option<TenantSlug>> {
    pool.read(|c| {
        one(
            c,
            "SELECT slug FROM tenant_hosts WHERE host = ?",
            [host.as_str()],
            |r| slug_from(&r.get::<_, String>(0)?),
        )
    })
}

/// Marks `slug` as having work due by `at` (the earlier of this and any hint there).
pub(crate) async fn hint_due(pool: &Pool, slug: &TenantSlug, at: Timestamp) -> Result<()> {
    pool.write(|c| {
        exec(
            c,
            "INSERT INTO due_work (slug, due_at) VALUES (?1, ?2)
             ON CONFLICT (slug) DO UPDATE SET due_at = min(due_at, excluded.due_at)",
            params![slug.as_str(), at.millis()],
        )
    })
    .await?;
    Ok(())
}

/// Sets when `slug` next has work due (`None`: nothing pending), as found by a look at
/// its deliveries that started at `checked_at`: hints of work committed before then are
/// answered by it and replaced; a later one is kept when it asks for earlier.
pub(crate) async fn set_due(
    pool: &Pool,
    slug: &TenantSlug,
    next: Option<Timestamp>,
    checked_at: Timestamp,
) -> Result<()> {
    pool.write(|c| match next {
        Some(at) => exec(
            c,
            "INSERT INTO due_work (slug, due_at) VALUES (?1, ?2)
             ON CONFLICT (slug) DO UPDATE SET due_at = CASE WHEN due_at <= ?3 THEN excluded.due_at ELSE min(due_at, excluded.due_at) END",
            params![slug.as_str(), at.millis(), checked_at.millis()],
        ),
        // A hint at or before the check is answered by it; a later one is kept.
        None => exec(
            c,
            "DELETE FROM due_work WHERE slug = ? AND due_at <= ?",
            params![slug.as_str(), checked_at.millis()],
        ),
    })
    .await?;
    Ok(())
}

/// The tenants with work due by `now`.
pub(crate) async fn due_tenants(pool: &Pool, now: Timestamp) -> Result<Vec<TenantSlug>> {
    pool.read(|c| {
        all(
            c,
            "SELECT slug FROM due_work WHERE due_at <= ?",
            [now.millis()],
            |r| slug_from(&r.get::<_, String>(0)?),
        )
    })
}
