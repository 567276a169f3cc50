//! The success envelope: `{"data": …, "meta": {"request_id": …}}`, and for lists also
//! `has_more` and `next_cursor` (opaque; `null` at the end).

use crate::request_id;
use axum::Json;
use axum::response::{IntoResponse, Response};
use mobieus_domain::page::{Cursor, CursorKind};
use mobieus_store::Page;
use serde::Serialize;

/// `meta` of a single object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Meta {
    /// The request's id, as in the `X-Request-Id` header.
    pub request_id: String,
}

/// `meta` of a list page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListMeta {
    pub request_id: String,
    /// Whether another page follows.
    pub has_more: bool,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// One object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct One<T> {
    pub data: T,
    pub meta: Meta,
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub meta: ListMeta,
}

impl<T: Serialize> One<T> {
    pub(crate) fn new(data: T) -> Self {
        Self {
            data,
            meta: Meta {
                request_id: request_id::current(),
            },
        }
    }
}

impl<T> List<T> {
    /// A page of `kind`, its items turned into what is shown by `show`.
    pub(crate) fn from_page<S>(kind: CursorKind, page: Page<S>, show: impl FnMut(S) -> T) -> Self {
        let next_cursor = page
            .next_after
            .map(|after| Cursor::after(kind, after).encode());
        Self {
            data: page.items.into_iter().map(show).collect(),
            meta: ListMeta {
                request_id: request_id::current(),
                has_more: next_cursor.is_some(),
                next_cursor,
            },
        }
    }
}

impl<T: Serialize> IntoResponse for One<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

impl<T: Serialize> IntoResponse for List<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// A page of JSON documents the server wrote itself and stored (the event feed), sent
/// byte for byte in the list envelope. Nothing is parsed on the way out: checking each
/// stored document again took a tenth of the CPU of a feed request.
#[derive(Debug)]
pub struct StoredList {
    items: Vec<String>,
    meta: ListMeta,
}

impl StoredList {
    /// A page of `kind` whose items are stored JSON documents.
    pub(crate) fn from_page(kind: CursorKind, page: Page<String>) -> Self {
        let List { data, meta } = List::from_page(kind, page, |json| json);
        Self { items: data, meta }
    }
}

impl IntoResponse for StoredList {
    fn into_response(self) -> Response {
        let size: usize = self.items.iter().map(|i| i.len() + 1).sum();
        let mut body = Vec::with_capacity(size + 160);
        body.extend_from_slice(b"{\"data\":[");
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item.as_bytes());
        }
        body.extend_from_slice(b"],\"meta\":");
        if let Err(e) = serde_json::to_writer(&mut body, &self.meta) {
            return crate::problem::ApiError::Internal(Box::new(e)).into_response();
        }
        body.push(b'}');
        (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    }
}
