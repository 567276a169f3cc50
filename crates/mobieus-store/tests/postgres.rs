//! The storage layer on a real PostgreSQL server: what only a database shared by many
//! nodes has to get right. Several nodes starting at once on a fresh database, a node
//! with the wrong master key, tenant isolation down to the SQL of a transaction, the
//! event feed under concurrent writers, claims of two nodes at once, and the
//! cross-tenant index of due work.
//!
//! Each test gets a database of its own on the server `MOBIEUS_TEST_POSTGRES_URL` names
//! (CI sets it); without it the tests print that they were skipped and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_domain::forum::{PostBody, Title, Username};
use mobieus_domain::sealing::MasterKey;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EndpointId, EventSelection, LoopbackPolicy, WebhookUrl};
use mobieus_store::{Claim, EventFilter, Store, StoreConfig, StoreError, TenantDb};
use mobieus_testkit::db::{POSTGRES_URL_VAR, TestDb};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server to test on, or `None` (and a line saying so) when none is configured.
fn server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("skipped: {POSTGRES_URL_VAR} is not set");
            None
        }
    }
}

macro_rules! server_or_skip {
    () => {
        match server() {
            Some(url) => url,
            None => return,
        }
    };
}

fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

fn username(s: &str) -> Username {
    Username::parse(s).unwrap()
}

/// A node's configuration on the test's database, with this master key.
fn node_config(db: &TestDb, key: &str) -> StoreConfig {
    StoreConfig {
        data_dir: db.data_dir().to_owned(),
        master_key: Some(key.to_owned()),
        database_url: db.database_url().map(str::to_owned),
    }
}

/// A connection of the test's own, beside the store's.
async fn connect(db: &TestDb) -> PgConnection {
    PgConnection::connect(db.database_url().unwrap())
        .await
        .expect("connect to the test database")
}

/// The control id of a tenant (its schema is `tenant_<id>`).
async fn tenant_id(c: &mut PgConnection, slug: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM mobieus.tenants WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

/// How many migrations of a kind (`control` or `tenant`) this build has.
fn migrations(kind: &str) -> i64 {
    let dir = format!("{}/migrations/postgres/{kind}", env!("CARGO_MANIFEST_DIR"));
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    i64::try_from(n).unwrap()
}

/// An endpoint subscribed to every event, on a public name (never contacted here).
async fn endpoint(store: &Store, db: &TenantDb, host: &str) -> EndpointId {
    let req = EndpointRequest {
        url: WebhookUrl::parse(&format!("https://{host}/hook"), LoopbackPolicy::Deny).unwrap(),
        label: None,
        events: EventSelection::All,
    };
    webhooks::create(db, store.master_key(), req, "test", None)
        .await
        .unwrap()
        .endpoint
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_nodes_starting_at_once_on_a_fresh_database_migrate_it_once() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    let config = node_config(&db, &MasterKey::generate().to_base64());
    const NODES: usize = 6;

    // Six nodes open the fresh database at the same instant.
    let gate = Arc::new(tokio::sync::Barrier::new(NODES));
    let mut opening = Vec::new();
    for _ in 0..NODES {
        let (config, gate) = (config.clone(), gate.clone());
        opening.push(tokio::spawn(async move {
            gate.wait().await;
            Store::open(&config).await
        }));
    }
    let mut stores = Vec::new();
    for (i, o) in opening.into_iter().enumerate() {
        match o.await.unwrap() {
            Ok(store) => stores.push(store),
            Err(e) => panic!("node {i} could not open the fresh database: {e:?}"),
        }
    }

    // Then each creates a tenant of its own, and two of them race for the same slug.
    let gate = Arc::new(tokio::sync::Barrier::new(NODES + 2));
    let mut creating = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        let (store, gate) = (store.clone(), gate.clone());
        creating.push(tokio::spawn(async move {
            gate.wait().await;
            store.create_tenant(&slug(&format!("node{i}")), &[]).await
        }));
    }
    let mut racing = Vec::new();
    for store in &stores[..2] {
        let (store, gate) = (store.clone(), gate.clone());
        racing.push(tokio::spawn(async move {
            gate.wait().await;
            store.create_tenant(&slug("shared"), &[]).await
        }));
    }
    for (i, c) in creating.into_iter().enumerate() {
        if let Err(e) = c.await.unwrap() {
            panic!("node {i} could not create its tenant: {e:?}");
        }
    }
    let mut won = 0;
    for r in racing {
        match r.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict { what: "tenant" }) => {}
            Err(e) => panic!("the loser of a race for a slug gets Conflict, got {e:?}"),
        }
    }
    assert_eq!(won, 1, "one of two nodes creating the same tenant wins");

    // Every node reaches every tenant, the nodes at once (each a tenant at a time, so
    // the test holds few of the server's connections).
    let mut opening = Vec::new();
    for store in &stores {
        let store = store.clone();
        opening.push(tokio::spawn(async move {
            for i in (0..NODES).rev() {
                let db = store.tenant_db(&slug(&format!("node{i}"))).await?;
                let page = db.events_page(&EventFilter::default(), 0, 10).await?;
                assert!(page.items.is_empty());
            }
            Ok::<_, StoreError>(())
        }));
    }
    for o in opening {
        o.await
            .unwrap()
            .expect("a node reads the tenants other nodes created");
    }

    let mut c = connect(&db).await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM mobieus.schema_version")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(
        versions,
        vec![migrations("control")],
        "the control schema's migrations are recorded once"
    );
    let checks: i64 = sqlx::query_scalar("SELECT count(*) FROM mobieus.settings")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(checks, 1, "one master key check value");
    let tenants: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, slug FROM mobieus.tenants ORDER BY slug")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(tenants.len(), NODES + 1, "{tenants:?}");
    for (id, slug) in &tenants {
        let versions: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT version FROM tenant_{id}.schema_version"
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        assert_eq!(
            versions,
            vec![migrations("tenant")],
            "tenant {slug}'s schema is migrated, once"
        );
        let tables: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1")
                .bind(format!("tenant_{id}"))
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert!(tables >= 14, "tenant {slug} has {tables} tables");
    }
    let schemas: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname LIKE 'tenant\\_%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(
        schemas,
        i64::try_from(NODES + 1).unwrap(),
        "no schema left behind by the tenant that lost the race"
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_node_with_another_master_key_is_refused() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    let first_key = hex_key();
    let first = Store::open(&node_config(&db, &first_key)).await.unwrap();
    first.create_tenant(&slug("acme"), &[]).await.unwrap();

    let other_key = hex_key();
    let refused = Store::open(&node_config(&db, &other_key)).await;
    let message = match refused {
        Err(StoreError::MasterKey(message)) => message,
        Err(e) => panic!("refused for the wrong reason: {e:?}"),
        Ok(_) => panic!("a node with another master key was let in"),
    };
    assert!(
        message.contains("MOBIEUS_MASTER_KEY"),
        "the message says what to fix: {message}"
    );
    let shown = format!("{message} {}", StoreError::MasterKey(message.clone())).to_lowercase();
    for key in [&first_key, &other_key] {
        // Not the key, nor any part of it long enough to matter.
        for part in key.as_bytes().chunks(8) {
            let part = std::str::from_utf8(part).unwrap();
            assert!(
                !shown.contains(part),
                "the message holds key material: {message}"
            );
        }
    }

    // A node with no key of its own (a fresh data dir makes one) is refused the same way.
    let elsewhere = tempfile::tempdir().unwrap();
    let no_key = StoreConfig {
        data_dir: elsewhere.path().to_owned(),
        master_key: None,
        database_url: db.database_url().map(str::to_owned),
    };
    assert!(matches!(
        Store::open(&no_key).await,
        Err(StoreError::MasterKey(_))
    ));
    // The right key still opens it: the refusals changed nothing.
    let again = Store::open(&node_config(&db, &first_key)).await.unwrap();
    assert_eq!(again.tenants().await.unwrap().len(), 1);
}

/// A master key written as hex (64 characters), as an operator may give it.
fn hex_key() -> String {
    let mut bytes = [0_u8; 32];
    mobieus_domain::random::fill(&mut bytes);
    hex::encode(bytes)
}

/// Members, a thread with replies, and endpoints in one tenant; returns the event ids,
/// the members' ids, and the endpoints.
async fn populate(
    store: &Store,
    db: &TenantDb,
    members: &[&str],
    endpoints: &[&str],
) -> (HashSet<String>, Vec<i64>, HashSet<String>) {
    let mut events = HashSet::new();
    let mut ids = Vec::new();
    let eps: HashSet<String> = {
        let mut eps = HashSet::new();
        for host in endpoints {
            eps.insert(endpoint(store, db, host).await.as_str().to_owned());
        }
        eps
    };
    for m in members {
        let joined = forum::join(db, &username(m), None).await.unwrap();
        events.insert(joined.event_id.as_str().to_owned());
        ids.push(joined.value.id.0);
    }
    let opened = forum::create_thread(
        db,
        &NewThread {
            author: Actor::Username(username(members[0])),
            title: Title::parse(&format!("{} news", db.slug())).unwrap(),
            body: PostBody::parse("hello").unwrap(),
        },
    )
    .await
    .unwrap();
    events.insert(opened.event_id.as_str().to_owned());
    (events, ids, eps)
}

#[tokio::test]
async fn a_tenants_reads_and_transactions_reach_only_its_own_rows() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    let store = db.open().await;
    // A second node holds the other tenant: nothing is shared but the database.
    let other_node = db.open().await;
    store.create_tenant(&slug("alpha"), &[]).await.unwrap();
    other_node.create_tenant(&slug("beta"), &[]).await.unwrap();
    let alpha = store.tenant_db(&slug("alpha")).await.unwrap();
    let beta = other_node.tenant_db(&slug("beta")).await.unwrap();
    // The same username in both, more members in beta (so beta has ids alpha lacks).
    let (alpha_events, alpha_ids, alpha_eps) =
        populate(&store, &alpha, &["ann", "bob"], &["alpha.example.com"]).await;
    let (beta_events, beta_ids, beta_eps) = populate(
        &other_node,
        &beta,
        &["ann", "carol", "dave", "erin"],
        &["beta.example.com", "beta2.example.com"],
    )
    .await;

    for (db, events, ids, eps, others_events, others_ids, others_eps) in [
        (
            &alpha,
            &alpha_events,
            &alpha_ids,
            &alpha_eps,
            &beta_events,
            &beta_ids,
            &beta_eps,
        ),
        (
            &beta,
            &beta_events,
            &beta_ids,
            &beta_eps,
            &alpha_events,
            &alpha_ids,
            &alpha_eps,
        ),
    ] {
        let name = db.slug().to_string();
        let users = db.users_page(0, 100).await.unwrap().items;
        let got: Vec<i64> = users.iter().map(|u| u.id.0).collect();
        assert_eq!(&got, ids, "{name}'s users are its own");
        let feed: HashSet<String> = db
            .events_page(&EventFilter::default(), 0, 100)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(&feed, events, "{name}'s feed is its own");
        let endpoints: HashSet<String> = db
            .endpoints_page(0, 100)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.endpoint.id.as_str().to_owned())
            .collect();
        assert_eq!(&endpoints, eps, "{name}'s endpoints are its own");
        for e in others_events {
            assert!(
                db.event_by_id(e).await.unwrap().is_none(),
                "{name} reads {e}"
            );
            assert!(db.deliveries_of_event(e).await.unwrap().is_empty());
        }
        for ep in others_eps {
            let id = EndpointId::parse(ep).unwrap();
            assert!(db.endpoint_by_id(&id).await.unwrap().is_none());
        }
        for id in others_ids.iter().filter(|id| !ids.contains(id)) {
            let id = mobieus_domain::forum::UserId(*id);
            assert!(db.user_by_id(id).await.unwrap().is_none());
        }
        // Every delivery of this tenant goes to its own endpoints.
        for e in events {
            for (_, ep, _) in db.deliveries_of_event(e).await.unwrap() {
                assert!(eps.contains(ep.as_str()), "{name} delivers to {ep}");
            }
        }
    }

    // At the SQL level: a transaction pinned to alpha's schema, as the store pins them,
    // names alpha's tables when it names a table unqualified, and only alpha's.
    let mut c = connect(&db).await;
    let (a, b) = (
        tenant_id(&mut c, "alpha").await,
        tenant_id(&mut c, "beta").await,
    );
    for (id, slug, members) in [(a, "alpha", 2_i64), (b, "beta", 4)] {
        let mut tx = c
            .begin_with(AssertSqlSafe(format!(
                "BEGIN; SET LOCAL search_path TO tenant_{id}"
            )))
            .await
            .unwrap();
        for table in [
            "users",
            "api_events",
            "webhook_endpoints",
            "webhook_deliveries",
        ] {
            let schema: Option<String> = sqlx::query_scalar(
                "SELECT n.nspname::text FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.oid = to_regclass($1)",
            )
            .bind(table)
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
            assert_eq!(
                schema.as_deref(),
                Some(format!("tenant_{id}").as_str()),
                "in {slug}'s transaction `{table}` is {slug}'s table"
            );
        }
        let path: String =
            sqlx::query_scalar("SELECT array_to_string(current_schemas(false), ',')")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(
            path,
            format!("tenant_{id}"),
            "the search path holds one schema"
        );
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, members, "{slug}'s users, unqualified");
        tx.commit().await.unwrap();
        // The pin ends with the transaction: the connection names no tenant's table.
        let gone: bool = sqlx::query_scalar("SELECT to_regclass('users') IS NULL")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(gone, "SET LOCAL outlived its transaction");
    }
    c.close().await.unwrap();
}

/// One whole walk of the feed by cursor: (position, id) in the order served.
async fn walk(db: &TenantDb, limit: u32) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = db
            .events_page(&EventFilter::default(), after, limit)
            .await
            .unwrap();
        out.extend(page.items.into_iter().map(|e| (e.position, e.id)));
        match page.next_after {
            Some(next) => after = next,
            None => return out,
        }
    }
}

/// Follows the feed from `after` to its current end, as a consumer polling it does;
/// returns what was new and the cursor to go on from.
async fn follow(db: &TenantDb, mut after: i64, out: &mut Vec<(i64, String)>) -> i64 {
    loop {
        let page = db
            .events_page(&EventFilter::default(), after, 25)
            .await
            .unwrap();
        if let Some(last) = page.items.last() {
            after = last.position;
        }
        out.extend(page.items.into_iter().map(|e| (e.position, e.id)));
        if page.next_after.is_none() {
            return after;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_feed_never_shows_a_gap_that_is_filled_later_under_concurrent_writers() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    // Writers on two nodes.
    let nodes = [db.open().await, db.open().await];
    nodes[0].create_tenant(&slug("busy"), &[]).await.unwrap();
    let dbs = [
        nodes[0].tenant_db(&slug("busy")).await.unwrap(),
        nodes[1].tenant_db(&slug("busy")).await.unwrap(),
    ];
    const WRITERS: usize = 8;
    const ACTIONS: usize = 50;

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, done) = (dbs[1].clone(), done.clone());
        tokio::spawn(async move {
            let mut walks = 0_usize;
            let mut partial = 0_usize;
            let mut previous: Vec<(i64, String)> = Vec::new();
            let mut followed = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let now = walk(&db, 37).await;
                walks += 1;
                if !now.is_empty() && now.len() < WRITERS * ACTIONS {
                    partial += 1;
                }
                assert!(
                    now.windows(2).all(|w| w[0].0 < w[1].0),
                    "a walk of the feed is in position order, without repeats"
                );
                // Everything at or below the last walk's end is exactly what it saw.
                if let Some((end, _)) = previous.last() {
                    let below: Vec<_> = now.iter().filter(|(p, _)| p <= end).cloned().collect();
                    if below != previous {
                        let seen: HashSet<_> = previous.iter().collect();
                        let late: Vec<_> = below.iter().filter(|e| !seen.contains(e)).collect();
                        panic!(
                            "walk {walks}: events appeared below position {end} after a walk \
                             had passed it: {late:?}"
                        );
                    }
                }
                previous = now;
                cursor = follow(&db, cursor, &mut followed).await;
                if finished {
                    return (walks, partial, previous, followed);
                }
            }
        })
    };

    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let db = dbs[w % 2].clone();
        writers.push(tokio::spawn(async move {
            let me = username(&format!("writer{w}"));
            let mut events = Vec::with_capacity(ACTIONS);
            let joined = forum::join(&db, &me, None).await.unwrap();
            events.push(joined.event_id.as_str().to_owned());
            let opened = forum::create_thread(
                &db,
                &NewThread {
                    author: Actor::Username(me.clone()),
                    title: Title::parse(&format!("thread of writer {w}")).unwrap(),
                    body: PostBody::parse("first").unwrap(),
                },
            )
            .await
            .unwrap();
            events.push(opened.event_id.as_str().to_owned());
            for i in 2..ACTIONS {
                let reply = forum::reply(
                    &db,
                    opened.value.thread_id,
                    &Actor::Username(me.clone()),
                    &PostBody::parse(&format!("reply {i}")).unwrap(),
                )
                .await
                .unwrap();
                events.push(reply.event_id.as_str().to_owned());
            }
            events
        }));
    }
    let mut written: Vec<Vec<String>> = Vec::new();
    for w in writers {
        written.push(w.await.unwrap());
    }
    let wrote_in = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let (walks, partial, last_walk, followed) = reader.await.unwrap();

    let feed = walk(&dbs[0], 100).await;
    assert_eq!(feed, last_walk, "the reader's last walk is the whole feed");
    assert_eq!(
        followed, feed,
        "a consumer following the feed by cursor while it grew saw every event, in order"
    );
    assert_eq!(feed.len(), WRITERS * ACTIONS);
    let position: HashMap<&str, i64> = feed.iter().map(|(p, id)| (id.as_str(), *p)).collect();
    for (w, events) in written.iter().enumerate() {
        let positions: Vec<i64> = events
            .iter()
            .map(|e| {
                *position
                    .get(e.as_str())
                    .expect("every event is in the feed")
            })
            .collect();
        assert!(
            positions.windows(2).all(|p| p[0] < p[1]),
            "writer {w}'s events are in the order it committed them"
        );
    }
    assert!(
        partial > 0,
        "the reader walked the feed while it grew ({walks} walks)"
    );
    println!(
        "feed: {} events by {WRITERS} writers in {wrote_in:?}; {walks} walks by cursor \
         ({partial} of a growing feed), none saw a gap filled later",
        feed.len()
    );
}

/// A tenant with two endpoints and `members` members joined (one delivery per endpoint
/// each); returns its database and the deliveries' ids.
async fn backlog(store: &Store, members: usize) -> (TenantDb, HashSet<String>) {
    store.create_tenant(&slug("acme"), &[]).await.unwrap();
    let db = store.tenant_db(&slug("acme")).await.unwrap();
    endpoint(store, &db, "one.example.com").await;
    endpoint(store, &db, "two.example.com").await;
    let mut joining = Vec::new();
    for t in 0..4 {
        let db = db.clone();
        joining.push(tokio::spawn(async move {
            let mut deliveries = Vec::new();
            for i in (t..members).step_by(4) {
                let joined = forum::join(&db, &username(&format!("m{i}")), None)
                    .await
                    .unwrap();
                for (d, _, _) in db
                    .deliveries_of_event(joined.event_id.as_str())
                    .await
                    .unwrap()
                {
                    deliveries.push(d.as_str().to_owned());
                }
            }
            deliveries
        }));
    }
    let mut all = HashSet::new();
    for j in joining {
        all.extend(j.await.unwrap());
    }
    assert_eq!(all.len(), members * 2);
    (db, all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_claiming_at_once_never_claim_a_delivery_twice_and_together_claim_all() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    let nodes = [db.open().await, db.open().await];
    let (_, deliveries) = backlog(&nodes[0], 200).await;
    let tenants = [
        nodes[0].tenant_db(&slug("acme")).await.unwrap(),
        nodes[1].tenant_db(&slug("acme")).await.unwrap(),
    ];

    // Three claimers on each node, each taking small batches until nothing is due.
    const CLAIMERS: usize = 3;
    let gate = Arc::new(tokio::sync::Barrier::new(2 * CLAIMERS));
    let mut claiming = Vec::new();
    for (n, tenant) in tenants.iter().enumerate() {
        for _ in 0..CLAIMERS {
            let (tenant, gate) = (tenant.clone(), gate.clone());
            claiming.push(tokio::spawn(async move {
                gate.wait().await;
                let mut mine = Vec::new();
                loop {
                    let now = Timestamp::now();
                    let batch = tenant
                        .claim_due(&Claim::new(now, now.plus_millis(600_000), 7))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return (n, mine);
                    }
                    mine.extend(
                        batch
                            .into_iter()
                            .map(|c| (c.id.as_str().to_owned(), c.lease_until)),
                    );
                }
            }));
        }
    }
    let mut claimed: HashMap<String, Timestamp> = HashMap::new();
    let mut by_node = [0_usize; 2];
    for c in claiming {
        let (n, mine) = c.await.unwrap();
        by_node[n] += mine.len();
        for (id, lease) in mine {
            assert!(
                claimed.insert(id.clone(), lease).is_none(),
                "delivery {id} was claimed twice"
            );
        }
    }
    let ids: HashSet<String> = claimed.keys().cloned().collect();
    assert_eq!(
        ids, deliveries,
        "together the nodes claimed every due delivery"
    );
    assert!(
        by_node.iter().all(|n| *n > 0),
        "both nodes took a share: {by_node:?}"
    );
    for tenant in &tenants {
        let now = Timestamp::now();
        assert!(
            tenant
                .claim_due(&Claim::new(now, now.plus_millis(1000), 100))
                .await
                .unwrap()
                .is_empty(),
            "nothing is left due"
        );
    }
    // Each row holds the lease of the one claim that took it.
    let mut c = connect(&db).await;
    let id = tenant_id(&mut c, "acme").await;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, lease_until FROM tenant_{id}.webhook_deliveries"
    )))
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(rows.len(), deliveries.len());
    for r in rows {
        let id: String = r.get(0);
        let lease: Option<i64> = r.get(1);
        assert_eq!(lease, Some(claimed[&id].millis()), "{id}'s lease");
    }
    c.close().await.unwrap();
    println!(
        "claims: {} deliveries claimed by 2 nodes x {CLAIMERS} claimers ({by_node:?} per node), none twice",
        deliveries.len()
    );
}

/// The rows of due work of a tenant: (id, due_at).
async fn due_rows(c: &mut PgConnection, slug: &str) -> BTreeMap<i64, i64> {
    sqlx::query_as("SELECT id, due_at FROM mobieus.due_work WHERE slug = $1")
        .bind(slug)
        .fetch_all(&mut *c)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// A moment later than any taken so far (timestamps are in milliseconds).
async fn tick() -> Timestamp {
    tokio::time::sleep(Duration::from_millis(5)).await;
    Timestamp::now()
}

#[tokio::test]
async fn work_enqueued_on_one_node_is_found_by_another_and_answered_only_as_read() {
    let url = server_or_skip!();
    let db = TestDb::postgres(&url).await;
    // An API node (no worker) and a worker node, and an idle tenant beside.
    let api = db.open().await;
    let worker = db.open().await;
    api.create_tenant(&slug("idle"), &[]).await.unwrap();
    api.create_tenant(&slug("acme"), &[]).await.unwrap();
    let acme = api.tenant_db(&slug("acme")).await.unwrap();
    endpoint(&api, &acme, "hooks.example.com").await;
    let mut c = connect(&db).await;
    assert!(due_rows(&mut c, "acme").await.is_empty(), "no work yet");

    forum::join(&acme, &username("ann"), None).await.unwrap();
    let first = due_rows(&mut c, "acme").await;
    assert_eq!(
        first.len(),
        1,
        "the enqueuing transaction left a row of due work"
    );
    let due = worker.due_tenants(tick().await).await.unwrap();
    assert_eq!(
        due,
        vec![slug("acme")],
        "the other node finds the tenant with work, and only it"
    );

    // A row committed after the worker's read is not answered by its look.
    forum::join(&acme, &username("bob"), None).await.unwrap();
    let both = due_rows(&mut c, "acme").await;
    assert_eq!(both.len(), 2);
    let checked_at = tick().await;
    worker
        .set_due(&slug("acme"), None, checked_at)
        .await
        .unwrap();
    let left = due_rows(&mut c, "acme").await;
    let later: BTreeMap<i64, i64> = both
        .iter()
        .filter(|(id, _)| !first.contains_key(id))
        .map(|(k, v)| (*k, *v))
        .collect();
    assert_eq!(
        left, later,
        "the row read is gone, the row committed after the read stays"
    );

    // The next read finds the row kept; a look after it answers it.
    assert_eq!(
        worker.due_tenants(tick().await).await.unwrap(),
        vec![slug("acme")]
    );
    // A look that began before the read answers nothing.
    worker
        .set_due(&slug("acme"), None, checked_at)
        .await
        .unwrap();
    assert_eq!(due_rows(&mut c, "acme").await, later);
    worker
        .set_due(&slug("acme"), None, tick().await)
        .await
        .unwrap();
    assert!(
        due_rows(&mut c, "acme").await.is_empty(),
        "every row answered"
    );
    assert!(worker.due_tenants(tick().await).await.unwrap().is_empty());

    // A claim leaves a row due when its lease runs out: should its worker die, a node
    // that never saw the claim finds the work again then, and not before.
    let acme_on_worker = worker.tenant_db(&slug("acme")).await.unwrap();
    let now = Timestamp::now();
    let lease_until = now.plus_millis(60_000);
    let claimed = acme_on_worker
        .claim_due(&Claim::new(now, lease_until, 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let third = db.open().await;
    assert!(
        third.due_tenants(tick().await).await.unwrap().is_empty(),
        "leased work is not due yet"
    );
    assert_eq!(
        third.due_tenants(lease_until.plus_millis(1)).await.unwrap(),
        vec![slug("acme")],
        "a dead worker's claims are found when their lease runs out"
    );
    let again = third.tenant_db(&slug("acme")).await.unwrap();
    let after = lease_until.plus_millis(1);
    assert_eq!(
        again
            .claim_due(&Claim::new(after, after.plus_millis(60_000), 10))
            .await
            .unwrap()
            .len(),
        2,
        "and claimed again"
    );
    c.close().await.unwrap();
}
