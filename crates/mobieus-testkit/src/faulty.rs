//! A misbehaving webhook receiver for fault tests: a real HTTPS server on a loopback port
//! that speaks a hand-written minimal HTTP/1.1 over raw TLS streams, so it can do what a
//! well-behaved server never would: stall the TLS handshake, read a request and never
//! answer, reset or close the connection instead of answering, dribble its answer a byte
//! at a time, stream a huge body, or redirect.
//!
//! Every connection is recorded: when it was accepted, the request read on it (if any),
//! and how and when it ended, with the bytes the receiver managed to write. That is how a
//! test sees that the worker hung up at its timeout, or stopped reading a huge body early.
//!
//! Its certificate is issued by a [`TestCa`], whose PEM file the worker trusts through
//! `ca_file`; the file can take in other CAs (a [`crate::receiver::Receiver`]'s) so one
//! worker trusts both kinds of receiver.

use rcgen::{Issuer, KeyPair};
use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// The longest request head read; a longer one ends the connection.
const MAX_HEAD: usize = 64 * 1024;

/// What a huge body is made of, written over and over.
static FILLER: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// A certificate authority for test receivers, its certificate written to a PEM file
/// ([`TestCa::file`]) for the worker's `ca_file`.
#[derive(Debug)]
pub struct TestCa {
    dir: tempfile::TempDir,
    issuer: Issuer<'static, KeyPair>,
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A fresh CA, written to a new temporary dir.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mobieus-faulty-")
            .tempdir()
            .expect("a temp dir for the test CA");
        let key = KeyPair::generate().expect("a CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mobieus faulty receiver CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).expect("self-sign the CA");
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).expect("write the CA file");
        Self {
            dir,
            issuer: Issuer::new(params, key),
        }
    }

    /// The PEM bundle to trust: this CA, and every CA added by [`TestCa::also_trust`].
    pub fn file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Appends the certificates of another PEM file (say a `Receiver::ca_file`) to
    /// [`TestCa::file`], so a worker trusting that file trusts both.
    pub fn also_trust(&self, pem: &Path) {
        let extra = std::fs::read(pem).expect("read the PEM file to trust");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.file())
            .expect("open the CA bundle");
        file.write_all(b"\n").expect("write the CA bundle");
        file.write_all(&extra).expect("write the CA bundle");
    }

    /// A TLS server config whose certificate names `localhost` and `127.0.0.1`.
    fn server_config(&self) -> rustls::ServerConfig {
        let key = KeyPair::generate().expect("a server key");
        let params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        let leaf = params
            .signed_by(&key, &self.issuer)
            .expect("issue the server certificate");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .expect("a TLS server config")
    }
}

/// How the receiver misbehaves on every connection.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Accepts the TCP connection and never says a word of TLS.
    StallHandshake,
    /// Reads the request and never answers, holding the connection open until the
    /// client hangs up.
    Hang,
    /// Completes the TLS handshake, then drops the connection at once, reading nothing.
    DropAfterHandshake,
    /// Reads the request head, then resets the connection (`SO_LINGER` 0: a TCP RST).
    Reset,
    /// Reads the request, then closes the connection cleanly (TLS `close_notify`, FIN)
    /// without a word of HTTP.
    Close,
    /// Answers `200` with a two-byte body, but writes the whole answer, status line
    /// included, one byte every `every`.
    SlowHead { every: Duration },
    /// Writes the status line and headers of a `status` answer with a `len`-byte body at
    /// once, then the body (`0123456789` repeated) one byte every `every`.
    SlowBody {
        status: u16,
        len: usize,
        every: Duration,
    },
    /// Answers `200` with a `len`-byte body of `x`, with `Content-Length` or chunked
    /// (`chunked: true`), written as fast as the client takes it.
    HugeBody { len: u64, chunked: bool },
    /// Answers `status` with `Location: location`.
    Redirect { status: u16, location: String },
    /// Answers `status` with `body`.
    Status { status: u16, body: String },
}

/// One request as the receiver read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// Header names lowercase.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// One connection, from accept to its end.
#[derive(Clone, Debug)]
pub struct Connection {
    pub accepted_at: Instant,
    /// The request read on it; `None` while not (yet) read, or for faults that read none.
    pub request: Option<Request>,
    /// `None` while the connection is open.
    pub ended: Option<Ended>,
}

/// How a connection ended.
#[derive(Clone, Debug)]
pub struct Ended {
    pub at: Instant,
    /// Bytes of HTTP (plaintext) the receiver handed to TLS before the end.
    pub bytes_written: u64,
    /// What ended it: `"client hung up"`, `"write failed"`, `"answered"`, `"reset"`, …
    pub how: &'static str,
}

#[derive(Debug)]
struct Shared {
    fault: Mutex<Fault>,
    connections: Mutex<Vec<Connection>>,
    changed: Notify,
}

impl Shared {
    fn update(&self, index: usize, f: impl FnOnce(&mut Connection)) {
        if let Some(c) = self.connections.lock().unwrap().get_mut(index) {
            f(c);
        }
        self.changed.notify_waiters();
    }
}

/// The receiver; it stops when dropped, and with it every connection it holds.
#[derive(Debug)]
pub struct FaultyReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FaultyReceiver {
    /// A receiver on `127.0.0.1:<ephemeral>` with a certificate from `ca`, misbehaving
    /// as `fault` says.
    pub async fn start(ca: &TestCa, fault: Fault) -> Self {
        mobieus_delivery::install_crypto();
        let acceptor = TlsAcceptor::from(Arc::new(ca.server_config()));
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = tcp.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            fault: Mutex::new(fault),
            connections: Mutex::default(),
            changed: Notify::new(),
        });
        let state = shared.clone();
        let server = tokio::spawn(async move {
            // Held here so that aborting the server drops (and aborts) every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = tcp.accept().await else {
                    continue;
                };
                while connections.try_join_next().is_some() {}
                let index = {
                    let mut all = state.connections.lock().unwrap();
                    all.push(Connection {
                        accepted_at: Instant::now(),
                        request: None,
                        ended: None,
                    });
                    all.len() - 1
                };
                state.changed.notify_waiters();
                let fault = state.fault.lock().unwrap().clone();
                let shared = state.clone();
                let acceptor = acceptor.clone();
                connections.spawn(async move {
                    let (bytes_written, how) =
                        serve(stream, &acceptor, &fault, &shared, index).await;
                    shared.update(index, |c| {
                        c.ended = Some(Ended {
                            at: Instant::now(),
                            bytes_written,
                            how,
                        });
                    });
                });
            }
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Misbehaves as `fault` says on the connections accepted from now on.
    pub fn set_fault(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
    }

    /// Every connection so far, in accept order.
    pub fn connections(&self) -> Vec<Connection> {
        self.shared.connections.lock().unwrap().clone()
    }

    /// Every request read so far, in the order of their connections.
    pub fn requests(&self) -> Vec<Request> {
        self.connections()
            .into_iter()
            .filter_map(|c| c.request)
            .collect()
    }

    /// Waits until `done` holds for the connections (panics after `timeout`, naming
    /// `what`); returns them.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[Connection]) -> bool,
    ) -> Vec<Connection> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            let now = self.connections();
            if done(&now) {
                return now;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the faulty receiver on port {} waited {timeout:?} for {what}; connections: {now:#?}",
                self.port()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Waits until `n` connections have been accepted.
    pub async fn wait_for_connections(&self, n: usize, timeout: Duration) -> Vec<Connection> {
        self.wait_until(&format!("{n} connections"), timeout, |c| c.len() >= n)
            .await
    }

    /// Waits until `n` requests have been read; returns them all.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Request> {
        self.wait_until(&format!("{n} requests"), timeout, |c| {
            c.iter().filter(|c| c.request.is_some()).count() >= n
        })
        .await;
        self.requests()
    }

    /// Waits until `n` connections have ended; returns every connection.
    pub async fn wait_for_ended(&self, n: usize, timeout: Duration) -> Vec<Connection> {
        self.wait_until(&format!("{n} ended connections"), timeout, |c| {
            c.iter().filter(|c| c.ended.is_some()).count() >= n
        })
        .await
    }
}

impl Drop for FaultyReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves one connection as `fault` says; returns the bytes written and how it ended.
async fn serve(
    tcp: TcpStream,
    acceptor: &TlsAcceptor,
    fault: &Fault,
    shared: &Shared,
    index: usize,
) -> (u64, &'static str) {
    let mut tcp = tcp;
    if matches!(fault, Fault::StallHandshake) {
        // Read (and ignore) the ClientHello and whatever follows, until the client goes.
        let mut sink = [0u8; 4096];
        loop {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => return (0, "client hung up"),
                Ok(_) => {}
            }
        }
    }
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return (0, "TLS handshake failed");
    };
    if matches!(fault, Fault::DropAfterHandshake) {
        drop(tls);
        return (0, "dropped");
    }
    let request = match read_request(&mut tls, !matches!(fault, Fault::Reset)).await {
        Ok(Some(r)) => r,
        Ok(None) => return (0, "client hung up before a request"),
        Err(_) => return (0, "unreadable request"),
    };
    shared.update(index, |c| c.request = Some(request));
    let mut written = 0u64;
    match fault {
        Fault::StallHandshake | Fault::DropAfterHandshake => (0, "unreachable"),
        Fault::Hang => {
            let mut sink = [0u8; 4096];
            loop {
                match tls.read(&mut sink).await {
                    Ok(0) | Err(_) => return (0, "client hung up"),
                    Ok(_) => {}
                }
            }
        }
        Fault::Reset => {
            // Zero linger: the close sends RST at once rather than FIN.
            let _ = tls.get_ref().0.set_zero_linger();
            drop(tls);
            (0, "reset")
        }
        Fault::Close => {
            let _ = tls.shutdown().await;
            (0, "closed")
        }
        Fault::SlowHead { every } => {
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
            for byte in answer {
                if write(&mut tls, std::slice::from_ref(byte), &mut written)
                    .await
                    .is_err()
                {
                    return (written, "write failed");
                }
                tokio::time::sleep(*every).await;
            }
            let _ = tls.shutdown().await;
            (written, "answered")
        }
        Fault::SlowBody { status, len, every } => {
            let head = head(*status, &[("content-length", &len.to_string())]);
            if write(&mut tls, head.as_bytes(), &mut written)
                .await
                .is_err()
            {
                return (written, "write failed");
            }
            for byte in b"0123456789".iter().cycle().take(*len) {
                tokio::time::sleep(*every).await;
                if write(&mut tls, std::slice::from_ref(byte), &mut written)
                    .await
                    .is_err()
                {
                    return (written, "write failed");
                }
            }
            let _ = tls.shutdown().await;
            (written, "answered")
        }
        Fault::HugeBody { len, chunked } => {
            let framing = if *chunked {
                ("transfer-encoding", "chunked".to_owned())
            } else {
                ("content-length", len.to_string())
            };
            let head = head(200, &[(framing.0, &framing.1)]);
            if write(&mut tls, head.as_bytes(), &mut written)
                .await
                .is_err()
            {
                return (written, "write failed");
            }
            let mut left = *len;
            while left > 0 {
                let n = usize::try_from(left.min(FILLER.len() as u64)).unwrap_or(FILLER.len());
                let sent = if *chunked {
                    let mut chunk = format!("{n:x}\r\n").into_bytes();
                    chunk.extend_from_slice(&FILLER[..n]);
                    chunk.extend_from_slice(b"\r\n");
                    write(&mut tls, &chunk, &mut written).await
                } else {
                    write(&mut tls, &FILLER[..n], &mut written).await
                };
                if sent.is_err() {
                    return (written, "write failed");
                }
                left -= n as u64;
            }
            if *chunked && write(&mut tls, b"0\r\n\r\n", &mut written).await.is_err() {
                return (written, "write failed");
            }
            let _ = tls.shutdown().await;
            (written, "answered")
        }
        Fault::Redirect { status, location } => {
            let head = head(*status, &[("location", location), ("content-length", "0")]);
            let _ = write(&mut tls, head.as_bytes(), &mut written).await;
            let _ = tls.shutdown().await;
            (written, "answered")
        }
        Fault::Status { status, body } => {
            let mut answer = head(*status, &[("content-length", &body.len().to_string())]);
            answer.push_str(body);
            let _ = write(&mut tls, answer.as_bytes(), &mut written).await;
            let _ = tls.shutdown().await;
            (written, "answered")
        }
    }
}

/// A status line and headers (with `connection: close`), up to the blank line.
fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Writes and flushes `bytes`, counting them once written.
async fn write<S: tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
    written: &mut u64,
) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await?;
    *written += bytes.len() as u64;
    Ok(())
}

/// Reads a request head (up to the blank line) and, when `with_body`, its
/// `Content-Length` body. `None` when the client hangs up first.
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    with_body: bool,
) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_len = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let text = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf.split_off(head_len);
    if with_body {
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while body.len() < len {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    }
    Ok(Some(Request {
        at,
        method,
        path,
        headers,
        body,
    }))
}
