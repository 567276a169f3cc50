//! The delivery queue: claiming due deliveries with a lease, and recording how each
//! attempt went. A lease that runs out (its worker died) makes the delivery due again:
//! at-least-once, never lost.

use super::Pool;
use super::sql::{Sql, all, exec, one, text};
use crate::rows::{Rooms, claimed_delivery, corrupt, state_columns};
use crate::{Claim, ClaimedDelivery, Page, RecordedAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId};
use rusqlite::{Connection, Row, params};
use std::collections::HashMap;

/// How many of the oldest due deliveries one claim looks at.
const CLAIM_SCAN: i64 = 2_000;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, giving no
/// endpoint more than its room (`room` for the endpoints listed, `default_room` for the
/// others). SQLite has one writer, so two workers never claim the same row.
///
/// The due deliveries are read in order, one row at a time, inside the write transaction,
/// and the read stops as soon as the batch is full: a claim costs what it takes, not a
/// sort of every due row. Rows of an endpoint without room are passed over, for at most
/// `CLAIM_SCAN` rows, so a large backlog of a stalled endpoint costs a bounded read (what
/// lies beyond waits until it has room). A read first: a tenant with nothing due costs one
/// index probe, not a write lock.
pub(crate) async fn claim_due(pool: &Pool, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
    let now = claim.now;
    let due = pool.read(|c| {
        one(
            c,
            "SELECT 1 FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
             LIMIT 1",
            [now.millis()],
            |_| Ok(()),
        )
    })?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    pool.write(|c| claim_in(c, claim)).await
}

/// The claim itself, in the caller's write transaction (see [`claim_due`]); also what a
/// worker runs in the transaction that records its last attempts.
pub(crate) fn claim_in(c: &Connection, claim: &Claim<'_>) -> Result<Vec<ClaimedDelivery>> {
    if claim.batch == 0 {
        return Ok(Vec::new());
    }
    let (now, lease_until) = (claim.now, claim.lease_until);
    let mut rooms = Rooms::of(claim);
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
            if rooms.take(&endpoint) {
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

/// Counts a batch's results against an endpoint: with a success among them the count
/// restarts from the failures after the last success, else it grows by `failures`.
/// Returns the count after it.
pub(crate) fn count_endpoint_results(
    c: &Connection,
    id: &EndpointId,
    reset: bool,
    failures: u32,
) -> Result<u32> {
    let n: Option<i64> = one(
        c,
        "UPDATE webhook_endpoints SET consecutive_failures = CASE WHEN ?1 THEN ?2 ELSE consecutive_failures + ?2 END
         WHERE id = ?3 RETURNING consecutive_failures",
        params![reset, i64::from(failures), id.as_str()],
        |r| Ok(r.get(0)?),
    )?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// The consecutive failure counts of these endpoints.
pub(crate) fn endpoint_failure_counts(
    c: &Connection,
    ids: &[&EndpointId],
) -> Result<HashMap<String, u32>> {
    let mut counts = HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(n) = one(
            c,
            "SELECT consecutive_failures FROM webhook_endpoints WHERE id = ?",
            [id.as_str()],
            |r| Ok(r.get::<_, i64>(0)?),
        )? {
            counts.insert(id.as_str().to_owned(), u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    Ok(counts)
}

/// Disables an active endpoint with a reason; `false` when it was not active.
pub(crate) fn disable_endpoint(
    c: &Connection,
    id: &EndpointId,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = exec(
        c,
        "UPDATE webhook_endpoints SET active = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND active = 1",
        params![reason, now.millis(), now.millis(), id.as_str()],
    )?;
    Ok(n == 1)
}

/// The type and stored JSON of an event, for the headers and body of its deliveries.
pub(crate) fn event_json(c: &Connection, event_id: &str) -> Result<Option<(String, String)>> {
    one(
        c,
        "SELECT type, payload FROM api_events WHERE id = ?",
        [event_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The type and stored JSON of each of these events, by id.
pub(crate) fn event_jsons(
    c: &Connection,
    ids: &[&str],
) -> Result<HashMap<String, (String, String)>> {
    let mut events = HashMap::with_capacity(ids.len());
    for id in ids {
        if !events.contains_key(*id)
            && let Some(found) = event_json(c, id)?
        {
            events.insert((*id).to_owned(), found);
        }
    }
    Ok(events)
}

const DELIVERY_SELECT: &str = "SELECT d.position, d.id, d.event_id, e.type AS event_type, d.endpoint_id, d.status, d.attempts,
            d.next_attempt_at, d.created_at, d.updated_at
     FROM webhook_deliveries d JOIN api_events e ON e.id = d.event_id";

fn delivery_from_row(row: &Row<'_>) -> Result<(i64, Delivery)> {
    let id: String = row.get("id")?;
    let endpoint: String = row.get("endpoint_id")?;
    let status: String = row.get("status")?;
    let attempts: i64 = row.get("attempts")?;
    Ok((
        row.get("position")?,
        Delivery {
            id: DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?,
            event_id: row.get("event_id")?,
            event_type: row.get("event_type")?,
            endpoint_id: EndpointId::parse(&endpoint)
                .ok_or_else(|| corrupt("endpoint id", &endpoint))?,
            status: DeliveryStatus::parse(&status)
                .ok_or_else(|| corrupt("delivery status", &status))?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_attempt_at: row
                .get::<_, Option<i64>>("next_attempt_at")?
                .map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.get("created_at")?),
            updated_at: Timestamp::from_millis(row.get("updated_at")?),
        },
    ))
}

/// An endpoint's deliveries, optionally of one status: oldest first after position `after`,
/// or, with `newest_first`, newest first before position `after` (the admin's log).
pub(crate) fn deliveries_page(
    c: &Connection,
    endpoint: &EndpointId,
    status: Option<DeliveryStatus>,
    after: i64,
    limit: u32,
    newest_first: bool,
) -> Result<Page<Delivery>> {
    let mut q = Sql::new(DELIVERY_SELECT);
    q.push(" WHERE d.endpoint_id = ")
        .bind(text(endpoint.as_str()));
    if let Some(status) = status {
        // A literal (one of four fixed words), so that the status's partial index is used.
        q.push(" AND d.status = '").push(status.as_str()).push("'");
    }
    if newest_first {
        q.push(" AND d.position < ").bind(after);
        q.push(" ORDER BY d.position DESC LIMIT ");
    } else {
        q.push(" AND d.position > ").bind(after);
        q.push(" ORDER BY d.position LIMIT ");
    }
    q.bind(i64::from(limit) + 1);
    let items = q.all(c, delivery_from_row)?;
    Ok(crate::rows::paginate_positioned(items, limit))
}

/// One delivery of an endpoint.
pub(crate) fn delivery_by_id(
    c: &Connection,
    endpoint: &EndpointId,
    id: &DeliveryId,
) -> Result<Option<Delivery>> {
    let sql = format!("{DELIVERY_SELECT} WHERE d.endpoint_id = ? AND d.id = ?");
    Ok(one(c, &sql, [endpoint.as_str(), id.as_str()], delivery_from_row)?.map(|(_, d)| d))
}

/// A delivery's attempts, first first.
pub(crate) fn attempts(c: &Connection, id: &DeliveryId) -> Result<Vec<Attempt>> {
    all(
        c,
        "SELECT number, started_at, duration_ms, request_headers, response_status, response_excerpt, error
         FROM delivery_attempts WHERE delivery_id = ? ORDER BY number",
        [id.as_str()],
        |row| {
            let headers: String = row.get("request_headers")?;
            Ok(Attempt {
                number: u32::try_from(row.get::<_, i64>("number")?).unwrap_or(0),
                started_at: Timestamp::from_millis(row.get("started_at")?),
                duration_ms: u64::try_from(row.get::<_, i64>("duration_ms")?).unwrap_or(0),
                request_headers: serde_json::from_str(&headers)
                    .map_err(|_| corrupt("request headers", &headers))?,
                response_status: row
                    .get::<_, Option<i64>>("response_status")?
                    .and_then(|s| u16::try_from(s).ok()),
                response_excerpt: row.get("response_excerpt")?,
                error: row.get("error")?,
            })
        },
    )
}

/// Ends the leases of claims a stopping worker still holds, so the deliveries are due
/// again at once; a lease that changed (another worker's now) is left alone. How many
/// were released.
pub(crate) fn release_leases(
    c: &Connection,
    claims: &[ClaimedDelivery],
    now: Timestamp,
) -> Result<usize> {
    let mut released = 0;
    for claim in claims {
        released += exec(
            c,
            "UPDATE webhook_deliveries SET lease_until = NULL, updated_at = ?
             WHERE id = ? AND status = 'pending' AND lease_until = ?",
            params![now.millis(), claim.id.as_str(), claim.lease_until.millis()],
        )?;
    }
    Ok(released)
}

/// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
/// `false` when the claim no longer held.
pub(crate) fn cancel_delivery(
    c: &Connection,
    claimed: &ClaimedDelivery,
    now: Timestamp,
) -> Result<bool> {
    let n = exec(
        c,
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = ?
         WHERE id = ? AND status = 'pending' AND lease_until = ?",
        params![
            now.millis(),
            claimed.id.as_str(),
            claimed.lease_until.millis()
        ],
    )?;
    Ok(n == 1)
}

/// The events whose latest delivery to `endpoint` failed or was cancelled, created in
/// [since, until): what a bulk recovery sends again. A delivery already sent again has a
/// newer one beside it, so recovering twice sends nothing twice.
pub(crate) fn events_to_recover(
    c: &Connection,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Timestamp,
    limit: u32,
) -> Result<Vec<String>> {
    all(
        c,
        // One arm per status, each through its partial index.
        "SELECT event_id FROM (
             SELECT d.event_id, d.position FROM webhook_deliveries d
             WHERE d.endpoint_id = ?1 AND d.status = 'failed' AND d.created_at >= ?2 AND d.created_at < ?3
             UNION ALL
             SELECT d.event_id, d.position FROM webhook_deliveries d
             WHERE d.endpoint_id = ?1 AND d.status = 'cancelled' AND d.created_at >= ?2 AND d.created_at < ?3
         ) AS d
         WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries n
                           WHERE n.event_id = d.event_id AND n.endpoint_id = ?1 AND n.position > d.position)
         ORDER BY d.position LIMIT ?4",
        params![
            endpoint.as_str(),
            since.millis(),
            until.millis(),
            i64::from(limit)
        ],
        |r| Ok(r.get(0)?),
    )
}

/// When the tenant next has work due: the earliest pending delivery not in flight, or
/// the earliest lease to run out (a worker that dies leaves its leases to run out).
pub(crate) fn next_due(c: &Connection, now: Timestamp) -> Result<Option<Timestamp>> {
    let at: Option<Option<i64>> = one(
        c,
        "SELECT min(at) FROM (
             SELECT (SELECT next_attempt_at FROM webhook_deliveries
                     WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_attempt_at LIMIT 1) AS at
             UNION ALL
             SELECT min(lease_until) FROM webhook_deliveries
             WHERE status = 'pending' AND lease_until IS NOT NULL)",
        [now.millis()],
        |r| Ok(r.get(0)?),
    )?;
    Ok(at.flatten().map(Timestamp::from_millis))
}

/// Drops previous secrets whose grace window is over; returns how many went.
pub(crate) async fn purge_expired_secrets(pool: &Pool, now: Timestamp) -> Result<u64> {
    // A read first: most tenants have nothing to purge and need no write lock.
    let any = pool.read(|c| {
        one(
            c,
            "SELECT 1 FROM webhook_endpoints WHERE previous_secret_expires_at <= ? LIMIT 1",
            [now.millis()],
            |_| Ok(()),
        )
    })?;
    if any.is_none() {
        return Ok(0);
    }
    let n = pool
        .write(|c| {
            exec(
                c,
                "UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
                 WHERE previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at <= ?",
                [now.millis()],
            )
        })
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
