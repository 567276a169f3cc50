//! API rate limits across nodes, over real HTTP: two nodes on one store and one Redis
//! together allow a key's limit once (not once each), with the same RateLimit fields as a
//! single node; and with Redis unreachable (nothing listening, or a server that never
//! answers) every request is still answered, each node counting on its own.
//!
//! The tests needing a Redis skip, saying so, unless `MOBIEUS_TEST_REDIS_URL` is set
//! (`.ci/run` sets it); the one over TLS starts a `redis-server` of its own, and skips
//! when there is none unless `MOBIEUS_TEST_REQUIRE_TOOLS=1`. Each test's keys are fresh (`mobieus:rl:<tenant>:<random key id>`),
//! so tests share the server safely.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::cli::{Cli, ServeProcess};
use mobieus_testkit::{TestApp, TestOptions, TestResponse, redis};

const HOST: &str = "alpha.localhost";
const PATH: &str = "/api/v1/events?limit=1";

/// `r=` and `t=` of the `RateLimit` field.
fn remaining_and_reset(r: &TestResponse) -> (u64, u64) {
    let field = r
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no RateLimit header on {} {}", r.status(), r.text));
    let part = |name: &str| -> u64 {
        field
            .split(';')
            .find_map(|p| p.trim().strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("RateLimit {field:?} lacks {name}<n>"))
    };
    (part("r="), part("t="))
}

/// A 429 as a single node gives it: `rate_limited`, `Retry-After` within the window.
fn assert_limited(r: &TestResponse) {
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r
        .header("retry-after")
        .expect("429 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (left, reset) = remaining_and_reset(r);
    assert_eq!(left, 0);
    assert!((1..=60).contains(&reset), "t={reset}");
}

/// The node's `mobieus_rate_limit_fail_open_total`.
async fn fail_opens(app: &TestApp) -> u64 {
    let r = app.get("127.0.0.1", "/metrics", None).await;
    r.assert_status(200);
    r.text
        .lines()
        .find_map(|l| l.strip_prefix("mobieus_rate_limit_fail_open_total "))
        .unwrap_or_else(|| panic!("no fail-open counter in /metrics:\n{}", r.text))
        .parse()
        .expect("a count")
}

#[tokio::test]
async fn two_nodes_on_one_redis_allow_a_keys_limit_once() {
    let Some(url) = redis::test_url("two_nodes_on_one_redis_allow_a_keys_limit_once") else {
        return;
    };
    let a = TestApp::start_with_redis(TestOptions::default(), &url).await;
    let b = a.another_node().await;
    let minted = a.mint("alpha", "events:read", 5).await;
    let key = minted.secret.expose().to_owned();
    let other = a.key("beta", "events:read", 5).await;

    // Alternating between the nodes, the remaining quota counts down as one.
    let mut lefts = Vec::new();
    for (i, node) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let r = node.get(HOST, PATH, Some(&key)).await;
        r.assert_status(200);
        assert_eq!(r.header("ratelimit-policy"), Some("\"key\";q=5;w=60"));
        let (left, reset) = remaining_and_reset(&r);
        assert!((1..=60).contains(&reset), "t={reset}");
        lefts.push(left);
        if i == 1 {
            // Redis forgets its scripts (a restart, a failover): EVALSHA's NOSCRIPT is
            // answered by EVAL, and the count goes on.
            assert_eq!(redis::command(&url, &["SCRIPT", "FLUSH"]), "+OK");
        }
    }
    assert_eq!(lefts, [4, 3, 2, 1, 0], "one count for both nodes");
    // The limit is spent on both nodes: 5 in all, not 5 each.
    for node in [&b, &a, &b] {
        assert_limited(&node.get(HOST, PATH, Some(&key)).await);
    }
    // The count lives under the tenant and the key, and goes with the window.
    let name = format!("mobieus:rl:alpha:{}", minted.record.id);
    assert_eq!(redis::command(&url, &["GET", &name]), "$1 8");
    let ttl: i64 = redis::command(&url, &["PTTL", &name])
        .trim_start_matches(':')
        .parse()
        .expect("PTTL");
    assert!(
        (1..=60_000).contains(&ttl),
        "the window's time left: {ttl} ms"
    );

    // Another key, on another tenant, has its own count.
    let r = b.get("beta.localhost", PATH, Some(&other)).await;
    r.assert_status(200);
    assert_eq!(remaining_and_reset(&r).0, 4);
    assert_eq!((fail_opens(&a).await, fail_opens(&b).await), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_two_nodes_are_counted_exactly() {
    let Some(url) = redis::test_url("concurrent_requests_on_two_nodes_are_counted_exactly") else {
        return;
    };
    let a = std::sync::Arc::new(TestApp::start_with_redis(TestOptions::default(), &url).await);
    let b = std::sync::Arc::new(a.another_node().await);
    let key = a.key("alpha", "events:read", 20).await;
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..60 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        requests.spawn(async move { node.get(HOST, PATH, Some(&key)).await.status() });
    }
    let mut statuses = requests.join_all().await;
    statuses.sort_unstable();
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((allowed, refused), (20, 40), "{statuses:?}");
    assert_eq!((fail_opens(&a).await, fail_opens(&b).await), (0, 0));
}

/// Requests on each node until the first 429, with every answer 200 before it.
async fn allowed_until_limited(node: &TestApp, key: &str, limit: u64) -> u64 {
    let mut allowed = 0;
    for _ in 0..=limit {
        let r = node.get(HOST, PATH, Some(key)).await;
        match r.status() {
            200 => allowed += 1,
            429 => {
                assert_limited(&r);
                return allowed;
            }
            other => panic!("Redis being unreachable made a {other}: {}", r.text),
        }
    }
    allowed
}

/// Two nodes whose Redis is at `url` that will not count: both serve, each limiting on
/// its own, and count every check as failed open.
async fn each_node_limits_on_its_own(url: &str) {
    let a = TestApp::start_with_redis(TestOptions::default(), url).await;
    let b = a.another_node().await;
    let key = a.key("alpha", "events:read", 3).await;
    assert_eq!(allowed_until_limited(&a, &key, 3).await, 3, "node a");
    assert_eq!(allowed_until_limited(&b, &key, 3).await, 3, "node b");
    assert_eq!((fail_opens(&a).await, fail_opens(&b).await), (4, 4));
    // Unauthenticated answers are unaffected too.
    a.get(HOST, PATH, None)
        .await
        .assert_problem(401, "missing_api_key");
}

#[tokio::test]
async fn nothing_listening_for_redis_fails_open_to_per_node_limits() {
    each_node_limits_on_its_own(&redis::closed_url()).await;
}

#[tokio::test]
async fn a_redis_that_never_answers_fails_open_to_per_node_limits() {
    // Accepts connections and says nothing: a hung server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    each_node_limits_on_its_own(&format!("redis://127.0.0.1:{port}/1")).await;
    held.abort();
}

const BIN: &str = env!("CARGO_BIN_EXE_mobieus");

#[test]
fn a_bad_redis_url_is_refused_in_one_line_that_never_repeats_it() {
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    for (url, why) in [
        (
            "http://app:hunter2@10.0.0.1",
            "expected a URL like redis://",
        ),
        ("redis://:hunter2@10.0.0.1/x", "must be a database number"),
        (
            "redis://:hunter2@10.0.0.1:99999",
            "not a valid redis:// URL",
        ),
    ] {
        for command in ["serve", "demo"] {
            let line = cli.run(&[command, "--redis-url", url]).refused().to_owned();
            assert!(line.starts_with("error: --redis-url: "), "{line}");
            assert!(line.contains(why) && !line.contains("hunter2"), "{line}");
        }
        let out = cli
            .command(&["serve"])
            .env("MOBIEUS_REDIS_URL", url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(why) && !stderr.contains("hunter2"),
            "{stderr}"
        );
    }
    assert!(
        !cli.data_dir().join("master.key").exists(),
        "refused before anything is created"
    );
    let help = cli.run(&["serve", "--help"]).ok().to_owned();
    assert!(help.contains("--redis-url") && help.contains("MOBIEUS_REDIS_URL"));
    assert!(help.contains("--redis-ca-file") && help.contains("MOBIEUS_REDIS_CA_FILE"));
}

#[test]
fn a_redis_ca_file_that_cannot_be_used_is_refused() {
    let (dir, cli) = Cli::in_temp_dir(BIN);
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let missing = dir.path().join("missing.pem");
    let issued = mobieus_testkit::tls::issue(dir.path(), &["127.0.0.1"]);
    for (url, file, why) in [
        (
            "rediss://:hunter2@10.0.0.1",
            &not_pem,
            "holds no PEM certificate",
        ),
        ("rediss://:hunter2@10.0.0.1", &missing, "No such file"),
        (
            "redis://:hunter2@10.0.0.1",
            &issued.ca_file,
            "must be rediss://",
        ),
    ] {
        let file = file.to_str().unwrap();
        let line = cli
            .run(&["serve", "--redis-url", url, "--redis-ca-file", file])
            .refused()
            .to_owned();
        assert!(line.starts_with("error: --redis-ca-file "), "{line}");
        assert!(line.contains(why) && !line.contains("hunter2"), "{line}");
    }
}

/// `rediss://` with `--redis-ca-file`, through the served binary, against a TLS
/// `redis-server` of the test's own whose certificate a fresh CA issued: the count is kept
/// in Redis (and none falls back to the node's own).
#[tokio::test]
async fn rediss_with_a_private_ca_counts_in_redis() {
    let Some(redis) = redis::TlsRedis::start("rediss_with_a_private_ca_counts_in_redis") else {
        return;
    };
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    cli.run(&["tenant", "create", "alpha"]).ok();
    let minted = cli.create_key("alpha", "k", "events:read", &["--rate-limit", "2"]);
    let key = minted["key"].as_str().expect("the key").to_owned();
    let id = minted["id"].as_str().expect("the key's id").to_owned();
    let ca_file = redis.ca_file.to_str().expect("a UTF-8 path");
    let server = ServeProcess::start_with(
        &cli,
        &["--no-worker"],
        &[
            ("MOBIEUS_REDIS_URL", &redis.tls_url),
            ("MOBIEUS_REDIS_CA_FILE", ca_file),
        ],
    );
    let client = mobieus_testkit::client();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = client
            .get(server.url(PATH))
            .header("host", HOST)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let left = r
            .headers()
            .get("ratelimit")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        answers.push((
            r.status().as_u16(),
            left.split(';').nth(1).map(str::to_owned),
        ));
    }
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let logs = server.stop();
    assert_eq!(
        answers,
        [
            (200, Some("r=1".to_owned())),
            (200, Some("r=0".to_owned())),
            (429, Some("r=0".to_owned()))
        ],
        "{}",
        logs.stderr
    );
    assert!(
        metrics
            .lines()
            .any(|l| l == "mobieus_rate_limit_fail_open_total 0"),
        "{metrics}"
    );
    assert!(
        logs.stderr
            .contains("API rate limits are shared across nodes through Redis"),
        "{}",
        logs.stderr
    );
    let name = format!("mobieus:rl:alpha:{id}");
    assert_eq!(redis::command(&redis.plain_url, &["GET", &name]), "$1 3");
}

#[tokio::test]
async fn serve_with_redis_unreachable_serves_limits_per_node_and_warns_without_the_password() {
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    cli.run(&["tenant", "create", "alpha"]).ok();
    let minted = cli.create_key("alpha", "k", "events:read", &["--rate-limit", "2"]);
    let key = minted["key"].as_str().expect("the key").to_owned();
    let url = redis::closed_url();
    let server = ServeProcess::start_with(&cli, &["--no-worker"], &[("MOBIEUS_REDIS_URL", &url)]);
    let client = mobieus_testkit::client();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = client
            .get(server.url(PATH))
            .header("host", HOST)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
    let logs = server.stop();
    let password = url
        .split_once("://:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(p, _)| p)
        .unwrap();
    assert!(
        logs.stderr.contains("Redis does not answer")
            && logs.stderr.contains("fall back to this node's count"),
        "{}",
        logs.stderr
    );
    assert!(!logs.stderr.contains(password), "{}", logs.stderr);
}
