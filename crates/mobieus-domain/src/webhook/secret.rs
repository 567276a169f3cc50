//! Signing secrets: `whsec_` + base64 of 32 random bytes (the Standard Webhooks form).
//! The HMAC key is the decoded bytes. `Debug` never shows the secret.

use crate::random;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

const PREFIX: &str = "whsec_";

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Not a `whsec_…` secret.
#[derive(Debug, thiserror::Error)]
#[error("a signing secret looks like whsec_ followed by base64 of 24 to 64 bytes")]
pub struct BadSecret;

impl WebhookSecret {
    /// A new secret of 32 bytes from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0u8; 32];
        random::fill(&mut key);
        Self { key }
    }

    pub fn parse(s: &str) -> Result<Self, BadSecret> {
        let encoded = s.strip_prefix(PREFIX).ok_or(BadSecret)?;
        let key = STANDARD.decode(encoded).map_err(|_| BadSecret)?;
        if (24..=64).contains(&key.len()) {
            Ok(Self { key })
        } else {
            Err(BadSecret)
        }
    }

    /// The HMAC key.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The `whsec_…` text, for the one time it is shown to its owner.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_hide_in_debug() {
        let s = WebhookSecret::generate();
        assert_eq!(s.key().len(), 32);
        let text = s.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), s);
        assert!(!format!("{s:?}").contains(&text[6..]));
        for bad in [
            "",
            "whsec_",
            "whsec_!!!",
            "sk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_AAAA",
        ] {
            assert!(WebhookSecret::parse(bad).is_err(), "{bad}");
        }
    }
}
