//! `GET /api/v1/posts` and `GET /api/v1/posts/{id}`.

use super::id_param;
use crate::auth::ApiPrincipal;
use crate::envelope::{List, One};
use crate::openapi::PostListParams;
use crate::path::Path;
use crate::problem::{ApiError, Problem};
use crate::query::QueryParams;
use axum::Extension;
use axum::extract::RawQuery;
use mobieus_domain::forum::{Post, PostId, ThreadId, UserId};
use mobieus_domain::page::CursorKind;
use mobieus_domain::scope::Scope;
use mobieus_store::{PostFilter, TenantDb};

/// List posts, oldest first. Deleted and removed posts are listed with `body: null`.
#[utoipa::path(
    get,
    path = "/api/v1/posts",
    operation_id = "list_posts",
    tag = "Posts",
    params(PostListParams),
    security(("api_key" = ["posts:read"])),
    responses(
        (status = 200, description = "A page of posts", body = List<Post>),
        (status = 400, description = "A malformed parameter (named in `detail`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    RawQuery(query): RawQuery,
) -> Result<List<Post>, ApiError> {
    principal.require(Scope::PostsRead)?;
    let mut q = QueryParams::parse(query.as_deref());
    let filter = PostFilter {
        thread: id_param("thread", q.one("thread")?, ThreadId::parse)?,
        author: id_param("author", q.one("author")?, UserId::parse)?,
    };
    let (limit, after) = (q.limit()?, q.cursor(CursorKind::Posts)?);
    q.finish()?;
    let page = db.posts_page(filter, after, limit.get()).await?;
    Ok(List::from_page(CursorKind::Posts, page, |p| p))
}

/// Get one post.
#[utoipa::path(
    get,
    path = "/api/v1/posts/{id}",
    operation_id = "get_post",
    tag = "Posts",
    params(("id" = i64, Path, description = "The post's id")),
    security(("api_key" = ["posts:read"])),
    responses(
        (status = 200, description = "The post", body = One<Post>),
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks `posts:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such post", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get(
    Extension(db): Extension<TenantDb>,
    Extension(principal): Extension<ApiPrincipal>,
    Path(id): Path<String>,
) -> Result<One<Post>, ApiError> {
    principal.require(Scope::PostsRead)?;
    let id = PostId::parse(&id).ok_or_else(|| ApiError::not_found("post"))?;
    let post = db
        .post_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("post"))?;
    Ok(One::new(post))
}
