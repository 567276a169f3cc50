//! The live feed (`GET /api/v1/events/stream`) over real HTTP: the backlog then live
//! events in feed order with no gap and no duplicate while events commit, resuming with
//! `Last-Event-ID` or `after`, filters, commits of another process, the per-key limit,
//! revocation, and the problems bad input gets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_core::tenants;
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::TenantDb;
use mobieus_testkit::{TestApp, fixtures};
use std::time::Duration;

const HOST: &str = "alpha.localhost";
const WAIT: Duration = Duration::from_secs(5);

async fn setup(app: &TestApp, replies: usize) -> (TenantDb, String) {
    let db = app.tenant("alpha").await;
    fixtures::small_forum(&db, replies).await;
    (db, app.key("alpha", "events:read", 100_000).await)
}

async fn open(app: &TestApp, path: &str, key: &str) -> mobieus_testkit::sse::SseStream {
    match app.stream(HOST, path, key, &[]).await {
        Ok(s) => s,
        Err(r) => panic!("{path}: {} {:?}", r.status(), r.code()),
    }
}

#[tokio::test]
async fn the_backlog_then_live_events_come_in_feed_order_with_no_gap_or_duplicate() {
    let app = TestApp::start().await;
    let (db, key) = setup(&app, 6).await;
    let before = fixtures::feed(&db).await.len();
    let mut stream = open(&app, "/api/v1/events/stream?from=start", &key).await;
    // Events commit while the stream sends the backlog and switches to live.
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                fixtures::join(&db, &format!("member{i}")).await;
                if i % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let got = stream.events(before + 60, WAIT).await;
    writer.await.unwrap();
    let feed = fixtures::feed(&db).await;
    assert_eq!(feed.len(), before + 60);
    for (m, e) in got.iter().zip(&feed) {
        assert_eq!(m.id.as_deref(), Some(e.id.as_str()));
        assert_eq!(m.event, e.event_type);
        // The data is the feed's JSON of the event, byte for byte.
        assert_eq!(m.data, e.json);
    }
    assert!(
        stream
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "nothing more than the feed"
    );
}

#[tokio::test]
async fn without_a_cursor_the_stream_starts_with_the_next_event() {
    let app = TestApp::start().await;
    let (db, key) = setup(&app, 2).await;
    let mut stream = open(&app, "/api/v1/events/stream", &key).await;
    fixtures::join(&db, "newcomer").await;
    let m = stream.next_event(WAIT).await.expect("the new event");
    assert_eq!(m.event, "user.joined");
    assert!(m.data.contains("\"newcomer\""), "{}", m.data);
}

#[tokio::test]
async fn last_event_id_resumes_after_that_event_and_wins_over_after() {
    let app = TestApp::start().await;
    let (db, key) = setup(&app, 4).await;
    let feed = fixtures::feed(&db).await;
    let (first, third) = (&feed[0].id, &feed[2].id);
    let path = format!("/api/v1/events/stream?after={first}");
    let mut resumed = app
        .stream(HOST, &path, &key, &[("Last-Event-ID", third)])
        .await
        .expect("a stream");
    let rest = resumed.events(feed.len() - 3, WAIT).await;
    let ids: Vec<_> = rest.iter().filter_map(|m| m.id.clone()).collect();
    let want: Vec<_> = feed[3..].iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, want);
    // `after` alone resumes after its event.
    let mut after = open(&app, &path, &key).await;
    let m = after.next_event(WAIT).await.expect("an event");
    assert_eq!(m.id.as_deref(), Some(feed[1].id.as_str()));
}

#[tokio::test]
async fn a_type_filter_sends_only_those_types() {
    let app = TestApp::start().await;
    let (db, key) = setup(&app, 3).await;
    let mut stream = open(
        &app,
        "/api/v1/events/stream?from=start&type=post.created",
        &key,
    )
    .await;
    let posts: Vec<_> = fixtures::feed(&db)
        .await
        .into_iter()
        .filter(|e| e.event_type == "post.created")
        .collect();
    assert!(posts.len() >= 3);
    let got = stream.events(posts.len(), WAIT).await;
    assert!(got.iter().all(|m| m.event == "post.created"));
    fixtures::join(&db, "skipped").await;
    fixtures::open_thread(&db, "skipped", "Live", "a new thread").await;
    let m = stream.next_event(WAIT).await.expect("the new post");
    assert_eq!(m.event, "post.created");
    assert!(m.data.contains("a new thread"), "{}", m.data);
}

#[tokio::test]
async fn a_commit_of_another_process_reaches_open_streams_within_a_second() {
    let app = TestApp::start().await;
    let (_, key) = setup(&app, 1).await;
    let mut stream = open(&app, "/api/v1/events/stream", &key).await;
    // Another store over the same data: another process, as the CLI is.
    let other = app.db().open().await;
    let db = tenants::open(&other, &TenantSlug::parse("alpha").unwrap())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    fixtures::join(&db, "from-the-cli").await;
    let m = stream
        .next_event(Duration::from_secs(3))
        .await
        .expect("the event");
    let took = started.elapsed();
    assert_eq!(m.event, "user.joined");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn a_key_holds_at_most_ten_streams_and_a_closed_one_frees_its_place() {
    let app = TestApp::start().await;
    let (_, key) = setup(&app, 1).await;
    let mut open_ones = Vec::new();
    for _ in 0..10 {
        open_ones.push(open(&app, "/api/v1/events/stream", &key).await);
    }
    let refused = app
        .stream(HOST, "/api/v1/events/stream", &key, &[])
        .await
        .expect_err("an eleventh stream");
    refused.assert_problem(429, "too_many_streams");
    // Another key of the tenant is not affected.
    let other = app.key("alpha", "events:read", 100_000).await;
    drop(open(&app, "/api/v1/events/stream", &other).await);
    drop(open_ones.pop());
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match app.stream(HOST, "/api/v1/events/stream", &key, &[]).await {
            Ok(_) => break,
            Err(r) => {
                r.assert_problem(429, "too_many_streams");
                assert!(
                    std::time::Instant::now() < deadline,
                    "the place stays taken"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_revoked_keys_streams_end_within_five_seconds() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    fixtures::small_forum(&db, 1).await;
    let minted = app.mint("alpha", "events:read", 100_000).await;
    let key = minted.secret.expose().to_owned();
    let mut stream = open(&app, "/api/v1/events/stream?from=start", &key).await;
    stream.events(1, WAIT).await;
    app.revoke("alpha", minted.record.id.as_str()).await;
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the stream outlived its key"
    );
}

type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn bad_input_gets_a_problem_and_opens_nothing() {
    let app = TestApp::start().await;
    let (_, key) = setup(&app, 1).await;
    // (path, headers, the parameter `detail` names): each a 400 `invalid_request`.
    let cases: [Case<'_>; 6] = [
        (
            "/api/v1/events/stream",
            &[("Last-Event-ID", "evt_0000000000000000000000")],
            "Last-Event-ID",
        ),
        ("/api/v1/events/stream?after=evt_nope", &[], "after"),
        ("/api/v1/events/stream?type=no.such", &[], "type"),
        ("/api/v1/events/stream?from=end", &[], "from"),
        ("/api/v1/events/stream?from=start&after=evt_x", &[], "from"),
        ("/api/v1/events/stream?limit=5", &[], "limit"),
    ];
    for (path, headers, names) in cases {
        let r = app.stream(HOST, path, &key, headers).await.expect_err(path);
        r.assert_problem(400, "invalid_request");
        assert!(r.detail().contains(names), "{path}: {}", r.detail());
    }
    let users_only = app.key("alpha", "users:read", 100).await;
    app.stream(HOST, "/api/v1/events/stream", &users_only, &[])
        .await
        .expect_err("no scope")
        .assert_problem(403, "insufficient_scope");
    app.stream(HOST, "/api/v1/events/stream", "mc_live_nope", &[])
        .await
        .expect_err("no key")
        .assert_problem(401, "invalid_api_key");
}

#[tokio::test]
async fn a_server_shutting_down_ends_its_streams_and_exits_promptly() {
    let (_dir, cli) = mobieus_testkit::cli::Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"));
    cli.run(&["tenant", "create", "alpha"]).ok();
    cli.run(&["forum", "--tenant", "alpha", "user", "join", "ann"])
        .ok();
    let key = cli.create_key("alpha", "stream", "events:read", &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = mobieus_testkit::cli::ServeProcess::start_with(&cli, &["--no-worker"], &[]);
    // The test client's 30 s timeout is far beyond this test's few seconds.
    let resp = mobieus_testkit::client()
        .get(server.url("/api/v1/events/stream?from=start"))
        .header("host", HOST)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = mobieus_testkit::sse::SseStream::new(resp);
    stream.events(1, WAIT).await;
    let started = std::time::Instant::now();
    let stopping = tokio::task::spawn_blocking(move || server.stop());
    assert!(
        stream.ends_within(Duration::from_secs(5)).await,
        "the stream outlived the server's shutdown"
    );
    stopping.await.unwrap();
    let took = started.elapsed();
    // `stop` sends SIGKILL after 10 s: a stream that held the shutdown up would show here.
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}
