//! The delivery queue: claiming due deliveries with a lease, and recording how each
//! attempt went. A lease that runs out (its worker died) makes the delivery due again:
//! at-least-once, never lost.

use super::corrupt;
use crate::{ClaimedDelivery, DeliveryState, Page, RecordedAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId};
use sqlx::SqliteExecutor;

/// How many of the oldest due deliveries one claim looks at.
const CLAIM_SCAN: i64 = 2_000;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, giving no
/// endpoint more than its room (`room` for the endpoints listed, `default_room` for the
/// others), in one statement (SQLite has one writer, so two workers never claim the same
/// row). Only the oldest `CLAIM_SCAN` due deliveries are looked at, so a large backlog of
/// a busy endpoint costs a bounded scan (what lies beyond waits until it has room). A
/// read first: a tenant with nothing due costs one index probe, not a write lock.
pub(crate) async fn claim_due(
    pool: &super::Pool,
    now: Timestamp,
    lease_until: Timestamp,
    batch: u32,
    room: &[(EndpointId, u32)],
    default_room: u32,
) -> Result<Vec<ClaimedDelivery>> {
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
         LIMIT 1",
    )
    .bind(now.millis())
    .fetch_optional(pool)
    .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("");
    if !room.is_empty() {
        q.push("WITH room(endpoint_id, n) AS (");
        q.push_values(room, |mut row, (id, n)| {
            row.push_bind(id.as_str()).push_bind(i64::from(*n));
        });
        q.push(") ");
    }
    q.push("UPDATE webhook_deliveries SET lease_until = ")
        .push_bind(lease_until.millis())
        .push(", updated_at = ")
        .push_bind(now.millis())
        .push(
            " WHERE id IN (SELECT id FROM (
                 SELECT id, endpoint_id, next_attempt_at,
                        row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, position) AS nth
                 FROM (SELECT id, endpoint_id, next_attempt_at, position FROM webhook_deliveries
                       WHERE status = 'pending' AND next_attempt_at <= ",
        )
        .push_bind(now.millis())
        .push(" AND (lease_until IS NULL OR lease_until <= ")
        .push_bind(now.millis())
        .push(") ORDER BY next_attempt_at LIMIT ")
        .push_bind(CLAIM_SCAN)
        .push(")) AS ranked WHERE nth <= ");
    if room.is_empty() {
        q.push_bind(i64::from(default_room));
    } else {
        q.push("coalesce((SELECT n FROM room WHERE room.endpoint_id = ranked.endpoint_id), ")
            .push_bind(i64::from(default_room))
            .push(")");
    }
    q.push(" ORDER BY next_attempt_at LIMIT ")
        .push_bind(i64::from(batch))
        .push(") RETURNING id, event_id, endpoint_id, attempts");
    let rows: Vec<(String, String, String, i64)> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter()
        .map(|(id, event_id, endpoint, attempts)| {
            Ok(ClaimedDelivery {
                id: DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?,
                event_id,
                endpoint_id: EndpointId::parse(&endpoint)
                    .ok_or_else(|| corrupt("endpoint id", &endpoint))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                lease_until,
            })
        })
        .collect()
}

/// Rows per statement when recording attempts (SQLite allows 32,766 parameters).
const RECORD_CHUNK: usize = 400;

fn state_columns(state: DeliveryState) -> (&'static str, Option<i64>) {
    match state {
        DeliveryState::Succeeded => ("succeeded", None),
        DeliveryState::Retry { at } => ("pending", Some(at.millis())),
        DeliveryState::Failed => ("failed", None),
        DeliveryState::Cancelled => ("cancelled", None),
    }
}

/// Records attempts and their deliveries' next states, a few statements per batch: one
/// `UPDATE … FROM (VALUES …)` that ends the leases still held (a claim whose lease ran
/// out and passed to another worker matches nothing), then one `INSERT` of the attempts
/// of those. Returns, in order, whether each was recorded.
pub(crate) async fn record_attempts(
    c: &mut sqlx::SqliteConnection,
    items: &[RecordedAttempt<'_>],
    now: Timestamp,
) -> Result<Vec<bool>> {
    let mut held = std::collections::HashSet::new();
    for chunk in items.chunks(RECORD_CHUNK) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "WITH v(id, status, attempts, next_at, lease) AS (",
        );
        q.push_values(chunk, |mut row, r| {
            let (status, next) = state_columns(r.state);
            row.push_bind(r.claimed.id.as_str())
                .push_bind(status)
                .push_bind(i64::from(r.attempt.number))
                .push_bind(next)
                .push_bind(r.claimed.lease_until.millis());
        });
        q.push(
            ") UPDATE webhook_deliveries SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_at, lease_until = NULL, updated_at = ",
        )
        .push_bind(now.millis())
        .push(
            " FROM v WHERE webhook_deliveries.id = v.id AND webhook_deliveries.status = 'pending'
               AND webhook_deliveries.attempts = v.attempts - 1 AND webhook_deliveries.lease_until = v.lease
             RETURNING webhook_deliveries.id",
        );
        let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *c).await?;
        held.extend(ids);
    }
    let recorded: Vec<&RecordedAttempt<'_>> = items
        .iter()
        .filter(|r| held.contains(r.claimed.id.as_str()))
        .collect();
    for chunk in recorded.chunks(RECORD_CHUNK) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, response_excerpt, error) ",
        );
        q.push_values(chunk, |mut row, r| {
            let a = r.attempt;
            row.push_bind(a.delivery.as_str())
                .push_bind(i64::from(a.number))
                .push_bind(a.started_at.millis())
                .push_bind(i64::try_from(a.duration_ms).unwrap_or(i64::MAX))
                .push_bind(a.request_headers.to_string())
                .push_bind(a.response_status.map(i64::from))
                .push_bind(a.response_excerpt.as_deref())
                .push_bind(a.error.as_deref());
        });
        q.build().execute(&mut *c).await?;
    }
    Ok(items
        .iter()
        .map(|r| held.contains(r.claimed.id.as_str()))
        .collect())
}

/// Counts a batch's results against an endpoint: with a success among them the count
/// restarts from the failures after the last success, else it grows by `failures`.
/// Returns the count after it.
pub(crate) async fn count_endpoint_results<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
    reset: bool,
    failures: u32,
) -> Result<u32> {
    let n: Option<i64> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET consecutive_failures = CASE WHEN ?1 THEN ?2 ELSE consecutive_failures + ?2 END
         WHERE id = ?3 RETURNING consecutive_failures",
    )
    .bind(reset)
    .bind(i64::from(failures))
    .bind(id.as_str())
    .fetch_optional(e)
    .await?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// The consecutive failure counts of these endpoints.
pub(crate) async fn endpoint_failure_counts<'e>(
    e: impl SqliteExecutor<'e>,
    ids: &[&EndpointId],
) -> Result<std::collections::HashMap<String, u32>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT id, consecutive_failures FROM webhook_endpoints WHERE id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.as_str());
    }
    q.push(")");
    let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(e).await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// Disables an active endpoint with a reason; `false` when it was not active.
pub(crate) async fn disable_endpoint<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET active = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND active = 1",
    )
    .bind(reason)
    .bind(now.millis())
    .bind(now.millis())
    .bind(id.as_str())
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The type and stored JSON of an event, for the headers and body of its deliveries.
pub(crate) async fn event_json<'e>(
    e: impl SqliteExecutor<'e>,
    event_id: &str,
) -> Result<Option<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT type, payload FROM api_events WHERE id = ?")
            .bind(event_id)
            .fetch_optional(e)
            .await?,
    )
}

/// The type and stored JSON of each of these events, by id.
pub(crate) async fn event_jsons<'e>(
    e: impl SqliteExecutor<'e>,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, (String, String)>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT id, type, payload FROM api_events WHERE id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let rows: Vec<(String, String, String)> = q.build_query_as().fetch_all(e).await?;
    Ok(rows
        .into_iter()
        .map(|(id, t, json)| (id, (t, json)))
        .collect())
}

const DELIVERY_SELECT: &str = "SELECT d.position, d.id, d.event_id, e.type AS event_type, d.endpoint_id, d.status, d.attempts,
            d.next_attempt_at, d.created_at, d.updated_at
     FROM webhook_deliveries d JOIN api_events e ON e.id = d.event_id";

fn delivery_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<(i64, Delivery)> {
    use sqlx::Row;
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

/// An endpoint's deliveries, oldest first, optionally of one status.
pub(crate) async fn deliveries_page<'e>(
    e: impl SqliteExecutor<'e>,
    endpoint: &EndpointId,
    status: Option<DeliveryStatus>,
    after: i64,
    limit: u32,
) -> Result<Page<Delivery>> {
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(DELIVERY_SELECT);
    q.push(" WHERE d.endpoint_id = ")
        .push_bind(endpoint.as_str());
    if let Some(status) = status {
        q.push(" AND d.status = ").push_bind(status.as_str());
    }
    q.push(" AND d.position > ").push_bind(after);
    q.push(" ORDER BY d.position LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = q.build().fetch_all(e).await?;
    let items = rows
        .iter()
        .map(delivery_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(super::paginate_positioned(items, limit))
}

/// One delivery of an endpoint.
pub(crate) async fn delivery_by_id<'e>(
    e: impl SqliteExecutor<'e>,
    endpoint: &EndpointId,
    id: &DeliveryId,
) -> Result<Option<Delivery>> {
    let sql = format!("{DELIVERY_SELECT} WHERE d.endpoint_id = ? AND d.id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(endpoint.as_str())
        .bind(id.as_str())
        .fetch_optional(e)
        .await?;
    Ok(row
        .as_ref()
        .map(delivery_from_row)
        .transpose()?
        .map(|(_, d)| d))
}

/// A delivery's attempts, first first.
pub(crate) async fn attempts<'e>(
    e: impl SqliteExecutor<'e>,
    id: &DeliveryId,
) -> Result<Vec<Attempt>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT number, started_at, duration_ms, request_headers, response_status, response_excerpt, error
         FROM delivery_attempts WHERE delivery_id = ? ORDER BY number",
    )
    .bind(id.as_str())
    .fetch_all(e)
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

/// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
/// `false` when the claim no longer held.
pub(crate) async fn cancel_delivery<'e>(
    e: impl SqliteExecutor<'e>,
    claimed: &ClaimedDelivery,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = ?
         WHERE id = ? AND status = 'pending' AND lease_until = ?",
    )
    .bind(now.millis())
    .bind(claimed.id.as_str())
    .bind(claimed.lease_until.millis())
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The events whose latest delivery to `endpoint` failed or was cancelled, created in
/// [since, until): what a bulk recovery sends again. A delivery already sent again has a
/// newer one beside it, so recovering twice sends nothing twice.
pub(crate) async fn events_to_recover<'e>(
    e: impl SqliteExecutor<'e>,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Timestamp,
    limit: u32,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT d.event_id FROM webhook_deliveries d
         WHERE d.endpoint_id = ?1 AND d.status IN ('failed', 'cancelled')
           AND d.created_at >= ?2 AND d.created_at < ?3
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries n
                           WHERE n.event_id = d.event_id AND n.endpoint_id = d.endpoint_id AND n.position > d.position)
         ORDER BY d.position LIMIT ?4",
    )
    .bind(endpoint.as_str())
    .bind(since.millis())
    .bind(until.millis())
    .bind(i64::from(limit))
    .fetch_all(e)
    .await?)
}

/// When the tenant next has work due: the earliest pending delivery not in flight, or
/// the earliest lease to run out (a worker that dies leaves its leases to run out).
pub(crate) async fn next_due<'e>(
    e: impl SqliteExecutor<'e>,
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT min(at) FROM (
             SELECT (SELECT next_attempt_at FROM webhook_deliveries
                     WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_attempt_at LIMIT 1) AS at
             UNION ALL
             SELECT min(lease_until) FROM webhook_deliveries
             WHERE status = 'pending' AND lease_until IS NOT NULL)",
    )
    .bind(now.millis())
    .fetch_one(e)
    .await?;
    Ok(at.map(Timestamp::from_millis))
}

/// Drops previous secrets whose grace window is over; returns how many went.
pub(crate) async fn purge_expired_secrets(pool: &super::Pool, now: Timestamp) -> Result<u64> {
    // A read first: most tenants have nothing to purge and need no write lock.
    let any: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM webhook_endpoints WHERE previous_secret_expires_at <= ? LIMIT 1",
    )
    .bind(now.millis())
    .fetch_optional(pool)
    .await?;
    if any.is_none() {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
         WHERE previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at <= ?",
    )
    .bind(now.millis())
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
