//! What SQLite does its own way in the delivery queue: the writes on every delivery's
//! path, as cached prepared statements stepped once per row on the calling thread (a
//! statement built for a whole batch would cost more to parse than the rows cost to
//! write). Postgres sends the same batches as arrays (`postgres::queue`).

use crate::rows::{Slots, claimed_delivery, state_columns};
use crate::{Claim, ClaimedDelivery, RecordedAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
use rusqlite::{Connection, params};

/// How many of the oldest due deliveries one claim looks at.
const CLAIM_SCAN: i64 = 2_000;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, giving no
/// endpoint more deliveries than it has slots free (see [`Claim`]), in the caller's write
/// transaction. SQLite has one writer, so two workers never claim the same row.
///
/// The due deliveries are read in order, one row at a time, and the read stops as soon as
/// the batch is full: a claim costs what it takes, not a sort of every due row. Rows of an
/// endpoint without a free slot are passed over, for at most `CLAIM_SCAN` rows, so a large
/// backlog of a stalled endpoint costs a bounded read (what lies beyond waits until a slot
/// frees).
pub(crate) fn claim(c: &Connection, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
    if claim.batch == 0 {
        return Ok(Vec::new());
    }
    let (now, lease_until) = (claim.now, claim.lease_until);
    let mut slots = Slots::of(claim);
    let batch = claim.batch as usize;
    let mut chosen: Vec<(i64, String, String, String, i64)> = Vec::with_capacity(batch);
    {
        let mut scan = c.prepare_cached(
            "SELECT id, event_id, endpoint_id, attempts, position FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let mut rows = scan.query(params![now.millis(), CLAIM_SCAN])?;
        while chosen.len() < batch
            && let Some(r) = rows.next()?
        {
            let endpoint: String = r.get(2)?;
            if slots.take(&endpoint) {
                chosen.push((r.get(4)?, r.get(0)?, r.get(1)?, endpoint, r.get(3)?));
            }
        }
    }
    // By rowid: the row was just read, no need to find it again through `id`.
    let mut lease = c.prepare_cached(
        "UPDATE webhook_deliveries SET lease_until = ?1, updated_at = ?2 WHERE position = ?3",
    )?;
    let mut claimed = Vec::with_capacity(chosen.len());
    for row in chosen {
        lease.execute(params![lease_until.millis(), now.millis(), row.0])?;
        claimed.push(claimed_delivery(row, lease_until)?);
    }
    Ok(claimed)
}

/// Records attempts and their deliveries' next states: for each, an `UPDATE` that ends
/// the lease if it is still held (a claim whose lease ran out and passed to another
/// worker matches nothing), then the attempt's row. Two prepared statements run once
/// per attempt: on the calling thread that costs microseconds, less than parsing a
/// statement built for the batch. Returns, in order, whether each was recorded.
pub(crate) fn record_attempts(
    c: &Connection,
    items: &[RecordedAttempt<'_>],
    now: Timestamp,
) -> Result<Vec<bool>> {
    let mut end_lease = c.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?1, attempts = ?2, next_attempt_at = ?3, lease_until = NULL, updated_at = ?4
         WHERE position = ?5 AND status = 'pending' AND attempts = ?2 - 1 AND lease_until = ?6",
    )?;
    let mut insert = c.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, response_excerpt, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?;
    let mut recorded = Vec::with_capacity(items.len());
    for r in items {
        let (status, next) = state_columns(r.state);
        let held = end_lease.execute(params![
            status,
            i64::from(r.attempt.number),
            next,
            now.millis(),
            r.claimed.position,
            r.claimed.lease_until.millis()
        ])? == 1;
        if held {
            let a = r.attempt;
            insert.execute(params![
                a.delivery.as_str(),
                i64::from(a.number),
                a.started_at.millis(),
                i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
                a.request_headers.as_json(),
                a.response_status.map(i64::from),
                a.response_excerpt.as_deref(),
                a.error.as_deref()
            ])?;
        }
        recorded.push(held);
    }
    Ok(recorded)
}

/// Ends the leases of claims a stopping worker still holds, so the deliveries are due
/// again at once; a lease that changed (another worker's now) is left alone. How many
/// were released.
pub(crate) fn release_leases(
    c: &Connection,
    claims: &[ClaimedDelivery],
    now: Timestamp,
) -> Result<usize> {
    let mut release = c.prepare_cached(
        "UPDATE webhook_deliveries SET lease_until = NULL, updated_at = ?1
         WHERE position = ?2 AND status = 'pending' AND lease_until = ?3",
    )?;
    let mut released = 0;
    for claim in claims {
        released += release.execute(params![
            now.millis(),
            claim.position,
            claim.lease_until.millis()
        ])?;
    }
    Ok(released)
}

/// Pending deliveries of `event_id` (ids `ids`) to each of `endpoints`, due at `at`: one
/// prepared statement run per endpoint (a fan-out to a thousand endpoints takes a few
/// milliseconds).
pub(crate) fn insert_deliveries(
    c: &Connection,
    ids: &[DeliveryId],
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<()> {
    let mut insert = c.prepare_cached(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
    )?;
    for (id, endpoint) in ids.iter().zip(endpoints) {
        insert.execute(params![
            id.as_str(),
            event_id,
            endpoint.as_str(),
            at.millis()
        ])?;
    }
    Ok(())
}
