//! The delivery queue: claiming due deliveries with a lease, recording how each attempt
//! went, and reading an endpoint's deliveries back. A lease that runs out (its worker
//! died) makes the delivery due again: at-least-once, never lost.
//!
//! The claim and the record are each the backends' own (`sqlite::queue`,
//! `postgres::queue`): one writer stepping prepared statements against many workers
//! skipping each other's locks, batches of arrays over the wire.

use crate::db::{Conn, Row, Stmt};
use crate::rows::{corrupt, paginate_positioned};
use crate::{Claim, ClaimedDelivery, Page, RecordedAttempt, Result};
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointId};
use std::collections::HashMap;

/// Leases the due deliveries `claim` asks for, in the caller's transaction.
pub(crate) async fn claim(
    c: &mut Conn<'_>,
    slug: &TenantSlug,
    claim: &Claim<'_>,
) -> Result<Vec<ClaimedDelivery>> {
    match c {
        Conn::Sqlite(c) => crate::sqlite::claim(c, claim),
        Conn::Pg(c) => crate::postgres::claim(c, slug, claim).await,
    }
}

/// Whether a claim at `now` would find anything (a read before the write lock).
pub(crate) async fn any_due(c: &mut Conn<'_>, now: Timestamp) -> Result<bool> {
    let stmt = Stmt::new(
        "SELECT 1 FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         LIMIT 1",
    )
    .bind(now.millis());
    Ok(c.one(stmt, |_| Ok(())).await?.is_some())
}

/// Records attempts with their deliveries' next states where the claim still holds (its
/// lease did not run out and pass to another worker); whether each was recorded.
pub(crate) async fn record_attempts(
    c: &mut Conn<'_>,
    items: &[RecordedAttempt<'_>],
    now: Timestamp,
) -> Result<Vec<bool>> {
    match c {
        Conn::Sqlite(c) => crate::sqlite::record_attempts(c, items, now),
        Conn::Pg(c) => crate::postgres::record_attempts(c, items, now).await,
    }
}

/// Ends the leases of claims a stopping worker still holds, so the deliveries are due
/// again at once; a lease that changed (another worker's now) is left alone. How many
/// were released.
pub(crate) async fn release_leases(
    c: &mut Conn<'_>,
    claims: &[ClaimedDelivery],
    now: Timestamp,
) -> Result<usize> {
    match c {
        Conn::Sqlite(c) => crate::sqlite::release_leases(c, claims, now),
        Conn::Pg(c) => crate::postgres::release_leases(c, claims, now).await,
    }
}

/// Counts a batch's results against an endpoint: with a success among them the count
/// restarts from the failures after the last success, else it grows by `failures`.
/// Returns the count after it.
pub(crate) async fn count_endpoint_results(
    c: &mut Conn<'_>,
    id: &EndpointId,
    reset: bool,
    failures: u32,
) -> Result<u32> {
    let stmt = Stmt::new(
        "UPDATE webhook_endpoints SET consecutive_failures = CASE WHEN $1 THEN $2 ELSE consecutive_failures + $2 END
         WHERE id = $3 RETURNING consecutive_failures",
    )
    .bind(reset)
    .bind(i64::from(failures))
    .bind(id.as_str());
    let n: Option<i64> = c.one(stmt, |r| r.get(0)).await?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// The consecutive failure counts of these endpoints, by id.
pub(crate) async fn endpoint_failure_counts(
    c: &mut Conn<'_>,
    ids: &[&EndpointId],
) -> Result<HashMap<String, u32>> {
    let rows: Vec<(String, i64)> = match c {
        Conn::Pg(c) => crate::postgres::endpoint_failure_counts(c, ids).await?,
        Conn::Sqlite(_) => {
            // One cached statement per endpoint: on the calling thread, cheaper than
            // preparing a statement made for the list.
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let stmt = Stmt::new(
                    "SELECT id, consecutive_failures FROM webhook_endpoints WHERE id = $1",
                )
                .bind(id.as_str());
                rows.extend(c.one(stmt, |r| Ok((r.get(0)?, r.get(1)?))).await?);
            }
            rows
        }
    };
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// Disables an active endpoint with a reason; `false` when it was not active.
pub(crate) async fn disable_endpoint(
    c: &mut Conn<'_>,
    id: &EndpointId,
    reason: &str,
    now: Timestamp,
) -> Result<bool> {
    let stmt = Stmt::new(
        "UPDATE webhook_endpoints SET active = FALSE, disabled_reason = $1, disabled_at = $2, updated_at = $2
         WHERE id = $3 AND active = TRUE",
    )
    .bind(reason)
    .bind(now.millis())
    .bind(id.as_str());
    Ok(c.exec(stmt).await? == 1)
}

/// The type and stored JSON of each of these events, by id.
pub(crate) async fn event_jsons(
    c: &mut Conn<'_>,
    ids: &[&str],
) -> Result<HashMap<String, (String, String)>> {
    if let Conn::Pg(c) = c {
        return crate::postgres::event_jsons(c, ids).await;
    }
    let mut events = HashMap::with_capacity(ids.len());
    for id in ids {
        if !events.contains_key(*id)
            && let Some(found) = super::events::event_json(c, id).await?
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
                .get::<Option<i64>>("next_attempt_at")?
                .map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(row.get("created_at")?),
            updated_at: Timestamp::from_millis(row.get("updated_at")?),
        },
    ))
}

/// An endpoint's deliveries, optionally of one status: oldest first after position `after`,
/// or, with `newest_first`, newest first before position `after` (the admin's log).
pub(crate) async fn deliveries_page(
    c: &mut Conn<'_>,
    endpoint: &EndpointId,
    status: Option<DeliveryStatus>,
    after: i64,
    limit: u32,
    newest_first: bool,
) -> Result<Page<Delivery>> {
    let mut q = Stmt::new(DELIVERY_SELECT);
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
    let items = c.all(q, delivery_from_row).await?;
    Ok(paginate_positioned(items, limit))
}

/// One delivery of an endpoint.
pub(crate) async fn delivery_by_id(
    c: &mut Conn<'_>,
    endpoint: &EndpointId,
    id: &DeliveryId,
) -> Result<Option<Delivery>> {
    let sql = format!("{DELIVERY_SELECT} WHERE d.endpoint_id = $1 AND d.id = $2");
    let stmt = Stmt::new(sql).bind(endpoint.as_str()).bind(id.as_str());
    Ok(c.one(stmt, delivery_from_row).await?.map(|(_, d)| d))
}

/// A delivery's attempts, first first.
pub(crate) async fn attempts(c: &mut Conn<'_>, id: &DeliveryId) -> Result<Vec<Attempt>> {
    let stmt = Stmt::new(
        "SELECT number, started_at, duration_ms, request_headers, response_status, response_excerpt, error
         FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number",
    )
    .bind(id.as_str());
    c.all(stmt, |row| {
        let headers: String = row.get("request_headers")?;
        Ok(Attempt {
            number: u32::try_from(row.get::<i64>("number")?).unwrap_or(0),
            started_at: Timestamp::from_millis(row.get("started_at")?),
            duration_ms: u64::try_from(row.get::<i64>("duration_ms")?).unwrap_or(0),
            request_headers: serde_json::from_str(&headers)
                .map_err(|_| corrupt("request headers", &headers))?,
            response_status: row
                .get::<Option<i64>>("response_status")?
                .and_then(|s| u16::try_from(s).ok()),
            response_excerpt: row.get("response_excerpt")?,
            error: row.get("error")?,
        })
    })
    .await
}

/// Ends a claimed delivery without an attempt (its endpoint was disabled meanwhile);
/// `false` when the claim no longer held.
pub(crate) async fn cancel_delivery(
    c: &mut Conn<'_>,
    claimed: &ClaimedDelivery,
    now: Timestamp,
) -> Result<bool> {
    let stmt = Stmt::new(
        "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = $1
         WHERE id = $2 AND status = 'pending' AND lease_until = $3",
    )
    .bind(now.millis())
    .bind(claimed.id.as_str())
    .bind(claimed.lease_until.millis());
    Ok(c.exec(stmt).await? == 1)
}

/// The events whose latest delivery to `endpoint` failed or was cancelled, created in
/// [since, until): what a bulk recovery sends again. A delivery already sent again has a
/// newer one beside it, so recovering twice sends nothing twice.
pub(crate) async fn events_to_recover(
    c: &mut Conn<'_>,
    endpoint: &EndpointId,
    since: Timestamp,
    until: Timestamp,
    limit: u32,
) -> Result<Vec<String>> {
    if c.is_pg() {
        // Recoveries of one endpoint take turns (SQLite's one writer does that itself):
        // the next one finds the deliveries the previous one queued, and does not queue
        // them again.
        let lock = Stmt::new("SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE")
            .bind(endpoint.as_str());
        c.exec(lock).await?;
    }
    let stmt = Stmt::new(
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
    .bind(i64::from(limit));
    c.all(stmt, |r| r.get(0)).await
}

/// When the tenant next has work due: the earliest pending delivery not in flight, or
/// the earliest lease to run out (a worker that dies leaves its leases to run out).
pub(crate) async fn next_due(c: &mut Conn<'_>, now: Timestamp) -> Result<Option<Timestamp>> {
    let stmt = Stmt::new(
        "SELECT min(at) FROM (
             SELECT (SELECT next_attempt_at FROM webhook_deliveries
                     WHERE status = 'pending' AND (lease_until IS NULL OR lease_until <= $1)
                     ORDER BY next_attempt_at LIMIT 1) AS at
             UNION ALL
             SELECT min(lease_until) FROM webhook_deliveries
             WHERE status = 'pending' AND lease_until IS NOT NULL) AS t",
    )
    .bind(now.millis());
    let at: Option<Option<i64>> = c.one(stmt, |r| r.get(0)).await?;
    Ok(at.flatten().map(Timestamp::from_millis))
}
