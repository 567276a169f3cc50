//! The command line, as operators and later issues script against it.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// mobieus: a multi-tenant community server with a public API and event feed.
#[derive(Debug, Parser)]
#[command(name = "mobieus", version, propagate_version = true)]
pub struct Cli {
    /// Directory holding the control database and one database per tenant.
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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and docs over HTTP.
    Serve(ServeArgs),
    /// Create (once) a demo tenant with members, posts and moderation, mint a read key, and serve.
    Demo(ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Act in a tenant's forum, through the same use cases as the web.
    Forum(ForumArgs),
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
