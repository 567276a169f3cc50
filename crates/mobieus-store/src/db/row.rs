//! A result row of either driver, read by column name or index into the types both
//! drivers decode the same way (`i64`, `bool`, `String`, `Vec<u8>`, and `Option`s of them).
//! Times are Unix milliseconds in an integer column and flags are booleans on both (SQLite
//! keeps them as 0 and 1), so one mapper serves both.

use crate::Result;
use sqlx::postgres::PgRow;
use sqlx::{ColumnIndex, Decode, Postgres, Type};

/// A value both drivers decode.
pub(crate) trait Column:
    rusqlite::types::FromSql + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Column for T where
    T: rusqlite::types::FromSql + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A column's name or index, for both drivers.
pub(crate) trait Index: rusqlite::RowIndex + ColumnIndex<PgRow> {}

impl<T> Index for T where T: rusqlite::RowIndex + ColumnIndex<PgRow> {}

/// One result row.
pub(crate) struct Row<'r>(Inner<'r>);

enum Inner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Pg(&'r PgRow),
}

impl<'r> Row<'r> {
    pub(super) fn sqlite(row: &'r rusqlite::Row<'r>) -> Self {
        Self(Inner::Sqlite(row))
    }

    pub(super) fn pg(row: &'r PgRow) -> Self {
        Self(Inner::Pg(row))
    }

    /// The value of column `col` (a name or a 0-based index).
    pub(crate) fn get<T: Column>(&self, col: impl Index) -> Result<T> {
        match &self.0 {
            Inner::Sqlite(r) => Ok(r.get(col)?),
            Inner::Pg(r) => Ok(sqlx::Row::try_get(*r, col)?),
        }
    }
}
