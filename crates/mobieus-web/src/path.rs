//! Path parameters (`/webhooks/{id}`) whose refusal is a problem document: a segment that
//! cannot be read (percent-encoded bytes that are not UTF-8) names no resource, so it is
//! `404 not_found`, as a well-formed id that names nothing is.

use crate::problem::ApiError;
use axum::extract::FromRequestParts;
use axum::extract::rejection::PathRejection;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// axum's `Path`, refused with an [`ApiError`].
#[derive(Debug)]
pub(crate) struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::NotFound(
                format!("no such resource: {}", e.body_text()),
            )),
            // A route whose template lacks the parameters its handler reads: our mistake.
            Err(e) => Err(ApiError::Internal(Box::new(e))),
        }
    }
}
