//! The command line, as operators and later issues script against it.

use clap::{Args, Parser, Subcommand};
use mobieus_domain::webhook::{RetrySchedule, parse_duration};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// mobieus: a multi-tenant community server with a public API and event feed.
#[derive(Debug, Parser)]
#[command(name = "mobieus", version, propagate_version = true)]
pub struct Cli {
    /// Directory holding the SQLite databases (the control database and one per tenant)
    /// and master.key; with --database-url, only master.key (if no --master-key is given).
    #[arg(
        long,
        global = true,
        env = "MOBIEUS_DATA_DIR",
        default_value = "./mobieus-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// The key that seals secrets at rest (32 bytes, base64 or hex); prefer the environment
    /// variable to the flag. Without it, the data dir's master.key is used, created on
    /// first start: back it up with the data.
    #[arg(
        long,
        global = true,
        env = "MOBIEUS_MASTER_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub master_key: Option<String>,

    /// Keep the data in PostgreSQL instead of SQLite files: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`
    /// (a control schema and one schema per tenant, shared by every node given the same
    /// URL and master key). Prefer the environment variable when the URL holds a password.
    #[arg(
        long,
        global = true,
        env = "MOBIEUS_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        value_parser = |s: &str| Ok::<_, std::convert::Infallible>(SecretUrl(s.to_owned()))
    )]
    pub database_url: Option<SecretUrl>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and docs over HTTP, with the webhook delivery worker in-process.
    Serve(ServeArgs),
    /// Run the webhook delivery worker alone (beside `serve --no-worker`, or from cron with --once).
    Worker(WorkerCmdArgs),
    /// Create (once) a demo tenant with members, posts and moderation, mint a read key, register
    /// a webhook to a loopback receiver that checks every signature, and serve.
    Demo(ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Act in a tenant's forum, through the same use cases as the web.
    Forum(ForumArgs),
    /// Manage the admins who log in to a tenant's web console.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Forward a forum's live events to a URL on this machine, signed as real webhook
    /// deliveries are, to develop and test a receiver locally.
    #[command(long_about = LISTEN_ABOUT)]
    Listen(ListenArgs),
    /// Write a consistent snapshot of every database (and master.key, when kept in the data
    /// dir) to a new directory, while servers and workers run; restore by using it as
    /// --data-dir.
    Backup {
        /// Where to write it: a directory that does not exist yet or is empty.
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Print the public API's OpenAPI 3.1 document, as served at /api/openapi.yaml (or
    /// .json): for code generators, without a server.
    Openapi {
        /// Print JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
}

const LISTEN_ABOUT: &str = "\
Forward a forum's live events to a URL on this machine, signed as real webhook deliveries are,
to develop and test a receiver locally.

It reads the event stream (GET /api/v1/events/stream, with a key holding events:read) and POSTs
each event to --forward-to as the webhook worker would: the same body bytes (the feed's JSON),
the same headers (Mobieus-Signature, Mobieus-Event, Mobieus-Event-Id, Mobieus-Delivery-Id,
Mobieus-Attempt, and the Standard Webhooks webhook-id, webhook-timestamp, webhook-signature),
signed with a local signing secret, so a receiver's verification code runs unchanged. The secret
is printed at start; it is kept, per --url, in the user's config dir
($XDG_CONFIG_HOME/mobieus/ or ~/.config/mobieus/, mode 0600), so it stays the same from run to
run; --secret uses another one for this run.

Only events committed after it starts are forwarded. A server that cannot be reached at start,
or that refuses the key or the --events (401, 403, 400), stops it with the server's reason. When the connection drops or the server
restarts, it reconnects (waiting as the server's retry: asks, then longer) and resumes after the
last event it forwarded, so none is skipped or sent twice. A forward that fails (an answer other
than 2xx, no connection, no answer within 15 s) is tried 4 times over about 10 s, then reported
as failed on its line, and the stream moves on to the next event.

--forward-to may be on loopback or a private address: this runs on your own machine, so the
server's rules for where webhooks may go do not apply to it. Redirects are not followed, as
for real deliveries. localhost and *.localhost names are resolved to loopback by this command
itself, so --url http://demo.localhost:8080 works without any DNS setup. HTTPS servers and
targets are checked against the system's root certificates.

It opens no store: --data-dir, --master-key and --database-url do not apply to it.";

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The forum's address, such as https://forum.example.org (the tenant is chosen by its host).
    #[arg(long, env = "MOBIEUS_URL", value_name = "URL")]
    pub url: String,
    /// An API key with the events:read scope; prefer the environment variable to the flag.
    #[arg(long, env = "MOBIEUS_API_KEY", hide_env_values = true, value_name = "KEY",
          value_parser = |s: &str| Ok::<_, std::convert::Infallible>(SecretText(s.to_owned())))]
    pub key: SecretText,
    /// Where to POST each event: an http:// or https:// URL, such as http://localhost:3000/hook.
    #[arg(long, value_name = "URL")]
    pub forward_to: String,
    /// Forward only these event types (comma-separated), such as post.created,user.joined.
    #[arg(long, value_delimiter = ',', value_name = "T1,T2")]
    pub events: Vec<String>,
    /// Also print each event's JSON, on its own line after the event's line.
    #[arg(long)]
    pub print_json: bool,
    /// Sign with this whsec_… secret instead of the one kept for --url (which is left as it is).
    #[arg(long, value_name = "WHSEC",
          value_parser = |s: &str| Ok::<_, std::convert::Infallible>(SecretText(s.to_owned())))]
    pub secret: Option<SecretText>,
}

/// A secret given on the command line: its `Debug` shows none of it.
#[derive(Clone)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(…)")
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Make an admin who logs in at /login with a password (a new member, `user.joined`).
    Create {
        /// The tenant's slug.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// The admin's username.
        #[arg(long, value_name = "U")]
        username: String,
        /// Read the password from the first line of standard input (10 to 200 characters),
        /// so that it appears in no process list or shell history.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "MOBIEUS_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// Do not run the delivery worker in this process (run `mobieus worker` instead).
    #[arg(long)]
    pub no_worker: bool,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. HSTS is then on.
    #[arg(
        long,
        env = "MOBIEUS_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(
        long,
        env = "MOBIEUS_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<std::path::PathBuf>,

    /// Plain HTTP from a proxy that terminates TLS: allowed on any address, and only requests
    /// from a --trusted-proxy with `X-Forwarded-Proto: https` are answered (HSTS on).
    #[arg(long, env = "MOBIEUS_BEHIND_PROXY", conflicts_with = "tls_cert",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub behind_proxy: bool,

    /// An address or range (CIDR) of the proxy, with --behind-proxy; repeatable.
    #[arg(long = "trusted-proxy", env = "MOBIEUS_TRUSTED_PROXIES", value_delimiter = ',',
          value_name = "IP[/BITS]", default_values_t = ["127.0.0.1".to_owned(), "::1".to_owned()])]
    pub trusted_proxies: Vec<String>,

    /// Share the API keys' rate limits with every node given the same Redis:
    /// `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://…` for TLS (the server's
    /// certificate checked against the system's roots, or --redis-ca-file). Without it
    /// each node counts on its own, so N nodes allow up to N times a key's limit. When
    /// Redis does not answer, each node counts on its own until it does (logged, and
    /// counted in mobieus_rate_limit_fail_open_total). Prefer the environment variable
    /// when the URL holds a password.
    #[arg(long, env = "MOBIEUS_REDIS_URL", hide_env_values = true, value_name = "URL",
          value_parser = |s: &str| Ok::<_, std::convert::Infallible>(SecretUrl(s.to_owned())))]
    pub redis_url: Option<SecretUrl>,

    /// With a rediss:// --redis-url: trust the CA certificates in this PEM file, and only
    /// them, for Redis's certificate (a private CA, not in the system's roots).
    #[arg(
        long,
        env = "MOBIEUS_REDIS_CA_FILE",
        value_name = "FILE",
        requires = "redis_url"
    )]
    pub redis_ca_file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub webhooks: WebhookArgs,

    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// A URL that may hold a password, as given: its `Debug` shows none of it, and it is
/// checked by the command (clap's own error would repeat it).
#[derive(Clone)]
pub struct SecretUrl(pub String);

impl SecretUrl {
    /// A `postgres://` or `postgresql://` URL, or why not (never repeating it).
    pub fn postgres(&self) -> Result<&str, &'static str> {
        if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            Ok(&self.0)
        } else {
            Err(
                "--database-url: expected a postgres:// URL (SQLite needs none: it uses --data-dir)",
            )
        }
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretUrl(…)")
    }
}

#[derive(Debug, Args)]
pub struct WorkerCmdArgs {
    /// Deliver what is due now, wait for it, and exit (cron mode).
    #[arg(long)]
    pub once: bool,

    #[command(flatten)]
    pub webhooks: WebhookArgs,

    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// Which webhook targets are allowed.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// FOR DEVELOPMENT AND TESTS ONLY: also allow webhook URLs on loopback (http or https to
    /// 127.0.0.0/8, ::1 and localhost names). Every other private address stays refused.
    #[arg(long, env = "MOBIEUS_WEBHOOK_ALLOW_LOOPBACK",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_loopback: bool,

    /// Resolve no webhook host name (each counts as not resolving yet): for isolated runs
    /// such as conformance fuzzing, where no DNS server may be asked.
    #[arg(long, hide = true)]
    pub webhook_offline: bool,

    /// A PEM file of extra CA certificates trusted for webhook targets.
    #[arg(long, env = "MOBIEUS_WEBHOOK_CA_FILE", value_name = "FILE")]
    pub webhook_ca_file: Option<PathBuf>,
}

/// How the delivery worker runs.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Webhook requests in flight at once.
    #[arg(long, env = "MOBIEUS_DELIVERY_CONCURRENCY", value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub delivery_concurrency: u16,

    /// The wait before each attempt, comma-separated (units ms, s, m, h, d); after the last
    /// attempt fails the delivery is `failed`.
    #[arg(long, env = "MOBIEUS_RETRY_SCHEDULE", value_name = "WAITS",
          default_value = "0s,1m,5m,30m,2h,6h,24h", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,

    /// Disable an endpoint after this many consecutive failed attempts.
    #[arg(long, env = "MOBIEUS_AUTO_DISABLE_AFTER", value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub auto_disable_after: u32,

    /// How long to wait for a webhook target to accept the connection.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub connect_timeout: Duration,

    /// How long a whole attempt may take: connect, send, and read the answer.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_timeout)]
    pub request_timeout: Duration,

    /// Events, deliveries and attempts older than this many days are deleted by the worker,
    /// in small batches at each sweep (every 5 minutes).
    #[arg(long, env = "MOBIEUS_RETENTION_DAYS", value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub retention_days: u16,
}

fn parse_schedule(s: &str) -> Result<RetrySchedule, String> {
    RetrySchedule::parse(s).map_err(|e| e.to_string())
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    parse_duration(s)
        .filter(|d| !d.is_zero() && *d <= Duration::from_secs(300))
        .ok_or_else(|| format!("{s:?}: use a duration from 1ms to 300s such as 500ms, 5s or 2m"))
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant with its own database; it is served at <SLUG>.localhost and at each --host.
    Create {
        /// A DNS label: lowercase letters, digits and hyphens.
        slug: String,
        /// A host name that serves this tenant (repeatable).
        #[arg(long = "host", value_name = "HOST")]
        hosts: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a tenant's data to a file, to import it into another store (from SQLite to
    /// Postgres, or back). The file holds sealed secrets and hashes: keep it secret.
    Export {
        /// The tenant's slug.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// The file to write (must not exist; written with mode 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Read a tenant's export into this store, as a new tenant with the same slug and
    /// hosts (or into an empty one). Needs the master key of the store that exported it.
    Import {
        /// A file written by `mobieus tenant export`.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Mint an API key; the key is printed once and never stored.
    Create {
        /// The tenant's slug.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Comma-separated: events:read, users:read, posts:read, webhooks:read, webhooks:manage.
        #[arg(long, value_name = "S1,S2")]
        scopes: String,
        /// Mint an mc_test_ key instead of an mc_live_ key.
        #[arg(long)]
        test: bool,
        /// Requests per minute this key may make.
        #[arg(long, value_name = "N", default_value_t = 600)]
        rate_limit: u32,
        /// Print JSON: {"id","key","prefix","scopes","rate_limit"}.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's keys (never the keys themselves).
    List {
        /// The tenant's slug.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key at once.
    Revoke {
        /// The tenant's slug.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// The key's id (key_…).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct ForumArgs {
    /// The tenant's slug.
    #[arg(long, value_name = "SLUG")]
    pub tenant: String,
    /// Print the created ids as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: ForumCmd,
}

#[derive(Debug, Subcommand)]
pub enum ForumCmd {
    /// Members.
    #[command(subcommand)]
    User(UserCmd),
    /// Threads.
    #[command(subcommand)]
    Thread(ThreadCmd),
    /// Posts.
    #[command(subcommand)]
    Post(PostCmd),
    /// Moderation (moderators and admins only).
    #[command(subcommand)]
    Mod(ModCmd),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// A new member joins (user.joined).
    Join {
        username: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// A member leaves (user.left).
    Leave { username: String },
    /// Set a member's role: member, moderator or admin.
    Role { username: String, role: String },
}

#[derive(Debug, Subcommand)]
pub enum ThreadCmd {
    /// Open a thread with its first post (post.created).
    Create {
        #[arg(long)]
        author: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        body: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PostCmd {
    /// Reply in a thread (post.created).
    Create {
        #[arg(long, value_name = "ID")]
        thread: String,
        #[arg(long)]
        author: String,
        #[arg(long)]
        body: String,
    },
    /// Edit a post (post.edited); the old body is kept in its history.
    Edit {
        post_id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        body: String,
    },
    /// Delete a post (post.deleted).
    Delete {
        post_id: String,
        #[arg(long)]
        by: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModCmd {
    /// Ban a member (moderation.user_banned).
    Ban {
        username: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a ban (moderation.user_unbanned).
    Unban {
        username: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove a post (moderation.post_removed).
    RemovePost {
        post_id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lock a thread against replies (moderation.thread_locked).
    LockThread {
        thread_id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Unlock a thread (moderation.thread_unlocked).
    UnlockThread {
        thread_id: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: Option<String>,
    },
}
