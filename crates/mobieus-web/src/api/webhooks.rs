//! `/api/v1/webhooks`: registering, listing, reading, deleting endpoints and rotating
//! their signing secrets. A secret is in the answer of the call that makes it, and
//! nowhere else, ever.

use crate::AppState;
use crate::auth::ApiPrincipal;
use crate::body::{self, JsonBody};
use crate::envelope::{List, One};
use crate::idempotency::{Answer, KeyedRequest};
use crate::openapi::{EventSelectionDoc, PageParams};
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use mobieus_core::url_guard::UrlGuard;
use mobieus_core::webhooks::{self, CreatedEndpoint, EndpointChanges, EndpointRequest, Rotation};
use mobieus_domain::page::CursorKind;
use mobieus_domain::scope::Scope;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Endpoint, EndpointId, EventSelection};
use mobieus_store::TenantDb;
use serde::{Deserialize, Serialize};

/// A new endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpoint {
    /// An https URL on the public internet.
    #[schema(example = "https://hooks.example.com/mobieus")]
    url: String,
    /// Event types to send, or `["*"]` for all.
    #[schema(value_type = EventSelectionDoc)]
    events: Vec<String>,
    /// A name to recognise the endpoint by: at most 100 characters, no control characters.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    label: Option<String>,
}

/// An endpoint with its signing secret, as the call that made the secret answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointWithSecret {
    #[serde(flatten)]
    endpoint: Endpoint,
    /// `whsec_…`: shown this once. Verify `Mobieus-Signature` or `webhook-signature` with it.
    secret: String,
}

/// A rotation's options.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecret {
    /// How long the previous secret keeps signing (as the second signature), 0-604800; default 86400.
    #[schema(minimum = 0, maximum = 604800, default = 86400)]
    #[serde(default, deserialize_with = "body::whole_number")]
    grace_seconds: Option<u64>,
}

/// The new secret after a rotation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RotatedSecret {
    /// `whsec_…`: shown this once.
    secret: String,
    /// Until when the previous secret still signs.
    previous_secret_expires_at: Timestamp,
}

/// What a deletion answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Deleted {
    id: EndpointId,
    deleted: bool,
}

pub(crate) fn actor(principal: &ApiPrincipal) -> String {
    format!("api_key:{}", principal.key_id)
}

/// A label as sent: at most 100 characters and no control characters, as the spec's
/// `maxLength` and `pattern` say (the core then trims it, and drops it if blank).
pub(crate) fn checked_label(label: Option<String>) -> Result<Option<String>, ApiError> {
    match label {
        Some(l) if l.chars().count() > 100 || l.chars().any(char::is_control) => {
            Err(ApiError::invalid(
                "label",
                "must be at most 100 characters without control characters",
            ))
        }
        other => Ok(other),
    }
}

fn endpoint_id(id: &str) -> Result<EndpointId, ApiError> {
    EndpointId::parse(id).ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// The endpoint a path names, or `404 not_found` (also for a malformed id).
pub(crate) async fn existing_endpoint(db: &TenantDb, id: &str) -> Result<Endpoint, ApiError> {
    let record = db.endpoint_by_id(&endpoint_id(id)?).await?;
    record
        .map(|r| r.endpoint)
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// List webhook endpoints, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "Webhooks",
    params(PageParams),
    security(("api_key" = ["webhooks:read"])),
    responses(
        (status = 200, description = "A page of endpoints", body = List<Endpoint>),
        (status = 400, description = "A malformed parameter (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    RawQuery(query): RawQuery,
) -> Result<List<Endpoint>, ApiError> {
    principal.require(Scope::WebhooksRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let (limit, after) = (q.limit()?, q.cursor(CursorKind::Webhooks)?);
    q.finish()?;
    let page = db.endpoints_page(after, limit.get()).await?;
    Ok(List::from_page(CursorKind::Webhooks, page, |r| r.endpoint))
}

/// Register a webhook endpoint. The answer carries its signing secret, this once only.
///
/// The URL must be https to a public address: IP literals in private, loopback,
/// link-local and other special ranges (in any notation), and names such as
/// `localhost`, `*.internal` or `metadata.*` are refused with `422 unsafe_webhook_url`.
/// Names are resolved again, and every address checked, at each delivery.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "create_webhook",
    tag = "Webhooks",
    params(super::IdempotencyKey),
    request_body = CreateEndpoint,
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 201, description = "The endpoint, with its secret (shown once)", body = One<EndpointWithSecret>),
        (status = 400, description = "A malformed body or an unknown event type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The `Idempotency-Key` is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The URL may not receive webhooks (`unsafe_webhook_url`, with the reason), or the `Idempotency-Key` was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    key: Option<Extension<KeyedRequest>>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let req: CreateEndpoint = body.parse().await?;
    let events = EventSelection::parse(&req.events).map_err(|e| ApiError::invalid("events", e))?;
    let url = state
        .guard
        .check_new(&req.url)
        .await
        .map_err(|e| ApiError::UnsafeWebhookUrl(e.to_string()))?;
    let answer = Answer::new(key, StatusCode::CREATED, |c: &CreatedEndpoint| {
        One::new(EndpointWithSecret {
            endpoint: c.endpoint.clone(),
            secret: c.secret.expose(),
        })
    });
    let created = webhooks::create(
        &db,
        state.store.master_key(),
        EndpointRequest {
            url,
            label: checked_label(req.label)?,
            events,
        },
        &actor(&principal),
        answer.idempotency().as_ref(),
    )
    .await?;
    Ok(answer.respond(&created))
}

/// Get one webhook endpoint (without its secret).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    operation_id = "get_webhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`")),
    security(("api_key" = ["webhooks:read"])),
    responses(
        (status = 200, description = "The endpoint", body = One<Endpoint>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
) -> Result<One<Endpoint>, ApiError> {
    principal.require(Scope::WebhooksRead)?;
    Ok(One::new(existing_endpoint(&db, &id).await?))
}

/// Changes to an endpoint; fields left out stay as they are.
#[derive(Debug, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "documents the body; parsed field by field in `update`"
)]
pub(crate) struct UpdateEndpoint {
    /// A new https URL, checked like a new registration.
    #[schema(nullable = false)]
    url: Option<String>,
    /// A new label (at most 100 characters, no control characters); `null` removes it.
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    label: Option<String>,
    /// New event types, or `["*"]`.
    #[schema(nullable = false, value_type = Option<EventSelectionDoc>)]
    events: Option<Vec<String>>,
    /// `false` stops deliveries; `true` re-enables a disabled endpoint and clears its failure count.
    #[schema(nullable = false)]
    active: Option<bool>,
}

/// Parses a PATCH body: each field optional, `label` nullable, nothing else allowed; a
/// new URL is checked like a new registration.
async fn changes(guard: &UrlGuard, body: JsonBody) -> Result<EndpointChanges, ApiError> {
    let fields: serde_json::Map<String, serde_json::Value> = body.parse().await?;
    let mut changes = EndpointChanges::default();
    for (name, value) in fields {
        let wrong = |what: &str| ApiError::invalid(&name, format!("must be {what}"));
        match name.as_str() {
            "url" => {
                let url = value.as_str().ok_or_else(|| wrong("a string"))?;
                changes.url = Some(
                    guard
                        .check_new(url)
                        .await
                        .map_err(|e| ApiError::UnsafeWebhookUrl(e.to_string()))?,
                );
            }
            "label" => {
                changes.label = Some(match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => checked_label(Some(s))?,
                    _ => return Err(wrong("a string or null")),
                });
            }
            "events" => {
                let names: Vec<String> =
                    serde_json::from_value(value).map_err(|_| wrong("a list of event types"))?;
                changes.events = Some(
                    EventSelection::parse(&names).map_err(|e| ApiError::invalid("events", e))?,
                );
            }
            "active" => {
                changes.active = Some(value.as_bool().ok_or_else(|| wrong("true or false"))?)
            }
            _ => {
                return Err(ApiError::invalid(
                    &name,
                    "is not a field of a webhook endpoint",
                ));
            }
        }
    }
    Ok(changes)
}

/// Change an endpoint's URL, label, events or active state without re-creating it.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    operation_id = "update_webhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`")),
    request_body(content = Option<UpdateEndpoint>, description = "Optional; an empty body changes nothing"),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The endpoint as changed", body = One<Endpoint>),
        (status = 400, description = "A malformed body or an unknown event type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new URL may not receive webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<One<Endpoint>, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let id = endpoint_id(&id)?;
    let changes = changes(&state.guard, body).await?;
    Ok(One::new(
        webhooks::update(&db, &id, changes, &actor(&principal)).await?,
    ))
}

/// Delete a webhook endpoint and its delivery history.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`")),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "Deleted", body = One<Deleted>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
) -> Result<One<Deleted>, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let id = endpoint_id(&id)?;
    webhooks::delete(&db, &id, &actor(&principal)).await?;
    Ok(One::new(Deleted { id, deleted: true }))
}

/// Rotate an endpoint's signing secret without dropping a delivery: during the grace
/// period every request carries a second signature made with the previous secret.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate-secret",
    operation_id = "rotate_webhook_secret",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`"), super::IdempotencyKey),
    request_body(content = Option<RotateSecret>, description = "Optional; an empty body keeps the default grace"),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, description = "The new secret (shown once)", body = One<RotatedSecret>),
        (status = 400, description = "A malformed body or a grace period over 7 days", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The `Idempotency-Key` is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The `Idempotency-Key` was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    key: Option<Extension<KeyedRequest>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let id = endpoint_id(&id)?;
    let req: RotateSecret = body.parse().await?;
    let grace = req.grace_seconds.unwrap_or(86_400);
    let answer = Answer::new(key, StatusCode::OK, |r: &Rotation| {
        One::new(RotatedSecret {
            secret: r.secret.expose(),
            previous_secret_expires_at: r.previous_expires_at,
        })
    });
    let rotation = webhooks::rotate_secret(
        &db,
        state.store.master_key(),
        &id,
        grace,
        &actor(&principal),
        answer.idempotency().as_ref(),
    )
    .await?;
    Ok(answer.respond(&rotation))
}
