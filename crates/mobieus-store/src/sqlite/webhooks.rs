//! Webhook endpoints, the deliveries written beside each event, and the audit log.

use super::corrupt;
use crate::{AuditEntry, EndpointRecord, NewEndpoint, Page, Result};
use mobieus_domain::event::EventType;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, Endpoint, EndpointId, EventSelection};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

const ENDPOINT_SELECT: &str =
    "SELECT position, id, url, label, events, active, disabled_reason, disabled_at, consecutive_failures,
            secret, previous_secret, previous_secret_expires_at, created_at, updated_at
     FROM webhook_endpoints";

fn endpoint_from_row(row: &SqliteRow) -> Result<EndpointRecord> {
    let id: String = row.try_get("id")?;
    let events: String = row.try_get("events")?;
    let failures: i64 = row.try_get("consecutive_failures")?;
    let ms = |name: &str| -> Result<Option<Timestamp>> {
        Ok(row
            .try_get::<Option<i64>, _>(name)?
            .map(Timestamp::from_millis))
    };
    Ok(EndpointRecord {
        endpoint: Endpoint {
            id: EndpointId::parse(&id).ok_or_else(|| corrupt("endpoint id", &id))?,
            url: row.try_get("url")?,
            label: row.try_get("label")?,
            events: EventSelection::parse_list(&events)
                .map_err(|_| corrupt("event selection", &events))?,
            active: row.try_get("active")?,
            disabled_reason: row.try_get("disabled_reason")?,
            disabled_at: ms("disabled_at")?,
            consecutive_failures: u32::try_from(failures).unwrap_or(u32::MAX),
            previous_secret_expires_at: ms("previous_secret_expires_at")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        },
        sealed_secret: row.try_get("secret")?,
        sealed_previous_secret: row.try_get("previous_secret")?,
    })
}

pub(crate) async fn insert_endpoint<'e>(
    e: impl SqliteExecutor<'e>,
    new: &NewEndpoint,
) -> Result<()> {
    sqlx::query(
        // Writers are serialised (BEGIN IMMEDIATE), so max + 1 is never taken twice.
        "INSERT INTO webhook_endpoints (position, id, url, label, events, secret, created_at, updated_at)
         VALUES ((SELECT coalesce(max(position), 0) + 1 FROM webhook_endpoints), ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.id.as_str())
    .bind(new.url.as_str())
    .bind(new.label.as_deref())
    .bind(new.events.to_list())
    .bind(&new.sealed_secret)
    .bind(new.at.millis())
    .bind(new.at.millis())
    .execute(e)
    .await?;
    Ok(())
}

pub(crate) async fn endpoint_by_id<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
) -> Result<Option<EndpointRecord>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ENDPOINT_SELECT} WHERE id = ?"
    )))
    .bind(id.as_str())
    .fetch_optional(e)
    .await?;
    row.as_ref().map(endpoint_from_row).transpose()
}

pub(crate) async fn endpoints_page<'e>(
    e: impl SqliteExecutor<'e>,
    after: i64,
    limit: u32,
) -> Result<Page<EndpointRecord>> {
    let sql = format!("{ENDPOINT_SELECT} WHERE position > ? ORDER BY position LIMIT ?");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(i64::from(limit) + 1)
        .fetch_all(e)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push((row.try_get::<i64, _>("position")?, endpoint_from_row(row)?));
    }
    Ok(super::paginate_positioned(items, limit))
}

pub(crate) async fn delete_endpoint<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?")
        .bind(id.as_str())
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes an endpoint's settings as given (the use case decides them).
pub(crate) async fn save_endpoint<'e>(e: impl SqliteExecutor<'e>, ep: &Endpoint) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = ?, label = ?, events = ?, active = ?, disabled_reason = ?, disabled_at = ?,
                consecutive_failures = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(&ep.url)
    .bind(ep.label.as_deref())
    .bind(ep.events.to_list())
    .bind(ep.active)
    .bind(ep.disabled_reason.as_deref())
    .bind(ep.disabled_at.map(Timestamp::millis))
    .bind(i64::from(ep.consecutive_failures))
    .bind(ep.updated_at.millis())
    .bind(ep.id.as_str())
    .execute(e)
    .await?;
    Ok(())
}

/// Replaces the secret, keeping the old one (sealed) until `previous_expires_at`.
pub(crate) async fn rotate_secret<'e>(
    e: impl SqliteExecutor<'e>,
    id: &EndpointId,
    sealed_new: &[u8],
    sealed_previous: &[u8],
    previous_expires_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE id = ?",
    )
    .bind(sealed_new)
    .bind(sealed_previous)
    .bind(previous_expires_at.millis())
    .bind(at.millis())
    .bind(id.as_str())
    .execute(e)
    .await?;
    Ok(())
}

/// The active endpoints an event of type `t` goes to.
pub(crate) async fn subscribed_endpoints<'e>(
    e: impl SqliteExecutor<'e>,
    t: EventType,
) -> Result<Vec<EndpointId>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE active = 1")
            .fetch_all(e)
            .await?;
    let mut ids = Vec::new();
    for (id, events) in rows {
        let selection =
            EventSelection::parse_list(&events).map_err(|_| corrupt("event selection", &events))?;
        if selection.includes(t) {
            ids.push(EndpointId::parse(&id).ok_or_else(|| corrupt("endpoint id", &id))?);
        }
    }
    Ok(ids)
}

/// Pending deliveries of `event_id` to each of `endpoints`, due at `at`, in one statement
/// per thousand (a fan-out to many endpoints costs one round trip, not one each).
pub(crate) async fn insert_deliveries(
    c: &mut sqlx::SqliteConnection,
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<Vec<DeliveryId>> {
    let ids: Vec<DeliveryId> = endpoints.iter().map(|_| DeliveryId::generate()).collect();
    let rows: Vec<(&DeliveryId, &EndpointId)> = ids.iter().zip(endpoints).collect();
    for chunk in rows.chunks(1000) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut row, (id, endpoint)| {
            row.push_bind(id.as_str())
                .push_bind(event_id)
                .push_bind(endpoint.as_str())
                .push_bind(at.millis())
                .push_bind(at.millis())
                .push_bind(at.millis());
        });
        q.build().execute(&mut *c).await?;
    }
    Ok(ids)
}

/// How many deliveries of each status an event has (for tests and the admin console).
pub(crate) async fn deliveries_of_event<'e>(
    e: impl SqliteExecutor<'e>,
    event_id: &str,
) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, endpoint_id, status FROM webhook_deliveries WHERE event_id = ? ORDER BY endpoint_id")
            .bind(event_id)
            .fetch_all(e)
            .await?;
    rows.into_iter()
        .map(|(d, ep, status)| {
            Ok((
                DeliveryId::parse(&d).ok_or_else(|| corrupt("delivery id", &d))?,
                EndpointId::parse(&ep).ok_or_else(|| corrupt("endpoint id", &ep))?,
                status,
            ))
        })
        .collect()
}

pub(crate) async fn insert_audit<'e>(e: impl SqliteExecutor<'e>, entry: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(entry.at.millis())
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(&entry.target)
    .bind(entry.details.to_string())
    .execute(e)
    .await?;
    Ok(())
}

pub(crate) async fn audit_log<'e>(e: impl SqliteExecutor<'e>) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT at, actor, action, target, details FROM audit_log ORDER BY id")
        .fetch_all(e)
        .await?;
    rows.iter()
        .map(|row| {
            let action: String = row.try_get("action")?;
            let details: String = row.try_get("details")?;
            Ok(AuditEntry {
                at: Timestamp::from_millis(row.try_get("at")?),
                actor: row.try_get("actor")?,
                action: crate::records::audit_action(&action)
                    .ok_or_else(|| corrupt("audit action", &action))?,
                target: row.try_get("target")?,
                details: serde_json::from_str(&details)
                    .map_err(|_| corrupt("audit details", &details))?,
            })
        })
        .collect()
}
