//! `mobieus demo`: makes tenant `demo` with members, threads, posts and moderation (once:
//! running it again adds nothing), mints a fresh read-only key (revoking the one the
//! previous run printed), registers a webhook to a loopback receiver that checks every
//! signature (replacing the previous run's), sends it a test event, prints where to
//! look (and a `mobieus listen` line to forward events to a receiver of one's own), and
//! serves with the delivery worker.

use super::demo_receiver::{self, Receiver};
use super::{serve, worker};
use crate::Result;
use crate::cli::ServeArgs;
use crate::error::CliError;
use mobieus_core::accounts;
use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_core::keys::{self, KeyRequest};
use mobieus_core::resend;
use mobieus_core::url_guard::UrlGuard;
use mobieus_core::webhooks::{self, EndpointRequest};
use mobieus_domain::account::Password;
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::forum::{Email, PostBody, Reason, Role, Title, Username};
use mobieus_domain::scope::Scopes;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::webhook::{EndpointId, EventSelection};
use mobieus_store::{Store, TenantDb};

const KEY_NAME: &str = "demo read key";

const RECEIVER_LABEL: &str = "demo receiver";
/// The username of the demo's admin web account.
const DEMO_ADMIN: &str = "admin";

pub async fn run(store: Store, data_dir: &std::path::Path, mut args: ServeArgs) -> Result {
    let slug = TenantSlug::parse("demo").map_err(CliError::usage)?;
    if store.tenant(&slug).await?.is_none() {
        mobieus_core::tenants::create(&store, &slug, &[]).await?;
    }
    let db = store.tenant_db(&slug).await?;
    if db.users_page(0, 1).await?.items.is_empty() {
        seed(&db).await?;
    }
    for old in keys::list(&db)
        .await?
        .iter()
        .filter(|k| k.name == KEY_NAME && k.revoked_at.is_none())
    {
        keys::revoke(&db, old.id.as_str(), "demo").await?;
    }
    let scopes = Scopes::new(mobieus_domain::scope::Scope::READ).map_err(CliError::usage)?;
    let minted = keys::mint(
        &db,
        KeyRequest {
            actor: "demo".to_owned(),
            name: KEY_NAME.to_owned(),
            scopes,
            mode: KeyMode::Live,
            rate_limit: RateLimit::DEFAULT,
        },
    )
    .await?;
    // The receiver is on this machine, so the demo allows loopback targets (and says so).
    args.webhooks.webhook_allow_loopback = true;
    let guard = worker::guard(&args.webhooks);
    let receiver = demo_receiver::start().await?;
    let endpoint = register_receiver(&store, &db, &guard, &receiver).await?;
    resend::send_test(&db, &endpoint, None).await?;
    let listener = serve::bind(&args).await?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?
        .port();
    let admin_password = demo_admin(&db).await?;
    let key = minted.secret.expose();
    println!(
        "\nmobieus demo is running.\n\n  Forum:         http://demo.localhost:{port}/\n  Admin login:   http://demo.localhost:{port}/login  username {DEMO_ADMIN}, password {admin_password}\n                 (a new password each run)\n  API reference: http://demo.localhost:{port}/api/docs\n  Event feed:    curl -H 'Authorization: Bearer {key}' http://demo.localhost:{port}/api/v1/events\n\n  Read-only API key: {key}\n  (scopes {}; each run mints a new one and revokes the last)\n\n  Webhook endpoint {endpoint} -> {} (every event; a test event is on its way).\n  Make an event and watch it arrive, signed:\n    mobieus --data-dir {} forum --tenant demo thread create --author bob --title Hello --body 'Hi from the CLI'\n\n  Receive the events on your own machine, signed as webhooks are (see `mobieus listen --help`):\n    mobieus listen --url http://demo.localhost:{port} --key {key} --forward-to http://localhost:3000/hook\n\nPress Ctrl-C to stop.\n",
        minted.record.scopes.to_list(),
        receiver.url(),
        data_dir.display(),
    );
    serve::serve(store, listener, &args, guard).await
}

/// The demo's admin web account, with a new random password each run (only its hash is
/// kept, so the last run's cannot be shown again).
async fn demo_admin(db: &TenantDb) -> Result<String> {
    let password = mobieus_domain::random::base62(16);
    let typed = Password::parse(&password).map_err(CliError::usage)?;
    let username = name(DEMO_ADMIN)?;
    match accounts::set_password(db, &username, &typed).await {
        Ok(_) => {}
        Err(mobieus_core::CoreError::NotFound { .. }) => {
            accounts::create_admin(db, &username, &typed).await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(password)
}

/// Registers the receiver as an endpoint for every event, replacing earlier runs' (whose
/// receivers are gone), and hands it the secret.
async fn register_receiver(
    store: &Store,
    db: &TenantDb,
    guard: &UrlGuard,
    receiver: &Receiver,
) -> Result<EndpointId> {
    let mut after = 0;
    loop {
        let page = db.endpoints_page(after, 100).await?;
        for old in page
            .items
            .iter()
            .filter(|r| r.endpoint.label.as_deref() == Some(RECEIVER_LABEL))
        {
            webhooks::delete(db, &old.endpoint.id, "demo").await?;
        }
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    let created = webhooks::create(
        db,
        store.master_key(),
        EndpointRequest {
            url: guard.parse(&receiver.url()).map_err(CliError::usage)?,
            label: Some(RECEIVER_LABEL.to_owned()),
            events: EventSelection::All,
        },
        "demo",
        None,
    )
    .await?;
    let _ = receiver.secret.set(created.secret);
    Ok(created.endpoint.id)
}

fn name(s: &str) -> Result<Username> {
    Username::parse(s).map_err(CliError::usage)
}

fn by(s: &str) -> Result<Actor> {
    name(s).map(Actor::Username)
}

fn body(s: &str) -> Result<PostBody> {
    PostBody::parse(s).map_err(CliError::usage)
}

fn reason(s: &str) -> Result<Option<Reason>> {
    Reason::parse(s).map(Some).map_err(CliError::usage)
}

/// A small community with a little of everything, so every event type is in the feed.
async fn seed(db: &TenantDb) -> Result {
    for (user, email) in [
        ("ann", "ann@example.org"),
        ("bob", "bob@example.org"),
        ("cleo", "cleo@example.org"),
        ("dev", "dev@example.org"),
        ("spamalot", ""),
    ] {
        let email = (!email.is_empty())
            .then(|| Email::parse(email))
            .transpose()
            .map_err(CliError::usage)?;
        forum::join(db, &name(user)?, email.as_ref()).await?;
    }
    forum::set_role(db, &name("ann")?, Role::Admin).await?;
    forum::set_role(db, &name("cleo")?, Role::Moderator).await?;

    let welcome = forum::create_thread(
        db,
        &NewThread {
            author: by("ann")?,
            title: Title::parse("Welcome to the demo community").map_err(CliError::usage)?,
            body: body("Introduce yourself here. Every post is also an event in the public feed.")?,
        },
    )
    .await?
    .value;
    forum::reply(
        db,
        welcome.thread_id,
        &by("bob")?,
        &body("Hi all, Bob here: I sync this forum into our CRM.")?,
    )
    .await?;
    let dev_post = forum::reply(
        db,
        welcome.thread_id,
        &by("dev")?,
        &body("Dev here, building a dashbord.")?,
    )
    .await?
    .value;
    forum::edit_post(
        db,
        dev_post.id,
        &by("dev")?,
        &body("Dev here, building a dashboard on the event feed.")?,
    )
    .await?;

    let api = forum::create_thread(
        db,
        &NewThread {
            author: by("dev")?,
            title: Title::parse("How do I follow the event feed?").map_err(CliError::usage)?,
            body: body("Is there a way to read every event exactly once?")?,
        },
    )
    .await?
    .value;
    forum::reply(
        db,
        api.thread_id,
        &by("cleo")?,
        &body("Page through /api/v1/events with the cursor; it never skips or repeats.")?,
    )
    .await?;
    let oops = forum::reply(
        db,
        api.thread_id,
        &by("bob")?,
        &body("Posted in the wrong thread, sorry.")?,
    )
    .await?
    .value;
    forum::delete_post(db, oops.id, &by("bob")?).await?;

    let spam = forum::reply(
        db,
        welcome.thread_id,
        &by("spamalot")?,
        &body("Cheap watches at example.com!!!")?,
    )
    .await?
    .value;
    forum::remove_post(db, spam.id, &by("cleo")?, reason("spam")?.as_ref()).await?;
    forum::ban(
        db,
        &name("spamalot")?,
        &by("cleo")?,
        reason("spam links")?.as_ref(),
    )
    .await?;
    forum::lock_thread(
        db,
        api.thread_id,
        &by("cleo")?,
        reason("answered")?.as_ref(),
    )
    .await?;
    forum::unlock_thread(
        db,
        api.thread_id,
        &by("ann")?,
        reason("more questions came in")?.as_ref(),
    )
    .await?;
    forum::unban(
        db,
        &name("spamalot")?,
        &by("ann")?,
        reason("promised to behave")?.as_ref(),
    )
    .await?;
    forum::leave(db, &Actor::Username(name("spamalot")?)).await?;
    Ok(())
}
