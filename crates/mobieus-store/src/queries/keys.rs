//! API keys: stored as SHA-256 hashes only.

use crate::db::{Conn, Row, Stmt};
use crate::rows::corrupt;
use crate::{ApiKeyRecord, NewApiKey, Result};
use mobieus_domain::api_key::{ApiKeyId, KeyHash, KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::time::Timestamp;

const KEY_SELECT: &str = "SELECT id, name, prefix, key_hash, mode, scopes, rate_limit, created_at, last_used_at, revoked_at FROM api_keys";

fn key_from_row(row: &Row<'_>) -> Result<ApiKeyRecord> {
    let id: String = row.get("id")?;
    let hash: Vec<u8> = row.get("key_hash")?;
    let mode: String = row.get("mode")?;
    let scopes: String = row.get("scopes")?;
    let rate: i64 = row.get("rate_limit")?;
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse(&id).ok_or_else(|| corrupt("key id", &id))?,
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        hash: KeyHash(
            hash.try_into()
                .map_err(|_| corrupt("key hash", "(wrong length)"))?,
        ),
        mode: KeyMode::parse(&mode).ok_or_else(|| corrupt("key mode", &mode))?,
        scopes: Scopes::parse_list(&scopes).map_err(|_| corrupt("scopes", &scopes))?,
        rate_limit: u32::try_from(rate)
            .ok()
            .and_then(|r| RateLimit::new(r).ok())
            .ok_or_else(|| corrupt("rate limit", &rate.to_string()))?,
        created_at: Timestamp::from_millis(row.get("created_at")?),
        last_used_at: row
            .get::<Option<i64>>("last_used_at")?
            .map(Timestamp::from_millis),
        revoked_at: row
            .get::<Option<i64>>("revoked_at")?
            .map(Timestamp::from_millis),
    })
}

pub(crate) async fn insert_api_key(c: &mut Conn<'_>, key: &NewApiKey) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO api_keys (id, name, prefix, key_hash, mode, scopes, rate_limit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id.as_str())
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key.hash.0.as_slice())
    .bind(key.mode.as_str())
    .bind(key.scopes.to_list())
    .bind(i64::from(key.rate_limit.per_minute()))
    .bind(key.created_at.millis());
    c.exec(stmt).await?;
    Ok(())
}

pub(crate) async fn api_keys(c: &mut Conn<'_>) -> Result<Vec<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} ORDER BY created_at, id");
    c.all(Stmt::new(sql), key_from_row).await
}

pub(crate) async fn api_key_by_hash(
    c: &mut Conn<'_>,
    hash: &KeyHash,
) -> Result<Option<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} WHERE key_hash = $1");
    c.one(Stmt::new(sql).bind(hash.0.as_slice()), key_from_row)
        .await
}

/// Revokes a key that is not yet revoked; returns whether one was.
pub(crate) async fn revoke_api_key(c: &mut Conn<'_>, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
    let stmt =
        Stmt::new("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at.millis())
            .bind(id.as_str());
    Ok(c.exec(stmt).await? == 1)
}

/// Records use of a key, unless it was recorded after `stale_before` (so a busy key
/// costs a write about once a minute, not once a request).
pub(crate) async fn touch_api_key(
    c: &mut Conn<'_>,
    id: &ApiKeyId,
    at: Timestamp,
    stale_before: Timestamp,
) -> Result<()> {
    let stmt = Stmt::new(
        "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(at.millis())
    .bind(id.as_str())
    .bind(stale_before.millis());
    c.exec(stmt).await?;
    Ok(())
}
