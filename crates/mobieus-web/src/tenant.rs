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

pub(crate) async fn resolve_tenant(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .and_then(HostName::from_host_header);
    let Some(host) = host else {
        return ApiError::UnknownTenant.into_response();
    };
    let db = match state.store.tenant_for_host(&host).await {
        Ok(Some(slug)) => state.store.tenant_db(&slug).await,
        Ok(None) => return ApiError::UnknownTenant.into_response(),
        Err(e) => Err(e),
    };
    match db {
        Ok(db) => {
            req.extensions_mut().insert(db);
            next.run(req).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
