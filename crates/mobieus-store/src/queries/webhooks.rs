//! Webhook endpoints, the deliveries written beside each event, and the audit log.

use crate::db::{Conn, Row, Stmt};
use crate::rows::{corrupt, paginate_positioned};
use crate::{AuditEntry, EndpointRecord, NewEndpoint, Page, Result};
use mobieus_domain::event::EventType;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, Endpoint, EndpointId, EventSelection};

const ENDPOINT_SELECT: &str =
    "SELECT position, id, url, label, events, active, disabled_reason, disabled_at, consecutive_failures,
            secret, previous_secret, previous_secret_expires_at, created_at, updated_at
     FROM webhook_endpoints";

fn endpoint_from_row(row: &Row<'_>) -> Result<EndpointRecord> {
    let id: String = row.get("id")?;
    let events: String = row.get("events")?;
    let failures: i64 = row.get("consecutive_failures")?;
    let ms = |name: &str| -> Result<Option<Timestamp>> {
        Ok(row.get::<Option<i64>>(name)?.map(Timestamp::from_millis))
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

pub(crate) async fn insert_endpoint(c: &mut Conn<'_>, new: &NewEndpoint) -> Result<()> {
    if c.is_pg() {
        // Postgres's writers are not serialised as SQLite's are: this self-exclusive lock,
        // held until commit, makes sure max + 1 is never taken twice (readers do not wait;
        // writers of the table do).
        c.exec(Stmt::new(
            "LOCK TABLE webhook_endpoints IN SHARE ROW EXCLUSIVE MODE",
        ))
        .await?;
    }
    let stmt = Stmt::new(
        "INSERT INTO webhook_endpoints (position, id, url, label, events, secret, created_at, updated_at)
         VALUES ((SELECT coalesce(max(position), 0) + 1 FROM webhook_endpoints), $1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(new.id.as_str())
    .bind(new.url.as_str())
    .bind(new.label.as_deref())
    .bind(new.events.to_list())
    .bind(new.sealed_secret.as_slice())
    .bind(new.at.millis());
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn endpoint_by_id(
    c: &mut Conn<'_>,
    id: &EndpointId,
) -> Result<Option<EndpointRecord>> {
    let sql = format!("{ENDPOINT_SELECT} WHERE id = $1");
    c.one(Stmt::new(sql).bind(id.as_str()), endpoint_from_row)
        .await
}

pub(crate) async fn endpoints_page(
    c: &mut Conn<'_>,
    after: i64,
    limit: u32,
) -> Result<Page<EndpointRecord>> {
    let sql = format!("{ENDPOINT_SELECT} WHERE position > $1 ORDER BY position LIMIT $2");
    let stmt = Stmt::new(sql).bind(after).bind(i64::from(limit) + 1);
    let items = c
        .all(stmt, |row| {
            Ok((row.get::<i64>("position")?, endpoint_from_row(row)?))
        })
        .await?;
    Ok(paginate_positioned(items, limit))
}

pub(crate) async fn delete_endpoint(c: &mut Conn<'_>, id: &EndpointId) -> Result<bool> {
    let stmt = Stmt::new("DELETE FROM webhook_endpoints WHERE id = $1").bind(id.as_str());
    Ok(c.exec(stmt).await? == 1)
}

/// Writes an endpoint's settings as given (the use case decides them).
pub(crate) async fn save_endpoint(c: &mut Conn<'_>, ep: &Endpoint) -> Result<()> {
    let stmt = Stmt::new(
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
    .bind(ep.id.as_str());
    c.exec(stmt).await?;
    Ok(())
}

/// Replaces the secret, keeping the old one (sealed) until `previous_expires_at`.
pub(crate) async fn rotate_secret(
    c: &mut Conn<'_>,
    id: &EndpointId,
    sealed_new: &[u8],
    sealed_previous: &[u8],
    previous_expires_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    let stmt = Stmt::new(
        "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, updated_at = $4
         WHERE id = $5",
    )
    .bind(sealed_new)
    .bind(sealed_previous)
    .bind(previous_expires_at.millis())
    .bind(at.millis())
    .bind(id.as_str());
    c.exec(stmt).await?;
    Ok(())
}

/// Drops previous secrets whose grace window is over; returns how many went.
pub(crate) async fn purge_expired_secrets(c: &mut Conn<'_>, now: Timestamp) -> Result<u64> {
    let stmt = Stmt::new(
        "UPDATE webhook_endpoints SET previous_secret = NULL, previous_secret_expires_at = NULL
         WHERE previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at <= $1",
    )
    .bind(now.millis());
    c.exec(stmt).await
}

/// Whether any previous secret's grace window is over (a read before the write, for a
/// backend where the write would take a lock).
pub(crate) async fn any_expired_secret(c: &mut Conn<'_>, now: Timestamp) -> Result<bool> {
    let stmt =
        Stmt::new("SELECT 1 FROM webhook_endpoints WHERE previous_secret_expires_at <= $1 LIMIT 1")
            .bind(now.millis());
    Ok(c.one(stmt, |_| Ok(())).await?.is_some())
}

/// The active endpoints an event of type `t` goes to.
pub(crate) async fn subscribed_endpoints(
    c: &mut Conn<'_>,
    t: EventType,
) -> Result<Vec<EndpointId>> {
    let stmt = Stmt::new("SELECT id, events FROM webhook_endpoints WHERE active = TRUE");
    let rows: Vec<(String, String)> = c.all(stmt, |r| Ok((r.get(0)?, r.get(1)?))).await?;
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

/// Pending deliveries of `event_id` to each of `endpoints`, due at `at`.
pub(crate) async fn insert_deliveries(
    c: &mut Conn<'_>,
    event_id: &str,
    endpoints: &[EndpointId],
    at: Timestamp,
) -> Result<Vec<DeliveryId>> {
    let ids: Vec<DeliveryId> = endpoints.iter().map(|_| DeliveryId::generate(at)).collect();
    match c {
        Conn::Sqlite(c) => crate::sqlite::insert_deliveries(c, &ids, event_id, endpoints, at)?,
        Conn::Pg(c) => {
            crate::postgres::insert_deliveries(c, &ids, event_id, endpoints, at).await?;
        }
    }
    Ok(ids)
}

/// The deliveries written for an event: (delivery, endpoint, status), by endpoint id.
pub(crate) async fn deliveries_of_event(
    c: &mut Conn<'_>,
    event_id: &str,
) -> Result<Vec<(DeliveryId, EndpointId, String)>> {
    // Byte order on both: ids mix upper and lower case, and Postgres's default
    // collation would not sort them as SQLite's does.
    let order = if c.is_pg() { " COLLATE \"C\"" } else { "" };
    let sql = format!(
        "SELECT id, endpoint_id, status FROM webhook_deliveries WHERE event_id = $1 ORDER BY endpoint_id{order}"
    );
    c.all(Stmt::new(sql).bind(event_id), |r| {
        let d: String = r.get(0)?;
        let ep: String = r.get(1)?;
        Ok((
            DeliveryId::parse(&d).ok_or_else(|| corrupt("delivery id", &d))?,
            EndpointId::parse(&ep).ok_or_else(|| corrupt("endpoint id", &ep))?,
            r.get(2)?,
        ))
    })
    .await
}

pub(crate) async fn insert_audit(c: &mut Conn<'_>, entry: &AuditEntry) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO audit_log (at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(entry.at.millis())
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(&entry.target)
    .bind(entry.details.to_string());
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn audit_log(c: &mut Conn<'_>) -> Result<Vec<AuditEntry>> {
    let stmt = Stmt::new("SELECT at, actor, action, target, details FROM audit_log ORDER BY id");
    c.all(stmt, |row| {
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
    })
    .await
}
