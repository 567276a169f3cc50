//! `/metrics` in the Prometheus text format, and the middleware that counts every request
//! by its route's template (never the path as sent: one series per route, not per id).

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_domain::time::Timestamp;
use std::time::Instant;

pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A clone of the template's `Arc`, not of the text.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(req).await;
    state.store.metrics().request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The process's figures and this node's rate-limit fail-opens; the queue's gauges are
/// computed across tenants when older than [`mobieus_store::metrics::QUEUE_FRESH`].
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let metrics = state.store.metrics();
    if metrics.fresh_queue().is_none() {
        match state.store.queue_gauges(Timestamp::now()).await {
            Ok(gauges) => metrics.set_queue(gauges),
            Err(e) => tracing::error!(error = %e, "cannot compute the queue's gauges"),
        }
    }
    let mut text = metrics.render();
    state.limiter.render_metrics(&mut text);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
