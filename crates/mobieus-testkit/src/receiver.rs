//! A webhook receiver for tests: a real HTTPS server on a loopback port with its own CA
//! (the worker trusts it through `ca_file`, as `MOBIEUS_WEBHOOK_CA_FILE` does), that
//! records every request as received (headers and exact body bytes) and answers from a
//! script: queued answers first, then the default.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// One request as the receiver read it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lowercase.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    /// Asserts that both signatures verify with `secret` over the exact bytes received,
    /// as a receiver would check them (5 minutes of tolerance).
    pub fn assert_signed_with(&self, secret: &str) {
        use mobieus_domain::webhook::{WebhookSecret, verify, verify_standard};
        let secret = WebhookSecret::parse(secret).expect("a webhook secret");
        let now = mobieus_domain::time::Timestamp::now().millis() / 1000;
        verify(
            self.header("mobieus-signature"),
            &self.body,
            &secret,
            now,
            300,
        )
        .expect("Mobieus-Signature verifies");
        verify_standard(
            self.header("webhook-id"),
            self.header("webhook-timestamp"),
            self.header("webhook-signature"),
            &self.body,
            &secret,
            now,
            300,
        )
        .expect("webhook-signature verifies");
    }
}

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
    /// Recorded as received on arrival, before the delay (a receiver that acts on a
    /// webhook before it answers); otherwise once the delay is over, so a request whose
    /// sender hangs up meanwhile is not recorded.
    pub on_arrival: bool,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
            on_arrival: false,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Records the request as received when it arrives, before the delay.
    pub fn recorded_on_arrival(mut self) -> Self {
        self.on_arrival = true;
        self
    }
}

#[derive(Debug)]
struct Shared {
    received: Mutex<Vec<Received>>,
    queued: Mutex<VecDeque<Answer>>,
    default: Mutex<Answer>,
    arrived: Notify,
}

/// The receiver; it stops when dropped.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    /// `https`, or `http` for a plain receiver.
    scheme: &'static str,
    shared: Arc<Shared>,
    dir: tempfile::TempDir,
    server: JoinHandle<()>,
}

/// A TLS listener for `axum::serve`: handshakes in `accept`, dropping failed ones.
struct TlsListener {
    tcp: TcpListener,
    tls: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.tls.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Receiver {
    /// An HTTPS receiver on `127.0.0.1:<ephemeral>` whose certificate names `localhost` and
    /// `127.0.0.1`, issued by a fresh CA written to [`Receiver::ca_file`]. Answers 200 by default.
    pub async fn https() -> Self {
        mobieus_delivery::install_crypto();
        let dir = tempfile::Builder::new()
            .prefix("mobieus-receiver-")
            .tempdir()
            .expect("a temp dir for the receiver's CA");
        let issued = crate::tls::issue(dir.path(), &["localhost", "127.0.0.1"]);
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(issued.key_der.clone().into());
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![issued.cert_der.clone()], key)
            .expect("a TLS server config");
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let listener = TlsListener {
            tcp,
            tls: TlsAcceptor::from(Arc::new(config)),
        };
        Self::serve(listener, "https", dir)
    }

    /// A plain-HTTP receiver on `127.0.0.1:<ephemeral>` (what a developer runs on their
    /// own machine), answering 200 by default. It has no CA file.
    pub async fn http() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mobieus-receiver-")
            .tempdir()
            .expect("a temp dir for the receiver");
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        Self::serve(tcp, "http", dir)
    }

    fn serve<L>(listener: L, scheme: &'static str, dir: tempfile::TempDir) -> Self
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            received: Mutex::default(),
            queued: Mutex::default(),
            default: Mutex::new(Answer::status(200)),
            arrived: Notify::new(),
        });
        let state = shared.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move { receive(&state, method, uri, headers, body).await }
            },
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            scheme,
            shared,
            dir,
            server,
        }
    }

    /// `https://127.0.0.1:<port><path>` (`http://` for [`Receiver::http`]).
    pub fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", self.scheme, self.addr.port())
    }

    /// `https://localhost:<port><path>`: the same receiver, reached by name.
    pub fn url_by_name(&self, path: &str) -> String {
        format!("{}://localhost:{}{path}", self.scheme, self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The PEM of the CA that issued the receiver's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Answers the next requests with these, in order, before the default.
    pub fn queue(&self, answers: impl IntoIterator<Item = Answer>) {
        self.shared.queued.lock().unwrap().extend(answers);
    }

    /// Answers every request not queued for with this.
    pub fn answer_by_default(&self, answer: Answer) {
        *self.shared.default.lock().unwrap() = answer;
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived (panics after `timeout`); returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the receiver got {} of {n} requests in {timeout:?}",
                got.len()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Asserts that nothing more than `n` requests arrive within `quiet`.
    pub async fn assert_stays_at(&self, n: usize, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        assert_eq!(
            self.received().len(),
            n,
            "requests arrived that should not have"
        );
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    shared: &Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let answer = shared
        .queued
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| shared.default.lock().unwrap().clone());
    let record = |at: Instant| {
        shared.received.lock().unwrap().push(Received {
            method: method.to_string(),
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: body.to_vec(),
            at,
        });
        shared.arrived.notify_waiters();
    };
    if answer.on_arrival {
        record(Instant::now());
    }
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if !answer.on_arrival {
        record(Instant::now());
    }
    let mut response = StatusCode::from_u16(answer.status).unwrap().into_response();
    for (name, value) in &answer.headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}
