//! `mobieus serve`: the API and docs over HTTP, and the delivery worker (unless
//! `--no-worker`), until SIGINT or SIGTERM.

use super::worker;
use crate::Result;
use crate::cli::ServeArgs;
use crate::error::CliError;
use mobieus_core::url_guard::UrlGuard;
use mobieus_delivery::DeliveryMetrics;
use mobieus_domain::ip_range::IpRange;
use mobieus_store::Store;
use mobieus_web::serving::{self, Transport};
use mobieus_web::{RateLimiter, RedisTarget};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::net::TcpListener;

pub async fn run(store: Store, args: ServeArgs) -> Result {
    let listener = bind(&args).await?;
    let guard = worker::guard(&args.webhooks);
    serve(store, listener, &args, guard).await
}

pub(super) async fn bind(args: &ServeArgs) -> Result<TcpListener> {
    TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::Io(format!("cannot listen on {}: {e}", args.listen)))
}

/// How this node faces its clients, with its TLS configuration when it serves HTTPS, or
/// why it may not start: plain HTTP is for loopback, unless a proxy in front terminates
/// TLS (`--behind-proxy`). Checked before anything is opened or created.
pub(super) fn front(args: &ServeArgs) -> Result<(Transport, Option<Arc<rustls::ServerConfig>>)> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let config = serving::tls_config(cert, key).map_err(CliError::usage)?;
        return Ok((Transport::Tls, Some(config)));
    }
    Ok((transport(args)?, None))
}

/// How API requests are counted against their key's limit: in Redis shared by every node
/// given `--redis-url`, or by this node alone. A bad URL is refused in one line that never
/// repeats it (it may hold a password); so is a CA file that cannot be read or used.
pub(super) fn rate_limiter(args: &ServeArgs) -> Result<RateLimiter> {
    let Some(url) = &args.redis_url else {
        return Ok(RateLimiter::per_node());
    };
    let mut target =
        RedisTarget::parse(&url.0).map_err(|e| CliError::usage(format!("--redis-url: {e}")))?;
    if let Some(file) = &args.redis_ca_file {
        let usage = |e: String| CliError::usage(format!("--redis-ca-file {}: {e}", file.display()));
        let pem = std::fs::read(file).map_err(|e| usage(e.to_string()))?;
        target = target.trusting(pem).map_err(usage)?;
    }
    Ok(RateLimiter::shared(target))
}

fn transport(args: &ServeArgs) -> Result<Transport> {
    if args.behind_proxy {
        let trusted = args
            .trusted_proxies
            .iter()
            .map(|p| {
                IpRange::parse(p.trim()).ok_or_else(|| {
                    CliError::usage(format!(
                        "--trusted-proxy {p:?} is not an address or a range like 10.0.0.0/8"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Transport::BehindProxy { trusted });
    }
    if !args.listen.ip().is_loopback() {
        return Err(CliError::usage(format!(
            "refusing to serve plain HTTP on {}: give --tls-cert and --tls-key, or --behind-proxy when a proxy in front terminates TLS (plain HTTP is for loopback)",
            args.listen
        )));
    }
    Ok(Transport::Loopback)
}

pub(super) async fn serve(
    store: Store,
    listener: TcpListener,
    args: &ServeArgs,
    guard: UrlGuard,
) -> Result {
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?;
    let stop = worker::shutdown_signal();
    // The process's metrics: the worker's are registered even without a worker, so
    // `/metrics` shows the same series on every node.
    let mut registry = Registry::default();
    let metrics = DeliveryMetrics::register(&mut registry);
    let delivery = if args.no_worker {
        tracing::info!("delivery worker off (--no-worker): run `mobieus worker` beside this");
        None
    } else {
        let w = worker::build(&store, &guard, &args.webhooks, &args.worker, metrics)?;
        let stop = stop.clone();
        Some(tokio::spawn(
            async move { w.run(worker::stopped(stop)).await },
        ))
    };
    let (transport, tls) = front(args)?;
    let scheme = if matches!(transport, Transport::Loopback) {
        "http"
    } else {
        "https"
    };
    tracing::info!(%addr, "serving the forum at {scheme}://<tenant host>:{0}/ and the API at {scheme}://<tenant host>:{0}/api/v1", addr.port());
    let limiter = rate_limiter(args)?;
    limiter.connect().await;
    // Commits of other nodes wake this node's live streams (Postgres).
    let feed = store.listen_for_feed();
    let state = mobieus_web::AppState::serving_with(store, guard, transport, limiter, registry);
    let app = mobieus_web::router(state.clone());
    let stopped = async move {
        worker::stopped(stop).await;
        // A graceful shutdown waits for every answer to end, and a stream never would.
        state.close_streams();
    };
    let served = match tls {
        Some(config) => {
            serving::serve_tls(listener, config, app)
                .map_err(|e| CliError::Io(e.to_string()))?
                .with_graceful_shutdown(stopped)
                .await
        }
        None => {
            serving::serve_plain(listener, app)
                .with_graceful_shutdown(stopped)
                .await
        }
    }
    .map_err(|e| CliError::Io(format!("server failed: {e}")));
    if let Some(feed) = feed {
        feed.abort();
    }
    if let Some(delivery) = delivery {
        // The worker saw the same signal; it finishes the attempts in flight.
        let _ = delivery.await;
    }
    served
}
