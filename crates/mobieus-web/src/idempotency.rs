//! `Idempotency-Key` on the API's POSTs: the first request with a key runs and, when it
//! succeeds (2xx), its answer is kept (sealed, as it may hold a secret) for 24 hours; a
//! repeat of the same request gets the same answer again with `Idempotent-Replayed: true`
//! (its `request_id` set to the repeat's, so the body and `X-Request-Id` agree); the same
//! key on a different request is refused. A refused or failed request is not kept: the
//! client fixes the cause and retries with the same key.
//!
//! The use case claims the key and keeps the answer in its own transaction
//! (`mobieus_core::idempotency`), so a process that dies just after the commit still
//! answers the retry with the first answer. This middleware reads the key and the
//! request's fingerprint for the handler ([`RequestKey`]), answers a repeat at once from
//! what is kept (without running the handler), and turns a repeat found by the use case
//! ([`ApiError::Replay`]) into the same answer.
use crate::AppState;
use crate::auth::ApiPrincipal;
use crate::problem::ApiError;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_core::idempotency::{Idempotency, RequestKey};
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::time::Timestamp;
use mobieus_store::{IdempotencyClaim, StoredAnswer, TenantDb};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub(crate) const HEADER: &str = "idempotency-key";

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
    let (mut parts, body) = req.into_parts();
    // Read within the handlers' own limit: a body over it is the same `413` either way.
    let body = crate::body::read(&parts.headers, body).await?;
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b" ");
    hash.update(parts.uri.path().as_bytes());
    hash.update(b"\n");
    hash.update(&body);
    let request_key = RequestKey {
        key_id: principal.key_id.clone(),
        key,
        fingerprint: hash.finalize().to_vec(),
    };
    let sealing = Sealing::new(&state, &db, &request_key);
    // A repeat of a request answered before is answered at once, without a write.
    match db
        .peek_idempotency_key(
            &request_key.key_id,
            &request_key.key,
            &request_key.fingerprint,
            Timestamp::now(),
        )
        .await?
    {
        None | Some(IdempotencyClaim::Started { .. }) => {}
        Some(IdempotencyClaim::Replay(answer)) => return sealing.replay(&answer),
        Some(IdempotencyClaim::InUse) => return Err(ApiError::IdempotencyKeyInUse),
        Some(IdempotencyClaim::Mismatch) => return Err(ApiError::IdempotencyKeyReused),
    }
    parts.extensions.insert(KeyedRequest {
        key: request_key,
        sealing: sealing.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, Body::from(body))).await;
    #[cfg(debug_assertions)]
    hold_after_commit().await;
    // A repeat the use case found (the first request committed meanwhile).
    match response.extensions_mut().remove::<KeptAnswer>() {
        Some(KeptAnswer(answer)) => sealing.replay(&answer),
        None => Ok(response),
    }
}

/// The variable of a fault hook of debug builds: how long (ms) to hold a keyed request's
/// answer after its action committed, so a test can kill the process at that instant.
#[cfg(debug_assertions)]
pub const HOLD_AFTER_COMMIT_VAR: &str = "MOBIEUS_TEST_HOLD_AFTER_COMMIT_MS";

#[cfg(debug_assertions)]
async fn hold_after_commit() {
    if let Some(ms) = std::env::var(HOLD_AFTER_COMMIT_VAR)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// A request's `Idempotency-Key`, for its handler, with how its answer is sealed.
#[derive(Clone, Debug)]
pub(crate) struct KeyedRequest {
    key: RequestKey,
    sealing: Sealing,
}

/// A kept answer a handler met ([`ApiError::Replay`]), for the middleware to send.
#[derive(Clone, Debug)]
pub(crate) struct KeptAnswer(pub(crate) StoredAnswer);

/// How a request's answer is sealed and opened: with the master key, bound to its
/// tenant, API key and idempotency key.
#[derive(Clone)]
pub(crate) struct Sealing {
    master: MasterKey,
    aad: Vec<u8>,
}

impl std::fmt::Debug for Sealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealing").finish_non_exhaustive()
    }
}

impl Sealing {
    fn new(state: &AppState, db: &TenantDb, key: &RequestKey) -> Self {
        Self {
            master: state.store.master_key().clone(),
            aad: format!("idempotency/{}/{}/{}", db.slug(), key.key_id, key.key).into_bytes(),
        }
    }

    /// The answer to keep: `status` and the body as the handler sends it, sealed.
    fn seal(&self, status: StatusCode, json: &[u8]) -> StoredAnswer {
        StoredAnswer {
            status: status.as_u16(),
            content_type: "application/json".to_owned(),
            sealed_body: self.master.seal(json, &self.aad),
        }
    }

    /// The kept answer, sent again.
    fn replay(&self, answer: &StoredAnswer) -> Result<Response, ApiError> {
        let body = self
            .master
            .open(&answer.sealed_body, &self.aad)
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
        Ok(response)
    }
}

/// The answer of an action a handler runs: its status and body, made from the action's
/// result, and, when the request has an `Idempotency-Key`, the core's idempotency, which
/// keeps the same answer (sealed) in the action's transaction.
pub(crate) struct Answer<T> {
    status: StatusCode,
    render: Render<T>,
    keyed: Option<(RequestKey, Seal<T>)>,
}

/// The JSON body of the answer to a result.
type Render<T> = Arc<dyn Fn(&T) -> Vec<u8> + Send + Sync>;
/// The answer to a result, sealed, as it is kept.
type Seal<T> = Box<dyn Fn(&T) -> StoredAnswer + Send + Sync>;

impl<T: 'static> Answer<T> {
    /// Answers `status` with the JSON of `render(result)`.
    pub(crate) fn new<R: Serialize>(
        key: Option<Extension<KeyedRequest>>,
        status: StatusCode,
        render: impl Fn(&T) -> R + Send + Sync + 'static,
    ) -> Self {
        // Our envelopes always serialise; a failure would answer an empty body.
        let render: Render<T> =
            Arc::new(move |t| serde_json::to_vec(&render(t)).unwrap_or_default());
        let keyed = key.map(|Extension(keyed)| {
            let (render, sealing) = (render.clone(), keyed.sealing);
            let seal: Seal<T> = Box::new(move |t| sealing.seal(status, &render(t)));
            (keyed.key, seal)
        });
        Self {
            status,
            render,
            keyed,
        }
    }

    /// What the use case takes: `None` when the request has no key.
    pub(crate) fn idempotency(&self) -> Option<Idempotency<'_, T>> {
        self.keyed.as_ref().map(|(key, seal)| Idempotency {
            key,
            answer: &**seal,
        })
    }

    /// The response to the action's result.
    pub(crate) fn respond(&self, result: &T) -> Response {
        let mut response = (self.status, (self.render)(result)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
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
