//! Group commit: many writers at once share SQLite transactions, yet each keeps its own
//! outcome. What a writer committed is there (and readable the moment `commit` returns);
//! what one dropped or failed is not, and takes nobody else's work with it.

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_store::{Store, StoreConfig, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_writer_keeps_its_own_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    store.create_tenant(&slug, &[]).await.unwrap();
    let db = store.tenant_db(&slug).await.unwrap();
    // Taken before the writers start, so one of them fails on it.
    let mut tx = db.begin().await.unwrap();
    tx.insert_user("taken", None, Timestamp::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..300 {
        let db = db.clone();
        tasks.spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let name = if i == 150 {
                "TAKEN".to_owned()
            } else {
                format!("u{i}")
            };
            let inserted = tx.insert_user(&name, None, Timestamp::now()).await;
            match (i % 7, inserted) {
                (_, Err(StoreError::Conflict { what })) => {
                    assert_eq!(what, "username");
                    assert_eq!(i, 150);
                    drop(tx);
                    (i, false)
                }
                // Every seventh changes its mind: dropped without commit.
                (0, Ok(_)) => {
                    drop(tx);
                    (i, false)
                }
                (_, Ok(id)) => {
                    tx.commit().await.unwrap();
                    // Committed means readable, at once, through another connection.
                    assert!(
                        db.user_by_id(id).await.unwrap().is_some(),
                        "u{i} not readable"
                    );
                    (i, true)
                }
                (_, Err(e)) => panic!("u{i}: {e}"),
            }
        });
    }
    let mut kept = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, committed) = done.unwrap();
        if committed {
            kept.push(i);
        }
    }
    let users = db.users_page(0, 1000).await.unwrap().items;
    let mut names: Vec<String> = users.into_iter().map(|u| u.username).collect();
    names.sort();
    let mut expected: Vec<String> = kept.iter().map(|i| format!("u{i}")).collect();
    expected.push("taken".to_owned());
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(kept.len(), 300 - 43 - 1);
}
