//! The one error type of the API and its rendering as an RFC 9457 problem document
//! (`application/problem+json`) with a stable `code` and the `request_id`.
//!
//! A 500 says nothing of its cause: the cause is logged with the request id instead.

use crate::request_id;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsafeWebhookUrl(_) | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict(_) | ApiError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            ApiError::NotFound(_) | ApiError::UnknownTenant => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
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
            ApiError::InvalidRequest { .. } => "invalid_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::UnsafeWebhookUrl(_) => "unsafe_webhook_url",
            ApiError::Conflict(_) => "conflict",
            ApiError::IdempotencyKeyInUse => "idempotency_key_in_use",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UnknownTenant => "unknown_tenant",
            ApiError::HttpsRequired => "https_required",
            ApiError::Internal(_) | ApiError::Replay(_) => "internal_error",
        }
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
    /// `insufficient_scope`, `rate_limited`, `invalid_request`, `not_found`, `unsafe_webhook_url`,
    /// `conflict`, `idempotency_key_in_use`, `idempotency_key_reused`, `method_not_allowed`,
    /// `unknown_tenant`, `https_required`, `internal_error`.
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
                "The server failed to answer this request. Quote the request id when reporting it."
                    .to_owned()
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
