//! `latency`: events committed at a steady rate to one endpoint; the time from each
//! action (its transaction included) to the receiver reading its request.

use super::{join, scaled};
use crate::engine::{Backend, Engine, settle};
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use crate::sys::percentile_ms;
use std::time::{Duration, Instant};

const RATE: f64 = 500.0;

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let receiver = Receiver::start(true).await?;
    engine.endpoint(&receiver.url("/hook")).await?;
    let running = Engine::spawn(engine.worker(Engine::config(64))?);
    settle().await;
    // Warm the connection and the caches.
    for i in 0..50 {
        join(&engine.db, &format!("warm{i}")).await?;
    }
    receiver.wait_for(50, Duration::from_secs(10)).await;

    let n = scaled(10_000, scale, 1_000);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut commits = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        tick.tick().await;
        // Timed from the start of the action, not from the return of its commit: with
        // group commit, the delivery can reach the receiver before the caller hears that
        // its transaction committed, so the time from the return would read zero. This
        // counts the action's own transaction too (an upper bound).
        let at = Instant::now();
        let id = join(&engine.db, &format!("m{i}")).await?;
        commits.push((id.to_string(), at));
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    if !receiver
        .wait_for(50 + n as u64, Duration::from_secs(30))
        .await
    {
        return Err(format!(
            "latency: only {} of {} arrived",
            receiver.count() - 50,
            n
        ));
    }
    running.stop().await;
    let mut samples: Vec<Duration> = commits
        .iter()
        .filter_map(|(id, at)| {
            receiver
                .arrival(id)
                .map(|r| r.saturating_duration_since(*at))
        })
        .collect();
    samples.sort();
    let mut o = Outcome::default();
    o.figure("events", n as f64, "");
    o.figure("rate achieved", rate, "events/s");
    o.figure("p50 action → receiver", percentile_ms(&samples, 50.0), "ms");
    o.figure("p90 action → receiver", percentile_ms(&samples, 90.0), "ms");
    o.figure("p99 action → receiver", percentile_ms(&samples, 99.0), "ms");
    o.figure(
        "max action → receiver",
        percentile_ms(&samples, 100.0),
        "ms",
    );
    o.target(Target::at_most(
        "p50 at 500 events/s",
        percentile_ms(&samples, 50.0),
        0.5,
        "ms",
    ));
    o.target(Target::at_most(
        "p99 at 500 events/s",
        percentile_ms(&samples, 99.0),
        3.0,
        "ms",
    ));
    Ok(o)
}
