//! Retention: events, deliveries and attempts older than the retention window are deleted
//! in small batches (each a short write transaction), oldest first. Rows are read from the
//! head of their table, where the oldest are, so no index on time is needed; a delivery
//! still pending is never deleted, and an event goes only once none of its deliveries is
//! left (its deliveries reference it).

use crate::Result;
use crate::db::{Conn, Stmt};
use mobieus_domain::time::Timestamp;

/// The most deliveries one read of the scan takes.
const MOST_PER_READ: i64 = 10_000;

/// What one batch deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub deliveries: usize,
    pub attempts: usize,
    pub events: usize,
}

/// Whether the oldest delivery or event was made before `cutoff` (a read before the
/// write: a tenant with nothing that old costs one probe per table).
pub(crate) async fn anything_before(c: &mut Conn<'_>, cutoff: Timestamp) -> Result<bool> {
    let stmt = Stmt::new(
        "SELECT (SELECT created_at FROM webhook_deliveries ORDER BY position LIMIT 1) AS delivery,
                (SELECT created_at FROM api_events ORDER BY position LIMIT 1) AS event",
    );
    let heads: Option<(Option<i64>, Option<i64>)> =
        c.one(stmt, |r| Ok((r.get(0)?, r.get(1)?))).await?;
    let (delivery, event) = heads.unwrap_or_default();
    Ok([delivery, event]
        .into_iter()
        .flatten()
        .any(|at| at < cutoff.millis()))
}

/// Deletes up to `batch` finished deliveries (with their attempts) and up to `batch`
/// events made before `cutoff`, in the caller's transaction.
pub(crate) async fn purge_before(
    c: &mut Conn<'_>,
    cutoff: Timestamp,
    batch: u32,
) -> Result<Purged> {
    let mut purged = Purged::default();
    // From the head of the table, in the order they were made, stopping at the first one
    // made after the cutoff (those after it are newer still), so a batch reads what it
    // deletes (a chunk at a time) and not the rest of the table.
    let wanted = batch as usize;
    let mut doomed: Vec<(i64, String)> = Vec::new();
    let mut after = i64::MIN;
    let mut chunk = i64::from(batch).clamp(1, MOST_PER_READ);
    'scan: while doomed.len() < wanted {
        let stmt = Stmt::new(
            "SELECT position, id, created_at, status FROM webhook_deliveries
             WHERE position > $1 ORDER BY position LIMIT $2",
        )
        .bind(after)
        .bind(chunk);
        let rows: Vec<(i64, String, i64, String)> = c
            .all(stmt, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .await?;
        let got = i64::try_from(rows.len()).unwrap_or(chunk);
        for (position, id, created_at, status) in rows {
            after = position;
            if created_at >= cutoff.millis() {
                break 'scan;
            }
            // A delivery still pending (long retries) waits for its end.
            if status != "pending" {
                doomed.push((position, id));
                if doomed.len() == wanted {
                    break 'scan;
                }
            }
        }
        if got < chunk {
            break;
        }
        chunk = (chunk * 2).min(MOST_PER_READ);
    }
    if !doomed.is_empty() {
        // The attempts first (deleting a delivery would take them along uncounted).
        (purged.attempts, purged.deliveries) = match c {
            Conn::Pg(c) => crate::postgres::delete_deliveries(c, &doomed).await?,
            Conn::Sqlite(_) => {
                let (mut attempts, mut deliveries) = (0, 0);
                for (position, id) in &doomed {
                    let stmt =
                        Stmt::new("DELETE FROM delivery_attempts WHERE delivery_id = $1").bind(id);
                    attempts += c.exec(stmt).await?;
                    let stmt = Stmt::new("DELETE FROM webhook_deliveries WHERE position = $1")
                        .bind(*position);
                    deliveries += c.exec(stmt).await?;
                }
                (count(attempts), count(deliveries))
            }
        };
    }
    let stmt = Stmt::new(
        "DELETE FROM api_events WHERE position IN (
             SELECT e.position FROM api_events e
             WHERE e.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
             ORDER BY e.position LIMIT $2)",
    )
    .bind(cutoff.millis())
    .bind(i64::from(batch));
    purged.events = count(c.exec(stmt).await?);
    Ok(purged)
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
