//! Just enough of a Redis client for the shared rate limit: the `redis://` URL, the
//! handshake (`AUTH` from the URL's password, `SELECT` from its path, then `SCRIPT LOAD`),
//! and one connection per node on which concurrent commands are pipelined (RESP2). It
//! touches nothing but the socket it opens; timeouts and reconnecting are the caller's.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The longest reply taken (ours are a few bytes): a longer one is a protocol error.
const MAX_BULK: usize = 64 * 1024;
const MAX_ARRAY: usize = 64;
/// Commands waiting for the connection's writer.
const QUEUE: usize = 4096;
/// How long a write may block before the connection is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where Redis is, from `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`. Its `Debug` and
/// `Display` never show the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisTarget {
    host: String,
    port: u16,
    db: u32,
    user: Option<String>,
    password: Option<String>,
}

impl RedisTarget {
    /// Parses a `redis://` URL; the error never repeats it (it may hold a password).
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.starts_with("rediss://") {
            return Err("rediss:// (TLS to Redis) is not supported: reach Redis over a private network or a local TLS tunnel, with a redis:// URL".to_owned());
        }
        if !s.starts_with("redis://") {
            return Err("expected a URL like redis://[:PASSWORD@]HOST[:PORT][/DB]".to_owned());
        }
        let url = url::Url::parse(s).map_err(|e| format!("not a valid redis:// URL ({e})"))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err("the redis:// URL names no host".to_owned()),
        };
        let db = match url.path().trim_start_matches('/') {
            "" => 0,
            n => n.parse::<u32>().map_err(|_| {
                "the redis:// URL's path must be a database number, like /0".to_owned()
            })?,
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the redis:// URL takes no query or fragment".to_owned());
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "the redis:// URL's user or password is not UTF-8".to_owned())
        };
        let password = url.password().map(decode).transpose()?;
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(6379),
            db,
            user,
            password,
        })
    }
}

impl fmt::Display for RedisTarget {
    /// `redis://HOST:PORT/DB`, without the credentials: what logs may show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = if self.password.is_some() { "***@" } else { "" };
        if self.host.contains(':') {
            write!(f, "redis://{auth}[{}]:{}/{}", self.host, self.port, self.db)
        } else {
            write!(f, "redis://{auth}{}:{}/{}", self.host, self.port, self.db)
        }
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisTarget({self})")
    }
}

/// A reply (RESP2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR …`: the command failed; the connection is fine.
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Value>>),
}

/// Why the connection could not be made or used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RespError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the connection closed")]
    Closed,
    #[error("not a Redis reply")]
    Protocol,
    /// Redis refused the handshake (a wrong password, a database out of range).
    #[error("Redis refused {command}: {message}")]
    Refused {
        command: &'static str,
        message: String,
    },
}

/// One command as RESP: an array of bulk strings.
pub(crate) fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The whole value at the start of `buf` and how many bytes it took, or `None` when
/// `buf` holds only part of it.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, RespError> {
    parse_at(buf, 0, 0)
}

fn parse_at(buf: &[u8], at: usize, depth: u8) -> Result<Option<(Value, usize)>, RespError> {
    let Some((kind, line, next)) = line(buf, at) else {
        return Ok(None);
    };
    let text = || String::from_utf8_lossy(line).into_owned();
    let number = || -> Result<i64, RespError> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(RespError::Protocol)
    };
    Ok(Some(match kind {
        b'+' => (Value::Simple(text()), next),
        b'-' => (Value::Error(text()), next),
        b':' => (Value::Int(number()?), next),
        b'$' => match number()? {
            -1 => (Value::Bulk(None), next),
            n => {
                let n = usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_BULK)
                    .ok_or(RespError::Protocol)?;
                let Some(end) = buf.get(next..next + n + 2) else {
                    return Ok(None);
                };
                if &end[n..] != b"\r\n" {
                    return Err(RespError::Protocol);
                }
                (Value::Bulk(Some(end[..n].to_vec())), next + n + 2)
            }
        },
        b'*' => match number()? {
            -1 => (Value::Array(None), next),
            n => {
                let n = usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= MAX_ARRAY && depth < 4)
                    .ok_or(RespError::Protocol)?;
                let mut items = Vec::with_capacity(n);
                let mut at = next;
                for _ in 0..n {
                    let Some((item, after)) = parse_at(buf, at, depth + 1)? else {
                        return Ok(None);
                    };
                    items.push(item);
                    at = after;
                }
                (Value::Array(Some(items)), at)
            }
        },
        _ => return Err(RespError::Protocol),
    }))
}

/// The type byte, the rest of the line up to `\r\n`, and where the next line starts.
fn line(buf: &[u8], at: usize) -> Option<(u8, &[u8], usize)> {
    let rest = buf.get(at..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let (&kind, line) = rest[..end].split_first()?;
    Some((kind, line, at + end + 2))
}

/// A command on its way, with where its reply goes.
#[derive(Debug)]
pub(crate) struct Call {
    pub frame: Vec<u8>,
    pub reply: oneshot::Sender<Value>,
}

/// Connects, authenticates, selects the database and loads `script`; returns the queue
/// of the connection's task and the script's SHA-1 (for `EVALSHA`). The task ends when
/// the socket fails or every sender is dropped.
pub(crate) async fn open(
    target: &RedisTarget,
    script: &str,
) -> Result<(mpsc::Sender<Call>, String), RespError> {
    let mut stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(512);
    if let Some(password) = &target.password {
        let frame = match &target.user {
            Some(user) => command(&[b"AUTH", user.as_bytes(), password.as_bytes()]),
            None => command(&[b"AUTH", password.as_bytes()]),
        };
        expect_ok(&mut stream, &mut buf, &frame, "AUTH").await?;
    }
    if target.db != 0 {
        let db = target.db.to_string();
        expect_ok(
            &mut stream,
            &mut buf,
            &command(&[b"SELECT", db.as_bytes()]),
            "SELECT",
        )
        .await?;
    }
    let sha = match round_trip(
        &mut stream,
        &mut buf,
        &command(&[b"SCRIPT", b"LOAD", script.as_bytes()]),
    )
    .await?
    {
        Value::Bulk(Some(sha)) => String::from_utf8(sha).map_err(|_| RespError::Protocol)?,
        Value::Error(message) => {
            return Err(RespError::Refused {
                command: "SCRIPT LOAD",
                message,
            });
        }
        _ => return Err(RespError::Protocol),
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(run(stream, buf, rx));
    Ok((tx, sha))
}

async fn expect_ok(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    frame: &[u8],
    command: &'static str,
) -> Result<(), RespError> {
    match round_trip(stream, buf, frame).await? {
        Value::Simple(_) => Ok(()),
        Value::Error(message) => Err(RespError::Refused { command, message }),
        _ => Err(RespError::Protocol),
    }
}

/// Sends one command and reads its reply (the handshake, before pipelining starts).
async fn round_trip(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    frame: &[u8],
) -> Result<Value, RespError> {
    stream.write_all(frame).await?;
    loop {
        if let Some((value, used)) = parse(buf)? {
            buf.drain(..used);
            return Ok(value);
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(RespError::Closed);
        }
    }
}

/// The connection's task: writes every queued command (as many as are waiting, in one
/// write) and hands each reply, in order, to its caller. A caller that gave up has
/// dropped its receiver; its reply is read and discarded, so the order holds.
async fn run(mut stream: TcpStream, mut buf: Vec<u8>, mut rx: mpsc::Receiver<Call>) {
    let mut waiting: VecDeque<oneshot::Sender<Value>> = VecDeque::new();
    let mut out = Vec::with_capacity(1024);
    loop {
        // Both branches are cancel-safe: a call is either received or left in the
        // queue, and bytes read are kept in `buf`.
        tokio::select! {
            call = rx.recv() => {
                let Some(call) = call else { return };
                out.extend_from_slice(&call.frame);
                waiting.push_back(call.reply);
                while let Ok(call) = rx.try_recv() {
                    out.extend_from_slice(&call.frame);
                    waiting.push_back(call.reply);
                }
                let written = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&out)).await;
                if !matches!(written, Ok(Ok(()))) {
                    return;
                }
                out.clear();
            }
            read = stream.read_buf(&mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return;
                }
                loop {
                    match parse(&buf) {
                        Ok(Some((value, used))) => {
                            buf.drain(..used);
                            // A reply nobody asked for: the stream is out of step.
                            let Some(reply) = waiting.pop_front() else { return };
                            let _ = reply.send(value);
                        }
                        Ok(None) => break,
                        Err(_) => return,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_whole_or_wait_for_more() {
        let reply = b"*2\r\n:3\r\n:59001\r\n";
        assert_eq!(
            parse(reply).unwrap(),
            Some((
                Value::Array(Some(vec![Value::Int(3), Value::Int(59001)])),
                reply.len()
            ))
        );
        for cut in 0..reply.len() {
            assert_eq!(parse(&reply[..cut]).unwrap(), None, "{cut} bytes");
        }
        assert_eq!(
            parse(b"$5\r\nhello\r\n+OK\r\n").unwrap(),
            Some((Value::Bulk(Some(b"hello".to_vec())), 11))
        );
        assert_eq!(
            parse(b"-NOSCRIPT No matching script.\r\n").unwrap(),
            Some((Value::Error("NOSCRIPT No matching script.".to_owned()), 31))
        );
        assert_eq!(parse(b"$-1\r\n").unwrap(), Some((Value::Bulk(None), 5)));
        for bad in [&b"?\r\n"[..], b":x\r\n", b"$3\r\nabcd\r\n", b"*99999\r\n"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            command(&[b"SELECT", b"2"]),
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
        );
    }

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let t = RedisTarget::parse("redis://app:s%40cret@10.0.0.5:6380/3").unwrap();
        assert_eq!(
            (
                t.host.as_str(),
                t.port,
                t.db,
                t.user.as_deref(),
                t.password.as_deref()
            ),
            ("10.0.0.5", 6380, 3, Some("app"), Some("s@cret"))
        );
        assert_eq!(t.to_string(), "redis://***@10.0.0.5:6380/3");
        assert!(!format!("{t:?}").contains("cret"));
        let t = RedisTarget::parse("redis://[::1]").unwrap();
        assert_eq!(t.to_string(), "redis://[::1]:6379/0");
        let t = RedisTarget::parse("redis://:pw@localhost/").unwrap();
        assert_eq!((t.user, t.password.as_deref(), t.db), (None, Some("pw"), 0));
        for bad in [
            "rediss://:secret@host",
            "http://:secret@host",
            "redis://:secret@host/x",
            "redis://:secret@host/1?db=2",
            "redis://:secret@",
            "secret",
        ] {
            let e = RedisTarget::parse(bad).unwrap_err();
            assert!(!e.contains("secret"), "{bad}: {e}");
        }
    }
}
