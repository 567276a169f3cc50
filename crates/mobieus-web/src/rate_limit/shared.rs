//! The rate-limit counter every node shares, in Redis: one script per check counts the
//! request and reads the window's time left, atomically, so N nodes together allow a
//! key's limit and not N times it. Keys are `mobieus:rl:<tenant>:<key id>`.
//!
//! The connection is made once and kept; when it fails, or a check takes longer than
//! [`CHECK_TIMEOUT`], it is dropped and the next attempt waits [`RECONNECT_EVERY`]:
//! meanwhile checks fail at once (the caller counts in-process instead), never in a loop
//! of connection attempts.

use super::resp::{self, Call, RedisTarget, RespError, Value};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long one check may take, connecting included, before it fails open.
pub(super) const CHECK_TIMEOUT: Duration = Duration::from_millis(200);
/// At most one connection attempt this often.
pub(super) const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// How long a connection attempt (TCP, `AUTH`, `SELECT`, `SCRIPT LOAD`) may take.
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
    /// Not connected, and the last attempt is less than a second old (or still going).
    #[error("not connected ({0}); trying again within a second")]
    Waiting(Arc<str>),
    #[error("cannot connect")]
    Connect(#[source] RespError),
    #[error("no answer within {} ms", CHECK_TIMEOUT.as_millis())]
    Timeout,
    #[error("the connection closed")]
    Closed,
    #[error("the script failed: {0}")]
    Script(String),
    #[error("the script's reply is not [count, ms left]")]
    Reply,
}

/// The client: one pipelined connection, made again when lost (at most once a second).
#[derive(Debug)]
pub(super) struct SharedLimits {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: RedisTarget,
    link: Mutex<Link>,
}

#[derive(Debug, Default)]
struct Link {
    /// The connection's queue and the script's SHA-1.
    up: Option<(mpsc::Sender<Call>, Arc<str>)>,
    connecting: bool,
    last_attempt: Option<Instant>,
    /// Why the connection is down (so the next success is worth a log line).
    down: Option<Arc<str>>,
}

impl SharedLimits {
    pub(super) fn new(target: RedisTarget) -> Self {
        Self {
            inner: Arc::new(Inner {
                target,
                link: Mutex::default(),
            }),
        }
    }

    pub(super) fn target(&self) -> &RedisTarget {
        &self.inner.target
    }

    /// Connects now, if not connected (at start: to say in the log whether limits are
    /// shared, before the first request).
    pub(super) async fn connect(&self) -> Result<(), SharedError> {
        self.link().await.map(|_| ())
    }

    /// Counts one request under `key` in a window of `window_ms`.
    pub(super) async fn count(&self, key: &str, window_ms: u64) -> Result<Counted, SharedError> {
        let mut used = None;
        let counted = tokio::time::timeout(CHECK_TIMEOUT, async {
            let (tx, sha) = self.link().await?;
            used = Some(tx.clone());
            let window = window_ms.to_string();
            let reply = call(
                &tx,
                resp::command(&[
                    b"EVALSHA",
                    sha.as_bytes(),
                    b"1",
                    key.as_bytes(),
                    window.as_bytes(),
                ]),
            )
            .await?;
            let reply = match reply {
                // The server lost its scripts (a restart, SCRIPT FLUSH, a failover):
                // EVAL runs the script and caches it again.
                Value::Error(e) if e.starts_with("NOSCRIPT") => {
                    call(
                        &tx,
                        resp::command(&[
                            b"EVAL",
                            SCRIPT.as_bytes(),
                            b"1",
                            key.as_bytes(),
                            window.as_bytes(),
                        ]),
                    )
                    .await?
                }
                other => other,
            };
            parse_counted(reply)
        })
        .await
        .unwrap_or(Err(SharedError::Timeout));
        if let (Err(e @ (SharedError::Timeout | SharedError::Closed)), Some(tx)) = (&counted, used)
        {
            // A connection that stalls is given up: the checks after this one fail open
            // at once instead of each waiting out the timeout.
            self.inner.drop_link(&tx, e);
        }
        counted
    }

    /// The connection, made now when it is down and the last attempt is old enough.
    async fn link(&self) -> Result<(mpsc::Sender<Call>, Arc<str>), SharedError> {
        let attempt = {
            let mut link = self.inner.lock();
            if let Some((tx, sha)) = &link.up {
                if !tx.is_closed() {
                    return Ok((tx.clone(), sha.clone()));
                }
                link.up = None;
            }
            if link.connecting {
                return Err(SharedError::Waiting("connecting".into()));
            }
            if link
                .last_attempt
                .is_some_and(|t| t.elapsed() < RECONNECT_EVERY)
            {
                let why = link.down.clone().unwrap_or_else(|| "connecting".into());
                return Err(SharedError::Waiting(why));
            }
            link.connecting = true;
            link.last_attempt = Some(Instant::now());
            // A task of its own: a caller that times out does not cut the attempt short.
            let inner = self.inner.clone();
            tokio::spawn(async move { inner.reconnect().await })
        };
        attempt.await.map_err(|_| SharedError::Closed)?
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Link> {
        self.link.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn reconnect(&self) -> Result<(mpsc::Sender<Call>, Arc<str>), SharedError> {
        let opened = tokio::time::timeout(CONNECT_TIMEOUT, resp::open(&self.target, SCRIPT))
            .await
            .unwrap_or_else(|_| {
                Err(RespError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no answer within a second",
                )))
            });
        let mut link = self.lock();
        link.connecting = false;
        match opened {
            Ok((tx, sha)) => {
                if link.down.take().is_some() {
                    tracing::info!(redis = %self.target, "connected to Redis again: API rate limits are shared across nodes");
                }
                let sha: Arc<str> = sha.into();
                link.up = Some((tx.clone(), sha.clone()));
                Ok((tx, sha))
            }
            Err(e) => {
                link.down = Some(format!("cannot connect: {e}").into());
                Err(SharedError::Connect(e))
            }
        }
    }

    /// Forgets the connection behind `tx` (not a newer one); its task ends once the
    /// checks still using it are done.
    fn drop_link(&self, tx: &mpsc::Sender<Call>, why: &SharedError) {
        let mut link = self.lock();
        if link.up.as_ref().is_some_and(|(up, _)| up.same_channel(tx)) {
            link.up = None;
            link.down = Some(format!("a check failed: {why}").into());
            link.last_attempt = Some(Instant::now());
        }
    }
}

async fn call(tx: &mpsc::Sender<Call>, frame: Vec<u8>) -> Result<Value, SharedError> {
    let (reply, answer) = oneshot::channel();
    tx.send(Call { frame, reply })
        .await
        .map_err(|_| SharedError::Closed)?;
    answer.await.map_err(|_| SharedError::Closed)
}

/// The script's `{count, ms left}`.
pub(super) fn parse_counted(reply: Value) -> Result<Counted, SharedError> {
    match reply {
        Value::Array(Some(items)) => match items.as_slice() {
            [Value::Int(count), Value::Int(left)] if *count >= 1 => Ok(Counted {
                count: u64::try_from(*count).map_err(|_| SharedError::Reply)?,
                left_ms: u64::try_from(*left).unwrap_or(0),
            }),
            _ => Err(SharedError::Reply),
        },
        Value::Error(e) => Err(SharedError::Script(e)),
        _ => Err(SharedError::Reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that completes the handshake (answers `SCRIPT LOAD`) and then never
    /// answers again: a check times out, and the connection is given up at once rather
    /// than making every later check wait out its own timeout.
    #[tokio::test]
    async fn a_connection_that_stalls_is_given_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0; 1024];
            let _ = socket.read(&mut buf).await.unwrap();
            let sha = "0".repeat(40);
            socket
                .write_all(format!("$40\r\n{sha}\r\n").as_bytes())
                .await
                .unwrap();
            // Hold the socket, reading and never answering.
            while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        });
        let target = RedisTarget::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let shared = SharedLimits::new(target);
        shared.connect().await.unwrap();
        let e = shared.count("k", 60_000).await.unwrap_err();
        assert!(matches!(e, SharedError::Timeout), "{e}");
        {
            let link = shared.inner.lock();
            assert!(
                link.up.is_none() && link.down.is_some(),
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

    /// Answers every command read from `socket` with `reply(n)` (n counts from 0) until
    /// `n == stop`, then closes it.
    async fn answer(socket: &mut tokio::net::TcpStream, stop: usize, reply: fn(usize) -> String) {
        let mut buf = Vec::new();
        let mut n = 0;
        while n < stop {
            while let Some((_, used)) = resp::parse(&buf).unwrap() {
                buf.drain(..used);
                socket.write_all(reply(n).as_bytes()).await.unwrap();
                n += 1;
            }
            if socket.read_buf(&mut buf).await.unwrap() == 0 {
                return;
            }
        }
    }

    #[tokio::test]
    async fn a_lost_connection_is_made_again_a_second_later() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let loaded = |_| format!("$40\r\n{}\r\n", "0".repeat(40));
        let server = tokio::spawn(async move {
            // The first connection loads the script and is closed.
            let (mut first, _) = listener.accept().await.unwrap();
            answer(&mut first, 1, loaded).await;
            drop(first);
            let (mut second, _) = listener.accept().await.unwrap();
            answer(&mut second, usize::MAX, |n| match n {
                0 => format!("$40\r\n{}\r\n", "0".repeat(40)),
                n => format!("*2\r\n:{n}\r\n:59000\r\n"),
            })
            .await;
        });
        let target = RedisTarget::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
        let shared = SharedLimits::new(target);
        shared.connect().await.unwrap();
        // Until the second is up, checks fail without trying to connect again.
        let e = loop {
            match shared.count("k", 60_000).await {
                Err(SharedError::Closed) => tokio::task::yield_now().await,
                other => break other.unwrap_err(),
            }
        };
        assert!(matches!(e, SharedError::Waiting(_)), "{e}");
        tokio::time::sleep(RECONNECT_EVERY).await;
        assert_eq!(
            shared.count("k", 60_000).await.unwrap(),
            Counted {
                count: 1,
                left_ms: 59_000
            }
        );
        server.abort();
    }

    #[test]
    fn the_scripts_reply_parses_into_a_count_and_the_time_left() {
        let (reply, _) = resp::parse(b"*2\r\n:7\r\n:41250\r\n").unwrap().unwrap();
        assert_eq!(
            parse_counted(reply).unwrap(),
            Counted {
                count: 7,
                left_ms: 41250
            }
        );
        let (reply, _) = resp::parse(b"-ERR Error running script\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(parse_counted(reply), Err(SharedError::Script(_))));
        for bad in [
            &b"*1\r\n:7\r\n"[..],
            b"*2\r\n:0\r\n:100\r\n",
            b"*2\r\n$1\r\n7\r\n:100\r\n",
            b":7\r\n",
            b"*-1\r\n",
        ] {
            let (reply, _) = resp::parse(bad).unwrap().unwrap();
            assert!(
                matches!(parse_counted(reply), Err(SharedError::Reply)),
                "{bad:?}"
            );
        }
    }
}
