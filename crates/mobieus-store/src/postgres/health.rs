//! The figures of the admin dashboard's webhook health card.

use crate::rows::HEALTH_MOST_ATTEMPTS;
use crate::{DeliveryHealth, QueueStats, Result};
use mobieus_domain::time::Timestamp;
use sqlx::{PgConnection, Row};

/// How many attempts one round trip reads.
const CHUNK: i64 = 5_000;

/// Attempts since `since` by outcome and by hour (newest attempts read from the end of the
/// table, which is in the order they were recorded, so no index on time is needed and a
/// busy day costs a bounded read, a chunk at a time); the oldest pending delivery;
/// disabled endpoints.
pub(crate) async fn delivery_health(
    c: &mut PgConnection,
    since: Timestamp,
    now: Timestamp,
) -> Result<DeliveryHealth> {
    let mut health = DeliveryHealth::window(since, now);
    let mut read: i64 = 0;
    let mut before = i64::MAX;
    'scan: while read < HEALTH_MOST_ATTEMPTS {
        let take = CHUNK.min(HEALTH_MOST_ATTEMPTS - read);
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
            if !health.count(since, r.try_get(1)?, r.try_get(2)?) {
                break 'scan;
            }
        }
        if got < take {
            break;
        }
    }
    Ok(health.finish(read, queue_stats(c).await?))
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
