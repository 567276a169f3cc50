//! The figures of the admin dashboard's webhook health card, and the queue's gauges.

use crate::db::{Conn, Stmt};
use crate::rows::HEALTH_MOST_ATTEMPTS;
use crate::{DeliveryHealth, QueueStats, Result};
use mobieus_domain::time::Timestamp;

/// How many attempts one read takes.
const CHUNK: i64 = 5_000;

/// Attempts since `since` by outcome and by hour (newest attempts read from the end of the
/// table, which is in the order they were recorded, so no index on time is needed and a
/// busy day costs a bounded read, a chunk at a time); the oldest pending delivery;
/// disabled endpoints.
pub(crate) async fn delivery_health(
    c: &mut Conn<'_>,
    since: Timestamp,
    now: Timestamp,
) -> Result<DeliveryHealth> {
    let mut health = DeliveryHealth::window(since, now);
    let mut read: i64 = 0;
    let mut before = i64::MAX;
    while read < HEALTH_MOST_ATTEMPTS {
        let take = CHUNK.min(HEALTH_MOST_ATTEMPTS - read);
        let stmt = Stmt::new(
            "SELECT id, started_at, response_status FROM delivery_attempts
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(take);
        let rows: Vec<(i64, i64, Option<i64>)> = c
            .all(stmt, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .await?;
        let got = i64::try_from(rows.len()).unwrap_or(take);
        let mut in_window = true;
        for (id, at, status) in rows {
            read += 1;
            before = id;
            if !health.count(since, at, status) {
                in_window = false;
                break;
            }
        }
        if !in_window || got < take {
            break;
        }
    }
    Ok(health.finish(read, queue_stats(c).await?))
}

/// Pending deliveries, the oldest one's creation, and disabled endpoints.
pub(crate) async fn queue_stats(c: &mut Conn<'_>) -> Result<QueueStats> {
    if let Conn::Pg(c) = c {
        return crate::postgres::queue_stats(c).await;
    }
    let mut stats = QueueStats::default();
    // Per endpoint, through its partial index of pending deliveries: the oldest pending
    // delivery is the first pending one of some endpoint (Postgres does the same in one
    // statement, with a lateral join SQLite lacks).
    let endpoints: Vec<String> = c
        .all(Stmt::new("SELECT id FROM webhook_endpoints"), |r| r.get(0))
        .await?;
    for endpoint in endpoints {
        let stmt = Stmt::new(
            "SELECT created_at FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'
             ORDER BY position LIMIT 1",
        )
        .bind(endpoint);
        let oldest: Option<i64> = c.one(stmt, |r| r.get(0)).await?;
        if let Some(at) = oldest.map(Timestamp::from_millis)
            && stats.oldest_pending.is_none_or(|o| at < o)
        {
            stats.oldest_pending = Some(at);
        }
    }
    stats.pending = count(
        c,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'",
    )
    .await?;
    stats.disabled_endpoints = count(
        c,
        "SELECT count(*) FROM webhook_endpoints WHERE active = FALSE",
    )
    .await?;
    Ok(stats)
}

async fn count(c: &mut Conn<'_>, sql: &'static str) -> Result<u64> {
    let n: Option<i64> = c.one(Stmt::new(sql), |r| r.get(0)).await?;
    Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}
