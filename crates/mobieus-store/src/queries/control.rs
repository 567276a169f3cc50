//! The control database's tenants and their host names, written once for both backends
//! (on Postgres, in the control schema). What differs stays with the backend: the
//! creation of a tenant's schema on Postgres, and how each backend keeps its hints of
//! due work.

use crate::db::{Conn, Row, Stmt};
use crate::rows::{corrupt, slug_from};
use crate::{Result, Tenant};
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;

/// Records a tenant and its extra host names, in the caller's transaction.
pub(crate) async fn insert_tenant(
    c: &mut Conn<'_>,
    slug: &TenantSlug,
    hosts: &[HostName],
    at: Timestamp,
) -> Result<Tenant> {
    let stmt = Stmt::new("INSERT INTO tenants (slug, created_at) VALUES ($1, $2)")
        .bind(slug.as_str())
        .bind(at.millis());
    c.exec(stmt).await?;
    for host in hosts {
        let stmt = Stmt::new("INSERT INTO tenant_hosts (host, slug) VALUES ($1, $2)")
            .bind(host.as_str())
            .bind(slug.as_str());
        c.exec(stmt).await?;
    }
    Ok(Tenant {
        slug: slug.clone(),
        hosts: hosts.to_vec(),
        created_at: at,
    })
}

const TENANT_SELECT: &str = "SELECT t.slug, t.created_at, string_agg(h.host, ' ') AS hosts
     FROM tenants t LEFT JOIN tenant_hosts h ON h.slug = t.slug";

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
        slug: slug_from(&slug)?,
        hosts,
        created_at: Timestamp::from_millis(row.get("created_at")?),
    })
}

pub(crate) async fn list_tenants(c: &mut Conn<'_>) -> Result<Vec<Tenant>> {
    let sql = format!("{TENANT_SELECT} GROUP BY t.slug, t.created_at ORDER BY t.slug");
    c.all(Stmt::new(sql), tenant_from_row).await
}

pub(crate) async fn tenant_by_slug(c: &mut Conn<'_>, slug: &TenantSlug) -> Result<Option<Tenant>> {
    let sql = format!("{TENANT_SELECT} WHERE t.slug = $1 GROUP BY t.slug, t.created_at");
    c.one(Stmt::new(sql).bind(slug.as_str()), tenant_from_row)
        .await
}

pub(crate) async fn tenant_exists(c: &mut Conn<'_>, slug: &TenantSlug) -> Result<bool> {
    let stmt = Stmt::new("SELECT 1 FROM tenants WHERE slug = $1").bind(slug.as_str());
    Ok(c.one(stmt, |_| Ok(())).await?.is_some())
}

pub(crate) async fn tenant_by_host(
    c: &mut Conn<'_>,
    host: &HostName,
) -> Result<Option<TenantSlug>> {
    let stmt = Stmt::new("SELECT slug FROM tenant_hosts WHERE host = $1").bind(host.as_str());
    c.one(stmt, |r| slug_from(&r.get::<String>(0)?)).await
}
