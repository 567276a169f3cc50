//! Schema test: every hot query of a tenant database is answered through an index, never
//! by scanning a table (SQLite's own query plan says which).

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_domain::tenant::TenantSlug;
use mobieus_store::{Store, StoreConfig};
use sqlx::Row;
use sqlx::sqlite::SqliteConnectOptions;

/// The shapes of the queries the API and the use cases run on every request or action.
const HOT: &[(&str, &str)] = &[
    ("feed page", "SELECT payload FROM api_events WHERE position > 1 ORDER BY position LIMIT 26"),
    ("feed page of one type", "SELECT payload FROM api_events WHERE position > 1 AND type = 'post.created' ORDER BY position LIMIT 26"),
    // Several types: one ordered index range per type, merged (see sqlite/events.rs).
    (
        "feed page of two types",
        "SELECT * FROM (SELECT * FROM (SELECT * FROM api_events WHERE position > 1 AND type = 'post.created' ORDER BY position LIMIT 26)
         UNION ALL SELECT * FROM (SELECT * FROM api_events WHERE position > 1 AND type = 'user.joined' ORDER BY position LIMIT 26))
         ORDER BY position LIMIT 26",
    ),
    ("feed since", "SELECT payload FROM api_events WHERE position > 0 AND created_at >= 5 ORDER BY position LIMIT 26"),
    ("event by id", "SELECT payload FROM api_events WHERE id = 'evt_x'"),
    ("key by hash", "SELECT id FROM api_keys WHERE key_hash = x'00'"),
    ("member by name", "SELECT id FROM users WHERE lower(username) = lower('ann') AND left_at IS NULL"),
    ("users page", "SELECT id FROM users WHERE id > 3 ORDER BY id LIMIT 26"),
    ("posts of a thread", "SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id > 0 AND p.thread_id = 3 ORDER BY p.id LIMIT 26"),
    ("posts of an author", "SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id > 0 AND p.author_id = 3 ORDER BY p.id LIMIT 26"),
    (
        "due deliveries (the worker's claim)",
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= 5 AND (lease_until IS NULL OR lease_until <= 5) ORDER BY next_attempt_at LIMIT 64",
    ),
    (
        "deliveries of an endpoint",
        "SELECT d.id FROM webhook_deliveries d JOIN api_events e ON e.id = d.event_id WHERE d.endpoint_id = 'ep_x' AND d.position > 0 ORDER BY d.position LIMIT 26",
    ),
    (
        "deliveries of an endpoint by status",
        "SELECT d.id FROM webhook_deliveries d JOIN api_events e ON e.id = d.event_id WHERE d.endpoint_id = 'ep_x' AND d.status = 'failed' AND d.position > 0 ORDER BY d.position LIMIT 26",
    ),
    ("deliveries of an event", "SELECT id FROM webhook_deliveries WHERE event_id = 'evt_x' ORDER BY endpoint_id"),
    (
        "is anything due (the worker's probe)",
        "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= 5 AND (lease_until IS NULL OR lease_until <= 5) LIMIT 1",
    ),
    (
        "failed deliveries to recover",
        "SELECT d.event_id FROM webhook_deliveries d WHERE d.endpoint_id = 'ep_x' AND d.status IN ('failed', 'cancelled') AND d.created_at >= 1 AND d.created_at < 9
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries n WHERE n.event_id = d.event_id AND n.endpoint_id = d.endpoint_id AND n.position > d.position)
         ORDER BY d.position",
    ),
    ("idempotency key", "SELECT status FROM idempotency_keys WHERE api_key_id = 'key_x' AND key = 'k'"),
    ("expired idempotency keys", "DELETE FROM idempotency_keys WHERE created_at < 5"),
    ("attempts of a delivery", "SELECT number FROM delivery_attempts WHERE delivery_id = 'dlv_x' ORDER BY number"),
    ("edit history of a post", "SELECT body FROM post_revisions WHERE post_id = 3 ORDER BY id"),
];

#[tokio::test]
async fn hot_queries_use_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    store
        .create_tenant(&TenantSlug::parse("acme").unwrap(), &[])
        .await
        .unwrap();
    let opts = SqliteConnectOptions::new().filename(dir.path().join("tenants/acme.db"));
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    for (name, sql) in HOT {
        let plan: Vec<String> =
            sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect();
        // Merging per-type pages sorts at most `limit + 1` rows from each; nothing else may sort.
        let merges_pages = plan.iter().any(|s| s == "MERGE (UNION ALL)");
        for step in &plan {
            let scans_a_table = step.starts_with("SCAN")
                && !step.contains("USING")
                && !step.starts_with("SCAN (subquery");
            assert!(!scans_a_table, "{name}: {step} (plan: {plan:?})");
            let sorts = step.contains("USE TEMP B-TREE FOR ORDER BY");
            assert!(
                !sorts || merges_pages,
                "{name}: sorts instead of reading in order: {plan:?}"
            );
        }
    }
}
