//! API keys over real HTTP: tenant isolation, missing/invalid/revoked keys, scopes, rate
//! limits and the RateLimit fields, the tenant chosen by `Host`, and `X-Request-Id`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_domain::api_key::{ApiKeySecret, KeyMode};
use mobieus_testkit::{TestApp, fixtures};

const ALL_READ: &str = "events:read,users:read,posts:read";

/// A key minted on tenant A answers 200 on A and 401 `invalid_api_key` on B and C, the
/// same answer as an unknown key (nothing is learned).
#[tokio::test]
async fn a_key_works_on_its_own_tenant_only() {
    let app = TestApp::start().await;
    let a = app.tenant("alpha").await;
    app.tenant("beta").await;
    app.tenant("gamma").await;
    fixtures::small_forum(&a, 1).await;
    let key = app.key("alpha", ALL_READ, 600).await;

    for path in ["/api/v1/events", "/api/v1/users", "/api/v1/posts"] {
        let own = app.get("alpha.localhost", path, Some(&key)).await;
        own.assert_status(200);
        assert!(
            !own.items().is_empty(),
            "{path} on the key's own tenant lists its rows"
        );
        for host in ["beta.localhost", "gamma.localhost"] {
            let other = app.get(host, path, Some(&key)).await;
            other.assert_problem(401, "invalid_api_key");
            assert!(!other.text.contains(&key), "the key is not echoed back");
        }
    }

    // B's own key sees B's (empty) feed, not A's.
    let b_key = app.key("beta", ALL_READ, 600).await;
    let b = app
        .get("beta.localhost", "/api/v1/events", Some(&b_key))
        .await;
    b.assert_status(200);
    assert!(
        b.items().is_empty(),
        "tenant beta's feed is its own: {}",
        b.text
    );
    app.get("alpha.localhost", "/api/v1/events", Some(&b_key))
        .await
        .assert_problem(401, "invalid_api_key");
}

#[tokio::test]
async fn a_missing_key_is_401_missing_api_key() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    for path in [
        "/api/v1/events",
        "/api/v1/users",
        "/api/v1/posts",
        "/api/v1/users/1",
    ] {
        app.get("alpha.localhost", path, None)
            .await
            .assert_problem(401, "missing_api_key");
    }
    // An Authorization header of another scheme is no API key either.
    let basic = app
        .request(
            reqwest::Method::GET,
            "alpha.localhost",
            "/api/v1/events",
            None,
            &[("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")],
        )
        .await;
    assert_eq!(basic.status(), 401, "{}", basic.text);
    assert!(
        matches!(basic.code(), Some("missing_api_key" | "invalid_api_key")),
        "{}",
        basic.text
    );
}

#[tokio::test]
async fn unknown_malformed_and_foreign_keys_get_the_same_401() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let well_formed_unknown = ApiKeySecret::generate(KeyMode::Live).expose().to_owned();
    let test_mode_unknown = ApiKeySecret::generate(KeyMode::Test).expose().to_owned();
    let bogus = [
        format!("mc_live_{}", "x".repeat(40)),
        "not-a-key".to_owned(),
        "mc_test_".to_owned(),
        well_formed_unknown,
        test_mode_unknown,
    ];
    let mut bodies = Vec::new();
    for key in &bogus {
        let r = app
            .get("alpha.localhost", "/api/v1/events", Some(key))
            .await;
        r.assert_problem(401, "invalid_api_key");
        assert!(
            !r.text.contains(key.as_str()),
            "the presented key is not echoed in the error"
        );
        bodies.push((
            r.body["title"].clone(),
            r.body["detail"].clone(),
            r.body["type"].clone(),
        ));
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every bad key gets the same answer: {bodies:?}"
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    let app = TestApp::start().await;
    let minted = app.mint("alpha", "events:read", 600).await;
    let key = minted.secret.expose().to_owned();
    let other = app.key("alpha", "events:read", 600).await;
    app.get("alpha.localhost", "/api/v1/events", Some(&key))
        .await
        .assert_status(200);
    app.revoke("alpha", minted.record.id.as_str()).await;
    app.get("alpha.localhost", "/api/v1/events", Some(&key))
        .await
        .assert_problem(401, "invalid_api_key");
    app.get("alpha.localhost", "/api/v1/events", Some(&other))
        .await
        .assert_status(200);
}

/// Every endpoint needs its scope; a key without it gets 403 naming the scope.
#[tokio::test]
async fn every_endpoint_checks_its_scope() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 1).await;
    let events = app.key("alpha", "events:read", 600).await;
    let users = app.key("alpha", "users:read", 600).await;
    let posts = app.key("alpha", "posts:read", 600).await;
    let webhooks = app.key("alpha", "webhooks:read,webhooks:manage", 600).await;
    let everything = app.key("alpha", ALL_READ, 600).await;

    let feed = app
        .get("alpha.localhost", "/api/v1/events", Some(&everything))
        .await;
    let event_id = feed.items()[0]["id"]
        .as_str()
        .expect("an event id")
        .to_owned();
    let user_path = format!("/api/v1/users/{}", forum.ann.id);
    let post_path = format!("/api/v1/posts/{}", forum.opening.id);
    let event_path = format!("/api/v1/events/{event_id}");
    let endpoints = [
        ("/api/v1/events", "events:read"),
        (event_path.as_str(), "events:read"),
        ("/api/v1/users", "users:read"),
        (user_path.as_str(), "users:read"),
        ("/api/v1/posts", "posts:read"),
        (post_path.as_str(), "posts:read"),
        ("/api/v1/events?type=post.created", "events:read"),
    ];
    let keys = [
        ("events:read", &events),
        ("users:read", &users),
        ("posts:read", &posts),
        ("", &webhooks),
    ];
    for (path, needs) in endpoints {
        app.get("alpha.localhost", path, Some(&everything))
            .await
            .assert_status(200);
        for (has, key) in keys {
            let r = app.get("alpha.localhost", path, Some(key)).await;
            if has == needs {
                r.assert_status(200);
            } else {
                r.assert_problem(403, "insufficient_scope");
                let detail = r.body["detail"].as_str().unwrap_or_default();
                assert!(
                    detail.contains(needs),
                    "403 on {path} names {needs}: {detail:?}"
                );
            }
        }
    }
}

/// The scope is checked before the resource is looked up: a key without `users:read`
/// learns nothing about which users exist.
#[tokio::test]
async fn scope_is_checked_before_existence() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let events = app.key("alpha", "events:read", 600).await;
    app.get("alpha.localhost", "/api/v1/users/999999", Some(&events))
        .await
        .assert_problem(403, "insufficient_scope");
    app.get("alpha.localhost", "/api/v1/posts/999999", Some(&events))
        .await
        .assert_problem(403, "insufficient_scope");
}

fn ratelimit_remaining(r: &mobieus_testkit::TestResponse) -> (u64, u64) {
    let field = r
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no RateLimit header on {} {}", r.status(), r.text));
    let part = |name: &str| -> u64 {
        field
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("RateLimit {field:?} lacks {name}<n>"))
    };
    assert!(
        field.trim_start().starts_with("\"key\""),
        "RateLimit names the \"key\" policy: {field:?}"
    );
    (part("r="), part("t="))
}

#[tokio::test]
async fn responses_carry_the_ratelimit_fields() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app.key("alpha", ALL_READ, 600).await;
    let mut last = u64::MAX;
    for path in ["/api/v1/events", "/api/v1/users", "/api/v1/posts"] {
        let r = app.get("alpha.localhost", path, Some(&key)).await;
        r.assert_status(200);
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"key\";q=600;w=60"),
            "RateLimit-Policy on {path}"
        );
        let (left, reset) = ratelimit_remaining(&r);
        assert!(
            left < 600 && left < last,
            "remaining quota goes down: {left} after {last}"
        );
        assert!(reset <= 60, "t= is at most the window: {reset}");
        last = left;
    }
    // Errors with a valid key are API responses too.
    let r = app
        .get("alpha.localhost", "/api/v1/events?limit=0", Some(&key))
        .await;
    r.assert_problem(400, "invalid_request");
    assert_eq!(
        r.header("ratelimit-policy"),
        Some("\"key\";q=600;w=60"),
        "RateLimit-Policy on a 400"
    );
    ratelimit_remaining(&r);
}

#[tokio::test]
async fn over_the_rate_is_429_with_retry_after() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let slow = app.key("alpha", "events:read", 3).await;
    let other = app.key("alpha", "events:read", 600).await;
    let mut lefts = Vec::new();
    for _ in 0..3 {
        let r = app
            .get("alpha.localhost", "/api/v1/events?limit=1", Some(&slow))
            .await;
        r.assert_status(200);
        assert_eq!(
            r.header("ratelimit-policy"),
            Some("\"key\";q=3;w=60"),
            "the policy states this key's own quota"
        );
        lefts.push(ratelimit_remaining(&r).0);
    }
    assert_eq!(lefts, [2, 1, 0], "remaining quota after each of 3 requests");

    let r = app
        .get("alpha.localhost", "/api/v1/events?limit=1", Some(&slow))
        .await;
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .expect("429 carries Retry-After")
        .trim()
        .parse()
        .expect("Retry-After is a number of seconds");
    assert!(
        (1..=60).contains(&retry),
        "Retry-After within the window: {retry}"
    );
    let (left, reset) = ratelimit_remaining(&r);
    assert_eq!(left, 0);
    assert!((1..=60).contains(&reset), "t= {reset}");
    // Still limited, whatever the query.
    let again = app
        .get("alpha.localhost", "/api/v1/events", Some(&slow))
        .await;
    assert_eq!(again.status(), 429, "{}", again.text);

    // The limit is per key.
    app.get("alpha.localhost", "/api/v1/events?limit=1", Some(&other))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn the_tenant_comes_from_the_host_header() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    fixtures::join(&db, "ann").await;
    let key = app.key("alpha", ALL_READ, 600).await;
    for host in [
        "alpha.localhost",
        "alpha.localhost:8080",
        "Alpha.LocalHost",
        &format!("alpha.localhost:{}", app.addr().port()),
    ] {
        let r = app.get(host, "/api/v1/users", Some(&key)).await;
        r.assert_status(200);
        assert_eq!(r.items().len(), 1, "Host {host:?}");
    }
    for host in [
        "nowhere.localhost",
        "localhost",
        "127.0.0.1",
        "alpha.example.com",
        "alpha.localhost.evil.test",
    ] {
        app.get(host, "/api/v1/events", Some(&key))
            .await
            .assert_problem(404, "unknown_tenant");
    }
    // Without a key, an unknown host is still an unknown tenant.
    app.get("nowhere.localhost", "/api/v1/events", None)
        .await
        .assert_problem(404, "unknown_tenant");
}

#[tokio::test]
async fn x_request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let key = app.key("alpha", "events:read", 600).await;

    let sent = [("x-request-id", "client-req-42")];
    let r = app
        .request(
            reqwest::Method::GET,
            "alpha.localhost",
            "/api/v1/events?limit=2",
            Some(&key),
            &sent,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.header("x-request-id"), Some("client-req-42"));
    assert_eq!(
        r.meta()["request_id"],
        "client-req-42",
        "meta.request_id is the request's id"
    );
    let err = app
        .request(
            reqwest::Method::GET,
            "alpha.localhost",
            "/api/v1/events?limit=0",
            Some(&key),
            &sent,
        )
        .await;
    err.assert_problem(400, "invalid_request");
    assert_eq!(err.body["request_id"], "client-req-42");

    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = app
            .get("alpha.localhost", "/api/v1/events", Some(&key))
            .await;
        let id = r
            .header("x-request-id")
            .expect("an X-Request-Id when none was sent")
            .to_owned();
        assert!(
            id.starts_with("req_") && id.len() > 8,
            "generated id {id:?}"
        );
        assert_eq!(r.meta()["request_id"], id.as_str());
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "every request gets its own id");

    let long = "x".repeat(1000);
    for insane in [long.as_str(), "has spaces in it", "quote\"d"] {
        let r = app
            .request(
                reqwest::Method::GET,
                "alpha.localhost",
                "/api/v1/events",
                Some(&key),
                &[("x-request-id", insane)],
            )
            .await;
        r.assert_status(200);
        let id = r.header("x-request-id").expect("an X-Request-Id");
        assert_ne!(
            id, insane,
            "an unreasonable request id is replaced, not echoed"
        );
        assert!(
            id.starts_with("req_"),
            "replaced by a generated one: {id:?}"
        );
    }

    // Every response has one: errors, unknown tenants, docs.
    for (host, path) in [
        ("alpha.localhost", "/api/v1/nope"),
        ("nowhere.localhost", "/api/v1/events"),
        ("alpha.localhost", "/api/openapi.yaml"),
    ] {
        let r = app.get(host, path, None).await;
        assert!(
            r.header("x-request-id").is_some_and(|v| !v.is_empty()),
            "no X-Request-Id on {host}{path}"
        );
    }
}

/// `last_used_at` is recorded on use, but written at most about once a minute per key,
/// not on every request.
#[tokio::test]
async fn last_used_at_is_recorded_without_a_write_per_request() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let minted = app.mint("alpha", "events:read", 600).await;
    let last_used = || async {
        let keys = mobieus_core::keys::list(&db).await.unwrap();
        keys.iter()
            .find(|k| k.id == minted.record.id)
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used().await, None, "a new key was never used");

    app.get(
        "alpha.localhost",
        "/api/v1/events",
        Some(minted.secret.expose()),
    )
    .await
    .assert_status(200);
    let mut first = None;
    for _ in 0..100 {
        first = last_used().await;
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let first = first.expect("last_used_at recorded after a request");

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..5 {
        app.get(
            "alpha.localhost",
            "/api/v1/events",
            Some(minted.secret.expose()),
        )
        .await
        .assert_status(200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        last_used().await,
        Some(first),
        "uses within the minute do not rewrite last_used_at"
    );
}
