//! `/admin/api-keys` (Settings → API keys): the keys (never the keys themselves), minting
//! one with a scope picker and a rate limit (shown once, with a copy button), and revoking
//! one after a confirmation.

use super::{actor, admin, admin_page};
use crate::pages::PageError;
use crate::pages::layout::{csrf_field, field_error, html_page, show_once, when};
use crate::pages::session::{Form, Viewer};
use axum::Extension;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mobieus_core::keys::{self, KeyRequest};
use mobieus_domain::api_key::{ApiKeyId, KeyMode, RateLimit};
use mobieus_domain::scope::{Scope, Scopes};
use mobieus_store::{ApiKeyRecord, TenantDb};

#[derive(Default)]
struct Errors {
    name: Option<String>,
    scopes: Option<String>,
    rate_limit: Option<String>,
}

/// What the form held, to show again with the errors.
struct Typed<'a> {
    name: &'a str,
    scopes: Vec<&'a str>,
    rate_limit: &'a str,
    test: bool,
}

fn list_view(viewer: &Viewer, keys: &[ApiKeyRecord], typed: &Typed<'_>, errors: &Errors) -> Markup {
    admin_page(
        "API keys",
        viewer,
        html! {
            h1 { "API keys" }
            p.muted { "Keys let integrations read the API and manage webhooks. A key is shown once, when it is made; only its prefix is kept to recognise it." }
            div.scroll {
                table {
                    thead { tr { th { "Name" } th { "Prefix" } th { "Scopes" } th { "Limit" } th { "Created" } th { "Last used" } th {} } }
                    tbody {
                        @for k in keys {
                            tr {
                                td { (k.name) @if k.mode == KeyMode::Test { " " span.badge { "test" } } }
                                td { code { (k.prefix) "…" } }
                                td { (k.scopes.to_list().replace(',', ", ")) }
                                td { (k.rate_limit.per_minute()) "/min" }
                                td { (when(k.created_at)) }
                                td { @if let Some(at) = k.last_used_at { (when(at)) } @else { span.muted { "never" } } }
                                td {
                                    @if let Some(at) = k.revoked_at { span.badge.bad { "revoked" } " " (when(at)) }
                                    @else { a href={ "/admin/api-keys/" (k.id.as_str()) "/revoke" } { "Revoke…" } }
                                }
                            }
                        }
                    }
                }
            }
            @if keys.is_empty() { p.muted { "No keys yet." } }
            h2 { "Create a key" }
            form.stack method="post" action="/admin/api-keys" novalidate {
                (csrf_field(viewer))
                label { "Name" input type="text" name="name" value=(typed.name) placeholder="crm-sync" required; (field_error(errors.name.as_deref())) }
                fieldset {
                    legend { "Scopes" }
                    @for s in Scope::ALL {
                        label.check {
                            input type="checkbox" name="scopes" value=(s.as_str()) checked[typed.scopes.contains(&s.as_str())];
                            " " code { (s.as_str()) }
                        }
                    }
                    (field_error(errors.scopes.as_deref()))
                }
                label { "Requests per minute" input type="number" name="rate_limit" min="1" value=(typed.rate_limit); (field_error(errors.rate_limit.as_deref())) }
                label.check { input type="checkbox" name="test" value="yes" checked[typed.test]; " A test key (" code { "mc_test_" } ")" }
                div { button type="submit" { "Create key" } }
            }
        },
    )
}

pub(super) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, PageError> {
    admin(&viewer, "/admin/api-keys")?;
    let keys = keys::list(&db).await?;
    let typed = Typed {
        name: "",
        scopes: Scope::READ.iter().map(|s| s.as_str()).collect(),
        rate_limit: "600",
        test: false,
    };
    Ok(html_page(list_view(
        &viewer,
        &keys,
        &typed,
        &Errors::default(),
    )))
}

pub(super) async fn create(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let user = admin(&form.viewer, "/admin/api-keys")?;
    let typed = Typed {
        name: form.text("name").trim(),
        scopes: form.all("scopes"),
        rate_limit: form.text("rate_limit").trim(),
        test: form.text("test") == "yes",
    };
    let mut errors = Errors::default();
    if typed.name.is_empty()
        || typed.name.chars().count() > 100
        || typed.name.chars().any(char::is_control)
    {
        errors.name = Some("give a name of 1–100 characters".to_owned());
    }
    let scopes = Scopes::parse_list(&typed.scopes.join(","))
        .map_err(|e| {
            errors.scopes = Some(if typed.scopes.is_empty() {
                "pick at least one scope".to_owned()
            } else {
                e.to_string()
            })
        })
        .ok();
    let rate_limit = typed
        .rate_limit
        .parse::<u32>()
        .ok()
        .and_then(|n| RateLimit::new(n).ok());
    if rate_limit.is_none() {
        errors.rate_limit = Some("a whole number of requests per minute, from 1".to_owned());
    }
    let (Some(scopes), Some(rate_limit), None) = (scopes, rate_limit, &errors.name) else {
        let keys = keys::list(&db).await?;
        let view = list_view(&form.viewer, &keys, &typed, &errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response());
    };
    let minted = keys::mint(
        &db,
        KeyRequest {
            actor: actor(user),
            name: typed.name.to_owned(),
            scopes,
            mode: if typed.test {
                KeyMode::Test
            } else {
                KeyMode::Live
            },
            rate_limit,
        },
    )
    .await?;
    let secret = minted.secret.expose();
    Ok(html_page(admin_page(
        "Key created",
        &form.viewer,
        html! {
            h1 { "Key created" }
            (show_once("new-key", secret, "Copy this key now.", "It is shown only once: mobieus keeps its hash, not the key."))
            p { (minted.record.name) ": " (minted.record.scopes.to_list()) ", " (minted.record.rate_limit.per_minute()) " requests a minute." }
            p { a href="/admin/api-keys" { "Back to the keys" } }
        },
    )))
}

async fn find(db: &TenantDb, id: &str) -> Result<ApiKeyRecord, PageError> {
    let id = ApiKeyId::parse(id).ok_or(PageError::NotFound("API key"))?;
    keys::list(db)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(PageError::NotFound("API key"))
}

pub(super) async fn confirm_revoke(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    admin(&viewer, "/admin/api-keys")?;
    let key = find(&db, &id).await?;
    Ok(html_page(admin_page(
        "Revoke key",
        &viewer,
        html! {
            h1 { "Revoke “" (key.name) "”?" }
            p { "Integrations using " code { (key.prefix) "…" } " stop working at once: their requests get "
                code { "401 invalid_api_key" } ". This cannot be undone." }
            form method="post" action={ "/admin/api-keys/" (key.id.as_str()) "/revoke" } {
                (csrf_field(&viewer))
                div.actions {
                    button.danger type="submit" { "Revoke this key" }
                    a href="/admin/api-keys" { "Cancel" }
                }
            }
        },
    )))
}

pub(super) async fn revoke(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let user = admin(&form.viewer, "/admin/api-keys")?;
    let key = find(&db, &id).await?;
    keys::revoke(&db, key.id.as_str(), &actor(user)).await?;
    Ok(Redirect::to("/admin/api-keys").into_response())
}
