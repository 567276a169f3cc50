//! The process's counters and histograms for `/metrics` (Prometheus text format): HTTP
//! requests by route and status with their latency, webhook deliveries by outcome and
//! attempt latency, and the delivery queue's gauges (refreshed by the scrape, at most once
//! every [`QUEUE_FRESH`]). Shared by the web and the worker of one process through the
//! [`crate::Store`], like the [`crate::WorkSignal`].

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the queue's gauges are served before they are computed again: they read every
/// tenant's database, which must not happen at every scrape of a node with thousands.
pub const QUEUE_FRESH: Duration = Duration::from_secs(30);

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A latency histogram: counts per bucket (not cumulative), total and sum.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// How a recorded attempt left its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Succeeded,
    /// Failed, and another attempt is scheduled.
    Retrying,
    /// Failed for good (the schedule ran out, or the endpoint is gone).
    Failed,
    /// Ended without an attempt (its endpoint was disabled meanwhile).
    Cancelled,
}

impl DeliveryOutcome {
    const ALL: [DeliveryOutcome; 4] = [
        DeliveryOutcome::Succeeded,
        DeliveryOutcome::Retrying,
        DeliveryOutcome::Failed,
        DeliveryOutcome::Cancelled,
    ];

    fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Succeeded => "succeeded",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::Cancelled => "cancelled",
        }
    }
}

/// The delivery queue across every tenant, as last computed.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueGauges {
    pub pending: u64,
    /// Age of the oldest pending delivery, in seconds (0 when none).
    pub oldest_pending_secs: f64,
    pub endpoints_disabled: u64,
}

/// One route's requests: counts by method and status, and their latency.
#[derive(Debug, Default)]
struct RouteStats {
    answered: BTreeMap<(&'static str, u16), u64>,
    latency: Histogram,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// By route template. One lock per request, and no allocation once a route was seen.
    routes: Mutex<BTreeMap<String, RouteStats>>,
    deliveries: [AtomicU64; 4],
    attempt_latency: Histogram,
    queue: Mutex<Option<(Instant, QueueGauges)>>,
}

impl Metrics {
    /// One HTTP request answered: `route` is the route's template (`/api/v1/events/{id}`),
    /// never the path as sent (that would make a series per id).
    pub fn request(&self, route: &str, method: &'static str, status: u16, took: Duration) {
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stats = match routes.get_mut(route) {
            Some(stats) => stats,
            None => routes.entry(route.to_owned()).or_default(),
        };
        *stats.answered.entry((method, status)).or_insert(0) += 1;
        stats.latency.observe(took);
    }

    /// One attempt recorded (or a delivery cancelled), and how long the attempt took.
    pub fn delivery(&self, outcome: DeliveryOutcome, took: Option<Duration>) {
        let i = DeliveryOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.deliveries[i].fetch_add(1, Ordering::Relaxed);
        if let Some(took) = took {
            self.attempt_latency.observe(took);
        }
    }

    /// The queue's gauges when fresh enough to serve.
    pub fn fresh_queue(&self) -> Option<QueueGauges> {
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queue
            .filter(|(at, _)| at.elapsed() < QUEUE_FRESH)
            .map(|(_, g)| g)
    }

    pub fn set_queue(&self, gauges: QueueGauges) {
        *self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), gauges));
    }

    /// Everything, in the Prometheus text exposition format (0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        {
            let routes = self
                .routes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            out.push_str("# HELP mobieus_http_requests_total HTTP requests answered, by route template, method and status.\n");
            out.push_str("# TYPE mobieus_http_requests_total counter\n");
            for (route, stats) in routes.iter() {
                for ((method, status), n) in &stats.answered {
                    let _ = writeln!(
                        out,
                        "mobieus_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
            out.push_str("# HELP mobieus_http_request_duration_seconds Time to answer HTTP requests, by route template.\n");
            out.push_str("# TYPE mobieus_http_request_duration_seconds histogram\n");
            for (route, stats) in routes.iter() {
                let labels = format!("route=\"{}\"", escape(route));
                stats
                    .latency
                    .render(&mut out, "mobieus_http_request_duration_seconds", &labels);
            }
        }
        out.push_str("# HELP mobieus_webhook_deliveries_total Webhook attempts recorded, by what they left the delivery as.\n");
        out.push_str("# TYPE mobieus_webhook_deliveries_total counter\n");
        for (i, o) in DeliveryOutcome::ALL.iter().enumerate() {
            let n = self.deliveries[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mobieus_webhook_deliveries_total{{outcome=\"{}\"}} {n}",
                o.label()
            );
        }
        out.push_str("# HELP mobieus_webhook_attempt_duration_seconds Time from sending an attempt to its answer (or failure).\n");
        out.push_str("# TYPE mobieus_webhook_attempt_duration_seconds histogram\n");
        self.attempt_latency
            .render(&mut out, "mobieus_webhook_attempt_duration_seconds", "");
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map(|(_, g)| g)
            .unwrap_or_default();
        for (name, help, value) in [
            (
                "mobieus_webhook_queue_depth",
                "Deliveries pending, every tenant.",
                queue.pending as f64,
            ),
            (
                "mobieus_webhook_oldest_pending_age_seconds",
                "Age of the oldest pending delivery, every tenant.",
                queue.oldest_pending_secs,
            ),
            (
                "mobieus_webhook_endpoints_disabled",
                "Webhook endpoints disabled, every tenant.",
                queue.endpoints_disabled as f64,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// A label value as the text format wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_count() {
        let m = Metrics::default();
        m.request("/api/v1/events", "GET", 200, Duration::from_micros(800));
        m.request("/api/v1/events", "GET", 200, Duration::from_millis(30));
        m.request("/api/v1/events", "GET", 401, Duration::from_millis(2));
        m.delivery(DeliveryOutcome::Succeeded, Some(Duration::from_millis(3)));
        m.delivery(DeliveryOutcome::Cancelled, None);
        let text = m.render();
        for line in [
            "mobieus_http_requests_total{route=\"/api/v1/events\",method=\"GET\",status=\"200\"} 2",
            "mobieus_http_requests_total{route=\"/api/v1/events\",method=\"GET\",status=\"401\"} 1",
            "mobieus_http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.001\"} 1",
            "mobieus_http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.0025\"} 2",
            "mobieus_http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"0.05\"} 3",
            "mobieus_http_request_duration_seconds_bucket{route=\"/api/v1/events\",le=\"+Inf\"} 3",
            "mobieus_http_request_duration_seconds_count{route=\"/api/v1/events\"} 3",
            "mobieus_webhook_deliveries_total{outcome=\"succeeded\"} 1",
            "mobieus_webhook_deliveries_total{outcome=\"cancelled\"} 1",
            "mobieus_webhook_attempt_duration_seconds_count 1",
            "mobieus_webhook_queue_depth 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}
