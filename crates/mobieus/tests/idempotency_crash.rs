//! An `Idempotency-Key` survives its server dying right after the action committed: the
//! key is claimed and the answer kept in the action's own transaction, so the retry
//! finds the action done and gets its first answer again; nothing runs twice. On the
//! suite's backend, with the real binary killed by SIGKILL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::cli::{Cli, ServeProcess};
use mobieus_testkit::client;
use mobieus_testkit::db::TestDb;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Debug builds hold a keyed request's answer this long (ms) after its commit.
const HOLD_VAR: &str = "MOBIEUS_TEST_HOLD_AFTER_COMMIT_MS";

async fn webhooks(server: &ServeProcess, key: &str) -> Vec<Value> {
    let page: Value = client()
        .get(server.url("/api/v1/webhooks"))
        .header("host", "alpha.localhost")
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_server_killed_just_after_the_commit_answers_the_retry_with_the_first_answer() {
    let db = TestDb::new().await;
    let mut cli = Cli::new(env!("CARGO_BIN_EXE_mobieus"), db.data_dir());
    if let Some(url) = db.database_url() {
        cli = cli.with_database_url(url);
    }
    cli.run(&["tenant", "create", "alpha"]).ok();
    let key = cli.create_key("alpha", "ops", "webhooks:manage,webhooks:read", &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({ "url": "https://127.0.0.1:9/hook", "events": ["*"] }).to_string();
    let create = |server: &ServeProcess| {
        client()
            .post(server.url("/api/v1/webhooks"))
            .header("host", "alpha.localhost")
            .header("idempotency-key", "create-once")
            .header("content-type", "application/json")
            .bearer_auth(&key)
            .body(body.clone())
            .send()
    };

    // This server holds every keyed answer for a minute after the action's commit.
    let loopback = ("MOBIEUS_WEBHOOK_ALLOW_LOOPBACK", "1");
    let server = ServeProcess::start_with(&cli, &["--no-worker"], &[loopback, (HOLD_VAR, "60000")]);
    let first = tokio::spawn(create(&server));
    let deadline = Instant::now() + Duration::from_secs(30);
    let committed = loop {
        let listed = webhooks(&server, &key).await;
        if let Some(endpoint) = listed.first() {
            break endpoint["id"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the endpoint was never committed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        !first.is_finished(),
        "the first request was answered before the kill"
    );
    server.kill();
    assert!(
        first.await.unwrap().is_err(),
        "the killed server answered the first request"
    );

    let server = ServeProcess::start_with(&cli, &["--no-worker"], &[loopback]);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let retry = create(&server).await.unwrap();
        assert_eq!(retry.status(), 201);
        assert_eq!(
            retry.headers()["idempotent-replayed"],
            "true",
            "the retry ran the action again instead of answering the kept answer"
        );
        let answer: Value = retry.json().await.unwrap();
        answers.push(answer["data"].clone());
    }
    assert_eq!(answers[0]["id"], committed.as_str());
    assert!(answers[0]["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(answers[0], answers[1], "the same answer each time");
    let listed = webhooks(&server, &key).await;
    assert_eq!(listed.len(), 1, "one endpoint, not two: {listed:?}");
    assert_eq!(listed[0]["id"], committed.as_str());
    server.stop();
}
