//! Register, log in, log out, and leave (delete one's account).

use super::layout::{csrf_field, field_error, html_page, page, when};
use super::session::{Form, Viewer};
use super::{PageError, local_path};
use axum::Extension;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mobieus_core::forum::{self, Actor};
use mobieus_core::{CoreError, accounts};
use mobieus_domain::account::Password;
use mobieus_domain::forum::{Email, Username};
use mobieus_store::TenantDb;
use std::collections::HashMap;

fn login_view(viewer: &Viewer, username: &str, next: &str, error: Option<&str>) -> Markup {
    page(
        "Log in",
        Some(viewer),
        html! {
            h1 { "Log in" }
            @if let Some(e) = error { p.flash.error role="alert" { (e) } }
            form.stack method="post" action="/login" {
                (csrf_field(viewer))
                input type="hidden" name="next" value=(next);
                label { "Username" input type="text" name="username" value=(username) autocomplete="username" required autofocus; }
                label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                div { button type="submit" { "Log in" } }
            }
            p.muted { "No account yet? " a href="/register" { "Register" } }
        },
    )
}

pub(super) async fn login_form(
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let next = local_path(query.get("next").map_or("/", String::as_str)).to_owned();
    if viewer.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    html_page(login_view(&viewer, "", &next, None))
}

pub(super) async fn login(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let username = form.text("username").trim();
    let next = local_path(form.text("next")).to_owned();
    let password = Password::typed(form.text("password"));
    match accounts::login(&db, username, &password, &form.viewer.client).await {
        Ok(session) => {
            let cookie = form.viewer.session_cookie(&session.token);
            let mut response = Redirect::to(&next).into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(CoreError::BadCredentials) => {
            let view = login_view(
                &form.viewer,
                username,
                &next,
                Some("Wrong username or password."),
            );
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                html_page(view),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Default)]
struct RegisterErrors {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

fn register_view(viewer: &Viewer, username: &str, email: &str, errors: &RegisterErrors) -> Markup {
    page(
        "Register",
        Some(viewer),
        html! {
            h1 { "Join the forum" }
            form.stack method="post" action="/register" novalidate {
                (csrf_field(viewer))
                label {
                    "Username"
                    input type="text" name="username" value=(username) autocomplete="username" required;
                    span.muted { "1–32 letters, digits, _ - or ., starting with a letter or digit" }
                    (field_error(errors.username.as_deref()))
                }
                label {
                    "E-mail (optional)"
                    input type="email" name="email" value=(email) autocomplete="email";
                    (field_error(errors.email.as_deref()))
                }
                label {
                    "Password"
                    input type="password" name="password" autocomplete="new-password" required;
                    span.muted { "at least 10 characters" }
                    (field_error(errors.password.as_deref()))
                }
                div { button type="submit" { "Register" } }
            }
            p.muted { "Have an account? " a href="/login" { "Log in" } }
        },
    )
}

pub(super) async fn register_form(Extension(viewer): Extension<Viewer>) -> Response {
    if viewer.user.is_some() {
        return Redirect::to("/").into_response();
    }
    html_page(register_view(&viewer, "", "", &RegisterErrors::default()))
}

pub(super) async fn register(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let (username_text, email_text) = (form.text("username").trim(), form.text("email").trim());
    let mut errors = RegisterErrors::default();
    let username = Username::parse(username_text)
        .map_err(|e| errors.username = Some(e.message.to_owned()))
        .ok();
    let email = if email_text.is_empty() {
        Some(None)
    } else {
        Email::parse(email_text)
            .map(Some)
            .map_err(|e| errors.email = Some(e.message.to_owned()))
            .ok()
    };
    let password = Password::parse(form.text("password"))
        .map_err(|e| errors.password = Some(e.message.to_owned()))
        .ok();
    if let (Some(username), Some(email), Some(password)) = (&username, &email, &password) {
        match accounts::register(&db, username, email.as_ref(), password).await {
            Ok(_) => {
                // Logged in at once, with the password just chosen.
                let session =
                    accounts::login(&db, username.as_str(), password, &form.viewer.client).await?;
                let mut response = Redirect::to("/").into_response();
                response.headers_mut().append(
                    header::SET_COOKIE,
                    form.viewer.session_cookie(&session.token),
                );
                return Ok(response);
            }
            Err(CoreError::Conflict(_)) => {
                errors.username = Some("this username is taken".to_owned());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let view = register_view(&form.viewer, username_text, email_text, &errors);
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        html_page(view),
    )
        .into_response())
}

pub(super) async fn logout(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    if let Some(token) = &form.viewer.token {
        accounts::logout(&db, token).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, form.viewer.end_session_cookie());
    Ok(response)
}

fn account_view(viewer: &Viewer, confirm_error: Option<&str>) -> Result<Markup, PageError> {
    let user = viewer.member("/account")?;
    Ok(page(
        "Your account",
        Some(viewer),
        html! {
            h1 { "Your account" }
            div.card {
                p { strong { (user.username) } " " span.badge { (user.role.as_str()) }
                    @if user.banned { " " span.badge.bad { "banned" } } }
                @if let Some(email) = &user.email { p.muted { (email) } }
                p.muted { "Member since " (when(user.joined_at)) }
            }
            h2 { "Leave the forum" }
            p { "Your account is closed and your e-mail address erased. Your posts stay, under your name. This cannot be undone." }
            form method="post" action="/account/leave" {
                (csrf_field(viewer))
                label.check { input type="checkbox" name="confirm" value="yes" required; " I want to leave" }
                (field_error(confirm_error))
                div.actions { button.danger type="submit" { "Delete my account" } }
            }
        },
    ))
}

pub(super) async fn account(Extension(viewer): Extension<Viewer>) -> Result<Response, PageError> {
    Ok(html_page(account_view(&viewer, None)?))
}

pub(super) async fn leave(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let user = form.viewer.member("/account")?;
    if form.text("confirm") != "yes" {
        let view = account_view(&form.viewer, Some("tick \"I want to leave\" to confirm"))?;
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            html_page(view),
        )
            .into_response());
    }
    forum::leave(&db, &Actor::Id(user.id)).await?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, form.viewer.end_session_cookie());
    Ok(response)
}
