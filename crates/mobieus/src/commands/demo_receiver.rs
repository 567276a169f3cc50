//! The demo's webhook receiver: a loopback HTTP server that checks both signatures of
//! every delivery with the endpoint's secret and prints one line per event, so the demo
//! shows a delivery arrive the moment a forum action commits.

use crate::Result;
use crate::error::CliError;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{WebhookSecret, verify, verify_standard};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Signatures older or newer than this are refused, as a receiver should.
const TOLERANCE_SECS: i64 = 300;

/// A running receiver; its secret is set once the endpoint pointing at it is registered.
#[derive(Debug)]
pub(super) struct Receiver {
    pub addr: SocketAddr,
    pub secret: Arc<OnceLock<WebhookSecret>>,
}

impl Receiver {
    pub fn url(&self) -> String {
        format!("http://{}/webhooks/demo", self.addr)
    }
}

pub(super) async fn start() -> Result<Receiver> {
    let secret: Arc<OnceLock<WebhookSecret>> = Arc::default();
    let shared = secret.clone();
    let app = axum::Router::new().route(
        "/webhooks/demo",
        post(move |headers: HeaderMap, body: Bytes| {
            let secret = shared.clone();
            async move { receive(secret.get(), &headers, &body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::Io(format!("cannot start the demo receiver: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Io(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "demo receiver stopped");
        }
    });
    Ok(Receiver { addr, secret })
}

fn receive(secret: Option<&WebhookSecret>, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let Some(secret) = secret else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let now = Timestamp::now().millis() / 1000;
    let ours = verify(
        header("mobieus-signature"),
        body,
        secret,
        now,
        TOLERANCE_SECS,
    );
    let standard = verify_standard(
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
        body,
        secret,
        now,
        TOLERANCE_SECS,
    );
    let verdict = match (&ours, &standard) {
        (Ok(()), Ok(())) => "both signatures valid".to_owned(),
        _ => format!("REFUSED: Mobieus-Signature {ours:?}, webhook-signature {standard:?}"),
    };
    println!(
        "webhook received: {} {} (attempt {}): {verdict}",
        header("mobieus-event"),
        header("webhook-id"),
        header("mobieus-attempt"),
    );
    if ours.is_ok() && standard.is_ok() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}
