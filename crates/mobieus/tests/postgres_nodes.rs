//! Scale-out as operators run it: three API processes (`serve --no-worker`) and three
//! delivery workers (`worker`) on one PostgreSQL database. Events sent through the API
//! nodes in turn reach a loopback receiver exactly once each; then, with the receiver
//! slow and a backlog in flight, two workers are killed with SIGKILL and the survivor
//! delivers everything (the dead workers' claims once their leases run out), with no
//! more duplicates than the dead workers had in flight. And live streams on two API
//! processes both see, at once, what a third process commits.
//!
//! Runs on the server `MOBIEUS_TEST_POSTGRES_URL` names (CI sets it), in a database of
//! its own; without it the test prints that it was skipped and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::cli::{Background, Cli, ServeProcess};
use mobieus_testkit::client;
use mobieus_testkit::db::{POSTGRES_URL_VAR, TestDb};
use mobieus_testkit::receiver::{Answer, Receiver};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgPool};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events of the first phase (the receiver answers at once).
const EVENTS: usize = 2_000;
/// Events of the second phase (the receiver answers after `SLOW`), during which two
/// workers are killed.
const BACKLOG: usize = 600;
const SLOW: Duration = Duration::from_millis(100);
/// Each worker's `--delivery-concurrency`; one endpoint gets a quarter of it.
const CONCURRENCY: usize = 32;
/// Requests the test keeps in flight against the API nodes.
const SENDERS: usize = 24;

fn server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: {POSTGRES_URL_VAR} is not set");
            None
        }
    }
}

/// A master key as an operator gives it (32 random bytes in hex).
fn master_key() -> String {
    let mut bytes = [0_u8; 32];
    mobieus_domain::random::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the CLI to completion with `env`; returns stdout, panicking on failure.
fn run(cli: &Cli, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = cli.command(args);
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run mobieus");
    assert!(
        out.status.success(),
        "`mobieus {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `count` test events sent through the API nodes in turn, `SENDERS` at a time; returns
/// the event ids the API answered with, by node.
async fn send_events(
    nodes: Arc<Vec<String>>,
    key: Arc<String>,
    endpoint: Arc<String>,
    count: usize,
) -> Vec<Vec<String>> {
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (nodes, key, endpoint) = (nodes.clone(), key.clone(), endpoint.clone());
        senders.push(tokio::spawn(async move {
            let http = client();
            let mut sent = vec![Vec::new(); nodes.len()];
            for i in (s..count).step_by(SENDERS) {
                let node = i % nodes.len();
                let response = http
                    .post(format!("{}/api/v1/webhooks/{endpoint}/test", nodes[node]))
                    .header("host", "alpha.localhost")
                    .bearer_auth(key.as_str())
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                assert_eq!(status, 202, "API node {node} answered {body}");
                let event = body["data"]["event_id"].as_str().unwrap().to_owned();
                sent[node].push(event);
            }
            sent
        }));
    }
    let mut by_node = vec![Vec::new(); nodes.len()];
    for s in senders {
        for (node, events) in s.await.unwrap().into_iter().enumerate() {
            by_node[node].extend(events);
        }
    }
    by_node
}

/// How many times each event arrived (by `webhook-id`).
fn arrivals(receiver: &Receiver) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in receiver.received() {
        *n.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    n
}

/// Waits until every one of `events` has arrived and its delivery is recorded as
/// succeeded (so nothing more will be sent), up to `limit`.
async fn wait_delivered(
    receiver: &Receiver,
    pool: &PgPool,
    schema: &str,
    events: &HashSet<String>,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    loop {
        let arrived = arrivals(receiver);
        let missing = events.iter().filter(|e| !arrived.contains_key(*e)).count();
        let unsettled: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {schema}.webhook_deliveries WHERE status <> 'succeeded'"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        if missing == 0 && unsettled == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after {limit:?}, {missing} of {} events have not arrived and {unsettled} \
             deliveries are not recorded as succeeded",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_api_nodes_and_three_workers_deliver_once_and_killed_workers_lose_nothing() {
    let Some(url) = server() else { return };
    let began = Instant::now();
    let db = TestDb::postgres(&url).await;
    let database_url = db.database_url().unwrap().to_owned();
    let (_dir, cli) = Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"));
    let cli = cli.with_database_url(&database_url);
    let receiver = Receiver::https().await;
    let key = master_key();
    let ca = receiver.ca_file().display().to_string();
    let env: Vec<(&str, &str)> = vec![
        ("MOBIEUS_MASTER_KEY", &key),
        // Six processes share the server's 100 connections with the other tests.
        ("MOBIEUS_PG_POOL", "4"),
        ("MOBIEUS_WEBHOOK_ALLOW_LOOPBACK", "1"),
        ("MOBIEUS_WEBHOOK_CA_FILE", &ca),
    ];

    let (api_key, apis, mut workers) = tokio::task::block_in_place(|| {
        run(&cli, &env, &["tenant", "create", "alpha"]);
        let created: Value = serde_json::from_str(&run(
            &cli,
            &env,
            &[
                "key",
                "create",
                "--tenant",
                "alpha",
                "--name",
                "load",
                "--scopes",
                "webhooks:manage,webhooks:read",
                "--rate-limit",
                "1000000",
                "--json",
            ],
        ))
        .unwrap();
        let api_key = created["key"].as_str().unwrap().to_owned();
        let apis: Vec<ServeProcess> = (0..3)
            .map(|_| ServeProcess::start_with(&cli, &["--no-worker"], &env))
            .collect();
        let concurrency = CONCURRENCY.to_string();
        let workers: Vec<Option<Background>> = (0..3)
            .map(|_| {
                Some(Background::spawn(
                    &cli,
                    &[
                        "worker",
                        "--delivery-concurrency",
                        &concurrency,
                        // A dead worker's claims are due again after its lease: the
                        // timeout plus at least 5 s, so 8 s here.
                        "--request-timeout",
                        "3s",
                        "--retry-schedule",
                        "0s,1s,2s,5s",
                    ],
                    &env,
                ))
            })
            .collect();
        (api_key, apis, workers)
    });
    let nodes: Arc<Vec<String>> = Arc::new(apis.iter().map(|a| a.url("")).collect());

    let registered: Value = client()
        .post(apis[0].url("/api/v1/webhooks"))
        .header("host", "alpha.localhost")
        .header("content-type", "application/json")
        .bearer_auth(&api_key)
        .body(json!({ "url": receiver.url("/in"), "events": ["user.joined"] }).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = registered["data"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {registered}"))
        .to_owned();
    let secret = registered["data"]["secret"].as_str().unwrap().to_owned();

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&database_url)
        .await
        .unwrap();
    let tenant: i64 = sqlx::query_scalar("SELECT id FROM mobieus.tenants WHERE slug = 'alpha'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let schema = format!("tenant_{tenant}");
    let (key, endpoint) = (Arc::new(api_key), Arc::new(endpoint));

    // Phase 1: every event through the three API nodes in turn, delivered exactly once.
    let started = Instant::now();
    let by_node = send_events(nodes.clone(), key.clone(), endpoint.clone(), EVENTS).await;
    let sent_in = started.elapsed();
    let first: HashSet<String> = by_node.iter().flatten().cloned().collect();
    assert_eq!(first.len(), EVENTS, "every request made its own event");
    wait_delivered(&receiver, &pool, &schema, &first, Duration::from_secs(45)).await;
    let delivered_in = started.elapsed();
    // Anything sent twice would have arrived by now; give a straggler a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let arrived = arrivals(&receiver);
    let twice: Vec<_> = arrived.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(
        arrived.keys().cloned().collect::<HashSet<_>>(),
        first,
        "exactly the events sent arrived"
    );
    for r in receiver.received() {
        assert_eq!(r.json()["id"], r.header("webhook-id"));
        r.assert_signed_with(&secret);
    }
    let attempts: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.delivery_attempts"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attempts, EVENTS as i64, "one attempt per delivery");
    println!(
        "phase 1: {EVENTS} events through 3 API nodes ({:?} per node) in {sent_in:.1?}, \
         {} deliveries by 3 workers, all arrived after {delivered_in:.1?}, duplicates: 0",
        by_node.iter().map(Vec::len).collect::<Vec<_>>(),
        receiver.received().len(),
    );

    // Phase 2: a slow receiver, a backlog, and two of the three workers killed mid-run.
    // The receiver acts on each webhook as it arrives and answers later: a worker that
    // dies meanwhile has delivered it without knowing, and it is sent again.
    receiver.answer_by_default(Answer::status(200).after(SLOW).recorded_on_arrival());
    let before = receiver.received().len();
    let started = Instant::now();
    let sending = tokio::spawn(send_events(
        nodes.clone(),
        key.clone(),
        endpoint.clone(),
        BACKLOG,
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.received().len() < before + BACKLOG / 4 {
        assert!(
            Instant::now() < deadline,
            "the backlog is not being delivered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let arrived_at_kill = receiver.received().len() - before;
    for w in &mut workers[..2] {
        w.take().unwrap().kill();
    }
    let killed_at = started.elapsed();
    // The dead workers' claims: the rows leased right after they died (the survivor's
    // are among them, which only makes the bound looser). Only these can arrive twice.
    let leased: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT event_id FROM {schema}.webhook_deliveries
         WHERE status = 'pending' AND lease_until IS NOT NULL"
    )))
    .fetch_all(&pool)
    .await
    .unwrap();
    let leased: HashSet<String> = leased.into_iter().collect();
    assert!(
        !leased.is_empty() && arrived_at_kill < BACKLOG,
        "the workers were killed mid-run, with deliveries in flight"
    );
    let second: HashSet<String> = sending.await.unwrap().into_iter().flatten().collect();
    assert_eq!(second.len(), BACKLOG);
    wait_delivered(&receiver, &pool, &schema, &second, Duration::from_secs(45)).await;
    let recovered_in = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let arrived = arrivals(&receiver);
    let all: HashSet<String> = first.union(&second).cloned().collect();
    assert_eq!(
        arrived.keys().cloned().collect::<HashSet<_>>(),
        all,
        "every event arrived, none lost, nothing else"
    );
    let duplicated: Vec<(&String, &usize)> = arrived.iter().filter(|(_, n)| **n > 1).collect();
    let duplicates: usize = duplicated.iter().map(|(_, n)| **n - 1).sum();
    for (event, n) in &duplicated {
        assert!(
            second.contains(*event) && leased.contains(*event),
            "{event} arrived {n} times but was not in flight when the workers died"
        );
        assert_eq!(**n, 2, "{event} arrived {n} times");
    }
    assert!(
        duplicates <= leased.len() && duplicates <= 2 * CONCURRENCY,
        "{duplicates} duplicates, more than the {} deliveries in flight at the kill",
        leased.len()
    );
    let unsettled: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.webhook_deliveries WHERE status <> 'succeeded'"
    )))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(unsettled, 0);
    for r in receiver.received() {
        r.assert_signed_with(&secret);
    }

    let survivor = workers[2].take().unwrap().stop();
    assert!(
        !survivor.stderr.contains("panicked"),
        "the surviving worker: {}",
        survivor.stderr
    );
    pool.close().await;
    println!(
        "phase 2: {BACKLOG} events to a receiver answering after {SLOW:?}; 2 of 3 workers \
         killed after {killed_at:.1?} ({arrived_at_kill} arrived, {} leased at the kill); \
         all arrived after {recovered_in:.1?}; duplicates: {duplicates} ({} events)",
        leased.len(),
        duplicated.len()
    );
    println!(
        "total: {} events, {} deliveries received, {duplicates} duplicates, {:.1?}",
        all.len(),
        receiver.received().len(),
        began.elapsed()
    );
    drop(apis);
}

/// Two API processes on one database: a live stream open on the second sees what a
/// third process (the CLI) commits at once, woken by the commit's notification rather
/// than by its timer, and the first node's stream sees the same events in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_anywhere_reaches_the_streams_of_every_node_at_once() {
    let Some(url) = server() else { return };
    let db = TestDb::postgres(&url).await;
    let database_url = db.database_url().unwrap().to_owned();
    let (_dir, cli) = Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"));
    let cli = cli.with_database_url(&database_url);
    let key = master_key();
    let env: Vec<(&str, &str)> = vec![("MOBIEUS_MASTER_KEY", &key), ("MOBIEUS_PG_POOL", "4")];
    let (api_key, nodes) = tokio::task::block_in_place(|| {
        run(&cli, &env, &["tenant", "create", "alpha"]);
        let created: Value = serde_json::from_str(&run(
            &cli,
            &env,
            &[
                "key",
                "create",
                "--tenant",
                "alpha",
                "--name",
                "live",
                "--scopes",
                "events:read",
                "--json",
            ],
        ))
        .unwrap();
        let nodes: Vec<ServeProcess> = (0..2)
            .map(|_| ServeProcess::start_with(&cli, &["--no-worker"], &env))
            .collect();
        (created["key"].as_str().unwrap().to_owned(), nodes)
    });
    let mut streams = Vec::new();
    for node in &nodes {
        let resp = client()
            .get(node.url("/api/v1/events/stream"))
            .header("host", "alpha.localhost")
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        streams.push(mobieus_testkit::sse::SseStream::new(resp));
    }
    let mut waits = Vec::new();
    let mut ids = [Vec::new(), Vec::new()];
    for name in ["ann", "bob", "cy", "dee", "eve"] {
        tokio::task::block_in_place(|| {
            run(
                &cli,
                &env,
                &["forum", "--tenant", "alpha", "user", "join", name],
            );
        });
        let committed = Instant::now();
        for (i, stream) in streams.iter_mut().enumerate() {
            let m = stream
                .next_event(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("node {i} did not stream the join of {name}"));
            assert!(m.data.contains(name), "{}", m.data);
            ids[i].push(m.id.unwrap());
            if i == 1 {
                waits.push(committed.elapsed());
            }
        }
    }
    assert_eq!(ids[0], ids[1], "both nodes stream the same events in order");
    waits.sort();
    // The timer alone would wake a stream 250 ms after a commit on average; a
    // notification does so in milliseconds.
    assert!(
        waits[waits.len() / 2] < Duration::from_millis(150),
        "median wait {:?} (all: {waits:?})",
        waits[waits.len() / 2]
    );
}
