//! Every tenant-scoped statement, written once for both backends (see [`crate::db`]).
//! Each function takes the [`Conn`](crate::db::Conn) of a read or of the open write
//! transaction. Where the backends truly differ (a lock Postgres needs and SQLite's one
//! writer makes moot, a batch sent as arrays, the claim), the function says so and
//! branches on the connection, calling the backend's own code in `sqlite` or `postgres`.

pub(crate) mod accounts;
pub(crate) mod control;
pub(crate) mod events;
pub(crate) mod forum;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod keys;
pub(crate) mod queue;
pub(crate) mod retention;
pub(crate) mod transfer;
pub(crate) mod webhooks;
