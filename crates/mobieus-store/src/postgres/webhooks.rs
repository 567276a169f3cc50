//! Webhook endpoints, the deliveries written beside each event, and the audit log.

use crate::rows::{corrupt, paginate_positioned};
use crate::{AuditEntry, EndpointRecord, NewEndpoint, Page, Result};
use mobieus_domain::event::EventType;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, Endpoint, EndpointId, EventSelection};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

macro_rules! endpoint_select {
    () => {
        "SELECT position, id, url, label, events, active, disabled_reason, disabled_at, consecutive_failures,
                secret, previous_secret, previous_secret_expires_at, created_at, updated_at
         FROM webhook_endpoints"
    };
}

fn endpoint_from_row(row: &PgRow) -> Result<EndpointRecord> {
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

pub(crate) async fn insert_endpoint(c: &mut PgConnection, new: &NewEndpoint) -> Result<()> {
    // Writers are not serialised as on SQLite: this self-exclusive lock, held until commit,
    // makes sure max + 1 is never taken twice (readers do not wait; writers of the table do).
    sqlx::query("LOCK TABLE webhook_endpoints IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (position, id, url, label, events, secret, created_at, updated_at)
         VALUES ((SELECT coalesce(max(position), 0) + 1 FROM webhook_endpoints), $1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(new.id.as_str())
    .bind(new.url.as_str())
    .bind(new.label.as_deref())
    .bind(new.events.to_list())
    .bind(new.sealed_secret.as_slice())
    .bind(new.at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn endpoint_by_id(
    c: &mut PgConnection,
    id: &EndpointId,
) -> Result<Option<EndpointRecord>> {
    sqlx::query(concat!(endpoint_select!(), " WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
}

pub(crate) async fn endpoints_page(
    c: &mut PgConnection,
    after: i64,
    limit: u32,
) -> Result<Page<EndpointRecord>> {
    let rows = sqlx::query(concat!(
        endpoint_select!(),
        " WHERE position > $1 ORDER BY position LIMIT $2"
    ))
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *c)
    .await?;
    let items = rows
        .iter()
        .map(|row| Ok((row.try_get::<i64, _>("position")?, endpoint_from_row(row)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(paginate_positioned(items, limit))
}

pub(crate) async fn delete_endpoint(c: &mut PgConnection, id: &EndpointId) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *c)
        .await?
        .rows_affected()
        == 1)
}

/// Writes an endpoint's settings as given (the use case decides them).
pub(crate) async fn save_endpoint(c: &mut PgConnection, ep: &Endpoint) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, label = $2, events = $3, active = $4, disabled_reason = $5,
                disabled_at = $6, consecutive_failures = $7, updated_at = $8
         WHERE id = $9",
    )
    .bind(ep.url.as_str())
    .bind(ep.label.as_deref())
    .bind(ep.events.to_list())
    .bind(ep.active)
    .bind(ep.disabled_reason.as_deref())
    .bind(ep.disabled_at.map(Timestamp::millis))
    .bind(i64::from(ep.consecutive_failures))
    .bind(ep.updated_at.millis())
    .bind(ep.id.as_str())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Replaces the secret, keeping the old one (sealed) until `previous_expires_at`.
pub(crate) async fn rotate_secret(
    c: &mut PgConnection,
    id: &EndpointId,
    sealed_new: &[u8],
    sealed_previous: &[u8],
    previous_expires_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, updated_at = $4
         WHERE id = $5",
    )
    .bind(sealed_new)
    .bind(sealed_previous)
    .bind(previous_expires_at.millis())
    .bind(at.millis())
    .bind(id.as_str())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The active endpoints an event of type `t` goes to.
pub(crate) async fn subscribed_endpoints(
    c: &mut PgConnection,
    t: EventType,
) -> Result<Vec<EndpointId>> {
    let rows = sqlx::query("SELECT id, events FROM webhook_endpoints WHERE active")
        .fetch_all(&mut *c)
        .await?;
    let mut ids = Vec::new();
    for row in rows {
        let id: String = row.try_get(0)?;
        let events: String = row.try_get(1)?;
        let selection =
            EventSelection::parse_list(&events).map_err(|_| corrupt("event selection", &events))?;
        if selection.includes(t) {
            ids.push(EndpointId::parse(&id).ok_or_else(|| corrupt("endpoint id", &id))?);
        }
    }
    Ok(ids)
}

/// Pending deliveries of `event_id` to each of `endpoints`, due at `at`: one statement
/// for the whole fan-out (its rows from two arrays), positions in the order given.
pub(crate) async fn insert_deliveries(
    c: &mut PgConnection,
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<Vec<DeliveryId>> {
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DeliveryId> = endpoints.iter().map(|_| DeliveryId::generate(at)).collect();
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
    Ok(ids)
}

/// How many deliveries of each status an event has (for tests and the admin console).
pub(crate) async fn deliveries_of_event(
    c: &mut PgConnection,
    event_id: &str,
) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
    // Byte order, as SQLite's: ids mix upper and lower case.
    let rows = sqlx::query(
        "SELECT id, endpoint_id, status FROM webhook_deliveries WHERE event_id = $1
         ORDER BY endpoint_id COLLATE \"C\"",
    )
    .bind(event_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let d: String = r.try_get(0)?;
            let ep: String = r.try_get(1)?;
            Ok((
                DeliveryId::parse(&d).ok_or_else(|| corrupt("delivery id", &d))?,
                EndpointId::parse(&ep).ok_or_else(|| corrupt("endpoint id", &ep))?,
                r.try_get(2)?,
            ))
        })
        .collect()
}

pub(crate) async fn insert_audit(c: &mut PgConnection, entry: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(entry.at.millis())
    .bind(entry.actor.as_str())
    .bind(entry.action)
    .bind(entry.target.as_str())
    .bind(entry.details.to_string())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn audit_log(c: &mut PgConnection) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT at, actor, action, target, details FROM audit_log ORDER BY id")
        .fetch_all(&mut *c)
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
