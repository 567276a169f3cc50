//! `/admin`: the webhook health card (success rate of the last 24 hours, age of the oldest
//! pending delivery, disabled endpoints; each green, amber or red by the thresholds the
//! page states) and deliveries per hour by outcome.

use super::{admin, admin_page};
use crate::pages::PageError;
use crate::pages::layout::html_page;
use crate::pages::session::Viewer;
use axum::Extension;
use axum::response::Response;
use maud::{Markup, html};
use mobieus_domain::time::Timestamp;
use mobieus_store::{DeliveryHealth, TenantDb};

const DAY_MS: i64 = 24 * 3_600_000;

/// Green, amber or red.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Light {
    Green,
    Amber,
    Red,
    /// Nothing to judge (no attempts yet).
    None,
}

impl Light {
    fn class(self) -> &'static str {
        match self {
            Light::Green => "ok",
            Light::Amber => "warn",
            Light::Red => "bad",
            Light::None => "",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Amber => "amber",
            Light::Red => "red",
            Light::None => "no data",
        }
    }
}

/// Success rate: green from 99 %, amber from 95 %, red below.
pub(crate) fn success_light(succeeded: u64, failed: u64) -> Light {
    let total = succeeded + failed;
    if total == 0 {
        return Light::None;
    }
    let rate = succeeded as f64 / total as f64;
    if rate >= 0.99 {
        Light::Green
    } else if rate >= 0.95 {
        Light::Amber
    } else {
        Light::Red
    }
}

/// Oldest pending delivery: green under 5 minutes, amber under an hour, red beyond.
pub(crate) fn backlog_light(age_ms: Option<i64>) -> Light {
    match age_ms {
        None => Light::Green,
        Some(a) if a < 5 * 60_000 => Light::Green,
        Some(a) if a < 3_600_000 => Light::Amber,
        Some(_) => Light::Red,
    }
}

/// Disabled endpoints: green at none, amber at one, red from two.
pub(crate) fn disabled_light(n: u64) -> Light {
    match n {
        0 => Light::Green,
        1 => Light::Amber,
        _ => Light::Red,
    }
}

fn age(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        ..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} days", s / 86_400),
    }
}

fn tile(title: &str, value: &str, light: Light, rule: &str) -> Markup {
    html! {
        div.tile.(light.class()) {
            h3 { (title) }
            p.value { (value) " " span.badge.(light.class()) { (light.word()) } }
            p.muted { (rule) }
        }
    }
}

/// Deliveries per hour, stacked: succeeded below, failed above. An SVG drawn here (no
/// script); the numbers are in each bar's title.
fn chart(h: &DeliveryHealth, since: Timestamp) -> Markup {
    let most = h
        .hourly
        .iter()
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, bar) = (480.0, 120.0, 480.0 / h.hourly.len().max(1) as f64);
    let scale = |n: u64| n as f64 / most as f64 * (height - 4.0);
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-label="Deliveries per hour, last 24 hours" {
                @for (i, (ok, failed)) in h.hourly.iter().enumerate() {
                    @let x = i as f64 * bar;
                    @let hour = since.plus_millis(i as i64 * 3_600_000).to_rfc3339();
                    g {
                        title { (hour.get(..13).unwrap_or("")) ":00 UTC: " (ok) " succeeded, " (failed) " failed" }
                        rect.ok x=(x + 1.0) y=(height - scale(*ok)) width=(bar - 2.0) height=(scale(*ok)) {}
                        rect.failed x=(x + 1.0) y=(height - scale(*ok) - scale(*failed)) width=(bar - 2.0) height=(scale(*failed)) {}
                    }
                }
            }
            figcaption.muted { "Attempts per hour, last 24 hours: " span.key.ok { "succeeded" } " " span.key.failed { "failed" } " (highest hour: " (most) ")" }
        }
    }
}

pub(super) async fn page(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, PageError> {
    admin(&viewer, "/admin")?;
    let now = Timestamp::now();
    let since = Timestamp::from_millis(now.millis() - DAY_MS);
    let h = db.delivery_health(since, now).await?;
    let total = h.succeeded + h.failed;
    let rate = if total == 0 {
        "no attempts".to_owned()
    } else {
        format!("{:.1} %", h.succeeded as f64 * 100.0 / total as f64)
    };
    let oldest = h
        .oldest_pending
        .map(|at| (now.millis() - at.millis()).max(0));
    Ok(html_page(admin_page(
        "Admin",
        &viewer,
        html! {
            h1 { "Webhook health" }
            section.card.health {
                div.tiles {
                    (tile("Success rate, last 24 h", &rate, success_light(h.succeeded, h.failed),
                        "Green from 99 %, amber from 95 %, red below."))
                    (tile("Oldest pending delivery", &oldest.map_or("none pending".to_owned(), age),
                        backlog_light(oldest), "Green under 5 min, amber under 1 h, red beyond."))
                    (tile("Disabled endpoints", &h.disabled_endpoints.to_string(), disabled_light(h.disabled_endpoints),
                        "Green at 0, amber at 1, red from 2."))
                }
                p.muted {
                    (h.succeeded) " attempts succeeded and " (h.failed) " failed in the last 24 hours; "
                    (h.pending) " deliveries pending."
                    @if h.capped { " Counted over the latest 200,000 attempts." }
                }
                (chart(&h, since))
            }
            p { a href="/admin/webhooks" { "Webhook endpoints →" } " " a href="/admin/api-keys" { "API keys →" } }
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_those_the_page_states() {
        assert_eq!(success_light(0, 0), Light::None);
        assert_eq!(success_light(99, 1), Light::Green);
        assert_eq!(success_light(98, 2), Light::Amber);
        assert_eq!(success_light(95, 5), Light::Amber);
        assert_eq!(success_light(94, 6), Light::Red);
        assert_eq!(backlog_light(None), Light::Green);
        assert_eq!(backlog_light(Some(299_999)), Light::Green);
        assert_eq!(backlog_light(Some(300_000)), Light::Amber);
        assert_eq!(backlog_light(Some(3_600_000)), Light::Red);
        assert_eq!(disabled_light(0), Light::Green);
        assert_eq!(disabled_light(1), Light::Amber);
        assert_eq!(disabled_light(2), Light::Red);
    }
}
