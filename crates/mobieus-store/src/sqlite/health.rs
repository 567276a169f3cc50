//! The figures of the admin dashboard's webhook health card.

use super::sql::{all, one};
use crate::{DeliveryHealth, QueueStats, Result};
use mobieus_domain::time::Timestamp;
use rusqlite::Connection;

/// The most attempts the card reads back (newest first); beyond it the figures say so.
const MOST_ATTEMPTS: i64 = 200_000;
const HOUR_MS: i64 = 3_600_000;

/// Attempts since `since` by outcome and by hour (newest attempts read from the end of the
/// table, which is in the order they were recorded, so no index on time is needed and a
/// busy day costs a bounded read); the oldest pending delivery; disabled endpoints.
pub(crate) fn delivery_health(
    c: &Connection,
    since: Timestamp,
    now: Timestamp,
) -> Result<DeliveryHealth> {
    let hours =
        usize::try_from((now.millis() - since.millis()).div_euclid(HOUR_MS) + 1).unwrap_or(24);
    let mut health = DeliveryHealth {
        hourly: vec![(0, 0); hours],
        ..DeliveryHealth::default()
    };
    {
        let mut stmt = c.prepare_cached(
            "SELECT started_at, response_status FROM delivery_attempts ORDER BY id DESC LIMIT ?",
        )?;
        let mut rows = stmt.query([MOST_ATTEMPTS])?;
        let mut read = 0;
        while let Some(r) = rows.next()? {
            read += 1;
            let at: i64 = r.get(0)?;
            if at < since.millis() {
                // Attempts are recorded roughly in time order; a few late ones may lie
                // beyond this one, which is as far back as the card looks.
                break;
            }
            let ok = r
                .get::<_, Option<i64>>(1)?
                .is_some_and(|s| (200..300).contains(&s));
            let hour = usize::try_from((at - since.millis()).div_euclid(HOUR_MS)).unwrap_or(0);
            if let Some(slot) = health.hourly.get_mut(hour) {
                if ok {
                    slot.0 += 1;
                } else {
                    slot.1 += 1;
                }
            }
            if ok {
                health.succeeded += 1;
            } else {
                health.failed += 1;
            }
        }
        health.capped = read == MOST_ATTEMPTS;
    }
    let queue = queue_stats(c)?;
    health.oldest_pending = queue.oldest_pending;
    health.pending = queue.pending;
    health.disabled_endpoints = queue.disabled_endpoints;
    Ok(health)
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
