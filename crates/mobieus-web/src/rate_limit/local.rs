//! The in-process count: a fixed window of 60 s per key, kept in this process's memory.
//! The only count without `--redis-url`, and the fallback while Redis is unreachable.

use super::Decision;
use mobieus_domain::api_key::{ApiKeyId, RateLimit};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(RateLimit::WINDOW_SECS);
/// Past this many tracked keys, expired windows are swept on the next check.
const SWEEP_AT: usize = 10_000;

/// Request counts per key for the current window.
#[derive(Debug, Default)]
pub(super) struct LocalLimiter {
    windows: Mutex<HashMap<ApiKeyId, Window>>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    used: u32,
}

impl LocalLimiter {
    /// Counts one request of `key` against `limit`.
    pub(super) fn check(&self, key: &ApiKeyId, limit: RateLimit) -> Decision {
        let now = Instant::now();
        let quota = limit.per_minute();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let w = windows.entry(key.clone()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(w.started) >= WINDOW {
            *w = Window {
                started: now,
                used: 0,
            };
        }
        let allowed = w.used < quota;
        if allowed {
            w.used += 1;
        }
        let left = WINDOW.saturating_sub(now.duration_since(w.started));
        Decision {
            allowed,
            quota,
            remaining: quota - w.used,
            // Round up: "retry after 0 seconds" would invite a retry that fails.
            reset_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_within_a_window() {
        let limiter = LocalLimiter::default();
        let key = ApiKeyId::generate();
        let limit = RateLimit::new(2).unwrap();
        let first = limiter.check(&key, limit);
        assert!(first.allowed && first.remaining == 1 && first.reset_secs <= 60);
        assert!(limiter.check(&key, limit).allowed);
        let third = limiter.check(&key, limit);
        assert!(!third.allowed && third.remaining == 0 && third.reset_secs >= 1);
        assert!(
            limiter.check(&ApiKeyId::generate(), limit).allowed,
            "keys are counted apart"
        );
    }
}
