//! Webhook delivery: the worker that claims due deliveries with a lease, sends each one
//! signed afresh over an HTTPS client that connects only to addresses the SSRF guard
//! vetted, and records every attempt through `mobieus_core::delivery`.

mod attempt;
mod client;
mod headers;
mod metrics;
mod outcomes;
mod targets;
mod worker;

pub use attempt::describe as describe_error;
pub use client::{ClientSettings, DeliveryError, build as build_client, install_crypto};
pub use headers::AttemptHeaders;
pub use metrics::DeliveryMetrics;
pub use worker::{RunSummary, Worker, WorkerConfig};
