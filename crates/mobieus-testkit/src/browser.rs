//! A visitor of the pages over real HTTP: keeps the cookies the server sets (as a browser
//! does, host-only), reads the CSRF token from the last page shown, and submits forms.
//! The browser tests in Chromium drive the same pages with a real browser; this one is for
//! the many cases a test checks byte by byte.

use crate::{TestApp, TestResponse, encode};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One visitor of one tenant's pages.
#[derive(Debug)]
pub struct Browser<'a> {
    app: &'a TestApp,
    host: String,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp, slug: &str) -> Self {
        Self {
            app,
            host: TestApp::host(slug),
            cookies: Mutex::default(),
            csrf: Mutex::default(),
        }
    }

    /// The value of a cookie the server set and did not clear.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().unwrap();
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, r: &TestResponse) {
        let mut cookies = self.cookies.lock().unwrap();
        for set in r.headers.get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let Some((name, rest)) = set.split_once('=') else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or("");
            if set.contains("Max-Age=0") || value.is_empty() {
                cookies.remove(name);
            } else {
                cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        if let Some(token) = csrf_in(&r.text) {
            *self.csrf.lock().unwrap() = Some(token);
        }
    }

    /// `GET path`, with the cookies.
    pub async fn get(&self, path: &str) -> TestResponse {
        let cookie = self.cookie_header();
        let r = self
            .app
            .request(
                reqwest::Method::GET,
                &self.host,
                path,
                None,
                &[("cookie", &cookie)],
            )
            .await;
        self.keep(&r);
        r
    }

    /// Submits a form to `path` with the CSRF token of the last page shown.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf.lock().unwrap().clone().unwrap_or_default();
        let mut all = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all, &[]).await
    }

    /// Posts exactly these fields (no token added), with extra headers.
    pub async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let cookie = self.cookie_header();
        let mut all = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", cookie.as_str()),
        ];
        all.extend_from_slice(headers);
        let r = self
            .app
            .send(
                reqwest::Method::POST,
                &self.host,
                path,
                None,
                &all,
                Some(&body),
            )
            .await;
        self.keep(&r);
        r
    }
}

/// The value of the first `_csrf` field of a page.
fn csrf_in(html: &str) -> Option<String> {
    let at = html.find(r#"name="_csrf" value=""#)?;
    let rest = &html[at + r#"name="_csrf" value=""#.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}
