//! The Redis of the shared rate-limit tests: `MOBIEUS_TEST_REDIS_URL` names it (CI sets
//! it; unset, those tests say so and pass without running), and [`command`] sends it one
//! command over a blocking socket, to look at what the server wrote.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The variable naming the test Redis, e.g. `redis://127.0.0.1:6379`.
pub const REDIS_URL_VAR: &str = "MOBIEUS_TEST_REDIS_URL";

/// The test Redis's URL, or `None` after printing why the calling test skips.
pub fn test_url(test: &str) -> Option<String> {
    match std::env::var(REDIS_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test}: {REDIS_URL_VAR} is not set (.ci/run sets it)");
            None
        }
    }
}

/// A `redis://` URL to a loopback port nothing listens on.
pub fn closed_url() -> String {
    format!("redis://:not-a-password@127.0.0.1:{}", crate::free_port())
}

/// Sends `args` as one command to the Redis at `url` (its password and database
/// honoured) and returns the reply's first line with the bulk string it announces, if
/// any, e.g. `":7"`, `"+OK"` or `"$5 hello"`.
pub fn command(url: &str, args: &[&str]) -> String {
    let url = url::Url::parse(url).expect("a redis:// URL");
    let host = url.host_str().expect("a host").trim_matches(['[', ']']);
    let mut stream =
        TcpStream::connect((host, url.port().unwrap_or(6379))).expect("connect to Redis");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a read timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone the socket"));
    let mut send = |args: &[&str]| {
        let mut frame = format!("*{}\r\n", args.len());
        for a in args {
            frame.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        stream.write_all(frame.as_bytes()).expect("write to Redis");
        let mut line = String::new();
        reader.read_line(&mut line).expect("read from Redis");
        let line = line.trim_end().to_owned();
        match line.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) => {
                let mut bulk = vec![0; n + 2];
                reader.read_exact(&mut bulk).expect("read a bulk string");
                format!("{line} {}", String::from_utf8_lossy(&bulk[..n]))
            }
            None => line,
        }
    };
    if let Some(password) = url.password() {
        let user = url.username();
        let reply = if user.is_empty() {
            send(&["AUTH", password])
        } else {
            send(&["AUTH", user, password])
        };
        assert_eq!(reply, "+OK", "AUTH");
    }
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() {
        assert_eq!(send(&["SELECT", db]), "+OK", "SELECT");
    }
    send(args)
}
