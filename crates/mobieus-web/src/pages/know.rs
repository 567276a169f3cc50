//! The guides at `/know`: Markdown kept in `docs/know/`, built into the binary and rendered
//! here, and the events reference, made from the event catalog with an example of every
//! type. Served on any host (no tenant needed), like `/api/docs`.

use super::PageError;
use super::layout::{html_page, page};
use axum::extract::Path;
use axum::response::Response;
use maud::{PreEscaped, html};
use mobieus_domain::event::EventType;
use mobieus_domain::event_examples::example;
use mobieus_domain::tenant::TenantSlug;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::fmt::Write;
use std::sync::OnceLock;

/// A guide: its address, title, and Markdown.
struct Guide {
    slug: &'static str,
    title: &'static str,
    summary: &'static str,
    source: fn() -> String,
}

const GUIDES: [Guide; 6] = [
    Guide {
        slug: "api-overview",
        title: "API overview",
        summary: "What the API serves, the envelope, cursors, events, errors and limits.",
        source: || include_str!("../../../../docs/know/api-overview.md").to_owned(),
    },
    Guide {
        slug: "api-authentication",
        title: "Authentication",
        summary: "API keys, scopes, rate limits, and what a refusal looks like.",
        source: || include_str!("../../../../docs/know/api-authentication.md").to_owned(),
    },
    Guide {
        slug: "api-events-reference",
        title: "Events reference",
        summary: "Every event type, what it means, and an example of each.",
        source: events_reference,
    },
    Guide {
        slug: "api-webhooks-quickstart",
        title: "Webhooks quickstart",
        summary: "Register an endpoint, verify signatures (Python and Node), handle retries, rotate secrets.",
        source: || include_str!("../../../../docs/know/api-webhooks-quickstart.md").to_owned(),
    },
    Guide {
        slug: "api-streaming",
        title: "Streaming events",
        summary: "The live stream, mobieus listen, or webhooks: when to use which; consumers that resume (Python and Node).",
        source: || include_str!("../../../../docs/know/api-streaming.md").to_owned(),
    },
    Guide {
        slug: "errors",
        title: "Errors",
        summary: "Every problem code the API answers, and what to do about it.",
        source: || include_str!("../../../../docs/know/errors.md").to_owned(),
    },
];

/// The events reference in Markdown, from the catalog.
fn events_reference() -> String {
    let mut md = String::from(
        "# Events reference\n\nEvery forum action publishes one event, in the feed \
         (`GET /api/v1/events`) and to the webhooks subscribed to its type, with the same \
         bytes. An event is `{\"id\", \"type\", \"api_version\", \"created_at\", \"tenant\", \"data\"}`: \
         `id` is `evt_` and a ULID (time-ordered), also the `webhook-id` of every delivery; \
         `data` carries what the event is about, so no second call is needed. The examples \
         below have the members of real events (a test compares them).\n\n\
         Each type's exact schema is served as JSON Schema (2020-12) at \
         `/api/schemas/events/<type>.json`, listed at [`/api/schemas/events`](/api/schemas/events), \
         and is in the OpenAPI document: the feed's `Event` is a `oneOf` over the types, told \
         apart by `type`, and its `webhooks` section describes the request each type arrives \
         in (headers and expected answers).\n\n",
    );
    let Ok(tenant) = TenantSlug::parse("acme") else {
        return md;
    };
    for info in EventType::CATALOG {
        // Pretty, with the members in the order they are sent.
        let event = example(&tenant, info.event_type);
        let pretty = serde_json::to_string_pretty(&event).unwrap_or_else(|_| event.to_json());
        let _ = write!(
            md,
            "## `{name}` {{#{name}}}\n\n{desc}{only} Schema: [`/api/schemas/events/{name}.json`](/api/schemas/events/{name}.json).\n\n```json\n{pretty}\n```\n\n",
            name = info.name,
            desc = info.description,
            only = if info.event_type.in_feed() {
                ""
            } else {
                " Sent only to the endpoint being tested; never in the feed, and not subscribable."
            },
        );
    }
    md
}

/// Markdown to HTML. Raw HTML in the source is dropped (pulldown-cmark passes it through);
/// a fenced block's second word (```` ```python receiver-python ````) becomes its
/// `data-snippet`, by which tests find the published snippets.
fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES;
    let events = Parser::new_ext(markdown, options).filter_map(|e| match e {
        Event::Html(_) | Event::InlineHtml(_) => None,
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
            let clean = |w: &str| -> String {
                w.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect()
            };
            let mut words = info.split_whitespace();
            let lang = words.next().map(clean).unwrap_or_default();
            let snippet = words
                .next()
                .map(|s| format!(" data-snippet=\"{}\"", clean(s)))
                .unwrap_or_default();
            Some(Event::Html(
                format!("<pre><code class=\"language-{lang}\"{snippet}>").into(),
            ))
        }
        other => Some(other),
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Each guide rendered once.
fn rendered(slug: &str) -> Option<&'static (String, String)> {
    static ALL: OnceLock<Vec<(&'static str, (String, String))>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        GUIDES
            .iter()
            .map(|g| (g.slug, (g.title.to_owned(), render(&(g.source)()))))
            .collect()
    });
    all.iter().find(|(s, _)| *s == slug).map(|(_, page)| page)
}

pub(crate) async fn index() -> Response {
    html_page(page(
        "Guides",
        None,
        html! {
            h1 { "Guides" }
            p.muted { "The API's reference of every operation is at " a href="/api/docs" { "/api/docs" } "." }
            @for g in &GUIDES {
                article.card {
                    h3 { a href={ "/know/" (g.slug) } { (g.title) } }
                    p.muted { (g.summary) }
                }
            }
        },
    ))
}

pub(crate) async fn guide(Path(slug): Path<String>) -> Result<Response, PageError> {
    let (title, body) = rendered(&slug).ok_or(PageError::NotFound("guide"))?;
    Ok(html_page(page(
        title,
        None,
        html! {
            p.muted { a href="/know" { "Guides" } " · " a href="/api/docs" { "API reference" } }
            article.guide { (PreEscaped(body)) }
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_markdown_is_dropped() {
        let html = render("Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
    }

    #[test]
    fn fenced_blocks_name_their_language_and_snippet() {
        let html = render("```python receiver-python\nprint(1 < 2)\n```\n");
        assert!(
            html.contains(r#"<pre><code class="language-python" data-snippet="receiver-python">print(1 &lt; 2)"#),
            "{html}"
        );
    }

    #[test]
    fn every_guide_renders_and_errors_have_anchors() {
        for g in &GUIDES {
            assert!(
                rendered(g.slug).is_some_and(|(_, b)| b.contains("<h1>")),
                "{}",
                g.slug
            );
        }
        let (_, errors) = rendered("errors").unwrap_or_else(|| unreachable!());
        assert!(errors.contains(r#"id="invalid_api_key""#), "{errors}");
        let (_, events) = rendered("api-events-reference").unwrap_or_else(|| unreachable!());
        for info in EventType::CATALOG {
            assert!(
                events.contains(&format!(r#"id="{}""#, info.name)),
                "{}",
                info.name
            );
        }
    }
}
