//! The worker's figures for `/metrics`: deliveries by what their attempt left them as, and
//! how long attempts took. Registered in the process's registry by whoever wires the
//! worker (the web renders it); [`DeliveryMetrics::default`] counts for nobody (cron
//! mode, benchmarks).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (those of the HTTP requests' too).
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How a recorded attempt left its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliveryOutcome {
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByOutcome {
    outcome: &'static str,
}

/// The worker's counters and histogram. Cheap to clone: clones count together.
#[derive(Clone, Debug)]
pub struct DeliveryMetrics {
    /// One counter per outcome, in the order of [`DeliveryOutcome::ALL`], taken from the
    /// family once so that counting is one atomic add.
    deliveries: [Counter; 4],
    attempt_latency: Histogram,
}

impl Default for DeliveryMetrics {
    /// Figures that no registry reads.
    fn default() -> Self {
        Self::register(&mut Registry::default())
    }
}

impl DeliveryMetrics {
    /// The worker's figures, registered in `registry`: every outcome from the start, at 0.
    pub fn register(registry: &mut Registry) -> Self {
        let by_outcome = Family::<ByOutcome, Counter>::default();
        let deliveries = DeliveryOutcome::ALL
            .map(|o| by_outcome.get_or_create_owned(&ByOutcome { outcome: o.label() }));
        let attempt_latency = Histogram::new(BUCKETS);
        registry.register(
            "mobieus_webhook_deliveries",
            "Webhook attempts recorded, by what they left the delivery as",
            by_outcome,
        );
        registry.register(
            "mobieus_webhook_attempt_duration_seconds",
            "Time from sending an attempt to its answer (or failure)",
            attempt_latency.clone(),
        );
        Self {
            deliveries,
            attempt_latency,
        }
    }

    /// One attempt recorded (or a delivery cancelled), and how long the attempt took.
    pub(crate) fn delivery(&self, outcome: DeliveryOutcome, took: Option<Duration>) {
        let i = DeliveryOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.deliveries[i].inc();
        if let Some(took) = took {
            self.attempt_latency.observe(took.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::prometheus_text;

    #[test]
    fn every_outcome_is_counted_from_zero() {
        let mut registry = Registry::default();
        let metrics = DeliveryMetrics::register(&mut registry);
        metrics.delivery(DeliveryOutcome::Succeeded, Some(Duration::from_millis(3)));
        metrics.delivery(DeliveryOutcome::Cancelled, None);
        let mut text = String::new();
        prometheus_text::encode(&mut text, &registry).unwrap();
        for line in [
            "# TYPE mobieus_webhook_deliveries_total counter",
            "mobieus_webhook_deliveries_total{outcome=\"succeeded\"} 1",
            "mobieus_webhook_deliveries_total{outcome=\"retrying\"} 0",
            "mobieus_webhook_deliveries_total{outcome=\"failed\"} 0",
            "mobieus_webhook_deliveries_total{outcome=\"cancelled\"} 1",
            "mobieus_webhook_attempt_duration_seconds_bucket{le=\"0.005\"} 1",
            "mobieus_webhook_attempt_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}
