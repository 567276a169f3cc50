//! What every handler can reach: the store, the rate limiter, the SSRF guard for webhook
//! URLs and the rendered OpenAPI document. Built once at start and cloned cheaply per request.

use crate::openapi::RenderedSpec;
use crate::rate_limit::RateLimiter;
use mobieus_core::url_guard::UrlGuard;
use mobieus_store::Store;
use std::sync::Arc;

/// Shared application state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) spec: Arc<RenderedSpec>,
    pub(crate) guard: UrlGuard,
}

impl AppState {
    /// `guard` checks every webhook URL registered or changed (the delivery worker checks
    /// again at each attempt with the same rules).
    pub fn new(store: Store, guard: UrlGuard) -> Self {
        Self {
            store,
            limiter: Arc::new(RateLimiter::default()),
            spec: Arc::new(RenderedSpec::render()),
            guard,
        }
    }
}
