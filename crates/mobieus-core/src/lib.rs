//! Use cases of mobieus. Each one owns exactly one transaction on one tenant's database
//! and writes the domain rows together with their public event (the transactional
//! outbox, with one webhook delivery per subscribed endpoint): after a crash there is
//! either the action with its event and deliveries, or none of it. The CLI
//! and the web call these; neither writes to the store directly.

pub mod accounts;
pub mod delivery;
mod error;
pub mod forum;
pub mod idempotency;
pub mod keys;
pub mod live;
mod outbox;
pub mod resend;
pub mod tenants;
pub mod transfer;
pub mod url_guard;
pub mod webhooks;

pub use error::CoreError;
pub use outbox::Published;

/// The result of a use case.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
