//! Retention on a real tenant database: what is older than the cutoff goes in batches
//! (finished deliveries with their attempts, then events none of whose deliveries is
//! left); a delivery still pending stays, and so does its event; newer rows are untouched.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::delivery::{self, DeliveryPolicy, Outcome};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_core::{forum, tenants};
use mobieus_domain::forum::Username;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{EventSelection, LoopbackPolicy, WebhookUrl};
use mobieus_store::{Claim, EventFilter, NewAttempt, Purged, Store, StoreConfig};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn data_past_retention_goes_in_batches_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::new(dir.path())).await.unwrap();
    let slug = TenantSlug::parse("acme").unwrap();
    tenants::create(&store, &slug, &[]).await.unwrap();
    let db = tenants::open(&store, &slug).await.unwrap();
    let req = EndpointRequest {
        url: WebhookUrl::parse("https://hooks.example.com/", LoopbackPolicy::Deny).unwrap(),
        label: None,
        events: EventSelection::All,
    };
    webhooks::create(&db, store.master_key(), req, "cli", None)
        .await
        .unwrap();
    for i in 0..7 {
        forum::join(&db, &Username::parse(&format!("u{i}")).unwrap(), None)
            .await
            .unwrap();
    }
    // Every delivery but the last two is attempted and succeeds.
    let now = Timestamp::now();
    let claimed = db
        .claim_due(&Claim::new(now, now.plus_millis(60_000), 5))
        .await
        .unwrap();
    for c in &claimed {
        let attempt = NewAttempt {
            delivery: c.id.clone(),
            number: 1,
            started_at: now,
            duration_ms: 1,
            request_headers: mobieus_domain::webhook::SentHeaders::none(),
            response_status: Some(200),
            response_excerpt: None,
            error: None,
        };
        delivery::record(
            &db,
            &DeliveryPolicy::default(),
            c,
            &attempt,
            Outcome::Succeeded,
            0.0,
        )
        .await
        .unwrap();
    }
    // The first six actions happened 40 days ago (the sixth's delivery is still pending).
    let side = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(dir.path().join("tenants/acme.db")))
        .await
        .unwrap();
    let old = now.millis() - 40 * DAY;
    sqlx::query("UPDATE webhook_deliveries SET created_at = ? WHERE position <= 6")
        .bind(old)
        .execute(&side)
        .await
        .unwrap();
    sqlx::query("UPDATE api_events SET created_at = ? WHERE position <= 6")
        .bind(old)
        .execute(&side)
        .await
        .unwrap();
    let cutoff = Timestamp::from_millis(now.millis() - 30 * DAY);

    let first = db.purge_before(cutoff, 3).await.unwrap();
    assert_eq!(
        first,
        Purged {
            deliveries: 3,
            attempts: 3,
            events: 3
        }
    );
    let second = db.purge_before(cutoff, 3).await.unwrap();
    assert_eq!(
        second,
        Purged {
            deliveries: 2,
            attempts: 2,
            events: 2
        }
    );
    assert_eq!(db.purge_before(cutoff, 3).await.unwrap(), Purged::default());

    // Left: the old event whose delivery is still pending, and the new one.
    let events = db
        .events_page(&EventFilter::default(), 0, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(
        events.iter().map(|e| e.position).collect::<Vec<_>>(),
        [6, 7]
    );
    let (pending,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(&side)
            .await
            .unwrap();
    assert_eq!(pending, 2);
    let (attempts,): (i64,) = sqlx::query_as("SELECT count(*) FROM delivery_attempts")
        .fetch_one(&side)
        .await
        .unwrap();
    assert_eq!(attempts, 0);
}
