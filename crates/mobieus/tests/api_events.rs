//! The public event feed over real HTTP: envelope, order, cursor walks (also while new
//! events arrive), the `type`/`since`/`until` filters, `limit`, and single events.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_store::TenantDb;
use mobieus_testkit::{TestApp, encode, fixtures};
use serde_json::Value;
use std::time::Duration;

const HOST: &str = "alpha.localhost";

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["id"].as_str().expect("an event id").to_owned())
        .collect()
}

/// A tenant with exactly `n >= 4` events and a key that reads them.
async fn feed_of(app: &TestApp, n: usize) -> (TenantDb, String) {
    let db = app.tenant("alpha").await;
    fixtures::small_forum(&db, n - 4).await;
    assert_eq!(fixtures::feed(&db).await.len(), n);
    (db, app.key("alpha", "events:read", 100_000).await)
}

#[tokio::test]
async fn the_feed_is_an_envelope_of_events_oldest_first() {
    let app = TestApp::start().await;
    let (db, key) = feed_of(&app, 10).await;
    let r = app.get(HOST, "/api/v1/events", Some(&key)).await;
    r.assert_status(200);
    assert!(
        r.content_type().starts_with("application/json"),
        "Content-Type {}",
        r.content_type()
    );
    let meta = r.meta();
    assert!(
        meta["request_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{meta}"
    );
    assert_eq!(meta["has_more"], false);
    assert!(
        meta["next_cursor"].is_null(),
        "next_cursor is null at the end: {meta}"
    );

    let items = r.items();
    assert_eq!(items.len(), 10);
    let want = fixtures::feed(&db).await;
    for (item, stored) in items.iter().zip(&want) {
        let as_stored: Value = serde_json::from_str(&stored.json).expect("stored JSON");
        assert_eq!(
            item, &as_stored,
            "a feed item is the event exactly as stored"
        );
        assert!(
            item["id"].as_str().is_some_and(|s| s.starts_with("evt_")),
            "{item}"
        );
        assert_eq!(item["api_version"], "2026-05-24");
        assert_eq!(item["tenant"], "alpha");
        assert!(item["data"].is_object());
        let at = item["created_at"].as_str().expect("created_at");
        assert!(
            at.ends_with('Z') && at.len() == 24,
            "RFC 3339 UTC with ms: {at}"
        );
    }
    let times: Vec<&str> = items
        .iter()
        .map(|e| e["created_at"].as_str().unwrap_or_default())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    let types: Vec<&str> = items
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        &types[..4],
        ["user.joined", "user.joined", "user.joined", "post.created"]
    );

    let created = &items[3]["data"];
    assert!(
        created["post"]["id"].is_i64() && created["thread"]["id"].is_i64(),
        "post.created data: {created}"
    );
    assert_eq!(created["actor"]["username"], "ann");
}

#[tokio::test]
async fn the_default_limit_is_25() {
    let app = TestApp::start().await;
    let (_db, key) = feed_of(&app, 30).await;
    let r = app.get(HOST, "/api/v1/events", Some(&key)).await;
    r.assert_status(200);
    assert_eq!(r.items().len(), 25);
    assert_eq!(r.meta()["has_more"], true);
    assert!(r.next_cursor().is_some());
    for (limit, want) in [(1, 1), (29, 29), (30, 30), (100, 30)] {
        let r = app
            .get(HOST, &format!("/api/v1/events?limit={limit}"), Some(&key))
            .await;
        r.assert_status(200);
        assert_eq!(r.items().len(), want, "limit={limit}");
        assert_eq!(r.meta()["has_more"], want < 30, "has_more at limit={limit}");
    }
}

/// The "Done when" walk: 50 events, `limit=2`, every event exactly once, in order.
#[tokio::test]
async fn a_cursor_walk_returns_every_event_once_in_order() {
    let app = TestApp::start().await;
    let (db, key) = feed_of(&app, 50).await;
    let (walked, pages) = app.walk(HOST, "/api/v1/events?limit=2", &key).await;
    assert_eq!(pages, 25);
    let want: Vec<String> = fixtures::feed(&db)
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids(&walked),
        want,
        "the walk returns the feed exactly, in order"
    );

    let one_page = app.get(HOST, "/api/v1/events?limit=100", Some(&key)).await;
    assert_eq!(
        ids(one_page.items()),
        want,
        "one page of 100 is the same feed"
    );
    for limit in [3, 7, 49, 50] {
        let (walked, _) = app
            .walk(HOST, &format!("/api/v1/events?limit={limit}"), &key)
            .await;
        assert_eq!(ids(&walked), want, "walk with limit={limit}");
    }
}

/// New events committed during a walk are returned once each, after the ones before them.
#[tokio::test]
async fn a_cursor_walk_while_events_arrive_still_returns_each_once() {
    let app = TestApp::start().await;
    let (db, key) = feed_of(&app, 12).await;
    let thread = {
        let first = app
            .get(HOST, "/api/v1/events?type=post.created&limit=1", Some(&key))
            .await;
        mobieus_domain::forum::ThreadId(
            first.items()[0]["data"]["thread"]["id"]
                .as_i64()
                .expect("thread id"),
        )
    };
    let (walked, pages) = app
        .walk_with(HOST, "/api/v1/events?limit=2", &key, |page| {
            let db = db.clone();
            async move {
                // Two new events after every page: the feed grows faster than a
                // limit=2 walk would finish it, so stop adding after a while.
                if page <= 10 {
                    fixtures::reply(&db, thread, "ann", &format!("during page {page} (1)")).await;
                    fixtures::reply(&db, thread, "bob", &format!("during page {page} (2)")).await;
                }
            }
        })
        .await;
    let want: Vec<String> = fixtures::feed(&db)
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(want.len(), 12 + 20);
    let got = ids(&walked);
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "no event twice");
    assert_eq!(
        got, want,
        "every event once, in feed order, including those that arrived mid-walk"
    );
    assert!(pages >= 16);
}

#[tokio::test]
async fn the_type_filter_is_repeatable_and_combines_with_the_cursor() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 5).await;
    fixtures::ban(&db, "bob", "mod", Some("spam")).await;
    fixtures::lock(&db, forum.thread(), "mod").await;
    fixtures::edit(&db, forum.opening.id, "ann", "edited").await;
    let key = app.key("alpha", "events:read", 100_000).await;
    let all = app.get(HOST, "/api/v1/events?limit=100", Some(&key)).await;
    let all = all.items().to_vec();
    let of = |types: &[&str]| -> Vec<String> {
        all.iter()
            .filter(|e| types.contains(&e["type"].as_str().unwrap_or_default()))
            .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let r = app
        .get(
            HOST,
            "/api/v1/events?type=post.created&limit=100",
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(ids(r.items()), of(&["post.created"]));
    assert_eq!(r.items().len(), 6);

    let r = app.get(HOST, "/api/v1/events?type=user.joined&type=moderation.user_banned&type=post.edited&limit=100", Some(&key)).await;
    r.assert_status(200);
    assert_eq!(
        ids(r.items()),
        of(&["user.joined", "moderation.user_banned", "post.edited"]),
        "several types: their union in feed order"
    );
    let banned = r
        .items()
        .iter()
        .find(|e| e["type"] == "moderation.user_banned")
        .expect("the ban");
    assert_eq!(banned["data"]["reason"], "spam");
    assert_eq!(banned["data"]["user"]["username"], "bob");
    assert_eq!(banned["data"]["actor"]["username"], "mod");
    let edited = r
        .items()
        .iter()
        .find(|e| e["type"] == "post.edited")
        .expect("the edit");
    assert_eq!(edited["data"]["previous"]["body"], "first");
    assert_eq!(edited["data"]["post"]["body"], "edited");

    let r = app
        .get(HOST, "/api/v1/events?type=user.left", Some(&key))
        .await;
    r.assert_status(200);
    assert!(
        r.items().is_empty(),
        "a known type with no events is an empty page"
    );
    assert_eq!(r.meta()["has_more"], false);

    let (walked, pages) = app
        .walk(
            HOST,
            "/api/v1/events?type=post.created&type=moderation.thread_locked&limit=2",
            &key,
        )
        .await;
    assert_eq!(
        ids(&walked),
        of(&["post.created", "moderation.thread_locked"]),
        "a filtered walk"
    );
    assert_eq!(pages, 4);
}

#[tokio::test]
async fn since_and_until_bound_the_feed_by_time() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 2).await;
    for batch in 0..3 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        for i in 0..3 {
            fixtures::reply(
                &db,
                forum.thread(),
                "ann",
                &format!("batch {batch} reply {i}"),
            )
            .await;
        }
    }
    let key = app.key("alpha", "events:read", 100_000).await;
    let all = app
        .get(HOST, "/api/v1/events?limit=100", Some(&key))
        .await
        .items()
        .to_vec();
    assert_eq!(all.len(), 6 + 9);
    let at = |e: &Value| e["created_at"].as_str().unwrap_or_default().to_owned();
    let pick = at(&all[9]);
    let since: Vec<String> = all
        .iter()
        .filter(|e| at(e) >= pick)
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let until: Vec<String> = all
        .iter()
        .filter(|e| at(e) < pick)
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!since.is_empty() && !until.is_empty());

    let r = app
        .get(
            HOST,
            &format!("/api/v1/events?limit=100&since={}", encode(&pick)),
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(ids(r.items()), since, "since is inclusive");
    let r = app
        .get(
            HOST,
            &format!("/api/v1/events?limit=100&until={}", encode(&pick)),
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(ids(r.items()), until, "until is exclusive");

    // The same instant written with an offset.
    let offset = pick.replace('Z', "+00:00");
    let r = app
        .get(
            HOST,
            &format!("/api/v1/events?limit=100&since={}", encode(&offset)),
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(ids(r.items()), since, "since with +00:00");

    // A window, combined with a type and walked with a cursor.
    let lo = at(&all[6]);
    let hi = at(&all[12]);
    let window: Vec<String> = all
        .iter()
        .filter(|e| at(e) >= lo && at(e) < hi && e["type"] == "post.created")
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let path = format!(
        "/api/v1/events?limit=2&type=post.created&since={}&until={}",
        encode(&lo),
        encode(&hi)
    );
    let (walked, _) = app.walk(HOST, &path, &key).await;
    assert_eq!(ids(&walked), window);

    let r = app
        .get(
            HOST,
            "/api/v1/events?since=2999-01-01T00:00:00Z",
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert!(r.items().is_empty());
    let r = app
        .get(
            HOST,
            "/api/v1/events?until=2000-01-01T00:00:00Z",
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert!(r.items().is_empty());
}

#[tokio::test]
async fn one_event_by_id() {
    let app = TestApp::start().await;
    let (_db, key) = feed_of(&app, 6).await;
    let feed = app.get(HOST, "/api/v1/events", Some(&key)).await;
    for item in feed.items() {
        let id = item["id"].as_str().expect("id");
        let r = app
            .get(HOST, &format!("/api/v1/events/{id}"), Some(&key))
            .await;
        r.assert_status(200);
        assert_eq!(r.data(), item, "GET /events/{{id}} is the feed item");
        assert!(r.meta()["request_id"].is_string());
        assert!(
            r.meta().get("has_more").is_none(),
            "a single object's meta has no paging members"
        );
    }
    let missing = mobieus_domain::event::EventId::generate(mobieus_domain::time::Timestamp::now());
    app.get(HOST, &format!("/api/v1/events/{missing}"), Some(&key))
        .await
        .assert_problem(404, "not_found");
    let r = app
        .get(HOST, "/api/v1/events/not-an-event-id", Some(&key))
        .await;
    assert!(
        r.is_problem() && matches!(r.status(), 400 | 404),
        "a malformed id is a problem document: {} {}",
        r.status(),
        r.text
    );

    // Another tenant's event is not found, not forbidden.
    let id = feed.items()[0]["id"].as_str().expect("id");
    let beta = app.key("beta", "events:read", 600).await;
    app.get(
        "beta.localhost",
        &format!("/api/v1/events/{id}"),
        Some(&beta),
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_the_parameter() {
    let app = TestApp::start().await;
    let (_db, key) = feed_of(&app, 6).await;
    let users_key = app.key("alpha", "users:read", 600).await;
    let users_cursor = app
        .get(HOST, "/api/v1/users?limit=1", Some(&users_key))
        .await;
    let users_cursor = users_cursor
        .next_cursor()
        .expect("a users cursor")
        .to_owned();

    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=100000", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("cursor=%25%25not-a-cursor", "cursor"),
        ("cursor=garbage", "cursor"),
        (&format!("cursor={}", encode(&users_cursor)), "cursor"),
        ("type=post.published", "type"),
        ("type=post.created&type=nope", "type"),
        ("since=yesterday", "since"),
        ("since=2026-05-24", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
    ];
    for (query, param) in cases {
        let r = app
            .get(HOST, &format!("/api/v1/events?{query}"), Some(&key))
            .await;
        r.assert_problem(400, "invalid_request");
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(param),
            "400 for `{query}` names `{param}`: {detail:?}"
        );
    }
    // A cursor handed out by the events list itself works.
    let first = app.get(HOST, "/api/v1/events?limit=2", Some(&key)).await;
    let next = first.next_cursor().expect("a next cursor");
    app.get(
        HOST,
        &format!("/api/v1/events?limit=2&cursor={}", encode(next)),
        Some(&key),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn after_resumes_the_feed_from_the_last_event_processed() {
    let app = TestApp::start().await;
    let (db, key) = feed_of(&app, 6).await;
    let first = app.get(HOST, "/api/v1/events?limit=100", Some(&key)).await;
    first.assert_status(200);
    let last = first.items().last().expect("an event")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let caught_up = app
        .get(HOST, &format!("/api/v1/events?after={last}"), Some(&key))
        .await;
    caught_up.assert_status(200);
    assert!(
        caught_up.items().is_empty(),
        "nothing after the newest event"
    );

    fixtures::join(&db, "latecomer").await;
    let resumed = app
        .get(HOST, &format!("/api/v1/events?after={last}"), Some(&key))
        .await;
    resumed.assert_status(200);
    assert_eq!(resumed.items().len(), 1);
    assert_eq!(resumed.items()[0]["type"], "user.joined");

    let third = first.items()[2]["id"].as_str().expect("id").to_owned();
    let middle = app
        .get(
            HOST,
            &format!("/api/v1/events?after={third}&limit=100"),
            Some(&key),
        )
        .await;
    assert_eq!(
        ids(middle.items()),
        ids(&[&first.items()[3..], resumed.items()].concat())
    );

    let page = app.get(HOST, "/api/v1/events?limit=1", Some(&key)).await;
    let cursor = page.meta()["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    for bad in [
        "after=evt_x".to_owned(),
        "after=evt_00000000000000000000000000".to_owned(),
        format!("after={third}&cursor={cursor}"),
    ] {
        let r = app
            .get(HOST, &format!("/api/v1/events?{bad}"), Some(&key))
            .await;
        r.assert_problem(400, "invalid_request");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("after"),
            "{bad}: {}",
            r.body
        );
    }
}
