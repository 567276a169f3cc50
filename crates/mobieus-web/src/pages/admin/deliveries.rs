//! One delivery: the payload as sent, every attempt's request headers (the signatures),
//! the answer's status and start, timing, and a button to send it again.

use super::webhooks::{endpoint, endpoint_id};
use super::{admin, admin_page};
use crate::pages::PageError;
use crate::pages::layout::{csrf_field, html_page, when};
use crate::pages::session::{Form, Viewer};
use axum::Extension;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use mobieus_core::resend;
use mobieus_domain::webhook::DeliveryId;
use mobieus_store::TenantDb;

fn delivery_id(raw: &str) -> Result<DeliveryId, PageError> {
    DeliveryId::parse(raw).ok_or(PageError::NotFound("delivery"))
}

pub(super) async fn show(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let did = delivery_id(&delivery)?;
    admin(&viewer, &format!("/admin/webhooks/{id}/deliveries/{did}"))?;
    let e = endpoint(&db, &id).await?;
    let d = db
        .delivery_by_id(&id, &did)
        .await?
        .ok_or(PageError::NotFound("delivery"))?;
    let attempts = db.attempts(&did).await?;
    // The stored bytes, exactly as signed and sent.
    let payload = db
        .event_json(&d.event_id)
        .await?
        .map(|(_, json)| json)
        .unwrap_or_default();
    let base = format!("/admin/webhooks/{id}");
    Ok(html_page(admin_page(
        "Delivery",
        &viewer,
        html! {
            p { a href=(base) { "← " (e.label.as_deref().unwrap_or(&e.url)) } }
            h1 { "Delivery " code { (d.id) } }
            p {
                span.badge.(match d.status.as_str() { "succeeded" => "ok", "pending" => "warn", _ => "bad" }) { (d.status.as_str()) }
                " · " (d.event_type) " · event " code { (d.event_id) } " · made " (when(d.created_at))
                @if let Some(next) = d.next_attempt_at { " · next attempt " (when(next)) }
            }
            form method="post" action={ (base) "/deliveries/" (d.id) "/replay" } {
                (csrf_field(&viewer))
                button type="submit" { "Replay" }
                span.muted { " sends this event to the endpoint again, as a new delivery with fresh signatures." }
            }
            h2 { "Payload" span.muted { " (the exact bytes signed and sent)" } }
            pre.payload { (payload) }
            h2 { "Attempts (" (attempts.len()) ")" }
            @if attempts.is_empty() { p.muted { "Not attempted yet." } }
            @for a in &attempts {
                section.card.attempt {
                    h3 {
                        "Attempt " (a.number) " · "
                        @match a.response_status {
                            Some(s) => span.badge.(if (200..300).contains(&s) { "ok" } else { "bad" }) { "HTTP " (s) },
                            None => span.badge.bad { "no answer" },
                        }
                    }
                    p.muted { (when(a.started_at)) " · " (a.duration_ms) " ms" }
                    @if let Some(err) = &a.error { p.flash.error { (err) } }
                    h4 { "Request headers" }
                    div.scroll {
                        table.headers {
                            tbody {
                                @if let Some(map) = a.request_headers.as_object() {
                                    @for (name, value) in map {
                                        tr { th { code { (name) } } td { code { (value.as_str().unwrap_or("")) } } }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(excerpt) = &a.response_excerpt {
                        h4 { "Response (start)" }
                        pre { (excerpt) }
                    }
                }
            }
        },
    )))
}

pub(super) async fn replay(
    Extension(db): Extension<TenantDb>,
    Path((id, delivery)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    let id = endpoint_id(&id)?;
    let did = delivery_id(&delivery)?;
    admin(&form.viewer, &format!("/admin/webhooks/{id}"))?;
    let new = resend::replay(&db, &id, &did, None).await?.id;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}/deliveries/{new}")).into_response())
}
