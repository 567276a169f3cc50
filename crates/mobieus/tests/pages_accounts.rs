//! Accounts in the browser, over real HTTP: registering (`user.joined`), logging in and
//! out, leaving (`user.left`), the CSRF check on every form, the login throttle, and what
//! is (not) stored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_core::accounts;
use mobieus_domain::account::Password;
use mobieus_domain::forum::Username;
use mobieus_testkit::browser::Browser;
use mobieus_testkit::{TestApp, files_containing, fixtures};

const PASSWORD: &str = "correct horse battery";

async fn registered<'a>(app: &'a TestApp, slug: &str, username: &str) -> Browser<'a> {
    let b = Browser::new(app, slug);
    b.get("/register").await.assert_status(200);
    let r = b
        .submit(
            "/register",
            &[
                ("username", username),
                ("email", "ann@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", r.text);
    b
}

#[tokio::test]
async fn a_visitor_registers_is_logged_in_and_logs_out() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let b = registered(&app, "alpha", "ann").await;
    let session = b.cookie("mobieus_session").expect("a session cookie");
    assert_eq!(fixtures::event_types(&db).await, ["user.joined"]);

    let home = b.get("/").await;
    home.assert_status(200);
    assert!(home.text.contains(">ann</a>"), "{}", home.text);
    assert!(home.text.contains("Log out"));
    let account = b.get("/account").await;
    account.assert_status(200);
    assert!(account.text.contains("ann@example.org"));

    let out = b.submit("/logout", &[]).await;
    out.assert_status(303);
    assert!(b.cookie("mobieus_session").is_none());
    // The old token is dead on the server, not only forgotten by the browser.
    let stolen = app
        .request(
            reqwest::Method::GET,
            "alpha.localhost",
            "/account",
            None,
            &[("cookie", &format!("mobieus_session={session}"))],
        )
        .await;
    stolen.assert_status(303);
    assert_eq!(stolen.header("location"), Some("/login?next=%2Faccount"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let b = Browser::new(&app, "alpha");
    b.get("/register").await;
    let r = b
        .submit(
            "/register",
            &[("username", "ann"), ("email", ""), ("password", PASSWORD)],
        )
        .await;
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("mobieus_session="))
        .expect("the session cookie is set");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Domain="), "host-only: {set}");
}

#[tokio::test]
async fn bad_registrations_show_the_reason_beside_the_field_and_change_nothing() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let b = Browser::new(&app, "alpha");
    b.get("/register").await;
    for (fields, message) in [
        (
            [("username", "ann"), ("email", ""), ("password", "short")],
            "must be at least 10 characters",
        ),
        (
            [("username", "-ann"), ("email", ""), ("password", PASSWORD)],
            "role=\"alert\">use 1-32 letters",
        ),
        (
            [
                ("username", "ann"),
                ("email", "not-an-address"),
                ("password", PASSWORD),
            ],
            "field-error",
        ),
    ] {
        let r = b.submit("/register", &fields).await;
        assert_eq!(r.status(), 422, "{fields:?}");
        assert!(r.text.contains(message), "{fields:?}: {}", r.text);
        assert!(r.text.contains("class=\"field-error\""));
        // What was typed stays in the form, except the password.
        assert!(r.text.contains(&format!("value=\"{}\"", fields[0].1)));
        assert!(!r.text.contains(PASSWORD));
    }
    assert!(db.users_page(0, 10).await.unwrap().items.is_empty());
    assert!(fixtures::event_types(&db).await.is_empty());

    registered(&app, "alpha", "ann").await;
    let b = Browser::new(&app, "alpha");
    b.get("/register").await;
    let taken = b
        .submit(
            "/register",
            &[("username", "ANN"), ("email", ""), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(taken.text.contains("this username is taken"));
    assert_eq!(fixtures::event_types(&db).await, ["user.joined"]);
}

#[tokio::test]
async fn a_member_logs_in_and_is_sent_back_where_they_were() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    registered(&app, "alpha", "ann").await;
    let b = Browser::new(&app, "alpha");
    let r = b.get("/new").await;
    r.assert_status(303);
    assert_eq!(r.header("location"), Some("/login?next=%2Fnew"));
    let form = b.get("/login?next=%2Fnew").await;
    assert!(form.text.contains(r#"name="next" value="/new""#));
    let r = b
        .submit(
            "/login",
            &[
                ("username", "Ann"),
                ("password", PASSWORD),
                ("next", "/new"),
            ],
        )
        .await;
    r.assert_status(303);
    assert_eq!(r.header("location"), Some("/new"));
    b.get("/new").await.assert_status(200);

    // `next` never leads off the site.
    let c = Browser::new(&app, "alpha");
    c.get("/login").await;
    let r = c
        .submit(
            "/login",
            &[
                ("username", "ann"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/"));
}

#[tokio::test]
async fn wrong_passwords_are_refused_alike_and_throttled_after_five() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    registered(&app, "alpha", "ann").await;
    let b = Browser::new(&app, "alpha");
    b.get("/login").await;
    let unknown = b
        .submit("/login", &[("username", "nobody"), ("password", PASSWORD)])
        .await;
    assert_eq!(unknown.status(), 422);
    assert!(unknown.text.contains("Wrong username or password."));
    for _ in 0..5 {
        let r = b
            .submit(
                "/login",
                &[("username", "ann"), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(r.status(), 422);
        assert!(r.text.contains("Wrong username or password."));
        assert!(b.cookie("mobieus_session").is_none());
    }
    // Locked now, even with the right password.
    let r = b
        .submit("/login", &[("username", "ann"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 429, "{}", r.text);
    assert!(
        r.text
            .contains("Too many failed logins. Try again in 15 minutes.")
    );
    assert!(b.cookie("mobieus_session").is_none());
    // Another name from the same address is not locked.
    registered(&app, "alpha", "bob").await;
}

#[tokio::test]
async fn forms_without_the_right_token_or_from_another_site_are_403_and_change_nothing() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let b = Browser::new(&app, "alpha");
    b.get("/register").await;
    let fields = [("username", "ann"), ("email", ""), ("password", PASSWORD)];
    let missing = b.post_form("/register", &fields, &[]).await;
    assert_eq!(missing.status(), 403);
    assert!(missing.text.contains("Form expired"), "{}", missing.text);
    let mut wrong = fields.to_vec();
    wrong.push(("_csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_eq!(b.post_form("/register", &wrong, &[]).await.status(), 403);
    let token = b
        .cookie("mobieus_csrf")
        .expect("a CSRF cookie for visitors");
    let mut right = fields.to_vec();
    right.push(("_csrf", &token));
    let cross_site = b
        .post_form("/register", &right, &[("origin", "http://evil.example")])
        .await;
    assert_eq!(cross_site.status(), 403);
    // A visitor without the cookie cannot borrow another's token.
    let stranger = Browser::new(&app, "alpha");
    assert_eq!(
        stranger.post_form("/register", &right, &[]).await.status(),
        403
    );
    assert!(db.users_page(0, 10).await.unwrap().items.is_empty());

    // Logged in, the session's own token is the one that counts.
    let member = registered(&app, "alpha", "ann").await;
    assert_eq!(
        member
            .post_form("/logout", &[("_csrf", &token)], &[])
            .await
            .status(),
        403
    );
    assert!(member.cookie("mobieus_session").is_some());
}

#[tokio::test]
async fn a_member_leaves_and_their_sessions_end() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let b = registered(&app, "alpha", "ann").await;
    let other = Browser::new(&app, "alpha");
    other.get("/login").await;
    other
        .submit("/login", &[("username", "ann"), ("password", PASSWORD)])
        .await
        .assert_status(303);
    b.get("/account").await;
    let unconfirmed = b.submit("/account/leave", &[]).await;
    assert_eq!(unconfirmed.status(), 422);
    assert!(
        unconfirmed.text.contains("to confirm</span>"),
        "beside the box: {}",
        unconfirmed.text
    );
    assert_eq!(fixtures::event_types(&db).await, ["user.joined"]);
    let r = b.submit("/account/leave", &[("confirm", "yes")]).await;
    r.assert_status(303);
    assert_eq!(
        fixtures::event_types(&db).await,
        ["user.joined", "user.left"]
    );
    // Both browsers are logged out; the name is free again.
    other.get("/account").await.assert_status(303);
    b.get("/account").await.assert_status(303);
    registered(&app, "alpha", "ann").await;
}

#[tokio::test]
async fn neither_passwords_nor_session_tokens_are_stored() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let b = registered(&app, "alpha", "ann").await;
    let token = b.cookie("mobieus_session").unwrap();
    assert!(files_containing(app.data_dir(), PASSWORD).is_empty());
    assert!(files_containing(app.data_dir(), &token).is_empty());
}

#[tokio::test]
async fn an_admin_made_by_the_operator_logs_in() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let name = Username::parse("root").unwrap();
    let admin = accounts::create_admin(&db, &name, &Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    assert_eq!(admin.value.role.as_str(), "admin");
    let b = Browser::new(&app, "alpha");
    b.get("/login").await;
    b.submit("/login", &[("username", "root"), ("password", PASSWORD)])
        .await
        .assert_status(303);
    assert!(b.get("/account").await.text.contains("admin"));
}

#[tokio::test]
async fn members_without_a_password_cannot_log_in() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    fixtures::join(&db, "apiuser").await;
    let b = Browser::new(&app, "alpha");
    b.get("/login").await;
    let r = b
        .submit("/login", &[("username", "apiuser"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn pages_of_an_unknown_host_are_an_html_404() {
    let app = TestApp::start().await;
    let r = app.get("nowhere.localhost", "/", None).await;
    r.assert_status(404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("There is no such forum at this address."));
}
