//! Address ranges, in CIDR notation or as one address: the one reading of them, on
//! `ipnet`, shared by the SSRF deny list and the trusted proxies of `serve`.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or a single address (`127.0.0.1` is
/// `127.0.0.1/32`). Host bits below the prefix are ignored, as in `2001:1::1/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange(IpNet);

impl IpRange {
    /// `ADDRESS/BITS` or a bare address; `None` for anything else, a prefix longer than
    /// the address included.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse::<IpNet>()
            .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
            .ok()
            .map(Self)
    }

    /// Whether `ip` is in the range, as written: an IPv4 range holds no IPv6 address,
    /// mapped or not, and the reverse (what a mapped address counts as is the caller's
    /// policy: see [`IpAddr::to_canonical`]).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_contain_what_they_say() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(ip("10.2.3.4")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(
            !r.contains(ip("::ffff:10.2.3.4")),
            "mapped is the caller's call"
        );
        let one = IpRange::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let v6 = IpRange::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!IpRange::parse("::/0").unwrap().contains(ip("8.8.8.8")));
        let host_bits = IpRange::parse("2001:1::1/32").unwrap();
        assert!(host_bits.contains(ip("2001:1::ffff")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "x",
            "10.0.0.0/",
            "/8",
            " 10.0.0.0/8",
        ] {
            assert!(IpRange::parse(bad).is_none(), "{bad:?}");
        }
    }
}
