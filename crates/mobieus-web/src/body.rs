//! JSON request bodies: read as bytes and parsed here, so a malformed body gets the same
//! `invalid_request` problem document as any other bad input, naming what was wrong.

use crate::problem::ApiError;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// Parses a JSON object body; an empty body reads as `{}` (for endpoints whose fields are
/// all optional). Anything but an object is refused: serde would otherwise read a struct
/// from an array of its fields in order (`[]` as `{}`).
pub(crate) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
