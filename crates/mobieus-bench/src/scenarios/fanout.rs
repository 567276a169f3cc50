//! `fanout`: one event to 1, 100 and 1,000 subscribed endpoints: how long its enqueue
//! transaction takes, and how long until the last receiver has it.

use super::join;
use crate::engine::{Backend, Engine, err, settle};
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use mobieus_domain::tenant::TenantSlug;
use std::time::{Duration, Instant};

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let receiver = Receiver::start(false).await?;
    let running = Engine::spawn(engine.worker(Engine::config(64))?);
    let mut o = Outcome::default();
    let sizes: &[usize] = if scale < 1.0 {
        &[1, 10, 100]
    } else {
        &[1, 100, 1_000]
    };
    for &n in sizes {
        let slug = TenantSlug::parse(&format!("fan{n}")).map_err(err)?;
        mobieus_core::tenants::create(&engine.store, &slug, &[])
            .await
            .map_err(err)?;
        let db = engine.store.tenant_db(&slug).await.map_err(err)?;
        for e in 0..n {
            engine
                .endpoint_on(&db, &receiver.url(&format!("/f{n}/{e}")))
                .await?;
        }
        // One event first, so connections are open, as on a live server.
        let before = receiver.count();
        join(&db, "warm").await?;
        receiver
            .wait_for(before + n as u64, Duration::from_secs(60))
            .await;
        settle().await;

        let before = receiver.count();
        let started = Instant::now();
        join(&db, "ann").await?;
        let enqueued = started.elapsed();
        if !receiver
            .wait_for(before + n as u64, Duration::from_secs(60))
            .await
        {
            return Err(format!("fanout {n}: not every endpoint got the event"));
        }
        let last = started.elapsed();
        o.figure(
            &format!("{n} endpoints: enqueue transaction"),
            ms(enqueued),
            "ms",
        );
        o.figure(
            &format!("{n} endpoints: until the last receiver has it"),
            ms(last),
            "ms",
        );
        if n == *sizes.last().unwrap_or(&n) {
            o.target(Target::at_most(
                &format!("enqueue to {n} endpoints"),
                ms(enqueued),
                25.0 * (n as f64 / 1_000.0).max(scale),
                "ms",
            ));
        }
    }
    running.stop().await;
    Ok(o)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
