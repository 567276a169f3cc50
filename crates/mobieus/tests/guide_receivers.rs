//! The receivers published in the webhooks quickstart, taken from the page the server
//! serves (`/know/api-webhooks-quickstart`) and run as they are printed (Python 3 and Node,
//! standard library only) against real deliveries: they verify what mobieus signs, refuse
//! what it did not, and keep verifying through a secret rotation. Without `python3` or
//! `node` the test of that receiver says it skips (see `mobieus_testkit::tools`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::tools::SnippetProcess;
use mobieus_testkit::{TestApp, TestOptions, client, fixtures, free_port, tools};
use serde_json::json;
use std::time::{Duration, Instant};

const HOST: &str = "alpha.localhost";

/// The code of the block marked `data-snippet="NAME"` on the served quickstart page.
async fn snippet(app: &TestApp, name: &str) -> String {
    let page = app.get(HOST, "/know/api-webhooks-quickstart", None).await;
    page.assert_status(200);
    tools::snippet(&page.text, name)
}

/// Runs the receiver snippet and waits until it listens on `port`.
fn start_receiver(
    program: &str,
    file: &str,
    code: &str,
    secret: &str,
    port: u16,
) -> SnippetProcess {
    let env = [
        ("MOBIEUS_WEBHOOK_SECRET", secret.to_owned()),
        ("PORT", port.to_string()),
    ];
    let receiver = SnippetProcess::start(program, file, code, &env);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{program} receiver never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    receiver
}

/// The next line the receiver prints.
fn next_line(receiver: &SnippetProcess) -> String {
    receiver
        .next_line(Duration::from_secs(10))
        .expect("the receiver printed a line")
}

async fn check(program: &str, file: &str, name: &str) {
    if !tools::available(program, &format!("the {name} guide test")) {
        return;
    }
    let app = TestApp::start_with(TestOptions::delivering("0s", None)).await;
    let db = app.tenant("alpha").await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage", 6000)
        .await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks");
    let created = app
        .post(
            HOST,
            "/api/v1/webhooks",
            Some(&key),
            &json!({ "url": url, "events": ["*"] }).to_string(),
        )
        .await;
    created.assert_status(201);
    let id = created.data()["id"].as_str().unwrap().to_owned();
    let secret = created.data()["secret"].as_str().unwrap().to_owned();
    let code = snippet(&app, name).await;
    let receiver = start_receiver(program, file, &code, &secret, port);

    // A real delivery verifies.
    fixtures::join(&db, "ann").await;
    let line = next_line(&receiver);
    assert!(line.starts_with("verified user.joined evt_"), "{line}");

    // A forged one does not.
    let forged = client()
        .post(&url)
        .header(
            "mobieus-signature",
            format!("t={},v1={}", now(), "ab".repeat(32)),
        )
        .header("mobieus-event", "user.joined")
        .header("webhook-id", "evt_forged")
        .body(r#"{"id":"evt_forged"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(next_line(&receiver).starts_with("REFUSED"));

    // After a rotation the receiver, still on the old secret, verifies `v1_prev`.
    app.post(
        HOST,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        Some(&key),
        r#"{"grace_seconds":600}"#,
    )
    .await
    .assert_status(200);
    fixtures::join(&db, "bob").await;
    let line = next_line(&receiver);
    assert!(line.starts_with("verified user.joined evt_"), "{line}");
}

fn now() -> i64 {
    mobieus_domain::time::Timestamp::now().millis() / 1000
}

// The receivers' output is read with blocking calls: the server and worker need threads
// of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_receiver_in_the_guide_verifies_deliveries() {
    check("python3", "receiver.py", "receiver-python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_receiver_in_the_guide_verifies_deliveries() {
    check("node", "receiver.js", "receiver-node").await;
}
