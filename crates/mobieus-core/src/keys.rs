//! Minting, listing and revoking API keys.

use crate::outbox::audit;
use crate::{CoreError, Result};
use mobieus_domain::api_key::{ApiKeyId, ApiKeySecret, KeyMode, RateLimit};
use mobieus_domain::forum::InvalidValue;
use mobieus_domain::scope::Scopes;
use mobieus_domain::time::Timestamp;
use mobieus_store::{ApiKeyRecord, NewApiKey, TenantDb};

/// What a new key is for.
#[derive(Clone, Debug)]
pub struct KeyRequest {
    /// Who mints it, for the audit log (`cli`, `api_key:key_…`).
    pub actor: String,
    pub name: String,
    pub scopes: Scopes,
    pub mode: KeyMode,
    pub rate_limit: RateLimit,
}

/// A freshly minted key: the plaintext exists here and nowhere else, once.
#[derive(Debug)]
pub struct MintedKey {
    pub record: ApiKeyRecord,
    pub secret: ApiKeySecret,
}

/// Mints a key from the CSPRNG and stores only its hash.
pub async fn mint(db: &TenantDb, req: KeyRequest) -> Result<MintedKey> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(InvalidValue {
            field: "name",
            message: "must be 1-100 characters without control characters",
        }
        .into());
    }
    let secret = ApiKeySecret::generate(req.mode);
    let key = NewApiKey {
        id: ApiKeyId::generate(),
        name: name.to_owned(),
        prefix: secret.display_prefix(),
        hash: secret.hash(),
        mode: req.mode,
        scopes: req.scopes,
        rate_limit: req.rate_limit,
        created_at: Timestamp::now(),
    };
    let mut tx = db.begin().await?;
    tx.insert_api_key(&key).await?;
    let details = serde_json::json!({ "name": key.name, "prefix": key.prefix, "scopes": key.scopes, "rate_limit": key.rate_limit });
    audit(
        &mut tx,
        &req.actor,
        "api_key.created",
        key.id.as_str(),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(MintedKey {
        record: key.into(),
        secret,
    })
}

pub async fn list(db: &TenantDb) -> Result<Vec<ApiKeyRecord>> {
    Ok(db.api_keys().await?)
}

/// Revokes a key at once: the next request with it is refused.
pub async fn revoke(db: &TenantDb, id: &str, actor: &str) -> Result<()> {
    let parsed = ApiKeyId::parse(id).ok_or_else(|| CoreError::not_found("API key", id))?;
    let mut tx = db.begin().await?;
    if !tx.revoke_api_key(&parsed, Timestamp::now()).await? {
        let exists = tx.api_keys().await?.iter().any(|k| k.id == parsed);
        return Err(if exists {
            CoreError::Conflict(format!("API key {id} is already revoked"))
        } else {
            CoreError::not_found("API key", id)
        });
    }
    audit(
        &mut tx,
        actor,
        "api_key.revoked",
        parsed.as_str(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How stale a key's `last_used_at` may get before a request stamps it again: one write
/// a minute per key at most, however busy the key (a stamp per request would be a write
/// per read on the API's hottest path).
const USE_STAMPED_EVERY_MS: i64 = 60_000;

/// Whether a request made with `key` at `now` should stamp its last use
/// ([`record_use`]): its stamp is missing or older than a minute.
pub fn use_needs_stamp(key: &ApiKeyRecord, now: Timestamp) -> bool {
    key.last_used_at
        .is_none_or(|t| t.millis() < now.millis() - USE_STAMPED_EVERY_MS)
}

/// Stamps `now` as the last use of the key `id`, unless a concurrent request stamped it
/// within the last minute (the store's condition, so two nodes do not both write).
/// Not audited: a use is not a change to the key.
pub async fn record_use(db: &TenantDb, id: &ApiKeyId, now: Timestamp) -> Result<()> {
    db.touch_api_key(id, now, now.plus_millis(-USE_STAMPED_EVERY_MS))
        .await?;
    Ok(())
}
