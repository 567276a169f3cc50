//! A worker that stops gives its attempts in flight their grace to finish, then releases
//! every delivery it still holds: due again at once for another worker, not when the
//! lease runs out; nothing lost, nothing recorded as attempted that was not.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::url_guard::UrlGuard;
use mobieus_domain::time::Timestamp;
use mobieus_testkit::receiver::{Answer, Receiver};
use mobieus_testkit::{TestApp, TestOptions, fixtures};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_worker_releases_what_it_holds() {
    let receiver = Receiver::https().await;
    // Slow answers: the attempts are still in flight when the worker stops.
    receiver.answer_by_default(Answer::status(200).after(Duration::from_secs(3)));
    let options = TestOptions::delivering("0s", Some(&receiver.ca_file()));
    let mut config = options.worker.clone().unwrap();
    config.concurrency = 8;
    config.shutdown_grace = Some(Duration::from_millis(200));
    // The server runs without a worker; this test runs one of its own.
    let app = TestApp::start_with(TestOptions {
        worker: None,
        ..TestOptions::delivering("0s", Some(&receiver.ca_file()))
    })
    .await;
    let db = app.tenant("alpha").await;
    let key = app.key("alpha", "webhooks:manage", 6000).await;
    for path in ["/a", "/b"] {
        app.post(
            "alpha.localhost",
            "/api/v1/webhooks",
            Some(&key),
            &json!({ "url": receiver.url(path), "events": ["*"] }).to_string(),
        )
        .await
        .assert_status(201);
    }
    for name in ["ann", "bob", "cy"] {
        fixtures::join(&db, name).await;
    }
    let guard = UrlGuard::new(options.dns.clone(), options.loopback);
    let worker = mobieus_delivery::Worker::new(
        app.store().clone(),
        guard,
        config,
        mobieus_delivery::DeliveryMetrics::default(),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let worker = worker.clone();
        tokio::spawn(async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    // Attempts in flight (the receiver answers only after 3 s), the rest held or waiting.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
    // Had the worker waited out the attempts (they answer at 3 s, their timeout is 5 s),
    // they would have succeeded.
    assert_eq!(worker.summary().succeeded, 0, "stopped after the grace");

    // Every delivery is pending, unattempted, and claimable now: no lease left behind.
    let now = Timestamp::now();
    let again = db
        .claim_due(&mobieus_store::Claim::new(
            now,
            now.plus_millis(60_000),
            100,
        ))
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        6,
        "3 events to 2 endpoints, all due again at once"
    );
    assert!(again.iter().all(|c| c.attempts == 0));
}
