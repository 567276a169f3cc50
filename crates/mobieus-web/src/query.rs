//! Query-string parsing for list endpoints: repeated parameters, and a clear
//! `invalid_request` naming the parameter for anything malformed or unknown (a typo in
//! a filter should fail loudly, not silently return everything).

use crate::problem::ApiError;
use mobieus_domain::page::{Cursor, CursorKind, Limit};
use mobieus_domain::time::Timestamp;

/// The parameters of one request, consumed as they are read.
#[derive(Debug)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Every value of a repeatable parameter.
    pub(crate) fn all(&mut self, name: &str) -> Vec<String> {
        let (mine, rest) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(k, _)| k == name);
        self.0 = rest;
        mine.into_iter().map(|(_, v)| v).collect()
    }

    /// The value of a parameter given at most once.
    pub(crate) fn one(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut values = self.all(name);
        match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop()),
            _ => Err(ApiError::invalid(name, "may be given only once")),
        }
    }

    pub(crate) fn limit(&mut self) -> Result<Limit, ApiError> {
        self.one("limit")?.map_or(Ok(Limit::DEFAULT), |v| {
            Limit::parse(&v).map_err(|e| ApiError::invalid("limit", e))
        })
    }

    /// The position after which the page starts (0: from the beginning).
    pub(crate) fn cursor(&mut self, kind: CursorKind) -> Result<i64, ApiError> {
        match self.one("cursor")? {
            None => Ok(0),
            Some(v) => Cursor::decode(kind, &v)
                .map(Cursor::position)
                .map_err(|e| ApiError::invalid("cursor", e)),
        }
    }

    pub(crate) fn time(&mut self, name: &str) -> Result<Option<Timestamp>, ApiError> {
        self.one(name)?
            .map(|v| Timestamp::parse_rfc3339(&v).map_err(|e| ApiError::invalid(name, e)))
            .transpose()
    }

    /// Refuses whatever was not read.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        match self.0.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => Err(ApiError::invalid(
                &name,
                "is not a parameter of this endpoint",
            )),
        }
    }
}
