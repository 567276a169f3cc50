//! The SSRF guard as one value that the API (at registration and on every URL change)
//! and the delivery worker (at every attempt) share: the URL rules of
//! [`WebhookUrl::parse`], then a lookup of the name whose every answer must pass
//! [`check_resolved`]. The lookup is injectable, so tests can make a name resolve to any
//! address without anything being connected to.

use mobieus_domain::webhook::{LoopbackPolicy, UnsafeUrl, WebhookUrl, check_resolved};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

/// How long registration waits for a name to resolve.
const REGISTRATION_LOOKUP: std::time::Duration = std::time::Duration::from_secs(5);

/// A future that resolves a host name.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Resolves a host name to its A and AAAA answers.
pub trait Resolver: Send + Sync + fmt::Debug + 'static {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a>;
}

/// The system resolver (getaddrinfo, A and AAAA).
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host, 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A resolver that resolves nothing, for runs that must not ask any DNS server
/// (conformance fuzzing, isolated tests): every name is "not resolving yet".
#[derive(Debug, Default)]
pub struct NoResolver;

impl Resolver for NoResolver {
    fn lookup<'a>(&'a self, _host: &'a str) -> Lookup<'a> {
        Box::pin(async {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "name resolution is off (--webhook-offline)",
            ))
        })
    }
}

/// Why a target may not be connected to now.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("unsafe webhook URL: {0}")]
    Unsafe(#[from] UnsafeUrl),
    #[error("could not resolve {host}: {source}")]
    Unresolved {
        host: String,
        #[source]
        source: io::Error,
    },
}

/// The URL rules, the loopback allowance and the resolver, together. Cheap to clone.
#[derive(Clone, Debug)]
pub struct UrlGuard {
    resolver: Arc<dyn Resolver>,
    loopback: LoopbackPolicy,
}

impl UrlGuard {
    pub fn new(resolver: Arc<dyn Resolver>, loopback: LoopbackPolicy) -> Self {
        Self { resolver, loopback }
    }

    /// The system resolver (production runs `LoopbackPolicy::Deny`).
    pub fn system(loopback: LoopbackPolicy) -> Self {
        Self::new(Arc::new(SystemResolver), loopback)
    }

    pub fn loopback(&self) -> LoopbackPolicy {
        self.loopback
    }

    /// The URL rules alone: scheme, userinfo, port, IP literals, private names.
    pub fn parse(&self, url: &str) -> Result<WebhookUrl, UnsafeUrl> {
        WebhookUrl::parse(url, self.loopback)
    }

    /// Resolves `host` and vets every answer; these are the only addresses to connect to.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, Refused> {
        let addrs = self
            .resolver
            .lookup(host)
            .await
            .map_err(|source| Refused::Unresolved {
                host: host.to_owned(),
                source,
            })?;
        if addrs.is_empty() {
            return Err(Refused::Unresolved {
                host: host.to_owned(),
                source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
            });
        }
        check_resolved(host, &addrs, self.loopback).map_err(UnsafeUrl::Denied)?;
        Ok(addrs)
    }

    /// A URL being registered or changed: the rules, then its name's answers if it
    /// resolves now. A name that does not resolve yet is accepted; its deliveries fail
    /// until it does.
    pub async fn check_new(&self, url: &str) -> Result<WebhookUrl, UnsafeUrl> {
        let parsed = self.parse(url)?;
        if let Some(host) = parsed.domain() {
            // A resolver that does not answer must not hold the API request: a name that
            // does not resolve in time is treated as one that does not resolve yet.
            match tokio::time::timeout(REGISTRATION_LOOKUP, self.resolve(host)).await {
                Ok(Ok(_) | Err(Refused::Unresolved { .. })) | Err(_) => {}
                Ok(Err(Refused::Unsafe(e))) => return Err(e),
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Debug)]
    struct Fixed(HashMap<&'static str, Vec<IpAddr>>);

    impl Resolver for Fixed {
        fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
            let answer = self
                .0
                .get(host)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "NXDOMAIN"));
            Box::pin(async move { answer })
        }
    }

    fn guard() -> UrlGuard {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let names = HashMap::from([
            ("public.example.com", vec![ip("93.184.216.34")]),
            (
                "mixed.example.com",
                vec![ip("93.184.216.34"), ip("10.1.2.3")],
            ),
            ("meta.example.com", vec![ip("169.254.169.254")]),
        ]);
        UrlGuard::new(Arc::new(Fixed(names)), LoopbackPolicy::Deny)
    }

    #[tokio::test]
    async fn registration_resolves_and_refuses_any_private_answer() {
        let g = guard();
        assert!(g.check_new("https://public.example.com/h").await.is_ok());
        assert!(g.check_new("https://unknown.example.com/h").await.is_ok());
        for url in ["https://mixed.example.com/h", "https://meta.example.com/h"] {
            assert!(
                matches!(g.check_new(url).await, Err(UnsafeUrl::Denied(_))),
                "{url}"
            );
        }
        assert!(matches!(
            g.resolve("unknown.example.com").await,
            Err(Refused::Unresolved { .. })
        ));
    }
}
