//! The events reference's examples have the shape of real events: each forum action is
//! run through its use case, and its event's JSON has the same members, at every depth,
//! as the published example of its type.

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_core::tenants;
use mobieus_domain::event::EventType;
use mobieus_domain::event_examples::example;
use mobieus_domain::forum::{PostBody, Reason, Role, Title, Username};
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::EventFilter;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every member's path (`data.post.author.id`), objects only (values may be null in one
/// and set in the other).
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            let path = format!("{prefix}{k}");
            paths(child, &format!("{path}."), out);
            out.insert(path);
        }
    }
}

#[tokio::test]
async fn every_example_has_the_members_of_a_real_event_of_its_type() {
    let dir = mobieus_testkit::db::TestDb::new().await;
    let store = dir.open().await;
    let slug = TenantSlug::parse("acme").unwrap();
    tenants::create(&store, &slug, &[]).await.unwrap();
    let db = tenants::open(&store, &slug).await.unwrap();
    let name = |s: &str| Username::parse(s).unwrap();
    let by = |s: &str| Actor::Username(name(s));
    let reason = Reason::parse("spam").unwrap();

    forum::join(&db, &name("ann"), None).await.unwrap();
    forum::join(&db, &name("cleo"), None).await.unwrap();
    forum::set_role(&db, &name("cleo"), Role::Moderator)
        .await
        .unwrap();
    let opened = forum::create_thread(
        &db,
        &NewThread {
            author: by("ann"),
            title: Title::parse("Hello").unwrap(),
            body: PostBody::parse("First").unwrap(),
        },
    )
    .await
    .unwrap();
    let thread = opened.value.thread_id;
    let reply = forum::reply(&db, thread, &by("ann"), &PostBody::parse("Second").unwrap())
        .await
        .unwrap();
    forum::edit_post(
        &db,
        reply.value.id,
        &by("ann"),
        &PostBody::parse("Second!").unwrap(),
    )
    .await
    .unwrap();
    forum::delete_post(&db, reply.value.id, &by("ann"))
        .await
        .unwrap();
    forum::remove_post(&db, opened.value.id, &by("cleo"), Some(&reason))
        .await
        .unwrap();
    forum::lock_thread(&db, thread, &by("cleo"), Some(&reason))
        .await
        .unwrap();
    forum::unlock_thread(&db, thread, &by("cleo"), None)
        .await
        .unwrap();
    forum::ban(&db, &name("ann"), &by("cleo"), Some(&reason))
        .await
        .unwrap();
    forum::unban(&db, &name("ann"), &by("cleo"), None)
        .await
        .unwrap();
    forum::leave(&db, &by("ann")).await.unwrap();

    let events = db
        .events_page(&EventFilter::default(), 0, 100)
        .await
        .unwrap()
        .items;
    let mut seen = BTreeSet::new();
    for e in events {
        let real: Value = serde_json::from_str(&e.json).unwrap();
        let t = EventType::parse(&e.event_type).unwrap();
        let shown: Value = serde_json::from_str(&example(&slug, t).to_json()).unwrap();
        let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
        paths(&real, "", &mut a);
        paths(&shown, "", &mut b);
        assert_eq!(
            a, b,
            "{}: the example's members differ from a real event's",
            e.event_type
        );
        seen.insert(e.event_type);
    }
    let feed_types: BTreeSet<String> = EventType::CATALOG
        .iter()
        .filter(|i| i.event_type.in_feed())
        .map(|i| i.name.to_owned())
        .collect();
    assert_eq!(seen, feed_types, "every type in the feed was compared");
}
