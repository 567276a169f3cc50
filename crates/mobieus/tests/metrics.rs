//! `/metrics` over real HTTP, with the in-process worker and an HTTPS receiver: requests
//! by route template and status, deliveries by outcome, attempt latency, the queue's gauges.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::receiver::Receiver;
use mobieus_testkit::{TestApp, TestOptions, fixtures};
use serde_json::json;
use std::time::Duration;

const HOST: &str = "alpha.localhost";

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_deliveries_and_the_queue() {
    let receiver = Receiver::https().await;
    let app = TestApp::start_with(TestOptions::delivering("0s", Some(&receiver.ca_file()))).await;
    let db = app.tenant("alpha").await;
    let key = app.key("alpha", "events:read,webhooks:manage", 6000).await;
    app.post(
        HOST,
        "/api/v1/webhooks",
        Some(&key),
        &json!({ "url": receiver.url("/hook"), "events": ["*"] }).to_string(),
    )
    .await
    .assert_status(201);
    fixtures::join(&db, "ann").await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    app.get(HOST, "/api/v1/events", Some(&key))
        .await
        .assert_status(200);
    app.get(
        HOST,
        "/api/v1/events/evt_01HZZZZZZZZZZZZZZZZZZZZZZZ",
        Some(&key),
    )
    .await
    .assert_status(404);
    app.get(HOST, "/api/v1/events", None)
        .await
        .assert_status(401);

    // The attempt is recorded just after the receiver has it; the first scrape then
    // computes the queue's gauges (served for 30 s after).
    let worker = app.worker().unwrap();
    for _ in 0..100 {
        if worker.summary().succeeded >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = app.get("127.0.0.1", "/metrics", None).await;
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text;
    for series in [
        "mobieus_http_requests_total{route=\"/api/v1/events\",method=\"GET\",status=\"200\"}",
        "mobieus_http_requests_total{route=\"/api/v1/events\",method=\"GET\",status=\"401\"}",
        "mobieus_http_requests_total{route=\"/api/v1/events/{id}\",method=\"GET\",status=\"404\"}",
        "mobieus_http_requests_total{route=\"/api/v1/webhooks\",method=\"POST\",status=\"201\"}",
        "mobieus_webhook_deliveries_total{outcome=\"succeeded\"}",
        "mobieus_webhook_attempt_duration_seconds_count",
        "mobieus_http_request_duration_seconds_count{route=\"/api/v1/events\"}",
    ] {
        assert!(value(&text, series) >= 1.0, "{series}");
    }
    assert_eq!(
        value(
            &text,
            "mobieus_http_requests_total{route=\"/api/v1/events\",method=\"GET\",status=\"401\"}"
        ),
        1.0
    );
    assert!(!text.contains("evt_01HZZ"), "ids never make series");
    assert_eq!(value(&text, "mobieus_webhook_queue_depth"), 0.0);
    assert_eq!(value(&text, "mobieus_webhook_endpoints_disabled"), 0.0);
}
