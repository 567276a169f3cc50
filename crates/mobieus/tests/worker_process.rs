//! The delivery worker as operators run it: `mobieus worker` as its own process (killed
//! with SIGKILL mid-batch, then a second worker delivers everything), `mobieus worker
//! --once` from cron, and `mobieus serve` picking up deliveries the CLI enqueued, with
//! logs that never hold a secret, a signature or an API key.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::cli::{Background, Cli, ServeProcess};
use mobieus_testkit::receiver::{Answer, Receiver};
use mobieus_testkit::{client, files_containing};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

fn cli() -> (tempfile::TempDir, Cli) {
    Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"))
}

/// The environment a worker needs to reach the loopback HTTPS receiver.
fn env(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![
        ("MOBIEUS_WEBHOOK_ALLOW_LOOPBACK", "1".to_owned()),
        (
            "MOBIEUS_WEBHOOK_CA_FILE",
            receiver.ca_file().display().to_string(),
        ),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn tenant_pool(data_dir: &Path) -> sqlx::SqlitePool {
    let path = data_dir.join("tenants/alpha.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

/// A tenant with an endpoint to the receiver (registered through the API of a short-lived
/// `serve --no-worker`) and `events` members joined; returns the endpoint's id and
/// secret, and the API key.
async fn arrange(cli: &Cli, receiver: &Receiver, events: usize) -> (String, String, String) {
    cli.run(&["tenant", "create", "alpha"]).ok();
    let key = cli.create_key("alpha", "ops", "webhooks:manage,webhooks:read", &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let env = env(receiver);
    let server = ServeProcess::start_with(cli, &["--no-worker"], &borrowed(&env));
    let created: Value = client()
        .post(server.url("/api/v1/webhooks"))
        .header("host", "alpha.localhost")
        .header("content-type", "application/json")
        .bearer_auth(&key)
        .body(json!({ "url": receiver.url("/in"), "events": ["user.joined"] }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.stop();
    let secret = created["data"]["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let id = created["data"]["id"].as_str().expect("an id").to_owned();
    for i in 0..events {
        cli.run(&[
            "forum",
            "--tenant",
            "alpha",
            "user",
            "join",
            &format!("member{i}"),
        ])
        .ok();
    }
    (id, secret, key)
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing_and_a_second_one_delivers_it_all() {
    const EVENTS: usize = 40;
    let receiver = Receiver::https().await;
    let (_dir, cli) = cli();
    let (_, secret, _) = arrange(&cli, &receiver, EVENTS).await;
    let env = env(&receiver);
    let pool = tenant_pool(cli.data_dir()).await;

    // Slow answers keep the first worker's batch in flight when it dies.
    receiver.answer_by_default(Answer::status(200).after(Duration::from_secs(2)));
    let args = [
        "worker",
        "--delivery-concurrency",
        "8",
        "--request-timeout",
        "3s",
    ];
    let first = Background::spawn(&cli, &args, &borrowed(&env));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let leased: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND lease_until IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        // One endpoint holds at most a quarter of the 8 slots.
        if leased >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first worker never claimed a batch"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill();
    let succeeded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        succeeded < EVENTS as i64,
        "the first worker was killed before it finished ({succeeded} done)"
    );

    receiver.answer_by_default(Answer::status(200));
    let second = Background::spawn(&cli, &args, &borrowed(&env));
    let deadline = Instant::now() + Duration::from_secs(60);
    let ids = loop {
        let ids: HashSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.header("webhook-id").to_owned())
            .collect();
        if ids.len() == EVENTS {
            break ids;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {EVENTS} events arrived",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if done == EVENTS as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {EVENTS} deliveries recorded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let logs = second.stop();
    let events: HashSet<String> = sqlx::query_scalar("SELECT id FROM api_events")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(ids, events, "every event arrived, under its own webhook-id");
    for r in receiver.received() {
        assert_eq!(r.json()["id"], r.header("webhook-id"));
        r.assert_signed_with(&secret);
    }
    assert!(
        logs.stderr.contains("delivery worker started"),
        "{}",
        logs.stderr
    );
}

// `worker --once` is run to completion synchronously: the receiver needs its own threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_once_delivers_what_is_due_and_exits() {
    let receiver = Receiver::https().await;
    let (_dir, cli) = cli();
    arrange(&cli, &receiver, 3).await;
    let env = env(&receiver);
    let mut cmd = cli.command(&["worker", "--once"]);
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("delivered 3 succeeded, 0 failed"),
        "{stdout}"
    );
    assert_eq!(receiver.received().len(), 3);
    // Nothing is due any more: a second run sends nothing.
    let out = cmd.output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("delivered 0 succeeded"));
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn serve_delivers_what_the_cli_enqueues_within_a_second_and_logs_no_secret() {
    let receiver = Receiver::https().await;
    let (_dir, cli) = cli();
    let (endpoint, secret, key) = arrange(&cli, &receiver, 0).await;
    let mut env = env(&receiver);
    env.push(("RUST_LOG", "debug".to_owned()));
    let server = ServeProcess::start_with(&cli, &["--retry-schedule", "0s,1s"], &borrowed(&env));

    let enqueued = Instant::now();
    cli.run(&["forum", "--tenant", "alpha", "user", "join", "ann"])
        .ok();
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let waited = got[0].at - enqueued;
    assert!(
        waited < Duration::from_millis(2500),
        "picked up by the poll in about a second: {waited:?}"
    );

    // Rotate, and deliver signed with both secrets, so the logs have more to leak.
    let rotated: Value = client()
        .post(server.url(&format!("/api/v1/webhooks/{endpoint}/rotate-secret")))
        .header("host", "alpha.localhost")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["data"]["secret"]
        .as_str()
        .expect("a new secret")
        .to_owned();
    cli.run(&["forum", "--tenant", "alpha", "user", "join", "bob"])
        .ok();
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    let logs = server.stop();
    let all = format!("{}{}", logs.stdout, logs.stderr);
    assert!(
        all.contains("--webhook-allow-loopback is on"),
        "the allowance is logged loudly"
    );
    let mut needles = vec![key.clone()];
    for s in [&secret, &new_secret] {
        needles.push(s.trim_start_matches("whsec_").to_owned());
        assert!(
            files_containing(cli.data_dir(), s.trim_start_matches("whsec_")).is_empty(),
            "a secret in plaintext in the data dir"
        );
    }
    for r in &got {
        needles.extend(r.header("webhook-signature").split(' ').map(str::to_owned));
        needles.extend(
            r.header("mobieus-signature")
                .split(',')
                .filter_map(|p| p.split_once('=').map(|(_, v)| v.to_owned()))
                .filter(|v| v.len() > 20),
        );
    }
    assert!(needles.len() >= 6);
    for needle in &needles {
        assert!(
            !all.contains(needle.as_str()),
            "the logs hold a secret or signature"
        );
    }
}
