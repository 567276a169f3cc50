//! API keys: stored as SHA-256 hashes only.

use crate::rows::corrupt;
use crate::{ApiKeyRecord, NewApiKey, Result};
use mobieus_domain::api_key::{ApiKeyId, KeyHash, KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::time::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

const KEY_SELECT: &str = "SELECT id, name, prefix, key_hash, mode, scopes, rate_limit, created_at, last_used_at, revoked_at FROM api_keys";

fn key_from_row(row: &PgRow) -> Result<ApiKeyRecord> {
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

pub(crate) async fn insert_api_key(c: &mut PgConnection, key: &NewApiKey) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, name, prefix, key_hash, mode, scopes, rate_limit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id.as_str())
    .bind(key.name.as_str())
    .bind(key.prefix.as_str())
    .bind(key.hash.0.as_slice())
    .bind(key.mode.as_str())
    .bind(key.scopes.to_list())
    .bind(i64::from(key.rate_limit.per_minute()))
    .bind(key.created_at.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn api_keys(c: &mut PgConnection) -> Result<Vec<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} ORDER BY created_at, id");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *c).await?;
    rows.iter().map(key_from_row).collect()
}

pub(crate) async fn api_key_by_hash(
    c: &mut PgConnection,
    hash: &KeyHash,
) -> Result<Option<ApiKeyRecord>> {
    let sql = format!("{KEY_SELECT} WHERE key_hash = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(hash.0.as_slice())
        .fetch_optional(&mut *c)
        .await?
        .as_ref()
        .map(key_from_row)
        .transpose()
}

/// Revokes a key that is not yet revoked; returns whether one was.
pub(crate) async fn revoke_api_key(
    c: &mut PgConnection,
    id: &ApiKeyId,
    at: Timestamp,
) -> Result<bool> {
    let n = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(at.millis())
        .bind(id.as_str())
        .execute(&mut *c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Records use of a key, unless it was recorded after `stale_before` (so a busy key
/// costs a write about once a minute, not once a request).
pub(crate) async fn touch_api_key(
    c: &mut PgConnection,
    id: &ApiKeyId,
    at: Timestamp,
    stale_before: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(at.millis())
    .bind(id.as_str())
    .bind(stale_before.millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}
