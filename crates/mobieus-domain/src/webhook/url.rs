//! A webhook target URL that passed the SSRF policy: https, no userinfo, a real port, and
//! a host that is either a public IP literal (in whatever form the URL parser accepts:
//! decimal, octal, hex, short IPv4, every IPv6 form) or a name not in a private zone.
//! Resolving the name and checking every answer happens at each delivery.

use super::ssrf::{self, Denied};
use std::fmt;
use std::net::IpAddr;

/// Whether loopback targets are admitted (development and tests only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopbackPolicy {
    Deny,
    /// Admits http and https to 127.0.0.0/8, ::1 and `localhost` names, nothing else.
    Allow,
}

/// Why a URL may not be a webhook target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnsafeUrl {
    #[error("not an absolute URL")]
    NotUrl,
    #[error("only https URLs are accepted")]
    NotHttps,
    #[error("credentials in the URL are not accepted")]
    UserInfo,
    #[error("port 0 is not a valid port")]
    Port,
    #[error("{0}")]
    Denied(Denied),
}

/// A URL that may be a webhook target.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(s: &str, loopback: LoopbackPolicy) -> Result<Self, UnsafeUrl> {
        let s = s.trim();
        let url = url::Url::parse(s).map_err(|_| UnsafeUrl::NotUrl)?;
        let host = url.host().ok_or(UnsafeUrl::NotUrl)?;
        let to_loopback = match &host {
            url::Host::Ipv4(a) => ssrf::is_loopback(IpAddr::V4(*a)),
            url::Host::Ipv6(a) => ssrf::is_loopback(IpAddr::V6(*a)),
            url::Host::Domain(d) => ssrf::is_localhost_name(d),
        };
        let loopback_ok = loopback == LoopbackPolicy::Allow && to_loopback;
        match url.scheme() {
            "https" => {}
            "http" if loopback_ok => {}
            _ => return Err(UnsafeUrl::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() || authority_has_at(s) {
            return Err(UnsafeUrl::UserInfo);
        }
        if url.port() == Some(0) {
            return Err(UnsafeUrl::Port);
        }
        if !loopback_ok {
            match host {
                url::Host::Ipv4(a) => ssrf::check_address(IpAddr::V4(a)),
                url::Host::Ipv6(a) => ssrf::check_address(IpAddr::V6(a)),
                url::Host::Domain(d) => ssrf::check_host_name(d),
            }
            .map_err(UnsafeUrl::Denied)?;
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL, for an HTTP client that takes one (no second parse).
    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// The host to resolve (`None` for an IP literal, which needs no resolution).
    pub fn domain(&self) -> Option<&str> {
        self.0.domain()
    }

    /// The port to connect to (the scheme's default when none is written).
    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

/// Whether the authority of a URL's text holds an `@`, i.e. a userinfo part. The parser
/// drops an empty one (`https://:@host/`, `https://@host/`) without a trace, so the
/// parsed URL cannot tell; read as it does for http(s): any run of `/` and `\` after the
/// scheme's colon, then the authority, up to the first `/`, `\`, `?` or `#`.
fn authority_has_at(s: &str) -> bool {
    let Some((_, rest)) = s.split_once(':') else {
        return false;
    };
    let rest = rest.trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    rest[..end].contains('@')
}

/// Checks the addresses `host` resolved to: every one must be allowed, or the name is
/// refused (one bad answer is enough for a rebinding attack). Under `Allow`, a
/// `localhost` name must resolve to loopback addresses only.
pub fn check_resolved(
    host: &str,
    addrs: &[IpAddr],
    loopback: LoopbackPolicy,
) -> Result<(), Denied> {
    let local = loopback == LoopbackPolicy::Allow && ssrf::is_localhost_name(host);
    for &ip in addrs {
        if local {
            if !ssrf::is_loopback(ip) {
                return Err(Denied {
                    target: format!("{host} ({ip})"),
                    reason: "a localhost name must resolve to loopback".to_owned(),
                });
            }
        } else {
            ssrf::check_address(ip).map_err(|d| Denied {
                target: format!("{host} ({ip})"),
                reason: d.reason,
            })?;
        }
    }
    Ok(())
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        WebhookUrl::parse(s, LoopbackPolicy::Deny).is_err()
    }

    #[test]
    fn every_unsafe_form_is_refused() {
        for s in [
            "http://hooks.example.com/x",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://user@hooks.example.com/",
            // An empty userinfo, which the parser drops: refused like any other.
            "https://:@hooks.example.com/hook",
            "https://@hooks.example.com/",
            "https://:@hooks.example.com",
            "https:\\\\:@hooks.example.com/",
            "https:/@hooks.example.com/",
            "https://a@b@hooks.example.com/",
            "https://hooks.example.com:0/",
            "https://hooks.example.com:65536/",
            "not a url",
            "https:///nohost",
            // IPv4 literals in every form the URL parser reads
            "https://127.0.0.1/",
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://017700000001/",
            "https://0/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest",
            // IPv6 literals, mapped, compatible, translated, NAT64, 6to4, Teredo
            "https://[::1]/",
            "https://[::]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[::ffff:0:127.0.0.1]/",
            "https://[64:ff9b::127.0.0.1]/",
            "https://[2002:7f00:1::]/",
            "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            // names
            "https://localhost/",
            "https://api.localhost/",
            "https://intranet/",
            "https://metadata.google.internal/",
            "https://db.internal/",
            "https://printer.local/",
            "https://nas.home.arpa/",
        ] {
            assert!(refused(s), "{s} must be refused");
        }
    }

    #[test]
    fn public_https_urls_are_accepted() {
        for s in [
            "https://hooks.example.com/mobieus",
            "https://93.184.215.14:8443/h",
            "https://[2606:4700:4700::1111]/h",
            // An `@` past the authority is part of the path, query or fragment.
            "https://hooks.example.com/a@b?c=@#@",
            "https://hooks.example.com?to=a@b",
            "https://hooks.example.com#@",
        ] {
            assert!(!refused(s), "{s}");
        }
        let u = WebhookUrl::parse("https://hooks.example.com/x", LoopbackPolicy::Deny).unwrap();
        assert_eq!((u.domain(), u.port()), (Some("hooks.example.com"), 443));
    }

    #[test]
    fn a_name_is_refused_when_any_answer_is_denied() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let public = [ip("93.184.216.34"), ip("2606:2800:220:1::1")];
        assert!(check_resolved("hooks.example.com", &public, LoopbackPolicy::Deny).is_ok());
        for bad in [
            "10.0.0.1",
            "169.254.169.254",
            "::ffff:127.0.0.1",
            "fd00::1",
            "127.0.0.1",
        ] {
            let answers = [public[0], ip(bad)];
            let denied = check_resolved("hooks.example.com", &answers, LoopbackPolicy::Deny);
            assert!(denied.is_err(), "{bad} must be refused");
            let allowed = check_resolved("hooks.example.com", &answers, LoopbackPolicy::Allow);
            assert!(
                allowed.is_err(),
                "{bad} must be refused for a public name under Allow"
            );
        }
        let lo = [ip("127.0.0.1"), ip("::1")];
        assert!(check_resolved("localhost", &lo, LoopbackPolicy::Allow).is_ok());
        assert!(check_resolved("localhost", &lo, LoopbackPolicy::Deny).is_err());
        assert!(check_resolved("localhost", &public, LoopbackPolicy::Allow).is_err());
    }

    #[test]
    fn the_loopback_allowance_admits_loopback_only() {
        let allow = |s| WebhookUrl::parse(s, LoopbackPolicy::Allow);
        for s in [
            "http://127.0.0.1:9000/h",
            "https://127.0.0.2/h",
            "http://[::1]:9000/",
            "http://localhost:8080/",
            "https://hooks.localhost/",
        ] {
            assert!(allow(s).is_ok(), "{s}");
        }
        for s in [
            "http://10.0.0.1/",
            "https://192.168.0.1/",
            "http://hooks.example.com/",
            "https://[fe80::1]/",
            "https://db.internal/",
        ] {
            assert!(allow(s).is_err(), "{s}");
        }
    }
}
