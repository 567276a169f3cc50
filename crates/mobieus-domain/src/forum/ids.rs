//! Ids of forum rows. They are database row ids: small, increasing, and shown as integers.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64, example = 42)]
        pub struct $name(pub i64);

        impl $name {
            /// Parses a positive decimal id as the CLI and URL paths give it: digits
            /// only (no sign, no space, no line break), so `3%0A` is not post 3.
            pub fn parse(s: &str) -> Option<Self> {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                s.parse::<i64>().ok().filter(|n| *n > 0).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// A member's id.
    UserId
);
row_id!(
    /// A thread's id.
    ThreadId
);
row_id!(
    /// A post's id.
    PostId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_decimal_digits_only() {
        assert_eq!(PostId::parse("3"), Some(PostId(3)));
        assert_eq!(UserId::parse("42"), Some(UserId(42)));
        for bad in [
            "",
            "0",
            "-3",
            "+3",
            " 3",
            "3 ",
            "3\n",
            "3.0",
            "0x3",
            "99999999999999999999",
        ] {
            assert_eq!(ThreadId::parse(bad), None, "{bad:?}");
        }
    }
}
