//! The fast receiver: plain HTTP on 127.0.0.1, answers 204 at once, counts requests, and
//! (for latency) notes when each event arrived, by `webhook-id`.

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Shared {
    count: AtomicU64,
    arrivals: Option<Mutex<HashMap<String, Instant>>>,
    arrived: Notify,
}

#[derive(Debug, Clone)]
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Receiver {
    /// `timed`: also note each event's arrival time (costs a lock per request).
    pub async fn start(timed: bool) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            arrivals: timed.then(Mutex::default),
            ..Shared::default()
        });
        let state = shared.clone();
        let app = axum::Router::new().route(
            "/{*path}",
            post(move |headers: HeaderMap| {
                let state = state.clone();
                async move {
                    let now = Instant::now();
                    if let Some(arrivals) = &state.arrivals
                        && let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
                    {
                        arrivals
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(id.to_owned(), now);
                    }
                    state.count.fetch_add(1, Ordering::Relaxed);
                    state.arrived.notify_waiters();
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind the receiver: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn count(&self) -> u64 {
        self.shared.count.load(Ordering::Relaxed)
    }

    /// Waits until `n` requests have arrived, up to `timeout`; returns whether they did.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            if self.count() >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // A wake-up can be missed between the check and the wait: poll too.
            let _ = tokio::time::timeout(left.min(Duration::from_millis(20)), notified).await;
        }
    }

    /// When the event with this `webhook-id` arrived.
    pub fn arrival(&self, id: &str) -> Option<Instant> {
        self.shared
            .arrivals
            .as_ref()?
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .copied()
    }
}
