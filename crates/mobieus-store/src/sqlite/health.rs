//! The figures of the admin dashboard's webhook health card.

use super::sql::{all, one};
use crate::rows::HEALTH_MOST_ATTEMPTS;
use crate::{DeliveryHealth, QueueStats, Result};
use mobieus_domain::time::Timestamp;
use rusqlite::Connection;

/// Attempts since `since` by outcome and by hour (newest attempts read from the end of the
/// table, which is in the order they were recorded, so no index on time is needed and a
/// busy day costs a bounded read); the oldest pending delivery; disabled endpoints.
pub(crate) fn delivery_health(
    c: &Connection,
    since: Timestamp,
    now: Timestamp,
) -> Result<DeliveryHealth> {
    let mut health = DeliveryHealth::window(since, now);
    let mut read = 0;
    {
        let mut stmt = c.prepare_cached(
            "SELECT started_at, response_status FROM delivery_attempts ORDER BY id DESC LIMIT ?",
        )?;
        let mut rows = stmt.query([HEALTH_MOST_ATTEMPTS])?;
        while let Some(r) = rows.next()? {
            read += 1;
            if !health.count(since, r.get(0)?, r.get(1)?) {
                break;
            }
        }
    }
    Ok(health.finish(read, queue_stats(c)?))
}

/// Pending deliveries, the oldest one's creation, and disabled endpoints.
pub(crate) fn queue_stats(c: &Connection) -> Result<QueueStats> {
    let mut stats = QueueStats::default();
    // Per endpoint, through its partial index of pending deliveries: the oldest pending
    // delivery is the first pending one of some endpoint.
    let endpoints: Vec<String> = all(c, "SELECT id FROM webhook_endpoints", [], |r| Ok(r.get(0)?))?;
    for endpoint in endpoints {
        let oldest: Option<i64> = one(
            c,
            "SELECT created_at FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending'
             ORDER BY position LIMIT 1",
            [&endpoint],
            |r| Ok(r.get(0)?),
        )?;
        if let Some(at) = oldest.map(Timestamp::from_millis)
            && stats.oldest_pending.is_none_or(|o| at < o)
        {
            stats.oldest_pending = Some(at);
        }
    }
    let count = |sql: &str| -> Result<u64> {
        Ok(one(c, sql, [], |r| {
            Ok(u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0))
        })?
        .unwrap_or(0))
    };
    stats.pending = count("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")?;
    stats.disabled_endpoints = count("SELECT count(*) FROM webhook_endpoints WHERE active = 0")?;
    Ok(stats)
}
