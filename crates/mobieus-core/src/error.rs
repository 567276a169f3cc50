//! What a use case refuses, and why. Every variant but `Store` is the caller's mistake
//! and has a one-line message fit to show them; `Store` hides its cause behind `source()`.

use mobieus_domain::forum::{InvalidValue, Refusal};
use mobieus_store::StoreError;

/// Why a use case did not happen. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Conflict(String),
    /// A login with a wrong username or password (which of the two is not said).
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failed logins: try again after `retry_after_secs`.
    #[error("too many failed logins; try again in {} minutes", retry_after_secs.div_ceil(60))]
    Throttled { retry_after_secs: u64 },
    /// Something of ours failed (a worker thread stopped); the text is for the log.
    #[error("internal failure")]
    Internal(String),
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// The request's `Idempotency-Key` was used by the same request before, whose action
    /// committed: this is its answer, kept; nothing ran again.
    #[error("this request was answered before")]
    Replay(mobieus_store::StoredAnswer),
    /// The request's `Idempotency-Key` is held by the same request, still running.
    #[error("a request with this Idempotency-Key is still running")]
    IdempotencyKeyInUse,
    /// The request's `Idempotency-Key` was used for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
}

impl CoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        CoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { what } => {
                CoreError::Conflict(format!("that {what} is already taken"))
            }
            other => CoreError::Store(other),
        }
    }
}
