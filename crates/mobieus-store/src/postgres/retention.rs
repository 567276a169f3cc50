//! Retention: events, deliveries and attempts older than the retention window are deleted
//! in small batches (each a short transaction), oldest first. Rows are read from the head
//! of their table, where the oldest are, so no index on time is needed; a delivery still
//! pending is never deleted, and an event goes only once none of its deliveries is left
//! (its deliveries reference it).

use crate::{Purged, Result};
use mobieus_domain::time::Timestamp;
use sqlx::{PgConnection, Row};

/// The most deliveries one round trip of the scan reads.
const MOST_PER_READ: i64 = 10_000;

/// Deletes up to `batch` finished deliveries (with their attempts) and up to `batch`
/// events made before `cutoff`, in the caller's transaction.
pub(crate) async fn purge_before(
    c: &mut PgConnection,
    cutoff: Timestamp,
    batch: u32,
) -> Result<Purged> {
    // A read first: a tenant with nothing that old costs one probe per table.
    let heads = sqlx::query(
        "SELECT (SELECT created_at FROM webhook_deliveries ORDER BY position LIMIT 1) AS delivery,
                (SELECT created_at FROM api_events ORDER BY position LIMIT 1) AS event",
    )
    .fetch_one(&mut *c)
    .await?;
    let delivery: Option<i64> = heads.try_get("delivery")?;
    let event: Option<i64> = heads.try_get("event")?;
    if ![delivery, event]
        .into_iter()
        .flatten()
        .any(|at| at < cutoff.millis())
    {
        return Ok(Purged::default());
    }
    let mut purged = Purged::default();
    // From the head of the table, in the order they were made, stopping at the first one
    // made after the cutoff (those after it are newer still), so a batch reads what it
    // deletes (a chunk at a time) and not the rest of the table.
    let wanted = batch as usize;
    let mut positions: Vec<i64> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut after = i64::MIN;
    let mut chunk = i64::from(batch).clamp(1, MOST_PER_READ);
    'scan: while positions.len() < wanted {
        let rows = sqlx::query(
            "SELECT position, id, created_at, status FROM webhook_deliveries
             WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after)
        .bind(chunk)
        .fetch_all(&mut *c)
        .await?;
        let got = i64::try_from(rows.len()).unwrap_or(chunk);
        for r in &rows {
            after = r.try_get("position")?;
            if r.try_get::<i64, _>("created_at")? >= cutoff.millis() {
                break 'scan;
            }
            // A delivery still pending (long retries) waits for its end.
            if r.try_get::<String, _>("status")? != "pending" {
                positions.push(after);
                ids.push(r.try_get("id")?);
                if positions.len() == wanted {
                    break 'scan;
                }
            }
        }
        if got < chunk {
            break;
        }
        chunk = (chunk * 2).min(MOST_PER_READ);
    }
    if !positions.is_empty() {
        // The attempts first (deleting a delivery would take them along uncounted).
        let attempts = sqlx::query("DELETE FROM delivery_attempts WHERE delivery_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *c)
            .await?
            .rows_affected();
        let deliveries = sqlx::query("DELETE FROM webhook_deliveries WHERE position = ANY($1)")
            .bind(&positions)
            .execute(&mut *c)
            .await?
            .rows_affected();
        purged.attempts = usize::try_from(attempts).unwrap_or(usize::MAX);
        purged.deliveries = usize::try_from(deliveries).unwrap_or(usize::MAX);
    }
    let events = sqlx::query(
        "DELETE FROM api_events WHERE position IN (
             SELECT e.position FROM api_events e
             WHERE e.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
             ORDER BY e.position LIMIT $2)",
    )
    .bind(cutoff.millis())
    .bind(i64::from(batch))
    .execute(&mut *c)
    .await?
    .rows_affected();
    purged.events = usize::try_from(events).unwrap_or(usize::MAX);
    Ok(purged)
}
