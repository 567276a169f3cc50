//! Why a page could not be shown, rendered as a page (never a stack trace): the status,
//! one sentence, and a way on. A 500 says nothing of its cause; the log has it with the
//! request id.

use super::layout;
use crate::problem::ApiError;
use crate::request_id;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mobieus_core::CoreError;
use mobieus_store::StoreError;

#[derive(Debug)]
pub(crate) enum PageError {
    /// Not logged in: to the login page, and back to `next` after.
    LoginRequired {
        next: String,
    },
    /// A missing or wrong CSRF token, or a form from another site.
    BadCsrf,
    Forbidden(&'static str),
    NotFound(&'static str),
    /// A request no form of ours sends (wrong content type, unreadable body).
    BadRequest(String),
    /// A refusal of the forum's rules or a conflict, shown as is.
    Refused(String),
    Throttled {
        retry_after_secs: u64,
    },
    Internal(String),
}

impl PageError {
    pub(crate) fn login_required(next: &str) -> Self {
        PageError::LoginRequired {
            next: next.to_owned(),
        }
    }
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound { what, .. } => PageError::NotFound(what),
            CoreError::Throttled { retry_after_secs } => PageError::Throttled { retry_after_secs },
            CoreError::Store(e) => e.into(),
            CoreError::Internal(cause) => PageError::Internal(cause),
            // Pages send no idempotency keys.
            other @ (CoreError::Replay(_)
            | CoreError::IdempotencyKeyInUse
            | CoreError::IdempotencyKeyReused) => PageError::Internal(other.to_string()),
            other @ (CoreError::Invalid(_)
            | CoreError::Refused(_)
            | CoreError::Conflict(_)
            | CoreError::BadCredentials) => PageError::Refused(other.to_string()),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(format!("{e}: {:?}", std::error::Error::source(&e)))
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::UnknownTenant => PageError::NotFound("forum at this address"),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            PageError::LoginRequired { next } => {
                let target = format!("/login?next={}", encode(next));
                return Redirect::to(&target).into_response();
            }
            PageError::BadCsrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was missing its security token, or it came from another site. Go back, reload the page and send it again.".to_owned(),
            ),
            PageError::Forbidden(what) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                format!("You are not allowed to {what}."),
            ),
            PageError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("There is no such {what}."),
            ),
            PageError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why.clone()),
            PageError::Refused(why) => (StatusCode::UNPROCESSABLE_ENTITY, "Not done", why.clone()),
            PageError::Throttled { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!(
                    "Too many failed logins. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            ),
            PageError::Internal(cause) => {
                let id = request_id::current();
                tracing::error!(request_id = %id, error = %cause, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    format!("The server failed to show this page. Quote {id} when reporting it."),
                )
            }
        };
        let body = layout::page(
            title,
            None,
            html! {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Back to the forum" } }
            },
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.into_string(),
        )
            .into_response()
    }
}

/// Percent-encodes a path for a query value.
pub(crate) fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
