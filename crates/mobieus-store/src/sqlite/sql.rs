//! Small helpers over `rusqlite`: run a cached statement and map its rows, and build a
//! statement whose shape depends on its input (lists of values, optional filters).

use crate::Result;
use rusqlite::types::Value;
use rusqlite::{Connection, Params, Row, params_from_iter};

/// Every row of a cached statement, mapped by `f`.
pub(crate) fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    mut f: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

/// The first row of a cached statement, mapped by `f`; the statement runs to its end
/// (an `UPDATE … RETURNING` updates every row it matches).
pub(crate) fn one<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    f: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    Ok(all(c, sql, params, f)?.into_iter().next())
}

/// Runs a cached statement that returns no rows; how many rows it changed.
pub(crate) fn exec(c: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    Ok(c.prepare_cached(sql)?.execute(params)?)
}

/// A statement built piece by piece, its parameters bound in order.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a parameter (`?`) bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.args.push(value.into());
        self
    }

    pub(crate) fn all<T>(
        &self,
        c: &Connection,
        f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        all(c, &self.text, params_from_iter(self.args.iter()), f)
    }
}

/// A text value for [`Sql::bind`].
pub(crate) fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}
