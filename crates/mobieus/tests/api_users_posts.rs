//! Users and posts over real HTTP: lists with cursors, the `thread`/`author` filters, and
//! single objects.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_domain::forum::Role;
use mobieus_testkit::{TestApp, encode, fixtures};
use serde_json::Value;

const HOST: &str = "alpha.localhost";

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|v| v["id"].as_i64().expect("an integer id"))
        .collect()
}

#[tokio::test]
async fn users_are_listed_in_join_order_with_a_cursor() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let mut want = Vec::new();
    for i in 0..7 {
        want.push(fixtures::join(&db, &format!("user{i}")).await.id.0);
    }
    fixtures::join_as(&db, "boss", Role::Admin).await;
    let key = app.key("alpha", "users:read", 100_000).await;

    let r = app.get(HOST, "/api/v1/users", Some(&key)).await;
    r.assert_status(200);
    assert_eq!(r.items().len(), 8);
    assert_eq!(r.meta()["has_more"], false);
    assert!(r.meta()["next_cursor"].is_null());
    let first = &r.items()[0];
    assert_eq!(first["username"], "user0");
    for member in ["id", "username", "role", "banned", "status", "joined_at"] {
        assert!(
            first.get(member).is_some(),
            "a user has `{member}`: {first}"
        );
    }
    assert_eq!(first["role"], "member");
    assert_eq!(first["banned"], false);
    assert_eq!(first["status"], "active");
    assert_eq!(r.items()[7]["role"], "admin");

    let (walked, pages) = app.walk(HOST, "/api/v1/users?limit=2", &key).await;
    assert_eq!(pages, 4);
    want.push(r.items()[7]["id"].as_i64().expect("id"));
    assert_eq!(ids(&walked), want);
}

#[tokio::test]
async fn one_user_by_id() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 0).await;
    fixtures::ban(&db, "bob", "mod", None).await;
    let key = app.key("alpha", "users:read", 600).await;

    let r = app
        .get(HOST, &format!("/api/v1/users/{}", forum.bob.id), Some(&key))
        .await;
    r.assert_status(200);
    assert_eq!(r.data()["id"], forum.bob.id.0);
    assert_eq!(r.data()["username"], "bob");
    assert_eq!(r.data()["banned"], true);
    assert!(r.meta()["request_id"].is_string());
    let m = app
        .get(
            HOST,
            &format!("/api/v1/users/{}", forum.moderator.id),
            Some(&key),
        )
        .await;
    assert_eq!(m.data()["role"], "moderator");

    app.get(HOST, "/api/v1/users/999999", Some(&key))
        .await
        .assert_problem(404, "not_found");
    for bad in ["abc", "0", "-1", "1.5"] {
        let r = app
            .get(HOST, &format!("/api/v1/users/{bad}"), Some(&key))
            .await;
        assert!(
            r.is_problem() && matches!(r.status(), 400 | 404),
            "/users/{bad}: {} {}",
            r.status(),
            r.text
        );
    }
    // Another tenant's user id is just not found there.
    let beta = app.key("beta", "users:read", 600).await;
    app.get(
        "beta.localhost",
        &format!("/api/v1/users/{}", forum.ann.id),
        Some(&beta),
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn posts_are_listed_and_filtered_by_thread_and_author() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 3).await;
    let second = fixtures::open_thread(&db, "bob", "Second", "bob's thread").await;
    let ann_reply = fixtures::reply(&db, second.thread_id, "ann", "ann in second").await;
    let key = app.key("alpha", "posts:read", 100_000).await;

    let r = app.get(HOST, "/api/v1/posts?limit=100", Some(&key)).await;
    r.assert_status(200);
    let all = ids(r.items());
    assert_eq!(all.len(), 6);
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "posts in a stable order: {all:?}"
    );
    let opening = &r.items()[0];
    assert_eq!(opening["id"], forum.opening.id.0);
    assert_eq!(opening["body"], "first");
    assert_eq!(opening["opens_thread"], true);
    assert_eq!(opening["thread_id"], forum.thread().0);
    assert_eq!(opening["author"]["username"], "ann");
    assert_eq!(opening["status"], "visible");

    let in_first = app
        .get(
            HOST,
            &format!("/api/v1/posts?thread={}&limit=100", forum.thread()),
            Some(&key),
        )
        .await;
    in_first.assert_status(200);
    let mut want: Vec<i64> = vec![forum.opening.id.0];
    want.extend(forum.replies.iter().map(|p| p.id.0));
    assert_eq!(ids(in_first.items()), want);

    let by_ann = app
        .get(
            HOST,
            &format!("/api/v1/posts?author={}&limit=100", forum.ann.id),
            Some(&key),
        )
        .await;
    by_ann.assert_status(200);
    assert_eq!(ids(by_ann.items()), [forum.opening.id.0, ann_reply.id.0]);

    let both = app
        .get(
            HOST,
            &format!(
                "/api/v1/posts?author={}&thread={}",
                forum.ann.id, second.thread_id
            ),
            Some(&key),
        )
        .await;
    both.assert_status(200);
    assert_eq!(ids(both.items()), [ann_reply.id.0]);

    let none = app
        .get(HOST, "/api/v1/posts?thread=999999", Some(&key))
        .await;
    none.assert_status(200);
    assert!(
        none.items().is_empty(),
        "an unknown thread filters to nothing"
    );

    let (walked, pages) = app
        .walk(
            HOST,
            &format!("/api/v1/posts?limit=2&thread={}", forum.thread()),
            &key,
        )
        .await;
    assert_eq!(ids(&walked), want);
    assert_eq!(pages, 2);
    let (walked, _) = app.walk(HOST, "/api/v1/posts?limit=1", &key).await;
    assert_eq!(ids(&walked), all);
}

#[tokio::test]
async fn one_post_by_id_including_deleted_ones() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let forum = fixtures::small_forum(&db, 2).await;
    fixtures::edit(&db, forum.replies[0].id, "bob", "better").await;
    mobieus_core::forum::delete_post(&db, forum.replies[1].id, &fixtures::actor("bob"))
        .await
        .expect("delete");
    let key = app.key("alpha", "posts:read", 600).await;

    let r = app
        .get(
            HOST,
            &format!("/api/v1/posts/{}", forum.replies[0].id),
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.data()["body"], "better");
    assert!(r.data()["edited_at"].is_string());

    let r = app
        .get(
            HOST,
            &format!("/api/v1/posts/{}", forum.replies[1].id),
            Some(&key),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.data()["status"], "deleted");
    assert!(
        r.data()["body"].is_null(),
        "a deleted post's body is not shown: {}",
        r.text
    );

    app.get(HOST, "/api/v1/posts/999999", Some(&key))
        .await
        .assert_problem(404, "not_found");
    let r = app.get(HOST, "/api/v1/posts/xyz", Some(&key)).await;
    assert!(
        r.is_problem() && matches!(r.status(), 400 | 404),
        "/posts/xyz: {} {}",
        r.status(),
        r.text
    );
}

#[tokio::test]
async fn bad_user_and_post_parameters_are_400_naming_the_parameter() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    fixtures::small_forum(&db, 3).await;
    let key = app
        .key("alpha", "users:read,posts:read,events:read", 100_000)
        .await;
    let events_cursor = app.get(HOST, "/api/v1/events?limit=1", Some(&key)).await;
    let events_cursor = encode(events_cursor.next_cursor().expect("an events cursor"));

    let cases = [
        ("/api/v1/users?limit=0", "limit"),
        ("/api/v1/users?limit=101", "limit"),
        ("/api/v1/users?cursor=%25%25nope", "cursor"),
        (&format!("/api/v1/users?cursor={events_cursor}"), "cursor"),
        ("/api/v1/posts?limit=0", "limit"),
        ("/api/v1/posts?limit=1000", "limit"),
        ("/api/v1/posts?cursor=nope", "cursor"),
        (&format!("/api/v1/posts?cursor={events_cursor}"), "cursor"),
        ("/api/v1/posts?thread=abc", "thread"),
        ("/api/v1/posts?thread=-3", "thread"),
        ("/api/v1/posts?author=bob", "author"),
        ("/api/v1/posts?author=1.5", "author"),
    ];
    for (path, param) in cases {
        let r = app.get(HOST, path, Some(&key)).await;
        r.assert_problem(400, "invalid_request");
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(param),
            "400 for {path} names `{param}`: {detail:?}"
        );
    }
}
