//! The transactional outbox, proven on a real SQLite tenant database: every forum use
//! case writes exactly its public event, a refused action writes neither an event nor a
//! domain change, and a failing event write rolls the domain change back with it.
//!
//! Domain state is read back with plain SQL through a second connection (`sqlx`), so the
//! checks do not rely on the store's own queries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_core::{CoreError, Published, tenants};
use mobieus_domain::forum::{
    Email, Post, PostBody, PostId, Reason, Refusal, Role, Thread, ThreadId, Title, Username,
};
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::{EventFilter, Store, StoreConfig, StoredEvent, TenantDb};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// One tenant (`acme`) in a fresh data dir, with a side door to its SQLite file.
struct Fixture {
    _dir: tempfile::TempDir,
    db: TenantDb,
    sql: SqlitePool,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    tenants::create(&store, &slug, &[]).await.unwrap();
    let db = tenants::open(&store, &slug).await.unwrap();
    let path = dir.path().join("tenants").join("acme.db");
    assert!(
        path.exists(),
        "the tenant database lives at data_dir/tenants/<slug>.db"
    );
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(false);
    let sql = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    Fixture { _dir: dir, db, sql }
}

fn name(s: &str) -> Username {
    Username::parse(s).unwrap()
}

fn by(s: &str) -> Actor {
    Actor::Username(name(s))
}

fn body(s: &str) -> PostBody {
    PostBody::parse(s).unwrap()
}

fn reason(s: &str) -> Reason {
    Reason::parse(s).unwrap()
}

/// Every event of the feed, oldest first, walked page by page.
async fn all_events(db: &TenantDb) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = db
            .events_page(&EventFilter::default(), after, 7)
            .await
            .unwrap();
        out.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => return out,
        }
    }
}

async fn event_count(f: &Fixture) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM api_events")
        .fetch_one(&f.sql)
        .await
        .unwrap()
}

/// A fingerprint of every domain table: equal before and after means nothing changed.
async fn domain_state(f: &Fixture) -> Vec<String> {
    let queries = [
        "SELECT id || '|' || username || '|' || COALESCE(email, '') || '|' || role || '|' || banned || '|' || COALESCE(left_at, '') FROM users ORDER BY id",
        "SELECT id || '|' || title || '|' || author_id || '|' || locked FROM threads ORDER BY id",
        "SELECT id || '|' || thread_id || '|' || author_id || '|' || body || '|' || status || '|' || COALESCE(edited_at, '') FROM posts ORDER BY id",
        "SELECT id || '|' || post_id || '|' || body FROM post_revisions ORDER BY id",
        "SELECT id || '|' || action || '|' || COALESCE(reason, '') FROM moderation_actions ORDER BY id",
        "SELECT id FROM api_events ORDER BY position",
    ];
    let mut rows = Vec::new();
    for q in queries {
        let got: Vec<String> = sqlx::query_scalar(q).fetch_all(&f.sql).await.unwrap();
        rows.push(got.join("\n"));
    }
    rows
}

/// Runs an action that must succeed and checks it appended exactly one event, of
/// `want_type`, with the id the use case returned; gives that event's JSON back.
async fn expect_one_event<T>(
    f: &Fixture,
    want_type: &str,
    action: impl Future<Output = Result<Published<T>, CoreError>>,
) -> (T, Value) {
    let before = all_events(&f.db).await;
    let published = action
        .await
        .unwrap_or_else(|e| panic!("{want_type} action failed: {e}"));
    let after = all_events(&f.db).await;
    assert_eq!(
        after.len(),
        before.len() + 1,
        "{want_type}: exactly one new event"
    );
    assert_eq!(
        after[..before.len()]
            .iter()
            .map(|e| &e.id)
            .collect::<Vec<_>>(),
        before.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
    let event = after.last().unwrap();
    assert_eq!(event.event_type, want_type);
    assert_eq!(event.id, published.event_id.as_str());
    let json: Value = serde_json::from_str(&event.json).unwrap();
    assert_eq!(json["id"], event.id.as_str());
    assert!(event.id.starts_with("evt_"), "event id {}", event.id);
    assert_eq!(json["type"], want_type);
    assert_eq!(json["api_version"], "2026-05-24");
    assert_eq!(json["tenant"], "acme");
    let created = json["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2026-05-24T12:00:00.123Z".len(),
        "created_at {created}"
    );
    assert!(json["data"].is_object());
    (published.value, json)
}

/// Runs an action that must be refused and checks it changed nothing at all.
async fn expect_refused<T: std::fmt::Debug>(
    f: &Fixture,
    what: &str,
    action: impl Future<Output = Result<T, CoreError>>,
) -> CoreError {
    let before = domain_state(f).await;
    let err = match action.await {
        Ok(v) => panic!("{what}: expected a refusal, got {v:?}"),
        Err(e) => e,
    };
    assert!(
        !matches!(err, CoreError::Store(_)),
        "{what}: refused as a storage failure: {err:?}"
    );
    assert!(
        !err.to_string().is_empty() && !err.to_string().contains('\n'),
        "{what}: one-line message, got {err}"
    );
    assert_eq!(
        domain_state(f).await,
        before,
        "{what}: a refused action changed the database"
    );
    err
}

async fn opened(f: &Fixture, author: &str, title: &str, text: &str) -> Post {
    let new = NewThread {
        author: by(author),
        title: Title::parse(title).unwrap(),
        body: body(text),
    };
    forum::create_thread(&f.db, &new).await.unwrap().value
}

/// ann, bob (members), mia (moderator), root (admin), and a thread by ann with a reply by bob.
async fn populated() -> (Fixture, ThreadId, PostId) {
    let f = fixture().await;
    for u in ["ann", "bob", "mia", "root"] {
        forum::join(&f.db, &name(u), None).await.unwrap();
    }
    forum::set_role(&f.db, &name("mia"), Role::Moderator)
        .await
        .unwrap();
    forum::set_role(&f.db, &name("root"), Role::Admin)
        .await
        .unwrap();
    let first = opened(&f, "ann", "Hello", "first").await;
    let reply = forum::reply(&f.db, first.thread_id, &by("bob"), &body("a reply"))
        .await
        .unwrap()
        .value;
    (f, first.thread_id, reply.id)
}

#[tokio::test]
async fn every_forum_action_writes_exactly_its_event() {
    let f = fixture().await;

    let email = Email::parse("ann@example.org").unwrap();
    let (ann, ev) = expect_one_event(
        &f,
        "user.joined",
        forum::join(&f.db, &name("ann"), Some(&email)),
    )
    .await;
    assert_eq!(ev["data"]["user"]["id"], ann.id.0);
    assert_eq!(ev["data"]["user"]["username"], "ann");
    assert_eq!(ev["data"]["user"]["email"], "ann@example.org");
    expect_one_event(&f, "user.joined", forum::join(&f.db, &name("bob"), None)).await;
    expect_one_event(&f, "user.joined", forum::join(&f.db, &name("mia"), None)).await;

    // Roles are an operator's act: no public event.
    let n = event_count(&f).await;
    forum::set_role(&f.db, &name("mia"), Role::Moderator)
        .await
        .unwrap();
    assert_eq!(event_count(&f).await, n, "set_role writes no event");

    let new = NewThread {
        author: by("ann"),
        title: Title::parse("Hello").unwrap(),
        body: body("opening"),
    };
    let (first, ev) = expect_one_event(&f, "post.created", forum::create_thread(&f.db, &new)).await;
    assert_eq!(ev["data"]["post"]["id"], first.id.0);
    assert_eq!(ev["data"]["post"]["body"], "opening");
    assert_eq!(ev["data"]["post"]["opens_thread"], true);
    assert_eq!(ev["data"]["thread"]["id"], first.thread_id.0);
    assert_eq!(ev["data"]["thread"]["title"], "Hello");
    assert_eq!(ev["data"]["actor"]["username"], "ann");
    let thread = first.thread_id;

    let (reply, ev) = expect_one_event(
        &f,
        "post.created",
        forum::reply(&f.db, thread, &by("bob"), &body("v1")),
    )
    .await;
    assert_eq!(ev["data"]["post"]["opens_thread"], false);
    assert_eq!(ev["data"]["post"]["body"], "v1");
    assert_eq!(ev["data"]["thread"]["id"], thread.0);
    assert_eq!(ev["data"]["actor"]["username"], "bob");

    let (edited, ev) = expect_one_event(
        &f,
        "post.edited",
        forum::edit_post(&f.db, reply.id, &by("bob"), &body("v2")),
    )
    .await;
    assert_eq!(edited.body.as_deref(), Some("v2"));
    assert_eq!(ev["data"]["post"]["body"], "v2");
    assert_eq!(ev["data"]["previous"]["body"], "v1");
    assert!(
        ev["data"]["previous"]["edited_at"].is_null(),
        "first edit: no earlier edit time"
    );
    assert_eq!(ev["data"]["actor"]["username"], "bob");
    let (_, ev) = expect_one_event(
        &f,
        "post.edited",
        forum::edit_post(&f.db, reply.id, &by("mia"), &body("v3")),
    )
    .await;
    assert_eq!(ev["data"]["previous"]["body"], "v2");
    assert!(
        ev["data"]["previous"]["edited_at"].is_string(),
        "second edit carries the first edit's time"
    );
    let revisions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM post_revisions WHERE post_id = ?")
            .bind(reply.id.0)
            .fetch_one(&f.sql)
            .await
            .unwrap();
    assert_eq!(revisions, 2, "edit history keeps both earlier bodies");

    let spam = reason("spam");
    let (banned, ev) = expect_one_event(
        &f,
        "moderation.user_banned",
        forum::ban(&f.db, &name("bob"), &by("mia"), Some(&spam)),
    )
    .await;
    assert!(banned.banned);
    assert_eq!(ev["data"]["user"]["username"], "bob");
    assert_eq!(ev["data"]["user"]["banned"], true);
    assert_eq!(ev["data"]["actor"]["username"], "mia");
    assert_eq!(ev["data"]["reason"], "spam");
    let (_, ev) = expect_one_event(
        &f,
        "moderation.user_unbanned",
        forum::unban(&f.db, &name("bob"), &by("mia"), None),
    )
    .await;
    assert_eq!(ev["data"]["user"]["banned"], false);

    let off = reason("off-topic");
    let (removed, ev) = expect_one_event(
        &f,
        "moderation.post_removed",
        forum::remove_post(&f.db, reply.id, &by("mia"), Some(&off)),
    )
    .await;
    assert!(
        removed.body.is_none(),
        "a removed post no longer shows its body"
    );
    assert_eq!(ev["data"]["post"]["status"], "removed");
    assert_eq!(ev["data"]["reason"], "off-topic");
    assert_eq!(ev["data"]["thread"]["id"], thread.0);

    let (locked, ev) = expect_one_event(
        &f,
        "moderation.thread_locked",
        forum::lock_thread(&f.db, thread, &by("mia"), None),
    )
    .await;
    assert!(locked.locked);
    assert_eq!(ev["data"]["thread"]["locked"], true);
    assert_eq!(ev["data"]["actor"]["username"], "mia");
    let (_, ev) = expect_one_event(
        &f,
        "moderation.thread_unlocked",
        forum::unlock_thread(&f.db, thread, &by("mia"), None),
    )
    .await;
    assert_eq!(ev["data"]["thread"]["locked"], false);

    let (doomed, _) = expect_one_event(
        &f,
        "post.created",
        forum::reply(&f.db, thread, &by("ann"), &body("to delete")),
    )
    .await;
    let (deleted, ev) = expect_one_event(
        &f,
        "post.deleted",
        forum::delete_post(&f.db, doomed.id, &by("ann")),
    )
    .await;
    assert!(deleted.body.is_none());
    assert_eq!(ev["data"]["post"]["status"], "deleted");
    assert_eq!(ev["data"]["actor"]["username"], "ann");

    let (left, ev) = expect_one_event(&f, "user.left", forum::leave(&f.db, &by("ann"))).await;
    assert_eq!(left.status, mobieus_domain::forum::UserStatus::Left);
    assert_eq!(ev["data"]["user"]["status"], "left");
    assert!(
        ev["data"]["user"]["email"].is_null(),
        "a member who left has their e-mail erased"
    );

    let types: Vec<String> = all_events(&f.db)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "user.joined",
            "user.joined",
            "user.joined",
            "post.created",
            "post.created",
            "post.edited",
            "post.edited",
            "moderation.user_banned",
            "moderation.user_unbanned",
            "moderation.post_removed",
            "moderation.thread_locked",
            "moderation.thread_unlocked",
            "post.created",
            "post.deleted",
            "user.left",
        ]
    );
}

#[tokio::test]
async fn the_feed_is_ordered_and_event_ids_are_unique() {
    let (f, thread, _) = populated().await;
    for i in 0..20 {
        forum::reply(&f.db, thread, &by("ann"), &body(&format!("r{i}")))
            .await
            .unwrap();
    }
    let events = all_events(&f.db).await;
    assert_eq!(events.len(), 4 + 2 + 20);
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions only grow"
    );
    let times: Vec<_> = events.iter().map(|e| e.created_at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let mut ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    let one = f.db.event_by_id(&events[3].id).await.unwrap().unwrap();
    assert_eq!(one.json, events[3].json);
}

#[tokio::test]
async fn a_banned_member_cannot_post() {
    let (f, thread, _) = populated().await;
    forum::ban(&f.db, &name("bob"), &by("mia"), None)
        .await
        .unwrap();
    let err = expect_refused(
        &f,
        "banned reply",
        forum::reply(&f.db, thread, &by("bob"), &body("still here")),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::Banned(_))),
        "{err:?}"
    );
    let new = NewThread {
        author: by("bob"),
        title: Title::parse("New").unwrap(),
        body: body("x"),
    };
    let err = expect_refused(&f, "banned thread", forum::create_thread(&f.db, &new)).await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::Banned(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_locked_thread_takes_no_replies() {
    let (f, thread, _) = populated().await;
    forum::lock_thread(&f.db, thread, &by("mia"), None)
        .await
        .unwrap();
    let err = expect_refused(
        &f,
        "reply to locked",
        forum::reply(&f.db, thread, &by("ann"), &body("late")),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::ThreadLocked(_))),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "lock a locked thread",
        forum::lock_thread(&f.db, thread, &by("mia"), None),
    )
    .await;
    assert!(matches!(err, CoreError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn members_cannot_moderate() {
    let (f, thread, reply) = populated().await;
    let err = expect_refused(
        &f,
        "member bans",
        forum::ban(&f.db, &name("ann"), &by("bob"), Some(&reason("mean"))),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::NotModerator(_))),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "member removes",
        forum::remove_post(&f.db, reply, &by("ann"), None),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::NotModerator(_))),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "member locks",
        forum::lock_thread(&f.db, thread, &by("bob"), None),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::NotModerator(_))),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "member edits another's post",
        forum::edit_post(&f.db, reply, &by("ann"), &body("mine now")),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::NotAuthor { .. })),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "member deletes another's post",
        forum::delete_post(&f.db, reply, &by("ann")),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::NotAuthor { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_moderator_cannot_ban_an_admin_or_a_peer_or_themselves() {
    let (f, _, _) = populated().await;
    forum::join(&f.db, &name("max"), None).await.unwrap();
    forum::set_role(&f.db, &name("max"), Role::Moderator)
        .await
        .unwrap();
    for (target, what) in [
        ("root", "moderator bans admin"),
        ("max", "moderator bans moderator"),
        ("mia", "moderator bans self"),
    ] {
        let err =
            expect_refused(&f, what, forum::ban(&f.db, &name(target), &by("mia"), None)).await;
        assert!(
            matches!(err, CoreError::Refused(Refusal::CannotModerateUser { .. })),
            "{what}: {err:?}"
        );
    }
    // The admin outranks the moderator.
    forum::ban(&f.db, &name("mia"), &by("root"), None)
        .await
        .unwrap();
    let err = expect_refused(
        &f,
        "banned moderator bans",
        forum::ban(&f.db, &name("ann"), &by("mia"), None),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::Banned(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn missing_rows_are_not_found_and_change_nothing() {
    let (f, thread, reply) = populated().await;
    let err = expect_refused(
        &f,
        "edit missing post",
        forum::edit_post(&f.db, PostId(999_999_999), &by("ann"), &body("x")),
    )
    .await;
    assert!(
        matches!(err, CoreError::NotFound { what: "post", .. }),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "reply to missing thread",
        forum::reply(&f.db, ThreadId(999_999), &by("ann"), &body("x")),
    )
    .await;
    assert!(
        matches!(err, CoreError::NotFound { what: "thread", .. }),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "unknown author",
        forum::reply(&f.db, thread, &by("nobody"), &body("x")),
    )
    .await;
    assert!(
        matches!(err, CoreError::NotFound { what: "user", .. }),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "ban unknown user",
        forum::ban(&f.db, &name("nobody"), &by("mia"), None),
    )
    .await;
    assert!(
        matches!(err, CoreError::NotFound { what: "user", .. }),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "remove missing post",
        forum::remove_post(&f.db, PostId(424_242), &by("mia"), None),
    )
    .await;
    assert!(
        matches!(err, CoreError::NotFound { what: "post", .. }),
        "{err:?}"
    );
    let err = expect_refused(&f, "leave unknown", forum::leave(&f.db, &by("nobody"))).await;
    assert!(matches!(err, CoreError::NotFound { .. }), "{err:?}");
    let err = expect_refused(
        &f,
        "join taken name",
        forum::join(&f.db, &name("ann"), None),
    )
    .await;
    assert!(matches!(err, CoreError::Conflict(_)), "{err:?}");
    let err = expect_refused(
        &f,
        "join taken name, other case",
        forum::join(&f.db, &name("ANN"), None),
    )
    .await;
    assert!(matches!(err, CoreError::Conflict(_)), "{err:?}");

    forum::delete_post(&f.db, reply, &by("bob")).await.unwrap();
    let err = expect_refused(
        &f,
        "edit deleted post",
        forum::edit_post(&f.db, reply, &by("bob"), &body("back")),
    )
    .await;
    assert!(
        matches!(err, CoreError::Refused(Refusal::PostGone(_))),
        "{err:?}"
    );
    let err = expect_refused(
        &f,
        "remove deleted post",
        forum::remove_post(&f.db, reply, &by("mia"), None),
    )
    .await;
    assert!(matches!(err, CoreError::Conflict(_)), "{err:?}");

    forum::leave(&f.db, &by("bob")).await.unwrap();
    let err = expect_refused(
        &f,
        "left member posts",
        forum::reply(&f.db, thread, &by("bob"), &body("ghost")),
    )
    .await;
    assert!(
        matches!(
            err,
            CoreError::NotFound { .. } | CoreError::Refused(Refusal::UserLeft(_))
        ),
        "{err:?}"
    );
}

/// Makes every event write fail, as a crash between the domain write and the event
/// write would.
async fn break_event_writes(f: &Fixture) {
    sqlx::query(
        "CREATE TRIGGER boom BEFORE INSERT ON api_events BEGIN SELECT RAISE(ABORT, 'boom'); END",
    )
    .execute(&f.sql)
    .await
    .unwrap();
}

async fn mend_event_writes(f: &Fixture) {
    sqlx::query("DROP TRIGGER boom")
        .execute(&f.sql)
        .await
        .unwrap();
}

async fn count(f: &Fixture, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&f.sql).await.unwrap()
}

#[tokio::test]
async fn a_failed_event_write_rolls_back_the_join() {
    let f = fixture().await;
    break_event_writes(&f).await;
    let before = domain_state(&f).await;
    let err = forum::join(&f.db, &name("eve"), None)
        .await
        .expect_err("join must fail when its event cannot be written");
    assert!(matches!(err, CoreError::Store(_)), "{err:?}");
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM users WHERE username = 'eve'").await,
        0,
        "the user row was rolled back"
    );
    assert_eq!(domain_state(&f).await, before);
    let err = forum::leave(&f.db, &by("eve"))
        .await
        .expect_err("eve never joined");
    assert!(
        matches!(err, CoreError::NotFound { what: "user", .. }),
        "{err:?}"
    );

    mend_event_writes(&f).await;
    let joined = forum::join(&f.db, &name("eve"), None).await.unwrap();
    assert_eq!(joined.value.username, "eve");
    assert_eq!(event_count(&f).await, 1);
}

#[tokio::test]
async fn a_failed_event_write_rolls_back_every_kind_of_action() {
    let (f, thread, reply) = populated().await;
    let posts_before = count(&f, "SELECT COUNT(*) FROM posts").await;
    break_event_writes(&f).await;
    let before = domain_state(&f).await;

    let err = forum::reply(&f.db, thread, &by("ann"), &body("lost"))
        .await
        .expect_err("reply must fail");
    assert!(matches!(err, CoreError::Store(_)), "{err:?}");
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM posts").await,
        posts_before,
        "the post row was rolled back"
    );

    let new = NewThread {
        author: by("ann"),
        title: Title::parse("Lost").unwrap(),
        body: body("lost"),
    };
    forum::create_thread(&f.db, &new)
        .await
        .expect_err("create_thread must fail");
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM threads WHERE title = 'Lost'").await,
        0,
        "the thread row was rolled back"
    );

    forum::edit_post(&f.db, reply, &by("bob"), &body("changed"))
        .await
        .expect_err("edit must fail");
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM post_revisions").await,
        0,
        "no edit history row"
    );
    forum::delete_post(&f.db, reply, &by("bob"))
        .await
        .expect_err("delete must fail");
    forum::ban(&f.db, &name("bob"), &by("mia"), Some(&reason("x")))
        .await
        .expect_err("ban must fail");
    assert_eq!(
        count(&f, "SELECT banned FROM users WHERE username = 'bob'").await,
        0,
        "bob is not banned"
    );
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM moderation_actions").await,
        0,
        "no moderation record"
    );
    forum::remove_post(&f.db, reply, &by("mia"), None)
        .await
        .expect_err("remove must fail");
    forum::lock_thread(&f.db, thread, &by("mia"), None)
        .await
        .expect_err("lock must fail");
    forum::leave(&f.db, &by("ann"))
        .await
        .expect_err("leave must fail");

    assert_eq!(domain_state(&f).await, before, "no action left a trace");

    mend_event_writes(&f).await;
    let after_fix: Published<Thread> = forum::lock_thread(&f.db, thread, &by("mia"), None)
        .await
        .unwrap();
    assert!(after_fix.value.locked);
}
