//! `idle`: many tenants with no work; the worker's CPU use over a span. The tenants are
//! made by copying one migrated tenant database and registering the copies (making ten
//! thousand through `tenant create` would measure migrations instead).

use super::scaled;
use crate::engine::{Engine, err};
use crate::report::{Outcome, Target};
use crate::sys;
use mobieus_domain::tenant::TenantSlug;
use std::time::{Duration, Instant};

pub async fn run(scale: f64) -> Result<Outcome, String> {
    let engine = Engine::new().await?;
    let tenants = scaled(10_000, scale, 1_000);
    let made = Instant::now();
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
    let made = made.elapsed();

    let running = Engine::spawn(engine.worker(Engine::config(64))?);
    // The first pass opens every tenant; measure the steady state after it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let span = Duration::from_secs_f64((30.0 * scale).max(5.0));
    let cpu0 = sys::cpu_time();
    let wall = Instant::now();
    tokio::time::sleep(span).await;
    let cpu = (sys::cpu_time() - cpu0).as_secs_f64() / wall.elapsed().as_secs_f64() * 100.0;
    let rss = sys::rss_mb();
    running.stop().await;
    let mut o = Outcome::default();
    o.figure("idle tenants", tenants as f64, "");
    o.figure("tenants set up in", made.as_secs_f64(), "s");
    o.figure("measured over", span.as_secs_f64(), "s");
    o.figure("RSS", rss, "MB");
    o.target(Target::at_most(
        &format!("worker CPU with {tenants} idle tenants"),
        cpu,
        1.0,
        "% of a core",
    ));
    Ok(o)
}
