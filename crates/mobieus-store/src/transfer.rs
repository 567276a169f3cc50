//! What a tenant's export holds, the same on both backends: its tables in an order
//! that satisfies their references, each column with its kind. The backends read a
//! table page by page in its key's order and write rows back with their ids as they
//! were, so references, cursors and event positions survive the move.
//!
//! Left out: idempotency keys and failed logins, which live a day and fifteen minutes.

/// A column's kind; flags are `Bool` (0 or 1 in SQLite, BOOLEAN in Postgres).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// One value of a row (a flag is `Int` 0 or 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A table of a tenant's database.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// The column pages are read in the order of (unique).
    pub key: &'static str,
    /// The column numbered by the database, whose counter must move past the rows
    /// written back.
    pub identity: Option<&'static str>,
}

impl Table {
    /// The columns' names, comma-separated.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A page's statement: up to `limit` rows in key order, after the key bound to `$1`
    /// when `after` (the `$n` parameters both backends take).
    pub(crate) fn page_sql(&self, after: bool, limit: u32) -> String {
        let filter = if after {
            format!("WHERE {} > $1", self.key)
        } else {
            String::new()
        };
        format!(
            "SELECT {} FROM {} {filter} ORDER BY {} LIMIT {limit}",
            self.column_list(),
            self.name,
            self.key
        )
    }

    /// The statement that writes one row back, every column bound in order (`$1`…);
    /// `overriding` goes before `VALUES` (Postgres's `OVERRIDING SYSTEM VALUE`).
    pub(crate) fn insert_sql(&self, overriding: &str) -> String {
        let marks = (1..=self.columns.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) {overriding} VALUES ({marks})",
            self.name,
            self.column_list()
        )
    }

    pub fn by_name(name: &str) -> Option<&'static Table> {
        TABLES.iter().find(|t| t.name == name)
    }
}

use Kind::{Bool, Bytes, Int, Text};

/// Every table an export holds, referenced tables first.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("username", Text),
            ("email", Text),
            ("role", Text),
            ("banned", Bool),
            ("joined_at", Int),
            ("left_at", Int),
            ("password_hash", Text),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "threads",
        columns: &[
            ("id", Int),
            ("title", Text),
            ("author_id", Int),
            ("locked", Bool),
            ("created_at", Int),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "posts",
        columns: &[
            ("id", Int),
            ("thread_id", Int),
            ("author_id", Int),
            ("body", Text),
            ("status", Text),
            ("opens_thread", Bool),
            ("created_at", Int),
            ("edited_at", Int),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "post_revisions",
        columns: &[
            ("id", Int),
            ("post_id", Int),
            ("body", Text),
            ("edited_by", Int),
            ("replaced_at", Int),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "moderation_actions",
        columns: &[
            ("id", Int),
            ("action", Text),
            ("moderator_id", Int),
            ("target_user_id", Int),
            ("target_post_id", Int),
            ("target_thread_id", Int),
            ("reason", Text),
            ("created_at", Int),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "api_events",
        columns: &[
            ("position", Int),
            ("id", Text),
            ("type", Text),
            ("created_at", Int),
            ("payload", Text),
            ("test", Bool),
        ],
        key: "position",
        identity: Some("position"),
    },
    Table {
        name: "api_keys",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("prefix", Text),
            ("key_hash", Bytes),
            ("mode", Text),
            ("scopes", Text),
            ("rate_limit", Int),
            ("created_at", Int),
            ("last_used_at", Int),
            ("revoked_at", Int),
        ],
        key: "id",
        identity: None,
    },
    Table {
        name: "webhook_endpoints",
        columns: &[
            ("id", Text),
            ("position", Int),
            ("url", Text),
            ("label", Text),
            ("events", Text),
            ("active", Bool),
            ("disabled_reason", Text),
            ("disabled_at", Int),
            ("consecutive_failures", Int),
            ("secret", Bytes),
            ("previous_secret", Bytes),
            ("previous_secret_expires_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        key: "position",
        identity: None,
    },
    Table {
        name: "webhook_deliveries",
        columns: &[
            ("position", Int),
            ("id", Text),
            ("event_id", Text),
            ("endpoint_id", Text),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("lease_until", Int),
            ("created_at", Int),
            ("updated_at", Int),
        ],
        key: "position",
        identity: Some("position"),
    },
    Table {
        name: "delivery_attempts",
        columns: &[
            ("id", Int),
            ("delivery_id", Text),
            ("number", Int),
            ("started_at", Int),
            ("duration_ms", Int),
            ("request_headers", Text),
            ("response_status", Int),
            ("response_excerpt", Text),
            ("error", Text),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("target", Text),
            ("details", Text),
        ],
        key: "id",
        identity: Some("id"),
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", Int),
            ("token_hash", Text),
            ("user_id", Int),
            ("csrf_token", Text),
            ("created_at", Int),
            ("expires_at", Int),
        ],
        key: "id",
        identity: Some("id"),
    },
];

/// Whether `row` fits `table`'s columns, kind by kind (NULL fits any).
pub fn fits(table: &Table, row: &[Cell]) -> bool {
    row.len() == table.columns.len()
        && row.iter().zip(table.columns).all(|(cell, (_, kind))| {
            matches!(
                (cell, kind),
                (Cell::Null, _)
                    | (Cell::Int(_), Int)
                    | (Cell::Int(0 | 1), Bool)
                    | (Cell::Text(_), Text)
                    | (Cell::Bytes(_), Bytes)
            )
        })
}
