//! The delivery queue on a real tenant database: claims lease due deliveries once, an
//! expired lease makes a delivery due again, failures follow the retry schedule to
//! `failed`, and endpoints are disabled after N consecutive failures or at once on 410,
//! with an audit entry.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::delivery::{self, DeliveryPolicy, Outcome};
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_core::{forum, tenants};
use mobieus_domain::forum::Username;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{
    EndpointId, EventSelection, LoopbackPolicy, RetrySchedule, WebhookUrl,
};
use mobieus_store::{Claim, ClaimedDelivery, DeliveryState, NewAttempt, TenantDb};
use std::time::Duration;

async fn setup() -> (mobieus_testkit::db::TestDb, TenantDb, EndpointId) {
    let dir = mobieus_testkit::db::TestDb::new().await;
    let store = dir.open().await;
    let slug = TenantSlug::parse("acme").unwrap();
    tenants::create(&store, &slug, &[]).await.unwrap();
    let db = tenants::open(&store, &slug).await.unwrap();
    let req = EndpointRequest {
        url: WebhookUrl::parse("https://hooks.example.com/", LoopbackPolicy::Deny).unwrap(),
        label: None,
        events: EventSelection::All,
    };
    let ep = webhooks::create(&db, store.master_key(), req, "cli", None)
        .await
        .unwrap()
        .endpoint
        .id;
    (dir, db, ep)
}

fn attempt(c: &ClaimedDelivery, status: Option<u16>) -> NewAttempt {
    NewAttempt {
        delivery: c.id.clone(),
        number: c.attempts + 1,
        started_at: Timestamp::now(),
        duration_ms: 3,
        request_headers: mobieus_domain::webhook::SentHeaders::from_pairs([(
            "webhook-id",
            c.event_id.as_str(),
        )]),
        response_status: status,
        response_excerpt: status.map(|_| "nope".to_owned()),
        error: status.is_none().then(|| "connection refused".to_owned()),
    }
}

const FAILED: Outcome = Outcome::Failed {
    gone: false,
    retry_after: None,
};

fn far() -> Timestamp {
    Timestamp::now().plus_millis(365 * 86_400_000)
}

#[tokio::test]
async fn a_claim_leases_each_due_delivery_once_and_an_expired_lease_frees_it() {
    let (_dir, db, _ep) = setup().await;
    for name in ["ann", "bob", "cy"] {
        forum::join(&db, &Username::parse(name).unwrap(), None)
            .await
            .unwrap();
    }
    let now = Timestamp::now();
    let first = db
        .claim_due(&Claim::new(now, now.plus_millis(30_000), 2))
        .await
        .unwrap();
    let second = db
        .claim_due(&Claim::new(now, now.plus_millis(30_000), 10))
        .await
        .unwrap();
    assert_eq!(
        (first.len(), second.len()),
        (2, 1),
        "three due deliveries, each claimed once"
    );
    assert!(
        db.claim_due(&Claim::new(now, now.plus_millis(30_000), 10))
            .await
            .unwrap()
            .is_empty(),
        "all leased"
    );
    let after_lease = now.plus_millis(30_001);
    let again = db
        .claim_due(&Claim::new(
            after_lease,
            after_lease.plus_millis(30_000),
            10,
        ))
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        3,
        "a worker that died loses nothing: expired leases are claimed again"
    );
    assert!(
        db.event_json(&again[0].event_id)
            .await
            .unwrap()
            .unwrap()
            .1
            .contains("\"user.joined\"")
    );
}

#[tokio::test]
async fn failures_follow_the_schedule_then_fail_and_success_resets_the_count() {
    let (_dir, db, ep) = setup().await;
    forum::join(&db, &Username::parse("ann").unwrap(), None)
        .await
        .unwrap();
    let policy = DeliveryPolicy {
        schedule: RetrySchedule::parse("0s,1m,5m").unwrap(),
        auto_disable_after: 20,
    };
    let mut states = Vec::new();
    for _ in 0..3 {
        let claimed = db
            .claim_due(&Claim::new(far(), far().plus_millis(1000), 10))
            .await
            .unwrap()
            .pop()
            .expect("due again");
        let before = Timestamp::now();
        let state = delivery::record(
            &db,
            &policy,
            &claimed,
            &attempt(&claimed, Some(500)),
            FAILED,
            0.0,
        )
        .await
        .unwrap()
        .expect("the claim holds");
        if let DeliveryState::Retry { at } = state {
            let wait = at.millis() - before.millis();
            assert!(
                wait >= [60_000, 300_000][states.len()] && wait < [61_000, 301_000][states.len()],
                "wait {wait} ms"
            );
        }
        states.push(state);
    }
    assert!(matches!(
        states[..],
        [
            DeliveryState::Retry { .. },
            DeliveryState::Retry { .. },
            DeliveryState::Failed
        ]
    ));
    assert!(
        db.claim_due(&Claim::new(far(), far(), 10))
            .await
            .unwrap()
            .is_empty(),
        "a failed delivery is not claimed again"
    );
    assert_eq!(
        db.endpoint_by_id(&ep)
            .await
            .unwrap()
            .unwrap()
            .endpoint
            .consecutive_failures,
        3
    );

    forum::join(&db, &Username::parse("bob").unwrap(), None)
        .await
        .unwrap();
    let claimed = db
        .claim_due(&Claim::new(far(), far().plus_millis(1000), 10))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        delivery::record(
            &db,
            &policy,
            &claimed,
            &attempt(&claimed, Some(204)),
            Outcome::Succeeded,
            0.0
        )
        .await
        .unwrap()
        .expect("the claim holds"),
        DeliveryState::Succeeded
    );
    assert_eq!(
        db.endpoint_by_id(&ep)
            .await
            .unwrap()
            .unwrap()
            .endpoint
            .consecutive_failures,
        0
    );
}

#[tokio::test]
async fn retry_after_is_honoured_within_bounds() {
    let (_dir, db, _ep) = setup().await;
    forum::join(&db, &Username::parse("ann").unwrap(), None)
        .await
        .unwrap();
    let policy = DeliveryPolicy::default();
    let claimed = db
        .claim_due(&Claim::new(far(), far().plus_millis(1000), 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let before = Timestamp::now();
    let asked = Outcome::Failed {
        gone: false,
        retry_after: Some(Duration::from_secs(600)),
    };
    let DeliveryState::Retry { at } = delivery::record(
        &db,
        &policy,
        &claimed,
        &attempt(&claimed, Some(429)),
        asked,
        0.0,
    )
    .await
    .unwrap()
    .expect("the claim holds") else {
        panic!("retried")
    };
    assert!(
        at.millis() - before.millis() >= 600_000,
        "waits as long as the receiver asked"
    );
}

#[tokio::test]
async fn endpoints_are_disabled_after_n_failures_or_at_once_on_410_with_an_audit_entry() {
    let (_dir, db, ep) = setup().await;
    let policy = DeliveryPolicy {
        schedule: RetrySchedule::parse("0s,0s").unwrap(),
        auto_disable_after: 3,
    };
    for name in ["a1", "a2", "a3"] {
        forum::join(&db, &Username::parse(name).unwrap(), None)
            .await
            .unwrap();
    }
    for claimed in db
        .claim_due(&Claim::new(far(), far().plus_millis(1000), 10))
        .await
        .unwrap()
    {
        delivery::record(
            &db,
            &policy,
            &claimed,
            &attempt(&claimed, None),
            FAILED,
            0.0,
        )
        .await
        .unwrap()
        .expect("the claim holds");
    }
    let endpoint = db.endpoint_by_id(&ep).await.unwrap().unwrap().endpoint;
    assert!(!endpoint.active);
    assert_eq!(
        endpoint.disabled_reason.as_deref(),
        Some("3 consecutive failed attempts")
    );
    let audit = db.audit_log().await.unwrap();
    assert_eq!(
        audit.last().map(|e| (e.action, e.actor.as_str())),
        Some(("endpoint.disabled", "worker"))
    );
    forum::join(&db, &Username::parse("late").unwrap(), None)
        .await
        .unwrap();
    let late = db
        .claim_due(&Claim::new(far(), far().plus_millis(1000), 10))
        .await
        .unwrap();
    assert!(
        late.iter().all(|c| c.attempts > 0),
        "a disabled endpoint gets no new deliveries"
    );

    let (_dir2, db2, ep2) = setup().await;
    forum::join(&db2, &Username::parse("ann").unwrap(), None)
        .await
        .unwrap();
    let claimed = db2
        .claim_due(&Claim::new(far(), far().plus_millis(1000), 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    delivery::record(
        &db2,
        &DeliveryPolicy::default(),
        &claimed,
        &attempt(&claimed, Some(410)),
        Outcome::Failed {
            gone: true,
            retry_after: None,
        },
        0.0,
    )
    .await
    .unwrap()
    .expect("the claim holds");
    let endpoint = db2.endpoint_by_id(&ep2).await.unwrap().unwrap().endpoint;
    assert_eq!(
        (endpoint.active, endpoint.disabled_reason.as_deref()),
        (false, Some("the endpoint answered 410 Gone"))
    );
}

#[tokio::test]
async fn a_record_after_the_lease_passed_to_another_worker_is_dropped() {
    let (_dir, db, ep) = setup().await;
    forum::join(&db, &Username::parse("ann").unwrap(), None)
        .await
        .unwrap();
    let policy = DeliveryPolicy::default();
    let now = Timestamp::now();
    // Worker A claims with a lease that has run out by the time B looks.
    let a = db
        .claim_due(&Claim::new(now, now.plus_millis(1), 1))
        .await
        .unwrap()
        .pop()
        .unwrap();
    let b = db
        .claim_due(&Claim::new(now.plus_millis(10), now.plus_millis(60_000), 1))
        .await
        .unwrap()
        .pop()
        .expect("the lease ran out, so B claims it");
    assert_eq!(a.id, b.id);
    let late = delivery::record(&db, &policy, &a, &attempt(&a, Some(500)), FAILED, 0.0)
        .await
        .unwrap();
    assert_eq!(late, None, "A's lease passed to B: nothing recorded");
    let endpoint = db.endpoint_by_id(&ep).await.unwrap().unwrap().endpoint;
    assert_eq!(
        endpoint.consecutive_failures, 0,
        "A's failure is not counted"
    );
    assert!(db.attempts(&a.id).await.unwrap().is_empty());
    let done = delivery::record(
        &db,
        &policy,
        &b,
        &attempt(&b, Some(204)),
        Outcome::Succeeded,
        0.0,
    )
    .await
    .unwrap();
    assert_eq!(done, Some(DeliveryState::Succeeded));
    assert_eq!(db.attempts(&b.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_claim_gives_no_endpoint_more_than_its_free_slots() {
    let (_dir, db, ep) = setup().await;
    for name in ["ann", "bob", "cleo", "dev", "eve"] {
        forum::join(&db, &Username::parse(name).unwrap(), None)
            .await
            .unwrap();
    }
    let lease = far().plus_millis(1000);
    let first = db
        .claim_due(&Claim::new(far(), lease, 10).with_slots(&[], 2))
        .await
        .unwrap();
    assert_eq!(first.len(), 2, "the slots per endpoint");
    let second = db
        .claim_due(&Claim::new(far(), lease, 10).with_slots(&[(ep.clone(), 1)], 2))
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the slots left free to a busy endpoint");
    let none = db
        .claim_due(&Claim::new(far(), lease, 10).with_slots(&[(ep.clone(), 0)], 2))
        .await
        .unwrap();
    assert!(none.is_empty(), "a full endpoint gets nothing");
    let rest = db
        .claim_due(&Claim::new(far(), lease, 10).with_slots(&[], 10))
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
}

#[tokio::test]
async fn one_transaction_records_a_batch_and_claims_the_next() {
    let (_dir, db, _ep) = setup().await;
    for name in ["ann", "bob", "cy", "dee", "eve"] {
        forum::join(&db, &Username::parse(name).unwrap(), None)
            .await
            .unwrap();
    }
    let policy = DeliveryPolicy::default();
    let now = Timestamp::now();
    let lease = now.plus_millis(30_000);
    let (states, first) =
        delivery::record_and_claim(&db, &policy, &[], Some(Claim::new(now, lease, 2)))
            .await
            .unwrap();
    assert!(states.is_empty());
    assert_eq!(first.len(), 2, "nothing to record: a claim alone");
    let made: Vec<delivery::Recorded> = first
        .iter()
        .zip([Outcome::Succeeded, FAILED])
        .map(|(c, outcome)| delivery::Recorded {
            claimed: c.clone(),
            attempt: attempt(c, Some(if outcome == FAILED { 500 } else { 204 })),
            outcome,
            jitter: 0.0,
        })
        .collect();
    let (states, next) =
        delivery::record_and_claim(&db, &policy, &made, Some(Claim::new(now, lease, 10)))
            .await
            .unwrap();
    assert_eq!(states[0], Some(DeliveryState::Succeeded));
    assert!(
        matches!(states[1], Some(DeliveryState::Retry { at }) if at > now),
        "the failure is retried later: {:?}",
        states[1]
    );
    assert_eq!(
        next.len(),
        3,
        "the other three, none of the two just recorded"
    );
    assert!(
        next.iter().all(|n| first.iter().all(|f| f.id != n.id)),
        "a recorded delivery is not claimed again in the same transaction"
    );
    for c in &first {
        assert_eq!(db.attempts(&c.id).await.unwrap().len(), 1, "recorded");
    }
    assert!(
        db.claim_due(&Claim::new(now, lease, 10))
            .await
            .unwrap()
            .is_empty(),
        "the claim's leases were committed with the records"
    );
}
