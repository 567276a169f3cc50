//! A statement and its parameters, for either backend. The text numbers its parameters
//! `$1`, `$2`, … : Postgres's spelling, which SQLite takes too (as named parameters,
//! numbered in the order they first appear, so a text must name `$1` before `$2`; the
//! debug build checks it on SQLite).

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::PgArguments;
use sqlx::{AssertSqlSafe, Postgres};
use std::borrow::Cow;

/// A parameter's value. Each kind maps to the same column type on both backends: an
/// integer (`BIGINT`), a flag (`BOOLEAN`; 0 or 1 in SQLite), text, or bytes; `None` is a
/// `NULL` of that type (Postgres wants to know which).
#[derive(Clone, Debug)]
pub(crate) enum Arg<'a> {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<Cow<'a, str>>),
    Bytes(Option<Cow<'a, [u8]>>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(Some(Cow::Borrowed(v)))
    }
}

impl<'a> From<Option<&'a [u8]>> for Arg<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        Arg::Bytes(v.map(Cow::Borrowed))
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Int(Some(v)) => ValueRef::Integer(*v),
            Arg::Bool(Some(v)) => ValueRef::Integer(i64::from(*v)),
            Arg::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Arg::Bytes(Some(v)) => ValueRef::Blob(v),
            Arg::Int(None) | Arg::Bool(None) | Arg::Text(None) | Arg::Bytes(None) => ValueRef::Null,
        }))
    }
}

/// A statement's text and its parameters. Built whole (`Stmt::new(…).bind(…)`), or piece by
/// piece for a statement whose shape depends on its input (`push`, `push_bind`).
#[derive(Clone, Debug)]
pub(crate) struct Stmt<'a> {
    text: Cow<'static, str>,
    args: Vec<Arg<'a>>,
}

impl<'a> Stmt<'a> {
    pub(crate) fn new(text: impl Into<Cow<'static, str>>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next parameter (`$1`, then `$2`, …).
    pub(crate) fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends the next parameter's placeholder, bound to `value`.
    pub(crate) fn push_bind(&mut self, value: impl Into<Arg<'a>>) -> &mut Self {
        self.args.push(value.into());
        let n = self.args.len();
        self.text.to_mut().push_str(&format!("${n}"));
        self
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    pub(super) fn args(&self) -> &[Arg<'a>] {
        &self.args
    }

    /// The statement as a Postgres query with its parameters bound.
    pub(super) fn into_query(self) -> sqlx::query::Query<'a, Postgres, PgArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text));
        for arg in self.args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }
}
