//! API-key scopes: what a key may read or manage.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One permission an API key can hold.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "events:read")]
    EventsRead,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "posts:read")]
    PostsRead,
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

/// A scope name that is not in the catalog.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown scope {0:?}; known scopes: events:read, users:read, posts:read, webhooks:read, webhooks:manage"
)]
pub struct UnknownScope(pub String);

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::EventsRead,
        Scope::UsersRead,
        Scope::PostsRead,
        Scope::WebhooksRead,
        Scope::WebhooksManage,
    ];

    /// The scopes that only read: what the demo key gets.
    pub const READ: [Scope; 4] = [
        Scope::EventsRead,
        Scope::UsersRead,
        Scope::PostsRead,
        Scope::WebhooksRead,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::EventsRead => "events:read",
            Scope::UsersRead => "users:read",
            Scope::PostsRead => "posts:read",
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    pub fn parse(s: &str) -> Result<Self, UnknownScope> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| UnknownScope(s.trim().to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty, sorted, duplicate-free set of scopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

/// Why a scope list was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScopesError {
    #[error(transparent)]
    Unknown(#[from] UnknownScope),
    #[error("at least one scope is required")]
    Empty,
}

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Result<Self, ScopesError> {
        let mut v: Vec<Scope> = scopes.into_iter().collect();
        v.sort();
        v.dedup();
        if v.is_empty() {
            Err(ScopesError::Empty)
        } else {
            Ok(Self(v))
        }
    }

    /// Parses a comma-separated list such as `events:read,users:read`.
    pub fn parse_list(s: &str) -> Result<Self, ScopesError> {
        let parsed = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Scope::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(parsed)
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The comma-separated form, as stored and as `parse_list` reads it.
    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_sorted_and_deduplicated() {
        let s = Scopes::parse_list("users:read, events:read,users:read").unwrap();
        assert_eq!(s.to_list(), "events:read,users:read");
        assert!(s.contains(Scope::UsersRead) && !s.contains(Scope::PostsRead));
        assert!(Scopes::parse_list("events:write").is_err());
        assert!(Scopes::parse_list(" , ").is_err());
    }
}
