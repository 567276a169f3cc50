//! What every handler can reach: the store, the rate limiter, the SSRF guard for webhook
//! URLs, the rendered OpenAPI document and the process's metrics. Built once at start and
//! cloned cheaply per request.

use crate::api::stream::Streams;
use crate::metrics::Metrics;
use crate::openapi::RenderedSpec;
use crate::rate_limit::RateLimiter;
use crate::serving::Transport;
use mobieus_core::live::LiveFeed;
use mobieus_core::url_guard::UrlGuard;
use mobieus_store::Store;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Shared application state: one `Arc`, so the clone axum makes for each extractor and
/// middleware of each request is one atomic increment (cloning the parts one by one
/// took 4 % of the CPU of `mobieus-bench api`).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Shared {
    pub(crate) store: Store,
    pub(crate) limiter: RateLimiter,
    pub(crate) spec: RenderedSpec,
    pub(crate) guard: UrlGuard,
    pub(crate) transport: Transport,
    pub(crate) metrics: Metrics,
    /// The feed's tails, read once for all the live streams of a tenant.
    pub(crate) live: LiveFeed,
    pub(crate) streams: Streams,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// `guard` checks every webhook URL registered or changed (the delivery worker checks
    /// again at each attempt with the same rules).
    pub fn new(store: Store, guard: UrlGuard) -> Self {
        Self::serving(store, guard, Transport::Loopback)
    }

    /// As [`AppState::new`], for a node facing its clients through `transport`.
    pub fn serving(store: Store, guard: UrlGuard, transport: Transport) -> Self {
        Self::serving_with(
            store,
            guard,
            transport,
            RateLimiter::per_node(),
            Registry::default(),
        )
    }

    /// As [`AppState::serving`], counting API requests with `limiter` (per node, or
    /// shared through Redis), and serving on `/metrics` the figures of `registry` (those
    /// of the in-process worker) beside the web's own, which are registered in it here.
    pub fn serving_with(
        store: Store,
        guard: UrlGuard,
        transport: Transport,
        limiter: RateLimiter,
        registry: Registry,
    ) -> Self {
        let metrics = Metrics::new(registry, &limiter);
        Self(Arc::new(Shared {
            store,
            limiter,
            spec: RenderedSpec::render(),
            guard,
            transport,
            metrics,
            live: LiveFeed::default(),
            streams: Streams::default(),
        }))
    }

    /// Ends every live event stream (before a graceful shutdown, which waits for open
    /// answers to finish: a stream never would). Clients reconnect and resume.
    pub fn close_streams(&self) {
        self.streams.close();
    }
}
