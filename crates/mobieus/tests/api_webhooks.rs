//! The webhook management API over real HTTP: scopes, the secret shown once, SSRF checks
//! at registration, validation, deliveries written beside events, rotation, deletion,
//! tenant isolation and the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::{TestApp, fixtures};

const HOST: &str = "alpha.localhost";
const OK_BODY: &str =
    r#"{"url":"https://hooks.example.com/in","events":["user.joined"],"label":"crm"}"#;

#[tokio::test]
async fn an_endpoint_is_registered_with_its_secret_shown_once_and_receives_deliveries() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let manage = app
        .mint("alpha", "webhooks:read,webhooks:manage", 600)
        .await;
    let key = manage.secret.expose();

    let created = app.post(HOST, "/api/v1/webhooks", Some(key), OK_BODY).await;
    created.assert_status(201);
    let data = created.data();
    let id = data["id"].as_str().unwrap().to_owned();
    let secret = data["secret"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("ep_") && secret.starts_with("whsec_"),
        "{data}"
    );
    assert_eq!(data["events"], serde_json::json!(["user.joined"]));
    assert_eq!(
        (data["active"].as_bool(), data["label"].as_str()),
        (Some(true), Some("crm"))
    );

    let one = app
        .get(HOST, &format!("/api/v1/webhooks/{id}"), Some(key))
        .await;
    one.assert_status(200);
    assert_eq!(one.data()["url"], "https://hooks.example.com/in");
    let list = app.get(HOST, "/api/v1/webhooks", Some(key)).await;
    list.assert_status(200);
    assert_eq!(list.items().len(), 1);
    for text in [&one.text, &list.text] {
        assert!(
            !text.contains(&secret[6..]) && !text.contains("secret\""),
            "the secret is shown only once"
        );
    }

    // The next event it subscribes to gets a delivery, written with the event.
    let joined = forum_join(&db, "ann").await;
    let deliveries = db.deliveries_of_event(&joined).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        (deliveries[0].1.as_str(), deliveries[0].2.as_str()),
        (id.as_str(), "pending")
    );

    let audit = db.audit_log().await.unwrap();
    let created_entry = audit
        .iter()
        .find(|e| e.action == "endpoint.created")
        .unwrap();
    assert_eq!(created_entry.actor, format!("api_key:{}", manage.record.id));
    assert!(!format!("{audit:?}").contains(&secret[6..]));
}

async fn forum_join(db: &mobieus_store::TenantDb, name: &str) -> String {
    let user = fixtures::join(db, name).await;
    let page = db
        .events_page(&mobieus_store::EventFilter::default(), 0, 100)
        .await
        .unwrap();
    let event = page
        .items
        .iter()
        .rev()
        .find(|e| {
            e.json
                .contains(&format!("\"username\":\"{}\"", user.username))
        })
        .unwrap();
    event.id.clone()
}

#[tokio::test]
async fn scopes_guard_reading_and_managing() {
    let app = TestApp::start().await;
    let read = app.key("alpha", "webhooks:read", 600).await;
    let events_only = app.key("alpha", "events:read", 600).await;
    let r = app
        .post(HOST, "/api/v1/webhooks", Some(&read), OK_BODY)
        .await;
    r.assert_problem(403, "insufficient_scope");
    assert!(r.text.contains("webhooks:manage"));
    let r = app.get(HOST, "/api/v1/webhooks", Some(&events_only)).await;
    r.assert_problem(403, "insufficient_scope");
    assert!(r.text.contains("webhooks:read"));
    app.get(HOST, "/api/v1/webhooks", Some(&read))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn unsafe_urls_are_422_and_bad_bodies_400_and_nothing_is_written() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage", 10_000)
        .await;
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/",
        "https://0x7f.1/",
        "https://2130706433/",
        "https://[::ffff:127.0.0.1]/",
        "https://[64:ff9b::a00:1]/",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/",
        "https://metadata.google.internal/",
        "https://user:pw@hooks.example.com/",
    ] {
        let body = serde_json::json!({ "url": url, "events": ["*"] }).to_string();
        let r = app.post(HOST, "/api/v1/webhooks", Some(&key), &body).await;
        r.assert_problem(422, "unsafe_webhook_url");
    }
    for (body, param) in [
        (
            r#"{"url":"https://hooks.example.com/","events":["post.published"]}"#,
            "events",
        ),
        (
            r#"{"url":"https://hooks.example.com/","events":[]}"#,
            "events",
        ),
        (
            r#"{"url":"https://hooks.example.com/","events":["webhook.test"]}"#,
            "events",
        ),
        (r#"{"events":["*"]}"#, "url"),
        (
            r#"{"url":"https://hooks.example.com/","events":["*"],"secret":"x"}"#,
            "secret",
        ),
        ("{not json", "body"),
    ] {
        let r = app.post(HOST, "/api/v1/webhooks", Some(&key), body).await;
        r.assert_problem(400, "invalid_request");
        assert!(
            r.body["detail"].as_str().unwrap().contains(param),
            "{body}: {}",
            r.body
        );
    }
    let list = app.get(HOST, "/api/v1/webhooks", Some(&key)).await;
    assert!(list.items().is_empty(), "nothing was registered");
    assert!(
        db.audit_log()
            .await
            .unwrap()
            .iter()
            .all(|e| !e.action.starts_with("endpoint."))
    );
}

#[tokio::test]
async fn rotation_answers_a_new_secret_and_deletion_removes_the_endpoint() {
    let app = TestApp::start().await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage", 10_000)
        .await;
    let created = app
        .post(HOST, "/api/v1/webhooks", Some(&key), OK_BODY)
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let first = created.data()["secret"].as_str().unwrap().to_owned();

    let rotated = app
        .post(
            HOST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            Some(&key),
            r#"{"grace_seconds":3600}"#,
        )
        .await;
    rotated.assert_status(200);
    let second = rotated.data()["secret"].as_str().unwrap();
    assert!(second.starts_with("whsec_") && second != first);
    assert!(rotated.data()["previous_secret_expires_at"].is_string());
    let shown = app
        .get(HOST, &format!("/api/v1/webhooks/{id}"), Some(&key))
        .await;
    assert!(
        shown.data()["previous_secret_expires_at"].is_string(),
        "the grace window shows on the endpoint"
    );
    app.post(
        HOST,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        Some(&key),
        "",
    )
    .await
    .assert_status(200);
    let r = app
        .post(
            HOST,
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            Some(&key),
            r#"{"grace_seconds":604801}"#,
        )
        .await;
    r.assert_problem(400, "invalid_request");

    let deleted = app
        .send(
            reqwest::Method::DELETE,
            HOST,
            &format!("/api/v1/webhooks/{id}"),
            Some(&key),
            &[],
            None,
        )
        .await;
    deleted.assert_status(200);
    assert_eq!(deleted.data()["deleted"], true);
    app.get(HOST, &format!("/api/v1/webhooks/{id}"), Some(&key))
        .await
        .assert_problem(404, "not_found");
    let again = app
        .send(
            reqwest::Method::DELETE,
            HOST,
            &format!("/api/v1/webhooks/{id}"),
            Some(&key),
            &[],
            None,
        )
        .await;
    again.assert_problem(404, "not_found");
}

#[tokio::test]
async fn endpoints_are_tenant_scoped_and_listed_with_a_cursor() {
    let app = TestApp::start().await;
    let a = app
        .key("alpha", "webhooks:read,webhooks:manage", 10_000)
        .await;
    let b = app
        .key("beta", "webhooks:read,webhooks:manage", 10_000)
        .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let r = app.post(HOST, "/api/v1/webhooks", Some(&a), OK_BODY).await;
        ids.push(r.data()["id"].as_str().unwrap().to_owned());
    }
    let (walked, pages) = app.walk(HOST, "/api/v1/webhooks?limit=2", &a).await;
    assert_eq!(pages, 3);
    assert_eq!(
        walked
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ids
    );
    app.get(
        "beta.localhost",
        &format!("/api/v1/webhooks/{}", ids[0]),
        Some(&b),
    )
    .await
    .assert_problem(404, "not_found");
    assert!(
        app.get("beta.localhost", "/api/v1/webhooks", Some(&b))
            .await
            .items()
            .is_empty()
    );
    let wrong_method = app
        .request(
            reqwest::Method::PUT,
            HOST,
            "/api/v1/webhooks",
            Some(&a),
            &[],
        )
        .await;
    wrong_method.assert_problem(405, "method_not_allowed");
    let allow = wrong_method.header("allow").unwrap_or_default().to_owned();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow}"
    );
}

#[tokio::test]
async fn an_endpoint_is_changed_in_place_and_disabling_stops_its_deliveries() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage", 10_000)
        .await;
    let created = app
        .post(HOST, "/api/v1/webhooks", Some(&key), OK_BODY)
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhooks/{id}");
    let patch = |body: &'static str| {
        let (app, path, key) = (&app, path.clone(), key.clone());
        async move {
            app.send(
                reqwest::Method::PATCH,
                HOST,
                &path,
                Some(&key),
                &[("content-type", "application/json")],
                Some(body),
            )
            .await
        }
    };

    let r = patch(r#"{"label":null,"events":["post.created","user.joined"],"url":"https://hooks2.example.com/x"}"#).await;
    r.assert_status(200);
    assert_eq!(r.data()["label"], serde_json::Value::Null);
    assert_eq!(
        r.data()["events"],
        serde_json::json!(["user.joined", "post.created"])
    );
    assert_eq!(r.data()["url"], "https://hooks2.example.com/x");

    let off = patch(r#"{"active":false}"#).await;
    off.assert_status(200);
    assert_eq!(off.data()["active"], false);
    assert!(
        off.data()["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("disabled by api_key:key_")
    );
    let joined = forum_join(&db, "ann").await;
    assert!(
        db.deliveries_of_event(&joined).await.unwrap().is_empty(),
        "a disabled endpoint gets no deliveries"
    );

    let on = patch(r#"{"active":true}"#).await;
    on.assert_status(200);
    assert_eq!(
        (
            on.data()["active"].as_bool(),
            on.data()["consecutive_failures"].as_u64()
        ),
        (Some(true), Some(0))
    );
    assert!(on.data()["disabled_reason"].is_null() && on.data()["disabled_at"].is_null());
    let joined = forum_join(&db, "bob").await;
    assert_eq!(db.deliveries_of_event(&joined).await.unwrap().len(), 1);

    patch(r#"{"url":"https://10.0.0.1/"}"#)
        .await
        .assert_problem(422, "unsafe_webhook_url");
    for (body, param) in [
        (r#"{"colour":"red"}"#, "colour"),
        (r#"{"active":"yes"}"#, "active"),
        (r#"{"events":["nope"]}"#, "events"),
    ] {
        let r = patch(body).await;
        r.assert_problem(400, "invalid_request");
        assert!(
            r.body["detail"].as_str().unwrap().contains(param),
            "{body}: {}",
            r.body
        );
    }
    let updates: Vec<_> = db
        .audit_log()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "endpoint.updated")
        .collect();
    assert_eq!(updates.len(), 3, "one entry per accepted change");
    assert_eq!(
        updates[0].details["url"]["to"],
        "https://hooks2.example.com/x"
    );
}

#[tokio::test]
async fn deliveries_are_listed_by_status_and_shown_with_their_attempts() {
    use mobieus_core::delivery::{self, DeliveryPolicy, Outcome};
    use mobieus_domain::time::Timestamp;
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage", 10_000)
        .await;
    let created = app
        .post(HOST, "/api/v1/webhooks", Some(&key), OK_BODY)
        .await;
    let id = created.data()["id"].as_str().unwrap().to_owned();
    for name in ["ann", "bob", "cy"] {
        forum_join(&db, name).await;
    }
    // One attempt, as the worker records it: a 500 with the headers it sent.
    let far = Timestamp::now().plus_millis(86_400_000);
    let claimed = db
        .claim_due(&mobieus_store::Claim::new(far, far.plus_millis(1000), 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let attempt = mobieus_store::NewAttempt {
        delivery: claimed.id.clone(),
        number: 1,
        started_at: Timestamp::now(),
        duration_ms: 12,
        request_headers: mobieus_domain::webhook::SentHeaders::from_pairs([
            ("webhook-id", claimed.event_id.as_str()),
            ("mobieus-signature", "t=1,v1=ab"),
        ]),
        response_status: Some(500),
        response_excerpt: Some("oops".into()),
        error: None,
    };
    delivery::record(
        &db,
        &DeliveryPolicy::default(),
        &claimed,
        &attempt,
        Outcome::Failed {
            gone: false,
            retry_after: None,
        },
        0.0,
    )
    .await
    .unwrap();

    let all = app
        .get(
            HOST,
            &format!("/api/v1/webhooks/{id}/deliveries"),
            Some(&key),
        )
        .await;
    all.assert_status(200);
    assert_eq!(all.items().len(), 3);
    assert!(
        all.items()
            .iter()
            .all(|d| d["event_type"] == "user.joined" && d["status"] == "pending")
    );
    let (walked, pages) = app
        .walk(
            HOST,
            &format!("/api/v1/webhooks/{id}/deliveries?status=pending&limit=2"),
            &key,
        )
        .await;
    assert_eq!((walked.len(), pages), (3, 2));
    let none = app
        .get(
            HOST,
            &format!("/api/v1/webhooks/{id}/deliveries?status=succeeded"),
            Some(&key),
        )
        .await;
    assert!(none.items().is_empty());
    app.get(
        HOST,
        &format!("/api/v1/webhooks/{id}/deliveries?status=lost"),
        Some(&key),
    )
    .await
    .assert_problem(400, "invalid_request");

    let one = app
        .get(
            HOST,
            &format!("/api/v1/webhooks/{id}/deliveries/{}", claimed.id),
            Some(&key),
        )
        .await;
    one.assert_status(200);
    assert_eq!(one.data()["attempts"], 1);
    assert!(
        one.data()["next_attempt_at"].is_string(),
        "retried by the schedule"
    );
    let made = &one.data()["attempts_made"][0];
    assert_eq!(
        (made["number"].as_u64(), made["response_status"].as_u64()),
        (Some(1), Some(500))
    );
    assert_eq!(made["request_headers"]["mobieus-signature"], "t=1,v1=ab");
    app.get(
        HOST,
        &format!("/api/v1/webhooks/{id}/deliveries/dlv_00000000000000000000"),
        Some(&key),
    )
    .await
    .assert_problem(404, "not_found");
    let other = app
        .post(HOST, "/api/v1/webhooks", Some(&key), OK_BODY)
        .await;
    let other_id = other.data()["id"].as_str().unwrap();
    app.get(
        HOST,
        &format!("/api/v1/webhooks/{other_id}/deliveries/{}", claimed.id),
        Some(&key),
    )
    .await
    .assert_problem(404, "not_found");
}
