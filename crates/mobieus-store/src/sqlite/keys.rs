//! API keys: stored as SHA-256 hashes only.

use super::corrupt;
use crate::{ApiKeyRecord, NewApiKey, Result};
use mobieus_domain::api_key::{ApiKeyId, KeyHash, KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::time::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteExecutor};

const KEY_SELECT: &str = "SELECT id, name, prefix, key_hash, mode, scopes, rate_limit, created_at, last_used_at, revoked_at FROM api_keys";

fn key_from_row(row: &SqliteRow) -> Result<ApiKeyRecord> {
    let id: String = row.try_get("id")?;
    let hash: Vec<u8> = row.try_get("key_hash")?;
    let mode: String = row.try_get("mode")?;
    let scopes: String = row.try_get("scopes")?;
    let rate: i64 = row.try_get("rate_limit")?;
    Ok(ApiKeyRecord {
        id: ApiKeyId::parse(&id).ok_or_else(|| corrupt("key id", &id))?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
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
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp::from_millis),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(Timestamp::from_millis),
    })
}

pub(crate) async fn insert_api_key<'e>(e: impl SqliteExecutor<'e>, key: &NewApiKey) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, key_hash, mode, scopes, rate_limit, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(key.id.as_str())
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key.hash.0.as_slice())
    .bind(key.mode.as_str())
    .bind(key.scopes.to_list())
    .bind(i64::from(key.rate_limit.per_minute()))
    .bind(key.created_at.millis())
    .execute(e)
    .await?;
    Ok(())
}

pub(crate) async fn api_keys<'e>(e: impl SqliteExecutor<'e>) -> Result<Vec<ApiKeyRecord>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{KEY_SELECT} ORDER BY created_at, id"
    )))
    .fetch_all(e)
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(crate) async fn api_key_by_hash<'e>(
    e: impl SqliteExecutor<'e>,
    hash: &KeyHash,
) -> Result<Option<ApiKeyRecord>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{KEY_SELECT} WHERE key_hash = ?"
    )))
    .bind(hash.0.as_slice())
    .fetch_optional(e)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// Revokes a key that is not yet revoked; returns whether one was.
pub(crate) async fn revoke_api_key<'e>(
    e: impl SqliteExecutor<'e>,
    id: &ApiKeyId,
    at: Timestamp,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(at.millis())
            .bind(id.as_str())
            .execute(e)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records use of a key, unless it was recorded after `stale_before` (so a busy key
/// costs a write about once a minute, not once a request).
pub(crate) async fn touch_api_key<'e>(
    e: impl SqliteExecutor<'e>,
    id: &ApiKeyId,
    at: Timestamp,
    stale_before: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
        .bind(at.millis())
        .bind(id.as_str())
        .bind(stale_before.millis())
        .execute(e)
        .await?;
    Ok(())
}
