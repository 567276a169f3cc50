//! The delivery queue: claiming due deliveries with a lease, and recording how each
//! attempt went. A lease that runs out (its worker died) makes the delivery due again:
//! at-least-once, never lost.

use crate::rows::{Rooms, claimed_delivery, corrupt, paginate_positioned, state_columns};
use crate::{Claim, ClaimedDelivery, Page, RecordedAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};

/// How many of the oldest due deliveries one claim looks at.
const CLAIM_SCAN: i64 = 2_000;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, giving no
/// endpoint more than its room (`room` for the endpoints listed, `default_room` for the
/// others). Several workers claim at once: a due row another transaction has locked is
/// skipped (`FOR UPDATE SKIP LOCKED`), never waited for, so no two claim the same row.
///
/// The due deliveries are locked in order, a few at a time (first `batch`, then twice as
/// many each round), and the read stops as soon as the batch is full: a claim costs what
/// it takes, not a sort of every due row, and locks few rows it does not claim (those are
/// released at commit). Rows of an endpoint without room are passed over, for at most
/// `CLAIM_SCAN` rows, so a large backlog of a stalled endpoint costs a bounded read (what
/// lies beyond waits until it has room).
pub(crate) async fn claim_due(
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
    let mut rooms = Rooms::of(claim);
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
            if !rooms.take(&endpoint) {
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

/// Counts a batch's results against an endpoint: with a success among them the count
/// restarts from the failures after the last success, else it grows by `failures`.
/// Returns the count after it.
pub(crate) async fn count_endpoint_results(
    c: &mut PgConnection,
    id: &EndpointId,
    reset: bool,
    failures: u32,
) -> Result<u32> {
    let n: Option<i64> = sqlx::query(
        "UPDATE webhook_endpoints SET consecutive_failures = CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END
         WHERE id = $3 RETURNING consecutive_failures",
    )
    .bind(reset)
    .bind(i64::from(failures))
    .bind(id.as_str())
    .fetch_optional(&mut *c)
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// The consecutive failure counts of these endpoints.
pub(crate) async fn endpoint_failure_counts(
    c: &mut PgConnection,
    ids: &[&EndpointId],
) -> Result<HashMap<String, u32>> {
    let mut counts = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(counts);
    }
    let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    let rows =
        sqlx::query("SELECT id, consecutive_failures FROM webhook_endpoints WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *c)
            .await?;
    for r in rows {
        let n: i64 = r.try_get(1)?;
        counts.insert(r.try_get(0)?, u32::try_from(n).unwrap_or(u32::MAX));
    }
    Ok(counts)
}

/// Disables an active endpoint with a reason; `false` when it was not active.
pub(crate) async fn disable_endpoint(
    c: &mut PgConnection,
    id: &EndpointId,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE webhook_endpoints SET active = false, disabled_reason = $1, disabled_at = $2, updated_at = $2
         WHERE id = $3 AND active",
    )
    .bind(reason)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The type and stored JSON of an event, for the headers and body of its deliveries.
pub(crate) async fn event_json(
    c: &mut PgConnection,
    event_id: &str,
) -> Result<Option<(String, String)>> {
    Ok(
        sqlx::query("SELECT type, payload FROM api_events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&mut *c)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?,
    )
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

macro_rules! delivery_select {
    () => {
        "SELECT d.position, d.id, d.event_id, e.type AS event_type, d.endpoint_id, d.status, d.attempts,
                d.next_attempt_at, d.created_at, d.updated_at
         FROM webhook_deliveries d JOIN api_events e ON e.id = d.event_id"
    };
}

fn delivery_from_row(row: &PgRow) -> Result<(i64, Delivery)> {
    let id: String = row.try_get("id")?;
    let endpoint: String = row.try_get("endpoint_id")?;
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok((
        row.try_get("position")?,
        Delivery {
            id: DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?,
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            endpoint_id: EndpointId::parse(&endpoint)
                .ok_or_else(|| corrupt("endpoint id", &endpoint))?,
            status: DeliveryStatus::parse(&status)
                .ok_or_else(|| corrupt("delivery status", &status))?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_attempt_at: row
                .try_get::<Option<i64>, _>("next_attempt_at")?
                .map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        },
    ))
}

/// An endpoint's deliveries, optionally of one status: oldest first after position `after`,
/// or, with `newest_first`, newest first before position `after` (the admin's log).
pub(crate) async fn deliveries_page(
    c: &mut PgConnection,
    endpoint: &EndpointId,
    status: Option<DeliveryStatus>,
    after: i64,
    limit: u32,
    newest_first: bool,
) -> Result<Page<Delivery>> {
    let mut q = QueryBuilder::<Postgres>::new(delivery_select!());
    q.push(" WHERE d.endpoint_id = ")
        .push_bind(endpoint.as_str());
    if let Some(status) = status {
        // A literal (one of four fixed words), so that the status's partial index is used.
        q.push(" AND d.status = '").push(status.as_str()).push("'");
    }
    if newest_first {
        q.push(" AND d.position < ").push_bind(after);
        q.push(" ORDER BY d.position DESC LIMIT ");
    } else {
        q.push(" AND d.position > ").push_bind(after);
        q.push(" ORDER BY d.position LIMIT ");
    }
    q.push_bind(i64::from(limit) + 1);
    let rows = q.build().fetch_all(&mut *c).await?;
    let items = rows
        .iter()
        .map(delivery_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(paginate_positioned(items, limit))
}

/// One delivery of an endpoint.
pub(crate) async fn delivery_by_id(
    c: &mut PgConnection,
    endpoint: &EndpointId,
    id: &DeliveryId,
) -> Result<Option<Delivery>> {
    Ok(sqlx::query(concat!(
        delivery_select!(),
        " WHERE d.endpoint_id = $1 AND d.id = $2"
    ))
    .bind(endpoint.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *c)
    .await?
    .as_ref()
    .map(delivery_from_row)
    .transpose()?
    .map(|(_, d)| d))
}

/// A delivery's attempts, first first.
pub(crate) async fn attempts(c: &mut PgConnection, id: &DeliveryId) -> Result<Vec<Attempt>> {
    let rows = sqlx::query(
        "SELECT number, started_at, duration_ms, request_headers, response_status, response_excerpt, error
         FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number",
    )
    .bind(id.as_str())
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|row| {
            let headers: String = row.try_get("request_headers")?;
            Ok(Attempt {
                number: u32::try_from(row.try_get::<i64, _>("number")?).unwrap_or(0),
                started_at: Timestamp::from_millis(row.try_get("started_at")?),
                duration_ms: u64::try_from(row.try_get::<i64, _>("duration_ms")?).unwrap_or(0),
                request_headers: serde_json::from_str(&headers)
                    .map_err(|_| corrupt("request headers", &headers))?,
                response_status: row
                    .try_get::<Option<i64>, _>("response_status")?
                    .and_then(|s| u16::try_from(s).ok()),
                response_excerpt: row.try_get("response_excerpt")?,
                error: row.try_get("error")?,
            })
        })
        .collect()
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

/// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
/// `false` when the claim no longer held.
pub(crate) async fn cancel_delivery(
    c: &mut PgConnection,
    claimed: &ClaimedDelivery,
    now: Timestamp,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = $1
         WHERE id = $2 AND status = 'pending' AND lease_until = $3",
    )
    .bind(now.millis())
    .bind(claimed.id.as_str())
    .bind(claimed.lease_until.millis())
    .execute(&mut *c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The events whose latest delivery to `endpoint` failed or was cancelled, created in
/// [since, until): what a bulk recovery sends again. A delivery already sent again has a
/// newer one beside it, so recovering twice sends nothing twice.
pub(crate) async fn events_to_recover(
    c: &mut PgConnection,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Timestamp,
    limit: u32,
) -> Result<Vec<String>> {
    // Recoveries of one endpoint take turns (on SQLite, its one writer does that): the
    // next one finds the deliveries the previous one queued, and does not queue them again.
    sqlx::query("SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE")
        .bind(endpoint.as_str())
        .execute(&mut *c)
        .await?;
    let rows = sqlx::query(
        // One arm per status, each through its partial index.
        "SELECT event_id FROM (
             SELECT d.event_id, d.position FROM webhook_deliveries d
             WHERE d.endpoint_id = $1 AND d.status = 'failed' AND d.created_at >= $2 AND d.created_at < $3
             UNION ALL
             SELECT d.event_id, d.position FROM webhook_deliveries d
             WHERE d.endpoint_id = $1 AND d.status = 'cancelled' AND d.created_at >= $2 AND d.created_at < $3
         ) AS d
         WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries n
                           WHERE n.event_id = d.event_id AND n.endpoint_id = $1 AND n.position > d.position)
         ORDER BY d.position LIMIT $4",
    )
    .bind(endpoint.as_str())
    .bind(since.millis())
    .bind(until.millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *c)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?)
}

/// When the tenant next has work due: the earliest pending delivery not in flight, or
/// the earliest lease to run out (a worker that dies leaves its leases to run out).
pub(crate) async fn next_due(c: &mut PgConnection, now: Timestamp) -> Result<Option<Timestamp>> {
    let at: Option<i64> = sqlx::query(
        "SELECT min(at) FROM (
             SELECT (SELECT next_attempt_at FROM webhook_deliveries
                     WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
                     ORDER BY next_attempt_at LIMIT 1) AS at
             UNION ALL
             SELECT min(lease_until) FROM webhook_deliveries
             WHERE status = 'pending' AND lease_until IS NOT NULL) AS t",
    )
    .bind(now.millis())
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok(at.map(Timestamp::from_millis))
}

/// Drops previous secrets whose grace window is over; returns how many went.
pub(crate) async fn purge_expired_secrets(c: &mut PgConnection, now: Timestamp) -> Result<u64> {
    // No read first as on SQLite: an update that matches nothing takes no lock that matters.
    Ok(sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
         WHERE previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at <= $1",
    )
    .bind(now.millis())
    .execute(&mut *c)
    .await?
    .rows_affected())
}
