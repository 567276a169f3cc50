//! The HTTP client every attempt goes through: it resolves names only through the SSRF
//! guard (so it connects to vetted addresses only), follows no redirect, ignores proxy
//! settings, and gives up after the connect and total timeouts.

use mobieus_core::url_guard::UrlGuard;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the client connects.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// For the whole attempt: connect, send, and read the answer.
    pub total_timeout: Duration,
    /// A PEM file of extra CAs trusted for webhook targets (`MOBIEUS_WEBHOOK_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    /// Idle connections kept per host, for reuse.
    pub idle_per_host: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            ca_file: None,
            idle_per_host: 64,
        }
    }
}

/// Why the worker cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("cannot read the webhook CA file {path}: {source}")]
    CaFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the webhook CA file {0} holds no usable PEM certificate")]
    CaPem(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Makes ring the process's TLS provider (reqwest is built without one). Idempotent.
pub fn install_crypto() {
    // Err means a provider is already installed, which is all this wants.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Resolves through the guard: every answer vetted, only vetted answers returned.
struct GuardedResolve(UrlGuard);

impl Resolve for GuardedResolve {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let addrs = guard.resolve(name.as_str()).await?;
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The client every attempt goes through (the benchmark measures the raw rate with it too).
pub fn build(
    guard: &UrlGuard,
    settings: &ClientSettings,
) -> Result<reqwest::Client, DeliveryError> {
    install_crypto();
    let mut builder = reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolve(guard.clone())))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.total_timeout)
        .pool_max_idle_per_host(settings.idle_per_host)
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true);
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|source| DeliveryError::CaFile {
            path: path.display().to_string(),
            source,
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| DeliveryError::CaPem(path.display().to_string()))?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(DeliveryError::Client)
}
