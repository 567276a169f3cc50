//! The forum pages over real HTTP: threads, replies, editing and deleting one's own posts,
//! moderation; each action's event in the feed, as the CLI's would be; refusals shown on
//! the page with nothing changed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_domain::forum::Role;
use mobieus_testkit::browser::Browser;
use mobieus_testkit::{TestApp, fixtures};

const PASSWORD: &str = "correct horse battery";

async fn member<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let b = Browser::new(app, "alpha");
    b.get("/register").await;
    b.submit(
        "/register",
        &[
            ("username", username),
            ("email", ""),
            ("password", PASSWORD),
        ],
    )
    .await
    .assert_status(303);
    b
}

/// The number in a `Location` like `/t/3` or `/t/3#p7`.
fn ids_in(location: &str) -> (i64, Option<i64>) {
    let rest = location.strip_prefix("/t/").expect("a thread's address");
    let (thread, post) = rest
        .split_once("#p")
        .map_or((rest, None), |(t, p)| (t, Some(p)));
    (thread.parse().unwrap(), post.map(|p| p.parse().unwrap()))
}

async fn open_thread(b: &Browser<'_>, title: &str, body: &str) -> i64 {
    b.get("/new").await.assert_status(200);
    let r = b.submit("/new", &[("title", title), ("body", body)]).await;
    r.assert_status(303);
    ids_in(r.header("location").unwrap()).0
}

#[tokio::test]
async fn a_member_posts_replies_edits_and_deletes_and_each_is_an_event() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let ann = member(&app, "ann").await;
    let thread = open_thread(
        &ann,
        "Hello <world>",
        "First post <script>alert(1)</script>",
    )
    .await;

    let page = ann.get(&format!("/t/{thread}")).await;
    page.assert_status(200);
    // Text is shown as text: nothing a member writes becomes markup.
    assert!(page.text.contains("Hello &lt;world&gt;"));
    assert!(
        page.text
            .contains("First post &lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!page.text.contains("<script>"));

    let r = ann
        .submit(&format!("/t/{thread}/reply"), &[("body", "A reply")])
        .await;
    r.assert_status(303);
    let (_, reply) = ids_in(r.header("location").unwrap());
    let reply = reply.expect("the reply's anchor");

    let edit = ann.get(&format!("/p/{reply}/edit")).await;
    edit.assert_status(200);
    assert!(edit.text.contains(">A reply</textarea>"));
    ann.submit(&format!("/p/{reply}/edit"), &[("body", "A better reply")])
        .await
        .assert_status(303);
    ann.submit(&format!("/p/{reply}/delete"), &[])
        .await
        .assert_status(303);

    let page = ann.get(&format!("/t/{thread}")).await;
    assert!(page.text.contains("Deleted by its author."));
    assert!(!page.text.contains("A better reply"));
    assert_eq!(
        fixtures::event_types(&db).await,
        [
            "user.joined",
            "post.created",
            "post.created",
            "post.edited",
            "post.deleted"
        ]
    );
    let list = ann.get("/").await;
    assert!(list.text.contains(&format!("href=\"/t/{thread}\"")));
    assert!(
        list.text.contains("1 post"),
        "one visible post left: {}",
        list.text
    );
}

#[tokio::test]
async fn empty_posts_are_refused_on_the_page_and_nothing_is_written() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let ann = member(&app, "ann").await;
    ann.get("/new").await;
    let r = ann.submit("/new", &[("title", ""), ("body", "  ")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.text.matches("class=\"field-error\"").count(),
        2,
        "{}",
        r.text
    );
    let thread = open_thread(&ann, "Title", "Body").await;
    let r = ann
        .submit(&format!("/t/{thread}/reply"), &[("body", "")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text.contains("class=\"field-error\""));
    assert_eq!(
        fixtures::event_types(&db).await,
        ["user.joined", "post.created"]
    );
}

#[tokio::test]
async fn another_members_post_cannot_be_edited_or_deleted() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let ann = member(&app, "ann").await;
    let thread = open_thread(&ann, "Mine", "My words").await;
    let post = db
        .posts_page(Default::default(), 0, 10)
        .await
        .unwrap()
        .items[0]
        .id
        .0;
    let bob = member(&app, "bob").await;
    let page = bob.get(&format!("/t/{thread}")).await;
    assert!(
        !page.text.contains(&format!("/p/{post}/edit")),
        "no edit link for bob"
    );
    assert_eq!(bob.get(&format!("/p/{post}/edit")).await.status(), 403);
    let r = bob
        .submit(&format!("/p/{post}/edit"), &[("body", "Bob's words")])
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        r.text
            .contains("You are not allowed to change another member")
    );
    assert_eq!(
        bob.submit(&format!("/p/{post}/delete"), &[]).await.status(),
        403
    );
    // Members may not moderate either.
    assert_eq!(
        bob.submit(&format!("/p/{post}/remove"), &[]).await.status(),
        403
    );
    assert_eq!(
        bob.submit(&format!("/t/{thread}/lock"), &[]).await.status(),
        403
    );
    let types = fixtures::event_types(&db).await;
    assert_eq!(types, ["user.joined", "post.created", "user.joined"]);
}

#[tokio::test]
async fn moderators_remove_lock_and_ban_from_the_pages() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    let ann = member(&app, "ann").await;
    let thread = open_thread(&ann, "Spam inside", "Buy now").await;
    let post = db
        .posts_page(Default::default(), 0, 10)
        .await
        .unwrap()
        .items[0]
        .id
        .0;
    fixtures::join_as(&db, "cleo", Role::Moderator).await;
    mobieus_core::accounts::set_password(
        &db,
        &mobieus_domain::forum::Username::parse("cleo").unwrap(),
        &mobieus_domain::account::Password::parse(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    let cleo = Browser::new(&app, "alpha");
    cleo.get("/login").await;
    cleo.submit("/login", &[("username", "cleo"), ("password", PASSWORD)])
        .await
        .assert_status(303);

    let page = cleo.get(&format!("/t/{thread}")).await;
    assert!(page.text.contains(&format!("/p/{post}/remove")));
    cleo.submit(&format!("/p/{post}/remove"), &[("reason", "spam")])
        .await
        .assert_status(303);
    cleo.submit(&format!("/t/{thread}/lock"), &[])
        .await
        .assert_status(303);
    let ann_id = db.users_page(0, 10).await.unwrap().items[0].id.0;
    cleo.submit(
        &format!("/u/{ann_id}/ban"),
        &[("back", &format!("/t/{thread}"))],
    )
    .await
    .assert_status(303);

    let page = ann.get(&format!("/t/{thread}")).await;
    assert!(page.text.contains("Removed by a moderator."));
    assert!(page.text.contains("This thread is locked."));
    let r = ann
        .submit(&format!("/t/{thread}/reply"), &[("body", "Let me in")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text.contains("is locked"), "{}", r.text);
    assert!(r.text.contains("role=\"alert\""), "{}", r.text);
    let new = ann
        .submit("/new", &[("title", "Again"), ("body", "Buy now")])
        .await;
    assert_eq!(
        new.status(),
        422,
        "a banned member cannot open threads: {}",
        new.text
    );
    assert_eq!(
        fixtures::event_types(&db).await,
        [
            "user.joined",
            "post.created",
            "user.joined",
            "moderation.post_removed",
            "moderation.thread_locked",
            "moderation.user_banned"
        ]
    );
}

#[tokio::test]
async fn logged_out_visitors_read_but_are_sent_to_log_in_to_write() {
    let app = TestApp::start().await;
    let db = app.tenant("alpha").await;
    fixtures::join(&db, "ann").await;
    let thread = fixtures::open_thread(&db, "ann", "Public", "Everyone may read this").await;
    let visitor = Browser::new(&app, "alpha");
    let page = visitor.get(&format!("/t/{}", thread.thread_id.0)).await;
    page.assert_status(200);
    assert!(page.text.contains("Everyone may read this"));
    assert!(page.text.contains("to reply."));
    // A form with a good token, but no session: to the login page and back.
    visitor.get("/login").await;
    let r = visitor
        .submit(
            &format!("/t/{}/reply", thread.thread_id.0),
            &[("body", "hi")],
        )
        .await;
    r.assert_status(303);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/login?next=%2Ft%2F{}", thread.thread_id.0)
    );
    assert_eq!(visitor.get("/t/999").await.status(), 404);
    assert_eq!(visitor.get("/t/abc").await.status(), 404);
    let events = fixtures::event_types(&db).await;
    assert_eq!(events, ["user.joined", "post.created"]);
}
