//! Every event type's exact shape, generated from the catalog: one schema per type in the
//! OpenAPI document (the feed's `Event` is a `oneOf` over them, told apart by `type`), a
//! `webhooks` entry per type (the request we send: its body, headers and the answers we
//! expect), and each type alone as JSON Schema 2020-12 under `/api/schemas/events`.
//!
//! A member added to an event's data must be added here too: the tests validate real
//! events of every type, and real webhook requests, against these schemas, and refuse a
//! member the schema does not name.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use mobieus_domain::event::{API_VERSION, EventType, PreviousPost};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;
use utoipa::openapi::path::Paths;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// The shape of an event id (`EventId::parse`).
const EVENT_ID: &str = "^evt_[0-9A-Z]{26}$";

/// Where a schema component is referenced from.
const COMPONENTS: &str = "#/components/schemas/";

/// The component name of an event type's schema: `post.created` → `PostCreatedEvent`.
fn event_component(t: EventType) -> String {
    format!("{}Event", pascal(t.name()))
}

/// The component name of an event type's `data`: `post.created` → `PostCreatedData`.
fn data_component(t: EventType) -> String {
    format!("{}Data", pascal(t.name()))
}

/// `moderation.user_banned` → `ModerationUserBanned`.
fn pascal(name: &str) -> String {
    name.split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn reference(component: &str) -> Value {
    json!({ "$ref": format!("{COMPONENTS}{component}") })
}

/// The members of each type's `data`, all always present. A `match` with no catch-all: a
/// new event type does not compile until its data is described here.
fn data_members(t: EventType) -> Vec<(&'static str, Value)> {
    let user = ("user", reference("User"));
    let actor = ("actor", reference("UserRef"));
    let post = ("post", reference("Post"));
    let thread = ("thread", reference("Thread"));
    let reason = (
        "reason",
        json!({
            "type": ["string", "null"],
            "description": "The moderator's reason; `null` when none was given.",
        }),
    );
    match t {
        EventType::UserJoined | EventType::UserLeft => vec![user],
        EventType::PostCreated | EventType::PostDeleted => vec![post, thread, actor],
        EventType::PostEdited => vec![
            post,
            thread,
            actor,
            ("previous", reference(&PreviousPost::name())),
        ],
        EventType::UserBanned | EventType::UserUnbanned => vec![user, actor, reason],
        EventType::PostRemoved => vec![post, thread, actor, reason],
        EventType::ThreadLocked | EventType::ThreadUnlocked => vec![thread, actor, reason],
        EventType::WebhookTest => vec![(
            "message",
            json!({ "type": "string", "description": "A line saying this is a test." }),
        )],
    }
}

fn data_schema(t: EventType) -> RefOr<Schema> {
    object(
        ObjectBuilder::new().description(Some(format!("The data of a `{}` event.", t.name()))),
        data_members(t),
    )
    .into()
}

/// An object whose members are all required, in this order.
fn object(builder: ObjectBuilder, members: Vec<(&'static str, Value)>) -> ObjectBuilder {
    members
        .into_iter()
        .fold(builder.schema_type(Type::Object), |b, (name, schema)| {
            b.property(name, to_schema(schema)).required(name)
        })
}

fn event_schema(t: EventType) -> RefOr<Schema> {
    let test = to_schema(json!({
        "type": "boolean",
        "description": "Present, and `true`, only on a test send of a catalog type to one endpoint (`POST /api/v1/webhooks/{id}/test` with `event_type`); such an event is never in the feed. Absent on every other event.",
    }));
    let envelope = vec![
        (
            "id",
            json!({
                "type": "string",
                "pattern": EVENT_ID,
                "description": "Stable id, `evt_…`; also the `webhook-id` of its deliveries.",
                "example": "evt_01JW3K8Q9Z7M5T2V4X6Y8A0B1C",
            }),
        ),
        ("type", json!({ "type": "string", "enum": [t.name()] })),
        (
            "api_version",
            json!({
                "type": "string",
                "description": "The API version the event was written with (a date); its shape follows that version.",
                "example": API_VERSION,
            }),
        ),
        ("created_at", reference("Timestamp")),
        (
            "tenant",
            json!({
                "type": "string",
                "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
                "description": "The community's slug.",
                "example": "acme",
            }),
        ),
        ("data", reference(&data_component(t))),
    ];
    let builder = ObjectBuilder::new()
        .title(Some(t.name()))
        .description(Some(t.description()));
    // `test` alone is optional.
    object(builder, envelope).property("test", test).into()
}

/// A schema written as JSON, as utoipa's type. Written here, it always converts: a
/// mistake shows at once as an empty schema in the document's snapshot test.
fn to_schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).unwrap_or_else(|e| {
        tracing::error!(error = %e, "an event schema does not convert");
        ObjectBuilder::new().into()
    })
}

/// The feed's event: one of the public types, told apart by `type`.
pub(crate) struct EventDoc;

impl PartialSchema for EventDoc {
    fn schema() -> RefOr<Schema> {
        let feed = || EventType::CATALOG.iter().filter(|i| i.event_type.in_feed());
        let mapping: Map<String, Value> = feed()
            .map(|i| {
                let target = format!("{COMPONENTS}{}", event_component(i.event_type));
                (i.name.to_owned(), Value::String(target))
            })
            .collect();
        to_schema(json!({
            "description": "A public event (a feed item, and the body of a webhook request): one of the event types, told apart by `type`.",
            "oneOf": feed().map(|i| reference(&event_component(i.event_type))).collect::<Vec<_>>(),
            "discriminator": { "propertyName": "type", "mapping": mapping },
        }))
    }
}

impl ToSchema for EventDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Event")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for i in &EventType::CATALOG {
            let t = i.event_type;
            schemas.push((event_component(t), event_schema(t)));
            schemas.push((data_component(t), data_schema(t)));
        }
        schemas.push((PreviousPost::name().into(), PreviousPost::schema()));
        PreviousPost::schemas(schemas);
    }
}

/// The document's `webhooks`: the request each event type arrives in.
pub(crate) fn webhooks() -> Paths {
    let typed = |description: &str, schema: Value, example: &str| {
        json!({ "in": "header", "required": true, "description": description,
                "schema": schema, "example": example })
    };
    let header =
        |description: &str, example: &str| typed(description, json!({ "type": "string" }), example);
    let event_id = json!({ "type": "string", "pattern": EVENT_ID });
    let parameters = [
        (
            "Mobieus-Signature",
            header(
                "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">`, with `,v1_prev=<hex>` during a secret rotation's grace window.",
                "t=1716537600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
            ),
        ),
        (
            "webhook-id",
            typed(
                "Standard Webhooks: the event id, the same on every attempt (deduplicate on it).",
                event_id.clone(),
                "evt_01JW3K8Q9Z7M5T2V4X6Y8A0B1C",
            ),
        ),
        (
            "webhook-timestamp",
            typed(
                "Standard Webhooks: when the request was signed, Unix seconds.",
                json!({ "type": "string", "pattern": "^[0-9]+$" }),
                "1716537600",
            ),
        ),
        (
            "webhook-signature",
            header(
                "Standard Webhooks: `v1,<base64>`, a second `v1,<base64>` during a rotation; verify with any Standard Webhooks library.",
                "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
            ),
        ),
        ("Mobieus-Event", header("The event's type.", "post.created")),
        (
            "Mobieus-Event-Id",
            typed(
                "The event's id, as `webhook-id`.",
                event_id,
                "evt_01JW3K8Q9Z7M5T2V4X6Y8A0B1C",
            ),
        ),
        (
            "Mobieus-Delivery-Id",
            typed(
                "This delivery's id: the event to this endpoint.",
                json!({ "type": "string", "pattern": "^dlv_[0-9A-Za-z]{20}$" }),
                "dlv_0Vx3kQ9Z7M5T2V4X6Y8A",
            ),
        ),
        (
            "Mobieus-Attempt",
            typed(
                "The attempt's number, from 1.",
                json!({ "type": "string", "pattern": "^[1-9][0-9]*$" }),
                "1",
            ),
        ),
    ];
    let parameters: Vec<Value> = parameters
        .into_iter()
        .map(|(name, mut p)| {
            p["name"] = Value::String(name.to_owned());
            p
        })
        .collect();
    let retry_after = json!({
        "Retry-After": {
            "description": "Seconds to wait before the next attempt (bounded by the delivery policy).",
            "schema": { "type": "integer", "minimum": 0 },
        }
    });
    let mut paths = Paths::new();
    for i in &EventType::CATALOG {
        let operation = json!({
            "tags": ["Webhook requests"],
            "operationId": format!("webhook_{}", i.name.replace('.', "_")),
            "summary": i.name,
            "description": format!("{}\n\nA `POST` to {}, signed with the endpoint's secret (both schemes below). The body is the event's exact JSON, the same bytes that were signed.", i.description, recipients(i.event_type)),
            "parameters": parameters,
            "requestBody": {
                "required": true,
                "content": { "application/json": { "schema": reference(&event_component(i.event_type)) } },
            },
            "responses": {
                "2XX": { "description": "Received: the delivery succeeded (the body is not read)." },
                "410": { "description": "Gone: the endpoint is disabled at once and receives nothing more until it is enabled again." },
                "429": { "description": "Too many requests: tried again later, no sooner than `Retry-After`.", "headers": retry_after },
                "503": { "description": "Unavailable: tried again later, no sooner than `Retry-After`.", "headers": retry_after },
                "default": { "description": "Any other answer, a timeout or a network error: tried again on the retry schedule; after too many consecutive failures the endpoint is disabled." },
            },
        });
        match serde_json::from_value(json!({ "post": operation })) {
            Ok(item) => {
                paths.paths.insert(i.name.to_owned(), item);
            }
            Err(e) => tracing::error!(error = %e, "a webhook request does not convert"),
        }
    }
    paths
}

/// Who receives an event type's requests.
fn recipients(t: EventType) -> String {
    if t.in_feed() {
        format!(
            "each endpoint subscribed to `{}` (and, flagged `\"test\": true`, to an endpoint tested with this type)",
            t.name()
        )
    } else {
        "the endpoint being tested (`POST /api/v1/webhooks/{id}/test` without `event_type`)"
            .to_owned()
    }
}

/// Each event type's schema as JSON Schema 2020-12, and their index, rendered once from
/// the OpenAPI document.
#[derive(Debug)]
pub(crate) struct JsonSchemas {
    index: String,
    by_type: BTreeMap<&'static str, String>,
}

impl JsonSchemas {
    /// From the document as JSON (`components.schemas` holds every schema referenced).
    pub(crate) fn render(doc: &Value) -> Self {
        let components = &doc["components"]["schemas"];
        let by_type: BTreeMap<&'static str, String> = EventType::CATALOG
            .iter()
            .map(|i| {
                let schema = standalone(components, &event_component(i.event_type));
                let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
                (i.name, text)
            })
            .collect();
        let index = json!({
            "api_version": API_VERSION,
            "event_types": EventType::CATALOG.iter().map(|i| json!({
                "type": i.name,
                "description": i.description,
                "in_feed": i.event_type.in_feed(),
                "schema": format!("/api/schemas/events/{}.json", i.name),
            })).collect::<Vec<_>>(),
        });
        Self {
            index: serde_json::to_string_pretty(&index).unwrap_or_default(),
            by_type,
        }
    }
}

/// The component `name` as a JSON Schema document of its own: what it references comes
/// along under `$defs`.
fn standalone(components: &Value, name: &str) -> Value {
    let mut out = Map::new();
    out.insert(
        "$schema".to_owned(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    let mut pending = Vec::new();
    let mut root = components.get(name).cloned().unwrap_or(Value::Null);
    local_refs(&mut root, &mut pending);
    if let Value::Object(fields) = root {
        out.extend(fields);
    }
    let mut defs = Map::new();
    while let Some(next) = pending.pop() {
        if next == name || defs.contains_key(&next) {
            continue;
        }
        let mut schema = components.get(&next).cloned().unwrap_or(Value::Null);
        local_refs(&mut schema, &mut pending);
        defs.insert(next, schema);
    }
    out.insert("$defs".to_owned(), Value::Object(defs));
    Value::Object(out)
}

/// Points every component `$ref` in `v` at `$defs` instead, and adds the component's
/// name to `found`.
fn local_refs(v: &mut Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match (k.as_str(), &mut *child) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(COMPONENTS) {
                            found.push(name.to_owned());
                            *r = format!("#/$defs/{name}");
                        }
                    }
                    _ => local_refs(child, found),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| local_refs(i, found)),
        _ => {}
    }
}

/// `GET /api/schemas/events`: every event type, with where its schema is.
pub(crate) async fn index(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.spec.schemas.index.clone(),
    )
        .into_response()
}

/// `GET /api/schemas/events/{type}.json`: one event type's JSON Schema.
pub(crate) async fn one(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let schema = file
        .strip_suffix(".json")
        .and_then(|name| state.spec.schemas.by_type.get(name));
    match schema {
        Some(text) => (
            [(header::CONTENT_TYPE, "application/schema+json")],
            text.clone(),
        )
            .into_response(),
        None => ApiError::not_found("event type").into_response(),
    }
}
