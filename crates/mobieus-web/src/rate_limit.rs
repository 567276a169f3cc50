//! Per-key rate limiting: a fixed window of 60 s per key, reported with the IETF
//! RateLimit header fields.
//!
//! Without Redis each node counts on its own ([`local`]): N nodes behind a balancer
//! allow up to N times a key's limit. With `--redis-url` every node counts in one Redis
//! ([`shared`]), so together they allow the key's limit. When Redis does not answer
//! (down, or slower than 200 ms) the check fails open: the request is counted in-process
//! instead, so each node still limits on its own; it is never refused or failed for it.
//! Those checks are counted on `/metrics` and logged at most every 10 s.

mod local;
mod shared;
mod target;

pub use target::RedisTarget;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use local::LocalLimiter;
use mobieus_domain::api_key::{ApiKeyId, RateLimit};
use mobieus_domain::tenant::TenantSlug;
use prometheus_client::metrics::counter::Counter;
use shared::{Counted, SharedError, SharedLimits};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one warning this often while checks fail open.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Counts requests per key: in this process, or in Redis shared by every node.
#[derive(Debug, Default)]
pub struct RateLimiter {
    local: LocalLimiter,
    shared: Option<SharedLimits>,
    /// Checks that failed open, for `/metrics`.
    fail_open: Counter,
    /// When the last warning was logged, and the count of failed-open checks then.
    warned: Mutex<Option<(Instant, u64)>>,
}

/// The outcome of one check, with what the headers report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decision {
    pub allowed: bool,
    pub quota: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

impl RateLimiter {
    /// Each node counts on its own (no `--redis-url`).
    pub fn per_node() -> Self {
        Self::default()
    }

    /// Every node given the same Redis counts in it; the connection is made at the
    /// first check (or [`RateLimiter::connect`]).
    pub fn shared(target: RedisTarget) -> Self {
        Self {
            shared: Some(SharedLimits::new(target)),
            ..Self::default()
        }
    }

    /// Connects to Redis now and says in the log whether limits are shared; never fails
    /// (a node serves without Redis, counting on its own until it answers).
    pub async fn connect(&self) {
        let Some(shared) = &self.shared else {
            tracing::info!("API rate limits are counted per node (no --redis-url)");
            return;
        };
        match shared.connect().await {
            Ok(()) => {
                tracing::info!(redis = %shared.target(), "API rate limits are shared across nodes through Redis");
            }
            Err(e) => {
                tracing::warn!(redis = %shared.target(), error = %Chain(&e), "Redis does not answer: API rate limits are counted per node until it does");
            }
        }
    }

    /// Counts one request of `key` (of `tenant`) against `limit`.
    pub(crate) async fn check(
        &self,
        tenant: &TenantSlug,
        key: &ApiKeyId,
        limit: RateLimit,
    ) -> Decision {
        if let Some(shared) = &self.shared {
            let name = format!("mobieus:rl:{tenant}:{key}");
            match shared.count(&name, RateLimit::WINDOW_SECS * 1000).await {
                Ok(counted) => return Decision::counted(limit, counted),
                Err(e) => self.failed_open(shared, &e),
            }
        }
        self.local.check(key, limit)
    }

    fn failed_open(&self, shared: &SharedLimits, e: &SharedError) {
        let total = self.fail_open.inc() + 1;
        let mut warned = self
            .warned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if warned.is_some_and(|(at, _)| at.elapsed() < WARN_EVERY) {
            return;
        }
        let since = total - warned.map_or(0, |(_, n)| n);
        *warned = Some((Instant::now(), total));
        drop(warned);
        tracing::warn!(redis = %shared.target(), error = %Chain(e), failed_open = since, "API rate limits fall back to this node's count: Redis is unreachable (warned at most every 10 s)");
    }

    /// The count of checks that failed open, for `/metrics`.
    pub(crate) fn fail_opens(&self) -> &Counter {
        &self.fail_open
    }
}

impl Decision {
    /// From the shared count: the request is allowed while the count is within the quota.
    fn counted(limit: RateLimit, counted: Counted) -> Self {
        let quota = limit.per_minute();
        let used = u32::try_from(counted.count).unwrap_or(u32::MAX).min(quota);
        Decision {
            allowed: counted.count <= u64::from(quota),
            quota,
            remaining: quota - used,
            // Round up, and never 0: "retry after 0 seconds" would invite a retry that fails.
            reset_secs: counted
                .left_ms
                .div_ceil(1000)
                .clamp(1, RateLimit::WINDOW_SECS),
        }
    }

    /// `RateLimit-Policy: "key";q=600;w=60` and `RateLimit: "key";r=599;t=60`.
    pub(crate) fn write_headers(&self, headers: &mut HeaderMap) {
        let policy = format!("\"key\";q={};w={}", self.quota, RateLimit::WINDOW_SECS);
        let state = format!("\"key\";r={};t={}", self.remaining, self.reset_secs);
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
}

/// An error with its causes, on one line.
struct Chain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_count_decides_as_the_local_one_would() {
        let limit = RateLimit::new(5).unwrap();
        let d = Decision::counted(
            limit,
            Counted {
                count: 1,
                left_ms: 60_000,
            },
        );
        assert!(d.allowed && d.quota == 5 && d.remaining == 4 && d.reset_secs == 60);
        let d = Decision::counted(
            limit,
            Counted {
                count: 5,
                left_ms: 12_001,
            },
        );
        assert!(d.allowed && d.remaining == 0 && d.reset_secs == 13);
        let d = Decision::counted(
            limit,
            Counted {
                count: 9,
                left_ms: 0,
            },
        );
        assert!(!d.allowed && d.remaining == 0 && d.reset_secs == 1);
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_open_to_the_local_count() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let target = RedisTarget::parse(&format!("redis://:pw@127.0.0.1:{port}")).unwrap();
        let limiter = RateLimiter::shared(target);
        let (tenant, key) = (TenantSlug::parse("acme").unwrap(), ApiKeyId::generate());
        let limit = RateLimit::new(2).unwrap();
        let started = Instant::now();
        let mut allowed = Vec::new();
        for _ in 0..3 {
            allowed.push(limiter.check(&tenant, &key, limit).await.allowed);
        }
        assert_eq!(allowed, [true, true, false], "counted in-process");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(limiter.fail_opens().get(), 3);
    }
}
