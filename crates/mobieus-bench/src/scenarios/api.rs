//! `api`: `GET /api/v1/events?limit=25` with a valid key against `GET /healthz` on the same
//! server, each under the same concurrent loopback load: requests/s, p99, and the ratio.

use super::join;
use crate::engine::{Backend, Engine, err};
use crate::report::{Outcome, Target};
use crate::sys::percentile_ms;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    for i in 0..100 {
        join(&engine.db, &format!("m{i}")).await?;
    }
    let secret = engine.feed_key().await?;
    let addr = engine.serve_api().await?;
    let span = Duration::from_secs_f64((5.0 * scale).max(1.0));
    let api = load(
        &format!("http://{addr}/api/v1/events?limit=25"),
        Some(&secret),
        span,
    )
    .await?;
    let health = load(&format!("http://{addr}/healthz"), None, span).await?;
    let mut o = Outcome::default();
    o.figure("connections", CONNECTIONS as f64, "");
    o.figure("/healthz", health.0, "req/s");
    o.figure("/healthz p99", health.1, "ms");
    o.figure("/api/v1/events?limit=25", api.0, "req/s");
    o.figure("/api/v1/events?limit=25 p99", api.1, "ms");
    o.target(Target::at_least(
        "API route / healthz throughput",
        api.0 / health.0 * 100.0,
        50.0,
        "%",
    ));
    Ok(o)
}

/// Requests/s and p99 (ms) of `url` from `CONNECTIONS` keep-alive clients for `span`.
async fn load(url: &str, key: Option<&str>, span: Duration) -> Result<(f64, f64), String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .map_err(err)?;
    // Warm every connection.
    let warm = Instant::now() + Duration::from_millis(300);
    let until = warm + span;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (client, url) = (client.clone(), url.to_owned());
        let key = key.map(str::to_owned);
        tasks.spawn(async move {
            let mut samples = Vec::new();
            loop {
                let now = Instant::now();
                if now >= until {
                    break;
                }
                let mut req = client.get(&url).header("host", "bench.localhost");
                if let Some(k) = &key {
                    req = req.bearer_auth(k);
                }
                let ok = match req.send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok && now >= warm {
                    samples.push(now.elapsed());
                }
            }
            samples
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.map_err(err)?);
    }
    if all.is_empty() {
        return Err(format!("no successful request to {url}"));
    }
    all.sort();
    Ok((
        all.len() as f64 / span.as_secs_f64(),
        percentile_ms(&all, 99.0),
    ))
}
