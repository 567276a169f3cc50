//! What an HTTP request in a test got back.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A whole response, read into memory.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON when it parses as JSON, otherwise the text as a JSON string.
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl TestResponse {
    pub(crate) async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// The status as a number.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type` header, or `""`.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// Whether this is an RFC 9457 problem document.
    pub fn is_problem(&self) -> bool {
        self.content_type().starts_with("application/problem+json")
    }

    /// The problem document's `code`, when there is one.
    pub fn code(&self) -> Option<&str> {
        self.body.get("code").and_then(Value::as_str)
    }

    /// The problem document's `detail`, or `""`.
    pub fn detail(&self) -> &str {
        self.body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `data` of a success envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// `meta` of a success envelope.
    pub fn meta(&self) -> &Value {
        &self.body["meta"]
    }

    /// The items of a list envelope (empty when `data` is not an array).
    pub fn items(&self) -> &[Value] {
        self.body["data"].as_array().map_or(&[], Vec::as_slice)
    }

    /// `meta.next_cursor` of a list, when it is a string.
    pub fn next_cursor(&self) -> Option<&str> {
        self.body["meta"]["next_cursor"].as_str()
    }

    /// Panics with the request's outcome unless the status is `want`.
    #[track_caller]
    pub fn assert_status(&self, want: u16) -> &Self {
        assert_eq!(
            self.status(),
            want,
            "unexpected status; body: {}",
            truncate(&self.text, 600)
        );
        self
    }

    /// Panics unless this is a problem document with `status` and `code`, carrying every
    /// member the contract requires.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        self.assert_status(status);
        assert!(
            self.is_problem(),
            "Content-Type {:?} is not application/problem+json; body: {}",
            self.content_type(),
            truncate(&self.text, 300)
        );
        assert_eq!(
            self.code(),
            Some(code),
            "problem code; body: {}",
            truncate(&self.text, 600)
        );
        for member in ["type", "title", "status", "detail", "code", "request_id"] {
            assert!(
                self.body.get(member).is_some(),
                "problem document lacks `{member}`: {}",
                self.text
            );
        }
        assert_eq!(self.body["status"], status, "problem `status` member");
        let rid = self.body["request_id"].as_str().unwrap_or_default();
        assert!(!rid.is_empty(), "problem `request_id` is empty");
        assert_eq!(
            self.header("x-request-id"),
            Some(rid),
            "problem request_id matches the X-Request-Id header"
        );
        self
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
