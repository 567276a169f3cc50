//! Idempotency keys of the API's actions. The use case claims the key in its own
//! transaction and keeps the answer there, with its rows: "the action committed" and "its
//! answer is kept" cannot diverge, whatever instant the process dies at. A repeat of the
//! request then gets the kept answer ([`CoreError::Replay`]) and the action does not run
//! again; a different request with the same key is refused.

use crate::{CoreError, Result};
use mobieus_domain::api_key::ApiKeyId;
use mobieus_domain::time::Timestamp;
use mobieus_store::{IdempotencyClaim, StoredAnswer, TenantTx};

/// The `Idempotency-Key` of a request: the key that sent it, the key's text, and the
/// request's fingerprint (its method, path and body, hashed).
#[derive(Clone, Debug)]
pub struct RequestKey {
    pub key_id: ApiKeyId,
    pub key: String,
    pub fingerprint: Vec<u8>,
}

/// A request's key and how its answer is made from the action's result (rendered and
/// sealed by the caller, which knows the wire format).
pub struct Idempotency<'a, T> {
    pub key: &'a RequestKey,
    pub answer: &'a (dyn Fn(&T) -> StoredAnswer + Send + Sync),
}

impl<T> std::fmt::Debug for Idempotency<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A key claimed in a transaction, whose answer that transaction must keep.
#[derive(Debug)]
pub(crate) struct Claimed<'a, 'i, T> {
    idem: &'a Idempotency<'i, T>,
    token: i64,
}

/// Claims the key of `idem` (if the request has one) in `tx`, at the start of a use case:
/// a repeat is refused with [`CoreError::Replay`] and the first request's answer.
pub(crate) async fn claim<'a, 'i, T>(
    tx: &mut TenantTx,
    idem: Option<&'a Idempotency<'i, T>>,
) -> Result<Option<Claimed<'a, 'i, T>>> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let k = idem.key;
    match tx
        .claim_idempotency_key(&k.key_id, &k.key, &k.fingerprint, Timestamp::now())
        .await?
    {
        IdempotencyClaim::Started { token } => Ok(Some(Claimed { idem, token })),
        IdempotencyClaim::Replay(answer) => Err(CoreError::Replay(answer)),
        IdempotencyClaim::InUse => Err(CoreError::IdempotencyKeyInUse),
        IdempotencyClaim::Mismatch => Err(CoreError::IdempotencyKeyReused),
    }
}

impl<T> Claimed<'_, '_, T> {
    /// Keeps the answer made from `result` in `tx`, before it commits.
    pub(crate) async fn keep(self, tx: &mut TenantTx, result: &T) -> Result<()> {
        let k = self.idem.key;
        let answer = (self.idem.answer)(result);
        tx.keep_idempotent_answer(&k.key_id, &k.key, self.token, &answer)
            .await?;
        Ok(())
    }
}

/// Keeps the answer of a claimed key (when there is one) in `tx`.
pub(crate) async fn keep<T>(
    tx: &mut TenantTx,
    claimed: Option<Claimed<'_, '_, T>>,
    result: &T,
) -> Result<()> {
    match claimed {
        Some(c) => c.keep(tx, result).await,
        None => Ok(()),
    }
}
