//! Sending again, end to end, and `Idempotency-Key` on the API's POSTs: the real server
//! with its in-process worker and a real HTTPS receiver on loopback.
//!
//! Proves that `POST …/test` sends a signed `webhook.test` event to the tested endpoint
//! only and never into the public feed; that `POST …/deliveries/{id}/replay` sends the
//! same event (same `webhook-id`, same bytes) as a new delivery and leaves the original as
//! it was; that `POST …/recover` sends again each event whose latest delivery failed (or
//! was cancelled) in a window, once, audited, and refuses a malformed window; that the
//! three refuse a disabled or unknown endpoint and a key without `webhooks:manage`; and
//! that a repeated POST with the same `Idempotency-Key` answers the first answer byte for
//! byte but its own request id (`idempotent-replayed: true`) and does nothing else, per
//! API key, with the answer kept sealed (no secret in plaintext on disk), while a refused
//! request is not kept.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_domain::time::Timestamp;
use mobieus_testkit::receiver::{Answer, Receiver};
use mobieus_testkit::{TestApp, TestOptions, TestResponse, fixtures};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const HOST: &str = "alpha.localhost";
const SCOPES: &str = "webhooks:read,webhooks:manage,events:read";
const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(700);

async fn start(receiver: &Receiver, schedule: &str) -> (TestApp, String) {
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering(schedule, Some(&ca))).await;
    let key = app.key("alpha", SCOPES, 6000).await;
    (app, key)
}

/// `POST path` with a JSON body and, when given, an `Idempotency-Key`.
async fn post_with(
    app: &TestApp,
    key: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
) -> TestResponse {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(k) = idempotency_key {
        headers.push(("idempotency-key", k));
    }
    app.send(Method::POST, HOST, path, Some(key), &headers, Some(body))
        .await
}

async fn set_active(app: &TestApp, key: &str, ep: &str, active: bool) {
    app.send(
        Method::PATCH,
        HOST,
        &format!("/api/v1/webhooks/{ep}"),
        Some(key),
        &[("content-type", "application/json")],
        Some(&json!({ "active": active }).to_string()),
    )
    .await
    .assert_status(200);
}

async fn endpoints(app: &TestApp, key: &str) -> Vec<Value> {
    let list = app.get(HOST, "/api/v1/webhooks", Some(key)).await;
    list.assert_status(200);
    list.items().to_vec()
}

/// Waits until the endpoint's log holds exactly `n` deliveries, all `status`.
async fn wait_log(app: &TestApp, key: &str, endpoint: &str, n: usize, status: &str) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = app.deliveries(HOST, key, endpoint).await;
        if log.len() == n && log.iter().all(|d| d["status"] == status) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} deliveries {status}, the log is {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn str_of<'v>(v: &'v Value, member: &str) -> &'v str {
    v[member]
        .as_str()
        .unwrap_or_else(|| panic!("`{member}` is not a string in {v}"))
}

/// Asserts a freshly queued delivery of `endpoint` in a 202 answer. Its status is read
/// after the commit that woke the worker, so it may already show the first attempt.
fn assert_queued(resp: &TestResponse, endpoint: &str) -> Value {
    resp.assert_status(202);
    let d = resp.data().clone();
    assert!(str_of(&d, "id").starts_with("dlv_"), "{d}");
    assert!(str_of(&d, "event_id").starts_with("evt_"), "{d}");
    assert_eq!(d["endpoint_id"], endpoint);
    assert!(
        d["status"] == "pending" || (d["status"] == "succeeded" && d["attempts"] == 1),
        "a new delivery: {d}"
    );
    d
}

/// A replayed answer: the first one byte for byte (same `data`, same secret if any), but
/// for `meta.request_id`, which is the repeat's own (as in its `X-Request-Id`).
fn assert_same_answer(repeat: &TestResponse, first: &TestResponse) {
    assert_eq!(repeat.status(), first.status());
    assert_eq!(repeat.data(), first.data(), "{}", repeat.text);
    let id = repeat.meta()["request_id"].as_str().unwrap();
    assert_eq!(Some(id), repeat.header("x-request-id"));
    let first_id = first.meta()["request_id"].as_str().unwrap();
    assert_ne!(id, first_id);
    assert_eq!(
        repeat.text.replace(id, first_id),
        first.text,
        "only the request id differs"
    );
}

fn recover_path(ep: &str) -> String {
    format!("/api/v1/webhooks/{ep}/recover")
}

fn replay_path(ep: &str, delivery: &str) -> String {
    format!("/api/v1/webhooks/{ep}/deliveries/{delivery}/replay")
}

fn test_path(ep: &str) -> String {
    format!("/api/v1/webhooks/{ep}/test")
}

#[tokio::test]
async fn a_test_event_reaches_the_tested_endpoint_only_signed_and_stays_out_of_the_feed() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (tested, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/tested"), &["*"])
        .await;
    let (other, _) = app
        .register_webhook(HOST, &key, &receiver.url("/other"), &["*"])
        .await;

    let resp = post_with(&app, &key, &test_path(&tested), "", None).await;
    let queued = assert_queued(&resp, &tested);
    assert_eq!(queued["event_type"], "webhook.test");
    assert!(resp.header("idempotent-replayed").is_none());
    let event_id = str_of(&queued, "event_id").to_owned();
    let delivery_id = str_of(&queued, "id").to_owned();

    let got = receiver.wait_for(1, WAIT).await;
    receiver.assert_stays_at(1, QUIET).await;
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/tested"));
    r.assert_signed_with(&secret);
    let event = r.json();
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(event["id"], event_id.as_str());
    assert!(event["data"]["message"].is_string(), "{event}");
    assert_eq!(r.header("mobieus-event"), "webhook.test");
    assert_eq!(r.header("mobieus-event-id"), event_id);
    assert_eq!(r.header("webhook-id"), event_id);
    assert_eq!(r.header("mobieus-delivery-id"), delivery_id);
    assert_eq!(r.header("mobieus-attempt"), "1");

    app.wait_delivery_status(HOST, &key, &tested, &delivery_id, "succeeded")
        .await;
    assert!(
        app.deliveries(HOST, &key, &other).await.is_empty(),
        "the other endpoint, subscribed to everything, gets no test delivery"
    );

    // Not in the feed, listed or by id, while a real event is.
    fixtures::join(&db, "ann").await;
    receiver.wait_for(3, WAIT).await;
    let feed = app.get(HOST, "/api/v1/events", Some(&key)).await;
    feed.assert_status(200);
    let types: Vec<&Value> = feed.items().iter().map(|e| &e["type"]).collect();
    assert_eq!(types, [&json!("user.joined")], "{}", feed.text);
    app.get(HOST, &format!("/api/v1/events/{event_id}"), Some(&key))
        .await
        .assert_problem(404, "not_found");
    // Nor by asking for its type, nor as a cursor.
    app.get(HOST, "/api/v1/events?type=webhook.test", Some(&key))
        .await
        .assert_problem(400, "invalid_request");
    app.get(
        HOST,
        &format!("/api/v1/events?after={event_id}"),
        Some(&key),
    )
    .await
    .assert_problem(400, "invalid_request");
}

#[tokio::test]
async fn test_replay_and_recover_refuse_a_disabled_or_unknown_endpoint_and_a_read_only_key() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    fixtures::join(&db, "ann").await;
    receiver.wait_for(1, WAIT).await;
    let d1 = wait_log(&app, &key, &ep, 1, "succeeded").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = json!({ "since": Timestamp::now().plus_millis(-3_600_000) }).to_string();

    // A key without webhooks:manage.
    let reader = app.key("alpha", "webhooks:read,events:read", 6000).await;
    for (path, body) in [
        (test_path(&ep), ""),
        (replay_path(&ep, &d1), ""),
        (recover_path(&ep), since.as_str()),
    ] {
        post_with(&app, &reader, &path, body, None)
            .await
            .assert_problem(403, "insufficient_scope");
    }

    // A disabled endpoint.
    set_active(&app, &key, &ep, false).await;
    for (path, body) in [
        (test_path(&ep), ""),
        (replay_path(&ep, &d1), ""),
        (recover_path(&ep), since.as_str()),
    ] {
        post_with(&app, &key, &path, body, None)
            .await
            .assert_problem(409, "conflict");
    }
    assert_eq!(app.deliveries(HOST, &key, &ep).await.len(), 1);

    // Unknown endpoints: one deleted, one malformed.
    let (gone, _) = app
        .register_webhook(HOST, &key, &receiver.url("/gone"), &["*"])
        .await;
    app.request(
        Method::DELETE,
        HOST,
        &format!("/api/v1/webhooks/{gone}"),
        Some(&key),
        &[],
    )
    .await
    .assert_status(200);
    for ep in [gone.as_str(), "ep_nosuchendpoint", "nonsense"] {
        for (path, body) in [
            (test_path(ep), ""),
            (replay_path(ep, &d1), ""),
            (recover_path(ep), since.as_str()),
        ] {
            post_with(&app, &key, &path, body, None)
                .await
                .assert_problem(404, "not_found");
        }
    }
    receiver.assert_stays_at(1, QUIET).await;
}

#[tokio::test]
async fn a_replay_sends_the_same_event_again_as_a_new_delivery_and_keeps_the_original() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let (other, _) = app
        .register_webhook(HOST, &key, &receiver.url("/other"), &["post.created"])
        .await;
    fixtures::join(&db, "ann").await;
    let first = receiver.wait_for(1, WAIT).await.remove(0);
    let log = wait_log(&app, &key, &ep, 1, "succeeded").await;
    let original_id = str_of(&log[0], "id").to_owned();
    let original = app.delivery(HOST, &key, &ep, &original_id).await;

    let resp = post_with(&app, &key, &replay_path(&ep, &original_id), "", None).await;
    let new = assert_queued(&resp, &ep);
    let new_id = str_of(&new, "id").to_owned();
    assert_ne!(new_id, original_id);
    assert_eq!(new["event_id"], original["event_id"]);
    assert_eq!(new["event_type"], "user.joined");

    let again = receiver.wait_for(2, WAIT).await.remove(1);
    receiver.assert_stays_at(2, QUIET).await;
    assert_eq!(again.path, "/in");
    assert_eq!(again.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(again.header("webhook-id"), str_of(&new, "event_id"));
    assert_eq!(again.body, first.body, "the same bytes");
    assert_eq!(again.header("mobieus-delivery-id"), new_id);
    assert_ne!(
        again.header("mobieus-delivery-id"),
        first.header("mobieus-delivery-id")
    );
    assert_eq!(again.header("mobieus-attempt"), "1");
    again.assert_signed_with(&secret);

    app.wait_delivery_status(HOST, &key, &ep, &new_id, "succeeded")
        .await;
    assert_eq!(
        app.delivery(HOST, &key, &ep, &original_id).await,
        original,
        "the original delivery stays as it was"
    );
    let ids: BTreeSet<String> = app
        .deliveries(HOST, &key, &ep)
        .await
        .iter()
        .map(|d| str_of(d, "id").to_owned())
        .collect();
    assert_eq!(ids, BTreeSet::from([original_id.clone(), new_id.clone()]));

    // Unknown deliveries: malformed, well-formed but unknown, and another endpoint's.
    for unknown in ["dlv_nosuchdelivery", "nonsense"] {
        post_with(&app, &key, &replay_path(&ep, unknown), "", None)
            .await
            .assert_problem(404, "not_found");
    }
    post_with(&app, &key, &replay_path(&other, &original_id), "", None)
        .await
        .assert_problem(404, "not_found");
    receiver.assert_stays_at(2, QUIET).await;
}

#[tokio::test]
async fn recover_sends_each_failed_event_again_once_and_is_audited() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let before = Timestamp::now();
    for name in ["u1", "u2", "u3"] {
        fixtures::join(&db, name).await;
    }
    let failed = receiver.wait_for(3, WAIT).await;
    let failed_log = wait_log(&app, &key, &ep, 3, "failed").await;
    receiver.answer_by_default(Answer::status(200));
    let ids: BTreeSet<String> = failed
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(ids.len(), 3);

    // Windows that hold none of them.
    let now = Timestamp::now();
    for window in [
        json!({ "since": now.plus_millis(3_600_000), "until": now.plus_millis(7_200_000) }),
        json!({ "since": before.plus_millis(-3_600_000), "until": before }),
    ] {
        let resp = post_with(&app, &key, &recover_path(&ep), &window.to_string(), None).await;
        resp.assert_status(202);
        assert_eq!(resp.data()["queued"], 0, "{window}: {}", resp.text);
        assert_eq!(resp.data()["since"], window["since"]);
        assert_eq!(resp.data()["until"], window["until"]);
    }
    receiver
        .assert_stays_at(3, Duration::from_millis(400))
        .await;

    // The outage window: all three again, same webhook-ids and bytes.
    let resp = post_with(
        &app,
        &key,
        &recover_path(&ep),
        &json!({ "since": before }).to_string(),
        None,
    )
    .await;
    resp.assert_status(202);
    assert_eq!(resp.data()["queued"], 3, "{}", resp.text);
    assert_eq!(resp.data()["since"], before.to_rfc3339());
    let until = Timestamp::parse_rfc3339(str_of(resp.data(), "until")).unwrap();
    assert!(until > before && until <= Timestamp::now(), "{}", resp.text);

    let got = receiver.wait_for(6, WAIT).await;
    receiver.assert_stays_at(6, QUIET).await;
    let again = &got[3..];
    let again_ids: BTreeSet<String> = again
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(again_ids, ids);
    for r in again {
        let was = failed
            .iter()
            .find(|f| f.header("webhook-id") == r.header("webhook-id"))
            .unwrap();
        assert_eq!(r.body, was.body, "the same bytes");
        assert_ne!(
            r.header("mobieus-delivery-id"),
            was.header("mobieus-delivery-id")
        );
        r.assert_signed_with(&secret);
    }
    // The failed deliveries stay failed; the three new ones succeed.
    let deadline = Instant::now() + WAIT;
    loop {
        let log = app.deliveries(HOST, &key, &ep).await;
        assert_eq!(log.len(), 6, "{log:?}");
        let (old, new): (Vec<&Value>, Vec<&Value>) = log
            .iter()
            .partition(|d| failed_log.iter().any(|f| f["id"] == d["id"]));
        assert_eq!(old, failed_log.iter().collect::<Vec<_>>());
        if new.iter().all(|d| d["status"] == "succeeded") {
            break;
        }
        assert!(Instant::now() < deadline, "{new:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Nothing twice.
    let twice = post_with(
        &app,
        &key,
        &recover_path(&ep),
        &json!({ "since": before }).to_string(),
        None,
    )
    .await;
    twice.assert_status(202);
    assert_eq!(twice.data()["queued"], 0, "{}", twice.text);
    receiver.assert_stays_at(6, QUIET).await;

    let audit = db.audit_log().await.unwrap();
    let recovered: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "endpoint.recovered" && a.target == ep)
        .collect();
    assert_eq!(recovered.len(), 4, "one entry per recovery: {recovered:?}");
    let three = recovered
        .iter()
        .find(|a| a.details["queued"] == 3)
        .expect("an audit entry for the recovery that queued 3");
    assert!(three.actor.starts_with("api_key:"), "{three:?}");
    assert_eq!(three.details["since"], before.to_rfc3339());
}

#[tokio::test]
async fn recover_sends_again_a_delivery_cancelled_while_the_endpoint_was_disabled() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s,2s").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let before = Timestamp::now();
    fixtures::join(&db, "ann").await;
    let first = receiver.wait_for(1, WAIT).await.remove(0);
    // Disabled before the retry is due: the worker cancels the retry.
    set_active(&app, &key, &ep, false).await;
    let log = wait_log(&app, &key, &ep, 1, "cancelled").await;
    assert_eq!(log[0]["attempts"], 1);
    set_active(&app, &key, &ep, true).await;
    receiver.answer_by_default(Answer::status(200));

    let resp = post_with(
        &app,
        &key,
        &recover_path(&ep),
        &json!({ "since": before }).to_string(),
        None,
    )
    .await;
    resp.assert_status(202);
    assert_eq!(resp.data()["queued"], 1, "{}", resp.text);
    let again = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(again.header("webhook-id"), first.header("webhook-id"));
    assert_eq!(again.body, first.body);
    receiver.assert_stays_at(2, QUIET).await;
}

#[tokio::test]
async fn recover_refuses_a_malformed_window() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let now = Timestamp::now();
    let (t0, t1) = (now.plus_millis(-60_000), now.plus_millis(-30_000));
    let bad = [
        json!({ "since": t0, "until": t0 }).to_string(),
        json!({ "since": t1, "until": t0 }).to_string(),
        // `until` defaults to now, which is not after a `since` in the future.
        json!({ "since": now.plus_millis(3_600_000) }).to_string(),
        json!({ "since": "yesterday" }).to_string(),
        json!({ "since": "2026-13-01T00:00:00Z" }).to_string(),
        json!({ "since": t0, "until": "soon" }).to_string(),
        json!({ "since": 1_700_000_000 }).to_string(),
        json!({ "until": t1 }).to_string(),
        "{}".to_owned(),
        String::new(),
        json!({ "since": t0, "limit": 5 }).to_string(),
        "not json".to_owned(),
    ];
    for body in &bad {
        let resp = post_with(&app, &key, &recover_path(&ep), body, None).await;
        resp.assert_problem(400, "invalid_request");
        assert!(
            resp.header("idempotent-replayed").is_none(),
            "{body}: {}",
            resp.text
        );
    }
    // An offset other than Z is fine.
    let ok = post_with(
        &app,
        &key,
        &recover_path(&ep),
        r#"{"since":"2020-01-01T00:00:00+02:00","until":"2020-01-02T00:00:00+02:00"}"#,
        None,
    )
    .await;
    ok.assert_status(202);
    assert_eq!(ok.data()["queued"], 0);
    assert_eq!(ok.data()["since"], "2019-12-31T22:00:00.000Z");
    let recovered = app
        .tenant("alpha")
        .await
        .audit_log()
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "endpoint.recovered")
        .count();
    assert_eq!(recovered, 1, "refused windows are not audited");
}

#[tokio::test]
async fn a_repeated_create_with_an_idempotency_key_answers_the_first_answer_and_creates_once() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let body = json!({ "url": receiver.url("/in"), "events": ["*"], "label": "one" }).to_string();

    let first = post_with(&app, &key, "/api/v1/webhooks", &body, Some("create-1")).await;
    first.assert_status(201);
    assert!(first.header("idempotent-replayed").is_none());
    let id = str_of(first.data(), "id").to_owned();
    let secret = str_of(first.data(), "secret").to_owned();

    let repeat = post_with(&app, &key, "/api/v1/webhooks", &body, Some("create-1")).await;
    repeat.assert_status(201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_same_answer(&repeat, &first);
    assert!(
        repeat.content_type().starts_with("application/json"),
        "{}",
        repeat.content_type()
    );
    let listed = endpoints(&app, &key).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str());

    // The same key on a different request: refused, nothing done.
    let other_body = body.replace("\"one\"", "\"two\"");
    assert_ne!(other_body, body);
    post_with(
        &app,
        &key,
        "/api/v1/webhooks",
        &other_body,
        Some("create-1"),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    post_with(
        &app,
        &key,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        &body,
        Some("create-1"),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    assert_eq!(endpoints(&app, &key).await.len(), 1);

    // Keys are per API key: another key gets its own result, then its own replay.
    let second_key = app.key("alpha", SCOPES, 6000).await;
    let own = post_with(
        &app,
        &second_key,
        "/api/v1/webhooks",
        &body,
        Some("create-1"),
    )
    .await;
    own.assert_status(201);
    assert!(own.header("idempotent-replayed").is_none());
    assert_ne!(own.data()["id"], id.as_str());
    assert_ne!(own.data()["secret"], secret.as_str());
    let own_secret = str_of(own.data(), "secret").to_owned();
    let own_repeat = post_with(
        &app,
        &second_key,
        "/api/v1/webhooks",
        &body,
        Some("create-1"),
    )
    .await;
    assert_eq!(own_repeat.header("idempotent-replayed"), Some("true"));
    assert_same_answer(&own_repeat, &own);
    // …and the first key still gets its own answer.
    let again = post_with(&app, &key, "/api/v1/webhooks", &body, Some("create-1")).await;
    assert_same_answer(&again, &first);
    assert_eq!(endpoints(&app, &key).await.len(), 2);

    // Without the header nothing is replayed.
    for _ in 0..2 {
        let plain = post_with(&app, &key, "/api/v1/webhooks", &body, None).await;
        plain.assert_status(201);
        assert!(plain.header("idempotent-replayed").is_none());
    }
    assert_eq!(endpoints(&app, &key).await.len(), 4);

    // The kept answers hold secrets: sealed, not in plaintext anywhere on disk.
    for s in [&secret, &own_secret] {
        let b64 = s.trim_start_matches("whsec_");
        assert_ne!(b64, s.as_str());
        let found = mobieus_testkit::files_containing(app.data_dir(), b64);
        assert!(found.is_empty(), "a secret in plaintext in {found:?}");
    }
}

#[tokio::test]
async fn an_invalid_idempotency_key_is_refused_and_does_nothing() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let body = json!({ "url": receiver.url("/in"), "events": ["*"] }).to_string();
    let long = "k".repeat(256);
    for bad in ["", "   ", long.as_str(), "tab\there"] {
        post_with(&app, &key, "/api/v1/webhooks", &body, Some(bad))
            .await
            .assert_problem(400, "invalid_request");
    }
    assert!(endpoints(&app, &key).await.is_empty());

    // 255 characters is the longest allowed.
    let longest = "k".repeat(255);
    post_with(&app, &key, "/api/v1/webhooks", &body, Some(&longest))
        .await
        .assert_status(201);
    let repeat = post_with(&app, &key, "/api/v1/webhooks", &body, Some(&longest)).await;
    repeat.assert_status(201);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_eq!(endpoints(&app, &key).await.len(), 1);

    // Only POSTs read the header.
    let list = app
        .request(
            Method::GET,
            HOST,
            "/api/v1/webhooks",
            Some(&key),
            &[("idempotency-key", "")],
        )
        .await;
    list.assert_status(200);
}

#[tokio::test]
async fn a_repeated_rotation_with_an_idempotency_key_rotates_once() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, old) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let path = format!("/api/v1/webhooks/{ep}/rotate-secret");
    let body = r#"{"grace_seconds":0}"#;
    let first = post_with(&app, &key, &path, body, Some("rotate-1")).await;
    first.assert_status(200);
    let new = str_of(first.data(), "secret").to_owned();
    assert_ne!(new, old);
    let repeat = post_with(&app, &key, &path, body, Some("rotate-1")).await;
    repeat.assert_status(200);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_same_answer(&repeat, &first);

    // Had the repeat rotated again, the secret in force would be one nobody was shown.
    fixtures::join(&db, "ann").await;
    let r = receiver.wait_for(1, WAIT).await.remove(0);
    r.assert_signed_with(&new);
    assert_eq!(r.header("webhook-signature").split(' ').count(), 1);

    let b64 = new.trim_start_matches("whsec_");
    let found = mobieus_testkit::files_containing(app.data_dir(), b64);
    assert!(found.is_empty(), "a secret in plaintext in {found:?}");
}

#[tokio::test]
async fn repeated_recover_test_and_replay_with_an_idempotency_key_act_once() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let before = Timestamp::now();
    fixtures::join(&db, "ann").await;
    receiver.wait_for(1, WAIT).await;
    let failed_id = str_of(&wait_log(&app, &key, &ep, 1, "failed").await[0], "id").to_owned();
    receiver.answer_by_default(Answer::status(200));

    // Recover: the repeat answers `queued: 1` again but queues nothing.
    let window = json!({ "since": before, "until": Timestamp::now() }).to_string();
    let first = post_with(&app, &key, &recover_path(&ep), &window, Some("rec")).await;
    first.assert_status(202);
    assert_eq!(first.data()["queued"], 1);
    let repeat = post_with(&app, &key, &recover_path(&ep), &window, Some("rec")).await;
    repeat.assert_status(202);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_same_answer(&repeat, &first);
    receiver.wait_for(2, WAIT).await;
    receiver.assert_stays_at(2, QUIET).await;
    assert_eq!(app.deliveries(HOST, &key, &ep).await.len(), 2);
    let fresh = post_with(&app, &key, &recover_path(&ep), &window, None).await;
    assert_eq!(fresh.data()["queued"], 0, "{}", fresh.text);

    // Test: one test event however often it is asked with the key.
    let first = post_with(&app, &key, &test_path(&ep), "", Some("test")).await;
    let queued = assert_queued(&first, &ep);
    for _ in 0..2 {
        let repeat = post_with(&app, &key, &test_path(&ep), "", Some("test")).await;
        repeat.assert_status(202);
        assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
        assert_same_answer(&repeat, &first);
    }
    let got = receiver.wait_for(3, WAIT).await;
    receiver.assert_stays_at(3, QUIET).await;
    assert_eq!(got[2].header("mobieus-event"), "webhook.test");
    assert_eq!(got[2].header("mobieus-delivery-id"), str_of(&queued, "id"));

    // Replay: one new delivery.
    let path = replay_path(&ep, &failed_id);
    let first = post_with(&app, &key, &path, "", Some("replay")).await;
    let new = assert_queued(&first, &ep);
    let repeat = post_with(&app, &key, &path, "", Some("replay")).await;
    repeat.assert_status(202);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    assert_same_answer(&repeat, &first);
    let got = receiver.wait_for(4, WAIT).await;
    receiver.assert_stays_at(4, QUIET).await;
    assert_eq!(got[3].header("mobieus-delivery-id"), str_of(&new, "id"));
    assert_eq!(got[3].header("webhook-id"), got[0].header("webhook-id"));
    assert_eq!(app.deliveries(HOST, &key, &ep).await.len(), 4);

    // A key used on one path is refused on another.
    post_with(&app, &key, &path, "", Some("test"))
        .await
        .assert_problem(422, "idempotency_key_reused");
    post_with(&app, &key, &recover_path(&ep), &window, Some("replay"))
        .await
        .assert_problem(422, "idempotency_key_reused");
    receiver.assert_stays_at(4, QUIET).await;
}

#[tokio::test]
async fn concurrent_repeats_act_once() {
    let receiver = Receiver::https().await;
    receiver.answer_by_default(Answer::status(500));
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let before = Timestamp::now();
    for name in ["u1", "u2", "u3"] {
        fixtures::join(&db, name).await;
    }
    receiver.wait_for(3, WAIT).await;
    wait_log(&app, &key, &ep, 3, "failed").await;
    receiver.answer_by_default(Answer::status(200));

    // Recoveries of one window at once, without a key: each event is queued once in all.
    let window = json!({ "since": before }).to_string();
    let path = recover_path(&ep);
    let r = tokio::join!(
        post_with(&app, &key, &path, &window, None),
        post_with(&app, &key, &path, &window, None),
        post_with(&app, &key, &path, &window, None),
        post_with(&app, &key, &path, &window, None),
    );
    let mut total = 0;
    for resp in [r.0, r.1, r.2, r.3] {
        resp.assert_status(202);
        total += resp.data()["queued"].as_u64().unwrap();
    }
    assert_eq!(total, 3);
    receiver.wait_for(6, WAIT).await;
    receiver.assert_stays_at(6, QUIET).await;

    // Tests at once with one key: one runs; the others replay it or are told it is running.
    let path = test_path(&ep);
    let r = tokio::join!(
        post_with(&app, &key, &path, "", Some("same")),
        post_with(&app, &key, &path, "", Some("same")),
        post_with(&app, &key, &path, "", Some("same")),
        post_with(&app, &key, &path, "", Some("same")),
    );
    let answers = [r.0, r.1, r.2, r.3];
    let ran: Vec<&TestResponse> = answers
        .iter()
        .filter(|a| a.status() == 202 && a.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(ran.len(), 1, "exactly one request ran");
    for a in &answers {
        if a.status() == 409 {
            a.assert_problem(409, "idempotency_key_in_use");
        } else {
            a.assert_status(202);
            if a.header("idempotent-replayed").is_some() {
                assert_same_answer(a, ran[0]);
            }
        }
    }
    receiver.wait_for(7, WAIT).await;
    receiver.assert_stays_at(7, QUIET).await;
}

#[tokio::test]
async fn a_refused_request_is_not_kept_under_its_idempotency_key() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    set_active(&app, &key, &ep, false).await;
    post_with(&app, &key, &test_path(&ep), "", Some("k"))
        .await
        .assert_problem(409, "conflict");
    set_active(&app, &key, &ep, true).await;
    let ran = post_with(&app, &key, &test_path(&ep), "", Some("k")).await;
    ran.assert_status(202);
    assert!(
        ran.header("idempotent-replayed").is_none(),
        "the fixed request runs"
    );
    receiver.wait_for(1, WAIT).await;
}

#[tokio::test]
async fn a_test_send_of_a_catalog_type_carries_its_example_flagged_as_a_test_to_that_endpoint_only()
{
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let db = app.tenant("alpha").await;
    // The tested endpoint does not subscribe to `post.created`: a test is sent anyway.
    let (tested, secret) = app
        .register_webhook(HOST, &key, &receiver.url("/tested"), &["user.joined"])
        .await;
    let (other, _) = app
        .register_webhook(HOST, &key, &receiver.url("/other"), &["*"])
        .await;

    let body = json!({ "event_type": "post.created" }).to_string();
    let resp = post_with(&app, &key, &test_path(&tested), &body, None).await;
    let queued = assert_queued(&resp, &tested);
    assert_eq!(queued["event_type"], "post.created");
    let event_id = str_of(&queued, "event_id").to_owned();

    let got = receiver.wait_for(1, WAIT).await;
    receiver.assert_stays_at(1, QUIET).await;
    let r = &got[0];
    assert_eq!(r.path, "/tested");
    r.assert_signed_with(&secret);
    let event = r.json();
    assert_eq!(event["type"], "post.created");
    assert_eq!(event["test"], true);
    assert_eq!(event["id"], event_id.as_str());
    assert_eq!(event["tenant"], "alpha");
    assert_eq!(r.header("mobieus-event"), "post.created");
    assert_eq!(r.header("webhook-id"), event_id);
    // The catalog's example, with a fresh id and the time of sending.
    let tenant = mobieus_domain::tenant::TenantSlug::parse("alpha").unwrap();
    let example = mobieus_domain::event_examples::example(
        &tenant,
        mobieus_domain::event::EventType::PostCreated,
    );
    let example: Value = serde_json::from_str(&example.to_json()).unwrap();
    assert_eq!(event["data"], example["data"]);
    assert_ne!(event["id"], example["id"]);
    let sent = Timestamp::parse_rfc3339(str_of(&event, "created_at")).unwrap();
    let age = Timestamp::now().millis() - sent.millis();
    assert!((0..60_000).contains(&age), "created_at is now: {event}");
    assert!(app.deliveries(HOST, &key, &other).await.is_empty());

    // Never in the feed, listed, by type or by id, while a real event is.
    fixtures::join(&db, "ann").await;
    receiver.wait_for(3, WAIT).await;
    for path in ["/api/v1/events", "/api/v1/events?type=post.created"] {
        let feed = app.get(HOST, path, Some(&key)).await;
        feed.assert_status(200);
        assert!(
            feed.items().iter().all(|e| e["id"] != event_id.as_str()),
            "{path}: {}",
            feed.text
        );
    }
    let feed = app.get(HOST, "/api/v1/events", Some(&key)).await;
    let types: Vec<&Value> = feed.items().iter().map(|e| &e["type"]).collect();
    assert_eq!(types, [&json!("user.joined")], "{}", feed.text);
    assert!(feed.items()[0].get("test").is_none(), "{}", feed.text);
    app.get(HOST, &format!("/api/v1/events/{event_id}"), Some(&key))
        .await
        .assert_problem(404, "not_found");

    // `{}`, `null` and `webhook.test` named send `webhook.test`, unflagged.
    for body in [
        "{}",
        r#"{"event_type":null}"#,
        r#"{"event_type":"webhook.test"}"#,
    ] {
        let resp = post_with(&app, &key, &test_path(&tested), body, None).await;
        assert_eq!(assert_queued(&resp, &tested)["event_type"], "webhook.test");
    }
    let got = receiver.wait_for(6, WAIT).await;
    for r in &got[3..] {
        assert_eq!(r.json()["type"], "webhook.test");
        assert!(r.json().get("test").is_none());
    }
}

#[tokio::test]
async fn a_test_send_refuses_a_bad_event_type_or_body_and_queues_nothing() {
    let receiver = Receiver::https().await;
    let (app, key) = start(&receiver, "0s").await;
    let (ep, _) = app
        .register_webhook(HOST, &key, &receiver.url("/in"), &["*"])
        .await;
    let bad = [
        r#"{"event_type":"post.published"}"#,
        r#"{"event_type":"POST.CREATED"}"#,
        r#"{"event_type":""}"#,
        r#"{"event_type":"*"}"#,
        r#"{"event_type":5}"#,
        r#"{"event_type":["post.created"]}"#,
        r#"{"event_type":"post.created","extra":1}"#,
        r#"{"type":"post.created"}"#,
    ];
    for body in bad {
        let resp = post_with(&app, &key, &test_path(&ep), body, None).await;
        resp.assert_problem(400, "invalid_request");
        assert!(
            resp.detail().contains("event_type"),
            "{body}: {}",
            resp.text
        );
    }
    for body in [r#"["post.created"]"#, r#""post.created""#, "not json"] {
        post_with(&app, &key, &test_path(&ep), body, None)
            .await
            .assert_problem(400, "invalid_request");
    }
    // The same bad body with an idempotency key is refused and not kept.
    let k = "test-send-bad-1";
    post_with(&app, &key, &test_path(&ep), bad[0], Some(k))
        .await
        .assert_problem(400, "invalid_request");
    let ok = post_with(
        &app,
        &key,
        &test_path(&ep),
        r#"{"event_type":"user.joined"}"#,
        Some(k),
    )
    .await;
    assert_eq!(assert_queued(&ok, &ep)["event_type"], "user.joined");
    let again = post_with(
        &app,
        &key,
        &test_path(&ep),
        r#"{"event_type":"user.joined"}"#,
        Some(k),
    )
    .await;
    assert_same_answer(&again, &ok);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    receiver.wait_for(1, WAIT).await;
    receiver.assert_stays_at(1, QUIET).await;
    assert_eq!(app.deliveries(HOST, &key, &ep).await.len(), 1);
}
