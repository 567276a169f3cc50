//! How a node faces its clients: HTTPS with rustls (HSTS on), plain HTTP behind a trusted
//! proxy that terminates TLS (only requests it forwarded as `https` are answered), or plain
//! HTTP on loopback for development. Also the peer address every handler can read.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::connect_info::{Connected, IntoMakeServiceWithConnectInfo};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::AddExtension;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use mobieus_domain::ip_range::IpRange;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// `Strict-Transport-Security` on every answer served over HTTPS: a year.
const HSTS: &str = "max-age=31536000";

/// What stands between this node and its clients.
#[derive(Clone, Debug, Default)]
pub enum Transport {
    /// Plain HTTP, on loopback only (development, tests).
    #[default]
    Loopback,
    /// HTTPS served here.
    Tls,
    /// Plain HTTP from a proxy that terminates TLS: only requests from these addresses
    /// with `X-Forwarded-Proto: https` are answered.
    BehindProxy { trusted: Vec<IpRange> },
}

impl Transport {
    /// Whether clients reach this node over HTTPS (cookies are then `Secure`).
    pub fn https(&self) -> bool {
        !matches!(self, Transport::Loopback)
    }
}

/// The client's address as this node sees it (the proxy's, behind one).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, PlainListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, PlainListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The peer of a request, when the server was started with [`Peer`] as connect info.
pub(crate) fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions().get::<ConnectInfo<Peer>>().map(|c| c.0.0)
}

/// A TLS configuration from PEM files: the certificate chain and its private key.
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read the certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Every connection's small writes leave at once (`TCP_NODELAY`): with Nagle's algorithm
/// a stream's next message, written while the client has not yet acknowledged the last,
/// would wait for the client's delayed acknowledgement, up to 40 ms.
fn no_delay(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
    }
}

/// A listener of plain HTTP connections.
#[derive(Debug)]
pub struct PlainListener(TcpListener);

impl PlainListener {
    pub fn new(tcp: TcpListener) -> Self {
        Self(tcp)
    }
}

impl Listener for PlainListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, peer) = Listener::accept(&mut self.0).await;
        no_delay(&tcp);
        (tcp, peer)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A node's router, served on listener `L`: every connection shares the one router (built
/// once: serving a `Router` as is would rebuild its route table for each connection, 37 KB
/// each), and the handlers see the peer's address (the login throttle counts by it;
/// behind a proxy, only the proxy's requests are answered).
pub type Served<L> = axum::serve::Serve<
    L,
    IntoMakeServiceWithConnectInfo<axum::Router, Peer>,
    AddExtension<axum::Router, ConnectInfo<Peer>>,
>;

/// Serves `app` over plain HTTP.
pub fn serve_plain(listener: TcpListener, app: axum::Router) -> Served<PlainListener> {
    axum::serve(
        PlainListener::new(listener),
        app.into_make_service_with_connect_info::<Peer>(),
    )
}

/// Serves `app` over HTTPS.
pub fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
) -> std::io::Result<Served<TlsListener>> {
    Ok(axum::serve(
        TlsListener::new(listener, config)?,
        app.into_make_service_with_connect_info::<Peer>(),
    ))
}

/// A listener that hands out connections once their TLS handshake is done. Handshakes run
/// in tasks of their own, so a slow or silent client holds up no one else.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                no_delay(&stream);
                let (acceptor, ready) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { local, ready })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop ended (it never does while this listener lives).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Health checks and the metrics pass whatever the transport: load balancers and
/// Prometheus reach nodes directly, over plain HTTP.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Whether `peer` is one of the `trusted` proxies. A proxy that reaches a dual-stack
/// socket over IPv4 shows as an IPv4-mapped IPv6 address: it is its IPv4 address.
fn is_trusted(trusted: &[IpRange], peer: IpAddr) -> bool {
    let peer = peer.to_canonical();
    trusted.iter().any(|r| r.contains(peer))
}

/// Behind a proxy, refuses what did not come through it as HTTPS; over HTTPS (here or at
/// the proxy), adds HSTS.
pub(crate) async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Transport::BehindProxy { trusted } = &state.transport {
        let from_proxy = peer_of(&req).is_some_and(|p| is_trusted(trusted, p.ip()));
        let https = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        let answered = is_probe(req.uri().path()) || (from_proxy && https);
        if !answered {
            return ApiError::HttpsRequired.into_response();
        }
    }
    let https = state.transport.https();
    let mut response = next.run(req).await;
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[tokio::test]
    async fn plain_connections_send_small_writes_at_once() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut listener = PlainListener::new(tcp);
        let addr = Listener::local_addr(&listener).unwrap();
        let client = tokio::spawn(TcpStream::connect(addr));
        let (accepted, _) = Listener::accept(&mut listener).await;
        assert!(accepted.nodelay().unwrap());
        client.await.unwrap().unwrap();
    }

    #[test]
    fn a_proxy_is_trusted_by_its_address_or_its_mapped_form() {
        let trusted = [
            IpRange::parse("10.0.0.0/8").unwrap(),
            IpRange::parse("::1").unwrap(),
        ];
        for ok in ["10.2.3.4", "::ffff:10.2.3.4", "::1"] {
            assert!(is_trusted(&trusted, ok.parse().unwrap()), "{ok}");
        }
        for no in ["11.0.0.1", "127.0.0.1", "::2"] {
            assert!(!is_trusted(&trusted, no.parse().unwrap()), "{no}");
        }
    }
}
