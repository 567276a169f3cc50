//! API keys: `mc_live_…` / `mc_test_…` followed by 36 random base62 characters from the
//! OS CSPRNG and a 6-character base62 CRC-32 of them. The checksum lets us (and secret
//! scanners) refuse a mistyped or made-up key without a database look-up. Only the
//! SHA-256 of a key is stored; the plaintext exists once, when it is minted.

use crate::random;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

const RANDOM_LEN: usize = 36;
const CHECKSUM_LEN: usize = 6;
/// How many characters of a key are shown after it was minted, to tell keys apart.
const DISPLAY_LEN: usize = 12;

/// Whether a key is for production or for testing. Both read the same data; the mode
/// lets an integrator tell environments apart at a glance and in secret scanners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    Live,
    Test,
}

impl KeyMode {
    const fn prefix(self) -> &'static str {
        match self {
            KeyMode::Live => "mc_live_",
            KeyMode::Test => "mc_test_",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(KeyMode::Live),
            "test" => Some(KeyMode::Test),
            _ => None,
        }
    }
}

/// A plaintext API key. Its `Debug` never shows the secret part.
#[derive(Clone)]
pub struct ApiKeySecret(String);

/// A string that is not a well-formed API key. Deliberately says nothing more.
#[derive(Debug, thiserror::Error)]
#[error("malformed API key")]
pub struct MalformedKey;

impl ApiKeySecret {
    /// Mints a new key from the OS CSPRNG.
    pub fn generate(mode: KeyMode) -> Self {
        let body = random::base62(RANDOM_LEN);
        let sum = random::base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), CHECKSUM_LEN);
        Self(format!("{}{body}{sum}", mode.prefix()))
    }

    /// Checks the shape and checksum of a presented key. Says nothing about whether it exists.
    pub fn parse(s: &str) -> Result<Self, MalformedKey> {
        let rest = s
            .strip_prefix(KeyMode::Live.prefix())
            .or_else(|| s.strip_prefix(KeyMode::Test.prefix()))
            .ok_or(MalformedKey)?;
        if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !random::is_base62(rest) {
            return Err(MalformedKey);
        }
        let (body, sum) = rest.split_at(RANDOM_LEN);
        let expected =
            random::base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), CHECKSUM_LEN);
        if bool::from(expected.as_bytes().ct_eq(sum.as_bytes())) {
            Ok(Self(s.to_owned()))
        } else {
            Err(MalformedKey)
        }
    }

    /// The plaintext, for the one time it is shown to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn mode(&self) -> KeyMode {
        if self.0.starts_with(KeyMode::Test.prefix()) {
            KeyMode::Test
        } else {
            KeyMode::Live
        }
    }

    /// The non-secret start of the key (`mc_live_AbCd`), shown in listings.
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(DISPLAY_LEN).collect()
    }

    pub fn hash(&self) -> KeyHash {
        KeyHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…[redacted])", self.display_prefix())
    }
}

/// The SHA-256 of a key: what is stored, and what a presented key is compared with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    /// Compares in constant time, so response timing tells nothing about the stored hash.
    pub fn matches(&self, other: &KeyHash) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash([redacted])")
    }
}

/// An API key's public id, `key_` + 16 base62 characters. Not secret.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "key_3kTMd9fQx2LbW7aZ")]
pub struct ApiKeyId(String);

impl ApiKeyId {
    pub fn generate() -> Self {
        Self(format!("key_{}", random::id_base62(16)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("key_")?;
        (rest.len() == 16 && random::is_base62(rest)).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyId({})", self.0)
    }
}

/// Requests per minute a key may make; 600 unless set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RateLimit(u32);

/// A rate limit outside 1..=1,000,000 requests per minute.
#[derive(Debug, thiserror::Error)]
#[error("rate limit must be between 1 and 1000000 requests per minute")]
pub struct BadRateLimit;

impl RateLimit {
    pub const DEFAULT: RateLimit = RateLimit(600);
    /// The window the limit counts over, in seconds.
    pub const WINDOW_SECS: u64 = 60;

    pub fn new(per_minute: u32) -> Result<Self, BadRateLimit> {
        if (1..=1_000_000).contains(&per_minute) {
            Ok(Self(per_minute))
        } else {
            Err(BadRateLimit)
        }
    }

    pub const fn per_minute(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_hash_stably() {
        let k = ApiKeySecret::generate(KeyMode::Live);
        assert!(k.expose().starts_with("mc_live_"));
        assert_eq!(k.expose().len(), 8 + 42);
        let again = ApiKeySecret::parse(k.expose()).unwrap();
        assert!(again.hash().matches(&k.hash()));
        assert_eq!(ApiKeySecret::generate(KeyMode::Test).mode(), KeyMode::Test);
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let k = ApiKeySecret::generate(KeyMode::Live);
        let mut s = k.expose().to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'a' { 'b' } else { 'a' });
        assert!(ApiKeySecret::parse(&s).is_err());
        for bad in [
            "",
            "mc_live_",
            "not-a-key",
            &format!("mc_prod_{}", &k.expose()[8..]),
        ] {
            assert!(ApiKeySecret::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let k = ApiKeySecret::generate(KeyMode::Live);
        let shown = format!("{k:?} {:?}", k.hash());
        assert!(!shown.contains(&k.expose()[12..]));
    }
}
