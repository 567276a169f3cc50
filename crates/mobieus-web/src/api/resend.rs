//! Sending again on demand: `POST …/test` (a `webhook.test` event, or a catalog type's
//! example flagged as a test, to this endpoint only),
//! `POST …/deliveries/{id}/replay` and `POST …/recover` (every failed delivery of a
//! window). Each answers `202 Accepted` with what it queued; the worker sends it at once.

use super::webhooks::{actor, existing_endpoint};
use crate::auth::ApiPrincipal;
use crate::body::JsonBody;
use crate::envelope::One;
use crate::idempotency::{Answer, KeyedRequest};
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use axum::Extension;
use axum::http::StatusCode;
use axum::response::Response;
use mobieus_core::resend::{self, Recovery};
use mobieus_domain::event::EventType;
use mobieus_domain::scope::Scope;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{Delivery, DeliveryId};
use mobieus_store::TenantDb;
use serde::{Deserialize, Serialize};

/// The window of a bulk recovery.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoverWindow {
    /// Deliveries created at or after this time (RFC 3339).
    #[schema(format = DateTime, example = "2026-11-28T09:00:00Z")]
    since: String,
    /// Deliveries created before this time (RFC 3339), after `since`; default now.
    #[schema(format = DateTime)]
    until: Option<String>,
}

/// What to send in a test: a catalog type's example, or (by default) `webhook.test`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestSend {
    /// The event type whose catalog example to send; default `webhook.test` (also
    /// accepted here). Any other type arrives with `"test": true` at its top level.
    #[schema(value_type = Option<crate::openapi::EventTypeName>, example = "post.created")]
    #[serde(default)]
    event_type: Option<serde_json::Value>,
}

impl TestSend {
    /// The event type asked for: `webhook.test` when none (or `null`) is given.
    fn event_type(&self) -> Result<EventType, ApiError> {
        let refuse = || {
            ApiError::invalid(
                "event_type",
                "must be the name of an event type of the catalog, such as \"post.created\"",
            )
        };
        match &self.event_type {
            None | Some(serde_json::Value::Null) => Ok(EventType::WebhookTest),
            Some(serde_json::Value::String(name)) => EventType::parse(name).map_err(|_| refuse()),
            Some(_) => Err(refuse()),
        }
    }
}

/// What a recovery queued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Recovered {
    /// How many events are being sent again (at most 10,000 per call).
    queued: usize,
    since: Timestamp,
    /// The end of the window used.
    until: Timestamp,
    /// More failed deliveries remain in the window: call again with the same window.
    more: bool,
}

/// Send a test event to this endpoint only.
///
/// By default a `webhook.test` event; with `event_type`, that type's catalog example,
/// with a fresh id and the current time, signed like any delivery. It is sent even when
/// the endpoint does not subscribe to the type (this is an explicit test of the
/// endpoint), to no other endpoint, and never appears in the event feed or stream; an
/// example of a catalog type carries `"test": true` at its top level so the receiver can
/// tell it from a real event. An empty body, or `{}`, sends `webhook.test`.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    operation_id = "test_webhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`"), super::IdempotencyKey),
    request_body(content = Option<TestSend>, description = "Optional; no body sends `webhook.test`"),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 202, description = "The test delivery, queued", body = One<Delivery>),
        (status = 400, description = "A body that is not an object, an unknown field or `event_type`, or a malformed `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled, or the `Idempotency-Key` is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The `Idempotency-Key` was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn test(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    key: Option<Extension<KeyedRequest>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let endpoint = existing_endpoint(&db, &id).await?.id;
    let event_type = body.parse::<TestSend>().await?.event_type()?;
    let answer = Answer::new(key, StatusCode::ACCEPTED, |d: &Delivery| {
        One::new(d.clone())
    });
    let idem = answer.idempotency();
    let delivery = resend::send_test_of(&db, &endpoint, event_type, idem.as_ref()).await?;
    Ok(answer.respond(&delivery))
}

/// Send one delivery's event to its endpoint again, as a new delivery with the same
/// `webhook-id`.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
    operation_id = "replay_delivery",
    tag = "Webhooks",
    params(
        ("id" = String, Path, description = "The endpoint id, `ep_…`"),
        ("delivery_id" = String, Path, description = "The delivery id, `dlv_…`"),
        super::IdempotencyKey,
    ),
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 202, description = "The new delivery, queued", body = One<Delivery>),
        (status = 400, description = "A malformed `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled, or the `Idempotency-Key` is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A body over 1 MiB sent with an `Idempotency-Key` (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The `Idempotency-Key` was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn replay(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    key: Option<Extension<KeyedRequest>>,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let endpoint = existing_endpoint(&db, &id).await?.id;
    let of = DeliveryId::parse(&delivery_id).ok_or_else(|| ApiError::not_found("delivery"))?;
    let answer = Answer::new(key, StatusCode::ACCEPTED, |d: &Delivery| {
        One::new(d.clone())
    });
    let delivery = resend::replay(&db, &endpoint, &of, answer.idempotency().as_ref()).await?;
    Ok(answer.respond(&delivery))
}

/// Send again every event whose delivery to this endpoint failed (or was cancelled while
/// the endpoint was disabled) in a window: the recovery after a receiver's outage.
/// Recovering the same window twice sends nothing twice.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/recover",
    operation_id = "recover_webhook",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`"), super::IdempotencyKey),
    request_body = RecoverWindow,
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 202, description = "How many events are being sent again", body = One<Recovered>),
        (status = 400, description = "A malformed body or window", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled, or the `Idempotency-Key` is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`payload_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The `Idempotency-Key` was used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn recover(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    key: Option<Extension<KeyedRequest>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    principal.require(Scope::WebhooksManage)?;
    let endpoint = existing_endpoint(&db, &id).await?.id;
    let window: RecoverWindow = body.parse().await?;
    let time = |field: &str, s: &str| {
        Timestamp::parse_rfc3339(s)
            .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time"))
    };
    let since = time("since", &window.since)?;
    let until = window
        .until
        .as_deref()
        .map(|u| time("until", u))
        .transpose()?;
    let answer = Answer::new(key, StatusCode::ACCEPTED, move |done: &Recovery| {
        One::new(Recovered {
            queued: done.queued,
            since,
            until: done.until,
            more: done.more,
        })
    });
    let actor = actor(&principal);
    let idem = answer.idempotency();
    let done = resend::recover(&db, &endpoint, since, until, &actor, idem.as_ref()).await?;
    Ok(answer.respond(&done))
}
