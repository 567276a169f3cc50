//! API keys: stored as SHA-256 hashes only.

use super::sql::{all, exec, one};
use crate::rows::corrupt;
use crate::{ApiKeyRecord, NewApiKey, Result};
use mobieus_domain::api_key::{ApiKeyId, KeyHash, KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::time::Timestamp;
use rusqlite::{Connection, Row, params};

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
            .get::<_, Option<i64>>("last_used_at")?
            .map(Timestamp::from_millis),
        revoked_at: row
            .get::<_, Option<i64>>("revoked_at")?
            .map(Timestamp::from_millis),
    })
}

pub(crate) fn insert_api_key(c: &Connection, key: &NewApiKey) -> Result<()> {
    exec(
        c,
        "INSERT INTO api_keys (id, name, prefix, key_hash, mode, scopes, rate_limit, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            key.id.as_str(),
            key.name,
            key.prefix,
            key.hash.0.as_slice(),
            key.mode.as_str(),
            key.scopes.to_list(),
            i64::from(key.rate_limit.per_minute()),
            key.created_at.millis()
        ],
    )?;
    Ok(())
}

pub(crate) fn api_keys(c: &Connection) -> Result<Vec<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} ORDER BY created_at, id");
    all(c, &sql, [], key_from_row)
}

pub(crate) fn api_key_by_hash(c: &Connection, hash: &KeyHash) -> Result<Option<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} WHERE key_hash = ?");
    one(c, &sql, [hash.0.as_slice()], key_from_row)
}

/// Revokes a key that is not yet revoked; returns whether one was.
pub(crate) fn revoke_api_key(c: &Connection, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
    let n = exec(
        c,
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        params![at.millis(), id.as_str()],
    )?;
    Ok(n == 1)
}

/// Records use of a key, unless it was recorded after `stale_before` (so a busy key
/// costs a write about once a minute, not once a request).
pub(crate) fn touch_api_key(
    c: &Connection,
    id: &ApiKeyId,
    at: Timestamp,
    stale_before: Timestamp,
) -> Result<()> {
    exec(
        c,
        "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        params![at.millis(), id.as_str(), stale_before.millis()],
    )?;
    Ok(())
}
