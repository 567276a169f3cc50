//! Webhook endpoints: registering, deleting and rotating secrets. Secrets are sealed with
//! the master key before they are stored, bound to their tenant and endpoint; every
//! change writes an audit entry (never with a secret).

use crate::idempotency::{self, Idempotency};
use crate::outbox::audit;
use crate::{CoreError, Result};
use mobieus_domain::forum::InvalidValue;
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Endpoint, EndpointId, EventSelection, WebhookSecret, WebhookUrl};
use mobieus_store::{EndpointRecord, NewEndpoint, TenantDb};
use serde_json::json;

/// The longest grace period a rotation may keep the previous secret signing.
pub const MAX_GRACE_SECS: u64 = 7 * 24 * 3600;

/// What to register.
#[derive(Clone, Debug)]
pub struct EndpointRequest {
    pub url: WebhookUrl,
    pub label: Option<String>,
    pub events: EventSelection,
}

/// A new endpoint and its secret, shown once.
#[derive(Debug)]
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    pub secret: WebhookSecret,
}

/// The associated data that binds a sealed secret to its tenant and endpoint.
fn aad(db: &TenantDb, id: &EndpointId) -> Vec<u8> {
    sealing_aad(db.slug(), id.as_str())
}

/// What an endpoint's secret is sealed for: its tenant and its id, so a sealed secret
/// copied to another endpoint or tenant does not open.
pub(crate) fn sealing_aad(slug: &TenantSlug, endpoint_id: &str) -> Vec<u8> {
    format!("{slug}/{endpoint_id}").into_bytes()
}

fn label(label: Option<String>) -> Result<Option<String>> {
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > 100 || l.chars().any(char::is_control))
    {
        return Err(InvalidValue {
            field: "label",
            message: "must be at most 100 characters without control characters",
        }
        .into());
    }
    Ok(label)
}

/// Registers an endpoint with a fresh secret.
pub async fn create(
    db: &TenantDb,
    key: &MasterKey,
    req: EndpointRequest,
    actor: &str,
    idem: Option<&Idempotency<'_, CreatedEndpoint>>,
) -> Result<CreatedEndpoint> {
    let id = EndpointId::generate();
    let secret = WebhookSecret::generate();
    let new = NewEndpoint {
        sealed_secret: key.seal(secret.expose().as_bytes(), &aad(db, &id)),
        id,
        url: req.url,
        label: label(req.label)?,
        events: req.events,
        at: Timestamp::now(),
    };
    let mut tx = db.begin().await?;
    let claimed = idempotency::claim(&mut tx, idem).await?;
    tx.insert_endpoint(&new).await?;
    let details = json!({ "url": new.url.as_str(), "label": new.label, "events": new.events });
    audit(&mut tx, actor, "endpoint.created", new.id.as_str(), details).await?;
    let record = tx
        .endpoint_by_id(&new.id)
        .await?
        .ok_or_else(|| CoreError::not_found("endpoint", &new.id))?;
    let created = CreatedEndpoint {
        endpoint: record.endpoint,
        secret,
    };
    idempotency::keep(&mut tx, claimed, &created).await?;
    tx.commit().await?;
    Ok(created)
}

/// What to change on an endpoint; `None` leaves a field as it is (`label: Some(None)` clears it).
#[derive(Clone, Debug, Default)]
pub struct EndpointChanges {
    pub url: Option<WebhookUrl>,
    pub label: Option<Option<String>>,
    pub events: Option<EventSelection>,
    pub active: Option<bool>,
}

/// Changes an endpoint in place. Re-enabling clears its failure count and disabled reason;
/// disabling by hand records who did it.
pub async fn update(
    db: &TenantDb,
    id: &EndpointId,
    changes: EndpointChanges,
    actor: &str,
) -> Result<Endpoint> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let before = tx
        .endpoint_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("endpoint", id))?
        .endpoint;
    let mut ep = before.clone();
    if let Some(url) = changes.url {
        ep.url = url.as_str().to_owned();
    }
    if let Some(l) = changes.label {
        ep.label = label(l)?;
    }
    if let Some(events) = changes.events {
        ep.events = events;
    }
    match changes.active {
        Some(true) if !before.active => {
            ep.active = true;
            ep.disabled_reason = None;
            ep.disabled_at = None;
            ep.consecutive_failures = 0;
        }
        Some(false) if before.active => {
            ep.active = false;
            ep.disabled_reason = Some(format!("disabled by {actor}"));
            ep.disabled_at = Some(now);
        }
        _ => {}
    }
    ep.updated_at = now;
    tx.save_endpoint(&ep).await?;
    let mut changed = serde_json::Map::new();
    if ep.url != before.url {
        changed.insert("url".into(), json!({ "from": before.url, "to": ep.url }));
    }
    if ep.label != before.label {
        changed.insert(
            "label".into(),
            json!({ "from": before.label, "to": ep.label }),
        );
    }
    if ep.events != before.events {
        changed.insert(
            "events".into(),
            json!({ "from": before.events, "to": ep.events }),
        );
    }
    if ep.active != before.active {
        changed.insert(
            "active".into(),
            json!({ "from": before.active, "to": ep.active }),
        );
    }
    audit(
        &mut tx,
        actor,
        "endpoint.updated",
        id.as_str(),
        serde_json::Value::Object(changed),
    )
    .await?;
    tx.commit().await?;
    Ok(ep)
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: &TenantDb, id: &EndpointId, actor: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let record = tx
        .endpoint_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("endpoint", id))?;
    tx.delete_endpoint(id).await?;
    audit(
        &mut tx,
        actor,
        "endpoint.deleted",
        id.as_str(),
        json!({ "url": record.endpoint.url }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret, shown once, and when the previous one stops signing.
#[derive(Debug)]
pub struct Rotation {
    pub secret: WebhookSecret,
    pub previous_expires_at: Timestamp,
}

/// Gives an endpoint a new secret; the old one keeps signing (as the second signature)
/// for `grace_secs`, so receivers can switch without dropping a delivery.
pub async fn rotate_secret(
    db: &TenantDb,
    key: &MasterKey,
    id: &EndpointId,
    grace_secs: u64,
    actor: &str,
    idem: Option<&Idempotency<'_, Rotation>>,
) -> Result<Rotation> {
    if grace_secs > MAX_GRACE_SECS {
        return Err(InvalidValue {
            field: "grace_seconds",
            message: "must be at most 604800 (7 days)",
        }
        .into());
    }
    let now = Timestamp::now();
    let secret = WebhookSecret::generate();
    let mut tx = db.begin().await?;
    let claimed = idempotency::claim(&mut tx, idem).await?;
    let record = tx
        .endpoint_by_id(id)
        .await?
        .ok_or_else(|| CoreError::not_found("endpoint", id))?;
    let expires = now.plus_millis(i64::try_from(grace_secs * 1000).unwrap_or(i64::MAX));
    let sealed = key.seal(secret.expose().as_bytes(), &aad(db, id));
    // The current secret becomes the previous one as it is: same key, same binding.
    tx.rotate_secret(id, &sealed, &record.sealed_secret, expires, now)
        .await?;
    audit(
        &mut tx,
        actor,
        "endpoint.secret_rotated",
        id.as_str(),
        json!({ "grace_seconds": grace_secs, "previous_expires_at": expires }),
    )
    .await?;
    let rotation = Rotation {
        secret,
        previous_expires_at: expires,
    };
    idempotency::keep(&mut tx, claimed, &rotation).await?;
    tx.commit().await?;
    Ok(rotation)
}

/// The secrets that sign a delivery to this endpoint now: the current one, and the
/// previous one while its grace window lasts.
pub fn signing_secrets(
    db: &TenantDb,
    key: &MasterKey,
    record: &EndpointRecord,
    now: Timestamp,
) -> Result<(WebhookSecret, Option<WebhookSecret>)> {
    let open = |sealed: &[u8]| -> Result<WebhookSecret> {
        let bytes = key
            .open(sealed, &aad(db, &record.endpoint.id))
            .map_err(|e| CoreError::Conflict(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| CoreError::Conflict("sealed secret is not text".to_owned()))?;
        WebhookSecret::parse(&text).map_err(|e| CoreError::Conflict(e.to_string()))
    };
    let current = open(&record.sealed_secret)?;
    let in_grace = record
        .endpoint
        .previous_secret_expires_at
        .is_some_and(|t| t > now);
    let previous = match &record.sealed_previous_secret {
        Some(sealed) if in_grace => Some(open(sealed)?),
        _ => None,
    };
    Ok((current, previous))
}
