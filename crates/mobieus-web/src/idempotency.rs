//! `Idempotency-Key` on the API's POSTs: the first request with a key runs and, when it
//! succeeds (2xx), its answer is kept (sealed, as it may hold a secret) for 24 hours; a
//! repeat of the same request gets the same answer again with `Idempotent-Replayed: true`
//! (its `request_id` set to the repeat's, so the body and `X-Request-Id` agree); the same
//! key on a different request is refused. A refused or failed request is not kept: the
//! client fixes the cause and retries with the same key.

use crate::AppState;
use crate::auth::ApiPrincipal;
use crate::problem::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_store::{IdempotencyClaim, StoredAnswer, TenantDb};
use sha2::{Digest, Sha256};

pub(crate) const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = 1024 * 1024;

fn key_of(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        )
    };
    let key = value.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

pub(crate) async fn idempotent(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match run(state, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(state: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(key) = key_of(&req)? else {
        return Ok(next.run(req).await);
    };
    let (Some(db), Some(principal)) = (
        req.extensions().get::<TenantDb>().cloned(),
        req.extensions().get::<ApiPrincipal>().cloned(),
    ) else {
        return Ok(next.run(req).await);
    };
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::invalid("body", "must be at most 1 MiB"))?;
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(parts.uri.path().as_bytes());
    hash.update(b"\n");
    hash.update(&body);
    let fingerprint = hash.finalize();
    let aad = format!("idempotency/{}/{}/{key}", db.slug(), principal.key_id).into_bytes();
    let master = state.store.master_key();
    let now = mobieus_domain::time::Timestamp::now();
    let token = match db
        .claim_idempotency_key(&principal.key_id, &key, &fingerprint, now)
        .await?
    {
        IdempotencyClaim::Started { token } => token,
        IdempotencyClaim::InUse => return Err(ApiError::IdempotencyKeyInUse),
        IdempotencyClaim::Mismatch => return Err(ApiError::IdempotencyKeyReused),
        IdempotencyClaim::Replay(answer) => {
            let body = master
                .open(&answer.sealed_body, &aad)
                .map_err(|e| ApiError::Internal(Box::new(e)))?;
            let body = with_current_request_id(body);
            let mut response = (
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK),
                body,
            )
                .into_response();
            let headers = response.headers_mut();
            if let Ok(ct) = HeaderValue::from_str(&answer.content_type) {
                headers.insert(header::CONTENT_TYPE, ct);
            }
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(response);
        }
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let status = response.status();
    // The action has run: whatever happens to the key now, the client gets its answer
    // (for a registration it is the only copy of the secret).
    if !status.is_success() {
        if let Err(e) = db
            .release_idempotency_key(&principal.key_id, &key, token)
            .await
        {
            tracing::error!(error = %e, "cannot release an idempotency key");
        }
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let answer = StoredAnswer {
        status: status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned(),
        sealed_body: master.seal(&body, &aad),
    };
    if let Err(e) = db
        .complete_idempotency_key(&principal.key_id, &key, token, &answer)
        .await
    {
        tracing::error!(error = %e, "cannot keep the answer of an idempotency key");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// The kept answer with this request's id in `meta.request_id`, every other byte as
/// first sent (the envelope ends with `"meta":{"request_id":"…"`, written by us).
fn with_current_request_id(body: Vec<u8>) -> Vec<u8> {
    const MARK: &[u8] = b"\"meta\":{\"request_id\":\"";
    let Some(start) = body
        .windows(MARK.len())
        .rposition(|w| w == MARK)
        .map(|i| i + MARK.len())
    else {
        return body;
    };
    let Some(len) = body[start..].iter().position(|b| *b == b'"') else {
        return body;
    };
    let mut out = body[..start].to_vec();
    out.extend_from_slice(crate::request_id::current().as_bytes());
    out.extend_from_slice(&body[start + len..]);
    out
}
