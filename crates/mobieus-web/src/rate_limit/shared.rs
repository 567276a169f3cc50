//! The rate-limit counter every node shares, in Redis: one script per check counts the
//! request and reads the window's time left, atomically, so N nodes together allow a
//! key's limit and not N times it. Keys are `mobieus:rl:<tenant>:<key id>`.
//!
//! The connection is the redis crate's `ConnectionManager`: one multiplexed connection
//! per node, on which concurrent checks are pipelined, made again in the background when
//! it drops. What is ours is the policy that keeps requests from waiting on Redis:
//! - a check gets [`CHECK_TIMEOUT`], then fails (the caller counts in-process instead);
//! - after a failure, checks fail at once for [`RECONNECT_EVERY`], then one tries again:
//!   never a connection attempt per request;
//! - a connection is made in a task of its own, bounded by [`CONNECT_TIMEOUT`], so the
//!   checks' short timeout does not cut a slow handshake (TLS, `AUTH`) short;
//! - the manager reconnects after an I/O error only: one that stalls (no answer, no
//!   error) or whose handshake was refused is given up and a new one made.

use super::target::RedisTarget;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Script, Value};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one check may take, connecting included, before it fails open.
pub(super) const CHECK_TIMEOUT: Duration = Duration::from_millis(200);
/// At most one try of Redis this often while it fails.
pub(super) const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// How long making a connection (TCP, TLS, `AUTH`, `SELECT`, `SCRIPT LOAD`) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Counts the request under `KEYS[1]`; the first one of a window starts its expiry of
/// `ARGV[1]` ms. Returns the count and the window's milliseconds left. (A key found with
/// no expiry, which only a hand-made key could be, is given one rather than counted
/// for ever.)
pub(super) const SCRIPT: &str = "\
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return {n, left}
";

/// The script, run by its SHA-1 (`EVALSHA`), loaded again when Redis has lost it (a
/// restart, `SCRIPT FLUSH`, a failover).
static COUNT: LazyLock<Script> = LazyLock::new(|| Script::new(SCRIPT));

/// What one check counted: requests in this window so far (this one included), and the
/// window's time left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Counted {
    pub count: u64,
    pub left_ms: u64,
}

/// Why a check could not be counted in Redis.
#[derive(Debug, thiserror::Error)]
pub(super) enum SharedError {
    /// Not connected, and the last try is less than a second old (or still going).
    #[error("not connected ({0}); trying again within a second")]
    Waiting(Arc<str>),
    #[error("cannot connect")]
    Connect(#[source] RedisError),
    #[error("no answer within {} ms", CHECK_TIMEOUT.as_millis())]
    Timeout,
    #[error("the connection failed")]
    Lost(#[source] RedisError),
    #[error("the script failed")]
    Script(#[source] RedisError),
    #[error("the script's reply is not [count, ms left]")]
    Reply,
}

/// The client: the connection when there is one, and when to try Redis again.
#[derive(Debug)]
pub(super) struct SharedLimits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: RedisTarget,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The connection, once made, and its number (so a failure gives up only the
    /// connection it happened on, not a newer one).
    up: Option<(u64, ConnectionManager)>,
    made: u64,
    connecting: bool,
    /// Checks fail at once until then.
    retry_at: Option<Instant>,
    /// Why Redis is down (so the next success is worth a log line).
    down: Option<Arc<str>>,
}

impl SharedLimits {
    pub(super) fn new(target: RedisTarget) -> Self {
        Self {
            inner: Arc::new(Inner {
                target,
                state: Mutex::default(),
            }),
        }
    }

    pub(super) fn target(&self) -> &RedisTarget {
        &self.inner.target
    }

    /// Connects now, if not connected (at start: to say in the log whether limits are
    /// shared, before the first request).
    pub(super) async fn connect(&self) -> Result<(), SharedError> {
        self.connection().await.map(|_| ())
    }

    /// Counts one request under `key` in a window of `window_ms`.
    pub(super) async fn count(&self, key: &str, window_ms: u64) -> Result<Counted, SharedError> {
        let mut used = None;
        let counted = tokio::time::timeout(CHECK_TIMEOUT, async {
            let (number, mut connection) = self.connection().await?;
            used = Some(number);
            let reply: Value = COUNT
                .key(key)
                .arg(window_ms)
                .invoke_async(&mut connection)
                .await
                .map_err(|e| match e.kind() {
                    // Redis answered: the connection is fine.
                    ErrorKind::Server(_) => SharedError::Script(e),
                    _ => SharedError::Lost(e),
                })?;
            parse_counted(reply)
        })
        .await
        .unwrap_or(Err(SharedError::Timeout));
        self.inner.after(used, &counted);
        counted
    }

    /// The connection and its number; made now (awaited within the caller's timeout,
    /// in a task that outlives it) when there is none and the last try is old enough.
    async fn connection(&self) -> Result<(u64, ConnectionManager), SharedError> {
        let attempt = {
            let mut state = self.inner.lock();
            let now = Instant::now();
            if let Some(at) = state.retry_at {
                if now < at {
                    let why = state.down.clone().unwrap_or_else(|| "connecting".into());
                    return Err(SharedError::Waiting(why));
                }
                // This check tries again; the others go on failing at once meanwhile.
                state.retry_at = Some(now + RECONNECT_EVERY);
            }
            if let Some((number, connection)) = &state.up {
                return Ok((*number, connection.clone()));
            }
            if state.connecting {
                return Err(SharedError::Waiting("connecting".into()));
            }
            state.connecting = true;
            let inner = self.inner.clone();
            tokio::spawn(async move { inner.open().await })
        };
        attempt
            .await
            .map_err(|_| SharedError::Waiting("the connection attempt stopped".into()))?
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the connection: the manager connects on its first command, `SCRIPT LOAD`,
    /// which also proves the handshake.
    async fn open(&self) -> Result<(u64, ConnectionManager), SharedError> {
        let config = ConnectionManagerConfig::new()
            // One attempt each time: when to try again is this module's choice.
            .set_number_of_retries(0)
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            // Each check has its own, shorter, timeout.
            .set_response_timeout(None);
        let made = async {
            let mut connection = ConnectionManager::new_lazy_with_config(
                self.target.redis_client().clone(),
                config,
            )?;
            COUNT.load_async(&mut connection).await?;
            Ok::<_, RedisError>(connection)
        };
        let made = tokio::time::timeout(CONNECT_TIMEOUT, made)
            .await
            .unwrap_or_else(|_| {
                Err(RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no answer within a second",
                )))
            });
        let mut state = self.lock();
        state.connecting = false;
        match made {
            Ok(connection) => {
                if state.down.take().is_some() {
                    tracing::info!(redis = %self.target, "connected to Redis again: API rate limits are shared across nodes");
                }
                state.retry_at = None;
                state.made += 1;
                let number = state.made;
                state.up = Some((number, connection.clone()));
                Ok((number, connection))
            }
            Err(e) => {
                state.down = Some(format!("cannot connect: {}", super::Chain(&e)).into());
                state.retry_at = Some(Instant::now() + RECONNECT_EVERY);
                Err(SharedError::Connect(e))
            }
        }
    }

    /// Takes in a check's outcome on connection `used`: a success ends a failure; a
    /// failure of the connection makes checks wait a second before trying again, and
    /// gives the connection up unless the manager is making it again itself.
    fn after(&self, used: Option<u64>, counted: &Result<Counted, SharedError>) {
        let give_up = match counted {
            Ok(_) => {
                let mut state = self.lock();
                if state.retry_at.is_some() && state.up.as_ref().map(|(n, _)| *n) == used {
                    state.retry_at = None;
                    if state.down.take().is_some() {
                        tracing::info!(redis = %self.target, "Redis answers again: API rate limits are shared across nodes");
                    }
                }
                return;
            }
            Err(SharedError::Timeout) => true,
            Err(SharedError::Lost(e)) => !e.is_io_error(),
            Err(_) => return,
        };
        let Some(used) = used else { return };
        let mut state = self.lock();
        if state.up.as_ref().is_some_and(|(n, _)| *n == used) {
            if give_up {
                state.up = None;
            }
            let why = counted.as_ref().err().map(|e| super::Chain(e).to_string());
            state.down = Some(format!("a check failed: {}", why.unwrap_or_default()).into());
            state.retry_at = Some(Instant::now() + RECONNECT_EVERY);
        }
    }
}

/// The script's `{count, ms left}`.
pub(super) fn parse_counted(reply: Value) -> Result<Counted, SharedError> {
    match reply {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(count), Value::Int(left)] if *count >= 1 => Ok(Counted {
                count: u64::try_from(*count).map_err(|_| SharedError::Reply)?,
                left_ms: u64::try_from(*left).unwrap_or(0),
            }),
            _ => Err(SharedError::Reply),
        },
        _ => Err(SharedError::Reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The answer to `SCRIPT LOAD`: the script's SHA-1.
    fn loaded() -> String {
        format!("$40\r\n{}\r\n", COUNT.get_hash())
    }

    /// Reads commands from `socket` (one per read: the tests send one at a time) and
    /// answers each with `reply(command, n)` until `reply` gives `None`.
    async fn answer(
        socket: &mut tokio::net::TcpStream,
        mut reply: impl FnMut(&str, usize) -> Option<String>,
    ) {
        let mut buf = [0; 4096];
        let mut n = 0;
        loop {
            let Ok(read) = socket.read(&mut buf).await else {
                return;
            };
            if read == 0 {
                return;
            }
            let command = String::from_utf8_lossy(&buf[..read]).into_owned();
            let Some(r) = reply(&command, n) else { return };
            socket.write_all(r.as_bytes()).await.unwrap();
            n += 1;
        }
    }

    /// A server that completes the handshake (answers `SCRIPT LOAD`) and then never
    /// answers again: a check times out, and the connection is given up at once rather
    /// than making every later check wait out its own timeout.
    #[tokio::test]
    async fn a_connection_that_stalls_is_given_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            answer(&mut socket, |_, n| (n == 0).then(loaded)).await;
            // Hold the socket, reading and never answering.
            let mut buf = [0; 1024];
            while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        });
        let target = RedisTarget::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let shared = SharedLimits::new(target);
        shared.connect().await.unwrap();
        let e = shared.count("k", 60_000).await.unwrap_err();
        assert!(matches!(e, SharedError::Timeout), "{e}");
        {
            let state = shared.inner.lock();
            assert!(
                state.up.is_none() && state.down.is_some(),
                "the stalled connection is dropped"
            );
        }
        let e = shared.count("k", 60_000).await.unwrap_err();
        assert!(
            matches!(e, SharedError::Waiting(_)),
            "no new attempt within a second: {e}"
        );
        server.abort();
    }

    #[tokio::test]
    async fn a_lost_connection_is_made_again_a_second_later() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            // The first connection loads the script and is closed.
            let (mut first, _) = listener.accept().await.unwrap();
            answer(&mut first, |_, n| (n == 0).then(loaded)).await;
            drop(first);
            let (mut second, _) = listener.accept().await.unwrap();
            let mut counted = 0;
            answer(&mut second, |command, _| {
                Some(if command.contains("EVALSHA") {
                    counted += 1;
                    format!("*2\r\n:{counted}\r\n:59000\r\n")
                } else {
                    loaded()
                })
            })
            .await;
        });
        let target = RedisTarget::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let shared = SharedLimits::new(target);
        shared.connect().await.unwrap();
        // The server closes the first connection: a check fails on it, and until a
        // second has passed the checks fail at once, without trying to connect.
        let e = loop {
            match shared.count("k", 60_000).await {
                Ok(_) => panic!("the closed connection counted"),
                Err(SharedError::Waiting(why)) => break why,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        assert!(e.contains("a check failed"), "{e}");
        tokio::time::sleep(RECONNECT_EVERY).await;
        assert_eq!(
            shared.count("k", 60_000).await.unwrap(),
            Counted {
                count: 1,
                left_ms: 59_000
            }
        );
        assert!(shared.inner.lock().retry_at.is_none(), "counting again");
        server.abort();
    }

    #[test]
    fn the_scripts_reply_parses_into_a_count_and_the_time_left() {
        assert_eq!(
            parse_counted(Value::Array(vec![Value::Int(7), Value::Int(41250)])).unwrap(),
            Counted {
                count: 7,
                left_ms: 41250
            }
        );
        for bad in [
            Value::Array(vec![Value::Int(7)]),
            Value::Array(vec![Value::Int(0), Value::Int(100)]),
            Value::Array(vec![Value::BulkString(b"7".to_vec()), Value::Int(100)]),
            Value::Int(7),
            Value::Nil,
        ] {
            assert!(
                matches!(parse_counted(bad.clone()), Err(SharedError::Reply)),
                "{bad:?}"
            );
        }
    }
}
