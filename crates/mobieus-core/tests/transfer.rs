//! Moving a tenant: a SQLite tenant exported and imported into the backend the suite
//! runs on (Postgres when MOBIEUS_TEST_POSTGRES_URL is set) holds every row as it was,
//! its keys and webhook secrets still work, and new rows follow the old ones. A file
//! refused writes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mobieus_core::keys::{self, KeyRequest};
use mobieus_core::transfer::{self, TransferError};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_core::{CoreError, tenants};
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EventSelection, LoopbackPolicy, WebhookUrl};
use mobieus_store::{EventFilter, Store, StoreConfig};
use mobieus_testkit::db::TestDb;
use mobieus_testkit::fixtures;
use std::io::{BufRead, Cursor};

fn slug() -> TenantSlug {
    TenantSlug::parse("acme").unwrap()
}

/// A SQLite tenant with a bit of everything: members, threads, edits, moderation,
/// a key, an endpoint with a rotated secret, deliveries.
async fn source() -> (TestDb, Store) {
    let db = TestDb::sqlite();
    let store = db.open().await;
    tenants::create(
        &store,
        &slug(),
        &[HostName::parse("forum.acme.test").unwrap()],
    )
    .await
    .unwrap();
    let t = tenants::open(&store, &slug()).await.unwrap();
    let req = EndpointRequest {
        url: WebhookUrl::parse("https://hooks.example.com/in", LoopbackPolicy::Deny).unwrap(),
        label: Some("crm".into()),
        events: EventSelection::All,
    };
    let ep = webhooks::create(&t, store.master_key(), req, "cli", None)
        .await
        .unwrap();
    webhooks::rotate_secret(&t, store.master_key(), &ep.endpoint.id, 3600, "cli", None)
        .await
        .unwrap();
    fixtures::join_as(&t, "mod", mobieus_domain::forum::Role::Moderator).await;
    fixtures::join(&t, "ann").await;
    let post = fixtures::open_thread(&t, "ann", "Hello", "first post").await;
    fixtures::reply(&t, post.thread_id, "mod", "welcome").await;
    fixtures::edit(&t, post.id, "ann", "first post, edited").await;
    fixtures::lock(&t, post.thread_id, "mod").await;
    fixtures::ban(&t, "ann", "mod", Some("spam")).await;
    (db, store)
}

async fn export(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    transfer::export(store, &slug(), &mut out).await.unwrap();
    out
}

fn reader(bytes: &[u8]) -> impl Fn() -> std::io::Result<Box<dyn BufRead>> + use<> {
    let bytes = bytes.to_vec();
    move || Ok(Box::new(Cursor::new(bytes.clone())) as Box<dyn BufRead>)
}

/// A store on the suite's backend with `source`'s master key.
async fn destination(source: &Store) -> (TestDb, Store) {
    let db = TestDb::new().await;
    let store = Store::open(&StoreConfig {
        master_key: Some(source.master_key().to_base64()),
        ..db.config()
    })
    .await
    .unwrap();
    (db, store)
}

/// The export's lines after the header (which carries the tenant's creation time).
fn rows(export: &[u8]) -> Vec<String> {
    export.lines().skip(1).map(Result::unwrap).collect()
}

#[tokio::test]
async fn an_imported_tenant_holds_every_row_as_it_was_and_goes_on_from_there() {
    let (_src_db, src) = source().await;
    let t = tenants::open(&src, &slug()).await.unwrap();
    let minted = keys::mint(
        &t,
        KeyRequest {
            actor: "cli".into(),
            name: "crm".into(),
            scopes: Scopes::parse_list("events:read").unwrap(),
            mode: KeyMode::Live,
            rate_limit: RateLimit::DEFAULT,
        },
    )
    .await
    .unwrap();
    let exported = export(&src).await;
    assert!(
        rows(&exported).len() > 10,
        "{}",
        String::from_utf8_lossy(&exported)
    );

    let (_dst_db, dst) = destination(&src).await;
    let (header, counts) = transfer::import(&dst, reader(&exported)).await.unwrap();
    assert_eq!(header.slug, slug());
    assert_eq!(counts["users"], 2);
    assert_eq!(counts["api_keys"], 1);

    // Every row, exported again from the new home, is what it was.
    assert_eq!(rows(&export(&dst).await), rows(&exported));
    let tenant = dst.tenant(&slug()).await.unwrap().unwrap();
    assert_eq!(
        tenant.hosts,
        vec![HostName::parse("forum.acme.test").unwrap()]
    );
    assert_eq!(
        dst.tenant_for_host(&HostName::parse("forum.acme.test").unwrap())
            .await
            .unwrap(),
        Some(slug())
    );

    // The key authenticates; the endpoint's secrets open and sign as before.
    let moved = tenants::open(&dst, &slug()).await.unwrap();
    let found = moved
        .api_key_by_hash(&minted.secret.hash())
        .await
        .unwrap()
        .expect("the key is there");
    assert_eq!(found.id, minted.record.id);
    let endpoints = moved.endpoints_page(0, 10).await.unwrap().items;
    let before = t.endpoints_page(0, 10).await.unwrap().items;
    let now = Timestamp::now();
    let (cur, prev) =
        webhooks::signing_secrets(&moved, dst.master_key(), &endpoints[0], now).unwrap();
    let (cur0, prev0) = webhooks::signing_secrets(&t, src.master_key(), &before[0], now).unwrap();
    assert_eq!(cur.expose(), cur0.expose());
    assert_eq!(prev.unwrap().expose(), prev0.unwrap().expose());

    // New rows follow the imported ones: ids and feed positions go on from there.
    let last = moved
        .events_page(&EventFilter::default(), 0, 1000)
        .await
        .unwrap()
        .items;
    let bob = fixtures::join(&moved, "bob").await;
    assert_eq!(bob.id.0, 3);
    let after = moved
        .events_page(&EventFilter::default(), 0, 1000)
        .await
        .unwrap()
        .items;
    assert_eq!(after.len(), last.len() + 1);
    assert!(after.last().unwrap().position > last.last().unwrap().position);
}

#[tokio::test]
async fn a_file_refused_writes_nothing() {
    let (_src_db, src) = source().await;
    let exported = export(&src).await;
    let (_dst_db, dst) = destination(&src).await;

    // Cut off: the last line (the count) is missing.
    let text = String::from_utf8(exported.clone()).unwrap();
    let cut: String = text
        .lines()
        .take(text.lines().count() - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    let e = transfer::import(&dst, reader(cut.as_bytes()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransferError::Format(ref m) if m.contains("cut off")),
        "{e}"
    );

    // A row that does not fit its table.
    let bad = text.replacen("{\"r\":[1,\"mod\"", "{\"r\":[\"one\",\"mod\"", 1);
    assert_ne!(bad, text);
    let e = transfer::import(&dst, reader(bad.as_bytes()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransferError::Format(ref m) if m.contains("line 2") && m.contains("users")),
        "{e}"
    );

    // Not an export at all.
    let e = transfer::import(&dst, reader(b"hello\n"))
        .await
        .unwrap_err();
    assert!(matches!(e, TransferError::Format(_)), "{e}");
    assert!(
        dst.tenant(&slug()).await.unwrap().is_none(),
        "nothing was created"
    );

    // Another master key: the secrets would not open; refused before anything is written.
    let other_db = TestDb::new().await;
    let other = other_db.open().await;
    let e = transfer::import(&other, reader(&exported))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransferError::Format(ref m) if m.contains("master key")),
        "{e}"
    );
    assert!(other.tenant(&slug()).await.unwrap().is_none());

    // A tenant with that slug and data already: refused.
    transfer::import(&dst, reader(&exported)).await.unwrap();
    let e = transfer::import(&dst, reader(&exported)).await.unwrap_err();
    assert!(
        matches!(e, TransferError::Core(CoreError::Conflict(_))),
        "{e}"
    );
}
