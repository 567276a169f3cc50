//! The Redis of the shared rate-limit tests: `MOBIEUS_TEST_REDIS_URL` names it (CI sets
//! it; unset, those tests say so and pass without running), and [`command`] sends it one
//! command over a blocking socket, to look at what the server wrote. [`TlsRedis`] is a
//! server of a test's own, serving TLS with a fresh CA.

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

/// The variable that turns a missing tool (here `redis-server`) from a skip into a
/// failure: CI sets it, so a test that needs a tool cannot pass by not running.
pub const REQUIRE_TOOLS_VAR: &str = "MOBIEUS_TEST_REQUIRE_TOOLS";

/// A `redis-server` of the test's own, on loopback, serving TLS (with a fresh CA) on one
/// port and plain RESP on another (to look at what was counted). Stopped when dropped.
#[derive(Debug)]
pub struct TlsRedis {
    child: std::process::Child,
    dir: tempfile::TempDir,
    /// `rediss://127.0.0.1:<port>`.
    pub tls_url: String,
    /// `redis://127.0.0.1:<port>`, the same server without TLS.
    pub plain_url: String,
    /// The CA that issued the server's certificate (PEM), to trust.
    pub ca_file: std::path::PathBuf,
}

impl TlsRedis {
    /// Starts the server, or returns `None` after saying why the calling test skips:
    /// `redis-server` is not installed (unless [`REQUIRE_TOOLS_VAR`] is `1`, which
    /// makes that a failure).
    pub fn start(test: &str) -> Option<Self> {
        let found = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var(REQUIRE_TOOLS_VAR).as_deref() != Ok("1"),
                "{test}: redis-server is not installed and {REQUIRE_TOOLS_VAR}=1 (.ci/redis.sh installs it)"
            );
            eprintln!("skipping {test}: redis-server is not installed (.ci/redis.sh installs it)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("mobieus-redis-tls-")
            .tempdir()
            .expect("a temp dir for the Redis certificates");
        let issued = crate::tls::issue(dir.path(), &["127.0.0.1", "localhost"]);
        let (tls_port, plain_port) = (crate::free_port(), crate::free_port());
        let path = |p: &std::path::Path| p.to_str().expect("a UTF-8 temp path").to_owned();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &plain_port.to_string()])
            .args(["--tls-port", &tls_port.to_string()])
            .args(["--tls-cert-file", &path(&issued.cert_file)])
            .args(["--tls-key-file", &path(&issued.key_file)])
            .args(["--tls-ca-cert-file", &path(&issued.ca_file)])
            .args(["--tls-auth-clients", "no"])
            .args(["--dir", &path(dir.path())])
            .args(["--logfile", &path(&dir.path().join("redis.log"))])
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        let mut redis = Self {
            child,
            tls_url: format!("rediss://127.0.0.1:{tls_port}"),
            plain_url: format!("redis://127.0.0.1:{plain_port}"),
            ca_file: issued.ca_file,
            dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = redis.child.try_wait() {
                let log =
                    std::fs::read_to_string(redis.dir.path().join("redis.log")).unwrap_or_default();
                panic!("redis-server exited ({status}); built without TLS?\n{log}");
            }
            let up = TcpStream::connect(("127.0.0.1", plain_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", tls_port)).is_ok();
            if up {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(command(&redis.plain_url, &["PING"]), "+PONG");
        Some(redis)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
