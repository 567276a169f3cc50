//! `stream`: 1,000 live streams (`GET /api/v1/events/stream`) open on one server, events
//! committed at 200/s: the time from each action (its transaction included) until the
//! last stream has it, and the resident memory the open streams add. The clients are raw
//! loopback sockets with a small buffer each, in this process, so the memory figure is the
//! server's streams plus a few kilobytes per client.

use super::{join, scaled};
use crate::engine::{Backend, Engine, err};
use crate::report::{Outcome, Target};
use crate::sys::{cpu_time, percentile_ms, rss_mb};
use mobieus_core::keys::{self, KeyRequest};
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::scope::{Scope, Scopes};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RATE: f64 = 200.0;
/// At most this many streams per key on a server: the clients share keys.
const PER_KEY: usize = 10;

/// When each event reached how many streams: the latest arrival, in µs since the start.
struct Arrivals {
    start: Instant,
    last_us: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
}

impl Arrivals {
    fn saw(&self, event: usize) {
        if let (Some(last), Some(count)) = (self.last_us.get(event), self.count.get(event)) {
            let now = self.start.elapsed().as_micros() as u64;
            last.fetch_max(now, Ordering::Relaxed);
            count.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let streams = scaled(1_000, scale, 100);
    let events = scaled(2_000, scale, 200);
    let mut keys = Vec::new();
    for _ in 0..streams.div_ceil(PER_KEY) {
        let key = keys::mint(
            &engine.db,
            KeyRequest {
                actor: "bench".to_owned(),
                name: "bench".to_owned(),
                scopes: Scopes::new([Scope::EventsRead]).map_err(err)?,
                mode: KeyMode::Live,
                rate_limit: RateLimit::new(1_000_000).map_err(err)?,
            },
        )
        .await
        .map_err(err)?;
        keys.push(key.secret.expose().to_owned());
    }
    let app = mobieus_web::router(mobieus_web::AppState::new(
        engine.store.clone(),
        engine.guard.clone(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    // Warm the server (its tail, the key cache of the store) with one stream and event.
    join(&engine.db, "warm").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let rss_before = rss_mb();
    let arrivals = Arc::new(Arrivals {
        start: Instant::now(),
        last_us: (0..events).map(|_| AtomicU64::new(0)).collect(),
        count: (0..events).map(|_| AtomicU32::new(0)).collect(),
    });
    let opened = Arc::new(AtomicU32::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..streams {
        let (key, arrivals, opened) = (keys[i / PER_KEY].clone(), arrivals.clone(), opened.clone());
        clients.spawn(async move { client(addr, key, arrivals, opened).await });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while (opened.load(Ordering::Relaxed) as usize) < streams {
        if Instant::now() > deadline {
            return Err(format!(
                "stream: only {} of {streams} streams opened",
                opened.load(Ordering::Relaxed)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rss_open = rss_mb();

    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut began = Vec::with_capacity(events);
    let started = Instant::now();
    let cpu_before = cpu_time();
    for i in 0..events {
        tick.tick().await;
        began.push(arrivals.start.elapsed().as_micros() as u64);
        join(&engine.db, &format!("s{i}")).await?;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    // Servers and clients together: each event is a write and a read per stream.
    let cpu = (cpu_time() - cpu_before).as_secs_f64() / started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(30);
    while arrivals.count[events - 1].load(Ordering::Relaxed) < streams as u32 {
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rss_after = rss_mb();
    clients.abort_all();
    let mut complete = 0;
    let mut samples = Vec::with_capacity(events);
    for (i, at) in began.iter().enumerate() {
        if arrivals.count[i].load(Ordering::Relaxed) as usize == streams {
            complete += 1;
            let last = arrivals.last_us[i].load(Ordering::Relaxed);
            samples.push(Duration::from_micros(last.saturating_sub(*at)));
        }
    }
    if complete < events {
        return Err(format!(
            "stream: {} of {events} events did not reach every stream",
            events - complete
        ));
    }
    samples.sort();
    let mut o = Outcome::default();
    o.figure("streams", streams as f64, "");
    o.figure("events", events as f64, "");
    o.figure("rate achieved", rate, "events/s");
    o.figure(
        "CPU while streaming (server and clients)",
        cpu * 100.0,
        "% of a core",
    );
    o.figure(
        "p50 action → last stream",
        percentile_ms(&samples, 50.0),
        "ms",
    );
    o.figure(
        "p99 action → last stream",
        percentile_ms(&samples, 99.0),
        "ms",
    );
    o.figure(
        "max action → last stream",
        percentile_ms(&samples, 100.0),
        "ms",
    );
    o.figure(
        "RSS with the streams open (growth)",
        rss_open - rss_before,
        "MB",
    );
    o.figure(
        "RSS after the events (growth)",
        rss_after - rss_before,
        "MB",
    );
    o.target(Target::at_most(
        &format!("p50 to the last of {streams} streams at 200 events/s"),
        percentile_ms(&samples, 50.0),
        5.0,
        "ms",
    ));
    o.target(Target::at_most(
        &format!("p99 to the last of {streams} streams at 200 events/s"),
        percentile_ms(&samples, 99.0),
        50.0,
        "ms",
    ));
    o.target(Target::at_most(
        &format!("RSS growth for {streams} streams"),
        (rss_after - rss_before).max(rss_open - rss_before),
        100.0,
        "MB",
    ));
    Ok(o)
}

/// One stream on a raw socket: reads the messages and notes each `s<n>` member's join.
async fn client(
    addr: std::net::SocketAddr,
    key: String,
    arrivals: Arc<Arrivals>,
    opened: Arc<AtomicU32>,
) -> Result<(), String> {
    let mut socket = TcpStream::connect(addr).await.map_err(err)?;
    let request = format!(
        "GET /api/v1/events/stream?type=user.joined HTTP/1.1\r\nHost: bench.localhost\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.map_err(err)?;
    let mut buf = vec![0_u8; 4096];
    let mut pending = Vec::with_capacity(4096);
    let mut counted = false;
    const NEEDLE: &[u8] = b"\"username\":\"s";
    loop {
        let n = socket.read(&mut buf).await.map_err(err)?;
        if n == 0 {
            return Ok(());
        }
        if !counted {
            counted = true;
            if !buf.starts_with(b"HTTP/1.1 200") {
                return Err(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            opened.fetch_add(1, Ordering::Relaxed);
        }
        pending.extend_from_slice(&buf[..n]);
        // Each event's data names its member once: `"username":"s<n>"`.
        let mut consumed = 0;
        while let Some(at) = find(&pending[consumed..], NEEDLE) {
            let digits = consumed + at + NEEDLE.len();
            let end = pending[digits..].iter().position(|b| !b.is_ascii_digit());
            let Some(end) = end else { break };
            if let Ok(i) = std::str::from_utf8(&pending[digits..digits + end])
                .unwrap_or_default()
                .parse::<usize>()
            {
                arrivals.saw(i);
            }
            consumed = digits + end;
        }
        // Keep only a tail that could hold the start of a needle.
        let keep_from = consumed.max(pending.len().saturating_sub(NEEDLE.len() + 12));
        pending.drain(..keep_from);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}
