//! What Postgres does its own way in the delivery queue: many workers claim at once
//! (`FOR UPDATE SKIP LOCKED`), and batches go over the wire as arrays in one statement
//! each (`UNNEST`, `= ANY`) instead of a round trip per row. SQLite steps a prepared
//! statement per row instead (`sqlite::queue`).

use crate::rows::{Slots, claimed_delivery, state_columns};
use crate::{Claim, ClaimedDelivery, QueueStats, RecordedAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
use sqlx::{PgConnection, Row};
use std::collections::{HashMap, HashSet};

/// How many of the oldest due deliveries one claim looks at.
const CLAIM_SCAN: i64 = 2_000;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, giving no
/// endpoint more deliveries than it has slots free (see [`Claim`]). Several workers claim
/// at once: a due row another transaction has locked is skipped (`FOR UPDATE SKIP
/// LOCKED`), never waited for, so no two claim the same row.
///
/// The due deliveries are locked in order, a few at a time (first `batch`, then twice as
/// many each round), and the read stops as soon as the batch is full: a claim costs what
/// it takes, not a sort of every due row, and locks few rows it does not claim (those are
/// released at commit). Rows of an endpoint without a free slot are passed over, for at
/// most `CLAIM_SCAN` rows, so a large backlog of a stalled endpoint costs a bounded read
/// (what lies beyond waits until a slot frees).
pub(crate) async fn claim(
    c: &mut PgConnection,
    slug: &mobieus_domain::tenant::TenantSlug,
    claim: &Claim<'_>,
) -> Result<Vec<ClaimedDelivery>> {
    const FIRST: &str = "SELECT position, id, event_id, endpoint_id, attempts, next_attempt_at
         FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY next_attempt_at, position LIMIT $2
         FOR UPDATE SKIP LOCKED";
    const NEXT: &str = "SELECT position, id, event_id, endpoint_id, attempts, next_attempt_at
         FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
           AND (next_attempt_at, position) > ($3, $4)
         ORDER BY next_attempt_at, position LIMIT $2
         FOR UPDATE SKIP LOCKED";
    if claim.batch == 0 {
        return Ok(Vec::new());
    }
    let (now, lease_until) = (claim.now, claim.lease_until);
    let mut slots = Slots::of(claim);
    let batch = claim.batch as usize;
    let mut chosen: Vec<(i64, String, String, String, i64)> = Vec::with_capacity(batch);
    let mut scanned: i64 = 0;
    let mut chunk = i64::try_from(batch).unwrap_or(CLAIM_SCAN);
    let mut last: Option<(i64, i64)> = None;
    while chosen.len() < batch && scanned < CLAIM_SCAN {
        let take = chunk.min(CLAIM_SCAN - scanned);
        let query = match last {
            None => sqlx::query(FIRST).bind(now.millis()).bind(take),
            Some((at, position)) => sqlx::query(NEXT)
                .bind(now.millis())
                .bind(take)
                .bind(at)
                .bind(position),
        };
        let rows = query.fetch_all(&mut *c).await?;
        let got = i64::try_from(rows.len()).unwrap_or(take);
        scanned += got;
        for r in &rows {
            if chosen.len() == batch {
                break;
            }
            let endpoint: String = r.try_get("endpoint_id")?;
            if !slots.take(&endpoint) {
                continue;
            }
            chosen.push((
                r.try_get("position")?,
                r.try_get("id")?,
                r.try_get("event_id")?,
                endpoint,
                r.try_get("attempts")?,
            ));
        }
        match rows.last() {
            // Fewer than asked for: nothing more is due (or all of it is locked).
            Some(r) if got == take => {
                last = Some((r.try_get("next_attempt_at")?, r.try_get("position")?));
            }
            _ => break,
        }
        chunk = chunk.saturating_mul(2);
    }
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let positions: Vec<i64> = chosen.iter().map(|(p, ..)| *p).collect();
    // With the lease, in the same statement, a row of due work at its end: should this
    // worker die with the claims, they are due again then, and that row says so to the
    // other workers.
    sqlx::query(
        "WITH leased AS (
             UPDATE webhook_deliveries SET lease_until = $1, updated_at = $2
             WHERE position = ANY($3) RETURNING 1
         )
         INSERT INTO mobieus.due_work (slug, due_at) SELECT $4, $1 WHERE EXISTS (SELECT 1 FROM leased)",
    )
    .bind(lease_until.millis())
    .bind(now.millis())
    .bind(&positions)
    .bind(slug.as_str())
    .execute(&mut *c)
    .await?;
    chosen
        .into_iter()
        .map(|row| claimed_delivery(row, lease_until))
        .collect()
}

/// Records attempts and their deliveries' next states: one `UPDATE` for the batch that
/// ends each lease still held (a claim whose lease ran out and passed to another worker
/// matches nothing), then one `INSERT` of the attempts whose lease held. Returns, in
/// order, whether each was recorded.
pub(crate) async fn record_attempts(
    c: &mut PgConnection,
    items: &[RecordedAttempt<'_>],
    now: Timestamp,
) -> Result<Vec<bool>> {
    let mut seen = HashSet::with_capacity(items.len());
    if items.iter().all(|r| seen.insert(r.claimed.id.as_str())) {
        return record_batch(c, items, now).await;
    }
    // A delivery listed twice: one at a time, so that each sees the one before.
    let mut recorded = Vec::with_capacity(items.len());
    for r in items {
        recorded.extend(record_batch(c, std::slice::from_ref(r), now).await?);
    }
    Ok(recorded)
}

/// [`record_attempts`] for attempts of distinct deliveries.
async fn record_batch(
    c: &mut PgConnection,
    items: &[RecordedAttempt<'_>],
    now: Timestamp,
) -> Result<Vec<bool>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(items.len());
    let mut statuses = Vec::with_capacity(items.len());
    let mut numbers = Vec::with_capacity(items.len());
    let mut nexts = Vec::with_capacity(items.len());
    let mut leases = Vec::with_capacity(items.len());
    for r in items {
        let (status, next) = state_columns(r.state);
        ids.push(r.claimed.id.as_str());
        statuses.push(status);
        numbers.push(i64::from(r.attempt.number));
        nexts.push(next);
        leases.push(r.claimed.lease_until.millis());
    }
    let held: HashSet<String> = sqlx::query(
        "UPDATE webhook_deliveries d
         SET status = t.status, attempts = t.num, next_attempt_at = t.next_at, lease_until = NULL, updated_at = $6
         FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
              AS t (id, status, num, next_at, lease)
         WHERE d.id = t.id AND d.status = 'pending' AND d.attempts = t.num - 1 AND d.lease_until = t.lease
         RETURNING d.id",
    )
    .bind(&ids)
    .bind(&statuses)
    .bind(&numbers)
    .bind(&nexts)
    .bind(&leases)
    .bind(now.millis())
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<std::result::Result<_, _>>()?;
    let recorded: Vec<bool> = items
        .iter()
        .map(|r| held.contains(r.claimed.id.as_str()))
        .collect();
    let kept: Vec<_> = items
        .iter()
        .zip(&recorded)
        .filter(|(_, held)| **held)
        .map(|(r, _)| r.attempt)
        .collect();
    if kept.is_empty() {
        return Ok(recorded);
    }
    let deliveries: Vec<&str> = kept.iter().map(|a| a.delivery.as_str()).collect();
    let numbers: Vec<i64> = kept.iter().map(|a| i64::from(a.number)).collect();
    let started: Vec<i64> = kept.iter().map(|a| a.started_at.millis()).collect();
    let durations: Vec<i64> = kept
        .iter()
        .map(|a| i64::try_from(a.duration_ms).unwrap_or(i64::MAX))
        .collect();
    let headers: Vec<&str> = kept.iter().map(|a| a.request_headers.as_json()).collect();
    let statuses: Vec<Option<i64>> = kept
        .iter()
        .map(|a| a.response_status.map(i64::from))
        .collect();
    let excerpts: Vec<Option<&str>> = kept.iter().map(|a| a.response_excerpt.as_deref()).collect();
    let errors: Vec<Option<&str>> = kept.iter().map(|a| a.error.as_deref()).collect();
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_headers,
                                        response_status, response_excerpt, error)
         SELECT t.delivery_id, t.number, t.started_at, t.duration_ms, t.request_headers,
                t.response_status, t.response_excerpt, t.error
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[])
              WITH ORDINALITY AS t (delivery_id, number, started_at, duration_ms, request_headers,
                                    response_status, response_excerpt, error, n)
         ORDER BY t.n",
    )
    .bind(&deliveries)
    .bind(&numbers)
    .bind(&started)
    .bind(&durations)
    .bind(&headers)
    .bind(&statuses)
    .bind(&excerpts)
    .bind(&errors)
    .execute(&mut *c)
    .await?;
    Ok(recorded)
}

/// The consecutive failure counts of these endpoints.
pub(crate) async fn endpoint_failure_counts(
    c: &mut PgConnection,
    ids: &[&EndpointId],
) -> Result<Vec<(String, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    let rows =
        sqlx::query("SELECT id, consecutive_failures FROM webhook_endpoints WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *c)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The type and stored JSON of each of these events, by id.
pub(crate) async fn event_jsons(
    c: &mut PgConnection,
    ids: &[&str],
) -> Result<HashMap<String, (String, String)>> {
    let mut events = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(events);
    }
    let rows = sqlx::query("SELECT id, type, payload FROM api_events WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(&mut *c)
        .await?;
    for r in rows {
        events.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    Ok(events)
}

/// Ends the leases of claims a stopping worker still holds, so the deliveries are due
/// again at once; a lease that changed (another worker's now) is left alone. How many
/// were released.
pub(crate) async fn release_leases(
    c: &mut PgConnection,
    claims: &[ClaimedDelivery],
    now: Timestamp,
) -> Result<usize> {
    if claims.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
    let leases: Vec<i64> = claims.iter().map(|c| c.lease_until.millis()).collect();
    let n = sqlx::query(
        "UPDATE webhook_deliveries d SET lease_until = NULL, updated_at = $1
         FROM UNNEST($2::text[], $3::bigint[]) AS t (id, lease)
         WHERE d.id = t.id AND d.status = 'pending' AND d.lease_until = t.lease",
    )
    .bind(now.millis())
    .bind(&ids)
    .bind(&leases)
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Pending deliveries of `event_id` (ids `ids`) to each of `endpoints`, due at `at`: one
/// statement for the whole fan-out (its rows from two arrays), positions in the order given.
pub(crate) async fn insert_deliveries(
    c: &mut PgConnection,
    ids: &[DeliveryId],
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<()> {
    let id_texts: Vec<&str> = ids.iter().map(DeliveryId::as_str).collect();
    let endpoint_texts: Vec<&str> = endpoints.iter().map(EndpointId::as_str).collect();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
         SELECT t.id, $3, t.endpoint_id, $4, $4, $4
         FROM UNNEST($1::text[], $2::text[]) WITH ORDINALITY AS t (id, endpoint_id, n)
         ORDER BY t.n",
    )
    .bind(&id_texts)
    .bind(&endpoint_texts)
    .bind(event_id)
    .bind(at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Deletes these deliveries (position, id) and their attempts: (attempts, deliveries)
/// deleted. The attempts first (deleting a delivery would take them along uncounted).
pub(crate) async fn delete_deliveries(
    c: &mut PgConnection,
    doomed: &[(i64, String)],
) -> Result<(usize, usize)> {
    let positions: Vec<i64> = doomed.iter().map(|(p, _)| *p).collect();
    let ids: Vec<&str> = doomed.iter().map(|(_, id)| id.as_str()).collect();
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
    Ok((
        usize::try_from(attempts).unwrap_or(usize::MAX),
        usize::try_from(deliveries).unwrap_or(usize::MAX),
    ))
}

/// Pending deliveries, the oldest one's creation, and disabled endpoints, in one
/// statement: per endpoint, through its partial index of pending deliveries, the oldest
/// pending delivery being the first pending one of some endpoint (a lateral join).
pub(crate) async fn queue_stats(c: &mut PgConnection) -> Result<QueueStats> {
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
