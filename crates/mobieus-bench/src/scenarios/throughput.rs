//! `throughput`: a backlog of deliveries to 10 endpoints drained by the worker, against
//! the raw rate the same HTTP client reaches on the same receiver with no engine between.
//! On Postgres the backlog can also be drained by N `mobieus worker` processes
//! ([`run_processes`]); the bytes written are then the server's WAL.

use super::{join, scaled};
use crate::children::Workers;
use crate::engine::{Backend, Engine, err};
use crate::pg;
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use crate::sys;
use sqlx::AssertSqlSafe;
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

/// A fresh engine with `ENDPOINTS` endpoints on a receiver, and a backlog of (about)
/// 100,000 deliveries to them: the engine, the receiver, the deliveries, the events, and
/// how long the enqueue took.
async fn backlog(
    backend: &Backend,
    scale: f64,
) -> Result<(Engine, Receiver, usize, usize, Duration), String> {
    let engine = Engine::new(backend).await?;
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
    Ok((engine, receiver, deliveries, events, enqueue))
}

/// What the Postgres server did in a span: the WAL position and its backends' CPU at
/// its start.
struct ServerMark {
    wal: i64,
    cpu: Vec<(i32, Duration)>,
}

impl ServerMark {
    async fn now(engine: &Engine) -> Result<Option<Self>, String> {
        let Some(pg) = &engine.pg else {
            return Ok(None);
        };
        Ok(Some(Self {
            cpu: pg::backends_cpu(&pg.pool).await?,
            wal: pg::wal_position(&pg.pool).await?,
        }))
    }

    /// WAL bytes written since (by the whole server) and the database's backends' CPU.
    async fn since(&self, engine: &Engine) -> Result<(f64, Option<Duration>), String> {
        let pg = engine.pg.as_ref().ok_or("not on Postgres")?;
        let wal = pg::wal_position(&pg.pool).await?;
        let cpu = pg::backends_cpu(&pg.pool).await?;
        Ok(((wal - self.wal) as f64, pg::cpu_between(&self.cpu, &cpu)))
    }
}

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let (engine, receiver, deliveries, events, enqueue) = backlog(backend, scale).await?;
    let raw_before = raw_rate(&engine, &receiver, scale).await?;
    let base = receiver.count();

    let worker = engine.worker(Engine::config(CONCURRENCY))?;
    let server = ServerMark::now(&engine).await?;
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    let running = Engine::spawn(worker.clone());
    if !receiver
        .wait_for(base + deliveries as u64, Duration::from_secs(600))
        .await
    {
        return Err(format!(
            "throughput: {} of {deliveries} arrived",
            receiver.count() - base
        ));
    }
    let received = started.elapsed();
    while worker.summary().succeeded < deliveries as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu0);
    let server = match &server {
        Some(mark) => Some(mark.since(&engine).await?),
        None => None,
    };
    running.stop().await;
    let rate = deliveries as f64 / drained.as_secs_f64();
    let cpu_per_delivery = cpu.as_secs_f64() * 1e6 / deliveries as f64;

    let raw_after = raw_rate(&engine, &receiver, scale).await?;
    let (raw, cpu_per_request) = raw_mean(raw_before, raw_after);
    let store = store_only(&engine, deliveries / 5).await?;
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
    raw_figures(&mut o, raw_before, raw_after);
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
    if let Some((wal, backends)) = server {
        server_figures(&mut o, deliveries, drained, wal, backends);
    }
    o.figure(
        "the store alone: claims and records, no HTTP",
        store.rate,
        "deliveries/s",
    );
    o.figure("the store alone: CPU per delivery", store.cpu, "µs");
    match store.server_cpu {
        None => o.figure(
            "the store alone: bytes written per delivery",
            store.written,
            "B",
        ),
        Some(server_cpu) => {
            o.figure(
                "the store alone: Postgres backends' CPU",
                server_cpu.unwrap_or(f64::NAN),
                "µs/delivery",
            );
            o.figure(
                "the store alone: WAL per delivery (server)",
                store.written,
                "B",
            );
        }
    }
    targets(&mut o, rate, raw);
    Ok(o)
}

/// The raw rate the drain is held against: the mean of the runs just before and just
/// after it (this machine's speed drifts by tens of per cent within minutes, and a run
/// on one side only would hold the drain against a moment it did not run in), and the
/// mean CPU per raw request.
fn raw_mean(before: (f64, f64), after: (f64, f64)) -> (f64, f64) {
    ((before.0 + after.0) / 2.0, (before.1 + after.1) / 2.0)
}

fn raw_figures(o: &mut Outcome, before: (f64, f64), after: (f64, f64)) {
    o.figure("raw client → receiver, before the drain", before.0, "req/s");
    o.figure("raw client → receiver, after the drain", after.0, "req/s");
    o.figure("raw client → receiver", raw_mean(before, after).0, "req/s");
}

/// The two throughput targets, the same for the in-process worker and for
/// worker processes.
fn targets(o: &mut Outcome, rate: f64, raw: f64) {
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
async fn store_only(engine: &Engine, deliveries: usize) -> Result<StoreOnly, String> {
    use mobieus_core::delivery::{DeliveryPolicy, Outcome, Recorded, record_all};
    use mobieus_domain::time::Timestamp;
    use mobieus_store::{Claim, NewAttempt};
    for i in 0..deliveries / ENDPOINTS {
        join(&engine.db, &format!("s{i}")).await?;
    }
    let headers = mobieus_domain::webhook::SentHeaders::from_pairs(
        TYPICAL_HEADERS
            .iter()
            .copied()
            .chain([("content-length", "400")]),
    );
    let policy = DeliveryPolicy::default();
    // On Postgres the bench writes only to sockets: the server's WAL is what the store
    // makes it write (SQLite: the process's own writes, its database files).
    let server = ServerMark::now(engine).await?;
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    let written0 = sys::written_bytes();
    let mut done = 0usize;
    loop {
        let now = Timestamp::now();
        let claimed = engine
            .db
            .claim_due(&Claim::new(now, now.plus_millis(60_000), 64).with_slots(&[], 64))
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
    let elapsed = started.elapsed();
    let n = done.max(1) as f64;
    let (written, server_cpu) = match &server {
        Some(mark) => {
            let (wal, cpu) = mark.since(engine).await?;
            (wal, Some(cpu.map(|c| c.as_secs_f64() * 1e6 / n)))
        }
        None => (written as f64, None),
    };
    Ok(StoreOnly {
        rate: n / elapsed.as_secs_f64(),
        cpu: cpu.as_secs_f64() * 1e6 / n,
        written: written / n,
        server_cpu,
    })
}

/// What the store alone did, per delivery.
struct StoreOnly {
    /// Deliveries/s.
    rate: f64,
    /// This process's CPU, µs.
    cpu: f64,
    /// Bytes written: the process's (SQLite), the server's WAL (Postgres).
    written: f64,
    /// Postgres: the database's backends' CPU, µs (`None` inside: not readable).
    server_cpu: Option<Option<f64>>,
}

/// The Postgres server's part of a drain: WAL written and the database's backends' CPU.
fn server_figures(
    o: &mut Outcome,
    deliveries: usize,
    drained: Duration,
    wal: f64,
    backends: Option<Duration>,
) {
    let n = deliveries as f64;
    match backends {
        Some(cpu) => {
            o.figure(
                "Postgres backends' CPU while draining",
                cpu.as_secs_f64() / drained.as_secs_f64() * 100.0,
                "% of a core",
            );
            o.figure(
                "Postgres backends' CPU per delivery",
                cpu.as_secs_f64() * 1e6 / n,
                "µs",
            );
        }
        None => o.figure("Postgres backends' CPU (not readable here)", f64::NAN, ""),
    }
    o.figure("WAL per delivery (whole server)", wal / n, "B");
}

/// The backlog drained by `n` `mobieus worker` processes on the engine's Postgres
/// database (each with the in-process worker's concurrency and retry schedule): from
/// their start until the receiver has every delivery and the database records each as
/// succeeded. The raw client rate is measured in this process before and after, as in [`run`].
pub async fn run_processes(backend: &Backend, scale: f64, n: u16) -> Result<Outcome, String> {
    if !backend.is_postgres() {
        return Err("worker processes need --backend postgres".to_owned());
    }
    let (engine, receiver, deliveries, events, enqueue) = backlog(backend, scale).await?;
    let pg = engine.pg.as_ref().ok_or("not on Postgres")?;
    let schema = engine.tenant_schema("bench").await?;
    let n = usize::from(n);

    // Each worker holds its pool and one listening connection: they must fit beside the
    // connections open now (this process's, and whoever else shares the server).
    let (room, open) = pg::connection_room(&pg.pool).await?;
    let free = room - open - 5;
    let pool = (48 / n as i64).min(16).min(free / n as i64 - 1);
    if pool < 2 {
        return Err(format!(
            "the Postgres server has room for {free} more connections: too few for {n} worker processes"
        ));
    }
    let pool = u32::try_from(pool).map_err(err)?;
    let count = format!(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'pending')
         FROM {schema}.webhook_deliveries"
    );

    let raw_before = raw_rate(&engine, &receiver, scale).await?;
    let base = receiver.count();
    let server = ServerMark::now(&engine).await?.ok_or("not on Postgres")?;
    let timeout = Duration::from_secs(600);
    let started = Instant::now();
    let cpu0 = sys::cpu_time();
    let mut workers = Workers::spawn(&engine, n, pool, CONCURRENCY)?;
    // The processes' start: until the first delivery arrives.
    while !receiver
        .wait_for(base + 1, Duration::from_millis(100))
        .await
    {
        workers.check()?;
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "throughput with {n} worker processes: nothing arrived in 60 s"
            ));
        }
    }
    let first = started.elapsed();
    while !receiver
        .wait_for(base + deliveries as u64, Duration::from_millis(500))
        .await
    {
        workers.check()?;
        if started.elapsed() > timeout {
            return Err(format!(
                "throughput with {n} worker processes: {} of {deliveries} arrived",
                receiver.count() - base
            ));
        }
    }
    let received = started.elapsed();
    loop {
        let (succeeded, pending): (i64, i64) = sqlx::query_as(AssertSqlSafe(count.clone()))
            .fetch_one(&pg.pool)
            .await
            .map_err(err)?;
        if succeeded >= deliveries as i64 {
            break;
        }
        if pending == 0 {
            return Err(format!(
                "throughput with {n} worker processes: {succeeded} of {deliveries} succeeded, none pending"
            ));
        }
        workers.check()?;
        if started.elapsed() > timeout {
            return Err(format!(
                "throughput with {n} worker processes: {succeeded} of {deliveries} recorded"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu0);
    let workers_cpu = workers.cpu();
    let (wal, backends) = server.since(&engine).await?;
    workers.stop();
    let duplicates = (receiver.count() - base).saturating_sub(deliveries as u64);
    let rate = deliveries as f64 / drained.as_secs_f64();
    let raw_after = raw_rate(&engine, &receiver, scale).await?;
    let (raw, _) = raw_mean(raw_before, raw_after);

    let mut o = Outcome::default();
    o.figure("worker processes", n as f64, "");
    o.figure(
        "Postgres connections per worker (its pool)",
        f64::from(pool),
        "",
    );
    o.figure("deliveries", deliveries as f64, "");
    o.figure(
        "enqueue (events with 10 deliveries each)",
        events as f64 / enqueue.as_secs_f64(),
        "events/s",
    );
    o.figure(
        "first received after (processes start)",
        first.as_secs_f64(),
        "s",
    );
    o.figure("all received after", received.as_secs_f64(), "s");
    o.figure("all recorded after", drained.as_secs_f64(), "s");
    o.figure("requests beyond one per delivery", duplicates as f64, "");
    o.figure("deliveries/s (received and recorded)", rate, "/s");
    raw_figures(&mut o, raw_before, raw_after);
    o.figure("engine / raw", rate / raw, "");
    o.figure(
        "worker processes' CPU while draining",
        workers_cpu.as_secs_f64() / drained.as_secs_f64() * 100.0,
        "% of a core",
    );
    o.figure(
        "worker processes' CPU per delivery",
        workers_cpu.as_secs_f64() * 1e6 / deliveries as f64,
        "µs",
    );
    o.figure(
        "this process's CPU (the receiver)",
        cpu.as_secs_f64() / drained.as_secs_f64() * 100.0,
        "% of a core",
    );
    server_figures(&mut o, deliveries, drained, wal, backends);
    targets(&mut o, rate, raw);
    Ok(o)
}
