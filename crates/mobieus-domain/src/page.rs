//! Pagination: the `limit` of a list and its opaque `cursor`.
//!
//! Every list is ordered by an ever-increasing position (the row's sequence number), and
//! a cursor is the position of the last item returned. Rows committed later get larger
//! positions, so following `next_cursor` never repeats or skips an item while new
//! ones arrive.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How many items a list page holds: 1–100, 25 unless asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(u32);

/// A `limit` outside 1–100 or not a number.
#[derive(Debug, thiserror::Error)]
#[error("limit must be a whole number from 1 to 100")]
pub struct BadLimit;

impl Limit {
    pub const DEFAULT: Limit = Limit(25);
    pub const MAX: u32 = 100;

    /// Digits only (no sign, no space), as the documented integer is written.
    pub fn parse(s: &str) -> Result<Self, BadLimit> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadLimit);
        }
        match s.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(BadLimit),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which list a cursor belongs to, so a cursor of one list is refused by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorKind {
    Events,
    Users,
    Posts,
    Webhooks,
    Deliveries,
}

impl CursorKind {
    const fn tag(self) -> &'static str {
        match self {
            CursorKind::Events => "ev",
            CursorKind::Users => "us",
            CursorKind::Posts => "po",
            CursorKind::Webhooks => "wh",
            CursorKind::Deliveries => "dl",
        }
    }
}

/// An opaque position in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    kind: CursorKind,
    after: i64,
}

/// A cursor that this server did not hand out for this list.
#[derive(Debug, thiserror::Error)]
#[error("cursor is not one this list handed out; pass meta.next_cursor back unchanged")]
pub struct BadCursor;

impl Cursor {
    pub const fn after(kind: CursorKind, position: i64) -> Self {
        Self {
            kind,
            after: position,
        }
    }

    /// The position the next page starts after.
    pub const fn position(self) -> i64 {
        self.after
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("1:{}:{}", self.kind.tag(), self.after))
    }

    pub fn decode(kind: CursorKind, s: &str) -> Result<Self, BadCursor> {
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| BadCursor)?;
        let text = std::str::from_utf8(&raw).map_err(|_| BadCursor)?;
        let mut parts = text.split(':');
        let (Some("1"), Some(tag), Some(pos), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BadCursor);
        };
        if tag != kind.tag() {
            return Err(BadCursor);
        }
        match pos.parse::<i64>() {
            Ok(after) if after >= 0 => Ok(Self { kind, after }),
            _ => Err(BadCursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_digits_within_bounds() {
        assert_eq!(Limit::parse("25").map(Limit::get).ok(), Some(25));
        assert_eq!(Limit::parse("100").map(Limit::get).ok(), Some(100));
        for bad in ["", "0", "101", "+5", " 5", "5\n", "-1", "5.0"] {
            assert!(Limit::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(Limit::parse("2").unwrap().get(), 2);
        for bad in ["0", "101", "100000", "-1", "x", ""] {
            assert!(Limit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_strangers() {
        let c = Cursor::after(CursorKind::Events, 42);
        assert_eq!(Cursor::decode(CursorKind::Events, &c.encode()).unwrap(), c);
        assert!(Cursor::decode(CursorKind::Users, &c.encode()).is_err());
        for bad in ["%%not-a-cursor", "", "MTpldjotMQ", "abc"] {
            assert!(Cursor::decode(CursorKind::Events, bad).is_err(), "{bad}");
        }
    }
}
