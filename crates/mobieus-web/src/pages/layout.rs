//! The frame of every page and the pieces forms share.

use super::session::Viewer;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use mobieus_domain::time::Timestamp;

/// A whole page: the header with what the visitor may do, and `body`.
pub(crate) fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · mobieus" }
                link rel="stylesheet" href="/assets/site.css";
                script src="/assets/site.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" {
                        @if let Some(v) = viewer { (v.tenant) } @else { "mobieus" }
                    }
                    nav {
                        @if let Some(v) = viewer {
                            @if let Some(user) = &v.user {
                                a href="/new" { "New thread" }
                                @if user.role == mobieus_domain::forum::Role::Admin { a href="/admin" { "Admin" } }
                                a href="/account" { (user.username) }
                                form method="post" action="/logout" {
                                    (csrf_field(v))
                                    button.link type="submit" { "Log out" }
                                }
                            } @else {
                                a href="/login" { "Log in" }
                                a href="/register" { "Register" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A rendered page as an HTML response.
pub(crate) fn html_page(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.as_str()); }
}

/// A secret shown once: the warning (`lead` in bold, then `rest`), the value in an element
/// with id `id`, and a button that copies it.
pub(crate) fn show_once(id: &str, secret: &str, lead: &str, rest: &str) -> Markup {
    html! {
        div.flash.ok role="alert" { strong { (lead) " " } (rest) }
        div.secret {
            code id=(id) { (secret) }
            " "
            button.secondary type="button" data-copy={ "#" (id) } { "Copy" }
        }
    }
}

/// A message under a field, when the server refused its value.
pub(crate) fn field_error(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message { span.field-error role="alert" { (m) } }
    }
}

/// A time as people read it, with the exact value on hover.
pub(crate) fn when(at: Timestamp) -> Markup {
    let exact = at.to_rfc3339();
    let shown = exact.get(..16).unwrap_or(&exact).replace('T', " ");
    html! { time datetime=(exact) title=(exact) { (shown) " UTC" } }
}
