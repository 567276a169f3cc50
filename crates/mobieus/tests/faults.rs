//! The fault suite of the delivery worker: the real server with its in-process worker
//! against receivers that misbehave on purpose (`mobieus_testkit::faulty`): one that
//! never answers, stalls the TLS handshake, resets or closes the connection, answers a
//! byte at a time, sends 50 MB, redirects to a loopback receiver, or answers 500. Each
//! gets the documented retry behaviour, read from the attempt log over the API and seen
//! from the receiver's side of the wire; a stalled endpoint does not hold up deliveries to
//! a healthy one; and the worker's memory stays bounded while a receiver streams 50 MB.
//!
//! The worker runs with short timeouts (connect 500 ms, total 1–3 s) so the suite is fast.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_store::TenantDb;
use mobieus_testkit::faulty::{Fault, FaultyReceiver, TestCa};
use mobieus_testkit::receiver::Receiver;
use mobieus_testkit::{TestApp, TestOptions, fixtures};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const HOST: &str = "alpha.localhost";
const WAIT: Duration = Duration::from_secs(15);
const CONNECT: Duration = Duration::from_millis(500);
/// The total timeout of most tests here.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Slack on top of a timeout: recording the attempt, a loaded CI machine.
const SLACK: Duration = Duration::from_millis(700);
const MB: u64 = 1024 * 1024;

/// A worker retrying on `schedule`, trusting `ca`, with these timeouts and slots.
fn options(schedule: &str, ca: &Path, total: Duration, concurrency: usize) -> TestOptions {
    let mut options = TestOptions::delivering(schedule, Some(ca));
    let worker = options.worker.as_mut().unwrap();
    worker.client.connect_timeout = CONNECT;
    worker.client.total_timeout = total;
    worker.concurrency = concurrency;
    options
}

async fn start(options: TestOptions) -> (TestApp, String, TenantDb) {
    let app = TestApp::start_with(options).await;
    let key = app
        .key("alpha", "webhooks:read,webhooks:manage,events:read", 60_000)
        .await;
    let db = app.tenant("alpha").await;
    (app, key, db)
}

/// Registers an endpoint; returns its id.
async fn register(app: &TestApp, key: &str, url: &str, events: &[&str]) -> String {
    let body = json!({ "url": url, "events": events }).to_string();
    let created = app.post(HOST, "/api/v1/webhooks", Some(key), &body).await;
    created.assert_status(201);
    created.data()["id"].as_str().unwrap().to_owned()
}

/// The endpoint's deliveries, each with its attempts.
async fn deliveries(app: &TestApp, key: &str, ep: &str) -> Vec<Value> {
    let list = app
        .get(
            HOST,
            &format!("/api/v1/webhooks/{ep}/deliveries?limit=100"),
            Some(key),
        )
        .await;
    list.assert_status(200);
    let mut all = Vec::new();
    for d in list.items() {
        let id = d["id"].as_str().unwrap();
        let one = app
            .get(
                HOST,
                &format!("/api/v1/webhooks/{ep}/deliveries/{id}"),
                Some(key),
            )
            .await;
        one.assert_status(200);
        all.push(one.data().clone());
    }
    all
}

/// Waits until the endpoint has `n` deliveries and none is pending; returns them.
async fn settled(app: &TestApp, key: &str, ep: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let all = deliveries(app, key, ep).await;
        if all.len() == n && all.iter().all(|d| d["status"] != "pending") {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries to {ep} not settled in {WAIT:?}: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The only delivery of the endpoint, once settled.
async fn settled_one(app: &TestApp, key: &str, ep: &str) -> Value {
    settled(app, key, ep, 1).await.remove(0)
}

fn attempts(d: &Value) -> &[Value] {
    d["attempts_made"].as_array().unwrap()
}

fn took(attempt: &Value) -> Duration {
    Duration::from_millis(attempt["duration_ms"].as_u64().unwrap())
}

/// Asserts a delivery failed after `n` attempts, each with no answer and an error.
fn assert_failed_without_answer(d: &Value, n: usize, what: &str) {
    assert_eq!(d["status"], "failed", "{what}: {d:#}");
    assert_eq!(d["attempts"], n, "{what}: {d:#}");
    assert!(d["next_attempt_at"].is_null(), "{what}: {d:#}");
    let made = attempts(d);
    assert_eq!(made.len(), n, "{what}: {d:#}");
    for (i, a) in made.iter().enumerate() {
        assert_eq!(a["number"], i + 1, "{what}: {a:#}");
        assert!(a["response_status"].is_null(), "{what}: {a:#}");
        assert!(a["response_excerpt"].is_null(), "{what}: {a:#}");
        assert!(
            a["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: a failure without an answer says what went wrong: {a:#}"
        );
    }
}

/// The gaps between consecutive requests the receiver read.
fn gaps(requests: &[mobieus_testkit::faulty::Request]) -> Vec<Duration> {
    requests.windows(2).map(|w| w[1].at - w[0].at).collect()
}

/// A `/proc/self/status` figure in bytes (`VmRSS`, `VmHWM`); `None` off Linux.
fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_timed_out_retried_on_schedule_then_failed() {
    let ca = TestCa::new();
    let rx = FaultyReceiver::start(&ca, Fault::Hang).await;
    let (app, key, db) = start(options("0s,200ms,200ms", &ca.file(), TIMEOUT, 64)).await;
    let ep = register(&app, &key, &rx.url("/hang"), &["*"]).await;

    fixtures::join(&db, "ann").await;
    let d = settled_one(&app, &key, &ep).await;
    assert_failed_without_answer(&d, 3, "hang");
    for a in attempts(&d) {
        assert_eq!(a["error"], "timed out", "{a:#}");
        assert!(
            took(a) >= TIMEOUT - Duration::from_millis(50) && took(a) <= TIMEOUT + SLACK,
            "each attempt ends at the total timeout: {a:#}"
        );
        assert_eq!(
            a["request_headers"]["mobieus-attempt"],
            a["number"].to_string(),
            "the request was sent: {a:#}"
        );
    }

    // From the receiver's side: one connection per attempt, each hung up by the worker
    // at its timeout (so no connection is left behind), retried after the schedule's wait.
    let connections = rx.wait_for_ended(3, WAIT).await;
    assert_eq!(
        connections.len(),
        3,
        "one connection per attempt: {connections:#?}"
    );
    for c in &connections {
        let request = c.request.as_ref().expect("a request on every connection");
        let ended = c.ended.as_ref().unwrap();
        assert_eq!(ended.how, "client hung up", "{c:#?}");
        let held = ended.at - request.at;
        assert!(
            held <= TIMEOUT + SLACK,
            "the worker holds a stalled connection no longer than the timeout: {held:?}"
        );
    }
    let requests = rx.requests();
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.header("mobieus-attempt"), (i + 1).to_string());
        assert_eq!(r.header("webhook-id"), requests[0].header("webhook-id"));
    }
    for gap in gaps(&requests) {
        assert!(
            gap >= TIMEOUT + Duration::from_millis(150) && gap <= TIMEOUT + Duration::from_secs(2),
            "the next attempt comes the schedule's wait after the timeout: {gap:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.connections().len(), 3, "no attempt after the last");
}

#[tokio::test]
async fn a_receiver_that_stalls_the_tls_handshake_fails_at_the_connect_timeout() {
    let ca = TestCa::new();
    let rx = FaultyReceiver::start(&ca, Fault::StallHandshake).await;
    // A total timeout well above the connect timeout, to tell them apart.
    let total = Duration::from_secs(3);
    let (app, key, db) = start(options("0s,200ms", &ca.file(), total, 64)).await;
    let ep = register(&app, &key, &rx.url("/stall"), &["*"]).await;

    fixtures::join(&db, "ann").await;
    let d = settled_one(&app, &key, &ep).await;
    assert_failed_without_answer(&d, 2, "stalled handshake");
    for a in attempts(&d) {
        assert!(
            took(a) >= CONNECT - Duration::from_millis(50) && took(a) < CONNECT + SLACK,
            "the TLS handshake is part of connecting: cut at the connect timeout: {a:#}"
        );
        assert_eq!(
            a["request_headers"],
            json!({}),
            "nothing was sent, so no headers are logged as sent: {a:#}"
        );
    }
    let connections = rx.wait_for_ended(2, WAIT).await;
    assert_eq!(connections.len(), 2, "{connections:#?}");
    assert!(connections.iter().all(|c| c.request.is_none()));
}

#[tokio::test]
async fn a_reset_or_a_close_without_an_answer_fails_at_once_with_an_error_and_is_retried() {
    let ca = TestCa::new();
    let reset = FaultyReceiver::start(&ca, Fault::Reset).await;
    let close = FaultyReceiver::start(&ca, Fault::Close).await;
    let dropped = FaultyReceiver::start(&ca, Fault::DropAfterHandshake).await;
    // A long total timeout: these failures must come from the fault, not the clock.
    let total = Duration::from_secs(3);
    let (app, key, db) = start(options("0s,200ms", &ca.file(), total, 64)).await;
    let reset_ep = register(&app, &key, &reset.url("/reset"), &["*"]).await;
    let close_ep = register(&app, &key, &close.url("/close"), &["*"]).await;
    let dropped_ep = register(&app, &key, &dropped.url("/dropped"), &["*"]).await;

    fixtures::join(&db, "ann").await;
    for (ep, rx, what, says) in [
        (&reset_ep, &reset, "reset after the request head", "reset"),
        (&close_ep, &close, "clean close after the request", "closed"),
        (&dropped_ep, &dropped, "dropped after the handshake", ""),
    ] {
        let d = settled_one(&app, &key, ep).await;
        assert_failed_without_answer(&d, 2, what);
        for a in attempts(&d) {
            eprintln!(
                "{what}: attempt {} failed with: {}",
                a["number"], a["error"]
            );
            let error = a["error"].as_str().unwrap();
            assert_ne!(error, "timed out", "{what}: {a:#}");
            assert!(
                error.to_ascii_lowercase().contains(says),
                "{what}: the error names what happened: {a:#}"
            );
            assert!(
                took(a) < Duration::from_secs(1),
                "{what}: fails as soon as the connection goes: {a:#}"
            );
        }
        let connections = rx.wait_for_ended(2, WAIT).await;
        assert_eq!(
            connections.len(),
            2,
            "{what}: one connection per attempt, none retried behind the worker's back: {connections:#?}"
        );
        if rx.port() != dropped.port() {
            let attempt_headers: Vec<&str> = connections
                .iter()
                .map(|c| c.request.as_ref().unwrap().header("mobieus-attempt"))
                .collect();
            assert_eq!(attempt_headers, ["1", "2"], "{what}");
        }
    }
}

#[tokio::test]
async fn a_slow_answer_is_cut_at_the_total_timeout() {
    let ca = TestCa::new();
    // The status line itself a byte every 200 ms: no status within the timeout.
    let slow_head = FaultyReceiver::start(
        &ca,
        Fault::SlowHead {
            every: Duration::from_millis(200),
        },
    )
    .await;
    // A 200 at once, then a 100-byte body a byte every 100 ms (10 s).
    let slow_body = FaultyReceiver::start(
        &ca,
        Fault::SlowBody {
            status: 200,
            len: 100,
            every: Duration::from_millis(100),
        },
    )
    .await;
    let (app, key, db) = start(options("0s,200ms", &ca.file(), TIMEOUT, 64)).await;
    let head_ep = register(&app, &key, &slow_head.url("/head"), &["*"]).await;
    let body_ep = register(&app, &key, &slow_body.url("/body"), &["*"]).await;

    fixtures::join(&db, "ann").await;

    let d = settled_one(&app, &key, &head_ep).await;
    assert_failed_without_answer(&d, 2, "slow head");
    for a in attempts(&d) {
        assert_eq!(a["error"], "timed out", "{a:#}");
        assert!(
            took(a) >= TIMEOUT - Duration::from_millis(50) && took(a) <= TIMEOUT + SLACK,
            "{a:#}"
        );
    }

    // A 2xx status line in time is a success ("answer 2xx within the timeout"); the
    // body is read only until the timeout, and the excerpt keeps what came by then.
    let d = settled_one(&app, &key, &body_ep).await;
    assert_eq!(d["status"], "succeeded", "{d:#}");
    let [a] = attempts(&d) else {
        panic!("one attempt: {d:#}")
    };
    assert_eq!(a["response_status"], 200, "{a:#}");
    assert!(a["error"].is_null(), "{a:#}");
    assert!(
        took(a) >= TIMEOUT - Duration::from_millis(50) && took(a) <= TIMEOUT + SLACK,
        "the slow body holds the attempt no longer than the timeout: {a:#}"
    );
    let excerpt = a["response_excerpt"].as_str().unwrap_or("");
    let body: String = "0123456789".chars().cycle().take(100).collect();
    assert!(
        !excerpt.is_empty() && excerpt.len() < 30 && body.starts_with(excerpt),
        "the excerpt is the part of the body that came before the timeout: {excerpt:?}"
    );

    // The receivers see the worker hang up: the slow head twice, the slow body once.
    for (rx, n) in [(&slow_head, 2), (&slow_body, 1)] {
        let connections = rx.wait_for_ended(n, WAIT).await;
        assert_eq!(connections.len(), n, "{connections:#?}");
        for c in &connections {
            let ended = c.ended.as_ref().unwrap();
            assert_eq!(ended.how, "write failed", "{c:#?}");
            let held = ended.at - c.request.as_ref().unwrap().at;
            assert!(held <= TIMEOUT + Duration::from_secs(1), "{held:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_50_mb_answer_is_read_no_further_than_the_excerpt_and_memory_stays_bounded() {
    const HUGE: u64 = 50 * MB;
    let ca = TestCa::new();
    let sized = FaultyReceiver::start(
        &ca,
        Fault::HugeBody {
            len: HUGE,
            chunked: false,
        },
    )
    .await;
    let chunked = FaultyReceiver::start(
        &ca,
        Fault::HugeBody {
            len: HUGE,
            chunked: true,
        },
    )
    .await;
    // A total timeout long enough to read all 50 MB, were the worker to try.
    let total = Duration::from_secs(5);
    let (app, key, db) = start(options("0s,200ms", &ca.file(), total, 64)).await;
    let sized_ep = register(&app, &key, &sized.url("/sized"), &["*"]).await;
    let chunked_ep = register(&app, &key, &chunked.url("/chunked"), &["*"]).await;

    // One delivery each to warm up (TLS, pools, database caches), then the baseline.
    fixtures::join(&db, "warm").await;
    settled(&app, &key, &sized_ep, 1).await;
    settled(&app, &key, &chunked_ep, 1).await;
    let (hwm_before, rss_before) = (vm("VmHWM"), vm("VmRSS"));

    // Five more each, all at once: 10 answers of 50 MB in flight together.
    for i in 0..5 {
        fixtures::join(&db, &format!("user{i}")).await;
    }
    let mut all = settled(&app, &key, &sized_ep, 6).await;
    all.extend(settled(&app, &key, &chunked_ep, 6).await);
    let (hwm_after, rss_after) = (vm("VmHWM"), vm("VmRSS"));

    for d in &all {
        assert_eq!(d["status"], "succeeded", "{d:#}");
        let [a] = attempts(d) else {
            panic!("one attempt: {d:#}")
        };
        assert_eq!(a["response_status"], 200, "{a:#}");
        assert!(a["error"].is_null(), "{a:#}");
        let excerpt = a["response_excerpt"].as_str().unwrap();
        assert!(
            !excerpt.is_empty() && excerpt.len() <= 2048 && excerpt.bytes().all(|b| b == b'x'),
            "the excerpt is at most 2 KiB of the body: {} bytes",
            excerpt.len()
        );
        assert!(
            took(a) < Duration::from_secs(2),
            "the attempt ends once the excerpt is read: {a:#}"
        );
    }

    // The worker hung up long before the end: the receivers could write only what the
    // socket buffers and the client's read buffer hold.
    let mut most = 0;
    for rx in [&sized, &chunked] {
        let connections = rx.wait_for_ended(6, WAIT).await;
        assert_eq!(connections.len(), 6, "{connections:#?}");
        for c in &connections {
            let ended = c.ended.as_ref().unwrap();
            assert_eq!(
                ended.how, "write failed",
                "the worker hung up first: {c:#?}"
            );
            most = most.max(ended.bytes_written);
        }
    }
    eprintln!(
        "50 MB answers: at most {:.1} MB written before the worker hung up",
        most as f64 / MB as f64
    );
    assert!(
        most < HUGE / 2,
        "the worker read far into a 50 MB body: {most} bytes written"
    );

    if let (Some(hwm_before), Some(hwm_after), Some(rss_before), Some(rss_after)) =
        (hwm_before, hwm_after, rss_before, rss_after)
    {
        eprintln!(
            "memory: VmRSS {:.1} -> {:.1} MB, VmHWM {:.1} -> {:.1} MB",
            rss_before as f64 / MB as f64,
            rss_after as f64 / MB as f64,
            hwm_before as f64 / MB as f64,
            hwm_after as f64 / MB as f64,
        );
        assert!(
            hwm_after.saturating_sub(hwm_before) < 30 * MB,
            "peak memory grew by {} MB while 10 answers of 50 MB came in",
            hwm_after.saturating_sub(hwm_before) / MB
        );
        assert!(
            rss_after.saturating_sub(rss_before) < 30 * MB,
            "memory grew by {} MB",
            rss_after.saturating_sub(rss_before) / MB
        );
    }
}

#[tokio::test]
async fn redirects_are_failures_retried_on_schedule_and_never_followed() {
    let ca = TestCa::new();
    // A well-behaved receiver the worker trusts and reaches: a followed redirect would
    // land there.
    let target = Receiver::https().await;
    ca.also_trust(&target.ca_file());
    let found = FaultyReceiver::start(
        &ca,
        Fault::Redirect {
            status: 302,
            location: target.url("/followed-302"),
        },
    )
    .await;
    let temporary = FaultyReceiver::start(
        &ca,
        Fault::Redirect {
            status: 307,
            location: target.url("/followed-307"),
        },
    )
    .await;
    let (app, key, db) = start(options("0s,200ms", &ca.file(), TIMEOUT, 64)).await;
    let direct_ep = register(&app, &key, &target.url("/direct"), &["*"]).await;
    let found_ep = register(&app, &key, &found.url("/302"), &["*"]).await;
    let temporary_ep = register(&app, &key, &temporary.url("/307"), &["*"]).await;

    fixtures::join(&db, "ann").await;
    // The target is reachable and trusted.
    assert_eq!(
        settled_one(&app, &key, &direct_ep).await["status"],
        "succeeded"
    );
    for (ep, rx, status) in [(&found_ep, &found, 302), (&temporary_ep, &temporary, 307)] {
        let d = settled_one(&app, &key, ep).await;
        assert_eq!(d["status"], "failed", "{d:#}");
        let statuses: Vec<&Value> = attempts(&d).iter().map(|a| &a["response_status"]).collect();
        assert_eq!(statuses, [&json!(status), &json!(status)], "{d:#}");
        assert!(attempts(&d).iter().all(|a| a["error"].is_null()), "{d:#}");
        assert_eq!(rx.wait_for_ended(2, WAIT).await.len(), 2);
    }
    target.assert_stays_at(1, Duration::from_millis(500)).await;
    let paths: Vec<String> = target.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/direct"], "a redirect was followed");
}

#[tokio::test]
async fn a_500_is_retried_on_the_schedule_and_its_answer_kept() {
    let ca = TestCa::new();
    let rx = FaultyReceiver::start(
        &ca,
        Fault::Status {
            status: 500,
            body: "boom: the database is down".to_owned(),
        },
    )
    .await;
    let (app, key, db) = start(options("0s,200ms,400ms", &ca.file(), TIMEOUT, 64)).await;
    let ep = register(&app, &key, &rx.url("/500"), &["*"]).await;

    fixtures::join(&db, "ann").await;
    let d = settled_one(&app, &key, &ep).await;
    assert_eq!(d["status"], "failed", "{d:#}");
    assert_eq!(d["attempts"], 3, "{d:#}");
    for a in attempts(&d) {
        assert_eq!(a["response_status"], 500, "{a:#}");
        assert_eq!(a["response_excerpt"], "boom: the database is down", "{a:#}");
        assert!(a["error"].is_null(), "{a:#}");
    }
    let requests = rx.wait_for_requests(3, WAIT).await;
    let gaps = gaps(&requests);
    assert!(
        gaps[0] >= Duration::from_millis(190) && gaps[1] >= Duration::from_millis(390),
        "the schedule's waits: {gaps:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.connections().len(), 3, "no attempt after the last");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_and_misbehaving_endpoints_do_not_delay_deliveries_to_a_healthy_one() {
    let ca = TestCa::new();
    let healthy = Receiver::https().await;
    ca.also_trust(&healthy.ca_file());
    let faults = [
        Fault::Hang,
        Fault::StallHandshake,
        Fault::SlowHead {
            every: Duration::from_millis(200),
        },
        Fault::SlowBody {
            status: 200,
            len: 100,
            every: Duration::from_millis(100),
        },
        Fault::HugeBody {
            len: 50 * MB,
            chunked: false,
        },
        Fault::Reset,
    ];
    let mut bad = Vec::new();
    for fault in faults {
        bad.push(FaultyReceiver::start(&ca, fault).await);
    }
    // Attempts to the stalled endpoints stay in flight 3 s: the whole measurement.
    let total = Duration::from_secs(3);
    let (app, key, db) = start(options("0s,100ms", &ca.file(), total, 64)).await;
    register(&app, &key, &healthy.url("/healthy"), &["post.created"]).await;
    fixtures::join(&db, "poster").await;
    for rx in &bad {
        register(&app, &key, &rx.url("/bad"), &["user.joined"]).await;
    }

    // Five events to each bad endpoint: 30 deliveries, the stalled ones all in flight.
    let stalled_from = Instant::now();
    for i in 0..5 {
        fixtures::join(&db, &format!("user{i}")).await;
    }
    let hang = &bad[0];
    let stall = &bad[1];
    hang.wait_for_requests(5, WAIT).await;
    stall.wait_for_connections(5, WAIT).await;

    // Now the healthy endpoint's events, one at a time, each timed to its arrival.
    let mut latencies = Vec::new();
    for i in 0..10 {
        let before = Instant::now();
        fixtures::open_thread(&db, "poster", &format!("Thread {i}"), "Hello").await;
        let got = healthy.wait_for(i + 1, WAIT).await;
        latencies.push(got[i].at - before);
    }
    let last_arrival = healthy.received().last().unwrap().at;
    eprintln!("healthy endpoint latencies: {latencies:?}");

    // The stalled attempts were still in flight through all of it.
    for rx in [hang, stall] {
        let first_round = &rx.connections()[..5];
        assert!(
            first_round
                .iter()
                .all(|c| c.ended.as_ref().is_none_or(|e| e.at > last_arrival)),
            "the measurement outlasted the stalled attempts ({:?} since they started); \
             it proves nothing: {first_round:#?}",
            last_arrival - stalled_from
        );
    }
    let mut sorted = latencies.clone();
    sorted.sort();
    assert!(
        sorted[sorted.len() / 2] < Duration::from_millis(300),
        "median latency to the healthy endpoint: {:?} ({latencies:?})",
        sorted[sorted.len() / 2]
    );
    assert!(
        latencies.iter().all(|l| *l < Duration::from_secs(1)),
        "a delivery to the healthy endpoint waited behind a stalled one: {latencies:?}"
    );
}

/// One slow endpoint does not delay deliveries to the others beyond the timeout, even
/// with fewer slots (`concurrency`) than deliveries to the stalled endpoint: an endpoint
/// holds at most a quarter of the slots (at least one), so the healthy endpoint's delivery
/// is not queued behind stalled attempts (before that cap it waited `ceil(16 / 4)`
/// timeouts: 4.0 s with a 1 s timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_fewer_slots_than_stalled_deliveries_a_healthy_endpoint_waits_no_more_than_a_timeout()
{
    let ca = TestCa::new();
    let healthy = Receiver::https().await;
    ca.also_trust(&healthy.ca_file());
    let hang = FaultyReceiver::start(&ca, Fault::Hang).await;
    let (app, key, db) = start(options("0s", &ca.file(), TIMEOUT, 4)).await;
    register(&app, &key, &healthy.url("/healthy"), &["post.created"]).await;
    fixtures::join(&db, "poster").await;
    register(&app, &key, &hang.url("/hang"), &["user.joined"]).await;
    for i in 0..16 {
        fixtures::join(&db, &format!("user{i}")).await;
    }
    hang.wait_for_requests(4, WAIT).await;
    let before = Instant::now();
    fixtures::open_thread(&db, "poster", "Thread", "Hello").await;
    let got = healthy.wait_for(1, WAIT).await;
    let latency = got[0].at - before;
    assert!(
        latency < TIMEOUT + Duration::from_millis(500),
        "the healthy endpoint waited {latency:?} behind {} stalled attempts",
        hang.connections().len()
    );
}
