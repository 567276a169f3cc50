//! Secrets at rest: values such as webhook signing secrets are sealed with the server's
//! master key (XChaCha20-Poly1305, a random 24-byte nonce per value) before they are
//! stored. The associated data binds a sealed value to where it belongs (tenant and
//! row), so a ciphertext copied to another row does not open.
//!
//! Stored form: `1` (format version) ‖ nonce (24 bytes) ‖ ciphertext and tag.

use crate::random;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The server's 32-byte master key. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

/// Why a master key or a sealed value was refused. Says nothing about the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("a master key is 32 bytes, written as base64 (44 characters) or hex (64 characters)")]
    BadKey,
    #[error(
        "a sealed value does not open with this master key (wrong key, or the value was moved or altered)"
    )]
    CannotOpen,
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        random::fill(&mut k);
        Self(k)
    }

    /// Reads a key written as base64 or hex.
    pub fn parse(s: &str) -> Result<Self, SealError> {
        let s = s.trim();
        let bytes = if s.len() == 64 {
            hex::decode(s).ok()
        } else {
            STANDARD.decode(s).ok()
        };
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or(SealError::BadKey)
    }

    /// The base64 form, for writing the key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Seals `plaintext` for the place named by `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        random::fill(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed by [`MasterKey::seal`] with the same key and `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::CannotOpen)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(SealError::CannotOpen);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::CannotOpen)?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SealError::CannotOpen)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_place() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"whsec_secret", b"acme/we_1");
        assert!(
            !sealed.windows(12).any(|w| w == b"whsec_secret"),
            "no plaintext in the sealed bytes"
        );
        assert_eq!(key.open(&sealed, b"acme/we_1").unwrap(), b"whsec_secret");
        assert_eq!(
            key.open(&sealed, b"acme/we_2"),
            Err(SealError::CannotOpen),
            "moved to another row"
        );
        assert_eq!(
            MasterKey::generate().open(&sealed, b"acme/we_1"),
            Err(SealError::CannotOpen),
            "another key"
        );
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(&altered, b"acme/we_1"), Err(SealError::CannotOpen));
        assert_ne!(
            key.seal(b"x", b""),
            key.seal(b"x", b""),
            "fresh nonce each time"
        );
    }

    #[test]
    fn keys_parse_from_base64_or_hex_and_hide_in_debug() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        let again = MasterKey::parse(&b64).unwrap();
        assert_eq!(again.open(&key.seal(b"v", b"a"), b"a").unwrap(), b"v");
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(!format!("{key:?}").contains(&b64));
    }
}
