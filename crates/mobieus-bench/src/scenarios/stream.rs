//! `stream`: 1,000 live streams (`GET /api/v1/events/stream`) open on one server, events
//! committed at 200/s: the time from each commit (and from the start of its action) until
//! the last stream has it, and the resident memory and CPU the open streams cost the
//! server. The clients are raw loopback sockets in a process of their own (this binary
//! again, see `stream_clients`), so this process's figures are the server's alone.

use super::{join, scaled};
use crate::engine::{Backend, Engine, err};
use crate::report::{Outcome, Target};
use crate::stream_clients::PER_KEY;
use crate::sys::{cpu_time, cpu_time_of, percentile_ms, rss_mb, rss_mb_of, unix_micros};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const RATE: f64 = 200.0;
/// Events far enough apart that each one's fan-out ends before the next: what one event
/// costs to reach every stream, with nothing queued before it.
const SPARSE_RATE: f64 = 20.0;

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let streams = scaled(1_000, scale, 100);
    let events = scaled(2_000, scale, 200);
    let sparse = scaled(200, scale, 20);
    let mut keys = String::new();
    for _ in 0..streams.div_ceil(PER_KEY) {
        keys.push_str(&engine.feed_key().await?);
        keys.push('\n');
    }
    let addr = engine.serve_api().await?;
    // Warm the store (its key cache, the tenant's connections) with one event.
    join(&engine.db, "warm").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let rss_before = rss_mb();
    let mut fleet = Fleet::start(addr, streams, events + sparse, &keys).await?;
    let rss_open = rss_mb();
    let fleet_rss = rss_mb_of(fleet.pid()).unwrap_or(0.0);

    let (cpu_before, fleet_cpu_before) = (cpu_time(), fleet.cpu());
    let steady = commit(&engine, 0..events, RATE).await?;
    let elapsed = steady.elapsed.as_secs_f64();
    let cpu = (cpu_time() - cpu_before).as_secs_f64() / elapsed;
    let fleet_cpu = (fleet.cpu() - fleet_cpu_before).as_secs_f64() / elapsed;
    let cpu_before = cpu_time();
    let alone = commit(&engine, events..events + sparse, SPARSE_RATE).await?;
    // Each event alone, as one message to each stream (and its own commit).
    let per_message = (cpu_time() - cpu_before) / (sparse * streams) as u32;
    let arrivals = fleet.arrivals(Duration::from_secs(30)).await?;
    let rss_after = rss_mb();
    let incomplete = arrivals.iter().filter(|(n, _)| *n < streams).count();
    if incomplete > 0 || arrivals.len() < events + sparse {
        return Err(format!(
            "stream: {} of {} events did not reach every stream",
            incomplete + (events + sparse).saturating_sub(arrivals.len()),
            events + sparse
        ));
    }
    let latencies = |from: &[u64], first: usize| {
        let mut samples: Vec<Duration> = from
            .iter()
            .zip(&arrivals[first..])
            .map(|(at, (_, last))| Duration::from_micros(last.saturating_sub(*at)))
            .collect();
        samples.sort();
        samples
    };
    let from_commit = latencies(&steady.committed, 0);
    let from_action = latencies(&steady.began, 0);
    let from_commit_alone = latencies(&alone.committed, events);
    let mut o = Outcome::default();
    o.figure("streams", streams as f64, "");
    o.figure("events", events as f64, "");
    o.figure("rate achieved", events as f64 / elapsed, "events/s");
    o.figure(
        "CPU of the server while streaming",
        cpu * 100.0,
        "% of a core",
    );
    o.figure(
        "CPU of the clients (another process)",
        fleet_cpu * 100.0,
        "% of a core",
    );
    for (name, samples) in [("commit", &from_commit), ("action", &from_action)] {
        for p in [50.0, 99.0, 100.0] {
            let label = if p == 100.0 {
                "max".to_owned()
            } else {
                format!("p{p}")
            };
            o.figure(
                &format!("{label} {name} → last stream"),
                percentile_ms(samples, p),
                "ms",
            );
        }
    }
    o.figure(
        "p50 commit → last stream, one event alone (20 events/s)",
        percentile_ms(&from_commit_alone, 50.0),
        "ms",
    );
    o.figure(
        "server CPU per stream message, one event alone",
        per_message.as_secs_f64() * 1e6,
        "µs",
    );
    o.figure(
        "server RSS with the streams open (growth)",
        rss_open - rss_before,
        "MB",
    );
    o.figure(
        "server RSS after the events (growth)",
        rss_after - rss_before,
        "MB",
    );
    o.figure("clients' RSS (another process)", fleet_rss, "MB");
    o.target(Target::at_most(
        &format!("p50 commit to the last of {streams} streams at 200 events/s"),
        percentile_ms(&from_commit, 50.0),
        5.0,
        "ms",
    ));
    o.target(Target::at_most(
        &format!("p99 commit to the last of {streams} streams at 200 events/s"),
        percentile_ms(&from_commit, 99.0),
        50.0,
        "ms",
    ));
    o.target(Target::at_most(
        &format!("server RSS growth for {streams} streams"),
        (rss_after - rss_before).max(rss_open - rss_before),
        100.0,
        "MB",
    ));
    Ok(o)
}

/// When each event's action began and when its commit returned, µs since the Unix epoch.
struct Committed {
    began: Vec<u64>,
    committed: Vec<u64>,
    elapsed: Duration,
}

/// Commits events (members `s<n>` joining) for `members`, at `rate` a second.
async fn commit(
    engine: &Engine,
    members: std::ops::Range<usize>,
    rate: f64,
) -> Result<Committed, String> {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut out = Committed {
        began: Vec::with_capacity(members.len()),
        committed: Vec::with_capacity(members.len()),
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    for i in members {
        tick.tick().await;
        out.began.push(unix_micros());
        join(&engine.db, &format!("s{i}")).await?;
        out.committed.push(unix_micros());
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

/// The client fleet, in a process of its own. Killed when dropped.
struct Fleet {
    child: Child,
    /// Everything the fleet prints after `opened`, read to its end.
    report: tokio::task::JoinHandle<std::io::Result<String>>,
}

impl Fleet {
    /// Starts the fleet and waits until every stream is open.
    async fn start(
        addr: std::net::SocketAddr,
        streams: usize,
        events: usize,
        keys: &str,
    ) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(err)?;
        let mut child = Command::new(exe)
            .env(crate::stream_clients::ROLE, "1")
            .args(["--addr", &addr.to_string()])
            .args(["--streams", &streams.to_string()])
            .args(["--events", &events.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the stream clients: {e}"))?;
        // The keys, then an empty line; stdin stays open for `report`.
        if let Some(stdin) = child.stdin.as_mut() {
            stdin
                .write_all(format!("{keys}\n").as_bytes())
                .await
                .map_err(err)?;
        }
        let mut out = BufReader::new(
            child
                .stdout
                .take()
                .ok_or("the stream clients have no stdout")?,
        );
        let mut line = String::new();
        out.read_line(&mut line).await.map_err(err)?;
        if line.trim() != "opened" {
            return Err(format!("stream clients: {}", stderr(&mut child).await));
        }
        let report = tokio::spawn(async move {
            let mut text = String::new();
            out.read_to_string(&mut text).await.map(|_| text)
        });
        Ok(Self { child, report })
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    fn cpu(&self) -> Duration {
        cpu_time_of(self.pid()).unwrap_or_default()
    }

    /// Each event's streams reached and last arrival (µs since the Unix epoch): once every
    /// event has reached every stream, or what there is after `patience`.
    async fn arrivals(&mut self, patience: Duration) -> Result<Vec<(usize, u64)>, String> {
        let report = &mut self.report;
        let text = match tokio::time::timeout(patience, &mut *report).await {
            Ok(read) => read,
            Err(_) => {
                if let Some(stdin) = self.child.stdin.as_mut() {
                    stdin.write_all(b"report\n").await.map_err(err)?;
                }
                report.await
            }
        }
        .map_err(err)?
        .map_err(err)?;
        let status = self.child.wait().await.map_err(err)?;
        if !status.success() {
            return Err(format!("stream clients: {}", stderr(&mut self.child).await));
        }
        text.lines()
            .map(|l| {
                let (n, at) = l
                    .split_once(' ')
                    .ok_or("a malformed line from the clients")?;
                Ok((n.parse().map_err(err)?, at.parse().map_err(err)?))
            })
            .collect()
    }
}

/// What the fleet said on stderr, when it failed.
async fn stderr(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = tokio::time::timeout(Duration::from_secs(5), e.read_to_string(&mut text)).await;
    }
    text.trim().to_owned()
}
