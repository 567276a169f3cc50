//! `ingest`: forum actions committed per second through the core use cases by several
//! concurrent callers, each action with its event and one delivery.

use super::join;
use crate::engine::{Backend, Engine};
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CALLERS: usize = 8;

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let receiver = Receiver::start(false).await?;
    engine.endpoint(&receiver.url("/in")).await?;
    let span = Duration::from_secs_f64((5.0 * scale).max(1.0));
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + span;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CALLERS {
        let (db, done) = (engine.db.clone(), done.clone());
        tasks.spawn(async move {
            let mut i = 0u64;
            while Instant::now() < until {
                if join(&db, &format!("c{c}n{i}")).await.is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        });
    }
    let started = Instant::now();
    while tasks.join_next().await.is_some() {}
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let mut o = Outcome::default();
    o.figure("callers", CALLERS as f64, "");
    o.figure(
        "actions (each with its event and a delivery)",
        done.load(Ordering::Relaxed) as f64,
        "",
    );
    o.target(Target::at_least(
        "forum actions committed",
        rate,
        16_000.0,
        "/s",
    ));
    Ok(o)
}
