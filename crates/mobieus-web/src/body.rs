//! JSON request bodies: read here, within one size limit, and parsed here, so every way a
//! body can be wrong gets a problem document naming what was wrong: over the limit
//! (`413 payload_too_large`), not declared as JSON (`415 unsupported_media_type`),
//! malformed or of the wrong shape (`400 invalid_request`).

use crate::problem::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use std::convert::Infallible;

/// The largest request body the API reads, in bytes: the handlers and the idempotency
/// middleware (which reads a keyed request's body to fingerprint it) both read through
/// [`read`], so a body over it gets the same answer whichever reads it first.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Reads a request's body, refusing one over [`MAX_BODY`]: at once when its
/// `Content-Length` says so, else (chunked) as soon as the bytes read pass it.
pub(crate) async fn read(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ApiError::PayloadTooLarge),
        // The client stopped sending or sent a malformed chunk: nothing was done.
        Err(e) => Err(ApiError::invalid("body", format!("could not be read: {e}"))),
    }
}

/// A request's body, to be read as JSON when the handler asks ([`JsonBody::parse`]): after
/// its own checks (scope, path), so a request is refused for the same first reason
/// whatever its body.
#[derive(Debug)]
pub(crate) struct JsonBody {
    headers: HeaderMap,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Infallible;

    async fn from_request(req: Request, _: &S) -> Result<Self, Infallible> {
        let (parts, body) = req.into_parts();
        Ok(Self {
            headers: parts.headers,
            body,
        })
    }
}

impl JsonBody {
    /// The body as a `T`. A body must be declared `application/json` (or `+json`); an
    /// empty body may come without a `Content-Type` and reads as `{}`.
    pub(crate) async fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let declared = self.headers.get(header::CONTENT_TYPE);
        if let Some(value) = declared
            && !is_json(value)
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body must be JSON, sent with `Content-Type: application/json`, not `{}`",
                String::from_utf8_lossy(value.as_bytes())
            )));
        }
        let bytes = read(&self.headers, self.body).await?;
        if declared.is_none() && !bytes.is_empty() {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON, sent with `Content-Type: application/json`; \
                 this request has no `Content-Type`"
                    .to_owned(),
            ));
        }
        json(&bytes)
    }
}

/// `application/json` or a structured `application/…+json` type, with any parameters
/// (`; charset=utf-8`), in any case.
fn is_json(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || (sub.ends_with("+json") && sub.len() > 5))
}

/// Parses a JSON object body; an empty body reads as `{}` (for endpoints whose fields are
/// all optional). Anything but an object is refused: serde would otherwise read a struct
/// from an array of its fields in order (`[]` as `{}`).
fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => bytes,
        Some(_) => return Err(ApiError::invalid("body", "must be a JSON object")),
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        // serde names the field in backquotes: "missing field `url`", "unknown field `x`".
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .unwrap_or("body");
        ApiError::invalid(field, message.clone())
    })
}

/// An optional whole number of 0 or more, also when written with a zero fraction
/// (`86400.0`): a JSON Schema `integer` is any number without a fractional part, so a
/// client that validates against the spec may send either. Use with `#[serde(default)]`.
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_u64()
        .or_else(|| {
            // `as` saturates; anything that large is refused by the caller's maximum anyway.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        })
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format_args!(
                "invalid value: {n}, expected a whole number of 0 or more"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_told_apart() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "application/+json",
            "json",
            "",
        ] {
            assert!(!is_json(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
