//! The figures of the admin dashboard's webhook health card.

use crate::{DeliveryHealth, QueueStats, Result};
use mobieus_domain::time::Timestamp;
use sqlx::{PgConnection, Row};

/// The most attempts the card reads back (newest first); beyond it the figures say so.
const MOST_ATTEMPTS: i64 = 200_000;
/// How many attempts one round trip reads.
const CHUNK: i64 = 5_000;
const HOUR_MS: i64 = 3_600_000;

/// Attempts since `since` by outcome and by hour (newest attempts read from the end of the
/// table, which is in the order they were recorded, so no index on time is needed and a
/// busy day costs a bounded read, a chunk at a time); the oldest pending delivery;
/// disabled endpoints.
pub(crate) async fn delivery_health(
    c: &mut PgConnection,
    since: Timestamp,
    now: Timestamp,
) -> Result<DeliveryHealth> {
    let hours =
        usize::try_from((now.millis() - since.millis()).div_euclid(HOUR_MS) + 1).unwrap_or(24);
    let mut health = DeliveryHealth {
        hourly: vec![(0, 0); hours],
        ..DeliveryHealth::default()
    };
    let mut read: i64 = 0;
    let mut before = i64::MAX;
    'scan: while read < MOST_ATTEMPTS {
        let take = CHUNK.min(MOST_ATTEMPTS - read);
        let rows = sqlx::query(
            "SELECT id, started_at, response_status FROM delivery_attempts
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(take)
        .fetch_all(&mut *c)
        .await?;
        let got = i64::try_from(rows.len()).unwrap_or(take);
        for r in &rows {
            read += 1;
            before = r.try_get(0)?;
            let at: i64 = r.try_get(1)?;
            if at < since.millis() {
                // Attempts are recorded roughly in time order; a few late ones may lie
                // beyond this one, which is as far back as the card looks.
                break 'scan;
            }
            let ok = r
                .try_get::<Option<i64>, _>(2)?
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
        if got < take {
            break;
        }
    }
    health.capped = read == MOST_ATTEMPTS;
    let queue = queue_stats(c).await?;
    health.oldest_pending = queue.oldest_pending;
    health.pending = queue.pending;
    health.disabled_endpoints = queue.disabled_endpoints;
    Ok(health)
}

/// Pending deliveries, the oldest one's creation, and disabled endpoints.
pub(crate) async fn queue_stats(c: &mut PgConnection) -> Result<QueueStats> {
    // Per endpoint, through its partial index of pending deliveries: the oldest pending
    // delivery is the first pending one of some endpoint.
    let row = sqlx::query(
        "SELECT
             (SELECT min(o.created_at) FROM webhook_endpoints e
              CROSS JOIN LATERAL (SELECT d.created_at FROM webhook_deliveries d
                                  WHERE d.endpoint_id = e.id AND d.status = 'pending'
                                  ORDER BY d.position LIMIT 1) AS o) AS oldest,
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
             (SELECT count(*) FROM webhook_endpoints WHERE NOT active) AS disabled",
    )
    .fetch_one(&mut *c)
    .await?;
    Ok(QueueStats {
        pending: u64::try_from(row.try_get::<i64, _>("pending")?).unwrap_or(0),
        oldest_pending: row
            .try_get::<Option<i64>, _>("oldest")?
            .map(Timestamp::from_millis),
        disabled_endpoints: u64::try_from(row.try_get::<i64, _>("disabled")?).unwrap_or(0),
    })
}
