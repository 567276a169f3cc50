//! `GET /api/v1/users` and `GET /api/v1/users/{id}`.

use crate::auth::ApiPrincipal;
use crate::envelope::{List, One};
use crate::openapi::PageParams;
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::extract::RawQuery;
use mobieus_domain::forum::{User, UserId};
use mobieus_domain::page::CursorKind;
use mobieus_domain::scope::Scope;
use mobieus_store::TenantDb;

/// List members, in the order they joined (members who left included, `status: left`).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "Users",
    params(PageParams),
    security(("api_key" = ["users:read"])),
    responses(
        (status = 200, description = "A page of members", body = List<User>),
        (status = 400, description = "A malformed parameter (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `users:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    RawQuery(query): RawQuery,
) -> Result<List<User>, ApiError> {
    principal.require(Scope::UsersRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let (limit, after) = (q.limit()?, q.cursor(CursorKind::Users)?);
    q.finish()?;
    let page = db.users_page(after, limit.get()).await?;
    Ok(List::from_page(CursorKind::Users, page, |u| u))
}

/// Get one member.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "get_user",
    tag = "Users",
    params(("id" = i64, Path, description = "The member's id")),
    security(("api_key" = ["users:read"])),
    responses(
        (status = 200, description = "The member", body = One<User>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `users:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
) -> Result<One<User>, ApiError> {
    principal.require(Scope::UsersRead)?;
    let id = UserId::parse(&id).ok_or_else(|| ApiError::not_found("user"))?;
    let user = db
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(One::new(user))
}
