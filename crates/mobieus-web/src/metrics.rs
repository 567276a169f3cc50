//! `/metrics` in the Prometheus text format (0.0.4), and the middleware that counts every
//! request by its route's template (never the path as sent: one series per route, not per
//! id). The registry is the process's: the worker's figures are registered in it too
//! (`mobieus_delivery::DeliveryMetrics`), and this node's rate-limit fail-opens.

use crate::AppState;
use crate::rate_limit::RateLimiter;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mobieus_domain::time::Timestamp;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// How long the queue's gauges are served before they are computed again: they read every
/// tenant's database, which must not happen at every scrape of a node with thousands.
pub const QUEUE_FRESH: Duration = Duration::from_secs(30);

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A route's template as a label: the matched route's own shared text, so counting a
/// request copies no string; `unmatched` when no route matched.
#[derive(Clone, Debug)]
struct Route(Option<MatchedPath>);

impl Route {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    route: Route,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByRoute {
    route: Route,
}

type Latency = Family<ByRoute, Histogram, fn() -> Histogram>;

/// The web's figures, and the registry `/metrics` renders.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latency: Latency,
    queue: QueueGauges,
}

/// The delivery queue across every tenant, as last computed.
#[derive(Debug, Default)]
struct QueueGauges {
    pending: Gauge,
    oldest_pending: Gauge<f64, AtomicU64>,
    endpoints_disabled: Gauge,
    computed_at: Mutex<Option<Instant>>,
}

impl Metrics {
    /// Registers the web's figures and `limiter`'s in `registry`, which may hold others
    /// already (the worker's).
    pub(crate) fn new(mut registry: Registry, limiter: &RateLimiter) -> Self {
        let requests = Family::<Answered, Counter>::default();
        let latency: Latency = Family::new_with_constructor(|| Histogram::new(BUCKETS));
        let queue = QueueGauges::default();
        registry.register(
            "mobieus_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "mobieus_http_request_duration_seconds",
            "Time to answer HTTP requests, by route template",
            latency.clone(),
        );
        registry.register(
            "mobieus_webhook_queue_depth",
            "Deliveries pending, every tenant",
            queue.pending.clone(),
        );
        registry.register(
            "mobieus_webhook_oldest_pending_age_seconds",
            "Age of the oldest pending delivery, every tenant",
            queue.oldest_pending.clone(),
        );
        registry.register(
            "mobieus_webhook_endpoints_disabled",
            "Webhook endpoints disabled, every tenant",
            queue.endpoints_disabled.clone(),
        );
        registry.register(
            "mobieus_rate_limit_fail_open",
            "API rate-limit checks that Redis did not answer in time, counted by this node alone",
            limiter.fail_opens().clone(),
        );
        Self {
            registry,
            requests,
            latency,
            queue,
        }
    }
}

pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A clone of the template's `Arc`, not of the text.
    let route = Route(req.extensions().get::<MatchedPath>().cloned());
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
    let took = started.elapsed();
    let metrics = &state.metrics;
    metrics
        .latency
        .get_or_create(&ByRoute {
            route: route.clone(),
        })
        .observe(took.as_secs_f64());
    metrics
        .requests
        .get_or_create(&Answered {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Every figure of the process; the queue's gauges are computed across tenants when older
/// than [`QUEUE_FRESH`].
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let queue = &metrics.queue;
    let fresh = queue
        .computed_at
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_some_and(|at| at.elapsed() < QUEUE_FRESH);
    if !fresh {
        match state.store.queue_figures(Timestamp::now()).await {
            Ok(figures) => {
                queue
                    .pending
                    .set(i64::try_from(figures.pending).unwrap_or(i64::MAX));
                queue.oldest_pending.set(figures.oldest_pending_secs);
                queue
                    .endpoints_disabled
                    .set(i64::try_from(figures.endpoints_disabled).unwrap_or(i64::MAX));
                *queue
                    .computed_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
            }
            Err(e) => tracing::error!(error = %e, "cannot compute the queue's gauges"),
        }
    }
    let mut text = String::new();
    if let Err(e) = prometheus_text::encode(&mut text, &metrics.registry) {
        tracing::error!(error = %e, "cannot render the metrics");
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_count() {
        let metrics = Metrics::new(Registry::default(), &RateLimiter::per_node());
        let route = || Route(None);
        for (status, took) in [(200, 0.0008), (200, 0.030), (401, 0.002)] {
            metrics
                .latency
                .get_or_create(&ByRoute { route: route() })
                .observe(took);
            metrics
                .requests
                .get_or_create(&Answered {
                    route: route(),
                    method: "GET",
                    status,
                })
                .inc();
        }
        let mut text = String::new();
        prometheus_text::encode(&mut text, &metrics.registry).unwrap();
        for line in [
            "# TYPE mobieus_http_requests_total counter",
            "mobieus_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"200\"} 2",
            "mobieus_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"401\"} 1",
            "mobieus_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"0.001\"} 1",
            "mobieus_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"0.0025\"} 2",
            "mobieus_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"0.05\"} 3",
            "mobieus_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 3",
            "mobieus_http_request_duration_seconds_count{route=\"unmatched\"} 3",
            "mobieus_webhook_queue_depth 0",
            "mobieus_rate_limit_fail_open_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}
