//! Another process holding a database's write lock (the CLI beside a running server):
//! a write waits for it without holding a runtime thread, then goes through; reads are
//! not held up at all.

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_store::{Store, StoreConfig};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "current_thread")]
async fn a_write_waits_for_another_writer_without_blocking_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    store.create_tenant(&slug, &[]).await.unwrap();
    let db = store.tenant_db(&slug).await.unwrap();

    // "Another process": its own connection, holding the write lock for 600 ms.
    let path = dir.path().join("tenants/acme.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let other = rusqlite::Connection::open(path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        other
            .execute(
                "INSERT INTO users (username, joined_at) VALUES ('other', 1)",
                [],
            )
            .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        other.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();

    let started = Instant::now();
    let written = std::cell::Cell::new(false);
    let write = async {
        let mut tx = db.begin().await.unwrap();
        tx.insert_user("ann", None, Timestamp::now()).await.unwrap();
        tx.commit().await.unwrap();
        written.set(true);
        started.elapsed()
    };
    // On the same single-threaded runtime, while the write waits: the runtime keeps
    // running other tasks, and a read goes through.
    let meanwhile = async {
        let mut ticks = 0;
        while started.elapsed() < Duration::from_millis(200) {
            tokio::time::sleep(Duration::from_millis(10)).await;
            ticks += 1;
        }
        let page = db.users_page(0, 10).await.unwrap();
        (ticks, written.get(), page.items.len())
    };
    let (waited, (ticks, written_before_read, seen)) = tokio::join!(write, meanwhile);
    holder.join().unwrap();

    assert!(
        waited >= Duration::from_millis(550),
        "did not wait: {waited:?}"
    );
    // A runtime thread blocked on the lock would have let the ticker run at most once.
    assert!(ticks >= 3, "the runtime was blocked: {ticks} ticks");
    // The read ran while the other writer still held the lock, and saw neither insert.
    assert!(!written_before_read, "the read waited for the write");
    assert_eq!(seen, 0);
    let names: Vec<String> = db
        .users_page(0, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["other", "ann"]);
}
