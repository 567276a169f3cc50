//! The retry schedule: entry n is the wait before attempt n (the first is 0: at once).
//! After the last attempt fails the delivery is `failed`. Waits get a little jitter so
//! endpoints that failed together are not retried in lockstep.

use std::time::Duration;

/// The waits before each attempt. Default `0s,1m,5m,30m,2h,6h,24h`: 7 attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// A schedule that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "retry schedule {0:?}: use comma-separated waits such as 0s,1m,5m,30m,2h,6h,24h (units ms, s, m, h, d; 1 to 50 entries)"
)]
pub struct BadSchedule(pub String);

impl Default for RetrySchedule {
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(60 * n);
        Self(vec![
            Duration::ZERO,
            m(1),
            m(5),
            m(30),
            m(120),
            m(360),
            m(1440),
        ])
    }
}

impl RetrySchedule {
    pub fn parse(s: &str) -> Result<Self, BadSchedule> {
        let bad = || BadSchedule(s.to_owned());
        let waits = s
            .split(',')
            .map(|w| parse_duration(w.trim()).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        if waits.is_empty() || waits.len() > 50 {
            return Err(bad());
        }
        Ok(Self(waits))
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    /// The wait before attempt `n` (1-based), or `None` when there is no attempt `n`.
    /// `jitter` in [0, 1) adds up to 10 % of the wait.
    pub fn wait_before(&self, n: u32, jitter: f64) -> Option<Duration> {
        let base = *self.0.get(usize::try_from(n.checked_sub(1)?).ok()?)?;
        Some(base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0)))
    }
}

/// A duration as `<digits><unit>`, unit one of ms, s, m, h, d (`500ms`, `15s`, `2h`).
pub fn parse_duration(w: &str) -> Option<Duration> {
    let split = w.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = w.split_at(split);
    let n: u64 = n.parse().ok()?;
    let ms = match unit {
        "ms" => n,
        "s" => n.checked_mul(1_000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_documented_schedule() {
        assert_eq!(
            RetrySchedule::parse("0s,1m,5m,30m,2h,6h,24h").unwrap(),
            RetrySchedule::default()
        );
        let s = RetrySchedule::default();
        assert_eq!(s.attempts(), 7);
        assert_eq!(s.wait_before(1, 0.0), Some(Duration::ZERO));
        assert_eq!(s.wait_before(2, 0.0), Some(Duration::from_secs(60)));
        assert_eq!(s.wait_before(7, 0.0), Some(Duration::from_secs(86_400)));
        assert_eq!(s.wait_before(8, 0.0), None);
        assert_eq!(s.wait_before(0, 0.0), None);
        assert_eq!(s.wait_before(2, 0.999_999).map(|d| d.as_secs()), Some(65));
    }

    #[test]
    fn bad_schedules_are_refused() {
        for bad in ["", "1x", "m", "1m,,2m", "-1s", "1.5m"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(RetrySchedule::parse("0s, 200ms").unwrap().attempts(), 2);
    }
}
