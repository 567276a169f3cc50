//! `/admin/audit`: who changed what in the integration surface, newest first, filtered by
//! action and by the object acted on.

use super::{admin, admin_page};
use crate::pages::PageError;
use crate::pages::layout::{html_page, when};
use crate::pages::session::Viewer;
use axum::Extension;
use axum::extract::Query;
use axum::response::Response;
use maud::html;
use mobieus_store::{AUDIT_ACTIONS, TenantDb};
use std::collections::HashMap;

const SHOWN: usize = 500;

pub(super) async fn page(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    admin(&viewer, "/admin/audit")?;
    let action = query.get("action").map(String::as_str).unwrap_or("");
    let target = query.get("target").map(|t| t.trim()).unwrap_or("");
    let mut entries = db.audit_log().await?;
    entries.reverse();
    let matching: Vec<_> = entries
        .iter()
        .filter(|e| action.is_empty() || e.action == action)
        .filter(|e| target.is_empty() || e.target.contains(target))
        .take(SHOWN)
        .collect();
    Ok(html_page(admin_page(
        "Audit log",
        &viewer,
        html! {
            h1 { "Audit log" }
            form.filters method="get" action="/admin/audit" {
                label { "Action"
                    select name="action" {
                        option value="" { "any" }
                        @for a in AUDIT_ACTIONS {
                            option value=(a) selected[a == action] { (a) }
                        }
                    }
                }
                label { "Object (id contains)" input type="text" name="target" value=(target); }
                div { button.secondary type="submit" { "Filter" } }
            }
            p.muted { (matching.len()) " entries" @if matching.len() == SHOWN { " (the newest " (SHOWN) ")" } }
            div.scroll {
                table {
                    thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Object" } th { "Details" } } }
                    tbody {
                        @for e in &matching {
                            tr {
                                td { (when(e.at)) }
                                td { code { (e.actor) } }
                                td { (e.action) }
                                td { code { (e.target) } }
                                td { code { (e.details.to_string()) } }
                            }
                        }
                    }
                }
            }
        },
    )))
}
