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
    assert_eq!(version, 9);
}

/// The tenant migrations up to 0007, as a database of the builds before 0008 had them.
const TENANT_UP_TO_7: [&str; 7] = [
    include_str!("../migrations/sqlite/tenant/0001_forum_events_keys.sql"),
    include_str!("../migrations/sqlite/tenant/0002_webhooks_audit.sql"),
    include_str!("../migrations/sqlite/tenant/0003_idempotency.sql"),
    include_str!("../migrations/sqlite/tenant/0004_attempt_numbers.sql"),
    include_str!("../migrations/sqlite/tenant/0005_lease_index.sql"),
    include_str!("../migrations/sqlite/tenant/0006_accounts.sql"),
    include_str!("../migrations/sqlite/tenant/0007_status_indexes.sql"),
];

/// The tables 0008 rebuilds (for CHECKs without lists) keep every row, column, index and
/// foreign key, and the rows that refer to them survive (with foreign keys on, dropping
/// the old table would have cascaded to the attempts).
#[tokio::test]
async fn rebuilt_tables_keep_their_rows_and_what_refers_to_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tenants")).unwrap();
    // A data dir at tenant schema 7, with rows in the three tables and in their dependents.
    drop(Store::open(&StoreConfig::new(dir.path())).await.unwrap());
    let control = sqlx_pool(&dir.path().join("control.db")).await;
    sqlx::query("INSERT INTO tenants (slug, created_at) VALUES ('acme', 1)")
        .execute(&control)
        .await
        .unwrap();
    control.close().await;
    let path = dir.path().join("tenants/acme.db");
    let tenant = sqlx_pool(&path).await;
    for sql in TENANT_UP_TO_7 {
        sqlx::raw_sql(sql).execute(&tenant).await.unwrap();
    }
    sqlx::raw_sql(
        "PRAGMA user_version = 7;
         INSERT INTO users (id, username, role, joined_at, password_hash) VALUES (3, 'ann', 'admin', 1, 'hash');
         INSERT INTO threads (id, title, author_id, created_at) VALUES (5, 'hello', 3, 2);
         INSERT INTO posts (id, thread_id, author_id, body, status, opens_thread, created_at) VALUES (8, 5, 3, 'hi', 'removed', 1, 2);
         INSERT INTO post_revisions (post_id, body, edited_by, replaced_at) VALUES (8, 'hey', 3, 3);
         INSERT INTO api_events (id, type, created_at, payload) VALUES ('evt_1', 'user.joined', 1, '{}');
         INSERT INTO webhook_endpoints (id, position, url, events, secret, created_at, updated_at)
             VALUES ('wh_1', 1, 'https://example.com/h', '*', x'00', 1, 1);
         INSERT INTO webhook_deliveries (position, id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_until, created_at, updated_at)
             VALUES (42, 'dlv_1', 'evt_1', 'wh_1', 'pending', 1, 10, 20, 1, 2);
         INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status)
             VALUES ('dlv_1', 1, 5, 7, '{}', 500);",
    )
    .execute(&tenant)
    .await
    .unwrap();
    let schema = |pool| async move {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        rows
    };
    let before = schema(&tenant).await;
    tenant.close().await;

    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    store
        .tenant_db(&TenantSlug::parse("acme").unwrap())
        .await
        .unwrap();

    let tenant = sqlx_pool(&path).await;
    let version: i64 = sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&tenant)
        .await
        .unwrap();
    assert_eq!(version, 9);
    assert_eq!(schema(&tenant).await, before, "the same tables and indexes");
    let user: (i64, String, String, Option<String>) =
        sqlx::query_as("SELECT id, username, role, password_hash FROM users")
            .fetch_one(&tenant)
            .await
            .unwrap();
    assert_eq!(user, (3, "ann".into(), "admin".into(), Some("hash".into())));
    let post: (i64, String, i64) = sqlx::query_as("SELECT id, status, opens_thread FROM posts")
        .fetch_one(&tenant)
        .await
        .unwrap();
    assert_eq!(post, (8, "removed".into(), 1));
    let delivery: (i64, String, i64, i64, i64) = sqlx::query_as(
        "SELECT position, status, attempts, next_attempt_at, lease_until FROM webhook_deliveries",
    )
    .fetch_one(&tenant)
    .await
    .unwrap();
    assert_eq!(delivery, (42, "pending".into(), 1, 10, 20));
    let count = |sql: &'static str| {
        let tenant = tenant.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&tenant)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM delivery_attempts").await, 1);
    assert_eq!(count("SELECT count(*) FROM post_revisions").await, 1);
    assert_eq!(count("SELECT count(*) FROM threads").await, 1);

    // The rules hold as before: an unknown status or role is refused...
    for bad in [
        "UPDATE webhook_deliveries SET status = 'lost'",
        "UPDATE users SET role = 'root'",
        "UPDATE posts SET status = 'hidden'",
    ] {
        let err = sqlx::query(bad).execute(&tenant).await.unwrap_err();
        assert!(
            err.to_string().contains("CHECK constraint failed"),
            "{bad}: {err}"
        );
    }
    // ...and the attempts still belong to their delivery (sqlx turns foreign keys on).
    sqlx::query("DELETE FROM webhook_deliveries WHERE id = 'dlv_1'")
        .execute(&tenant)
        .await
        .unwrap();
    assert_eq!(count("SELECT count(*) FROM delivery_attempts").await, 0);
    let err = sqlx::query("DELETE FROM users WHERE id = 3")
        .execute(&tenant)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
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
