//! What every handler can reach: the store, the rate limiter and the rendered OpenAPI
//! document. Built once at start and cloned cheaply per request.

use crate::openapi::RenderedSpec;
use crate::rate_limit::RateLimiter;
use mobieus_store::Store;
use std::sync::Arc;

/// Shared application state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub(crate) store: Store,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) spec: Arc<RenderedSpec>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            limiter: Arc::new(RateLimiter::default()),
            spec: Arc::new(RenderedSpec::render()),
        }
    }
}
