//! Webhook endpoints in the outbox: deliveries are written in the event's transaction,
//! one per active subscribed endpoint; secrets are sealed at rest; rotation keeps the
//! previous secret for its grace window only; every change is audited without secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_core::keys::{self, KeyRequest};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_core::{CoreError, tenants};
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::forum::{PostBody, Title, Username};
use mobieus_domain::scope::Scopes;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EndpointId, EventSelection, LoopbackPolicy, WebhookUrl};
use mobieus_store::{Store, StoreConfig, TenantDb};
use sqlx::sqlite::SqliteConnectOptions;

async fn setup() -> (tempfile::TempDir, Store, TenantDb) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    tenants::create(&store, &slug, &[]).await.unwrap();
    let db = tenants::open(&store, &slug).await.unwrap();
    (dir, store, db)
}

async fn endpoint(store: &Store, db: &TenantDb, events: &[&str]) -> EndpointId {
    let req = EndpointRequest {
        url: WebhookUrl::parse("https://hooks.example.com/in", LoopbackPolicy::Deny).unwrap(),
        label: Some("test".into()),
        events: EventSelection::parse(events).unwrap(),
    };
    webhooks::create(db, store.master_key(), req, "cli", None)
        .await
        .unwrap()
        .endpoint
        .id
}

fn user(s: &str) -> Username {
    Username::parse(s).unwrap()
}

#[tokio::test]
async fn each_event_gets_one_delivery_per_subscribed_endpoint_in_its_transaction() {
    let (dir, store, db) = setup().await;
    let all = endpoint(&store, &db, &["*"]).await;
    let posts = endpoint(&store, &db, &["post.created"]).await;
    let joins = endpoint(&store, &db, &["user.joined"]).await;
    let gone = endpoint(&store, &db, &["*"]).await;
    webhooks::delete(&db, &gone, "cli").await.unwrap();

    let joined = forum::join(&db, &user("ann"), None).await.unwrap();
    let mut got: Vec<EndpointId> = db
        .deliveries_of_event(joined.event_id.as_str())
        .await
        .unwrap()
        .into_iter()
        .map(|(_, ep, status)| {
            assert_eq!(status, "pending");
            ep
        })
        .collect();
    let mut want = vec![all.clone(), joins];
    got.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    want.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(got, want);

    let thread = NewThread {
        author: Actor::Username(user("ann")),
        title: Title::parse("t").unwrap(),
        body: PostBody::parse("b").unwrap(),
    };
    let posted = forum::create_thread(&db, &thread).await.unwrap();
    let mut got: Vec<EndpointId> = db
        .deliveries_of_event(posted.event_id.as_str())
        .await
        .unwrap()
        .into_iter()
        .map(|(_, ep, _)| ep)
        .collect();
    let mut want = vec![all, posts];
    got.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    want.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(got, want);

    // A delivery that cannot be written takes the action and its event down with it.
    let path = dir.path().join("tenants/acme.db");
    let sql = sqlx::SqlitePool::connect_with(SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    sqlx::query("CREATE TRIGGER no_deliveries BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'boom'); END")
        .execute(&sql)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM api_events")
        .fetch_one(&sql)
        .await
        .unwrap();
    assert!(matches!(
        forum::join(&db, &user("bob"), None).await,
        Err(CoreError::Store(_))
    ));
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM api_events")
        .fetch_one(&sql)
        .await
        .unwrap();
    let bobs: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'bob'")
        .fetch_one(&sql)
        .await
        .unwrap();
    assert_eq!(
        (after, bobs),
        (before, 0),
        "no event and no user without their deliveries"
    );
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_rotation_keeps_the_old_one_for_its_grace_only() {
    let (dir, store, db) = setup().await;
    let req = EndpointRequest {
        url: WebhookUrl::parse("https://hooks.example.com/in", LoopbackPolicy::Deny).unwrap(),
        label: None,
        events: EventSelection::All,
    };
    let created = webhooks::create(&db, store.master_key(), req, "cli", None)
        .await
        .unwrap();
    let first = created.secret.expose();
    let record = db
        .endpoint_by_id(&created.endpoint.id)
        .await
        .unwrap()
        .unwrap();
    let (current, previous) =
        webhooks::signing_secrets(&db, store.master_key(), &record, Timestamp::now()).unwrap();
    assert_eq!((current.expose(), previous), (first.clone(), None));

    let second = webhooks::rotate_secret(
        &db,
        store.master_key(),
        &created.endpoint.id,
        3600,
        "cli",
        None,
    )
    .await
    .unwrap();
    let record = db
        .endpoint_by_id(&created.endpoint.id)
        .await
        .unwrap()
        .unwrap();
    let (current, previous) =
        webhooks::signing_secrets(&db, store.master_key(), &record, Timestamp::now()).unwrap();
    assert_eq!(current.expose(), second.secret.expose());
    assert_eq!(
        previous.map(|p| p.expose()),
        Some(first.clone()),
        "the old secret signs during the grace window"
    );
    let later = Timestamp::now().plus_millis(3_601_000);
    let (_, previous) = webhooks::signing_secrets(&db, store.master_key(), &record, later).unwrap();
    assert!(previous.is_none(), "and not after it");
    assert!(
        webhooks::rotate_secret(
            &db,
            store.master_key(),
            &created.endpoint.id,
            7 * 86_400 + 1,
            "cli",
            None
        )
        .await
        .is_err()
    );

    // Neither secret is anywhere in the data dir in plaintext (nor its base64 body).
    for secret in [&first, &second.secret.expose()] {
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !bytes
                    .windows(secret.len() - 6)
                    .any(|w| w == &secret.as_bytes()[6..]),
                "{} holds a secret",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[tokio::test]
async fn key_and_endpoint_changes_are_audited_without_secrets() {
    let (_dir, store, db) = setup().await;
    let req = KeyRequest {
        actor: "cli".into(),
        name: "crm".into(),
        scopes: Scopes::parse_list("events:read").unwrap(),
        mode: KeyMode::Live,
        rate_limit: RateLimit::DEFAULT,
    };
    let minted = keys::mint(&db, req).await.unwrap();
    keys::revoke(&db, minted.record.id.as_str(), "cli")
        .await
        .unwrap();
    let ep = endpoint(&store, &db, &["*"]).await;
    let secret = webhooks::rotate_secret(&db, store.master_key(), &ep, 60, "api_key:key_x", None)
        .await
        .unwrap();
    webhooks::delete(&db, &ep, "cli").await.unwrap();

    let log = db.audit_log().await.unwrap();
    let actions: Vec<(&str, &str)> = log.iter().map(|e| (e.action, e.target.as_str())).collect();
    assert_eq!(
        actions,
        vec![
            ("api_key.created", minted.record.id.as_str()),
            ("api_key.revoked", minted.record.id.as_str()),
            ("endpoint.created", ep.as_str()),
            ("endpoint.secret_rotated", ep.as_str()),
            ("endpoint.deleted", ep.as_str()),
        ]
    );
    assert_eq!(log[3].actor, "api_key:key_x");
    let text = format!("{log:?}");
    assert!(
        !text.contains(minted.secret.expose()) && !text.contains(&secret.secret.expose()[6..]),
        "no secret in the audit log"
    );
}
