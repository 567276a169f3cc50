//! Idempotency keys: the first request with a key runs and its answer is kept; a repeat
//! gets that answer; a different request with the same key is refused.

use crate::{IdempotencyClaim, Result, StoredAnswer};
use mobieus_domain::api_key::ApiKeyId;
use mobieus_domain::time::Timestamp;
use sqlx::{PgConnection, Row};

/// Claims `key` for a request with this fingerprint, in the caller's write transaction.
/// Rows created before `expired_before` are dropped first; a first request still
/// "running" since before `stale_before` is taken to have died and is taken over.
pub(crate) async fn claim(
    c: &mut PgConnection,
    key_id: &ApiKeyId,
    key: &str,
    fingerprint: &[u8],
    now: Timestamp,
    expired_before: Timestamp,
    stale_before: Timestamp,
) -> Result<IdempotencyClaim> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(expired_before.millis())
        .execute(&mut *c)
        .await?;
    // Two first requests at once: one inserts, the other waits for its commit here and
    // then finds its row (SQLite has one writer, so there a read then an insert does).
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_key_id, key) DO NOTHING",
    )
    .bind(key_id.as_str())
    .bind(key)
    .bind(fingerprint)
    .bind(now.millis())
    .execute(&mut *c)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(IdempotencyClaim::Started {
            token: now.millis(),
        });
    }
    type Found = (Vec<u8>, i64, Option<i64>, Option<String>, Option<Vec<u8>>);
    // Locked: a takeover of a stale first request is made by one request only.
    let row: Option<Found> = sqlx::query(
        "SELECT fingerprint, created_at, status, content_type, response FROM idempotency_keys
         WHERE api_key_id = $1 AND key = $2 FOR UPDATE",
    )
    .bind(key_id.as_str())
    .bind(key)
    .fetch_optional(&mut *c)
    .await?
    .map(|r| -> Result<Found> {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        ))
    })
    .transpose()?;
    match row {
        // Released (its request failed) between the insert and the read: the client
        // may simply try again.
        None => Ok(IdempotencyClaim::InUse),
        Some((fp, _, _, _, _)) if fp != fingerprint => Ok(IdempotencyClaim::Mismatch),
        Some((_, created, None, _, _)) if created >= stale_before.millis() => {
            Ok(IdempotencyClaim::InUse)
        }
        Some((_, _, None, _, _)) => {
            sqlx::query(
                "UPDATE idempotency_keys SET created_at = $1 WHERE api_key_id = $2 AND key = $3",
            )
            .bind(now.millis())
            .bind(key_id.as_str())
            .bind(key)
            .execute(&mut *c)
            .await?;
            Ok(IdempotencyClaim::Started {
                token: now.millis(),
            })
        }
        Some((_, _, Some(status), content_type, response)) => {
            Ok(IdempotencyClaim::Replay(StoredAnswer {
                status: u16::try_from(status).unwrap_or(500),
                content_type: content_type.unwrap_or_default(),
                sealed_body: response.unwrap_or_default(),
            }))
        }
    }
}

/// Keeps the first answer of `key`, if the request that claimed it (`token`, its claim
/// time) still owns it.
pub(crate) async fn complete(
    c: &mut PgConnection,
    key_id: &ApiKeyId,
    key: &str,
    token: i64,
    answer: &StoredAnswer,
) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1, content_type = $2, response = $3 WHERE api_key_id = $4 AND key = $5 AND created_at = $6 AND status IS NULL",
    )
    .bind(i64::from(answer.status))
    .bind(answer.content_type.as_str())
    .bind(answer.sealed_body.as_slice())
    .bind(key_id.as_str())
    .bind(key)
    .bind(token)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Forgets `key` (its request did not succeed, so it may be tried again), if the request
/// that claimed it (`token`) still owns it.
pub(crate) async fn release(
    c: &mut PgConnection,
    key_id: &ApiKeyId,
    key: &str,
    token: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2 AND created_at = $3 AND status IS NULL",
    )
    .bind(key_id.as_str())
    .bind(key)
    .bind(token)
    .execute(&mut *c)
    .await?;
    Ok(())
}
