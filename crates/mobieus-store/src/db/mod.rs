//! The one way a statement reaches either backend: a [`Conn`] runs a [`Stmt`] (text with
//! `$1`-style parameters, which SQLite and Postgres both take) and hands each result
//! [`Row`] to a mapper written once for both drivers.
//!
//! SQLite's statements run on the calling thread (its answers take microseconds, so the
//! futures here are ready at once); Postgres's go over the wire. Nothing above this module
//! names a driver, except where the backends truly differ (see `crate::queries`).

mod row;
mod stmt;

pub(crate) use row::Row;
pub(crate) use stmt::{Arg, Stmt};

use crate::Result;
use rusqlite::params_from_iter;
use sqlx::PgConnection;

/// A connection of either backend, as a statement runs on it: a SQLite connection (a read
/// connection, or the write connection inside its transaction), or the connection of a
/// Postgres transaction pinned to its tenant's schema.
#[derive(Debug)]
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut rusqlite::Connection),
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    /// Every row of `stmt`, mapped by `f`.
    pub(crate) async fn all<T>(
        &mut self,
        stmt: Stmt<'_>,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Conn::Sqlite(c) => sqlite_all(c, &stmt, f),
            Conn::Pg(c) => {
                let rows = stmt.into_query().fetch_all(&mut **c).await?;
                rows.iter().map(|r| f(&Row::pg(r))).collect()
            }
        }
    }

    /// The first row of `stmt`, mapped by `f`. The statement runs to its end (an
    /// `UPDATE … RETURNING` updates every row it matches).
    pub(crate) async fn one<T>(
        &mut self,
        stmt: Stmt<'_>,
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.all(stmt, f).await?.into_iter().next())
    }

    /// Runs a statement that returns no rows; how many rows it changed.
    pub(crate) async fn exec(&mut self, stmt: Stmt<'_>) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => {
                let n = prepare(c, &stmt)?.execute(params_from_iter(stmt.args()))?;
                Ok(u64::try_from(n).unwrap_or(u64::MAX))
            }
            Conn::Pg(c) => Ok(stmt.into_query().execute(&mut **c).await?.rows_affected()),
        }
    }

    /// Whether this is a Postgres connection (for the few statements whose text differs).
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }
}

/// [`Conn::all`] on SQLite: a cached prepared statement, stepped on the calling thread.
fn sqlite_all<T>(
    c: &rusqlite::Connection,
    stmt: &Stmt<'_>,
    mut f: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut prepared = prepare(c, stmt)?;
    let mut rows = prepared.query(params_from_iter(stmt.args()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(&Row::sqlite(row))?);
    }
    Ok(out)
}

/// A cached prepared statement. SQLite numbers `$n` parameters in the order they first
/// appear, so a text that names `$2` before `$1` would bind them swapped: the debug build
/// checks every statement it prepares.
fn prepare<'c>(
    c: &'c rusqlite::Connection,
    stmt: &Stmt<'_>,
) -> Result<rusqlite::CachedStatement<'c>> {
    let prepared = c.prepare_cached(stmt.text())?;
    debug_assert!(
        (1..=prepared.parameter_count())
            .all(|i| prepared.parameter_name(i) == Some(format!("${i}").as_str())),
        "parameters out of order in {}",
        stmt.text()
    );
    Ok(prepared)
}
