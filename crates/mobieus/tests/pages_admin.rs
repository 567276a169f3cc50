//! The admin console over real HTTP, with the in-process worker and a real HTTPS receiver
//! on loopback: who may open it, minting and revoking keys (the key shown once and working
//! on the API), registering an endpoint, sending a test, reading the delivery with its
//! signatures, replaying it, rotating the secret, editing and disabling in place, the
//! health card and the audit log; bad input re-rendered with nothing changed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_core::accounts;
use mobieus_domain::account::Password;
use mobieus_domain::forum::Username;
use mobieus_testkit::browser::Browser;
use mobieus_testkit::receiver::Receiver;
use mobieus_testkit::{TestApp, TestOptions};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(10);

async fn logged_in<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let b = Browser::new(app, "alpha");
    b.get("/login").await;
    b.submit("/login", &[("username", username), ("password", PASSWORD)])
        .await
        .assert_status(303);
    b
}

async fn admin<'a>(app: &'a TestApp) -> Browser<'a> {
    let db = app.tenant("alpha").await;
    let name = Username::parse("root").unwrap();
    accounts::create_admin(&db, &name, &Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    logged_in(app, "root").await
}

/// The text of the element `<code id="…">` of a page.
fn code_by_id(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\">")).expect("the element") + id.len() + 6;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn only_admins_open_the_console() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let visitor = Browser::new(&app, "alpha");
    let r = visitor.get("/admin/webhooks").await;
    r.assert_status(303);
    assert_eq!(
        r.header("location"),
        Some("/login?next=%2Fadmin%2Fwebhooks")
    );

    mobieus_testkit::fixtures::join(&db, "ann").await;
    accounts::set_password(
        &db,
        &Username::parse("ann").unwrap(),
        &Password::parse(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    let member = logged_in(&app, "ann").await;
    for path in [
        "/admin",
        "/admin/api-keys",
        "/admin/webhooks",
        "/admin/audit",
    ] {
        let r = member.get(path).await;
        assert_eq!(r.status(), 403, "{path}");
        assert!(
            r.text
                .contains("You are not allowed to open the admin console.")
        );
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    assert!(!member.get("/").await.text.contains("href=\"/admin\""));
    let root = admin(&app).await;
    assert!(root.get("/").await.text.contains("href=\"/admin\""));
    let dash = root.get("/admin").await;
    dash.assert_status(200);
    for text in [
        "Success rate, last 24 h",
        "Green from 99 %",
        "Oldest pending delivery",
        "Disabled endpoints",
        "no attempts",
    ] {
        assert!(dash.text.contains(text), "{text}");
    }
}

#[tokio::test]
async fn an_admin_mints_a_key_sees_it_once_and_revokes_it() {
    let app = TestApp::start().await;
    let root = admin(&app).await;
    root.get("/admin/api-keys").await.assert_status(200);
    let r = root
        .submit(
            "/admin/api-keys",
            &[
                ("name", "crm-sync"),
                ("scopes", "events:read"),
                ("scopes", "users:read"),
                ("rate_limit", "120"),
            ],
        )
        .await;
    r.assert_status(200);
    assert!(r.text.contains("It is shown only once"));
    let key = code_by_id(&r.text, "new-key");
    assert!(key.starts_with("mc_live_"), "{key}");
    let api = app
        .get("alpha.localhost", "/api/v1/events", Some(&key))
        .await;
    api.assert_status(200);
    assert_eq!(api.header("ratelimit-policy"), Some("\"key\";q=120;w=60"));

    let list = root.get("/admin/api-keys").await;
    assert!(list.text.contains("crm-sync"));
    assert!(list.text.contains("events:read, users:read"));
    assert!(!list.text.contains(&key), "the list never shows the key");
    let id_at = list.text.find("/admin/api-keys/key_").unwrap() + "/admin/api-keys/".len();
    let id = &list.text[id_at..id_at + list.text[id_at..].find('/').unwrap()];
    let confirm = root.get(&format!("/admin/api-keys/{id}/revoke")).await;
    assert!(confirm.text.contains("Revoke “crm-sync”?"));
    root.submit(&format!("/admin/api-keys/{id}/revoke"), &[])
        .await
        .assert_status(303);
    app.get("alpha.localhost", "/api/v1/events", Some(&key))
        .await
        .assert_status(401);
    let audit = root.get("/admin/audit?action=api_key.revoked").await;
    assert!(audit.text.contains("admin:root"));
    assert!(audit.text.contains("1 entries"));
}

#[tokio::test]
async fn bad_key_forms_are_shown_again_with_the_reasons() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let root = admin(&app).await;
    root.get("/admin/api-keys").await;
    let r = root
        .submit("/admin/api-keys", &[("name", ""), ("rate_limit", "0")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text.contains("give a name of 1–100 characters"));
    assert!(r.text.contains("pick at least one scope"));
    assert!(
        r.text
            .contains("a whole number of requests per minute, from 1")
    );
    assert!(db.api_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_admin_registers_tests_reads_replays_rotates_and_edits_a_webhook() {
    let receiver = Receiver::https().await;
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering("0s", Some(&ca))).await;
    let db = app.tenant("alpha").await;
    let root = admin(&app).await;

    // Unsafe and malformed input first: shown again, nothing registered.
    root.get("/admin/webhooks/new").await.assert_status(200);
    let r = root
        .submit(
            "/admin/webhooks",
            &[("url", "https://10.0.0.1/hook"), ("label", "x")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text.contains("this URL may not receive webhooks"),
        "{}",
        r.text
    );
    assert!(r.text.contains("pick at least one event"));
    assert!(db.endpoints_page(0, 10).await.unwrap().items.is_empty());

    let url = receiver.url("/hook");
    let r = root
        .submit(
            "/admin/webhooks",
            &[
                ("url", &url),
                ("label", "CRM"),
                ("events", "post.created"),
                ("events", "user.joined"),
            ],
        )
        .await;
    r.assert_status(200);
    let secret = code_by_id(&r.text, "new-secret");
    assert!(secret.starts_with("whsec_"));
    let ep_at = r.text.find("/admin/webhooks/ep_").unwrap() + "/admin/webhooks/".len();
    let ep = r.text[ep_at..ep_at + 23].to_owned();

    // A test, signed with the secret shown.
    root.get(&format!("/admin/webhooks/{ep}")).await;
    root.submit(&format!("/admin/webhooks/{ep}/test"), &[])
        .await
        .assert_status(303);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("mobieus-event"), "webhook.test");
    got[0].assert_signed_with(&secret);

    // The delivery page shows the payload and the headers as sent.
    let mut page = root.get(&format!("/admin/webhooks/{ep}")).await;
    for _ in 0..50 {
        if page.text.contains("succeeded</span>") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        page = root.get(&format!("/admin/webhooks/{ep}")).await;
    }
    let d_at = page.text.find("/deliveries/dlv_").unwrap() + "/deliveries/".len();
    let delivery = page.text[d_at..d_at + 24].to_owned();
    let shown = root
        .get(&format!("/admin/webhooks/{ep}/deliveries/{delivery}"))
        .await;
    shown.assert_status(200);
    assert!(shown.text.contains("mobieus-signature"));
    assert!(shown.text.contains(got[0].header("mobieus-signature")));
    assert!(shown.text.contains("HTTP 200"));
    assert!(shown.text.contains("webhook.test"));
    // The payload is shown as the exact bytes sent.
    let body = std::str::from_utf8(&got[0].body).unwrap();
    let escaped = body
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(shown.text.contains(&escaped), "the payload as sent: {body}");

    // Replay: the same event again, as a new delivery.
    let r = root
        .submit(
            &format!("/admin/webhooks/{ep}/deliveries/{delivery}/replay"),
            &[],
        )
        .await;
    r.assert_status(303);
    let again = receiver.wait_for(2, WAIT).await;
    assert_eq!(again[1].header("webhook-id"), got[0].header("webhook-id"));
    assert_ne!(
        again[1].header("mobieus-delivery-id"),
        got[0].header("mobieus-delivery-id")
    );

    // Rotation: the new secret shown once; with a grace period both sign.
    root.get(&format!("/admin/webhooks/{ep}")).await;
    let r = root
        .submit(
            &format!("/admin/webhooks/{ep}/rotate"),
            &[("grace", "3600")],
        )
        .await;
    r.assert_status(200);
    let new_secret = code_by_id(&r.text, "new-secret");
    assert_ne!(new_secret, secret);
    root.get(&format!("/admin/webhooks/{ep}")).await;
    root.submit(&format!("/admin/webhooks/{ep}/test"), &[])
        .await;
    let third = receiver.wait_for(3, WAIT).await;
    third[2].assert_signed_with(&new_secret);
    third[2].assert_signed_with(&secret);

    // Edit in place: the label and the events; then disable and enable.
    root.get(&format!("/admin/webhooks/{ep}")).await;
    root.submit(
        &format!("/admin/webhooks/{ep}"),
        &[("url", &url), ("label", "CRM sync"), ("all_events", "yes")],
    )
    .await
    .assert_status(303);
    let record = db
        .endpoint_by_id(&mobieus_domain::webhook::EndpointId::parse(&ep).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.endpoint.label.as_deref(), Some("CRM sync"));
    assert_eq!(record.endpoint.events.to_list(), "*");
    root.get(&format!("/admin/webhooks/{ep}")).await;
    root.submit(&format!("/admin/webhooks/{ep}/disable"), &[])
        .await
        .assert_status(303);
    let list = root.get("/admin/webhooks").await;
    assert!(list.text.contains("disabled"));
    let refused = root
        .submit(&format!("/admin/webhooks/{ep}/test"), &[])
        .await;
    assert_eq!(refused.status(), 422, "no test to a disabled endpoint");
    root.submit(&format!("/admin/webhooks/{ep}/enable"), &[])
        .await
        .assert_status(303);

    let audit = root.get("/admin/audit").await;
    for action in [
        "endpoint.created",
        "endpoint.secret_rotated",
        "endpoint.updated",
    ] {
        assert!(audit.text.contains(action), "{action}");
    }
    let dash = root.get("/admin").await;
    assert!(dash.text.contains("100.0 %"), "every attempt succeeded");
}

#[tokio::test]
async fn recovery_takes_a_time_and_says_what_it_queued() {
    let receiver = Receiver::https().await;
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering("0s", Some(&ca))).await;
    let root = admin(&app).await;
    root.get("/admin/webhooks/new").await;
    let r = root
        .submit(
            "/admin/webhooks",
            &[("url", &receiver.url("/hook")), ("all_events", "yes")],
        )
        .await;
    r.assert_status(200);
    let ep_at = r.text.find("/admin/webhooks/ep_").unwrap() + "/admin/webhooks/".len();
    let ep = r.text[ep_at..ep_at + 23].to_owned();
    root.get(&format!("/admin/webhooks/{ep}")).await;
    let bad = root
        .submit(
            &format!("/admin/webhooks/{ep}/recover"),
            &[("since", "yesterday")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text
            .contains("give the time to recover from (UTC)</span>"),
        "{}",
        bad.text
    );
    let future = root
        .submit(
            &format!("/admin/webhooks/{ep}/recover"),
            &[("since", "2999-01-01T00:00")],
        )
        .await;
    assert_eq!(future.status(), 422, "since after now");
    let ok = root
        .submit(
            &format!("/admin/webhooks/{ep}/recover"),
            &[("since", "2026-01-01T00:00")],
        )
        .await;
    ok.assert_status(200);
    assert!(
        ok.text
            .contains("0 failed deliveries since 2026-01-01T00:00:00.000Z queued again."),
        "{}",
        ok.text
    );
    let audit = root.get("/admin/audit?action=endpoint.recovered").await;
    assert!(audit.text.contains("1 entries"));
}

#[tokio::test]
async fn the_test_button_sends_the_event_type_chosen() {
    let receiver = Receiver::https().await;
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering("0s", Some(&ca))).await;
    let root = admin(&app).await;
    root.get("/admin/webhooks/new").await;
    let r = root
        .submit(
            "/admin/webhooks",
            &[("url", &receiver.url("/hook")), ("events", "user.joined")],
        )
        .await;
    r.assert_status(200);
    let secret = code_by_id(&r.text, "new-secret");
    let ep_at = r.text.find("/admin/webhooks/ep_").unwrap() + "/admin/webhooks/".len();
    let ep = r.text[ep_at..ep_at + 23].to_owned();

    // The picker offers `webhook.test` first, chosen, then every catalog type.
    let page = root.get(&format!("/admin/webhooks/{ep}")).await;
    let select = &page.text[page.text.find("name=\"event_type\"").expect("a picker")..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(
        select.contains(r#"<option value="webhook.test" "#) && select.contains("selected"),
        "{select}"
    );
    for info in mobieus_domain::event::EventType::CATALOG {
        assert!(
            select.contains(&format!("value=\"{}\"", info.name)),
            "{select}"
        );
    }

    // A type the endpoint does not subscribe to is sent all the same, flagged as a test.
    root.submit(
        &format!("/admin/webhooks/{ep}/test"),
        &[("event_type", "moderation.thread_locked")],
    )
    .await
    .assert_status(303);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("mobieus-event"), "moderation.thread_locked");
    assert_eq!(got[0].json()["test"], true);
    got[0].assert_signed_with(&secret);

    // An unknown type is refused and sends nothing.
    root.get(&format!("/admin/webhooks/{ep}")).await;
    let bad = root
        .submit(
            &format!("/admin/webhooks/{ep}/test"),
            &[("event_type", "post.published")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    receiver
        .assert_stays_at(1, Duration::from_millis(500))
        .await;
}
