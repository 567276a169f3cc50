//! `mobieus listen`: reads a forum's live event stream and forwards each event to a URL on
//! the developer's machine as the webhook worker would send it (the same body bytes, the
//! same headers, signed with a local secret kept in the user's config dir). It reconnects
//! and resumes after the last event forwarded, so none is skipped or sent twice. It opens
//! no store: it is a client of a server, anywhere.

use crate::Result;
use crate::cli::ListenArgs;
use crate::error::CliError;
use mobieus_delivery::AttemptHeaders;
use mobieus_domain::sse::{Message, SseParser};
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::{DeliveryId, WebhookSecret};
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Host;

/// The waits between the tries of one forward: 4 tries over about 10 s.
const FORWARD_WAITS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(6),
];
/// How long the receiver has to answer, as for a real delivery.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(15);
/// The wait before reconnecting until the server says (`retry:`).
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// The longest wait between reconnections.
const MAX_RETRY: Duration = Duration::from_secs(15);
/// The server sends a heartbeat every 10 s: this long without a byte is a dead connection.
const SILENCE: Duration = Duration::from_secs(35);

pub async fn run(args: ListenArgs) -> Result {
    let base = server_url(&args.url)?;
    let target = forward_url(&args.forward_to)?;
    let mut auth = HeaderValue::try_from(format!("Bearer {}", args.key.0.trim()))
        .map_err(|_| CliError::usage("--key: not an API key (expected mc_live_… or mc_test_…)"))?;
    auth.set_sensitive(true);
    let secret = match &args.secret {
        Some(given) => WebhookSecret::parse(given.0.trim())
            .map_err(|e| CliError::usage(format!("--secret: {e}")))?,
        None => kept_secret(&base)?,
    };
    mobieus_delivery::install_crypto();
    let stream_client = client_for(&base)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| CliError::Io(format!("cannot build the HTTP client: {e}")))?;
    let forward_client = client_for(&target)
        .no_proxy()
        .timeout(FORWARD_TIMEOUT)
        .build()
        .map_err(|e| CliError::Io(format!("cannot build the HTTP client: {e}")))?;
    let mut stream_url = base.clone();
    stream_url.set_path("/api/v1/events/stream");
    stream_url.set_query(None);
    stream_url.set_fragment(None);
    if !args.events.is_empty() {
        let mut query = stream_url.query_pairs_mut();
        for t in &args.events {
            query.append_pair("type", t.trim());
        }
    }
    let forwarder = Forwarder {
        client: forward_client,
        target,
        secret,
        print_json: args.print_json,
    };

    let mut last: Option<String> = None;
    let mut retry = FIRST_RETRY;
    let mut wait = retry;
    let mut ready = false;
    loop {
        let mut request = stream_client
            .get(stream_url.clone())
            .header(AUTHORIZATION, auth.clone())
            .header(ACCEPT, "text/event-stream");
        if let Some(id) = &last {
            request = request.header("last-event-id", id.as_str());
        }
        let why = match request.send().await {
            Err(e) if !ready => {
                return Err(CliError::Io(format!(
                    "cannot reach {}: {}",
                    origin(&base),
                    mobieus_delivery::describe_error(&e)
                )));
            }
            Err(e) => mobieus_delivery::describe_error(&e),
            Ok(response) if response.status().is_success() => {
                if !ready {
                    println!("Ready. Signing secret: {}", forwarder.secret.expose());
                    println!(
                        "Forwarding events from {} to {}",
                        origin(&base),
                        forwarder.target
                    );
                    ready = true;
                } else {
                    println!("{}  reconnected", now());
                }
                wait = retry;
                read(response, &forwarder, &mut last, &mut retry).await
            }
            Ok(response) => {
                let status = response.status().as_u16();
                let after = retry_after(&response);
                let problem = Problem::read(response).await;
                // Refused (a revoked key too, after a reconnection): trying again will not help.
                if !matches!(status, 408 | 429 | 500..) {
                    return Err(CliError::usage(format!(
                        "the server refused the stream ({status}{}): {}",
                        problem.code.map(|c| format!(" {c}")).unwrap_or_default(),
                        problem.detail
                    )));
                }
                if let Some(after) = after {
                    wait = wait.max(after);
                }
                format!("the server answered {status}: {}", problem.detail)
            }
        };
        println!(
            "{}  disconnected ({why}); reconnecting in {} s",
            now(),
            wait.as_secs_f32()
        );
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_RETRY).max(retry);
    }
}

/// Reads one connection's messages until it ends, forwarding each event; returns why it ended.
async fn read(
    mut response: reqwest::Response,
    forwarder: &Forwarder,
    last: &mut Option<String>,
    retry: &mut Duration,
) -> String {
    // A message cut off by the disconnect is read again, whole, after the reconnection.
    let mut parser = SseParser::default();
    loop {
        let chunk = match tokio::time::timeout(SILENCE, response.chunk()).await {
            Err(_) => return format!("nothing from the server for {} s", SILENCE.as_secs()),
            Ok(Err(_)) => return "the connection broke off".to_owned(),
            Ok(Ok(None)) => return "the server closed the stream".to_owned(),
            Ok(Ok(Some(chunk))) => chunk,
        };
        for message in parser.push(&chunk) {
            if let Some(ms) = message.retry_ms {
                *retry = Duration::from_millis(ms).min(MAX_RETRY);
            }
            let Some(id) = message.id.clone() else {
                continue;
            };
            if message.data.is_empty() {
                continue;
            }
            forwarder.forward(&id, &message).await;
            // Forwarded or reported as failed: either way it is done, and a reconnection
            // resumes after it.
            *last = Some(id);
        }
    }
}

/// Where and how events are forwarded.
struct Forwarder {
    client: reqwest::Client,
    target: Url,
    secret: WebhookSecret,
    print_json: bool,
}

impl Forwarder {
    /// Forwards one event, trying again on failure; prints its line (and its JSON).
    async fn forward(&self, id: &str, message: &Message) {
        let started = Instant::now();
        let result = self.try_all(id, message).await;
        let took = started.elapsed().as_millis();
        let line = match result {
            Ok((status, 1)) => format!("-> {status} ({took} ms)"),
            Ok((status, tries)) => format!("-> {status} ({took} ms, after {tries} tries)"),
            Err((why, tries)) => format!("-> FAILED after {tries} tries: {why} ({took} ms)"),
        };
        println!("{}  {}  {id}  {line}", now(), message.event);
        if self.print_json {
            println!("{}", message.data);
        }
    }

    /// The status of the first 2xx answer and the tries it took, or the last failure.
    async fn try_all(
        &self,
        id: &str,
        message: &Message,
    ) -> std::result::Result<(u16, u32), (String, u32)> {
        let event_type = HeaderValue::from_str(&message.event)
            .map_err(|_| ("the event type is not a valid header".to_owned(), 0))?;
        // One delivery, as the worker makes one per event and endpoint, tried afresh.
        let delivery_id = DeliveryId::generate(Timestamp::now()).to_string();
        // The `data:` text is the feed's JSON exactly: these are the bytes signed and sent.
        let body = message.data.clone().into_bytes();
        let mut tries = 0;
        loop {
            tries += 1;
            let headers = AttemptHeaders {
                event_id: id,
                event_type: &event_type,
                delivery_id: &delivery_id,
                number: tries,
                current: &self.secret,
                previous: None,
            }
            .build(&body, Timestamp::now())
            .map_err(|why| (why, tries))?;
            let sent = self
                .client
                .post(self.target.clone())
                .headers(headers)
                .body(body.clone())
                .send()
                .await;
            let why = match sent {
                Ok(response) if response.status().is_success() => {
                    return Ok((response.status().as_u16(), tries));
                }
                Ok(response) => format!("answered {}", response.status().as_u16()),
                Err(e) => mobieus_delivery::describe_error(&e),
            };
            let Some(wait) = FORWARD_WAITS.get(tries as usize - 1) else {
                return Err((why, tries));
            };
            tokio::time::sleep(*wait).await;
        }
    }
}

/// `--url`: an http(s) URL of a host.
fn server_url(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| CliError::usage(format!("--url: not a URL ({e}): {text}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CliError::usage(format!(
            "--url: expected http:// or https:// and a host, such as https://forum.example.org: {text}"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CliError::usage(
            "--url: give the key with --key or MOBIEUS_API_KEY, not in the URL",
        ));
    }
    Ok(url)
}

/// `--forward-to`: an http(s) URL, which may be on this machine or a private network.
fn forward_url(text: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| CliError::usage(format!("--forward-to: not a URL ({e}): {text}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CliError::usage(format!(
            "--forward-to: expected an http:// or https:// URL, such as http://localhost:3000/hook: {text}"
        )));
    }
    Ok(url)
}

/// A client builder that resolves `localhost` and `*.localhost` to loopback itself (RFC
/// 6761), as browsers do and glibc does not, sends what goes to this machine through no
/// proxy, and follows no redirect (as the worker).
fn client_for(url: &Url) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    match url.host() {
        Some(Host::Domain(host)) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                // Port 0: the URL's port is used.
                builder = builder.no_proxy().resolve_to_addrs(
                    host,
                    &[
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
                    ],
                );
            }
        }
        Some(Host::Ipv4(ip)) if ip.is_loopback() => builder = builder.no_proxy(),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => builder = builder.no_proxy(),
        _ => {}
    }
    builder
}

/// `scheme://host[:port]`, what secrets are kept by.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The local signing secret kept for this server, made on first use.
fn kept_secret(base: &Url) -> Result<WebhookSecret> {
    let dir = config_dir()?;
    let file = dir.join(secret_file_name(base));
    let io = |what: &str, path: &Path, e: std::io::Error| {
        CliError::Io(format!("cannot {what} {}: {e}", path.display()))
    };
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            return WebhookSecret::parse(text.trim()).map_err(|e| {
                CliError::Io(format!(
                    "{} holds no usable secret ({e}): delete it to make a new one",
                    file.display()
                ))
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("read", &file, e)),
    }
    create_private_dir(&dir).map_err(|e| io("create", &dir, e))?;
    let secret = WebhookSecret::generate();
    match write_private(&file, &secret.expose()) {
        Ok(()) => Ok(secret),
        // Another run made it meanwhile: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => kept_secret(base),
        Err(e) => Err(io("write", &file, e)),
    }
}

/// `$XDG_CONFIG_HOME/mobieus`, or `~/.config/mobieus`.
fn config_dir() -> Result<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(xdg) = nonempty("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(xdg).join("mobieus"));
    }
    match nonempty("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".config").join("mobieus")),
        None => Err(CliError::usage(
            "no config dir to keep the signing secret in (set XDG_CONFIG_HOME or HOME), or give --secret",
        )),
    }
}

/// `listen-<scheme>-<host>-<port>.secret`, one file per server.
fn secret_file_name(base: &Url) -> String {
    let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let port = base.port_or_known_default().unwrap_or_default();
    format!("listen-{}-{host}-{port}.secret", base.scheme())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a new file readable by its owner only; fails if it exists.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    file.sync_all()
}

/// The `code` and `detail` of a problem document, or what stands in for them.
struct Problem {
    code: Option<String>,
    detail: String,
}

impl Problem {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Self {
            code: text("code"),
            detail: text("detail")
                .or_else(|| text("title"))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("no reason").to_owned()),
        }
    }
}

/// `Retry-After` in seconds.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.min(300)))
}

/// The time now, for a line.
fn now() -> String {
    Timestamp::now().to_rfc3339()
}
