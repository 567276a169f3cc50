//! `queue-scale`: the cost of a delivery with 10 k, 100 k and 1 M deliveries pending
//! (it should stay flat), and the process's peak memory while delivering at 1 M pending.
//! The backlog is written with one SQL statement per table (a real event's JSON as the
//! payload): enqueueing a million through the use cases would measure ingest instead.
//! On Postgres the tables are analysed after the load (as autovacuum would soon do), and
//! the memory is the bench process's (the worker's), not the server's.

use super::{join, scaled};
use crate::engine::{Backend, Engine, err};
use crate::receiver::Receiver;
use crate::report::{Outcome, Target};
use crate::sys;
use mobieus_domain::time::Timestamp;
use sqlx::AssertSqlSafe;
use std::time::{Duration, Instant};

pub async fn run(backend: &Backend, scale: f64) -> Result<Outcome, String> {
    let levels = [
        scaled(10_000, scale, 1_000),
        scaled(100_000, scale, 10_000),
        scaled(1_000_000, scale, 100_000),
    ];
    let sample = scaled(10_000, scale, 1_000);
    let mut o = Outcome::default();
    let mut costs = Vec::new();
    let mut peak_at_top = 0.0;
    for &pending in &levels {
        let engine = Engine::new(backend).await?;
        let receiver = Receiver::start(false).await?;
        let endpoint = engine.endpoint(&receiver.url("/q")).await?;
        let template = {
            let id = join(&engine.db, "template").await?;
            engine
                .db
                .event_by_id(id.as_str())
                .await
                .map_err(err)?
                .map(|e| e.json.replace(id.as_str(), "EVTID"))
                .ok_or("the template event is missing")?
        };
        // The template's own delivery goes first.
        let written = Instant::now();
        if engine.pg.is_some() {
            backlog_pg(&engine, endpoint.as_str(), &template, pending).await?;
        } else {
            backlog(&engine, endpoint.as_str(), &template, pending).await?;
        }
        let written = written.elapsed();
        if let Some(pg) = &engine.pg {
            let schema = engine.tenant_schema("bench").await?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "ANALYZE {schema}.api_events; ANALYZE {schema}.webhook_deliveries"
            )))
            .execute(&pg.pool)
            .await
            .map_err(err)?;
        }

        let worker = engine.worker(Engine::config(64))?;
        let running = Engine::spawn(worker.clone());
        let started = Instant::now();
        let mut peak = sys::rss_mb();
        while receiver.count() < (sample + 1) as u64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            peak = peak.max(sys::rss_mb());
            if started.elapsed() > Duration::from_secs(300) {
                return Err(format!("queue-scale {pending}: too slow"));
            }
        }
        let took = started.elapsed();
        running.stop().await;
        let cost_us = took.as_secs_f64() * 1e6 / (sample + 1) as f64;
        costs.push(cost_us);
        o.figure(
            &format!("{pending} pending: backlog written in"),
            written.as_secs_f64(),
            "s",
        );
        o.figure(
            &format!("{pending} pending: cost per delivery"),
            cost_us,
            "µs",
        );
        o.figure(
            &format!("{pending} pending: RSS while delivering"),
            peak,
            "MB",
        );
        peak_at_top = peak;
    }
    let top = levels[2];
    let ratio = costs[2] / costs[0];
    o.target(Target::at_most(
        &format!("cost per delivery at {top} / at {}", levels[0]),
        ratio,
        1.5,
        "×",
    ));
    o.target(Target::at_most(
        &format!("RSS while delivering at {top} pending"),
        peak_at_top,
        150.0,
        "MB",
    ));
    Ok(o)
}

/// `n` events, each with a pending delivery to `endpoint`, due now.
async fn backlog(engine: &Engine, endpoint: &str, template: &str, n: usize) -> Result<(), String> {
    let path = engine.dir.path().join("tenants/bench.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .map_err(err)?;
    let now = Timestamp::now().millis();
    let mut tx = pool.begin().await.map_err(err)?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO api_events (id, type, created_at, payload)
         SELECT 'evt_b' || printf('%021d', i), 'user.joined', ?2, replace(?3, 'EVTID', 'evt_b' || printf('%021d', i)) FROM n",
    )
    .bind(n as i64)
    .bind(now)
    .bind(template)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
         SELECT 'dlv_' || printf('%020d', i), 'evt_b' || printf('%021d', i), ?2, ?3, ?3, ?3 FROM n",
    )
    .bind(n as i64)
    .bind(endpoint)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    tx.commit().await.map_err(err)?;
    pool.close().await;
    Ok(())
}

/// The same backlog on Postgres, in the tenant's schema, with its row of due work in the
/// control schema (as an enqueuing transaction writes it).
async fn backlog_pg(
    engine: &Engine,
    endpoint: &str,
    template: &str,
    n: usize,
) -> Result<(), String> {
    let pg = engine.pg.as_ref().ok_or("not on Postgres")?;
    let schema = engine.tenant_schema("bench").await?;
    let now = Timestamp::now().millis();
    let n = i64::try_from(n).map_err(err)?;
    let mut tx = pg.pool.begin().await.map_err(err)?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {schema}.api_events (id, type, created_at, payload)
         SELECT 'evt_b' || lpad(i::text, 21, '0'), 'user.joined', $2,
                replace($3, 'EVTID', 'evt_b' || lpad(i::text, 21, '0'))
         FROM generate_series(1, $1::BIGINT) AS i"
    )))
    .bind(n)
    .bind(now)
    .bind(template)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {schema}.webhook_deliveries
             (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
         SELECT 'dlv_' || lpad(i::text, 20, '0'), 'evt_b' || lpad(i::text, 21, '0'), $2, $3, $3, $3
         FROM generate_series(1, $1::BIGINT) AS i"
    )))
    .bind(n)
    .bind(endpoint)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(err)?;
    sqlx::query("INSERT INTO mobieus.due_work (slug, due_at) VALUES ('bench', $1)")
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)?;
    Ok(())
}
