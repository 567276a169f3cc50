//! `/admin/webhooks`: endpoints with their status; registering one (URL, label, events
//! picked from the catalog; the secret shown once); an endpoint's page to edit it in place,
//! send a test, disable or enable it, rotate its secret (shown once, with a grace period),
//! recover failed deliveries since a time, and read its delivery log.

use super::{actor, admin, admin_page};
use crate::AppState;
use crate::pages::PageError;
use crate::pages::layout::{csrf_field, field_error, html_page, show_once, when};
use crate::pages::session::{Form, Viewer};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mobieus_core::webhooks::{self, EndpointChanges, EndpointRequest};
use mobieus_core::{CoreError, resend};
use mobieus_domain::event::{EventType, EventTypeInfo};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryStatus, Endpoint, EndpointId, EventSelection, WebhookUrl};
use mobieus_store::TenantDb;
use std::collections::HashMap;

const LOG_PAGE: u32 = 50;
/// The grace periods offered when rotating a secret, in seconds.
const GRACES: [(u64, &str); 5] = [
    (0, "none: the old secret stops at once"),
    (3600, "1 hour"),
    (86_400, "24 hours"),
    (3 * 86_400, "3 days"),
    (7 * 86_400, "7 days"),
];

pub(super) fn endpoint_id(raw: &str) -> Result<EndpointId, PageError> {
    EndpointId::parse(raw).ok_or(PageError::NotFound("webhook endpoint"))
}

pub(super) async fn endpoint(db: &TenantDb, id: &EndpointId) -> Result<Endpoint, PageError> {
    Ok(db
        .endpoint_by_id(id)
        .await?
        .ok_or(PageError::NotFound("webhook endpoint"))?
        .endpoint)
}

fn status_badge(e: &Endpoint) -> Markup {
    html! {
        @if e.active {
            @if e.consecutive_failures > 0 { span.badge.warn { "failing (" (e.consecutive_failures) ")" } }
            @else { span.badge.ok { "active" } }
        } @else {
            span.badge.bad { "disabled" }
        }
    }
}

/// What an endpoint form held, to show again with the errors.
#[derive(Default)]
struct Typed {
    url: String,
    label: String,
    all_events: bool,
    events: Vec<String>,
}

impl Typed {
    fn of(e: &Endpoint) -> Self {
        Self {
            url: e.url.clone(),
            label: e.label.clone().unwrap_or_default(),
            all_events: e.events == EventSelection::All,
            events: match &e.events {
                EventSelection::All => Vec::new(),
                EventSelection::Types(t) => t.iter().map(|t| t.name().to_owned()).collect(),
            },
        }
    }

    fn read(form: &Form) -> Self {
        Self {
            url: form.text("url").trim().to_owned(),
            label: form.text("label").trim().to_owned(),
            all_events: form.text("all_events") == "yes",
            events: form.all("events").into_iter().map(str::to_owned).collect(),
        }
    }
}

#[derive(Default)]
struct Errors {
    url: Option<String>,
    label: Option<String>,
    events: Option<String>,
    /// The recovery form's time.
    since: Option<String>,
}

/// The URL, label and events fields, with the event picker built from the catalog.
fn endpoint_fields(t: &Typed, errors: &Errors) -> Markup {
    html! {
        label { "URL" input type="url" name="url" value=(t.url) placeholder="https://example.com/webhooks/mobieus" required; (field_error(errors.url.as_deref())) }
        label { "Label (optional)" input type="text" name="label" value=(t.label) maxlength="100"; (field_error(errors.label.as_deref())) }
        fieldset {
            legend { "Events" }
            label.check { input type="checkbox" name="all_events" value="yes" checked[t.all_events]; " Every event, including types added later" }
            @for info in EventType::CATALOG.iter().filter(|i| i.event_type.in_feed()) {
                label.check title=(info.description) {
                    input type="checkbox" name="events" value=(info.name) checked[t.events.iter().any(|e| e == info.name)];
                    " " code { (info.name) }
                }
            }
            (field_error(errors.events.as_deref()))
        }
    }
}

/// Checks an endpoint form: the URL through the SSRF guard, the label, the events.
async fn checked(
    state: &AppState,
    t: &Typed,
) -> Result<(WebhookUrl, Option<String>, EventSelection), Errors> {
    let mut errors = Errors::default();
    let url = match state.guard.check_new(&t.url).await {
        Ok(url) => Some(url),
        Err(e) => {
            errors.url = Some(format!("this URL may not receive webhooks: {e}"));
            None
        }
    };
    let label = (!t.label.is_empty()).then(|| t.label.clone());
    if let Err(e) = crate::api::webhooks::checked_label(label.clone()) {
        errors.label = Some(e.to_string());
    }
    let names: Vec<&str> = if t.all_events {
        vec!["*"]
    } else {
        t.events.iter().map(String::as_str).collect()
    };
    let events = EventSelection::parse(&names)
        .map_err(|e| {
            errors.events = Some(if names.is_empty() {
                "pick at least one event, or every event".to_owned()
            } else {
                e.to_string()
            })
        })
        .ok();
    match (url, events, &errors.label) {
        (Some(url), Some(events), None) => Ok((url, label, events)),
        _ => Err(errors),
    }
}

fn list_view(viewer: &Viewer, endpoints: &[Endpoint]) -> Markup {
    admin_page(
        "Webhooks",
        viewer,
        html! {
            h1 { "Webhooks" }
            p { a.button href="/admin/webhooks/new" { "Register an endpoint" } }
            @if endpoints.is_empty() { p.muted { "No endpoints yet." } }
            @for e in endpoints {
                article.card {
                    h3 { a href={ "/admin/webhooks/" (e.id) } { (e.label.as_deref().unwrap_or(&e.url)) } " " (status_badge(e)) }
                    p.muted { code { (e.url) } " · " (e.events.to_list().replace(',', ", ")) }
                    @if let Some(reason) = &e.disabled_reason { p.muted { "Disabled: " (reason) } }
                }
            }
        },
    )
}

pub(super) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, PageError> {
    admin(&viewer, "/admin/webhooks")?;
    let mut endpoints = Vec::new();
    let mut after = 0;
    loop {
        let page = db.endpoints_page(after, 100).await?;
        endpoints.extend(page.items.into_iter().map(|r| r.endpoint));
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(html_page(list_view(&viewer, &endpoints)))
}

fn new_view(viewer: &Viewer, t: &Typed, errors: &Errors) -> Markup {
    admin_page(
        "Register an endpoint",
        viewer,
        html! {
            h1 { "Register an endpoint" }
            form.stack method="post" action="/admin/webhooks" novalidate {
                (csrf_field(viewer))
                (endpoint_fields(t, errors))
                div { button type="submit" { "Register" } }
            }
        },
    )
}

pub(super) async fn new_form(Extension(viewer): Extension<Viewer>) -> Result<Response, PageError> {
    admin(&viewer, "/admin/webhooks/new")?;
    let t = Typed {
        all_events: true,
        ..Typed::default()
    };
    Ok(html_page(new_view(&viewer, &t, &Errors::default())))
}

/// A secret shown once, with a copy button.
fn secret_view(viewer: &Viewer, title: &str, e: &Endpoint, secret: &str, note: Markup) -> Markup {
    admin_page(
        title,
        viewer,
        html! {
            h1 { (title) }
            (show_once("new-secret", secret, "Copy the signing secret now.", "It is shown only once; receivers verify signatures with it."))
            (note)
            p { a href={ "/admin/webhooks/" (e.id) } { "Go to the endpoint" } }
        },
    )
}

pub(super) async fn create(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let user = admin(&form.viewer, "/admin/webhooks/new")?;
    let typed = Typed::read(&form);
    let (url, label, events) = match checked(&state, &typed).await {
        Ok(ok) => ok,
        Err(errors) => {
            let view = new_view(&form.viewer, &typed, &errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response());
        }
    };
    let created = webhooks::create(
        &db,
        state.store.master_key(),
        EndpointRequest { url, label, events },
        &actor(user),
        None,
    )
    .await?;
    Ok(html_page(secret_view(
        &form.viewer,
        "Endpoint registered",
        &created.endpoint,
        &created.secret.expose(),
        html! { p { "Send it a test from its page to check the receiver." } },
    )))
}

fn show_view(
    viewer: &Viewer,
    e: &Endpoint,
    typed: &Typed,
    errors: &Errors,
    log: &Markup,
    flash: Option<&str>,
) -> Markup {
    let base = format!("/admin/webhooks/{}", e.id);
    admin_page(
        e.label.as_deref().unwrap_or("Endpoint"),
        viewer,
        html! {
            h1 { (e.label.as_deref().unwrap_or("Endpoint")) " " (status_badge(e)) }
            @if let Some(f) = flash { p.flash.ok role="status" { (f) } }
            p.muted { code { (e.id) } " · " code { (e.url) } }
            @if let Some(reason) = &e.disabled_reason { p.flash.error { "Disabled: " (reason) } }
            @if let Some(until) = e.previous_secret_expires_at { p.muted { "The previous secret signs too until " (when(until)) "." } }
            div.actions {
                form method="post" action={ (base) "/test" } {
                    (csrf_field(viewer))
                    label { "Test event "
                        select name="event_type" {
                            @for info in test_types() {
                                option value=(info.name) title=(info.description) selected[info.event_type == EventType::WebhookTest] { (info.name) }
                            }
                        }
                    }
                    button type="submit" { "Send a test" }
                }
                @if e.active {
                    form method="post" action={ (base) "/disable" } { (csrf_field(viewer)) button.secondary type="submit" { "Disable" } }
                } @else {
                    form method="post" action={ (base) "/enable" } { (csrf_field(viewer)) button.secondary type="submit" { "Enable" } }
                }
            }
            h2 { "Delivery log" }
            (log)
            h2 { "Edit" }
            form.stack method="post" action=(base) novalidate {
                (csrf_field(viewer))
                (endpoint_fields(typed, errors))
                div { button type="submit" { "Save changes" } }
            }
            h2 { "Rotate the signing secret" }
            form.stack method="post" action={ (base) "/rotate" } {
                (csrf_field(viewer))
                label { "Keep signing with the old secret too for"
                    select name="grace" {
                        @for (secs, text) in GRACES { option value=(secs) selected[secs == 86_400] { (text) } }
                    }
                }
                div { button.secondary type="submit" { "Rotate secret" } }
            }
            h2 { "Recover failed deliveries" }
            form.stack method="post" action={ (base) "/recover" } {
                (csrf_field(viewer))
                label { "Send again every event whose delivery failed since (UTC)"
                    input type="datetime-local" name="since" required;
                    (field_error(errors.since.as_deref())) }
                div { button.secondary type="submit" { "Recover" } }
            }
        },
    )
}

async fn log_view(
    db: &TenantDb,
    e: &Endpoint,
    query: &HashMap<String, String>,
) -> Result<Markup, PageError> {
    let status = query.get("status").and_then(|s| DeliveryStatus::parse(s));
    let before = crate::pages::cursor(query, "before").unwrap_or(i64::MAX);
    let page = db
        .recent_deliveries(&e.id, status, before, LOG_PAGE)
        .await?;
    let base = format!("/admin/webhooks/{}", e.id);
    let statuses = [
        DeliveryStatus::Pending,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::Cancelled,
    ];
    Ok(html! {
        form.filters method="get" action=(base) {
            label { "Status"
                select name="status" {
                    option value="" { "any" }
                    @for s in statuses { option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) } }
                }
            }
            div { button.secondary type="submit" { "Filter" } }
        }
        div.scroll {
            table {
                thead { tr { th { "Delivery" } th { "Event" } th { "Status" } th { "Attempts" } th { "Created" } } }
                tbody {
                    @for d in &page.items {
                        tr {
                            td { a href={ (base) "/deliveries/" (d.id) } { code { (d.id) } } }
                            td { (d.event_type) }
                            td { span.badge.(match d.status { DeliveryStatus::Succeeded => "ok", DeliveryStatus::Pending => "warn", _ => "bad" }) { (d.status.as_str()) } }
                            td { (d.attempts) }
                            td { (when(d.created_at)) }
                        }
                    }
                }
            }
        }
        @if page.items.is_empty() { p.muted { "No deliveries" @if status.is_some() { " with this status" } "." } }
        @if let Some(next) = page.next_after {
            nav.pager { span {} a href={ (base) "?before=" (next) (status.map(|s| format!("&status={}", s.as_str())).unwrap_or_default()) } { "Older →" } }
        }
    })
}

pub(super) async fn show(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    admin(&viewer, &format!("/admin/webhooks/{id}"))?;
    let e = endpoint(&db, &id).await?;
    let log = log_view(&db, &e, &query).await?;
    let flash = query.get("done").map(|d| match d.as_str() {
        "test" => "A test event is on its way.",
        "saved" => "Saved.",
        "enabled" => "Enabled: deliveries resume.",
        "disabled" => "Disabled: nothing is sent until it is enabled again.",
        "replayed" => "The event is queued again.",
        _ => "Done.",
    });
    Ok(html_page(show_view(
        &viewer,
        &e,
        &Typed::of(&e),
        &Errors::default(),
        &log,
        flash,
    )))
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let user = admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let e = endpoint(&db, &id).await?;
    let typed = Typed::read(&form);
    let (url, label, events) = match checked(&state, &typed).await {
        Ok(ok) => ok,
        Err(errors) => {
            let log = log_view(&db, &e, &HashMap::new()).await?;
            let view = show_view(&form.viewer, &e, &typed, &errors, &log, None);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response());
        }
    };
    let changes = EndpointChanges {
        url: Some(url),
        label: Some(label),
        events: Some(events),
        active: None,
    };
    webhooks::update(&db, &id, changes, &actor(user)).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?done=saved")).into_response())
}

/// The types a test can send: `webhook.test` first (the default), then the catalog's.
fn test_types() -> impl Iterator<Item = &'static EventTypeInfo> {
    let default = EventType::CATALOG
        .iter()
        .filter(|i| i.event_type == EventType::WebhookTest);
    default.chain(
        EventType::CATALOG
            .iter()
            .filter(|i| i.event_type != EventType::WebhookTest),
    )
}

/// Sends the chosen type's example (`webhook.test` when none is chosen) to this endpoint
/// only, whatever it subscribes to.
pub(super) async fn send_test(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let event_type = match form.text("event_type") {
        "" => EventType::WebhookTest,
        name => EventType::parse(name)
            .map_err(|_| PageError::BadRequest("no such event type".to_owned()))?,
    };
    resend::send_test_of(&db, &id, event_type, None).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?done=test")).into_response())
}

async fn set_active(
    db: TenantDb,
    id: String,
    form: Form,
    active: bool,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let user = admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let changes = EndpointChanges {
        active: Some(active),
        ..EndpointChanges::default()
    };
    webhooks::update(&db, &id, changes, &actor(user)).await?;
    let done = if active { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/admin/webhooks/{id}?done={done}")).into_response())
}

pub(super) async fn enable(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_active(db, id, form, true).await
}

pub(super) async fn disable(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_active(db, id, form, false).await
}

pub(super) async fn rotate(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let user = admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let grace: u64 = form
        .text("grace")
        .parse()
        .ok()
        .filter(|g| GRACES.iter().any(|(s, _)| s == g))
        .ok_or_else(|| PageError::Refused("pick one of the grace periods offered".to_owned()))?;
    let secret = webhooks::rotate_secret(
        &db,
        state.store.master_key(),
        &id,
        grace,
        &actor(user),
        None,
    )
    .await?
    .secret;
    let e = endpoint(&db, &id).await?;
    let note = html! {
        @match e.previous_secret_expires_at {
            Some(until) => p { "The old secret signs too (as the second signature) until " (when(until)) "." },
            None => p { "The old secret no longer signs." },
        }
    };
    Ok(html_page(secret_view(
        &form.viewer,
        "Secret rotated",
        &e,
        &secret.expose(),
        note,
    )))
}

/// `YYYY-MM-DDTHH:MM` (a `datetime-local` field), read as UTC.
fn local_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let full = if s.len() == 16 {
        format!("{s}:00Z")
    } else {
        format!("{s}Z")
    };
    Timestamp::parse_rfc3339(&full).ok()
}

pub(super) async fn recover(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let user = admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let e = endpoint(&db, &id).await?;
    let outcome = match local_time(form.text("since")) {
        None => Err("give the time to recover from (UTC)".to_owned()),
        Some(since) => match resend::recover(&db, &id, since, None, &actor(user), None).await {
            Ok(r) => Ok((since, r)),
            Err(err @ (CoreError::Invalid(_) | CoreError::Refused(_) | CoreError::Conflict(_))) => {
                Err(err.to_string())
            }
            Err(err) => return Err(err.into()),
        },
    };
    let (since, recovery) = match outcome {
        Ok(done) => done,
        Err(why) => {
            let errors = Errors {
                since: Some(why),
                ..Errors::default()
            };
            let log = log_view(&db, &e, &HashMap::new()).await?;
            let view = show_view(&form.viewer, &e, &Typed::of(&e), &errors, &log, None);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response());
        }
    };
    let mut query = HashMap::new();
    query.insert("status".to_owned(), "pending".to_owned());
    let log = log_view(&db, &e, &query).await?;
    let text = format!(
        "{} failed deliveries since {} queued again{}.",
        recovery.queued,
        since.to_rfc3339(),
        if recovery.more {
            "; more remain: recover again to go on"
        } else {
            ""
        }
    );
    let view = show_view(
        &form.viewer,
        &e,
        &Typed::of(&e),
        &Errors::default(),
        &log,
        Some(&text),
    );
    Ok(html_page(view))
}
