//! The delivery queue: claiming due deliveries with a lease, and recording how each
//! attempt went. A lease that runs out (its worker died) makes the delivery due again:
//! at-least-once, never lost.

use super::corrupt;
use crate::{ClaimedDelivery, DeliveryState, NewAttempt, Result};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, EndpointId};
use sqlx::SqliteExecutor;

/// Leases up to `batch` due deliveries until `lease_until`, oldest due first, in one
/// statement (SQLite has one writer, so two workers never claim the same row).
pub(crate) async fn claim_due<'e>(
    e: impl SqliteExecutor<'e>,
    now: Timestamp,
    lease_until: Timestamp,
    batch: u32,
) -> Result<Vec<ClaimedDelivery>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "UPDATE webhook_deliveries SET lease_until = ?1, updated_at = ?2
         WHERE id IN (SELECT id FROM webhook_deliveries
                      WHERE status = 'pending' AND next_attempt_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)
                      ORDER BY next_attempt_at LIMIT ?3)
         RETURNING id, event_id, endpoint_id, attempts",
    )
    .bind(lease_until.millis())
    .bind(now.millis())
    .bind(i64::from(batch))
    .fetch_all(e)
    .await?;
    rows.into_iter()
        .map(|(id, event_id, endpoint, attempts)| {
            Ok(ClaimedDelivery {
                id: DeliveryId::parse(&id).ok_or_else(|| corrupt("delivery id", &id))?,
                event_id,
                endpoint_id: EndpointId::parse(&endpoint)
                    .ok_or_else(|| corrupt("endpoint id", &endpoint))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

pub(crate) async fn insert_attempt<'e>(e: impl SqliteExecutor<'e>, a: &NewAttempt) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, response_excerpt, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(a.delivery.as_str())
    .bind(i64::from(a.number))
    .bind(a.started_at.millis())
    .bind(i64::try_from(a.duration_ms).unwrap_or(i64::MAX))
    .bind(a.request_headers.to_string())
    .bind(a.response_status.map(i64::from))
    .bind(a.response_excerpt.as_deref())
    .bind(a.error.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

/// Ends the lease of a delivery with its new state after attempt `attempts`.
pub(crate) async fn set_delivery_state<'e>(
    e: impl SqliteExecutor<'e>,
    id: &DeliveryId,
    attempts: u32,
    state: DeliveryState,
    now: Timestamp,
) -> Result<()> {
    let (status, next) = match state {
        DeliveryState::Succeeded => ("succeeded", None),
        DeliveryState::Retry { at } => ("pending", Some(at.millis())),
        DeliveryState::Failed => ("failed", None),
        DeliveryState::Cancelled => ("cancelled", None),
    };
    sqlx::query("UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, lease_until = NULL, updated_at = ? WHERE id = ?")
        .bind(status)
        .bind(i64::from(attempts))
        .bind(next)
        .bind(now.millis())
        .bind(id.as_str())
        .execute(e)
        .await?;
    Ok(())
}

/// Counts a failed attempt against an endpoint (or resets the count on success); returns
/// the count after it.
pub(crate) async fn count_endpoint_result<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
    succeeded: bool,
) -> Result<u32> {
    let sql = if succeeded {
        "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ? RETURNING consecutive_failures"
    } else {
        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = ? RETURNING consecutive_failures"
    };
    let n: Option<i64> = sqlx::query_scalar(sql)
        .bind(id.as_str())
        .fetch_optional(e)
        .await?;
    Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
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

/// The stored JSON of an event, for the body of its deliveries.
pub(crate) async fn event_json<'e>(
    e: impl SqliteExecutor<'e>,
    event_id: &str,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT payload FROM api_events WHERE id = ?")
            .bind(event_id)
            .fetch_optional(e)
            .await?,
    )
}
