//! The SSRF policy: which addresses and host names a webhook may never reach.
//!
//! The address ranges are `ssrf-deny-ranges.txt` beside this file (kept as published,
//! with the source and reason of every range), embedded and parsed once. For IPv6 only
//! global unicast (2000::/3) is left, and the forms that embed an IPv4 address (mapped,
//! compatible, translated, NAT64, 6to4, Teredo) are all denied wholesale.

use crate::ip_range::IpRange;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

const DENY_RANGES: &str = include_str!("ssrf-deny-ranges.txt");

/// Why an address or host name is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// The address or host that was refused.
    pub target: String,
    /// The rule it broke, with its source.
    pub reason: String,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a public destination ({})",
            self.target, self.reason
        )
    }
}

#[derive(Debug)]
struct Range {
    net: IpRange,
    cidr: &'static str,
    why: &'static str,
}

fn parse_range(line: &'static str) -> Option<Range> {
    let (cidr, why) = line.split_once('#').unwrap_or((line, ""));
    let cidr = cidr.trim();
    if cidr.is_empty() {
        return None;
    }
    Some(Range {
        net: IpRange::parse(cidr)?,
        cidr,
        why: why.trim(),
    })
}

/// Every range, parsed once. A line that does not parse is a bug in the shipped list,
/// caught by the tests; it is skipped rather than taking the server down.
static RANGES: LazyLock<Vec<Range>> = LazyLock::new(|| {
    DENY_RANGES
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(parse_range)
        .collect()
});

fn denied_by(ip: IpAddr) -> Option<&'static Range> {
    RANGES.iter().find(|r| r.net.contains(ip))
}

/// Refuses an address in any deny range, checked as written and in its canonical form
/// (an IPv4-mapped IPv6 address is also checked as the IPv4 address it maps).
pub fn check_address(ip: IpAddr) -> Result<(), Denied> {
    let canonical = match ip {
        IpAddr::V6(v6) => v6.to_canonical(),
        v4 => v4,
    };
    match denied_by(ip).or_else(|| denied_by(canonical)) {
        None => Ok(()),
        Some(r) => Err(Denied {
            target: ip.to_string(),
            reason: format!("{}: {}", r.cidr, r.why),
        }),
    }
}

/// Whether `ip` is a loopback address (127.0.0.0/8, ::1, or IPv4-mapped loopback).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => {
            a == Ipv6Addr::LOCALHOST
                || a.to_ipv4_mapped()
                    .is_some_and(|m: Ipv4Addr| m.is_loopback())
        }
    }
}

/// Whether `host` is `localhost` or a name under it (any case, trailing dot or not).
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Refuses host names that name internal services by convention, before any lookup:
/// single labels, `localhost` and `*.localhost`, `metadata.*`, and the `.internal`,
/// `.local`, `.localdomain` and `.home.arpa` zones.
pub fn check_host_name(host: &str) -> Result<(), Denied> {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let deny = |why: &str| {
        Err(Denied {
            target: host.to_owned(),
            reason: why.to_owned(),
        })
    };
    if is_localhost_name(&h) {
        return deny("localhost names the machine itself");
    }
    if !h.contains('.') {
        return deny("a single-label name resolves inside the local network");
    }
    if h.starts_with("metadata.") {
        return deny("metadata.* names cloud metadata services");
    }
    for zone in [".internal", ".local", ".localdomain", ".home.arpa"] {
        // The zone's own name too (`home.arpa` is a name, RFC 8375).
        if h.ends_with(zone) || h == zone[1..] {
            return deny(&format!("{zone} is a private zone"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(s: &str) -> bool {
        check_address(s.parse().unwrap()).is_err()
    }

    #[test]
    fn every_line_of_the_list_parses() {
        let lines = DENY_RANGES
            .lines()
            .filter(|l| {
                !l.trim_start().starts_with('#')
                    && !l.split('#').next().unwrap_or("").trim().is_empty()
            })
            .count();
        assert_eq!(RANGES.len(), lines);
        assert!(RANGES.len() > 60);
    }

    #[test]
    fn private_and_special_addresses_are_denied() {
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.17.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "168.63.129.16",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "4000::1",
            "8000::1",
            // The list denies the whole mapped /96, public IPv4 inside it included.
            "::ffff:1.1.1.1",
        ] {
            assert!(denied(a), "{a} must be denied");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for a in [
            "93.184.215.14",
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
        ] {
            assert!(!denied(a), "{a} is public");
        }
    }

    #[test]
    fn reasons_name_the_range() {
        let e = check_address("169.254.169.254".parse().unwrap()).unwrap_err();
        assert!(e.reason.starts_with("169.254.0.0/16"), "{e}");
    }

    #[test]
    fn internal_host_names_are_denied() {
        for h in [
            "intranet",
            "localhost",
            "api.localhost",
            "metadata.google.internal",
            "metadata.example.com",
            "db.internal",
            "printer.local",
            "x.localdomain",
            "nas.home.arpa",
            "home.arpa",
            "LOCALHOST.",
        ] {
            assert!(check_host_name(h).is_err(), "{h}");
        }
        for h in ["hooks.example.com", "example.org", "a.b.c.example"] {
            assert!(check_host_name(h).is_ok(), "{h}");
        }
    }
}
