//! `throughput`: a backlog of deliveries to 10 endpoints drained by the worker, against
//! the raw rate the same HTTP client reaches on the same receiver with no engine between.

use super::{join, scaled};
use crate::engine::{Engine, err};
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use crate::sys;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ENDPOINTS: usize = 10;

/// The headers the worker sends with each delivery, with values of their usual length:
/// the raw run sends them too (the same request on the wire, without the engine that
/// computes them), and the store-only run stores them with each attempt.
const TYPICAL_HEADERS: [(&str, &str); 10] = [
    ("content-type", "application/json"),
    ("user-agent", "mobieus-webhooks/0.1.0"),
    (
        "mobieus-signature",
        "t=1700000000,v1=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ),
    ("mobieus-event", "user.joined"),
    ("mobieus-event-id", "evt_01HZXJ3Y7T4N9V6B2C8D5E0F1G"),
    ("mobieus-delivery-id", "dlv_0123456789abcdefABCD"),
    ("mobieus-attempt", "1"),
    ("webhook-id", "evt_01HZXJ3Y7T4N9V6B2C8D5E0F1G"),
    ("webhook-timestamp", "1700000000"),
    (
        "webhook-signature",
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    ),
];
const CONCURRENCY: usize = 64;

pub async fn run(scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new().await?;
    let receiver = Receiver::start(false).await?;
    for e in 0..ENDPOINTS {
        engine.endpoint(&receiver.url(&format!("/e{e}"))).await?;
    }
    let deliveries = scaled(100_000, scale, 1_000);
    let events = deliveries / ENDPOINTS;
    let enqueue = Instant::now();
    for i in 0..events {
        join(&engine.db, &format!("m{i}")).await?;
    }
    let enqueue = enqueue.elapsed();

    let worker = engine.worker(Engine::config(CONCURRENCY))?;
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    let running = Engine::spawn(worker.clone());
    if !receiver
        .wait_for(deliveries as u64, Duration::from_secs(600))
        .await
    {
        return Err(format!(
            "throughput: {} of {deliveries} arrived",
            receiver.count()
        ));
    }
    let received = started.elapsed();
    while worker.summary().succeeded < deliveries as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu0);
    running.stop().await;
    let rate = deliveries as f64 / drained.as_secs_f64();
    let cpu_per_delivery = cpu.as_secs_f64() * 1e6 / deliveries as f64;

    let (raw, cpu_per_request) = raw_rate(&engine, &receiver, scale).await?;
    let (store_rate, store_cpu, store_written) = store_only(&engine, deliveries / 5).await?;
    let mut o = Outcome::default();
    o.figure("deliveries", deliveries as f64, "");
    o.figure(
        "enqueue (events with 10 deliveries each)",
        events as f64 / enqueue.as_secs_f64(),
        "events/s",
    );
    o.figure("all received after", received.as_secs_f64(), "s");
    o.figure("all recorded after", drained.as_secs_f64(), "s");
    o.figure("deliveries/s (received and recorded)", rate, "/s");
    o.figure("raw client → receiver", raw, "req/s");
    o.figure("engine / raw", rate / raw, "");
    // Where the time goes: the whole process's CPU (engine, client and receiver share
    // it), per delivery while draining and per request of the raw run.
    o.figure(
        "CPU while draining",
        cpu.as_secs_f64() / drained.as_secs_f64() * 100.0,
        "% of a core",
    );
    o.figure("CPU per delivery", cpu_per_delivery, "µs");
    o.figure("CPU per raw request", cpu_per_request, "µs");
    o.figure(
        "engine's own CPU per delivery (the difference)",
        cpu_per_delivery - cpu_per_request,
        "µs",
    );
    o.figure(
        "the store alone: claims and records, no HTTP",
        store_rate,
        "deliveries/s",
    );
    o.figure("the store alone: CPU per delivery", store_cpu, "µs");
    o.figure(
        "the store alone: bytes written per delivery",
        store_written,
        "B",
    );
    o.target(Target::at_least(
        "deliveries/s to 10 endpoints",
        rate,
        30_000.0,
        "/s",
    ));
    o.target(Target::at_least(
        "share of the raw client rate",
        rate / raw * 100.0,
        50.0,
        "%",
    ));
    Ok(o)
}

/// POSTs of a typical event body with the worker's headers from the worker's HTTP client,
/// `CONCURRENCY` in flight:
/// requests/s, and the process's CPU per request (client and receiver), in µs.
async fn raw_rate(engine: &Engine, receiver: &Receiver, scale: f64) -> Result<(f64, f64), String> {
    let client = mobieus_delivery::build_client(&engine.guard, &Engine::config(CONCURRENCY).client)
        .map_err(err)?;
    let body = engine
        .db
        .events_page(&mobieus_store::EventFilter::default(), 0, 1)
        .await
        .map_err(err)?
        .items
        .first()
        .map(|e| e.json.clone())
        .unwrap_or_default();
    let span = Duration::from_secs_f64((5.0 * scale).max(1.0));
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + span;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..CONCURRENCY {
        let (client, body, done) = (client.clone(), body.clone(), done.clone());
        let url = receiver.url(&format!("/e{}", t % ENDPOINTS));
        tasks.spawn(async move {
            while Instant::now() < until {
                let mut request = client.post(&url);
                for (name, value) in TYPICAL_HEADERS {
                    request = request.header(name, value);
                }
                if request.body(body.clone()).send().await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    while tasks.join_next().await.is_some() {}
    let cpu = sys::cpu_time().saturating_sub(cpu0);
    let n = done.load(Ordering::Relaxed) as f64;
    Ok((
        n / started.elapsed().as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n.max(1.0),
    ))
}

/// The store's part alone, with no HTTP: a backlog of `deliveries` more, claimed 64 at a
/// time and each batch recorded as delivered, one after the other, through the same store
/// and core calls as the worker. Deliveries/s, the process's CPU per delivery in µs, and
/// the bytes it wrote per delivery (the database's log and files).
async fn store_only(engine: &Engine, deliveries: usize) -> Result<(f64, f64, f64), String> {
    use mobieus_core::delivery::{DeliveryPolicy, Outcome, Recorded, record_all};
    use mobieus_domain::time::Timestamp;
    use mobieus_store::NewAttempt;
    for i in 0..deliveries / ENDPOINTS {
        join(&engine.db, &format!("s{i}")).await?;
    }
    let mut headers: serde_json::Map<String, serde_json::Value> = TYPICAL_HEADERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
        .collect();
    headers.insert("content-length".to_owned(), "400".into());
    let headers = serde_json::Value::Object(headers);
    let policy = DeliveryPolicy::default();
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    let written0 = sys::written_bytes();
    let mut done = 0usize;
    loop {
        let now = Timestamp::now();
        let claimed = engine
            .db
            .claim_due(now, now.plus_millis(60_000), 64, &[], 64)
            .await
            .map_err(err)?;
        if claimed.is_empty() {
            break;
        }
        let recorded: Vec<Recorded> = claimed
            .into_iter()
            .map(|c| Recorded {
                attempt: NewAttempt {
                    delivery: c.id.clone(),
                    number: c.attempts + 1,
                    started_at: now,
                    duration_ms: 0,
                    request_headers: headers.clone(),
                    response_status: Some(200),
                    response_excerpt: Some("ok".to_owned()),
                    error: None,
                },
                claimed: c,
                outcome: Outcome::Succeeded,
                jitter: 0.0,
            })
            .collect();
        done += recorded.len();
        record_all(&engine.db, &policy, &recorded)
            .await
            .map_err(err)?;
    }
    let cpu = sys::cpu_time().saturating_sub(cpu0);
    let written = sys::written_bytes().saturating_sub(written0);
    let n = done.max(1) as f64;
    Ok((
        n / started.elapsed().as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n,
        written as f64 / n,
    ))
}
