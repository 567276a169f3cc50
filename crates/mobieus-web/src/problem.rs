//! The one error type of the API and its rendering as an RFC 9457 problem document
//! (`application/problem+json`) with a stable `code` and the `request_id`.
//!
//! A 500 says nothing of its cause: the cause is logged with the request id instead.

use crate::request_id;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_core::CoreError;
use mobieus_domain::scope::Scope;
use mobieus_store::StoreError;
use serde::Serialize;

/// Why an API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this API needs an API key: send `Authorization: Bearer <key>`")]
    MissingApiKey,
    #[error("the API key is not valid for this tenant (unknown, malformed or revoked)")]
    InvalidApiKey,
    #[error("this API key lacks the scope `{0}`")]
    InsufficientScope(Scope),
    #[error("rate limit exceeded; retry after {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    #[error("parameter `{param}`: {message}")]
    InvalidRequest { param: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("this URL may not receive webhooks: {0}")]
    UnsafeWebhookUrl(String),
    #[error("{0}")]
    Conflict(String),
    #[error("a request with this Idempotency-Key is still running; retry when it has finished")]
    IdempotencyKeyInUse,
    #[error("this Idempotency-Key was used for a different request (method, path or body)")]
    IdempotencyKeyReused,
    #[error("this method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("no tenant is served at this host")]
    UnknownTenant,
    #[error(
        "this node answers only HTTPS requests forwarded by its trusted proxy: call it through https://"
    )]
    HttpsRequired,
    #[error(
        "the request body is over the limit of {} bytes (1 MiB)",
        crate::body::MAX_BODY
    )]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(
        "this API key has {} live streams open on this server already: close one first",
        crate::api::stream::STREAMS_PER_KEY
    )]
    TooManyStreams,
    /// An error answer made by something other than our handlers (an extractor of the
    /// framework, a layer), turned into a problem document by [`every_error_is_a_problem`].
    #[error("{detail}")]
    Unanswered { status: StatusCode, detail: String },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A repeat of a request whose action committed before: the idempotency middleware
    /// answers it with the kept answer (see `crate::idempotency`).
    #[error("this request was answered before")]
    Replay(mobieus_store::StoredAnswer),
}

impl ApiError {
    pub(crate) fn invalid(param: &str, message: impl ToString) -> Self {
        ApiError::InvalidRequest {
            param: param.to_owned(),
            message: message.to_string(),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("no such {what}"))
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingApiKey | ApiError::InvalidApiKey => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope(_) | ApiError::HttpsRequired => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } | ApiError::TooManyStreams => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsafeWebhookUrl(_) | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict(_) | ApiError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            ApiError::NotFound(_) | ApiError::UnknownTenant => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unanswered { status, .. } => *status,
            ApiError::Internal(_) | ApiError::Replay(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code integrators branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingApiKey => "missing_api_key",
            ApiError::InvalidApiKey => "invalid_api_key",
            ApiError::InsufficientScope(_) => "insufficient_scope",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::TooManyStreams => "too_many_streams",
            ApiError::InvalidRequest { .. } => "invalid_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::UnsafeWebhookUrl(_) => "unsafe_webhook_url",
            ApiError::Conflict(_) => "conflict",
            ApiError::IdempotencyKeyInUse => "idempotency_key_in_use",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UnknownTenant => "unknown_tenant",
            ApiError::HttpsRequired => "https_required",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unanswered { status, .. } => code_of_status(*status),
            ApiError::Internal(_) | ApiError::Replay(_) => "internal_error",
        }
    }
}

/// The code of an error answer that only has a status, among the documented codes: the
/// one that names the status, else the general code of its class.
fn code_of_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_client_error() => "invalid_request",
        _ => "internal_error",
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound { what, .. } => ApiError::not_found(what),
            CoreError::Invalid(v) => ApiError::invalid(v.field, v.message),
            CoreError::Store(s) => s.into(),
            CoreError::Conflict(message) => ApiError::Conflict(message),
            CoreError::Throttled { retry_after_secs } => ApiError::RateLimited {
                retry_after: retry_after_secs,
            },
            CoreError::Internal(cause) => ApiError::Internal(cause.into()),
            CoreError::Replay(answer) => ApiError::Replay(answer),
            CoreError::IdempotencyKeyInUse => ApiError::IdempotencyKeyInUse,
            CoreError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            other @ (CoreError::Refused(_) | CoreError::BadCredentials) => {
                ApiError::invalid("request", other)
            }
        }
    }
}

const INTERNAL_DETAIL: &str =
    "The server failed to answer this request. Quote the request id when reporting it.";

/// An RFC 9457 problem document as mobieus sends it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem; resolves to its documentation.
    #[schema(example = "/know/errors#invalid_api_key")]
    pub r#type: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable machine-readable code: `missing_api_key`, `invalid_api_key`,
    /// `insufficient_scope`, `rate_limited`, `too_many_streams`, `invalid_request`, `not_found`, `unsafe_webhook_url`,
    /// `conflict`, `idempotency_key_in_use`, `idempotency_key_reused`, `method_not_allowed`,
    /// `unknown_tenant`, `https_required`, `payload_too_large`, `unsupported_media_type`,
    /// `internal_error`.
    #[schema(example = "invalid_api_key")]
    pub code: String,
    /// The request's id, as in the `X-Request-Id` header.
    pub request_id: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Replay(answer) = self {
            // Replaced by the idempotency middleware, which holds the key to open it.
            let mut response =
                ApiError::Internal("a replay outside the idempotency middleware".into())
                    .into_response();
            response
                .extensions_mut()
                .insert(crate::idempotency::KeptAnswer(answer));
            return response;
        }
        let status = self.status();
        let request_id = request_id::current();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(request_id = %request_id, error = %cause, source = ?std::error::Error::source(cause.as_ref()), "internal error");
                INTERNAL_DETAIL.to_owned()
            }
            // Said by the layer that made the answer, which logged it; not for clients.
            ApiError::Unanswered { status, .. } if status.is_server_error() => {
                INTERNAL_DETAIL.to_owned()
            }
            other => other.to_string(),
        };
        let problem = Problem {
            r#type: format!("/know/errors#{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
            request_id,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::MissingApiKey | ApiError::InvalidApiKey => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"mobieus\""),
                );
            }
            ApiError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        (status, headers, body).into_response()
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /api/docs".to_owned())
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Whether a response is a problem document already.
fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// How much of an error answer's body the safety net reads: the framework's rejections
/// are one line of text.
const UNANSWERED_BODY_MAX: usize = 4096;

/// The safety net under `/api/`: an error answer that is not a problem document (a
/// rejection of the framework or of a layer that no extractor of ours mapped) becomes one,
/// with the code of its status and, for a client error, the text it had as `detail`.
/// Its other headers (`Allow`, `Retry-After`, …) are kept. Logged, so the gap gets a
/// mapping of its own.
pub(crate) async fn every_error_is_a_problem(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    if !api || status.as_u16() < 400 || is_problem(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, UNANSWERED_BODY_MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    tracing::warn!(
        request_id = %request_id::current(),
        status = status.as_u16(),
        body = %text,
        "an error answer was not a problem document; sent as one"
    );
    let detail = if text.is_empty() || !status.is_client_error() {
        status
            .canonical_reason()
            .unwrap_or("The request was refused")
            .to_owned()
    } else {
        text
    };
    let mut problem = ApiError::Unanswered { status, detail }.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem
                .headers_mut()
                .entry(name)
                .or_insert_with(|| value.clone());
        }
    }
    problem
}

/// The answer to a request whose handler panicked: a 500 problem document (the panic's
/// message is logged with the request id), where the connection would otherwise drop
/// with no answer at all.
pub(crate) fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    ApiError::Internal(format!("a handler panicked: {message}").into()).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use axum::Router;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    async fn boom() -> StatusCode {
        panic!("the cause, not for clients")
    }

    /// The outer layers as `crate::router` stacks them, around routes that misbehave.
    fn app() -> Router {
        Router::new()
            .route("/api/v1/boom", get(boom))
            .route(
                "/api/v1/plain",
                get(|| async {
                    (
                        StatusCode::BAD_REQUEST,
                        [(header::ALLOW, "GET")],
                        "Failed to parse the thing",
                    )
                }),
            )
            .route(
                "/api/v1/broken",
                get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "db down at 10.0.0.5") }),
            )
            .route(
                "/page",
                get(|| async { (StatusCode::BAD_REQUEST, "a page's own answer") }),
            )
            .layer(CatchPanicLayer::custom(panicked))
            .layer(from_fn(every_error_is_a_problem))
            .layer(from_fn(request_id::assign))
    }

    async fn call(path: &str) -> (StatusCode, HeaderMap, serde_json::Value, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (parts.status, parts.headers, json, text)
    }

    fn assert_problem(headers: &HeaderMap, body: &serde_json::Value, code: &str) {
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["code"], code, "{body}");
        let id = body["request_id"].as_str().unwrap();
        assert!(id.starts_with("req_"), "{body}");
        assert_eq!(headers["x-request-id"], id);
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_problem_that_names_no_cause() {
        let (status, headers, body, text) = call("/api/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_problem(&headers, &body, "internal_error");
        assert!(!text.contains("the cause"), "{text}");
    }

    #[tokio::test]
    async fn an_error_answer_that_is_not_a_problem_becomes_one() {
        let (status, headers, body, _) = call("/api/v1/plain").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_problem(&headers, &body, "invalid_request");
        assert_eq!(body["detail"], "Failed to parse the thing");
        assert_eq!(headers[header::ALLOW], "GET", "other headers are kept");

        let (status, headers, body, text) = call("/api/v1/broken").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_problem(&headers, &body, "internal_error");
        assert!(
            !text.contains("10.0.0.5"),
            "a server error says nothing of its cause: {text}"
        );

        // Outside the API, answers are the pages' own.
        let (status, headers, _, text) = call("/page").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(text, "a page's own answer");
        assert!(
            !headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("problem")
        );
    }
}
