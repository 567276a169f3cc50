//! The server-rendered pages: the forum (threads, posts, moderation) and accounts
//! (register, log in and out, leave). Every form carries a CSRF token checked by
//! [`session::Form`]; every write goes through the same `mobieus-core` use case as the
//! CLI, so it emits its event and webhooks the same way.

mod account;
mod admin;
mod errors;
mod forum;
mod know;
mod layout;
mod session;

pub(crate) use errors::PageError;

use crate::AppState;
use crate::tenant;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// A place on this site to send the browser to: a path, never `//host`, a URL or a
/// backslash trick; `/` otherwise.
pub(crate) fn local_path(wanted: &str) -> &str {
    if wanted.starts_with('/') && !wanted.starts_with("//") && !wanted.contains('\\') {
        wanted
    } else {
        "/"
    }
}

/// A position cursor from the query string: digits only, else none (the first page).
pub(crate) fn cursor(query: &std::collections::HashMap<String, String>, name: &str) -> Option<i64> {
    query
        .get(name)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
}

/// The pages, behind the tenant of the `Host` (an HTML 404 for an unknown host) and the
/// visitor's session.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(forum::threads))
        .route(
            "/new",
            get(forum::new_thread_form).post(forum::create_thread),
        )
        .route("/t/{id}", get(forum::thread))
        .route("/t/{id}/reply", post(forum::reply))
        .route("/t/{id}/lock", post(forum::lock))
        .route("/t/{id}/unlock", post(forum::unlock))
        .route("/p/{id}/edit", get(forum::edit_form).post(forum::edit))
        .route("/p/{id}/delete", post(forum::delete))
        .route("/p/{id}/remove", post(forum::remove))
        .route("/u/{id}/ban", post(forum::ban))
        .route("/u/{id}/unban", post(forum::unban))
        .route("/login", get(account::login_form).post(account::login))
        .route(
            "/register",
            get(account::register_form).post(account::register),
        )
        .route("/logout", post(account::logout))
        .route("/account", get(account::account))
        .route("/account/leave", post(account::leave))
        .merge(admin::routes())
        .layer(from_fn_with_state(state.clone(), session::load))
        .layer(from_fn_with_state(state, resolve_tenant))
        .layer(from_fn(security_headers))
}

/// The guides, on any host.
pub(crate) fn know_routes() -> Router<AppState> {
    Router::new()
        .route("/know", get(know::index))
        .route("/know/{slug}", get(know::guide))
        .layer(from_fn(security_headers))
}

/// The pages' one script (copy buttons), served from the binary.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("site.js"),
    )
        .into_response()
}

/// The stylesheet, served from the binary.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("site.css"),
    )
        .into_response()
}

async fn resolve_tenant(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match tenant::tenant_of(&state, tenant::host_of(&req)).await {
        Ok(db) => {
            req.extensions_mut().insert(db);
            next.run(req).await
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// Pages run no inline script and are never framed; pages with a session are not cached.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
