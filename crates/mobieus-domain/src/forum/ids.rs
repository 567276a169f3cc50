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
            /// Parses a positive decimal id as the CLI and URL paths give it.
            pub fn parse(s: &str) -> Option<Self> {
                s.trim().parse::<i64>().ok().filter(|n| *n > 0).map(Self)
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
