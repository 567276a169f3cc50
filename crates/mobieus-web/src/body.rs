//! JSON request bodies: read as bytes and parsed here, so a malformed body gets the same
//! `invalid_request` problem document as any other bad input, naming what was wrong.

use crate::problem::ApiError;
use serde::de::DeserializeOwned;

/// Parses a JSON body; an empty body reads as `{}` (for endpoints whose fields are all optional).
pub(crate) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
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
