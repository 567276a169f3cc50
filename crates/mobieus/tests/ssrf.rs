//! The SSRF guard end to end, through the real API and the real delivery worker.
//!
//! - Registration (`POST` and `PATCH /api/v1/webhooks`, loopback refused as in
//!   production): every unsafe URL form (scheme, credentials, port 0, IP literals in
//!   every notation the URL parser reads, IPv6 forms that embed an IPv4 address, private
//!   zones, and names whose answers include a denied address) is a `422
//!   unsafe_webhook_url` naming the rule, and nothing is stored or changed.
//! - Delivery: an unsafe URL that got into the database anyway is refused by the worker
//!   at the attempt: a failed attempt whose error names the refusal, no response, and no
//!   TCP connection to the loopback port it points at.
//! - Rebinding: a name that resolved to a public address at registration and resolves to
//!   loopback at delivery is never connected to.
//! - A name that does not resolve at registration is accepted; its deliveries fail (an
//!   error, not a panic) without connecting, then go out once it resolves. Under the
//!   loopback allowance a `localhost` name with one non-loopback answer is refused whole.
//!
//! Nothing here connects anywhere but loopback: the test resolver ([`FakeDns`]) is the
//! only one, and no name it is told resolves to a public address while a delivery to that
//! name could be attempted. Where a guard bypass would connect, it would connect to a
//! [`Tripwire`] (a loopback listener that counts TCP connections) or the HTTPS receiver.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_domain::webhook::LoopbackPolicy;
use mobieus_testkit::dns::FakeDns;
use mobieus_testkit::receiver::Receiver;
use mobieus_testkit::{TestApp, TestOptions, TestResponse, fixtures};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const HOST: &str = "alpha.localhost";
const WAIT: Duration = Duration::from_secs(10);
/// A URL that passes the rules and does not resolve in the test DNS: accepted, and
/// never connected to.
const GOOD: &str = "https://hooks.example.com/in";

/// A loopback TCP listener (127.0.0.1, and ::1 on the same port when the host has it)
/// that accepts, counts and drops every connection: any connection the worker makes to
/// it shows, whatever TLS name it would have asked for.
struct Tripwire {
    port: u16,
    hits: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<()>>,
}

impl Tripwire {
    async fn start() -> Self {
        let v4 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = v4.local_addr().unwrap().port();
        let mut listeners = vec![v4];
        if let Ok(v6) = TcpListener::bind(("::1", port)).await {
            listeners.push(v6);
        }
        let hits = Arc::new(AtomicUsize::new(0));
        let tasks = listeners
            .into_iter()
            .map(|l| {
                let hits = hits.clone();
                tokio::spawn(async move {
                    while let Ok((stream, _)) = l.accept().await {
                        hits.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                })
            })
            .collect();
        Self { port, hits, tasks }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn key(app: &TestApp) -> String {
    app.key("alpha", "webhooks:read,webhooks:manage", 6000)
        .await
}

async fn create(app: &TestApp, key: &str, url: &str, events: &[&str]) -> TestResponse {
    let body = json!({ "url": url, "events": events }).to_string();
    app.post(HOST, "/api/v1/webhooks", Some(key), &body).await
}

/// Registers an endpoint; returns its id.
async fn register(app: &TestApp, key: &str, url: &str, events: &[&str]) -> String {
    let created = create(app, key, url, events).await;
    created.assert_status(201);
    created.data()["id"].as_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, key: &str, id: &str, body: &Value) -> TestResponse {
    app.send(
        reqwest::Method::PATCH,
        HOST,
        &format!("/api/v1/webhooks/{id}"),
        Some(key),
        &[("content-type", "application/json")],
        Some(&body.to_string()),
    )
    .await
}

async fn endpoints(app: &TestApp, key: &str) -> Vec<Value> {
    let list = app.get(HOST, "/api/v1/webhooks", Some(key)).await;
    list.assert_status(200);
    list.items().to_vec()
}

async fn endpoint(app: &TestApp, key: &str, id: &str) -> Value {
    let one = app
        .get(HOST, &format!("/api/v1/webhooks/{id}"), Some(key))
        .await;
    one.assert_status(200);
    one.data().clone()
}

/// Waits until the endpoint's only delivery has at least `attempts` attempts recorded;
/// returns it with `attempts_made`.
async fn wait_attempts(app: &TestApp, key: &str, ep: &str, attempts: usize) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = app
            .get(
                HOST,
                &format!("/api/v1/webhooks/{ep}/deliveries"),
                Some(key),
            )
            .await;
        list.assert_status(200);
        assert!(
            list.items().len() <= 1,
            "one event, one delivery: {}",
            list.text
        );
        if let Some(d) = list.items().first() {
            let id = d["id"].as_str().unwrap();
            let one = app
                .get(
                    HOST,
                    &format!("/api/v1/webhooks/{ep}/deliveries/{id}"),
                    Some(key),
                )
                .await;
            one.assert_status(200);
            let d = one.data().clone();
            if d["attempts_made"].as_array().unwrap().len() >= attempts {
                return d;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{ep} has no delivery with {attempts} attempt(s): {}",
            list.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the delivery of `ep` has `status`.
async fn wait_status(app: &TestApp, key: &str, ep: &str, status: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let d = wait_attempts(app, key, ep, 1).await;
        if d["status"] == status {
            return d;
        }
        assert!(Instant::now() < deadline, "delivery stays {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The error of attempt `n` (1-based), checked to be an attempt that got no answer.
fn failed_attempt(d: &Value, n: usize) -> String {
    let a = &d["attempts_made"][n - 1];
    assert!(a["response_status"].is_null(), "no answer expected: {a}");
    a["error"]
        .as_str()
        .unwrap_or_else(|| panic!("attempt {n} has no error: {d}"))
        .to_owned()
}

/// Overwrites endpoint urls straight in the tenant's database, as an older version
/// or a laxer configuration could have left them.
async fn overwrite_urls(app: &TestApp, urls: &[(&str, String)]) {
    let door = app.db().tenant_side_door("alpha").await;
    for (id, url) in urls {
        let done = door
            .execute(
                "UPDATE webhook_endpoints SET url = $1 WHERE id = $2",
                &[url, id],
            )
            .await;
        assert_eq!(done, 1, "{id}");
    }
}

/// Unsafe URLs and a piece of the reason the refusal must give.
const UNSAFE: &[(&str, &str)] = &[
    // Scheme, credentials, port, and what does not parse.
    ("http://hooks.example.com/in", "only https"),
    ("ftp://hooks.example.com/in", "only https"),
    ("https://user:pw@hooks.example.com/", "credentials"),
    ("https://user@hooks.example.com/", "credentials"),
    ("https://:pw@hooks.example.com/", "credentials"),
    ("https://hooks.example.com@127.0.0.1/", "credentials"),
    // An empty userinfo, which the URL parser drops without a trace.
    ("https://:@example.com/hook", "credentials"),
    ("https://@hooks.example.com/", "credentials"),
    ("https:\\\\:@hooks.example.com/", "credentials"),
    ("https://hooks.example.com:0/", "port 0"),
    ("not a url", "not an absolute URL"),
    ("https://[fe80::1%25eth0]/", "not an absolute URL"),
    // IPv4 literals in every notation the URL parser reads.
    ("https://127.0.0.1/", "127.0.0.0/8"),
    ("https://127.0.0.1:443/", "127.0.0.0/8"),
    ("https://127.255.255.254/", "127.0.0.0/8"),
    ("https://2130706433/", "127.0.0.0/8"),
    ("https://0x7f.1/", "127.0.0.0/8"),
    ("https://0x7f000001/", "127.0.0.0/8"),
    ("https://0x7f.0x0.0x0.0x1/", "127.0.0.0/8"),
    ("https://0177.0.0.1/", "127.0.0.0/8"),
    ("https://017700000001/", "127.0.0.0/8"),
    ("https://127.1/", "127.0.0.0/8"),
    ("https://127.0.0.1./", "127.0.0.0/8"),
    ("https://%31%32%37.0.0.1/", "127.0.0.0/8"),
    (
        "https://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
        "127.0.0.0/8",
    ),
    // A backslash ends the authority: the host is 127.0.0.1.
    ("https://127.0.0.1\\@hooks.example.com/", "127.0.0.0/8"),
    ("https://10.0.0.1/", "10.0.0.0/8"),
    ("https://172.16.0.1/", "172.16.0.0/12"),
    ("https://192.168.1.1/", "192.168.0.0/16"),
    ("https://169.254.169.254/latest/meta-data", "169.254.0.0/16"),
    ("https://0.0.0.0/", "0.0.0.0/8"),
    ("https://0/", "0.0.0.0/8"),
    ("https://100.64.0.1/", "100.64.0.0/10"),
    ("https://100.100.100.200/", "100.64.0.0/10"),
    ("https://168.63.129.16/", "168.63.129.16/32"),
    ("https://224.0.0.1/", "224.0.0.0/4"),
    ("https://255.255.255.255/", "240.0.0.0/4"),
    // IPv6, and every form of it that embeds an IPv4 address.
    ("https://[::1]/", "::1/128"),
    ("https://[0:0:0:0:0:0:0:1]/", "::1/128"),
    ("https://[::]/", "::/128"),
    ("https://[::ffff:127.0.0.1]/", "::ffff:0:0/96"),
    ("https://[::ffff:7f00:1]/", "::ffff:0:0/96"),
    ("https://[::ffff:10.0.0.1]/", "::ffff:0:0/96"),
    ("https://[::127.0.0.1]/", "::/96"),
    ("https://[::ffff:0:127.0.0.1]/", "::ffff:0:0:0/96"),
    ("https://[64:ff9b::a00:1]/", "64:ff9b::/96"),
    ("https://[64:ff9b::127.0.0.1]/", "64:ff9b::/96"),
    ("https://[64:ff9b:1::a00:1]/", "64:ff9b:1::/48"),
    ("https://[2002:a00:1::]/", "2002::/16"),
    ("https://[2002:7f00:1::]/", "2002::/16"),
    ("https://[2001::1]/", "2001::/"),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "2001::/"),
    ("https://[2001:db8::1]/", "2001:db8::/32"),
    ("https://[100::1]/", "100::/64"),
    ("https://[fd00::1]/", "fc00::/7"),
    ("https://[fd00:ec2::254]/", "fc00::/7"),
    ("https://[fe80::1]/", "fe80::/10"),
    ("https://[fec0::1]/", "fec0::/10"),
    ("https://[ff02::1]/", "ff00::/8"),
    // Names of the machine itself and of private zones, refused before any lookup.
    ("https://localhost/", "localhost names the machine itself"),
    (
        "https://LOCALHOST./",
        "localhost. is not a public destination",
    ),
    ("https://foo.localhost/", "localhost names the machine"),
    ("https://foo.localhost%2e/", "localhost names the machine"),
    // IDNA maps the circled letters to `localhost`.
    (
        "https://\u{24db}\u{24de}\u{24d2}\u{24d0}\u{24db}\u{24d7}\u{24de}\u{24e2}\u{24e3}/",
        "localhost names the machine",
    ),
    ("https://intranet/", "single-label"),
    ("https://metadata/", "single-label"),
    ("https://metadata.google.internal/", "metadata.*"),
    ("https://metadata.google.internal./", "metadata.*"),
    (
        "https://instance-data.ec2.internal/",
        ".internal is a private zone",
    ),
    ("https://db.internal/", ".internal is a private zone"),
    ("https://printer.local/", ".local is a private zone"),
    ("https://nas.localdomain/", ".localdomain is a private zone"),
    ("https://router.home.arpa/", ".home.arpa is a private zone"),
    ("https://home.arpa/", ".home.arpa is a private zone"),
];

/// Names the test DNS answers with at least one denied address, each with the address
/// and range the refusal must name.
const DENIED_ANSWERS: &[(&str, &[&str], &str)] = &[
    // A public answer beside a private one: one bad answer refuses the name.
    (
        "mixed.example.com",
        &["93.184.216.34", "10.1.2.3"],
        "(10.1.2.3) is not a public destination (10.0.0.0/8",
    ),
    (
        "mixed6.example.com",
        &["93.184.216.34", "fd00::1"],
        "(fd00::1) is not a public destination (fc00::/7",
    ),
    (
        "loop.example.com",
        &["127.0.0.1"],
        "(127.0.0.1) is not a public destination (127.0.0.0/8",
    ),
    (
        "meta.example.com",
        &["169.254.169.254"],
        "(169.254.169.254) is not a public destination (169.254.0.0/16",
    ),
    (
        "mapped.example.com",
        &["::ffff:10.0.0.1"],
        "(::ffff:10.0.0.1) is not a public destination (::ffff:0:0/96",
    ),
];

fn assert_refused(r: &TestResponse, url: &str, why: &str) {
    assert_eq!(r.status, 422, "{url} must be refused: {}", r.text);
    r.assert_problem(422, "unsafe_webhook_url");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(why), "{url}: {detail:?} should say {why:?}");
}

#[tokio::test]
async fn every_unsafe_url_is_refused_at_registration_and_on_patch_and_nothing_is_stored() {
    let dns = Arc::new(FakeDns::default());
    for (name, addrs, _) in DENIED_ANSWERS {
        dns.set(name, addrs);
    }
    // No worker runs here, so a public answer is never connected to.
    dns.set("public.example.com", &["93.184.216.34"]);
    let app = TestApp::start_with(TestOptions {
        dns: dns.clone(),
        loopback: LoopbackPolicy::Deny,
        worker: None,
    })
    .await;
    let key = key(&app).await;

    let denied_names: Vec<(String, &str)> = DENIED_ANSWERS
        .iter()
        .map(|(name, _, why)| (format!("https://{name}/in"), *why))
        .collect();
    let all: Vec<(&str, &str)> = UNSAFE
        .iter()
        .copied()
        .chain(denied_names.iter().map(|(u, w)| (u.as_str(), *w)))
        .collect();

    for (url, why) in &all {
        assert_refused(&create(&app, &key, url, &["*"]).await, url, why);
    }
    assert_eq!(endpoints(&app, &key).await, Vec::<Value>::new());
    // The names were resolved at registration, and the private zones never were.
    let looked_up = dns.lookups();
    for (name, _, _) in DENIED_ANSWERS {
        assert!(looked_up.iter().any(|l| l == name), "{name}: {looked_up:?}");
    }
    for zone in ["internal", "local", "localdomain", "home.arpa", "localhost"] {
        assert!(
            !looked_up.iter().any(|l| l.ends_with(zone)),
            "{zone} looked up: {looked_up:?}"
        );
    }

    // The same URLs as a change to a good endpoint: refused, and the endpoint unchanged
    // (the label in the same body is not applied either).
    let ep = register(&app, &key, GOOD, &["*"]).await;
    let public = register(&app, &key, "https://public.example.com/in", &["*"]).await;
    let before = endpoint(&app, &key, &ep).await;
    for (url, why) in &all {
        let r = patch(&app, &key, &ep, &json!({ "url": url, "label": "changed" })).await;
        assert_refused(&r, url, why);
    }
    assert_eq!(endpoint(&app, &key, &ep).await, before);
    let ids: Vec<Value> = endpoints(&app, &key)
        .await
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(ids, [json!(ep), json!(public)], "nothing else was stored");

    // The control: a good URL is accepted on PATCH too.
    let ok = patch(
        &app,
        &key,
        &ep,
        &json!({ "url": "https://other.example.com/x" }),
    )
    .await;
    ok.assert_status(200);
    assert_eq!(ok.data()["url"], "https://other.example.com/x");
}

/// Options with loopback refused (production) and a worker giving each delivery one
/// attempt.
fn deny_with_worker(dns: &Arc<FakeDns>) -> TestOptions {
    TestOptions {
        loopback: LoopbackPolicy::Deny,
        dns: dns.clone(),
        ..TestOptions::delivering("0s", None)
    }
}

#[tokio::test]
async fn the_worker_refuses_an_unsafe_url_found_in_the_database_and_connects_to_nothing() {
    let trip = Tripwire::start().await;
    let p = trip.port;
    let dns = Arc::new(FakeDns::default());
    // Private-zone names resolve to the tripwire: were the name rules skipped and the
    // answers not vetted, the connection would show.
    let zones = [
        "foo.localhost",
        "intranet",
        "metadata.google.internal",
        "db.internal",
        "printer.local",
        "nas.localdomain",
        "router.home.arpa",
    ];
    for name in zones {
        dns.set(name, &["127.0.0.1"]);
    }
    // Names that pass the rules, whose answers are loopback in one form or another.
    dns.set("loop.example.com", &["127.0.0.1"]);
    dns.set("mapped.example.com", &["::ffff:127.0.0.1"]);
    dns.set("zero.example.com", &["0.0.0.0"]);
    dns.set("six.example.com", &["::1"]);
    dns.set("both.example.com", &["127.0.0.1", "::1"]);
    let app = TestApp::start_with(deny_with_worker(&dns)).await;
    let key = key(&app).await;
    let db = app.tenant("alpha").await;

    // Refused by the URL rules at the attempt, before any lookup or request.
    let by_rules: Vec<(String, &str)> = vec![
        (format!("http://127.0.0.1:{p}/x"), "only https"),
        (format!("https://user:pw@127.0.0.1:{p}/x"), "credentials"),
        ("https://127.0.0.1:0/x".to_owned(), "port 0"),
        ("not a url".to_owned(), "not an absolute URL"),
        (format!("https://127.0.0.1:{p}/x"), "127.0.0.0/8"),
        (format!("https://2130706433:{p}/x"), "127.0.0.0/8"),
        (format!("https://0x7f.1:{p}/x"), "127.0.0.0/8"),
        (format!("https://0x7f000001:{p}/x"), "127.0.0.0/8"),
        (format!("https://0177.0.0.1:{p}/x"), "127.0.0.0/8"),
        (format!("https://127.1:{p}/x"), "127.0.0.0/8"),
        (format!("https://127.0.0.1.:{p}/x"), "127.0.0.0/8"),
        (format!("https://%31%32%37.0.0.1:{p}/x"), "127.0.0.0/8"),
        (format!("https://0.0.0.0:{p}/x"), "0.0.0.0/8"),
        (format!("https://0:{p}/x"), "0.0.0.0/8"),
        (format!("https://[::1]:{p}/x"), "::1/128"),
        (format!("https://[::]:{p}/x"), "::/128"),
        (format!("https://[::ffff:127.0.0.1]:{p}/x"), "::ffff:0:0/96"),
        (format!("https://[::ffff:7f00:1]:{p}/x"), "::ffff:0:0/96"),
        (format!("https://[::127.0.0.1]:{p}/x"), "::/96"),
        (
            format!("https://[64:ff9b::127.0.0.1]:{p}/x"),
            "64:ff9b::/96",
        ),
        (format!("https://[2002:7f00:1::]:{p}/x"), "2002::/16"),
        (
            format!("https://localhost:{p}/x"),
            "localhost is not a public destination",
        ),
        (
            format!("https://LOCALHOST.:{p}/x"),
            "localhost. is not a public destination",
        ),
        (
            format!("https://foo.localhost:{p}/x"),
            "localhost names the machine",
        ),
        (format!("https://intranet:{p}/x"), "single-label"),
        (
            format!("https://metadata.google.internal:{p}/x"),
            "metadata.*",
        ),
        (
            format!("https://db.internal:{p}/x"),
            ".internal is a private zone",
        ),
        (
            format!("https://printer.local:{p}/x"),
            ".local is a private zone",
        ),
        (
            format!("https://nas.localdomain:{p}/x"),
            ".localdomain is a private zone",
        ),
        (
            format!("https://router.home.arpa:{p}/x"),
            ".home.arpa is a private zone",
        ),
    ];
    // Pass the rules; refused by the client's guarded lookup, so never connected to.
    let by_answers: Vec<(String, &str)> = vec![
        (
            format!("https://loop.example.com:{p}/x"),
            "loop.example.com (127.0.0.1) is not a public destination (127.0.0.0/8",
        ),
        (
            format!("https://mapped.example.com:{p}/x"),
            "mapped.example.com (::ffff:127.0.0.1) is not a public destination (::ffff:0:0/96",
        ),
        (
            format!("https://zero.example.com:{p}/x"),
            "zero.example.com (0.0.0.0) is not a public destination (0.0.0.0/8",
        ),
        (
            format!("https://six.example.com:{p}/x"),
            "six.example.com (::1) is not a public destination (::1/128",
        ),
        (
            format!("https://both.example.com:{p}/x"),
            "both.example.com (127.0.0.1) is not a public destination (127.0.0.0/8",
        ),
    ];

    // Each endpoint is registered with a good URL (a name that does not resolve), then
    // its stored url is replaced.
    let mut ids = Vec::new();
    for (i, _) in by_rules.iter().chain(&by_answers).enumerate() {
        let url = format!("https://ok{i}.example.com/in");
        ids.push(register(&app, &key, &url, &["user.joined"]).await);
    }
    let rows: Vec<(&str, String)> = ids
        .iter()
        .map(String::as_str)
        .zip(by_rules.iter().chain(&by_answers).map(|(u, _)| u.clone()))
        .collect();
    overwrite_urls(&app, &rows).await;
    for (id, url) in &rows {
        assert_eq!(
            endpoint(&app, &key, id).await["url"],
            json!(url),
            "the server reads the stored url"
        );
    }

    fixtures::join(&db, "someone").await;

    let cases = by_rules
        .iter()
        .map(|c| (c, true))
        .chain(by_answers.iter().map(|c| (c, false)));
    for ((id, url), ((_, why), rules)) in rows.iter().zip(cases) {
        let d = wait_status(&app, &key, id, "failed").await;
        assert_eq!(
            d["attempts_made"].as_array().unwrap().len(),
            1,
            "{url}: {d}"
        );
        let error = failed_attempt(&d, 1);
        assert!(
            error.contains("unsafe webhook URL: ") && error.contains(why),
            "{url}: {error:?} should name the refusal {why:?}"
        );
        // Refused by the rules or by the resolver's answers: nothing was sent, so the
        // log shows no headers as sent.
        assert_eq!(
            d["attempts_made"][0]["request_headers"],
            json!({}),
            "{url}: nothing was sent (rules: {rules})"
        );
        let e = endpoint(&app, &key, id).await;
        assert_eq!(
            (e["active"].as_bool(), e["consecutive_failures"].as_u64()),
            (Some(true), Some(1)),
            "{url}: one failure, still active"
        );
    }
    assert_eq!(trip.hits(), 0, "the worker connected to the loopback port");

    let looked_up = dns.lookups();
    for name in zones {
        assert!(
            !looked_up.iter().any(|l| l == name),
            "{name} was looked up; the rules should refuse it first: {looked_up:?}"
        );
    }
    for name in ["loop", "mapped", "zero", "six", "both"] {
        let name = format!("{name}.example.com");
        assert!(
            looked_up.contains(&name),
            "{name} resolved through the guard: {looked_up:?}"
        );
    }
}

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_after_registration_is_never_connected_to() {
    let trip = Tripwire::start().await;
    let p = trip.port;
    let dns = Arc::new(FakeDns::default());
    let app = TestApp::start_with(deny_with_worker(&dns)).await;
    let key = key(&app).await;
    let db = app.tenant("alpha").await;

    // Public at registration (each answer changes below before any event, so no
    // delivery ever goes to a public address), denied at delivery.
    let cases: [(&str, &[&str], &[&str], &str); 4] = [
        (
            "rebind.example.com",
            &["93.184.216.34"],
            &["127.0.0.1"],
            "rebind.example.com (127.0.0.1) is not a public destination (127.0.0.0/8",
        ),
        (
            "rebind-mapped.example.com",
            &["2606:2800:220:1::1"],
            &["::ffff:127.0.0.1"],
            "rebind-mapped.example.com (::ffff:127.0.0.1) is not a public destination (::ffff:0:0/96",
        ),
        (
            "rebind-zero.example.com",
            &["93.184.216.34"],
            &["0.0.0.0"],
            "rebind-zero.example.com (0.0.0.0) is not a public destination (0.0.0.0/8",
        ),
        // One loopback answer among others (loopback first, so that even a client that
        // connected without vetting would reach the tripwire, nothing else).
        (
            "rebind-mixed.example.com",
            &["93.184.216.34", "2606:2800:220:1::1"],
            &["127.0.0.1", "10.0.0.7"],
            "rebind-mixed.example.com (127.0.0.1) is not a public destination (127.0.0.0/8",
        ),
    ];
    let mut ids = Vec::new();
    for (name, public, _, _) in &cases {
        dns.set(name, public);
        let url = format!("https://{name}:{p}/hook");
        ids.push(register(&app, &key, &url, &["user.joined"]).await);
        assert!(
            dns.lookups().iter().any(|l| l == name),
            "registration resolved {name}"
        );
    }
    for (name, _, private, _) in &cases {
        dns.set(name, private);
    }

    fixtures::join(&db, "someone").await;

    for (id, (name, _, _, why)) in ids.iter().zip(&cases) {
        let d = wait_status(&app, &key, id, "failed").await;
        assert_eq!(d["attempts_made"].as_array().unwrap().len(), 1, "{d}");
        let error = failed_attempt(&d, 1);
        assert!(error.contains(why), "{name}: {error:?} should say {why:?}");
        let lookups = dns.lookups().iter().filter(|l| l == name).count();
        assert!(lookups >= 2, "{name} resolved again at delivery");
    }
    assert_eq!(trip.hits(), 0, "the worker connected to a rebound name");

    // And the same names now, registered or patched in, are refused.
    for (name, _, _, why) in &cases {
        let url = format!("https://{name}:{p}/hook");
        assert_refused(&create(&app, &key, &url, &["*"]).await, &url, why);
        let r = patch(&app, &key, &ids[0], &json!({ "url": url })).await;
        assert_refused(&r, &url, why);
    }
}

#[tokio::test]
async fn a_name_that_does_not_resolve_yet_is_accepted_and_delivered_to_once_it_does() {
    let receiver = Receiver::https().await;
    let trip = Tripwire::start().await;
    let dns = Arc::new(FakeDns::default());
    // `localhost` answers nothing for now.
    dns.set("localhost", &[]);
    // The loopback allowance (development) so that the name can resolve somewhere safe:
    // `localhost` to the receiver, whose certificate names `localhost`, and
    // `late.localhost` to the tripwire, which the receiver's certificate would not cover.
    let app = TestApp::start_with(TestOptions {
        dns: dns.clone(),
        ..TestOptions::delivering("0s,1s", Some(&receiver.ca_file()))
    })
    .await;
    let key = key(&app).await;
    let db = app.tenant("alpha").await;

    let late = register(&app, &key, &receiver.url_by_name("/late"), &["user.joined"]).await;
    let nx_url = format!("https://late.localhost:{}/nx", trip.port);
    let nx = register(&app, &key, &nx_url, &["user.joined"]).await;

    fixtures::join(&db, "someone").await;

    let d = wait_attempts(&app, &key, &late, 1).await;
    let error = failed_attempt(&d, 1);
    assert!(error.contains("could not resolve localhost"), "{error:?}");
    let d = wait_attempts(&app, &key, &nx, 1).await;
    let error = failed_attempt(&d, 1);
    assert!(
        error.contains("could not resolve late.localhost"),
        "{error:?}"
    );
    assert_eq!(d["status"], "pending", "retried later: {d}");
    for ep in [&late, &nx] {
        assert_eq!(endpoint(&app, &key, ep).await["active"], true);
    }
    assert!(receiver.received().is_empty());
    assert_eq!(trip.hits(), 0, "connected before the name resolved");

    // The names resolve now: the next attempt goes to the vetted address.
    dns.set("localhost", &["127.0.0.1"]);
    dns.set("late.localhost", &["127.0.0.1"]);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/late");
    assert_eq!(got[0].header("mobieus-attempt"), "2");
    let d = wait_status(&app, &key, &late, "succeeded").await;
    assert_eq!(d["attempts_made"][1]["response_status"], 200, "{d}");

    // The tripwire drops the connection, so that attempt fails, but it was made: the
    // tripwire sees the worker's connections (and so would have in the tests above).
    let d = wait_status(&app, &key, &nx, "failed").await;
    let error = failed_attempt(&d, 2);
    assert!(!error.contains("could not resolve"), "{error:?}");
    assert!(trip.hits() >= 1, "the second attempt connected");
}

#[tokio::test]
async fn under_the_loopback_allowance_only_loopback_answers_pass_for_localhost_names() {
    let trip = Tripwire::start().await;
    let p = trip.port;
    let dns = Arc::new(FakeDns::default());
    dns.set("mix.localhost", &["127.0.0.1", "10.0.0.7"]);
    dns.set("loop.example.com", &["127.0.0.1"]);
    let app = TestApp::start_with(TestOptions {
        dns: dns.clone(),
        ..TestOptions::delivering("0s", None)
    })
    .await;
    assert!(app.worker().is_some());
    let key = key(&app).await;
    let db = app.tenant("alpha").await;

    // At registration: one non-loopback answer refuses a localhost name, and a public
    // name is not let through to loopback by the allowance.
    let mixed = format!("https://mix.localhost:{p}/m");
    assert_refused(
        &create(&app, &key, &mixed, &["*"]).await,
        &mixed,
        "mix.localhost (10.0.0.7) is not a public destination (a localhost name must resolve to loopback)",
    );
    let public_name = format!("https://loop.example.com:{p}/m");
    assert_refused(
        &create(&app, &key, &public_name, &["*"]).await,
        &public_name,
        "loop.example.com (127.0.0.1) is not a public destination (127.0.0.0/8",
    );
    assert_eq!(endpoints(&app, &key).await, Vec::<Value>::new());

    // At delivery: registered while they resolved to loopback only, then rebound. The
    // loopback answer comes first, so a client that dropped only the bad answer, or
    // vetted none, would reach the tripwire.
    dns.set("mix2.localhost", &["127.0.0.1"]);
    let mix2 = register(&app, &key, &format!("https://mix2.localhost:{p}/m"), &["*"]).await;
    dns.set("mix2.localhost", &["127.0.0.1", "10.0.0.7"]);
    fixtures::join(&db, "someone").await;
    let d = wait_status(&app, &key, &mix2, "failed").await;
    let error = failed_attempt(&d, 1);
    assert!(
        error.contains(
            "mix2.localhost (10.0.0.7) is not a public destination (a localhost name must resolve to loopback)"
        ),
        "{error:?}"
    );
    assert_eq!(trip.hits(), 0, "the worker connected to a partly bad name");
}
