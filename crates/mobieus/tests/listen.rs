//! `mobieus listen` as a developer runs it, against real `mobieus serve` processes: events
//! made with the CLI arrive at a plain-HTTP receiver on loopback with the feed's exact
//! bytes and both signatures valid under the printed local secret (kept across runs);
//! a server killed and restarted mid-stream loses and repeats nothing; a failing receiver
//! is tried again and then reported; bad input is one line and a non-zero exit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::cli::{Background, Cli, ServeProcess};
use mobieus_testkit::client;
use mobieus_testkit::db::TestDb;
use mobieus_testkit::receiver::{Answer, Received, Receiver};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mobieus");
const WAIT: Duration = Duration::from_secs(60);

/// A CLI on the backend the suite runs on (Postgres with MOBIEUS_TEST_POSTGRES_URL), with
/// tenant `alpha` and a key holding `scopes`.
async fn arrange(scopes: &str) -> (TestDb, Cli, String) {
    let db = TestDb::new().await;
    let mut cli = Cli::new(BIN, db.data_dir());
    if let Some(url) = db.database_url() {
        cli = cli.with_database_url(url);
    }
    cli.run(&["tenant", "create", "alpha"]).ok();
    let key = cli.create_key("alpha", "listen", scopes, &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    (db, cli, key)
}

fn join(cli: &Cli, name: &str) {
    cli.run(&["forum", "--tenant", "alpha", "user", "join", name])
        .ok();
}

fn listen(
    cli: &Cli,
    port: u16,
    key: &str,
    receiver: &Receiver,
    config: &Path,
    extra: &[&str],
) -> Background {
    let url = format!("http://alpha.localhost:{port}");
    // By name: `localhost` is resolved by the command itself.
    let forward = receiver.url_by_name("/hook");
    let mut args = vec!["listen", "--url", &url, "--forward-to", &forward];
    args.extend_from_slice(extra);
    Background::spawn(
        cli,
        &args,
        &[
            ("MOBIEUS_API_KEY", key),
            ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ],
    )
}

/// Waits until the process has printed a line for which `pred` holds; returns all of stdout.
async fn printed(process: &Background, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = process.stdout_so_far();
        if out.lines().any(&pred) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "listen never printed {what}; stdout: {out}\nstderr: {}",
            process.stderr_so_far()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The secret of the Ready line, once it is printed.
async fn ready(process: &Background) -> String {
    let out = printed(process, "the Ready line", |l| l.starts_with("Ready.")).await;
    out.lines()
        .find_map(|l| l.strip_prefix("Ready. Signing secret: "))
        .expect("the Ready line names the secret")
        .trim()
        .to_owned()
}

/// The feed as served (`GET /api/v1/events`): its raw text and its events.
async fn feed(server: &ServeProcess, key: &str) -> (String, Vec<Value>) {
    let text = client()
        .get(server.url("/api/v1/events?limit=100"))
        .header("host", "alpha.localhost")
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    (text, page["data"].as_array().unwrap().clone())
}

/// Asserts each request is the feed event's exact bytes, signed with `secret`, with every
/// header a real delivery carries.
fn assert_delivered(got: &[Received], feed_text: &str, feed: &[Value], secret: &str) {
    for r in got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hook");
        r.assert_signed_with(secret);
        let body = std::str::from_utf8(&r.body).unwrap();
        assert!(
            feed_text.contains(body),
            "the body is the feed's JSON, byte for byte: {body}"
        );
        let event = r.json();
        assert!(feed.contains(&event));
        let id = event["id"].as_str().unwrap();
        assert_eq!(r.header("webhook-id"), id);
        assert_eq!(r.header("mobieus-event-id"), id);
        assert_eq!(r.header("mobieus-event"), event["type"].as_str().unwrap());
        assert!(r.header("mobieus-delivery-id").starts_with("dlv_"));
        assert!(!r.header("mobieus-attempt").is_empty());
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.header("user-agent").starts_with("mobieus-webhooks/"));
    }
}

#[tokio::test]
async fn events_arrive_signed_once_each_in_order_across_a_server_restart() {
    let (_db, cli, key) = arrange("events:read").await;
    let config = tempfile::tempdir().unwrap();
    let receiver = Receiver::http().await;
    let server = ServeProcess::start(&cli, &[]);
    let port = server.port;
    let process = listen(
        &cli,
        port,
        &key,
        &receiver,
        config.path(),
        &["--print-json"],
    );
    let secret = ready(&process).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    join(&cli, "ann");
    join(&cli, "bob");
    receiver.wait_for(2, WAIT).await;

    // The server dies mid-stream; events are made while it is down; it comes back on the
    // same port.
    server.kill();
    join(&cli, "carol");
    join(&cli, "dave");
    let server = ServeProcess::start_on(&cli, port, &[], &[]);
    join(&cli, "erin");
    let got = receiver.wait_for(5, WAIT).await;
    receiver
        .assert_stays_at(5, Duration::from_millis(1500))
        .await;

    let (feed_text, feed) = feed(&server, &key).await;
    let ids: Vec<&str> = feed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let forwarded: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(forwarded, ids, "every event once, in feed order");
    assert_delivered(&got, &feed_text, &feed, &secret);

    let out = process.stdout_so_far();
    for event in &feed {
        let id = event["id"].as_str().unwrap();
        let line = out
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}: {out}"));
        assert!(
            line.contains("user.joined") && line.contains("-> 200"),
            "{line}"
        );
        assert!(
            out.lines()
                .any(|l| serde_json::from_str::<Value>(l).ok().as_ref() == Some(event)),
            "--print-json prints the event: {out}"
        );
    }
    assert!(!out.contains(&key) && !process.stderr_so_far().contains(&key));
    process.stop();

    // The secret is kept, readable by its owner only, and is the same on the next run.
    let again = listen(&cli, port, &key, &receiver, config.path(), &[]);
    assert_eq!(ready(&again).await, secret);
    again.stop();
    let files: Vec<_> = std::fs::read_dir(config.path().join("mobieus"))
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop();
}

#[tokio::test]
async fn a_failing_receiver_is_tried_four_times_then_reported_and_the_stream_moves_on() {
    let (_db, cli, key) = arrange("events:read").await;
    let config = tempfile::tempdir().unwrap();
    let receiver = Receiver::http().await;
    receiver.queue((0..4).map(|_| Answer::status(500)));
    let server = ServeProcess::start(&cli, &[]);
    let given = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=";
    let process = listen(
        &cli,
        server.port,
        &key,
        &receiver,
        config.path(),
        &["--secret", given, "--events", "user.joined"],
    );
    assert_eq!(ready(&process).await, given);

    join(&cli, "ann");
    join(&cli, "bob");
    let got = receiver.wait_for(5, WAIT).await;
    let (feed_text, feed) = feed(&server, &key).await;
    assert_delivered(&got, &feed_text, &feed, given);
    let ann = feed[0]["id"].as_str().unwrap();
    let bob = feed[1]["id"].as_str().unwrap();
    let ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids, [ann, ann, ann, ann, bob]);
    let attempts: Vec<&str> = got[..4]
        .iter()
        .map(|r| r.header("mobieus-attempt"))
        .collect();
    assert_eq!(attempts, ["1", "2", "3", "4"]);
    assert!(
        got[..4]
            .iter()
            .all(|r| r.header("mobieus-delivery-id") == got[0].header("mobieus-delivery-id")),
        "one delivery, tried four times"
    );
    let out = printed(&process, "bob's line", |l| l.contains(bob)).await;
    let line = out.lines().find(|l| l.contains(ann)).unwrap();
    assert!(
        line.contains("FAILED after 4 tries") && line.contains("500"),
        "{line}"
    );
    assert!(
        !config.path().join("mobieus").exists(),
        "--secret keeps no file"
    );
    process.stop();
    server.stop();
}

/// Runs `listen` to its end; asserts it failed with one line on stderr; returns the line.
fn refused(cli: &Cli, args: &[&str], key: &str, config: &Path) -> String {
    let out = cli
        .command(&[&["listen"], args].concat())
        .env("MOBIEUS_API_KEY", key)
        .env("XDG_CONFIG_HOME", config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "listen {args:?} should fail");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "listen {args:?}: one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains(key) || key.is_empty(),
        "the key is never printed"
    );
    lines[0].to_owned()
}

#[tokio::test]
async fn bad_input_is_one_line_and_a_non_zero_exit() {
    let (_db, cli, key) = arrange("events:read").await;
    let users_only = cli.create_key("alpha", "users", "users:read", &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = tempfile::tempdir().unwrap();
    let config = config.path();
    let server = ServeProcess::start(&cli, &[]);
    let url = format!("http://alpha.localhost:{}", server.port);
    let hook = "http://localhost:3000/hook";
    let down = format!("http://127.0.0.1:{}", mobieus_testkit::free_port());

    let line = refused(
        &cli,
        &["--url", "not a url", "--forward-to", hook],
        &key,
        config,
    );
    assert!(line.contains("--url"), "{line}");
    let line = refused(
        &cli,
        &["--url", "ftp://x.example", "--forward-to", hook],
        &key,
        config,
    );
    assert!(line.contains("--url"), "{line}");
    let line = refused(
        &cli,
        &["--url", &url, "--forward-to", "ftp://localhost/x"],
        &key,
        config,
    );
    assert!(line.contains("--forward-to"), "{line}");
    let line = refused(
        &cli,
        &["--url", &url, "--forward-to", hook, "--secret", "whsec_x"],
        &key,
        config,
    );
    assert!(line.contains("--secret"), "{line}");
    let line = refused(&cli, &["--url", &down, "--forward-to", hook], &key, config);
    assert!(line.contains("cannot reach"), "{line}");

    let wrong = format!("{}x", &key[..key.len() - 1]);
    let line = refused(&cli, &["--url", &url, "--forward-to", hook], &wrong, config);
    assert!(
        line.contains("401") && line.contains("invalid_api_key"),
        "{line}"
    );
    let line = refused(
        &cli,
        &["--url", &url, "--forward-to", hook],
        &users_only,
        config,
    );
    assert!(
        line.contains("403") && line.contains("insufficient_scope"),
        "{line}"
    );
    let line = refused(
        &cli,
        &[
            "--url",
            &url,
            "--forward-to",
            hook,
            "--events",
            "user.joined,user.flew",
        ],
        &key,
        config,
    );
    assert!(line.contains("400") && line.contains("user.flew"), "{line}");
    server.stop();
}
