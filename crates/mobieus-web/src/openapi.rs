//! The OpenAPI 3.1 document, generated from the handlers' annotations and the event
//! catalog (no hand-kept copy), rendered once at start and served as YAML and JSON.

use crate::AppState;
use crate::envelope::{ListMeta, Meta};
use crate::event_schemas::{self, EventDoc, JsonSchemas};
use crate::problem::Problem;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use mobieus_domain::event::EventType;
use mobieus_domain::forum::{Post, PostStatus, Role, Thread, User, UserRef, UserStatus};
use mobieus_domain::time::Timestamp;
use std::borrow::Cow;
use utoipa::openapi::Required;
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Ref, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Tag};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

/// The public API's OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "mobieus API",
        version = "v1",
        description = "The public API of a mobieus community: its event feed, members and posts.\n\n\
Authenticate with an API key in `Authorization: Bearer mc_live_…`. Every response carries `X-Request-Id`; \
every response to a valid key carries the IETF `RateLimit-Policy` and `RateLimit` fields. Errors are RFC 9457 \
problem documents with a stable `code`. Lists take `limit` (1-100, default 25) and `cursor` (from `meta.next_cursor`)."
    ),
    paths(
        crate::api::events::list,
        crate::api::stream::stream,
        crate::api::events::get,
        crate::api::users::list,
        crate::api::users::get,
        crate::api::posts::list,
        crate::api::posts::get,
        crate::api::webhooks::list,
        crate::api::webhooks::create,
        crate::api::webhooks::get,
        crate::api::webhooks::update,
        crate::api::webhooks::delete,
        crate::api::webhooks::rotate_secret,
        crate::api::deliveries::list,
        crate::api::deliveries::get,
        crate::api::resend::test,
        crate::api::resend::replay,
        crate::api::resend::recover,
    ),
    components(schemas(Problem, Meta, ListMeta, EventDoc, User, UserRef, UserStatus, Role, Post, PostStatus, Thread)),
    modifiers(&Extras)
)]
pub struct ApiDoc;

struct Extras;

impl Modify for Extras {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = doc.components.as_mut() {
            let mut bearer = Http::new(HttpAuthScheme::Bearer);
            bearer.bearer_format = Some("mc_live_… or mc_test_…".to_owned());
            bearer.description = Some("An API key minted by the community's operator, with the scopes each operation names.".to_owned());
            components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
        }
        optional_bodies_are_left_out(doc);
        doc.webhooks = Some(event_schemas::webhooks());
        let catalog: String = EventType::CATALOG
            .iter()
            .filter(|i| i.event_type.in_feed())
            .map(|i| format!("- `{}`: {}\n", i.name, i.description))
            .collect();
        doc.tags = Some(vec![
            tag(
                "Events",
                &format!(
                    "The public event feed: every forum action, in order, as it happened. Event types:\n\n{catalog}"
                ),
            ),
            tag("Users", "The community's members."),
            tag("Posts", "Posts in threads."),
            tag(
                "Webhooks",
                "Endpoints that receive every subscribed event as a signed HTTPS request \
                 (`Mobieus-Signature` and the Standard Webhooks `webhook-signature`). \
                 Deliveries are written in the same transaction as their event.",
            ),
            tag(
                "Webhook requests",
                "What an endpoint receives: one `POST` per event, its body the event's exact \
                 JSON (each type's schema is also served alone as JSON Schema, listed at \
                 `/api/schemas/events`), signed in both schemes. Answer with a 2xx status \
                 quickly; a `410` disables the endpoint, and anything else is tried again.",
            ),
        ]);
    }
}

/// An optional request body (`request_body(content = Option<T>)`) is sent empty or not at
/// all, never as JSON `null` (the server answers `400` to that): keep the `required: false`
/// that `Option` gives the body, drop the `null` it also adds to the body's schema.
fn optional_bodies_are_left_out(doc: &mut utoipa::openapi::OpenApi) {
    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.post, &mut item.put, &mut item.patch];
        for body in operations
            .into_iter()
            .flatten()
            .filter_map(|op| match op.request_body.as_mut() {
                Some(RefOr::T(body)) => Some(body),
                _ => None,
            })
            .filter(|body| body.required != Some(Required::True))
        {
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else { continue };
                let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else {
                    continue;
                };
                if let [a, b] = one_of.items.as_slice()
                    && (is_null(a) || is_null(b))
                {
                    content.schema = Some(if is_null(a) { b.clone() } else { a.clone() });
                }
            }
        }
    }
}

fn tag(name: &str, description: &str) -> Tag {
    let mut t = Tag::new(name);
    t.description = Some(description.to_owned());
    t
}

/// The name of a public event type, generated from the catalog.
pub(crate) struct EventTypeName;

impl PartialSchema for EventTypeName {
    fn schema() -> RefOr<Schema> {
        let names = EventType::CATALOG
            .iter()
            .filter(|i| i.event_type.in_feed())
            .map(|i| i.name);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some("A public event type"))
            .into()
    }
}

impl ToSchema for EventTypeName {}

/// What an endpoint subscribes to: `["*"]`, or at least one public event type.
pub(crate) struct EventSelectionDoc;

impl PartialSchema for EventSelectionDoc {
    fn schema() -> RefOr<Schema> {
        let every = ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["*"])),
            )
            .min_items(Some(1))
            .max_items(Some(1))
            .description(Some("Every public event type, present and future"));
        let some = ArrayBuilder::new()
            .items(Ref::from_schema_name(EventTypeName::name()))
            .min_items(Some(1))
            .description(Some("These event types (duplicates are dropped)"));
        OneOfBuilder::new()
            .item(every)
            .item(some)
            .description(Some(
                "Event types to send (at least one), or `[\"*\"]` for every event",
            ))
            .examples([serde_json::json!([
                "post.created",
                "moderation.user_banned"
            ])])
            .into()
    }
}

impl ToSchema for EventSelectionDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventSelection")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((EventTypeName::name().into(), EventTypeName::schema()));
    }
}

/// Paging parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; parsed by QueryParams")]
pub(crate) struct PageParams {
    /// Items per page, 1-100.
    #[param(minimum = 1, maximum = 100, default = 25)]
    limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Parameters of `GET /api/v1/events`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; parsed by QueryParams")]
pub(crate) struct EventListParams {
    /// Only events of these types; repeat the parameter for several.
    #[param(value_type = Option<Vec<EventTypeName>>, explode = true, style = Form)]
    r#type: Option<Vec<String>>,
    /// Only events created at or after this time (RFC 3339).
    since: Option<Timestamp>,
    /// Only events created before this time (RFC 3339).
    until: Option<Timestamp>,
    /// Items per page, 1-100.
    #[param(minimum = 1, maximum = 100, default = 25)]
    limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    cursor: Option<String>,
    /// Start after this event (`evt_…`): resume following the feed from the last event
    /// you processed. Not together with `cursor`.
    after: Option<String>,
}

/// Parameters of `GET /api/v1/events/stream`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; parsed by QueryParams")]
pub(crate) struct EventStreamParams {
    /// Only events of these types; repeat the parameter for several.
    #[param(value_type = Option<Vec<EventTypeName>>, explode = true, style = Form)]
    r#type: Option<Vec<String>>,
    /// Start after this event (`evt_…`). The `Last-Event-ID` header, when sent, wins.
    after: Option<String>,
    /// `start`: replay the whole feed first. Without `after`, `from` or `Last-Event-ID`,
    /// the stream starts with the next event committed.
    #[param(value_type = Option<String>, pattern = "^start$")]
    from: Option<String>,
}

/// Parameters of `GET /api/v1/webhooks/{id}/deliveries`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; parsed by QueryParams")]
pub(crate) struct DeliveryListParams {
    /// Only deliveries in this state.
    #[param(value_type = Option<mobieus_domain::webhook::DeliveryStatus>)]
    status: Option<String>,
    /// Items per page, 1-100.
    #[param(minimum = 1, maximum = 100, default = 25)]
    limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Parameters of `GET /api/v1/posts`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query; parsed by QueryParams")]
pub(crate) struct PostListParams {
    /// Only posts in this thread.
    #[param(minimum = 1)]
    thread: Option<i64>,
    /// Only posts by this member (user id).
    #[param(minimum = 1)]
    author: Option<i64>,
    /// Items per page, 1-100.
    #[param(minimum = 1, maximum = 100, default = 25)]
    limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The document, rendered once.
#[derive(Debug)]
pub struct RenderedSpec {
    pub yaml: String,
    pub json: String,
    /// Each event type's schema alone.
    pub(crate) schemas: JsonSchemas,
}

impl RenderedSpec {
    pub fn render() -> Self {
        let doc = ApiDoc::openapi();
        let value = serde_json::to_value(&doc).unwrap_or_default();
        Self {
            yaml: doc.to_yaml().unwrap_or_default(),
            json: doc.to_pretty_json().unwrap_or_default(),
            schemas: JsonSchemas::render(&value),
        }
    }
}

pub(crate) async fn yaml(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        state.spec.yaml.clone(),
    )
}

pub(crate) async fn json(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.spec.json.clone(),
    )
}
