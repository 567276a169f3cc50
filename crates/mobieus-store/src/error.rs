//! The store's error: database failures keep their source; constraint violations that a
//! caller can act on are named.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; `what` names it (`tenant`, `host`, `username`).
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    #[error("database error")]
    Database(#[source] rusqlite::Error),
    /// A Postgres failure (its message names no credential: the URL is never in it).
    #[error("database error")]
    Postgres(#[source] sqlx::Error),
    /// A commit failed (for a transaction committed with others, the reason they share).
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("cannot open the database: {0}")]
    Migrate(String),
    #[error("cannot use the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The master key could not be read (the message never contains the key).
    #[error("master key: {0}")]
    MasterKey(String),
    /// What this backend does not do (a file snapshot of a Postgres schema).
    #[error("not supported on this backend: {0}")]
    Unsupported(&'static str),
    /// A stored value this version cannot read (a newer version wrote it, or it was edited by hand).
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        crate::sqlite::map_error(e)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        crate::postgres::map_error(e)
    }
}
