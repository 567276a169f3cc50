//! API-key authentication, per tenant: the key is looked up by its SHA-256 in the
//! request's tenant database only (a key of another tenant is simply unknown there),
//! compared in constant time, checked for revocation, and counted against its rate
//! limit. Handlers then ask the [`ApiPrincipal`] for the scope they need.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_core::keys;
use mobieus_domain::api_key::{ApiKeyId, ApiKeySecret, KeyHash};
use mobieus_domain::scope::{Scope, Scopes};
use mobieus_domain::time::Timestamp;
use mobieus_store::TenantDb;

/// The key a request was made with.
#[derive(Clone, Debug)]
pub(crate) struct ApiPrincipal {
    /// Names the actor in the audit log.
    pub key_id: ApiKeyId,
    pub scopes: Scopes,
    /// The key's hash, to look it up again (a live stream checks that it still holds).
    pub hash: KeyHash,
}

impl ApiPrincipal {
    /// Whether the key is still known and not revoked.
    pub(crate) async fn still_valid(&self, db: &TenantDb) -> Result<bool, ApiError> {
        Ok(matches!(db.api_key_by_hash(&self.hash).await?,
            Some(r) if r.hash.matches(&self.hash) && r.revoked_at.is_none()))
    }

    pub(crate) fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope))
        }
    }
}

fn bearer(req: &Request) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::MissingApiKey)?;
    let value = value.to_str().map_err(|_| ApiError::InvalidApiKey)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::InvalidApiKey),
    }
}

pub(crate) async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(db) = req.extensions().get::<TenantDb>().cloned() else {
        return ApiError::UnknownTenant.into_response();
    };
    let presented = match bearer(&req)
        .and_then(|t| ApiKeySecret::parse(t).map_err(|_| ApiError::InvalidApiKey))
    {
        Ok(secret) => secret,
        Err(e) => return e.into_response(),
    };
    let hash = presented.hash();
    let record = match db.api_key_by_hash(&hash).await {
        Ok(Some(r)) if r.hash.matches(&hash) && r.revoked_at.is_none() => r,
        Ok(_) => return ApiError::InvalidApiKey.into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let decision = state
        .limiter
        .check(db.slug(), &record.id, record.rate_limit)
        .await;
    if !decision.allowed {
        let mut response = ApiError::RateLimited {
            retry_after: decision.reset_secs,
        }
        .into_response();
        decision.write_headers(response.headers_mut());
        return response;
    }
    let now = Timestamp::now();
    if keys::use_needs_stamp(&record, now) {
        let (db, id) = (db.clone(), record.id.clone());
        // Off the request path: a slow write must not delay the answer.
        tokio::spawn(async move {
            if let Err(e) = keys::record_use(&db, &id, now).await {
                tracing::warn!(key_id = %id, error = %e, "could not record API key use");
            }
        });
    }
    req.extensions_mut().insert(ApiPrincipal {
        key_id: record.id,
        scopes: record.scopes,
        hash,
    });
    let mut response = next.run(req).await;
    decision.write_headers(response.headers_mut());
    response
}
