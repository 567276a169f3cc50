//! The HTTP surface of mobieus: the public API v1 (`/api/v1`), its OpenAPI document
//! (`/api/openapi.yaml`, `.json`) and reference docs (`/api/docs`), the forum and account
//! pages, and the middleware around them: request ids, tenant by `Host`, API-key auth,
//! scopes and rate limits, sessions and CSRF.
//!
//! Handlers parse, authorize, call the store (reads) or one `mobieus-core` use case
//! (writes), and render; every answer is the DESIGN.md envelope or a problem document.

mod api;
mod auth;
mod body;
mod docs;
mod envelope;
mod event_schemas;
mod idempotency;
mod metrics;
mod openapi;
mod pages;
mod path;
mod problem;
mod query;
mod rate_limit;
mod request_id;
pub mod serving;
mod state;
mod tenant;

pub use openapi::ApiDoc;

/// The OpenAPI document as the server serves it (`/api/openapi.yaml`, `.json`).
pub fn openapi_document() -> openapi::RenderedSpec {
    openapi::RenderedSpec::render()
}
pub use rate_limit::{RateLimiter, RedisTarget};
pub use state::AppState;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let api_v1 = api::routes()
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), idempotency::idempotent))
        .layer(from_fn_with_state(state.clone(), auth::require_api_key))
        .layer(from_fn_with_state(state.clone(), tenant::resolve_tenant));
    Router::new()
        .nest("/api/v1", api_v1)
        .merge(pages::routes(state.clone()))
        .merge(pages::know_routes())
        .route("/assets/site.css", get(pages::stylesheet))
        .route("/assets/site.js", get(pages::script))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .route("/api/openapi.yaml", get(openapi::yaml))
        .route("/api/openapi.json", get(openapi::json))
        .route("/api/schemas/events", get(event_schemas::index))
        .route("/api/schemas/events/{file}", get(event_schemas::one))
        .route("/api/docs", get(docs::page))
        .route("/api/docs/init.js", get(docs::init_script))
        .route("/api/docs/redoc.standalone.js", get(docs::redoc_script))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        // Innermost, so the metrics count a panic's 500 like any other answer.
        .layer(CatchPanicLayer::custom(problem::panicked))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn_with_state(state.clone(), serving::enforce))
        // Inside the request id's scope, so the problem documents it makes can name it.
        .layer(from_fn(problem::every_error_is_a_problem))
        .layer(from_fn(request_id::assign))
        .with_state(state)
}

/// The process is up and serving (no database check: that is readiness, not liveness).
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready for traffic: the control database answers and its migrations are this build's.
/// 503 otherwise (a load balancer sends traffic elsewhere); the cause is logged, not shown.
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match state.store.ready().await {
        Ok(true) => (axum::http::StatusCode::OK, "ready\n"),
        Ok(false) => {
            tracing::error!("not ready: the control database's migrations are not this build's");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
        }
        Err(e) => {
            tracing::error!(error = %e, "not ready: the control database does not answer");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
        }
    }
}
