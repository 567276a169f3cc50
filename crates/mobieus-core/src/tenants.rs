//! Creating and listing tenants.

use crate::{CoreError, Result};
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_store::{Store, Tenant};

/// Creates a tenant with its own database. Refuses a taken slug or host.
pub async fn create(store: &Store, slug: &TenantSlug, hosts: &[HostName]) -> Result<Tenant> {
    store
        .create_tenant(slug, hosts)
        .await
        .map_err(|e| match CoreError::from(e) {
            CoreError::Conflict(_) if hosts.is_empty() => {
                CoreError::Conflict(format!("tenant {slug} already exists"))
            }
            CoreError::Conflict(_) => {
                CoreError::Conflict(format!("tenant {slug} or one of its hosts already exists"))
            }
            other => other,
        })
}

/// A tenant's database, or `NotFound` for an unknown slug.
pub async fn open(store: &Store, slug: &TenantSlug) -> Result<mobieus_store::TenantDb> {
    if store.tenant(slug).await?.is_none() {
        return Err(CoreError::not_found("tenant", slug));
    }
    Ok(store.tenant_db(slug).await?)
}
