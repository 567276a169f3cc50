//! Errors over real HTTP are RFC 9457 problem documents with a stable `code`: unknown
//! routes, wrong methods, unknown tenants; and every response has a JSON body.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::TestApp;
use reqwest::Method;

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
