//! Members' web accounts: passwords (argon2id), session tokens and their CSRF tokens,
//! and the login throttle's rule. Pure: hashing is computation, the callers decide on
//! which thread it runs (it takes tens of milliseconds by design).

use crate::forum::InvalidValue;
use crate::random;
use crate::time::Timestamp;
use argon2::{Algorithm, Argon2, PasswordHasher as _, PasswordVerifier as _, Version};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A password as typed: 10–200 characters. Never shown: `Debug` redacts it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(InvalidValue {
                field: "password",
                message: "must be at least 10 characters",
            });
        }
        if n > Self::MAX_CHARS {
            return Err(InvalidValue {
                field: "password",
                message: "must be at most 200 characters",
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// A value for checking against a stored hash: any length, since a login checks what
    /// was typed whatever it is (the rules are for choosing a password).
    pub fn typed(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(redacted)")
    }
}

/// argon2id with the OWASP baseline: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

/// A stored password hash in the PHC string format
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, unpadded base64), which other
/// tools read too; written and read by argon2's own `password-hash` API. `Debug`
/// redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes with a fresh random salt (tens of milliseconds: not on an async thread).
    pub fn new(password: &Password) -> Self {
        let mut salt = [0u8; SALT_BYTES];
        random::fill(&mut salt);
        // The parameters are constants within argon2's bounds, so neither step can fail;
        // were they ever wrong, the empty hash verifies nothing.
        let hashed = argon2::Params::new(M_COST_KIB, T_COST, P_COST, Some(HASH_BYTES))
            .ok()
            .map(|params| Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
            .and_then(|a| a.hash_password_with_salt(password.0.as_bytes(), &salt).ok());
        Self(hashed.map(|h| h.to_string()).unwrap_or_default())
    }

    /// A hash read back from storage (checked when verified).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `password` matches, compared in constant time. A malformed hash matches
    /// nothing, and neither does one of another algorithm or version than this server
    /// writes (the costs, salt and length are the stored ones).
    pub fn verify(&self, password: &Password) -> bool {
        let Ok(stored) = argon2::PasswordHash::new(&self.0) else {
            return false;
        };
        stored.algorithm == argon2::ARGON2ID_IDENT
            && stored.version == Some(Version::V0x13.into())
            && Argon2::default()
                .verify_password(password.0.as_bytes(), &stored)
                .is_ok()
    }

    /// The hash a login runs against when the username is unknown, so that an unknown
    /// name takes as long to refuse as a wrong password.
    pub fn decoy() -> &'static PasswordHash {
        static DECOY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
        DECOY.get_or_init(|| PasswordHash::new(&Password::typed("decoy password, never used")))
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(redacted)")
    }
}

/// How long a session lasts from login.
pub const SESSION_DAYS: i64 = 30;

/// A session's token, the value of the session cookie: 43 random base62 characters
/// (256 bits). Stored only as its SHA-256; `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        Self(random::base62(43))
    }

    /// Accepts the shape of a token (does not say whether it is a session's).
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 43 && random::is_base62(s)).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps: the token's SHA-256, hex. Looking a session up by its
    /// hash is an index probe on a value an attacker cannot choose the prefix of.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(redacted)")
    }
}

/// A form's CSRF token: 32 random base62 characters, one per session (or per visitor
/// before logging in), compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl CsrfToken {
    pub fn generate() -> Self {
        Self(random::base62(32))
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32 && random::is_base62(s)).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a submitted value is this token, in constant time.
    pub fn matches(&self, submitted: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(submitted.as_bytes()))
    }
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(redacted)")
    }
}

/// The login throttle: after `MAX_FAILURES` failed logins for one username from one
/// address within `WINDOW_MINUTES`, more are refused until the oldest of them is that old.
pub mod throttle {
    use super::Timestamp;

    pub const MAX_FAILURES: usize = 5;
    pub const WINDOW_MINUTES: i64 = 15;

    /// When logins may be tried again, given the failures within the window (oldest
    /// first); `None` when they may now.
    pub fn locked_until(failures: &[Timestamp], now: Timestamp) -> Option<Timestamp> {
        let window = WINDOW_MINUTES * 60_000;
        let recent: Vec<&Timestamp> = failures
            .iter()
            .filter(|at| at.millis() > now.millis() - window)
            .collect();
        if recent.len() < MAX_FAILURES {
            return None;
        }
        // The failure that must age out for the count to drop below the limit.
        let oldest = recent.get(recent.len() - MAX_FAILURES)?;
        Some(oldest.plus_millis(window))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn passwords_have_a_length_rule_and_never_show() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(201)).is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(redacted)");
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let p = Password::parse("correct horse battery").unwrap();
        let h = PasswordHash::new(&p);
        assert!(h.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(&p));
        assert!(!h.verify(&Password::typed("correct horse batterz")));
        assert_ne!(h, PasswordHash::new(&p), "a fresh salt each time");
        assert!(!format!("{h:?}").contains("argon2"));
        for bad in [
            "",
            "$argon2id$v=19$m=1$$",
            "plain",
            "$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA",
        ] {
            assert!(
                !PasswordHash::from_stored(bad.to_owned()).verify(&p),
                "{bad}"
            );
        }
    }

    /// A hash as the hand-written PHC code before argon2's own API wrote it (fixed salt):
    /// stored hashes go on verifying.
    #[test]
    fn hashes_stored_before_still_verify() {
        let stored = PasswordHash::from_stored(
            "$argon2id$v=19$m=19456,t=2,p=1$bW9iaWV1cy1vbGQtc2FsdA$cCl5IwctvQb5GAmnmDWqAGNamoXs9AUIdFc6Nk3v0E4"
                .to_owned(),
        );
        assert!(stored.verify(&Password::typed("correct horse battery")));
        assert!(!stored.verify(&Password::typed("correct horse batterz")));
    }

    #[test]
    fn costs_come_from_the_stored_string_and_only_argon2id_counts() {
        let p = Password::typed("correct horse battery");
        let phc = |algorithm| {
            let params = argon2::Params::new(64, 1, 1, Some(16)).unwrap();
            let h = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password_with_salt(b"correct horse battery", b"mobieus-salt")
                .unwrap();
            PasswordHash::from_stored(h.to_string())
        };
        let cheap = phc(Algorithm::Argon2id);
        assert!(cheap.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(cheap.verify(&p));
        let argon2i = phc(Algorithm::Argon2i);
        assert!(argon2i.as_str().starts_with("$argon2i$"));
        assert!(!argon2i.verify(&p), "not what this server writes");
    }

    #[test]
    fn session_tokens_are_stored_as_hashes() {
        let t = SessionToken::generate();
        assert_eq!(t.as_str().len(), 43);
        assert_eq!(SessionToken::parse(t.as_str()), Some(t.clone()));
        assert!(SessionToken::parse("short").is_none());
        assert_eq!(t.hash().len(), 64);
        assert!(!t.hash().contains(t.as_str()));
        assert_eq!(format!("{t:?}"), "SessionToken(redacted)");
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        let c = CsrfToken::generate();
        assert!(c.matches(c.as_str()));
        assert!(!c.matches(&c.as_str()[..31]));
        assert!(!c.matches(""));
    }

    #[test]
    fn five_failures_in_the_window_lock_until_the_first_ages_out() {
        let now = Timestamp::from_millis(100 * 60_000);
        let at = |min: i64| Timestamp::from_millis(min * 60_000);
        let four = [at(90), at(91), at(92), at(93)];
        assert_eq!(throttle::locked_until(&four, now), None);
        let five = [at(90), at(91), at(92), at(93), at(94)];
        assert_eq!(throttle::locked_until(&five, now), Some(at(105)));
        // Old failures do not count.
        let old = [at(10), at(91), at(92), at(93), at(94)];
        assert_eq!(throttle::locked_until(&old, now), None);
    }
}
