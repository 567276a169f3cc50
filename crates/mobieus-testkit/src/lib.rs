//! Test support for mobieus.
//!
//! - [`TestApp`]: the real application (`mobieus_web::router`) served on an ephemeral
//!   loopback port over its own temporary data dir, so tests never share a database and
//!   run in parallel. It mints tenants and keys through the same `mobieus-core` use cases
//!   the CLI uses, and talks HTTP to the server with an explicit `Host` header (the tenant
//!   is chosen by host).
//! - [`TestResponse`]: what came back: status, headers, and the body parsed as JSON when
//!   it is JSON.
//! - [`fixtures`]: forum actions (join, open a thread, reply, …) for arranging a test.
//! - [`browser::Browser`]: a visitor of the pages that keeps cookies and submits forms.
//! - [`cli`]: running the `mobieus` binary as a child process.
//! - [`redis`]: the Redis of the shared rate-limit tests (`MOBIEUS_TEST_REDIS_URL`).
//!
//! Nothing here contacts any address but loopback: the HTTP client has proxies disabled.

// Test support: a failure to set up a test should stop that test at once with a message,
// so `unwrap`/`expect` are the right tool here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;
pub mod cli;
pub mod db;
pub mod dns;
pub mod faulty;
pub mod fixtures;
pub mod receiver;
pub mod redis;
mod response;
pub mod sse;
pub mod tls;
pub mod tools;

pub use response::TestResponse;

use dns::FakeDns;
use mobieus_core::keys::{self, KeyRequest, MintedKey};
use mobieus_core::tenants;
use mobieus_core::url_guard::UrlGuard;
use mobieus_delivery::WorkerConfig;
use mobieus_domain::api_key::{KeyMode, RateLimit};
use mobieus_domain::scope::Scopes;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::webhook::LoopbackPolicy;
use mobieus_store::{Store, TenantDb};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The real server on `127.0.0.1:<ephemeral>`, over a temporary data dir that lives as
/// long as this value. Dropping it stops the server and deletes the data dir.
#[derive(Debug)]
pub struct TestApp {
    addr: SocketAddr,
    store: Store,
    client: reqwest::Client,
    server: JoinHandle<()>,
    worker: Option<(mobieus_delivery::Worker, JoinHandle<()>)>,
    /// As `serve`: on Postgres, commits of other processes wake this node's streams.
    feed: Option<JoinHandle<()>>,
    /// `--redis-url`: the API's rate limits are shared through this Redis.
    redis_url: Option<String>,
    // Declared last so the server stops before its database goes (shared by the nodes
    // of [`TestApp::another_node`]).
    db: Arc<db::TestDb>,
}

/// How a [`TestApp`] runs: the SSRF guard the API and worker share, and whether the
/// delivery worker runs in-process.
#[derive(Debug)]
pub struct TestOptions {
    /// The test resolver the guard uses; set names on it to make them resolve.
    pub dns: Arc<FakeDns>,
    pub loopback: LoopbackPolicy,
    /// `Some`: the delivery worker runs beside the server with this configuration.
    pub worker: Option<WorkerConfig>,
}

impl Default for TestOptions {
    /// The production rules (loopback refused) over the test resolver, and no worker.
    fn default() -> Self {
        Self {
            dns: Arc::default(),
            loopback: LoopbackPolicy::Deny,
            worker: None,
        }
    }
}

impl TestOptions {
    /// Loopback webhook targets allowed, a worker with a fast poll and `schedule` as its
    /// retry schedule, trusting `ca_file` for HTTPS targets.
    pub fn delivering(schedule: &str, ca_file: Option<&Path>) -> Self {
        let mut config = WorkerConfig {
            poll_interval: Duration::from_millis(200),
            maintenance_interval: Duration::from_millis(500),
            ..WorkerConfig::default()
        };
        config.policy.schedule =
            mobieus_domain::webhook::RetrySchedule::parse(schedule).expect("a retry schedule");
        config.client.ca_file = ca_file.map(Path::to_path_buf);
        config.client.total_timeout = Duration::from_secs(5);
        Self {
            dns: Arc::default(),
            loopback: LoopbackPolicy::Allow,
            worker: Some(config),
        }
    }
}

impl TestApp {
    /// Creates a data dir, opens the store on it, and serves the whole app on loopback.
    pub async fn start() -> Self {
        Self::start_with(TestOptions::default()).await
    }

    /// Like [`TestApp::start`], with the guard and worker of `options`, on the backend
    /// the environment selects (see [`db::TestDb::new`]).
    pub async fn start_with(options: TestOptions) -> Self {
        Self::start_on(db::TestDb::new().await, options).await
    }

    /// Like [`TestApp::start_with`], on SQLite whatever the environment: for tests that
    /// look at the database files themselves.
    pub async fn start_sqlite_with(options: TestOptions) -> Self {
        Self::start_on(db::TestDb::sqlite(), options).await
    }

    /// Like [`TestApp::start_with`], counting API rate limits in the Redis at `redis_url`
    /// (as `serve --redis-url`) instead of in-process.
    pub async fn start_with_redis(options: TestOptions, redis_url: &str) -> Self {
        Self::start_node(
            Arc::new(db::TestDb::new().await),
            None,
            options,
            Some(redis_url.to_owned()),
        )
        .await
    }

    /// A second node beside this one: another server on another loopback port, over the
    /// same store and with the same Redis (if any), but with its own in-process state
    /// (rate-limit counts, metrics of the limiter) and no worker. It keeps the database
    /// alive as long as it runs.
    pub async fn another_node(&self) -> Self {
        let options = TestOptions {
            dns: Arc::default(),
            loopback: LoopbackPolicy::Deny,
            worker: None,
        };
        Self::start_node(
            self.db.clone(),
            Some(self.store.clone()),
            options,
            self.redis_url.clone(),
        )
        .await
    }

    async fn start_on(db: db::TestDb, options: TestOptions) -> Self {
        Self::start_node(Arc::new(db), None, options, None).await
    }

    async fn start_node(
        db: Arc<db::TestDb>,
        store: Option<Store>,
        options: TestOptions,
        redis_url: Option<String>,
    ) -> Self {
        mobieus_delivery::install_crypto();
        let store = match store {
            Some(store) => store,
            None => db.open().await,
        };
        let guard = UrlGuard::new(options.dns.clone(), options.loopback);
        // As `serve` wires it: the worker's figures in the registry of `/metrics`.
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = mobieus_delivery::DeliveryMetrics::register(&mut registry);
        let worker = options.worker.map(|config| {
            let worker =
                mobieus_delivery::Worker::new(store.clone(), guard.clone(), config, metrics)
                    .expect("start the delivery worker");
            let running = worker.clone();
            let handle = tokio::spawn(async move {
                running.run(std::future::pending()).await;
            });
            (worker, handle)
        });
        let limiter = match &redis_url {
            Some(url) => mobieus_web::RateLimiter::shared(
                mobieus_web::RedisTarget::parse(url).expect("a redis:// URL"),
            ),
            None => mobieus_web::RateLimiter::per_node(),
        };
        limiter.connect().await;
        let feed = store.listen_for_feed();
        let app = mobieus_web::router(mobieus_web::AppState::serving_with(
            store.clone(),
            guard,
            mobieus_web::serving::Transport::Loopback,
            limiter,
            registry,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("local address of the listener");
        let server = tokio::spawn(async move {
            if let Err(e) = mobieus_web::serving::serve_plain(listener, app).await {
                eprintln!("test server stopped: {e}");
            }
        });
        Self {
            addr,
            store,
            client: client(),
            server,
            worker,
            feed,
            redis_url,
            db,
        }
    }

    /// The in-process delivery worker, when the options asked for one.
    pub fn worker(&self) -> Option<&mobieus_delivery::Worker> {
        self.worker.as_ref().map(|(w, _)| w)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store the server runs on: writes through it are what the server reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The temporary data dir (`control.db`, `tenants/<slug>.db`; with Postgres, only
    /// the master key file).
    pub fn data_dir(&self) -> &Path {
        self.db.data_dir()
    }

    /// The test's database.
    pub fn db(&self) -> &db::TestDb {
        &self.db
    }

    /// The `Host` header that reaches a tenant in development: `<slug>.localhost`.
    pub fn host(slug: &str) -> String {
        format!("{slug}.localhost")
    }

    /// The database of tenant `slug`, creating the tenant when it does not exist yet.
    pub async fn tenant(&self, slug: &str) -> TenantDb {
        let parsed = TenantSlug::parse(slug).expect("a valid tenant slug");
        if self
            .store
            .tenant(&parsed)
            .await
            .expect("look up the tenant")
            .is_none()
        {
            tenants::create(&self.store, &parsed, &[])
                .await
                .expect("create the tenant");
        }
        tenants::open(&self.store, &parsed)
            .await
            .expect("open the tenant")
    }

    /// Mints a live key on `slug` (created when missing) with `scopes` (comma-separated,
    /// e.g. `"events:read,users:read"`) and `rate_limit` requests a minute; returns the
    /// plaintext.
    pub async fn key(&self, slug: &str, scopes: &str, rate_limit: u32) -> String {
        self.mint(slug, scopes, rate_limit)
            .await
            .secret
            .expose()
            .to_owned()
    }

    /// Like [`TestApp::key`], but returns the whole minted key (its record holds the id,
    /// for revoking).
    pub async fn mint(&self, slug: &str, scopes: &str, rate_limit: u32) -> MintedKey {
        let db = self.tenant(slug).await;
        let req = KeyRequest {
            actor: "test".to_owned(),
            name: format!("test key ({scopes})"),
            scopes: Scopes::parse_list(scopes).expect("valid scopes"),
            mode: KeyMode::Live,
            rate_limit: RateLimit::new(rate_limit).expect("a valid rate limit"),
        };
        keys::mint(&db, req).await.expect("mint a key")
    }

    /// Revokes a key on `slug` by id.
    pub async fn revoke(&self, slug: &str, key_id: &str) {
        keys::revoke(&self.tenant(slug).await, key_id, "test")
            .await
            .expect("revoke the key");
    }

    /// `GET path` with `Host: host` and, when given, `Authorization: Bearer <key>`.
    pub async fn get(&self, host: &str, path: &str, key: Option<&str>) -> TestResponse {
        self.request(reqwest::Method::GET, host, path, key, &[])
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(
        &self,
        host: &str,
        path: &str,
        key: Option<&str>,
        json: &str,
    ) -> TestResponse {
        self.send(
            reqwest::Method::POST,
            host,
            path,
            key,
            &[("content-type", "application/json")],
            Some(json),
        )
        .await
    }

    /// Any request, with extra headers. Panics when no HTTP answer comes back.
    pub async fn request(
        &self,
        method: reqwest::Method,
        host: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        self.send(method, host, path, key, headers, None).await
    }

    /// Any request, with extra headers and a body. Panics when no HTTP answer comes back.
    pub async fn send(
        &self,
        method: reqwest::Method,
        host: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> TestResponse {
        let mut req = self
            .client
            .request(method.clone(), self.url(path))
            .header(reqwest::header::HOST, host);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.body(body.to_owned());
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} (Host: {host}): no HTTP answer: {e}"));
        TestResponse::read(resp).await
    }
}

impl TestApp {
    /// Opens `GET path` as a live stream (no overall timeout), with `Host: host`, the key,
    /// and extra headers. A 200 answer is the stream; any other is read whole.
    pub async fn stream(
        &self,
        host: &str,
        path: &str,
        key: &str,
        headers: &[(&str, &str)],
    ) -> Result<sse::SseStream, TestResponse> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("build the HTTP client");
        let mut req = client
            .get(self.url(path))
            .header(reqwest::header::HOST, host)
            .bearer_auth(key);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} (Host: {host}): no HTTP answer: {e}"));
        if resp.status() == 200 {
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(
                content_type.starts_with("text/event-stream"),
                "a stream answered Content-Type {content_type}"
            );
            Ok(sse::SseStream::new(resp))
        } else {
            Err(TestResponse::read(resp).await)
        }
    }

    /// Follows a list from `path` (which may already carry a query) through
    /// `meta.next_cursor` to its end; returns every item in order and the number of
    /// pages. Checks each page is a 200 list envelope whose `has_more` agrees with
    /// `next_cursor`. `between_pages` runs after every page that has more after it.
    pub async fn walk_with<F, Fut>(
        &self,
        host: &str,
        path: &str,
        key: &str,
        mut between_pages: F,
    ) -> (Vec<serde_json::Value>, usize)
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = ()>,
    {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={}", encode(c)),
                None => path.to_owned(),
            };
            let page = self.get(host, &url, Some(key)).await;
            page.assert_status(200);
            assert!(
                page.data().is_array(),
                "a list's data is an array: {}",
                page.text
            );
            for member in ["request_id", "has_more", "next_cursor"] {
                assert!(
                    page.meta().get(member).is_some(),
                    "list meta lacks `{member}`: {}",
                    page.text
                );
            }
            items.extend(page.items().iter().cloned());
            pages += 1;
            assert!(pages <= 10_000, "a cursor walk that never ends");
            let has_more = page.meta()["has_more"]
                .as_bool()
                .expect("meta.has_more is a boolean");
            match (has_more, page.next_cursor()) {
                (true, Some(next)) => cursor = Some(next.to_owned()),
                (false, None) => return (items, pages),
                (has_more, next) => panic!("has_more={has_more} but next_cursor={next:?} on {url}"),
            }
            between_pages(pages).await;
        }
    }

    /// [`TestApp::walk_with`] with nothing between pages.
    pub async fn walk(&self, host: &str, path: &str, key: &str) -> (Vec<serde_json::Value>, usize) {
        self.walk_with(host, path, key, |_| async {}).await
    }
}

/// Percent-encodes `s` for a query value (everything but RFC 3986 unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The webhook API, as the delivery tests drive it.
impl TestApp {
    /// Registers an endpoint on the tenant at `host`; returns its id and secret.
    pub async fn register_webhook(
        &self,
        host: &str,
        key: &str,
        url: &str,
        events: &[&str],
    ) -> (String, String) {
        let body = serde_json::json!({ "url": url, "events": events }).to_string();
        let created = self.post(host, "/api/v1/webhooks", Some(key), &body).await;
        created.assert_status(201);
        let data = created.data();
        (
            data["id"].as_str().expect("an endpoint id").to_owned(),
            data["secret"].as_str().expect("a secret").to_owned(),
        )
    }

    /// An endpoint's deliveries (the first page).
    pub async fn deliveries(
        &self,
        host: &str,
        key: &str,
        endpoint: &str,
    ) -> Vec<serde_json::Value> {
        let list = self
            .get(
                host,
                &format!("/api/v1/webhooks/{endpoint}/deliveries"),
                Some(key),
            )
            .await;
        list.assert_status(200);
        list.items().to_vec()
    }

    /// One delivery with its attempts.
    pub async fn delivery(
        &self,
        host: &str,
        key: &str,
        endpoint: &str,
        id: &str,
    ) -> serde_json::Value {
        let one = self
            .get(
                host,
                &format!("/api/v1/webhooks/{endpoint}/deliveries/{id}"),
                Some(key),
            )
            .await;
        one.assert_status(200);
        one.data().clone()
    }

    /// Waits (up to 10 s) until a delivery's status is `status`; returns it.
    pub async fn wait_delivery_status(
        &self,
        host: &str,
        key: &str,
        endpoint: &str,
        id: &str,
        status: &str,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let d = self.delivery(host, key, endpoint, id).await;
            if d["status"] == status {
                return d;
            }
            assert!(std::time::Instant::now() < deadline, "delivery stays {d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(feed) = &self.feed {
            feed.abort();
        }
        if let Some((_, handle)) = &self.worker {
            handle.abort();
        }
    }
}

/// An HTTP client for loopback only: no proxies, no redirects, short timeouts.
pub fn client() -> reqwest::Client {
    mobieus_delivery::install_crypto();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client")
}

/// A loopback port that was free a moment ago (for a server started as a child process).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Whether any file under `dir` contains `needle` (as bytes), with the paths that do.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path);
            }
        }
    }
    hits
}
