//! `mobieus worker`: the webhook delivery worker alone, continuously or once (cron mode);
//! and the wiring of the SSRF guard and the worker from the command line, which `serve`
//! and `demo` share.

use crate::Result;
use crate::cli::{WebhookArgs, WorkerArgs, WorkerCmdArgs};
use crate::error::CliError;
use mobieus_core::delivery::DeliveryPolicy;
use mobieus_core::url_guard::{NoResolver, UrlGuard};
use mobieus_delivery::{ClientSettings, DeliveryMetrics, Worker, WorkerConfig};
use mobieus_domain::webhook::LoopbackPolicy;
use mobieus_store::Store;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(store: Store, args: WorkerCmdArgs) -> Result {
    // No `/metrics` in this process: the worker's figures are counted for nobody.
    let worker = build(
        &store,
        &guard(&args.webhooks),
        &args.webhooks,
        &args.worker,
        DeliveryMetrics::default(),
    )?;
    if args.once {
        let done = worker.run_once().await?;
        println!(
            "delivered {} succeeded, {} failed (will retry or gave up), {} cancelled",
            done.succeeded, done.failed, done.cancelled
        );
        return Ok(());
    }
    tracing::info!(
        concurrency = args.worker.delivery_concurrency,
        "delivery worker started"
    );
    worker.run(stopped(shutdown_signal())).await;
    Ok(())
}

/// The SSRF guard the API and the worker share.
pub(super) fn guard(args: &WebhookArgs) -> UrlGuard {
    let loopback = if args.webhook_allow_loopback {
        tracing::warn!(
            "!!! --webhook-allow-loopback is on: webhooks may target this machine (127.0.0.0/8, ::1, localhost). For development and tests only; never in production. !!!"
        );
        LoopbackPolicy::Allow
    } else {
        LoopbackPolicy::Deny
    };
    if args.webhook_offline {
        tracing::warn!(
            "--webhook-offline: no webhook host name is resolved; deliveries to names fail"
        );
        return UrlGuard::new(std::sync::Arc::new(NoResolver), loopback);
    }
    UrlGuard::system(loopback)
}

pub(super) fn build(
    store: &Store,
    guard: &UrlGuard,
    webhooks: &WebhookArgs,
    args: &WorkerArgs,
    metrics: DeliveryMetrics,
) -> Result<Worker> {
    let config = WorkerConfig {
        policy: DeliveryPolicy {
            schedule: args.retry_schedule.clone(),
            auto_disable_after: args.auto_disable_after,
        },
        concurrency: usize::from(args.delivery_concurrency),
        client: ClientSettings {
            connect_timeout: args.connect_timeout,
            total_timeout: args.request_timeout,
            ca_file: webhooks.webhook_ca_file.clone(),
            idle_per_host: usize::from(args.delivery_concurrency),
        },
        retention: Duration::from_secs(u64::from(args.retention_days) * 86_400),
        ..WorkerConfig::default()
    };
    Worker::new(store.clone(), guard.clone(), config, metrics).map_err(CliError::usage)
}

/// A receiver that turns true once SIGINT or SIGTERM arrives; every part of the process
/// that must stop holds a clone.
pub(super) fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = term => {},
        }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

/// Completes when the shutdown signal has been raised.
pub(super) async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}
