//! Idempotency keys: the first request with a key runs and its answer is kept; a repeat
//! gets that answer; a different request with the same key is refused.

use super::sql::{exec, one};
use crate::{IdempotencyClaim, Result, StoredAnswer};
use mobieus_domain::api_key::ApiKeyId;
use mobieus_domain::time::Timestamp;
use rusqlite::{Connection, params};

/// Claims `key` for a request with this fingerprint, in the caller's write transaction.
/// Rows created before `expired_before` are dropped first; a first request still
/// "running" since before `stale_before` is taken to have died and is taken over.
pub(crate) fn claim(
    c: &Connection,
    key_id: &ApiKeyId,
    key: &str,
    fingerprint: &[u8],
    now: Timestamp,
    expired_before: Timestamp,
    stale_before: Timestamp,
) -> Result<IdempotencyClaim> {
    exec(
        c,
        "DELETE FROM idempotency_keys WHERE created_at < ?",
        [expired_before.millis()],
    )?;
    type Found = (Vec<u8>, i64, Option<i64>, Option<String>, Option<Vec<u8>>);
    let row: Option<Found> = one(
        c,
        "SELECT fingerprint, created_at, status, content_type, response FROM idempotency_keys WHERE api_key_id = ? AND key = ?",
        params![key_id.as_str(), key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    match row {
        None => {
            exec(
                c,
                "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                params![key_id.as_str(), key, fingerprint, now.millis()],
            )?;
            Ok(IdempotencyClaim::Started {
                token: now.millis(),
            })
        }
        Some((fp, _, _, _, _)) if fp != fingerprint => Ok(IdempotencyClaim::Mismatch),
        Some((_, created, None, _, _)) if created >= stale_before.millis() => {
            Ok(IdempotencyClaim::InUse)
        }
        Some((_, _, None, _, _)) => {
            exec(
                c,
                "UPDATE idempotency_keys SET created_at = ? WHERE api_key_id = ? AND key = ?",
                params![now.millis(), key_id.as_str(), key],
            )?;
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
pub(crate) fn complete(
    c: &Connection,
    key_id: &ApiKeyId,
    key: &str,
    token: i64,
    answer: &StoredAnswer,
) -> Result<()> {
    exec(
        c,
        "UPDATE idempotency_keys SET status = ?, content_type = ?, response = ? WHERE api_key_id = ? AND key = ? AND created_at = ? AND status IS NULL",
        params![
            i64::from(answer.status),
            answer.content_type,
            answer.sealed_body,
            key_id.as_str(),
            key,
            token
        ],
    )?;
    Ok(())
}

/// Forgets `key` (its request did not succeed, so it may be tried again), if the request
/// that claimed it (`token`) still owns it.
pub(crate) fn release(c: &Connection, key_id: &ApiKeyId, key: &str, token: i64) -> Result<()> {
    exec(
        c,
        "DELETE FROM idempotency_keys WHERE api_key_id = ? AND key = ? AND created_at = ? AND status IS NULL",
        params![key_id.as_str(), key, token],
    )?;
    Ok(())
}
