//! Webhook delivery end to end: the real server with its in-process worker, a real HTTPS
//! receiver on loopback (its CA trusted as `MOBIEUS_WEBHOOK_CA_FILE` would), and the
//! bytes and headers as the receiver read them.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{WebhookSecret, verify};
use mobieus_testkit::receiver::{Answer, Receiver};
use mobieus_testkit::{TestApp, TestOptions, fixtures};
use serde_json::{Value, json};
use std::time::Duration;

const HOST: &str = "alpha.localhost";
const WAIT: Duration = Duration::from_secs(10);

async fn start(receiver: &Receiver, schedule: &str) -> (TestApp, String) {
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering(schedule, Some(&ca))).await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage,events:read", 6000)
        .await;
    (app, key)
}

#[tokio::test]
async fn an_event_reaches_a_subscribed_endpoint_signed_and_no_other() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s,1m").await;
    let db = app.tenant("alpha").await;
    let (joins, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/joins"), &["user.joined"])
        .await;
    app.register_webhook(HOST, &key, &receiver.url("/posts"), &["post.created"])
        .await;
    let (off, _) = app
        .register_webhook(HOST, &key, &receiver.url("/off"), &["*"])
        .await;
    app.send(
        reqwest::Method::PATCH,
        HOST,
        &format!("/api/v1/webhooks/{off}"),
        Some(&key),
        &[("content-type", "application/json")],
        Some(r#"{"active":false}"#),
    )
    .await
    .assert_status(200);

    let started = std::time::Instant::now();
    fixtures::join(&db, "ann").await;
    let got = receiver.wait_for(1, WAIT).await;
    let latency = got[0].at - started;
    receiver
        .assert_stays_at(1, Duration::from_millis(700))
        .await;

    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/joins"));
    r.assert_signed_with(&secret);
    let event = r.json();
    assert_eq!(event["type"], "user.joined");
    assert_eq!(event["data"]["user"]["username"], "ann");
    let event_id = event["id"].as_str().unwrap();
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("mobieus-event"), "user.joined");
    assert_eq!(r.header("mobieus-event-id"), event_id);
    assert_eq!(r.header("webhook-id"), event_id);
    assert_eq!(r.header("mobieus-attempt"), "1");
    assert!(r.header("mobieus-delivery-id").starts_with("dlv_"));
    assert!(
        latency < Duration::from_secs(1),
        "woken at commit, not at the next poll: {latency:?}"
    );

    // The body is the feed's event, byte for byte.
    let feed = app
        .get(HOST, &format!("/api/v1/events/{event_id}"), Some(&key))
        .await;
    feed.assert_status(200);
    assert_eq!(feed.data(), &event);

    // The attempt log shows the request as sent.
    let log = app.deliveries(HOST, &key, &joins).await;
    assert_eq!(log.len(), 1);
    let id = log[0]["id"].as_str().unwrap();
    let d = app
        .wait_delivery_status(HOST, &key, &joins, id, "succeeded")
        .await;
    let attempt = &d["attempts_made"][0];
    assert_eq!(attempt["response_status"], 200);
    assert_eq!(
        attempt["request_headers"]["mobieus-signature"],
        r.header("mobieus-signature")
    );
    assert_eq!(
        attempt["request_headers"]["webhook-signature"],
        r.header("webhook-signature")
    );
}

#[tokio::test]
async fn a_receiver_that_fails_n_times_gets_n_plus_one_attempts_with_one_webhook_id() {
    let receiver = Receiver::https().await;
    receiver.queue([
        Answer::status(500),
        Answer::status(503).with_header("retry-after", "1"),
        Answer::status(302).with_header("location", "https://127.0.0.1:1/elsewhere"),
    ]);
    let (app, key) = start(&receiver, "0s,300ms,300ms,300ms,300ms").await;
    let db = app.tenant("alpha").await;
    let (ep, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;

    fixtures::join(&db, "ann").await;
    let got = receiver.wait_for(4, WAIT).await;
    receiver
        .assert_stays_at(4, Duration::from_millis(800))
        .await;

    let id = got[0].header("webhook-id");
    for (i, r) in got.iter().enumerate() {
        assert_eq!(
            r.header("webhook-id"),
            id,
            "the same webhook-id every attempt"
        );
        assert_eq!(r.header("mobieus-attempt"), (i + 1).to_string());
        assert_eq!(r.body, got[0].body, "the same bytes every attempt");
        r.assert_signed_with(&secret);
    }
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(280), "{gaps:?}");
    assert!(
        gaps[1] >= Duration::from_millis(950),
        "Retry-After: 1 on a 503 is honoured: {gaps:?}"
    );
    assert!(gaps[2] >= Duration::from_millis(280), "{gaps:?}");

    let log = app.deliveries(HOST, &key, &ep).await;
    let d = app
        .wait_delivery_status(HOST, &key, &ep, log[0]["id"].as_str().unwrap(), "succeeded")
        .await;
    let statuses: Vec<&Value> = d["attempts_made"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["response_status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(503), &json!(302), &json!(200)]
    );
    assert_eq!(d["attempts"], 4);
}

#[tokio::test]
async fn the_last_failed_attempt_fails_the_delivery() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s,100ms").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    fixtures::join(&db, "ann").await;
    receiver.wait_for(2, WAIT).await;
    let log = app.deliveries(HOST, &key, &ep).await;
    let d = app
        .wait_delivery_status(HOST, &key, &ep, log[0]["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(d["attempts"], 2);
    assert!(d["next_attempt_at"].is_null());
    receiver
        .assert_stays_at(2, Duration::from_millis(500))
        .await;
}

async fn endpoint(app: &TestApp, key: &str, id: &str) -> Value {
    let one = app
        .get(HOST, &format!("/api/v1/webhooks/{id}"), Some(key))
        .await;
    one.assert_status(200);
    one.data().clone()
}

#[tokio::test]
async fn twenty_consecutive_failures_disable_an_endpoint_and_410_disables_at_once() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/failing"), &["user.joined"])
        .await;
    for i in 0..20 {
        fixtures::join(&db, &format!("user{i}")).await;
    }
    receiver.wait_for(20, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    let disabled = loop {
        let e = endpoint(&app, &key, &ep).await;
        if e["active"] == false {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "still active: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        disabled["disabled_reason"],
        "20 consecutive failed attempts"
    );
    let audit = db.audit_log().await.unwrap();
    let entry = audit
        .iter()
        .find(|a| a.action == "endpoint.disabled" && a.target == ep)
        .expect("an audit entry for the disabling");
    assert_eq!(entry.actor, "worker");
    assert_eq!(entry.details["reason"], "20 consecutive failed attempts");

    // A disabled endpoint gets nothing more.
    fixtures::join(&db, "late").await;
    receiver
        .assert_stays_at(20, Duration::from_millis(600))
        .await;

    // 410 Gone: disabled after one attempt.
    receiver.answer_by_default(Answer::status(410));
    let (gone, _) = app
        .register_webhook(HOST, &key, &receiver.url("/gone"), &["user.joined"])
        .await;
    fixtures::join(&db, "once").await;
    receiver.wait_for(21, WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let e = endpoint(&app, &key, &gone).await;
        if e["active"] == false {
            assert!(
                e["disabled_reason"].as_str().unwrap().contains("410"),
                "{e}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still active: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Re-enabling clears the count and delivers again.
    receiver.answer_by_default(Answer::status(204));
    let patched = app
        .send(
            reqwest::Method::PATCH,
            HOST,
            &format!("/api/v1/webhooks/{ep}"),
            Some(&key),
            &[("content-type", "application/json")],
            Some(r#"{"active":true}"#),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.data()["consecutive_failures"], 0);
    fixtures::join(&db, "back").await;
    let got = receiver.wait_for(22, WAIT).await;
    assert_eq!(got[21].path, "/failing");
}

/// The sealed secret columns of an endpoint, straight from the tenant's database.
async fn secret_columns(app: &TestApp, ep: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let door = app.db().tenant_side_door("alpha").await;
    let mut row = door
        .fetch_bytes(
            "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1",
            &[ep],
        )
        .await
        .into_iter();
    let secret = row.next().flatten().expect("a secret");
    (secret, row.next().flatten())
}

#[tokio::test]
async fn after_rotation_both_secrets_verify_during_grace_then_only_the_new_one() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, old) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let rotated = app
        .post(
            HOST,
            &format!("/api/v1/webhooks/{ep}/rotate-secret"),
            Some(&key),
            r#"{"grace_seconds":2}"#,
        )
        .await;
    rotated.assert_status(200);
    let new = rotated.data()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    fixtures::join(&db, "ann").await;
    let r = receiver.wait_for(1, WAIT).await.remove(0);
    let sig = r.header("mobieus-signature");
    assert!(sig.contains(",v1=") && sig.contains(",v1_prev="), "{sig}");
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
    r.assert_signed_with(&new);
    r.assert_signed_with(&old);
    assert!(secret_columns(&app, &ep).await.1.is_some());

    // After the grace window: one signature, the new secret's; the old one is purged.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    fixtures::join(&db, "bob").await;
    let r = receiver.wait_for(2, WAIT).await.remove(1);
    assert!(!r.header("mobieus-signature").contains("v1_prev"));
    assert_eq!(r.header("webhook-signature").split(' ').count(), 1);
    r.assert_signed_with(&new);
    let old_secret = WebhookSecret::parse(&old).unwrap();
    assert!(
        verify(
            r.header("mobieus-signature"),
            &r.body,
            &old_secret,
            Timestamp::now().millis() / 1000,
            300
        )
        .is_err()
    );
    let deadline = std::time::Instant::now() + WAIT;
    while secret_columns(&app, &ep).await.1.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the expired secret stays in the database"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // No secret in plaintext anywhere in the data dir.
    for s in [&old, &new] {
        let b64 = s.trim_start_matches("whsec_");
        let found = mobieus_testkit::files_containing(app.data_dir(), b64);
        assert!(found.is_empty(), "a secret in plaintext in {found:?}");
    }
}
