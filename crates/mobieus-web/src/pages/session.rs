//! Who is looking at a page, from the session cookie, and the CSRF check of every form.
//!
//! The session cookie holds a random token whose SHA-256 names the session row (the
//! tenant's database holds no token). A visitor without a session gets a CSRF cookie of
//! its own, so the login and register forms are protected too. Every POST handler takes
//! a [`Form`], which refuses a body whose `_csrf` field is not the viewer's token, or
//! whose `Origin` is another site: a handler cannot forget the check.

use super::PageError;
use crate::AppState;
use crate::serving::peer_of;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use mobieus_domain::account::{CsrfToken, SESSION_DAYS, SessionToken};
use mobieus_domain::forum::User;
use mobieus_domain::time::Timestamp;
use mobieus_store::TenantDb;

/// The cookies' names. Over HTTPS they carry the `__Host-` prefix: browsers then take
/// them only from a secure origin, `Secure`, for the whole host and no `Domain`, so
/// another site on a sibling subdomain can neither set nor shadow them.
fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-mobieus_session"
    } else {
        "mobieus_session"
    }
}

fn csrf_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-mobieus_csrf"
    } else {
        "mobieus_csrf"
    }
}
/// The largest form body read (a post is at most 20,000 characters).
const FORM_LIMIT: usize = 256 * 1024;

/// The visitor: their member (when logged in), their session token, and the CSRF token
/// their forms carry.
#[derive(Clone, Debug)]
pub(crate) struct Viewer {
    pub tenant: String,
    pub user: Option<User>,
    pub token: Option<SessionToken>,
    pub csrf: CsrfToken,
    /// The client's address, for the login throttle.
    pub client: String,
    /// Whether the client reached us over HTTPS (cookies are then `Secure`).
    pub https: bool,
}

impl Viewer {
    /// The member, or the login page and back to `here`.
    pub(crate) fn member(&self, here: &str) -> Result<&User, PageError> {
        self.user
            .as_ref()
            .ok_or_else(|| PageError::login_required(here))
    }

    /// The `Set-Cookie` that starts a session with `token`.
    pub(crate) fn session_cookie(&self, token: &SessionToken) -> HeaderValue {
        let age = SESSION_DAYS * 24 * 3600;
        set_cookie(
            session_cookie_name(self.https),
            token.as_str(),
            age,
            "Lax",
            self.https,
        )
    }

    /// The `Set-Cookie` that ends the session in the browser.
    pub(crate) fn end_session_cookie(&self) -> HeaderValue {
        set_cookie(session_cookie_name(self.https), "", 0, "Lax", self.https)
    }
}

/// `name=value` pairs of the `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: host-only, whole site, never readable by scripts; `Secure` over HTTPS.
fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    same_site: &str,
    https: bool,
) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// Loads the viewer for the pages behind it.
pub(crate) async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(db) = req.extensions().get::<TenantDb>().cloned() else {
        return axum::response::IntoResponse::into_response(PageError::Internal(
            "pages without a tenant".to_owned(),
        ));
    };
    let client = peer_of(&req).map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string());
    let https = state.transport.https();
    let headers = req.headers();
    let mut viewer = Viewer {
        tenant: db.slug().to_string(),
        user: None,
        token: None,
        csrf: CsrfToken::generate(),
        client,
        https,
    };
    let mut stale_session = false;
    if let Some(token) = cookie(headers, session_cookie_name(https)) {
        let found = match SessionToken::parse(token) {
            Some(token) => match db
                .session_by_token_hash(&token.hash(), Timestamp::now())
                .await
            {
                Ok(found) => found.map(|s| (token, s)),
                Err(e) => return axum::response::IntoResponse::into_response(PageError::from(e)),
            },
            None => None,
        };
        match found.and_then(|(t, s)| CsrfToken::parse(&s.csrf_token).map(|c| (t, s.user, c))) {
            Some((token, user, csrf)) => {
                viewer.user = Some(user);
                viewer.token = Some(token);
                viewer.csrf = csrf;
            }
            None => stale_session = true,
        }
    }
    let mut new_csrf_cookie = false;
    if viewer.user.is_none() {
        match cookie(headers, csrf_cookie_name(https)).and_then(CsrfToken::parse) {
            Some(csrf) => viewer.csrf = csrf,
            None => new_csrf_cookie = true,
        }
    }
    let csrf = viewer.csrf.clone();
    req.extensions_mut().insert(viewer);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if stale_session {
        headers.append(
            header::SET_COOKIE,
            set_cookie(session_cookie_name(https), "", 0, "Lax", https),
        );
    }
    if new_csrf_cookie {
        headers.append(
            header::SET_COOKIE,
            set_cookie(
                csrf_cookie_name(https),
                csrf.as_str(),
                7 * 24 * 3600,
                "Strict",
                https,
            ),
        );
    }
    response
}

/// A submitted form whose CSRF token was checked: its fields by name.
#[derive(Debug)]
pub(crate) struct Form {
    pub viewer: Viewer,
    fields: Vec<(String, String)>,
}

impl Form {
    /// A field's (first) value, empty when absent.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field given several times (checkboxes).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PageError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, PageError> {
        let viewer = req
            .extensions()
            .get::<Viewer>()
            .cloned()
            .ok_or(PageError::BadCsrf)?;
        if !same_origin(req.headers()) {
            return Err(PageError::BadCsrf);
        }
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::BadRequest(
                "send this as an HTML form (application/x-www-form-urlencoded)".to_owned(),
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| {
                PageError::BadRequest("the form is too large or was cut off".to_owned())
            })?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let form = Form { viewer, fields };
        if !form.viewer.csrf.matches(form.text("_csrf")) {
            return Err(PageError::BadCsrf);
        }
        Ok(form)
    }
}

/// Whether a form came from this site: browsers send `Origin` with every POST; when it
/// is there, its host must be the request's. (The token is the check; this refuses a
/// cross-site form before the body is read.)
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}
