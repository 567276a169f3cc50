//! Idempotency keys: the first request with a key runs and its answer is kept; a repeat
//! gets that answer; a different request with the same key is refused. The key is
//! claimed, and its answer kept, in the action's own transaction: a rolled-back action
//! leaves no key behind, and a committed one never lacks its answer.

use crate::db::{Conn, Stmt};
use crate::{IdempotencyClaim, Result, StoredAnswer};
use mobieus_domain::api_key::ApiKeyId;
use mobieus_domain::time::Timestamp;

/// Claims `key` for a request with this fingerprint, in the caller's write transaction.
/// Rows created before `expired_before` are dropped first; a first request still
/// "running" since before `stale_before` is taken to have died and is taken over.
pub(crate) async fn claim(
    c: &mut Conn<'_>,
    key_id: &ApiKeyId,
    key: &str,
    fingerprint: &[u8],
    now: Timestamp,
    expired_before: Timestamp,
    stale_before: Timestamp,
) -> Result<IdempotencyClaim> {
    c.exec(
        Stmt::new("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(expired_before.millis()),
    )
    .await?;
    // Two first requests at once on Postgres: one inserts, the other waits for its commit
    // here and then finds its row (SQLite has one writer, so there they take turns).
    let insert = Stmt::new(
        "INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_key_id, key) DO NOTHING",
    )
    .bind(key_id.as_str())
    .bind(key)
    .bind(fingerprint)
    .bind(now.millis());
    if c.exec(insert).await? == 1 {
        return Ok(IdempotencyClaim::Started {
            token: now.millis(),
        });
    }
    // Locked on Postgres: a takeover of a stale first request is made by one request only.
    let lock = if c.is_pg() { " FOR UPDATE" } else { "" };
    let find = Stmt::new(format!(
        "SELECT fingerprint, created_at, status, content_type, response FROM idempotency_keys
         WHERE api_key_id = $1 AND key = $2{lock}"
    ))
    .bind(key_id.as_str())
    .bind(key);
    let row = c.one(find, found_from_row).await?;
    match judge(row, fingerprint, stale_before) {
        // Gone between the insert and the read (its transaction rolled back): the client
        // may simply try again.
        None => Ok(IdempotencyClaim::InUse),
        Some(IdempotencyClaim::Started { .. }) => {
            let take_over = Stmt::new(
                "UPDATE idempotency_keys SET created_at = $1 WHERE api_key_id = $2 AND key = $3",
            )
            .bind(now.millis())
            .bind(key_id.as_str())
            .bind(key);
            c.exec(take_over).await?;
            Ok(IdempotencyClaim::Started {
                token: now.millis(),
            })
        }
        Some(other) => Ok(other),
    }
}

/// What a claim of `key` would find, without writing: `None` when the key is free (or
/// its first request died, see [`claim`]) and the request may run.
pub(crate) async fn peek(
    c: &mut Conn<'_>,
    key_id: &ApiKeyId,
    key: &str,
    fingerprint: &[u8],
    expired_before: Timestamp,
    stale_before: Timestamp,
) -> Result<Option<IdempotencyClaim>> {
    let find = Stmt::new(
        "SELECT fingerprint, created_at, status, content_type, response FROM idempotency_keys
         WHERE api_key_id = $1 AND key = $2 AND created_at >= $3",
    )
    .bind(key_id.as_str())
    .bind(key)
    .bind(expired_before.millis());
    let row = c.one(find, found_from_row).await?;
    Ok(match judge(row, fingerprint, stale_before) {
        Some(IdempotencyClaim::Started { .. }) | None => None,
        other => other,
    })
}

/// A kept key's row: its request's fingerprint, when it was claimed, and its answer
/// (status, content type, sealed body) once kept.
type Found = (Vec<u8>, i64, Option<i64>, Option<String>, Option<Vec<u8>>);

fn found_from_row(r: &crate::db::Row<'_>) -> Result<Found> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// What a request with `fingerprint` may do with a key whose row is `row`: `Started`
/// (with no token yet) when its first request died without an answer (a row of a build
/// that kept the answer in a later transaction; a claim in the action's own transaction
/// leaves none), `None` when there is no row.
fn judge(
    row: Option<Found>,
    fingerprint: &[u8],
    stale_before: Timestamp,
) -> Option<IdempotencyClaim> {
    Some(match row? {
        (fp, _, _, _, _) if fp != fingerprint => IdempotencyClaim::Mismatch,
        (_, created, None, _, _) if created >= stale_before.millis() => IdempotencyClaim::InUse,
        (_, _, None, _, _) => IdempotencyClaim::Started { token: 0 },
        (_, _, Some(status), content_type, response) => IdempotencyClaim::Replay(StoredAnswer {
            status: u16::try_from(status).unwrap_or(500),
            content_type: content_type.unwrap_or_default(),
            sealed_body: response.unwrap_or_default(),
        }),
    })
}

/// Keeps the answer of `key`, claimed with `token` (its claim time) in the same
/// transaction, so the answer is kept exactly when the action's rows are.
pub(crate) async fn complete(
    c: &mut Conn<'_>,
    key_id: &ApiKeyId,
    key: &str,
    token: i64,
    answer: &StoredAnswer,
) -> Result<()> {
    let stmt = Stmt::new(
        "UPDATE idempotency_keys SET status = $1, content_type = $2, response = $3
         WHERE api_key_id = $4 AND key = $5 AND created_at = $6 AND status IS NULL",
    )
    .bind(i64::from(answer.status))
    .bind(&answer.content_type)
    .bind(&answer.sealed_body)
    .bind(key_id.as_str())
    .bind(key)
    .bind(token);
    c.exec(stmt).await?;
    Ok(())
}
