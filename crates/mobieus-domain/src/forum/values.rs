//! Values a forum action takes as input, each valid by construction.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that failed its rules; `field` names the input, the message says what is wanted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub message: &'static str,
}

fn invalid(field: &'static str, message: &'static str) -> InvalidValue {
    InvalidValue { field, message }
}

/// A member's role. Moderators and admins moderate; an admin outranks a moderator.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Moderator,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "member" => Ok(Role::Member),
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            _ => Err(invalid("role", "must be member, moderator or admin")),
        }
    }

    pub const fn moderates(self) -> bool {
        matches!(self, Role::Moderator | Role::Admin)
    }
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// A username: 1–32 letters, digits, `_`, `-` or `.`, starting with a letter or digit.
    /// Unique among current members regardless of case.
    Username
);
text_value!(
    /// An e-mail address, as far as a forum checks one: `local@domain`, at most 254 bytes.
    Email
);
text_value!(
    /// A thread title: 1–200 characters after trimming, no control characters.
    Title
);
text_value!(
    /// A post body: 1–20,000 characters after trimming.
    PostBody
);
text_value!(
    /// A moderator's reason: 1–500 characters after trimming.
    Reason
);

fn bounded(
    s: &str,
    field: &'static str,
    max: usize,
    message: &'static str,
) -> Result<String, InvalidValue> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(invalid(field, message));
    }
    Ok(t.to_owned())
}

impl Username {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const MSG: &str =
            "use 1-32 letters, digits, '_', '-' or '.', starting with a letter or digit";
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && s.as_bytes()[0].is_ascii_alphanumeric();
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid("username", MSG))
        }
    }
}

impl Email {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const MSG: &str = "must look like name@example.org";
        let t = s.trim();
        let ok = t.len() <= 254
            && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            && t.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(invalid("email", MSG))
        }
    }
}

impl Title {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        const MSG: &str = "must be 1-200 characters without control characters";
        let t = bounded(s, "title", 200, MSG)?;
        if t.chars().any(char::is_control) {
            return Err(invalid("title", MSG));
        }
        Ok(Self(t))
    }
}

impl PostBody {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        bounded(s, "body", 20_000, "must be 1-20000 characters").map(Self)
    }
}

impl Reason {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        bounded(s, "reason", 500, "must be 1-500 characters").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ann", "Bob_2", "a.b-c", "x"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "_ann", "a b", "ann!", &"a".repeat(33), "é"] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(PostBody::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(PostBody::parse("   ").is_err());
        assert!(Title::parse("a\u{7}b").is_err());
        assert!(Reason::parse(&"r".repeat(501)).is_err());
        assert!(Email::parse("ann@example.org").is_ok());
        assert!(Email::parse("ann@localhost").is_err());
        assert!(Email::parse("a n@example.org").is_err());
    }

    #[test]
    fn roles_rank() {
        assert!(Role::Admin > Role::Moderator && Role::Moderator > Role::Member);
        assert!(Role::Moderator.moderates() && !Role::Member.moderates());
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert!(Role::parse("owner").is_err());
    }
}
