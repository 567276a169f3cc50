//! Schema migrations: a data dir written by an earlier build (which kept its migrations
//! in sqlx's table) opens without re-running them and keeps its rows; a database newer
//! than this build is refused with a clear message, not half-read.

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_domain::tenant::TenantSlug;
use mobieus_store::{EventFilter, Store, StoreConfig, StoreError};
use sqlx::sqlite::SqliteConnectOptions;

async fn sqlx_pool(path: &std::path::Path) -> sqlx::SqlitePool {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    sqlx::SqlitePool::connect_with(opts).await.unwrap()
}

#[tokio::test]
async fn a_data_dir_of_the_earlier_build_opens_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tenants")).unwrap();
    // What the earlier build left: both databases migrated by sqlx, one event in the feed.
    let control = sqlx_pool(&dir.path().join("control.db")).await;
    sqlx::migrate!("migrations/sqlite/control")
        .run(&control)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tenants (slug, created_at) VALUES ('acme', 1)")
        .execute(&control)
        .await
        .unwrap();
    let tenant = sqlx_pool(&dir.path().join("tenants/acme.db")).await;
    sqlx::migrate!("migrations/sqlite/tenant")
        .run(&tenant)
        .await
        .unwrap();
    sqlx::query("INSERT INTO api_events (id, type, created_at, payload) VALUES ('evt_1', 'user.joined', 1, '{}')")
        .execute(&tenant)
        .await
        .unwrap();
    control.close().await;
    tenant.close().await;

    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    assert!(store.tenant(&slug).await.unwrap().is_some());
    let db = store.tenant_db(&slug).await.unwrap();
    let page = db
        .events_page(&EventFilter::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, "evt_1");

    // The version is now kept by SQLite itself, and the migrations added since that build
    // (0006 and on) were applied.
    let tenant = sqlx_pool(&dir.path().join("tenants/acme.db")).await;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&tenant)
        .await
        .unwrap();
    assert_eq!(version, 7);
}

#[tokio::test]
async fn a_database_newer_than_this_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let control = sqlx_pool(&dir.path().join("control.db")).await;
    sqlx::query("PRAGMA user_version = 99")
        .execute(&control)
        .await
        .unwrap();
    control.close().await;
    let err = Store::open(&StoreConfig::new(dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
    assert!(err.to_string().contains("newer than this build"), "{err}");
}
