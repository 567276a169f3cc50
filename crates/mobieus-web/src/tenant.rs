//! Tenant by `Host`: the request's host names a tenant (a configured host, or
//! `<slug>.localhost`), whose database handle is put in the request for the handlers.
//! Nothing else chooses the tenant, so no handler can reach another tenant's rows.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_domain::tenant::HostName;
use mobieus_store::TenantDb;

/// The database of the tenant the request's host names (read with [`host_of`] first:
/// a request is not held across the lookup).
pub(crate) async fn tenant_of(
    state: &AppState,
    host: Option<HostName>,
) -> Result<TenantDb, ApiError> {
    let host = host.ok_or(ApiError::UnknownTenant)?;
    match state.store.tenant_for_host(&host).await? {
        Some(slug) => Ok(state.store.tenant_db(&slug).await?),
        None => Err(ApiError::UnknownTenant),
    }
}

pub(crate) fn host_of(req: &Request) -> Option<HostName> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .and_then(HostName::from_host_header)
}

pub(crate) async fn resolve_tenant(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    match tenant_of(&state, host_of(&req)).await {
        Ok(db) => {
            req.extensions_mut().insert(db);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}
