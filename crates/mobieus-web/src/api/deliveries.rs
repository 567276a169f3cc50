//! `/api/v1/webhooks/{id}/deliveries`: an endpoint's deliveries, and one delivery with
//! every attempt as it went over the wire (the request headers, signatures included).

use super::webhooks::existing_endpoint;
use crate::auth::ApiPrincipal;
use crate::envelope::{List, One};
use crate::openapi::DeliveryListParams;
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::extract::RawQuery;
use mobieus_domain::page::CursorKind;
use mobieus_domain::scope::Scope;
use mobieus_domain::webhook::{Attempt, Delivery, DeliveryId, DeliveryStatus};
use mobieus_store::TenantDb;
use serde::Serialize;

/// A delivery with its attempts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryWithAttempts {
    #[serde(flatten)]
    delivery: Delivery,
    attempts_made: Vec<Attempt>,
}

/// List an endpoint's deliveries, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    operation_id = "list_deliveries",
    tag = "Webhooks",
    params(("id" = String, Path, description = "The endpoint id, `ep_…`"), DeliveryListParams),
    security(("api_key" = ["webhooks:read"])),
    responses(
        (status = 200, description = "A page of deliveries", body = List<Delivery>),
        (status = 400, description = "A malformed parameter (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<List<Delivery>, ApiError> {
    principal.require(Scope::WebhooksRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let status = q
        .one("status")?
        .map(|s| {
            DeliveryStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid("status", "must be pending, succeeded, failed or cancelled")
            })
        })
        .transpose()?;
    let (limit, after) = (q.limit()?, q.cursor(CursorKind::Deliveries)?);
    q.finish()?;
    let endpoint = existing_endpoint(&db, &id).await?.id;
    let page = db
        .deliveries_page(&endpoint, status, after, limit.get())
        .await?;
    Ok(List::from_page(CursorKind::Deliveries, page, |d| d))
}

/// Get one delivery with every attempt.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
    operation_id = "get_delivery",
    tag = "Webhooks",
    params(
        ("id" = String, Path, description = "The endpoint id, `ep_…`"),
        ("delivery_id" = String, Path, description = "The delivery id, `dlv_…`"),
    ),
    security(("api_key" = ["webhooks:read"])),
    responses(
        (status = 200, description = "The delivery and its attempts", body = One<DeliveryWithAttempts>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `webhooks:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint or delivery", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<One<DeliveryWithAttempts>, ApiError> {
    principal.require(Scope::WebhooksRead)?;
    let endpoint = existing_endpoint(&db, &id).await?.id;
    let not_found = || ApiError::not_found("delivery");
    let delivery_id = DeliveryId::parse(&delivery_id).ok_or_else(not_found)?;
    let delivery = db
        .delivery_by_id(&endpoint, &delivery_id)
        .await?
        .ok_or_else(not_found)?;
    let attempts_made = db.attempts(&delivery_id).await?;
    Ok(One::new(DeliveryWithAttempts {
        delivery,
        attempts_made,
    }))
}
