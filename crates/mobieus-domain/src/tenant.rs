//! Tenant identity: the slug that names a tenant, and the host names that reach it.

use serde::Serialize;
use std::fmt;

/// A tenant's slug: a DNS label (1–63 lowercase letters, digits and inner hyphens), so
/// that `<slug>.localhost` and `<slug>.example.com` are always valid host names.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

/// Why a slug or host name was refused; the message is shown to the operator as is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error(
        "tenant slug {0:?} is not a DNS label: use 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen"
    )]
    BadSlug(String),
    #[error("host {0:?} is not a valid host name")]
    BadHost(String),
}

impl TenantSlug {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if is_dns_label(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(NameError::BadSlug(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantSlug({})", self.0)
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A host name a tenant is served on, lower-cased, without port or trailing dot.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct HostName(String);

impl HostName {
    /// Parses a configured host name (`support.example.com`). Ports are not part of it.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let lower = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let ok = !lower.is_empty() && lower.len() <= 253 && lower.split('.').all(is_dns_label);
        if ok {
            Ok(Self(lower))
        } else {
            Err(NameError::BadHost(s.to_owned()))
        }
    }

    /// The host part of an HTTP `Host` header value (`Alpha.Localhost:8080` →
    /// `alpha.localhost`); `None` when it is not a host name (an IP literal, garbage).
    pub fn from_host_header(value: &str) -> Option<Self> {
        let host = match value.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => value,
        };
        Self::parse(host).ok()
    }

    /// The tenant slug this host names by the development convention `<slug>.localhost`.
    pub fn localhost_slug(&self) -> Option<TenantSlug> {
        let label = self.0.strip_suffix(".localhost")?;
        TenantSlug::parse(label).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_labels() {
        for ok in ["a", "demo", "acme-2", "x1"] {
            assert!(TenantSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a.b", "ü", &"a".repeat(64)] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_headers_lose_port_and_case() {
        let h = HostName::from_host_header("Alpha.Localhost:8080").unwrap();
        assert_eq!(h.as_str(), "alpha.localhost");
        assert_eq!(h.localhost_slug().unwrap().as_str(), "alpha");
        assert!(
            HostName::from_host_header("support.example.com")
                .unwrap()
                .localhost_slug()
                .is_none()
        );
        assert!(
            HostName::from_host_header("a.b.localhost")
                .unwrap()
                .localhost_slug()
                .is_none()
        );
        assert!(HostName::from_host_header("[::1]:80").is_none());
        assert!(HostName::from_host_header("bad host").is_none());
    }
}
