//! `idle`: many tenants with no work; the worker's CPU use over a span. The tenants are
//! made by copying one migrated tenant database and registering the copies (making ten
//! thousand through `tenant create` would measure migrations instead). On Postgres, where
//! a schema cannot be copied, they are made through the store, a few at a time, and the
//! CPU of the database's server backends (the worker's queries) is counted too.

use super::scaled;
use crate::engine::{Backend, Engine, err};
use crate::report::{Outcome, Target};
use crate::{pg, sys};
use mobieus_domain::tenant::TenantSlug;
use std::time::{Duration, Instant};

/// How long the connections the first sweep opened take to close, at most (their idle
/// timeout is 10 s; closing ten thousand takes longer than that on two cores).
const SETTLE: Duration = Duration::from_secs(30);

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new(backend).await?;
    let tenants = scaled(10_000, scale, 1_000);
    let made = Instant::now();
    if engine.pg.is_some() {
        make_tenants_pg(&engine, tenants).await?;
    } else {
        make_tenants(&engine, tenants).await?;
    }
    let made = made.elapsed();

    // Sweeps every 10 s instead of every 5 minutes, so the measurement holds three.
    let mut config = Engine::config(64);
    config.maintenance_interval = Duration::from_secs(10);
    let worker = engine.worker(config)?;
    let running = Engine::spawn(worker.clone());
    // The first sweep opens every tenant (once, at start); the steady state is measured
    // after it.
    let first = Instant::now();
    while worker.sweeps() == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_sweep = first.elapsed();
    // What the first sweep leaves behind (nothing, unless it still runs), shown apart.
    let cpu_settle = sys::cpu_time();
    tokio::time::sleep(SETTLE).await;
    let settling =
        sys::cpu_time().saturating_sub(cpu_settle).as_secs_f64() / SETTLE.as_secs_f64() * 100.0;
    let span = Duration::from_secs_f64((30.0 * scale).max(5.0));
    let pg_cpu0 = match &engine.pg {
        Some(pg) => Some(pg::backends_cpu(&pg.pool).await?),
        None => None,
    };
    let cpu0 = sys::cpu_time();
    let wall = Instant::now();
    tokio::time::sleep(span).await;
    let cpu =
        sys::cpu_time().saturating_sub(cpu0).as_secs_f64() / wall.elapsed().as_secs_f64() * 100.0;
    let wall = wall.elapsed();
    // The server's share: the CPU of the backends serving this database's connections.
    let pg_cpu = match (&engine.pg, pg_cpu0) {
        (Some(pg), Some(before)) => {
            let after = pg::backends_cpu(&pg.pool).await?;
            Some(
                pg::cpu_between(&before, &after)
                    .map(|c| c.as_secs_f64() / wall.as_secs_f64() * 100.0),
            )
        }
        _ => None,
    };
    let rss = sys::rss_mb();
    running.stop().await;
    let mut o = Outcome::default();
    o.figure("idle tenants", tenants as f64, "");
    o.figure("tenants set up in", made.as_secs_f64(), "s");
    o.figure(
        "measured over (a sweep every 10 s)",
        span.as_secs_f64(),
        "s",
    );
    o.figure(
        "the worker's first sweep (opens every tenant)",
        first_sweep.as_secs_f64(),
        "s",
    );
    o.figure("CPU in the 30 s after it", settling, "% of a core");
    o.figure("RSS", rss, "MB");
    match pg_cpu {
        None => o.target(Target::at_most(
            &format!("worker CPU with {tenants} idle tenants"),
            cpu,
            1.0,
            "% of a core",
        )),
        Some(pg_cpu) => {
            o.figure("the worker process's CPU", cpu, "% of a core");
            o.figure(
                "the database's Postgres backends' CPU",
                pg_cpu.unwrap_or(f64::NAN),
                "% of a core",
            );
            o.target(Target::at_most(
                &format!("worker + its backends' CPU, {tenants} idle"),
                cpu + pg_cpu.unwrap_or(0.0),
                1.0,
                "% of a core",
            ));
        }
    }
    Ok(o)
}

/// Copies of the migrated database of tenant `bench`, registered as `idle<i>`.
async fn make_tenants(engine: &Engine, tenants: usize) -> Result<(), String> {
    let source = engine.dir.path().join("tenants/bench.db");
    // The source must be a single file: fold its WAL in first.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(
            &sqlx::SqlitePool::connect(&format!("sqlite://{}", source.display()))
                .await
                .map_err(err)?,
        )
        .await
        .map_err(err)?;
    let control = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        engine.dir.path().join("control.db").display()
    ))
    .await
    .map_err(err)?;
    let mut tx = control.begin().await.map_err(err)?;
    for i in 0..tenants {
        let slug = TenantSlug::parse(&format!("idle{i}")).map_err(err)?;
        std::fs::copy(
            &source,
            engine.dir.path().join(format!("tenants/{slug}.db")),
        )
        .map_err(err)?;
        sqlx::query("INSERT INTO tenants (slug, created_at) VALUES (?, ?)")
            .bind(slug.as_str())
            .bind(mobieus_domain::time::Timestamp::now().millis())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    Ok(())
}

/// Tenants `idle<i>` made through the store (their schemas created and migrated), by a
/// few tasks at once.
async fn make_tenants_pg(engine: &Engine, tenants: usize) -> Result<(), String> {
    const AT_ONCE: usize = 4;
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..AT_ONCE {
        let store = engine.store.clone();
        tasks.spawn(async move {
            for i in (k..tenants).step_by(AT_ONCE) {
                let slug = TenantSlug::parse(&format!("idle{i}")).map_err(err)?;
                store.create_tenant(&slug, &[]).await.map_err(err)?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(err)??;
    }
    Ok(())
}
