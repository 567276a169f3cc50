//! `/api/v1`: one module per resource. Every handler first asks for its scope.

pub(crate) mod deliveries;
pub(crate) mod events;
pub(crate) mod posts;
pub(crate) mod resend;
pub(crate) mod stream;
pub(crate) mod users;
pub(crate) mod webhooks;

use crate::AppState;
use crate::problem::ApiError;
use axum::Router;
use axum::routing::{get, post};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", get(events::list))
        .route("/events/stream", get(stream::stream))
        .route("/events/{id}", get(events::get))
        .route("/users", get(users::list))
        .route("/users/{id}", get(users::get))
        .route("/posts", get(posts::list))
        .route("/posts/{id}", get(posts::get))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhooks/{id}/test", post(resend::test))
        .route("/webhooks/{id}/recover", post(resend::recover))
        .route("/webhooks/{id}/deliveries", get(deliveries::list))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}",
            get(deliveries::get),
        )
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/replay",
            post(resend::replay),
        )
}

/// Parses an id parameter of a query (`thread=12`).
pub(crate) fn id_param<T>(
    name: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| parse(&v).ok_or_else(|| ApiError::invalid(name, "must be a positive integer id")))
        .transpose()
}

/// The `Idempotency-Key` header every POST accepts.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents the header; read by the idempotency middleware"
)]
pub(crate) struct IdempotencyKey {
    /// Any unique string (1-255 printable ASCII characters, a UUID is usual). A repeat of
    /// the same request with the same key within 24 hours answers the first answer
    /// again, with `Idempotent-Replayed: true`, and does nothing else.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
    )]
    idempotency_key: Option<String>,
}
