//! The forum: the thread list, a thread with its posts, new threads, replies, editing and
//! deleting one's own posts, and moderation (remove a post with a reason, ban and unban
//! its author, lock and unlock a thread). Each write is the core use case the CLI calls.

use super::layout::{csrf_field, field_error, html_page, page, when};
use super::session::{Form, Viewer};
use super::{PageError, cursor, local_path};
use axum::Extension;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_domain::forum::{
    Post, PostBody, PostId, Reason, Thread, ThreadId, User, UserId, Username,
};
use mobieus_store::{PostFilter, TenantDb};
use std::collections::HashMap;

const THREADS_PER_PAGE: u32 = 30;
const POSTS_PER_PAGE: u32 = 50;

fn thread_id(raw: &str) -> Result<ThreadId, PageError> {
    ThreadId::parse(raw).ok_or(PageError::NotFound("thread"))
}

fn post_id(raw: &str) -> Result<PostId, PageError> {
    PostId::parse(raw).ok_or(PageError::NotFound("post"))
}

pub(super) async fn threads(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let before = cursor(&query, "before").unwrap_or(i64::MAX);
    let list = db.threads_page(before, THREADS_PER_PAGE).await?;
    Ok(html_page(page(
        "Threads",
        Some(&viewer),
        html! {
            h1 { "Threads" }
            @if viewer.user.is_some() {
                p { a.button href="/new" { "New thread" } }
            } @else {
                p.muted { a href="/login" { "Log in" } " or " a href="/register" { "register" } " to post." }
            }
            @if list.items.is_empty() {
                p.muted { "No threads yet." }
            }
            @for t in &list.items {
                article.card {
                    h3 {
                        a href={ "/t/" (t.thread.id.0) } { (t.thread.title) }
                        @if t.thread.locked { " " span.badge.warn { "locked" } }
                    }
                    p.muted {
                        "by " (t.thread.author.username) " · " (t.visible_posts) " "
                        (if t.visible_posts == 1 { "post" } else { "posts" })
                        " · last " (when(t.last_post_at))
                    }
                }
            }
            @if let Some(next) = list.next_after {
                nav.pager { span {} a href={ "/?before=" (next) } { "Older threads →" } }
            }
        },
    )))
}

/// What the viewer may do here.
struct Powers<'a> {
    user: Option<&'a User>,
    moderates: bool,
}

impl<'a> Powers<'a> {
    fn of(viewer: &'a Viewer) -> Self {
        let user = viewer.user.as_ref();
        Self {
            user,
            moderates: user.is_some_and(|u| u.role.moderates() && !u.banned),
        }
    }

    fn owns(&self, post: &Post) -> bool {
        self.user.is_some_and(|u| u.id == post.author.id)
    }
}

fn post_view(viewer: &Viewer, powers: &Powers<'_>, post: &Post) -> Markup {
    html! {
        article.card.post id={ "p" (post.id.0) } {
            p.muted {
                strong { (post.author.username) } " · " (when(post.created_at))
                @if let Some(at) = post.edited_at { " · edited " (when(at)) }
            }
            @match &post.body {
                Some(body) => div.body { (body) },
                None => p.gone { (match post.status {
                    mobieus_domain::forum::PostStatus::Removed => "Removed by a moderator.",
                    _ => "Deleted by its author.",
                }) },
            }
            @if post.body.is_some() && (powers.owns(post) || powers.moderates) {
                div.actions {
                    @if powers.owns(post) {
                        a.button.secondary href={ "/p/" (post.id.0) "/edit" } { "Edit" }
                        form method="post" action={ "/p/" (post.id.0) "/delete" } {
                            (csrf_field(viewer))
                            button.secondary type="submit" { "Delete" }
                        }
                    }
                    @if powers.moderates && !powers.owns(post) {
                        form method="post" action={ "/p/" (post.id.0) "/remove" } {
                            (csrf_field(viewer))
                            input type="text" name="reason" placeholder="Reason (optional)" aria-label="Reason for removal";
                            " "
                            button.danger type="submit" { "Remove" }
                        }
                        form method="post" action={ "/u/" (post.author.id.0) "/ban" } {
                            (csrf_field(viewer))
                            input type="hidden" name="username" value=(post.author.username);
                            input type="hidden" name="back" value={ "/t/" (post.thread_id.0) };
                            button.secondary type="submit" { "Ban " (post.author.username) }
                        }
                        form method="post" action={ "/u/" (post.author.id.0) "/unban" } {
                            (csrf_field(viewer))
                            input type="hidden" name="username" value=(post.author.username);
                            input type="hidden" name="back" value={ "/t/" (post.thread_id.0) };
                            button.link type="submit" { "Unban" }
                        }
                    }
                }
            }
        }
    }
}

fn thread_view(
    viewer: &Viewer,
    thread: &Thread,
    posts: &[Post],
    next: Option<i64>,
    reply_text: &str,
    reply_error: Option<&str>,
) -> Markup {
    let powers = Powers::of(viewer);
    html! {
        h1 {
            (thread.title)
            @if thread.locked { " " span.badge.warn { "locked" } }
        }
        p.muted { "Started by " (thread.author.username) " · " (when(thread.created_at)) }
        @if powers.moderates {
            div.actions {
                @let (action, label) = if thread.locked { ("unlock", "Unlock thread") } else { ("lock", "Lock thread") };
                form method="post" action={ "/t/" (thread.id.0) "/" (action) } {
                    (csrf_field(viewer))
                    button.secondary type="submit" { (label) }
                }
            }
        }
        @for post in posts { (post_view(viewer, &powers, post)) }
        @if let Some(next) = next {
            nav.pager { span {} a href={ "/t/" (thread.id.0) "?after=" (next) } { "More posts →" } }
        }
        @match powers.user {
            Some(_) if !thread.locked || powers.moderates => {
                h2 { "Reply" }
                form.stack method="post" action={ "/t/" (thread.id.0) "/reply" } {
                    (csrf_field(viewer))
                    label {
                        "Your reply"
                        textarea name="body" required { (reply_text) }
                        (field_error(reply_error))
                    }
                    div { button type="submit" { "Post reply" } }
                }
            }
            Some(_) => {
                @if let Some(e) = reply_error { p.flash.error role="alert" { (e) } }
                p.muted { "This thread is locked." }
            }
            None => { p.muted { a href={ "/login?next=/t/" (thread.id.0) } { "Log in" } " to reply." } }
        }
    }
}

async fn load_thread(
    db: &TenantDb,
    id: ThreadId,
    after: i64,
) -> Result<(Thread, Vec<Post>, Option<i64>), PageError> {
    let thread = db
        .thread_by_id(id)
        .await?
        .ok_or(PageError::NotFound("thread"))?;
    let filter = PostFilter {
        thread: Some(id),
        author: None,
    };
    let posts = db.posts_page(filter, after, POSTS_PER_PAGE).await?;
    Ok((thread, posts.items, posts.next_after))
}

pub(super) async fn thread(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let id = thread_id(&id)?;
    let (thread, posts, next) = load_thread(&db, id, cursor(&query, "after").unwrap_or(0)).await?;
    let view = thread_view(&viewer, &thread, &posts, next, "", None);
    Ok(html_page(page(&thread.title, Some(&viewer), view)))
}

pub(super) async fn reply(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = thread_id(&id)?;
    let user = form.viewer.member(&format!("/t/{}", id.0))?;
    let text = form.text("body");
    let refused = match PostBody::parse(text) {
        Ok(body) => match forum::reply(&db, id, &Actor::Id(user.id), &body).await {
            Ok(post) => {
                return Ok(
                    Redirect::to(&format!("/t/{}#p{}", id.0, post.value.id.0)).into_response()
                );
            }
            Err(
                e @ (mobieus_core::CoreError::Refused(_) | mobieus_core::CoreError::Invalid(_)),
            ) => e.to_string(),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e.message.to_owned(),
    };
    let (thread, posts, next) = load_thread(&db, id, 0).await?;
    let view = thread_view(&form.viewer, &thread, &posts, next, text, Some(&refused));
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        html_page(page(&thread.title, Some(&form.viewer), view)),
    )
        .into_response())
}

fn new_thread_view(
    viewer: &Viewer,
    title: &str,
    body: &str,
    errors: (Option<&str>, Option<&str>),
) -> Markup {
    page(
        "New thread",
        Some(viewer),
        html! {
            h1 { "New thread" }
            form.stack method="post" action="/new" novalidate {
                (csrf_field(viewer))
                label { "Title" input type="text" name="title" value=(title) required; (field_error(errors.0)) }
                label { "Post" textarea name="body" required { (body) } (field_error(errors.1)) }
                div { button type="submit" { "Start thread" } }
            }
        },
    )
}

pub(super) async fn new_thread_form(
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, PageError> {
    viewer.member("/new")?;
    Ok(html_page(new_thread_view(&viewer, "", "", (None, None))))
}

pub(super) async fn create_thread(
    Extension(db): Extension<TenantDb>,
    form: Form,
) -> Result<Response, PageError> {
    let user = form.viewer.member("/new")?;
    let (title_text, body_text) = (form.text("title").trim(), form.text("body"));
    let title = mobieus_domain::forum::Title::parse(title_text);
    let body = PostBody::parse(body_text);
    let (title_error, body_error) = (
        title.as_ref().err().map(|e| e.message),
        body.as_ref().err().map(|e| e.message),
    );
    if let (Ok(title), Ok(body)) = (title, body) {
        let new = NewThread {
            author: Actor::Id(user.id),
            title,
            body,
        };
        let post = forum::create_thread(&db, &new).await?;
        return Ok(Redirect::to(&format!("/t/{}", post.value.thread_id.0)).into_response());
    }
    let view = new_thread_view(
        &form.viewer,
        title_text,
        body_text,
        (title_error, body_error),
    );
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response())
}

fn edit_view(viewer: &Viewer, post: &Post, text: &str, error: Option<&str>) -> Markup {
    page(
        "Edit post",
        Some(viewer),
        html! {
            h1 { "Edit your post" }
            form.stack method="post" action={ "/p/" (post.id.0) "/edit" } {
                (csrf_field(viewer))
                label { "Post" textarea name="body" required { (text) } (field_error(error)) }
                div.actions {
                    button type="submit" { "Save" }
                    a href={ "/t/" (post.thread_id.0) "#p" (post.id.0) } { "Cancel" }
                }
            }
        },
    )
}

/// A post the viewer may edit or delete: their own, still shown.
async fn own_post(
    db: &TenantDb,
    viewer: &Viewer,
    id: PostId,
    here: &str,
) -> Result<Post, PageError> {
    let user = viewer.member(here)?;
    let post = db
        .post_by_id(id)
        .await?
        .ok_or(PageError::NotFound("post"))?;
    if post.author.id != user.id {
        return Err(PageError::Forbidden("change another member's post"));
    }
    Ok(post)
}

pub(super) async fn edit_form(
    Extension(db): Extension<TenantDb>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = post_id(&id)?;
    let post = own_post(&db, &viewer, id, &format!("/p/{}/edit", id.0)).await?;
    let Some(body) = post.body.clone() else {
        return Err(PageError::Refused(
            "this post was deleted or removed".to_owned(),
        ));
    };
    Ok(html_page(edit_view(&viewer, &post, &body, None)))
}

pub(super) async fn edit(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = post_id(&id)?;
    let post = own_post(&db, &form.viewer, id, &format!("/p/{}/edit", id.0)).await?;
    let text = form.text("body");
    let refused = match PostBody::parse(text) {
        Ok(body) => match forum::edit_post(&db, id, &Actor::Id(post.author.id), &body).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/t/{}#p{}", post.thread_id.0, id.0)).into_response()
                );
            }
            Err(e @ mobieus_core::CoreError::Refused(_)) => e.to_string(),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e.message.to_owned(),
    };
    let view = edit_view(&form.viewer, &post, text, Some(&refused));
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html_page(view)).into_response())
}

pub(super) async fn delete(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = post_id(&id)?;
    let post = own_post(&db, &form.viewer, id, &format!("/p/{}", id.0)).await?;
    forum::delete_post(&db, id, &Actor::Id(post.author.id)).await?;
    Ok(Redirect::to(&format!("/t/{}#p{}", post.thread_id.0, id.0)).into_response())
}

/// The moderator acting, and the reason they gave (if any).
fn moderator(form: &Form, here: &str) -> Result<(Actor, Option<Reason>), PageError> {
    let user = form.viewer.member(here)?;
    if !user.role.moderates() {
        return Err(PageError::Forbidden("moderate this forum"));
    }
    let reason = form.text("reason").trim();
    let reason = if reason.is_empty() {
        None
    } else {
        Some(Reason::parse(reason).map_err(|e| PageError::Refused(e.to_string()))?)
    };
    Ok((Actor::Id(user.id), reason))
}

pub(super) async fn remove(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = post_id(&id)?;
    let (by, reason) = moderator(&form, &format!("/p/{}", id.0))?;
    let post = forum::remove_post(&db, id, &by, reason.as_ref()).await?;
    Ok(Redirect::to(&format!("/t/{}#p{}", post.value.thread_id.0, id.0)).into_response())
}

async fn set_locked(
    db: TenantDb,
    id: String,
    form: Form,
    locked: bool,
) -> Result<Response, PageError> {
    let id = thread_id(&id)?;
    let (by, reason) = moderator(&form, &format!("/t/{}", id.0))?;
    if locked {
        forum::lock_thread(&db, id, &by, reason.as_ref()).await?;
    } else {
        forum::unlock_thread(&db, id, &by, reason.as_ref()).await?;
    }
    Ok(Redirect::to(&format!("/t/{}", id.0)).into_response())
}

pub(super) async fn lock(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_locked(db, id, form, true).await
}

pub(super) async fn unlock(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_locked(db, id, form, false).await
}

async fn set_banned(
    db: TenantDb,
    id: String,
    form: Form,
    banned: bool,
) -> Result<Response, PageError> {
    let id = UserId::parse(&id).ok_or(PageError::NotFound("member"))?;
    let (by, reason) = moderator(&form, "/")?;
    let target = db
        .user_by_id(id)
        .await?
        .ok_or(PageError::NotFound("member"))?;
    let name = Username::parse(&target.username).map_err(|e| PageError::Refused(e.to_string()))?;
    if banned {
        forum::ban(&db, &name, &by, reason.as_ref()).await?;
    } else {
        forum::unban(&db, &name, &by, reason.as_ref()).await?;
    }
    let back = local_path(form.text("back"));
    Ok(Redirect::to(back).into_response())
}

pub(super) async fn ban(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_banned(db, id, form, true).await
}

pub(super) async fn unban(
    Extension(db): Extension<TenantDb>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    set_banned(db, id, form, false).await
}
