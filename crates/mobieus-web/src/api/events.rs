//! `GET /api/v1/events` (the public feed, oldest first) and `GET /api/v1/events/{id}`.

use crate::auth::ApiPrincipal;
use crate::envelope::{List, One, StoredList};
use crate::event_schemas::EventDoc;
use crate::openapi::EventListParams;
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::extract::RawQuery;
use mobieus_domain::event::{EventId, EventType};
use mobieus_domain::page::CursorKind;
use mobieus_domain::scope::Scope;
use mobieus_store::{EventFilter, StoredEvent, TenantDb};
use serde_json::value::RawValue;

/// The stored JSON of an event, served byte for byte.
fn raw(event: StoredEvent) -> Result<Box<RawValue>, ApiError> {
    RawValue::from_string(event.json).map_err(|e| ApiError::Internal(Box::new(e)))
}

pub(super) fn types(values: Vec<String>) -> Result<Vec<EventType>, ApiError> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|name| match EventType::parse(name.trim()) {
            Ok(t) if t.in_feed() => Ok(t),
            _ => Err(ApiError::invalid(
                "type",
                format!("unknown event type {name:?}; see the event catalog in /api/docs"),
            )),
        })
        .collect()
}

/// The feed position of the event `id`, given as `param`.
pub(super) async fn position_of(db: &TenantDb, param: &str, id: &str) -> Result<i64, ApiError> {
    let unknown = || ApiError::invalid(param, "no event with this id in this feed");
    let id = EventId::parse(id).ok_or_else(unknown)?;
    Ok(db
        .event_by_id(id.as_str())
        .await?
        .ok_or_else(unknown)?
        .position)
}

/// List events, oldest first.
///
/// Follow the feed by passing `meta.next_cursor` back as `cursor`: every event is
/// returned exactly once, in order, even while new events arrive. On the last page
/// `next_cursor` is `null`; to poll for newer events later, pass the id of the last event
/// you processed as `after`.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "list_events",
    tag = "Events",
    params(EventListParams),
    security(("api_key" = ["events:read"])),
    responses(
        (status = 200, description = "A page of events, oldest first", body = List<EventDoc>),
        (status = 400, description = "A malformed parameter (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    RawQuery(query): RawQuery,
) -> Result<StoredList, ApiError> {
    principal.require(Scope::EventsRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let filter = EventFilter {
        types: types(q.all("type"))?,
        since: q.time("since")?,
        until: q.time("until")?,
    };
    let (limit, cursor, after_event) = (q.limit()?, q.cursor(CursorKind::Events)?, q.one("after")?);
    q.finish()?;
    let after = match after_event {
        None => cursor,
        Some(_) if cursor != 0 => {
            return Err(ApiError::invalid(
                "after",
                "give either `cursor` or `after`, not both",
            ));
        }
        Some(id) => position_of(&db, "after", &id).await?,
    };
    let page = db.events_page(&filter, after, limit.get()).await?;
    Ok(StoredList::from_page(
        CursorKind::Events,
        mobieus_store::Page {
            items: page.items.into_iter().map(|e| e.json).collect(),
            next_after: page.next_after,
        },
    ))
}

/// Get one event.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    operation_id = "get_event",
    tag = "Events",
    params(("id" = String, Path, description = "The event id, `evt_…`")),
    security(("api_key" = ["events:read"])),
    responses(
        (status = 200, description = "The event", body = One<EventDoc>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `events:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
) -> Result<One<Box<RawValue>>, ApiError> {
    principal.require(Scope::EventsRead)?;
    let id = EventId::parse(&id).ok_or_else(|| ApiError::not_found("event"))?;
    let event = db
        .event_by_id(id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(One::new(raw(event)?))
}
