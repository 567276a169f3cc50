//! Errors over real HTTP are RFC 9457 problem documents with a stable `code`: unknown
//! routes, wrong methods, unknown tenants, and every refusal of a body, a path or a query
//! (also those the framework makes: over the size limit, not JSON, malformed); and every
//! response has a JSON body.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::TestApp;
use reqwest::Method;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

const HOST: &str = "alpha.localhost";

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app
        .key("alpha", "events:read,users:read,posts:read", 600)
        .await;
    for path in [
        "/api/v1/nope",
        "/api/v1/events/evt_x/more",
        "/api/v2/events",
        "/api/v1/",
        "/api/v1/users/1/posts",
    ] {
        let r = app.get(HOST, path, Some(&key)).await;
        r.assert_problem(404, "not_found");
    }
    // Also without a key: an unknown route is not an auth question.
    let r = app.get(HOST, "/api/v1/nope", None).await;
    assert!(
        r.is_problem() && matches!(r.status(), 401 | 404),
        "{} {}",
        r.status(),
        r.text
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app
        .key("alpha", "events:read,users:read,posts:read", 600)
        .await;
    for (method, path) in [
        (Method::DELETE, "/api/v1/events"),
        (Method::POST, "/api/v1/events"),
        (Method::PUT, "/api/v1/users"),
        (Method::PATCH, "/api/v1/posts"),
        (Method::DELETE, "/api/v1/users/1"),
        (Method::POST, "/api/openapi.yaml"),
    ] {
        let r = app
            .request(method.clone(), HOST, path, Some(&key), &[])
            .await;
        r.assert_problem(405, "method_not_allowed");
        let allow = r.header("allow").unwrap_or_default();
        assert!(
            allow.contains("GET"),
            "405 on {method} {path} says what is allowed (RFC 9110): Allow={allow:?}"
        );
    }
}

#[tokio::test]
async fn problem_documents_have_every_member() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let r = app.get(HOST, "/api/v1/events", None).await;
    r.assert_problem(401, "missing_api_key");
    assert_eq!(r.content_type(), "application/problem+json");
    let body = &r.body;
    for member in ["type", "title", "detail"] {
        assert!(
            body[member].as_str().is_some_and(|s| !s.is_empty()),
            "`{member}` is a non-empty string: {body}"
        );
    }
    assert_eq!(body["status"], 401);
    assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn an_unknown_host_is_unknown_tenant_everywhere() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    for path in ["/api/v1/events", "/api/v1/users/1", "/api/v1/nope"] {
        app.get("nowhere.localhost", path, None)
            .await
            .assert_problem(404, "unknown_tenant");
    }
}

#[tokio::test]
async fn every_api_response_has_a_json_body() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app.key("alpha", "events:read", 600).await;
    let cases = [
        (Method::GET, HOST, "/api/v1/events", Some(key.as_str())),
        (Method::GET, HOST, "/api/v1/events", None),
        (Method::GET, HOST, "/api/v1/users", Some(key.as_str())),
        (
            Method::GET,
            HOST,
            "/api/v1/events?limit=0",
            Some(key.as_str()),
        ),
        (Method::GET, HOST, "/api/v1/nope", Some(key.as_str())),
        (Method::DELETE, HOST, "/api/v1/events", Some(key.as_str())),
        (Method::GET, "nowhere.localhost", "/api/v1/events", None),
        (Method::HEAD, HOST, "/api/v1/nope", Some(key.as_str())),
    ];
    for (method, host, path, key) in cases {
        let r = app.request(method.clone(), host, path, key, &[]).await;
        if method == Method::HEAD {
            assert!(r.status() >= 400, "HEAD {path}: {}", r.status());
            continue;
        }
        assert!(
            r.body.is_object(),
            "{method} {host}{path} answered {} with a body that is not a JSON object: {:?}",
            r.status(),
            r.text
        );
        assert!(
            r.content_type().contains("json"),
            "{method} {host}{path}: Content-Type {}",
            r.content_type()
        );
    }
}

/// One byte over the API's body limit (1 MiB), as valid JSON: only its size is wrong.
fn oversized_json() -> String {
    let limit = 1024 * 1024;
    let mut body =
        String::from(r#"{"url":"https://hooks.example.com/in","events":["*"],"label":""#);
    body.push_str(&"a".repeat(limit + 1 - body.len() - 2));
    body.push_str("\"}");
    assert_eq!(body.len(), limit + 1);
    body
}

/// A request and what it must get: method, path, extra headers, body; status, code.
type Case<'a> = (
    Method,
    &'a str,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    u16,
    &'a str,
);

#[tokio::test]
async fn every_rejection_is_a_problem_document_and_changes_nothing() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app
        .key(
            "alpha",
            "events:read,webhooks:read,webhooks:manage",
            100_000,
        )
        .await;
    let created = app
        .post(
            HOST,
            "/api/v1/webhooks",
            Some(&key),
            r#"{"url":"https://hooks.example.com/in","events":["*"]}"#,
        )
        .await;
    created.assert_status(201);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let (patch, rotate, recover) = (
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/rotate-secret"),
        format!("/api/v1/webhooks/{id}/recover"),
    );
    let big = oversized_json();
    let json = [("content-type", "application/json")];
    let keyed = [
        ("content-type", "application/json"),
        ("idempotency-key", "big-one"),
    ];
    let valid = r#"{"url":"https://hooks.example.com/two","events":["*"]}"#;
    let cases: Vec<Case> = vec![
        // Over the size limit, declared by Content-Length; read by the handler, or first
        // by the idempotency middleware.
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some(&big),
            413,
            "payload_too_large",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &keyed,
            Some(&big),
            413,
            "payload_too_large",
        ),
        (
            Method::PATCH,
            &patch,
            &json,
            Some(&big),
            413,
            "payload_too_large",
        ),
        (
            Method::POST,
            &rotate,
            &json,
            Some(&big),
            413,
            "payload_too_large",
        ),
        // Not declared as JSON.
        (
            Method::POST,
            "/api/v1/webhooks",
            &[],
            Some(valid),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &[("content-type", "text/plain")],
            Some(valid),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some("url=x"),
            415,
            "unsupported_media_type",
        ),
        (
            Method::PATCH,
            &patch,
            &[],
            Some(r#"{"active":false}"#),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            &rotate,
            &[("content-type", "text/plain")],
            Some(""),
            415,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            &recover,
            &[],
            Some(r#"{"since":"2026-01-01T00:00:00Z"}"#),
            415,
            "unsupported_media_type",
        ),
        // Malformed JSON, or JSON of the wrong shape.
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some(r#"{"url":"#),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some("[]"),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some("null"),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some(r#"{"url":5,"events":["*"]}"#),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some(r#"{"events":["*"]}"#),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            "/api/v1/webhooks",
            &json,
            Some(r#"{"url":"https://a.example.com/","events":["*"],"x":1}"#),
            400,
            "invalid_request",
        ),
        (
            Method::PATCH,
            &patch,
            &json,
            Some(r#"{"active":"no"}"#),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            &rotate,
            &json,
            Some(r#"{"grace_seconds":"x"}"#),
            400,
            "invalid_request",
        ),
        (
            Method::POST,
            &recover,
            &json,
            Some(r#"{"since":"yesterday"}"#),
            400,
            "invalid_request",
        ),
        // A malformed header the API reads.
        (
            Method::POST,
            "/api/v1/webhooks",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", ""),
            ],
            Some(valid),
            400,
            "invalid_request",
        ),
        // Path parameters that cannot be read, or name nothing.
        (
            Method::GET,
            "/api/v1/webhooks/%FF",
            &[],
            None,
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/events/%C3%28",
            &[],
            None,
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/webhooks/ep_nope/deliveries/%FF",
            &[],
            None,
            404,
            "not_found",
        ),
        (
            Method::PATCH,
            "/api/v1/webhooks/%FF",
            &json,
            Some("{}"),
            404,
            "not_found",
        ),
        // Query parameters.
        (
            Method::GET,
            "/api/v1/events?limit=0",
            &[],
            None,
            400,
            "invalid_request",
        ),
        (
            Method::GET,
            "/api/v1/events?limit=%FF",
            &[],
            None,
            400,
            "invalid_request",
        ),
        (
            Method::GET,
            "/api/v1/webhooks?nope=1",
            &[],
            None,
            400,
            "invalid_request",
        ),
        (
            Method::GET,
            "/api/v1/events?cursor=x&cursor=y",
            &[],
            None,
            400,
            "invalid_request",
        ),
        // Unknown routes and wrong methods, inside and outside /api/v1.
        (Method::GET, "/api/v1/nope", &[], None, 404, "not_found"),
        (Method::GET, "/api/nope", &[], None, 404, "not_found"),
        (
            Method::PUT,
            "/api/v1/webhooks",
            &json,
            Some("{}"),
            405,
            "method_not_allowed",
        ),
        (
            Method::DELETE,
            "/api/v1/events",
            &[],
            None,
            405,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/api/openapi.json",
            &json,
            Some("{}"),
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let r = app
            .send(method.clone(), HOST, path, Some(&key), headers, body)
            .await;
        let shown = body.map_or(0, str::len);
        assert_eq!(
            (r.status(), r.code()),
            (status, Some(code)),
            "{method} {path} {headers:?} ({shown} bytes): {}",
            r.text
        );
        r.assert_problem(status, code);
    }

    // A chunked body (no Content-Length) over the limit: the same 413, whoever reads it.
    for idempotency_key in [None, Some("chunked-big")] {
        let (status, content_type, body) =
            post_chunked(app.addr(), &key, idempotency_key, 1024 * 1024 + 64 * 1024).await;
        let problem: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{status}: {}", String::from_utf8_lossy(&body)));
        assert_eq!(
            (status, content_type.as_str(), problem["code"].as_str()),
            (413, "application/problem+json", Some("payload_too_large")),
            "chunked, key {idempotency_key:?}: {problem}"
        );
        assert!(
            problem["request_id"]
                .as_str()
                .is_some_and(|s| s.starts_with("req_"))
        );
    }
    // Within the limit, a chunked body is read like any other.
    let (status, _, body) = post_chunked(app.addr(), &key, None, 10).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));

    // None of it changed anything.
    let list = app.get(HOST, "/api/v1/webhooks", Some(&key)).await;
    list.assert_status(200);
    assert_eq!(list.items().len(), 1, "{}", list.text);
    assert_eq!(list.items()[0]["active"], true);
    assert!(
        list.items()[0]["previous_secret_expires_at"].is_null(),
        "no rotation happened: {}",
        list.text
    );
    // A refused request keeps nothing under its Idempotency-Key: fixed, it runs.
    app.send(
        Method::POST,
        HOST,
        "/api/v1/webhooks",
        Some(&key),
        &keyed,
        Some(valid),
    )
    .await
    .assert_status(201);
}

/// `POST /api/v1/webhooks` with a chunked body of `size` bytes (`{"url":"aaaa…` , valid
/// JSON only in its first bytes), over a raw connection: reqwest always sends a length
/// for a body it holds. Answers the status, the content type and the body.
async fn post_chunked(
    addr: SocketAddr,
    key: &str,
    idempotency_key: Option<&str>,
    size: usize,
) -> (u16, String, Vec<u8>) {
    let mut head = format!(
        "POST /api/v1/webhooks HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
    );
    if let Some(k) = idempotency_key {
        head.push_str(&format!("Idempotency-Key: {k}\r\n"));
    }
    head.push_str("\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        // Written from another thread: the server may answer before it has read it all.
        let sender = std::thread::spawn(move || {
            let mut body = b"{\"url\":\"".to_vec();
            body.resize(size, b'a');
            let mut out = head.into_bytes();
            for chunk in body.chunks(16 * 1024) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            // The server may close once it has answered: a failed write is expected then.
            let _ = writer.write_all(&out);
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                // A reset after the answer came in (the rest of the body was unread).
                Err(_) if !answer.is_empty() => break,
                Err(e) => panic!("no answer to a chunked POST: {e}"),
            }
        }
        let _ = sender.join();
        parse_response(&answer)
    })
    .await
    .unwrap()
}

/// The status, content type and body of a raw HTTP/1.1 answer with a Content-Length.
fn parse_response(raw: &[u8]) -> (u16, String, Vec<u8>) {
    let text = String::from_utf8_lossy(raw);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    let start = head.len() + 4;
    let body = raw[start..(start + length).min(raw.len())].to_vec();
    (status, header("content-type"), body)
}
