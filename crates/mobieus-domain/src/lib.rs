//! Pure types and rules of mobieus. Nothing here does I/O: every other crate builds on
//! these types, and every value of them was parsed, so holding one means it is valid.
//!
//! - [`account`]: members' passwords, sessions, CSRF tokens and the login throttle.
//! - [`time`]: timestamps as the API shows them (RFC 3339, UTC, milliseconds).
//! - [`tenant`]: tenant slugs and host names.
//! - [`forum`]: users, threads, posts and the rules of who may do what.
//! - [`event`]: the public event catalog and the event envelope.
//! - [`scope`] and [`api_key`]: API-key format, hashing and scopes.
//! - [`page`]: list limits and opaque cursors.
//! - [`sealing`]: secrets at rest, sealed with the server's master key.
//! - [`webhook`]: signing secrets and signatures, the SSRF policy, the retry schedule.
//! - [`ip_range`]: address ranges (CIDR), for the SSRF policy and trusted proxies.

pub mod account;
pub mod api_key;
pub mod event;
pub mod event_examples;
pub mod forum;
pub mod ip_range;
pub mod page;
pub mod random;
pub mod scope;
pub mod sealing;
pub mod sse;
pub mod tenant;
pub mod time;
pub mod webhook;
