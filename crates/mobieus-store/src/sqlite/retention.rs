//! Retention: events, deliveries and attempts older than the retention window are deleted
//! in small batches (each a short write transaction), oldest first. Rows are read from the
//! head of their table, where the oldest are, so no index on time is needed; a delivery
//! still pending is never deleted, and an event goes only once none of its deliveries is
//! left (its deliveries reference it).

use super::Pool;
use super::sql::exec;
use crate::Result;
use mobieus_domain::time::Timestamp;
use rusqlite::params;

/// What one batch deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub deliveries: usize,
    pub attempts: usize,
    pub events: usize,
}

/// Deletes up to `batch` finished deliveries (with their attempts) and up to `batch`
/// events made before `cutoff`, in one write transaction.
pub(crate) async fn purge_before(pool: &Pool, cutoff: Timestamp, batch: u32) -> Result<Purged> {
    // A read first: a tenant with nothing that old costs one probe per table, no write lock.
    let old = pool.read(|c| {
        let delivery: Option<i64> = c
            .query_row(
                "SELECT created_at FROM webhook_deliveries ORDER BY position LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        let event: Option<i64> = c
            .query_row(
                "SELECT created_at FROM api_events ORDER BY position LIMIT 1",
                [],
                |r| r.get(0),
            )
            .ok();
        Ok([delivery, event]
            .into_iter()
            .flatten()
            .any(|at| at < cutoff.millis()))
    })?;
    if !old {
        return Ok(Purged::default());
    }
    pool.write(|c| {
        let mut purged = Purged::default();
        // From the head of the table, in the order they were made, stopping at the first
        // one made after the cutoff (those after it are newer still), so a batch reads
        // what it deletes and not the rest of the table.
        let mut doomed: Vec<(i64, String)> = Vec::new();
        {
            let mut stmt = c.prepare_cached(
                "SELECT position, id, created_at, status FROM webhook_deliveries ORDER BY position",
            )?;
            let mut rows = stmt.query([])?;
            while doomed.len() < batch as usize
                && let Some(r) = rows.next()?
            {
                if r.get::<_, i64>(2)? >= cutoff.millis() {
                    break;
                }
                // A delivery still pending (long retries) waits for its end.
                if r.get::<_, String>(3)? != "pending" {
                    doomed.push((r.get(0)?, r.get(1)?));
                }
            }
        }
        for (position, id) in &doomed {
            purged.attempts += exec(
                c,
                "DELETE FROM delivery_attempts WHERE delivery_id = ?",
                [id],
            )?;
            purged.deliveries += exec(
                c,
                "DELETE FROM webhook_deliveries WHERE position = ?",
                [position],
            )?;
        }
        purged.events = exec(
            c,
            "DELETE FROM api_events WHERE position IN (
                 SELECT e.position FROM api_events e
                 WHERE e.created_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
                 ORDER BY e.position LIMIT ?2)",
            params![cutoff.millis(), i64::from(batch)],
        )?;
        Ok(purged)
    })
    .await
}
