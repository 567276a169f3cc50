//! The client fleet of the `stream` scenario, in a process of its own so that the server's
//! memory and CPU are measured alone: this binary again, started with [`ROLE`] set. It
//! opens `--streams` live
//! streams on `--addr` (the API keys come on stdin, one per line: never on the command
//! line, where `ps` shows them), prints `opened` once every stream has answered 200, then
//! notes when each event `s<n>` (a member's join) reaches each stream. When every one of
//! the `--events` events has reached every stream, or when a line `report` comes on stdin,
//! it prints one line per event, `<streams reached> <last arrival, µs since the Unix
//! epoch>`, and exits. Traffic goes to loopback only.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Set (to anything) in the environment of the fleet's process.
pub const ROLE: &str = "MOBIEUS_BENCH_STREAM_CLIENTS";

/// Streams per key (a server holds at most 10 per key): the clients share keys.
pub const PER_KEY: usize = 10;

struct Args {
    addr: SocketAddr,
    streams: usize,
    events: usize,
}

fn args() -> Result<Args, String> {
    let mut addr = None;
    let (mut streams, mut events) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = Some(value.parse().map_err(|e| format!("--addr: {e}"))?),
            "--streams" => streams = Some(value.parse().map_err(|e| format!("--streams: {e}"))?),
            "--events" => events = Some(value.parse().map_err(|e| format!("--events: {e}"))?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let addr: SocketAddr = addr.ok_or("--addr is required")?;
    if !addr.ip().is_loopback() {
        return Err("--addr must be a loopback address".to_owned());
    }
    Ok(Args {
        addr,
        streams: streams.ok_or("--streams is required")?,
        events: events.ok_or("--events is required")?,
    })
}

/// When each event reached how many streams.
struct Arrivals {
    last_us: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
    streams: u32,
    /// Signalled when the last event has reached every stream.
    complete: Notify,
}

impl Arrivals {
    fn saw(&self, event: usize) {
        let (Some(last), Some(count)) = (self.last_us.get(event), self.count.get(event)) else {
            return;
        };
        last.fetch_max(crate::sys::unix_micros(), Ordering::Relaxed);
        let reached = count.fetch_add(1, Ordering::Relaxed) + 1;
        if reached == self.streams && event + 1 == self.count.len() {
            self.complete.notify_one();
        }
    }
}

/// The fleet's process: what it does instead of a scenario.
pub fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let keys: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.is_empty())
        .collect();
    if keys.len() < args.streams.div_ceil(PER_KEY) {
        eprintln!(
            "error: {} streams need {} keys on stdin",
            args.streams,
            args.streams.div_ceil(PER_KEY)
        );
        return ExitCode::from(2);
    }
    // One thread: the fleet never takes more than one of the machine's cores from the
    // server it measures.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(args, keys));
    // The reader of stdin may still wait for a line: it must not hold the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, keys: Vec<String>) -> Result<(), String> {
    let arrivals = Arc::new(Arrivals {
        last_us: (0..args.events).map(|_| AtomicU64::new(0)).collect(),
        count: (0..args.events).map(|_| AtomicU32::new(0)).collect(),
        streams: args.streams as u32,
        complete: Notify::new(),
    });
    let opened = Arc::new(AtomicU32::new(0));
    let failed = Arc::new(Notify::new());
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..args.streams {
        let key = keys[i / PER_KEY].clone();
        let (arrivals, opened, failed) = (arrivals.clone(), opened.clone(), failed.clone());
        clients.spawn(async move {
            let r = client(args.addr, key, arrivals, opened).await;
            if r.is_err() {
                failed.notify_one();
            }
            r
        });
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while (opened.load(Ordering::Relaxed) as usize) < args.streams {
        tokio::select! {
            () = failed.notified() => {
                let e = clients.join_next().await.and_then(|r| r.ok()).and_then(Result::err);
                return Err(format!("a stream failed: {}", e.unwrap_or_default()));
            }
            () = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "only {} of {} streams opened",
                opened.load(Ordering::Relaxed),
                args.streams
            ));
        }
    }
    println!("opened");
    // Until every event has reached every stream, or the bench asks for what there is.
    let asked = tokio::task::spawn_blocking(|| {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .any(|l| l == "report")
    });
    tokio::select! {
        () = arrivals.complete.notified() => {}
        _ = asked => {}
    }
    clients.abort_all();
    let mut out = String::with_capacity(args.events * 24);
    for (count, last) in arrivals.count.iter().zip(&arrivals.last_us) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "{} {}",
            count.load(Ordering::Relaxed),
            last.load(Ordering::Relaxed)
        );
    }
    let mut stdout = std::io::stdout().lock();
    std::io::Write::write_all(&mut stdout, out.as_bytes())
        .and_then(|()| std::io::Write::flush(&mut stdout))
        .map_err(|e| e.to_string())
}

/// One stream on a raw socket: reads the messages and notes each `s<n>` member's join.
async fn client(
    addr: SocketAddr,
    key: String,
    arrivals: Arc<Arrivals>,
    opened: Arc<AtomicU32>,
) -> Result<(), String> {
    let mut socket = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let request = format!(
        "GET /api/v1/events/stream?type=user.joined HTTP/1.1\r\nHost: bench.localhost\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    socket
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = vec![0_u8; 4096];
    let mut pending = Vec::with_capacity(4096);
    let mut counted = false;
    const NEEDLE: &[u8] = b"\"username\":\"s";
    loop {
        let n = socket.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the stream".to_owned());
        }
        if !counted {
            counted = true;
            if !buf.starts_with(b"HTTP/1.1 200") {
                return Err(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            opened.fetch_add(1, Ordering::Relaxed);
        }
        pending.extend_from_slice(&buf[..n]);
        // Each event's data names its member once: `"username":"s<n>"`.
        let mut consumed = 0;
        while let Some(at) = memchr::memmem::find(&pending[consumed..], NEEDLE) {
            let digits = consumed + at + NEEDLE.len();
            let Some(end) = pending[digits..].iter().position(|b| !b.is_ascii_digit()) else {
                break;
            };
            if let Some(i) = std::str::from_utf8(&pending[digits..digits + end])
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
            {
                arrivals.saw(i);
            }
            consumed = digits + end;
        }
        // Keep only a tail that could hold the start of a needle.
        let keep_from = consumed.max(pending.len().saturating_sub(NEEDLE.len() + 12));
        pending.drain(..keep_from);
    }
}
