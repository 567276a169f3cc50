//! Webhook endpoints, the deliveries written beside each event, and the audit log.

use super::sql::{all, exec, one};
use crate::rows::corrupt;
use crate::{AuditEntry, EndpointRecord, NewEndpoint, Page, Result};
use mobieus_domain::event::EventType;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, Endpoint, EndpointId, EventSelection};
use rusqlite::{Connection, Row, params};

const ENDPOINT_SELECT: &str =
    "SELECT position, id, url, label, events, active, disabled_reason, disabled_at, consecutive_failures,
            secret, previous_secret, previous_secret_expires_at, created_at, updated_at
     FROM webhook_endpoints";

fn endpoint_from_row(row: &Row<'_>) -> Result<EndpointRecord> {
    let id: String = row.get("id")?;
    let events: String = row.get("events")?;
    let failures: i64 = row.get("consecutive_failures")?;
    let ms = |name: &str| -> Result<Option<Timestamp>> {
        Ok(row.get::<_, Option<i64>>(name)?.map(Timestamp::from_millis))
    };
    Ok(EndpointRecord {
        endpoint: Endpoint {
            id: EndpointId::parse(&id).ok_or_else(|| corrupt("endpoint id", &id))?,
            url: row.get("url")?,
            label: row.get("label")?,
            events: EventSelection::parse_list(&events)
                .map_err(|_| corrupt("event selection", &events))?,
            active: row.get("active")?,
            disabled_reason: row.get("disabled_reason")?,
            disabled_at: ms("disabled_at")?,
            consecutive_failures: u32::try_from(failures).unwrap_or(u32::MAX),
            previous_secret_expires_at: ms("previous_secret_expires_at")?,
            created_at: Timestamp::from_millis(row.get("created_at")?),
            updated_at: Timestamp::from_millis(row.get("updated_at")?),
        },
        sealed_secret: row.get("secret")?,
        sealed_previous_secret: row.get("previous_secret")?,
    })
}

pub(crate) fn insert_endpoint(c: &Connection, new: &NewEndpoint) -> Result<()> {
    exec(
        c,
        // Writers are serialised (BEGIN IMMEDIATE), so max + 1 is never taken twice.
        "INSERT INTO webhook_endpoints (position, id, url, label, events, secret, created_at, updated_at)
         VALUES ((SELECT coalesce(max(position), 0) + 1 FROM webhook_endpoints), ?, ?, ?, ?, ?, ?, ?)",
        params![
            new.id.as_str(),
            new.url.as_str(),
            new.label.as_deref(),
            new.events.to_list(),
            new.sealed_secret,
            new.at.millis(),
            new.at.millis()
        ],
    )?;
    Ok(())
}

pub(crate) fn endpoint_by_id(c: &Connection, id: &EndpointId) -> Result<Option<EndpointRecord>> {
    let sql = format!("{ENDPOINT_SELECT} WHERE id = ?");
    one(c, &sql, [id.as_str()], endpoint_from_row)
}

pub(crate) fn endpoints_page(
    c: &Connection,
    after: i64,
    limit: u32,
) -> Result<Page<EndpointRecord>> {
    let sql = format!("{ENDPOINT_SELECT} WHERE position > ? ORDER BY position LIMIT ?");
    let items = all(c, &sql, [after, i64::from(limit) + 1], |row| {
        Ok((row.get::<_, i64>("position")?, endpoint_from_row(row)?))
    })?;
    Ok(crate::rows::paginate_positioned(items, limit))
}

pub(crate) fn delete_endpoint(c: &Connection, id: &EndpointId) -> Result<bool> {
    Ok(exec(
        c,
        "DELETE FROM webhook_endpoints WHERE id = ?",
        [id.as_str()],
    )? == 1)
}

/// Writes an endpoint's settings as given (the use case decides them).
pub(crate) fn save_endpoint(c: &Connection, ep: &Endpoint) -> Result<()> {
    exec(
        c,
        "UPDATE webhook_endpoints SET url = ?, label = ?, events = ?, active = ?, disabled_reason = ?, disabled_at = ?,
                consecutive_failures = ?, updated_at = ?
         WHERE id = ?",
        params![
            ep.url,
            ep.label.as_deref(),
            ep.events.to_list(),
            ep.active,
            ep.disabled_reason.as_deref(),
            ep.disabled_at.map(Timestamp::millis),
            i64::from(ep.consecutive_failures),
            ep.updated_at.millis(),
            ep.id.as_str()
        ],
    )?;
    Ok(())
}

/// Replaces the secret, keeping the old one (sealed) until `previous_expires_at`.
pub(crate) fn rotate_secret(
    c: &Connection,
    id: &EndpointId,
    sealed_new: &[u8],
    sealed_previous: &[u8],
    previous_expires_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    exec(
        c,
        "UPDATE webhook_endpoints SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE id = ?",
        params![
            sealed_new,
            sealed_previous,
            previous_expires_at.millis(),
            at.millis(),
            id.as_str()
        ],
    )?;
    Ok(())
}

/// The active endpoints an event of type `t` goes to.
pub(crate) fn subscribed_endpoints(c: &Connection, t: EventType) -> Result<Vec<EndpointId>> {
    let rows: Vec<(String, String)> = all(
        c,
        "SELECT id, events FROM webhook_endpoints WHERE active = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
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

/// Pending deliveries of `event_id` to each of `endpoints`, due at `at`: one prepared
/// statement run per endpoint (on the calling thread, a fan-out to a thousand endpoints
/// takes a few milliseconds).
pub(crate) fn insert_deliveries(
    c: &Connection,
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<Vec<DeliveryId>> {
    let mut insert = c.prepare_cached(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
    )?;
    let mut ids = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let id = DeliveryId::generate(at);
        insert.execute(params![
            id.as_str(),
            event_id,
            endpoint.as_str(),
            at.millis()
        ])?;
        ids.push(id);
    }
    Ok(ids)
}

/// How many deliveries of each status an event has (for tests and the admin console).
pub(crate) fn deliveries_of_event(
    c: &Connection,
    event_id: &str,
) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
    all(
        c,
        "SELECT id, endpoint_id, status FROM webhook_deliveries WHERE event_id = ? ORDER BY endpoint_id",
        [event_id],
        |r| {
            let d: String = r.get(0)?;
            let ep: String = r.get(1)?;
            Ok((
                DeliveryId::parse(&d).ok_or_else(|| corrupt("delivery id", &d))?,
                EndpointId::parse(&ep).ok_or_else(|| corrupt("endpoint id", &ep))?,
                r.get(2)?,
            ))
        },
    )
}

pub(crate) fn insert_audit(c: &Connection, entry: &AuditEntry) -> Result<()> {
    exec(
        c,
        "INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
        params![
            entry.at.millis(),
            entry.actor,
            entry.action,
            entry.target,
            entry.details.to_string()
        ],
    )?;
    Ok(())
}

pub(crate) fn audit_log(c: &Connection) -> Result<Vec<AuditEntry>> {
    all(
        c,
        "SELECT at, actor, action, target, details FROM audit_log ORDER BY id",
        [],
        |row| {
            let action: String = row.get("action")?;
            let details: String = row.get("details")?;
            Ok(AuditEntry {
                at: Timestamp::from_millis(row.get("at")?),
                actor: row.get("actor")?,
                action: crate::records::audit_action(&action)
                    .ok_or_else(|| corrupt("audit action", &action))?,
                target: row.get("target")?,
                details: serde_json::from_str(&details)
                    .map_err(|_| corrupt("audit details", &details))?,
            })
        },
    )
}
