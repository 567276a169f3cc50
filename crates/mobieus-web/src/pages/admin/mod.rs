//! The admin console (admins only): the webhook health dashboard, API keys, webhook
//! endpoints with their delivery log, and the audit log. Members get a 403 page; logged-out
//! visitors are sent to log in and back. Each change is the core use case the API calls,
//! audit-logged as `admin:<username>`.

mod audit;
mod dashboard;
mod deliveries;
mod keys;
mod webhooks;

use super::PageError;
use super::layout::page;
use super::session::Viewer;
use crate::AppState;
use axum::Router;
use axum::routing::{get, post};
use maud::{Markup, html};
use mobieus_domain::forum::{Role, User};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::page))
        .route("/admin/api-keys", get(keys::list).post(keys::create))
        .route(
            "/admin/api-keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/new", get(webhooks::new_form))
        .route(
            "/admin/webhooks/{id}",
            get(webhooks::show).post(webhooks::edit),
        )
        .route("/admin/webhooks/{id}/test", post(webhooks::send_test))
        .route("/admin/webhooks/{id}/enable", post(webhooks::enable))
        .route("/admin/webhooks/{id}/disable", post(webhooks::disable))
        .route("/admin/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/admin/webhooks/{id}/recover", post(webhooks::recover))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}",
            get(deliveries::show),
        )
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/replay",
            post(deliveries::replay),
        )
        .route("/admin/audit", get(audit::page))
}

/// The admin looking, or why not: the login page (and back to `here`), or 403.
pub(super) fn admin<'a>(viewer: &'a Viewer, here: &str) -> Result<&'a User, PageError> {
    let user = viewer.member(here)?;
    if user.role != Role::Admin || user.banned {
        return Err(PageError::Forbidden("open the admin console"));
    }
    Ok(user)
}

/// Who the audit log names for an admin's change.
pub(super) fn actor(user: &User) -> String {
    format!("admin:{}", user.username)
}

/// An admin page: the console's own navigation above `body`.
pub(super) fn admin_page(title: &str, viewer: &Viewer, body: Markup) -> Markup {
    page(
        title,
        Some(viewer),
        html! {
            nav.subnav aria-label="Admin" {
                a href="/admin" { "Dashboard" }
                a href="/admin/api-keys" { "API keys" }
                a href="/admin/webhooks" { "Webhooks" }
                a href="/admin/audit" { "Audit log" }
            }
            (body)
        },
    )
}
