//! The `mobieus` binary, driven as operators and scripts drive it: tenants, keys, forum
//! actions with `--json` ids, misuse that exits non-zero with one line and writes
//! nothing, and `serve` sharing the data dir with the CLI without ever showing a key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::cli::{Cli, ServeProcess};
use mobieus_testkit::{client, files_containing};
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;

fn cli() -> (tempfile::TempDir, Cli) {
    Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"))
}

/// The types of a tenant's events, oldest first, read straight from its SQLite file.
async fn event_types(data_dir: &Path, slug: &str) -> Vec<String> {
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join("tenants").join(format!("{slug}.db")))
        .read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open the tenant database");
    let types = sqlx::query_scalar("SELECT type FROM api_events ORDER BY position")
        .fetch_all(&pool)
        .await
        .expect("read events");
    pool.close().await;
    types
}

async fn last_event_id(data_dir: &Path, slug: &str) -> String {
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join("tenants").join(format!("{slug}.db")))
        .read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open the tenant database");
    let id = sqlx::query_scalar("SELECT id FROM api_events ORDER BY position DESC LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("read events");
    pool.close().await;
    id
}

fn tenant_slugs(cli: &Cli) -> Vec<String> {
    let list = cli.run(&["tenant", "list", "--json"]).json();
    list.as_array()
        .expect("tenant list --json is an array")
        .iter()
        .map(|t| t["slug"].as_str().expect("a tenant has a slug").to_owned())
        .collect()
}

#[test]
fn tenants_are_created_and_listed() {
    let (_dir, cli) = cli();
    assert_eq!(
        cli.run(&["tenant", "list", "--json"]).json(),
        Value::Array(vec![]),
        "no tenants on a fresh data dir"
    );
    cli.run(&["tenant", "create", "alpha"]).ok();
    cli.run(&[
        "tenant",
        "create",
        "beta",
        "--host",
        "forum.example.com",
        "--host",
        "Support.Example.org",
    ])
    .ok();
    assert!(
        cli.data_dir().join("tenants").join("alpha.db").exists(),
        "one SQLite file per tenant"
    );

    let list = cli.run(&["tenant", "list", "--json"]).json();
    let beta = list
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["slug"] == "beta")
        .expect("beta is listed")
        .clone();
    let hosts: Vec<&str> = beta["hosts"]
        .as_array()
        .expect("a tenant lists its hosts")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(hosts.contains(&"forum.example.com"), "{hosts:?}");
    assert!(
        hosts.contains(&"support.example.org"),
        "host names are lower-cased: {hosts:?}"
    );
    assert_eq!(tenant_slugs(&cli), ["alpha", "beta"]);

    let plain = cli.run(&["tenant", "list"]).ok().to_owned();
    assert!(
        plain.contains("alpha") && plain.contains("beta") && plain.contains("forum.example.com"),
        "{plain}"
    );

    let line = cli.run(&["tenant", "create", "alpha"]).refused().to_owned();
    assert!(line.contains("alpha"), "names the taken slug: {line}");
    let line = cli
        .run(&["tenant", "create", "gamma", "--host", "forum.example.com"])
        .refused()
        .to_owned();
    assert!(
        line.contains("forum.example.com") || line.contains("host"),
        "says the host is taken: {line}"
    );
    assert_eq!(tenant_slugs(&cli), ["alpha", "beta"]);
}

#[test]
fn bad_slugs_and_hosts_are_refused_with_one_line() {
    let (_dir, cli) = cli();
    for bad in [
        "Bad_Slug",
        "UPPER",
        "a.b",
        "with space",
        "trailing-",
        "x".repeat(64).as_str(),
        "ümlaut",
    ] {
        let run = cli.run(&["tenant", "create", bad]);
        let line = run.refused();
        assert!(
            line.to_lowercase().contains("slug"),
            "`tenant create {bad}` explains the slug rule: {line}"
        );
        assert!(
            run.stdout.trim().is_empty(),
            "prints nothing on stdout when refusing: {}",
            run.stdout
        );
    }
    cli.run(&["tenant", "create", "ok", "--host", "not a host"])
        .refused();
    assert!(tenant_slugs(&cli).is_empty(), "nothing was created");
    assert!(
        !cli.data_dir().join("tenants").join("ok.db").exists(),
        "no database for a refused tenant"
    );
}

#[test]
fn keys_are_shown_once_listed_without_the_secret_and_revoked() {
    let (_dir, cli) = cli();
    cli.run(&["tenant", "create", "alpha"]).ok();
    let k = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "ci",
            "--scopes",
            "events:read,users:read",
            "--json",
        ])
        .json();
    for member in ["id", "key", "prefix", "scopes", "rate_limit"] {
        assert!(
            k.get(member).is_some(),
            "key create --json has `{member}`: {k}"
        );
    }
    let key = k["key"].as_str().expect("key").to_owned();
    let id = k["id"].as_str().expect("id").to_owned();
    let prefix = k["prefix"].as_str().expect("prefix").to_owned();
    assert!(key.starts_with("mc_live_") && key.len() >= 40, "{key}");
    assert!(
        key.starts_with(&prefix) && prefix.len() < key.len() - 20,
        "the prefix is a short, non-secret start of the key: {prefix}"
    );
    assert_eq!(k["rate_limit"], 600, "600 a minute unless set");
    let scopes = k["scopes"].to_string();
    assert!(
        scopes.contains("events:read") && scopes.contains("users:read"),
        "{scopes}"
    );

    let test = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "sandbox",
            "--scopes",
            "events:read",
            "--test",
            "--rate-limit",
            "5",
            "--json",
        ])
        .json();
    let test_key = test["key"].as_str().expect("key").to_owned();
    assert!(test_key.starts_with("mc_test_"), "{test_key}");
    assert_eq!(test["rate_limit"], 5);

    let plain = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "plain",
            "--scopes",
            "posts:read",
        ])
        .ok()
        .to_owned();
    let plain_key = plain
        .split_whitespace()
        .find(|w| w.starts_with("mc_live_"))
        .expect("plain output shows the key once")
        .to_owned();

    for args in [
        &["key", "list", "--tenant", "alpha"][..],
        &["key", "list", "--tenant", "alpha", "--json"][..],
    ] {
        let out = cli.run(args).ok().to_owned();
        for secret in [&key, &test_key, &plain_key] {
            assert!(
                !out.contains(secret.as_str()),
                "`key list` never shows a key"
            );
        }
        assert!(
            out.contains(&id) && out.contains(&prefix),
            "`key list` shows ids and prefixes: {out}"
        );
    }
    let listed = cli
        .run(&["key", "list", "--tenant", "alpha", "--json"])
        .json();
    let listed = listed.as_array().expect("key list --json is an array");
    assert_eq!(listed.len(), 3);
    let before = listed
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("the key is listed")
        .clone();
    assert!(
        before.get("key").is_none(),
        "no `key` member in a listing: {before}"
    );

    cli.run(&["key", "revoke", "--tenant", "alpha", &id]).ok();
    let listed = cli
        .run(&["key", "list", "--tenant", "alpha", "--json"])
        .json();
    let after = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("a revoked key stays listed")
        .clone();
    assert_ne!(before, after, "revocation shows in the listing");
    assert!(
        after.to_string().contains("revoked"),
        "the listing says it is revoked: {after}"
    );

    cli.run(&["key", "revoke", "--tenant", "alpha", &id])
        .refused();
    cli.run(&["key", "revoke", "--tenant", "alpha", "key_doesnotexist"])
        .refused();
    cli.run(&["key", "revoke", "--tenant", "nope", &id])
        .refused();
}

#[test]
fn bad_key_requests_are_refused_and_mint_nothing() {
    let (_dir, cli) = cli();
    cli.run(&["tenant", "create", "alpha"]).ok();
    let cases: [&[&str]; 5] = [
        &[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "x",
            "--scopes",
            "events:write",
        ],
        &[
            "key", "create", "--tenant", "alpha", "--name", "x", "--scopes", "",
        ],
        &[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "x",
            "--scopes",
            "events:read",
            "--rate-limit",
            "0",
        ],
        &[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "   ",
            "--scopes",
            "events:read",
        ],
        &[
            "key",
            "create",
            "--tenant",
            "nope",
            "--name",
            "x",
            "--scopes",
            "events:read",
        ],
    ];
    for args in cases {
        let run = cli.run(args);
        run.refused();
        assert!(
            !run.stdout.contains("mc_live_"),
            "no key printed when refused"
        );
    }
    let listed = cli
        .run(&["key", "list", "--tenant", "alpha", "--json"])
        .json();
    assert_eq!(listed, Value::Array(vec![]), "no key was minted");
    assert!(!cli.data_dir().join("tenants").join("nope.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forum_commands_write_their_events_and_print_ids() {
    let (_dir, cli) = cli();
    let data = cli.data_dir().to_path_buf();
    cli.run(&["tenant", "create", "acme"]).ok();
    let f = |args: &[&str]| -> Vec<String> {
        ["forum", "--tenant", "acme"]
            .iter()
            .chain(args)
            .map(|s| (*s).to_owned())
            .collect()
    };
    let run = |args: &[&str]| {
        let full = f(args);
        cli.run(&full.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let mut want: Vec<&str> = Vec::new();

    let ann = run(&[
        "user",
        "join",
        "ann",
        "--email",
        "ann@example.org",
        "--json",
    ])
    .json();
    want.push("user.joined");
    assert_eq!(ann["username"], "ann");
    assert!(ann["user_id"].is_i64(), "{ann}");
    assert_eq!(
        ann["event_id"],
        last_event_id(&data, "acme").await.as_str(),
        "join prints its event id"
    );
    run(&["user", "join", "bob"]).ok();
    want.push("user.joined");
    run(&["user", "join", "mia"]).ok();
    want.push("user.joined");
    run(&["user", "role", "mia", "moderator"]).ok();

    let th = run(&[
        "thread", "create", "--author", "ann", "--title", "Hello", "--body", "opening", "--json",
    ])
    .json();
    want.push("post.created");
    let thread_id = th["thread_id"].as_i64().expect("thread_id").to_string();
    assert!(th["post_id"].is_i64(), "{th}");
    assert_eq!(th["event_id"], last_event_id(&data, "acme").await.as_str());

    let p = run(&[
        "post", "create", "--thread", &thread_id, "--author", "bob", "--body", "v1", "--json",
    ])
    .json();
    want.push("post.created");
    let post_id = p["post_id"].as_i64().expect("post_id").to_string();
    assert_eq!(
        p["thread_id"].as_i64().map(|t| t.to_string()),
        Some(thread_id.clone())
    );
    assert_eq!(p["event_id"], last_event_id(&data, "acme").await.as_str());

    for (args, event) in [
        (
            vec!["post", "edit", &post_id, "--by", "bob", "--body", "v2"],
            "post.edited",
        ),
        (
            vec!["mod", "ban", "bob", "--by", "mia", "--reason", "spam"],
            "moderation.user_banned",
        ),
        (
            vec!["mod", "unban", "bob", "--by", "mia"],
            "moderation.user_unbanned",
        ),
        (
            vec![
                "mod",
                "remove-post",
                &post_id,
                "--by",
                "mia",
                "--reason",
                "off-topic",
            ],
            "moderation.post_removed",
        ),
        (
            vec!["mod", "lock-thread", &thread_id, "--by", "mia"],
            "moderation.thread_locked",
        ),
        (
            vec!["mod", "unlock-thread", &thread_id, "--by", "mia"],
            "moderation.thread_unlocked",
        ),
    ] {
        run(&args).ok();
        want.push(event);
    }
    let p2 = run(&[
        "post",
        "create",
        "--thread",
        &thread_id,
        "--author",
        "ann",
        "--body",
        "to delete",
        "--json",
    ])
    .json();
    want.push("post.created");
    let p2_id = p2["post_id"].as_i64().expect("post_id").to_string();
    run(&["post", "delete", &p2_id, "--by", "ann"]).ok();
    want.push("post.deleted");
    run(&["user", "leave", "ann"]).ok();
    want.push("user.left");

    assert_eq!(
        event_types(&data, "acme").await,
        want,
        "each command wrote exactly its event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misuse_exits_non_zero_with_one_line_and_writes_nothing() {
    let (_dir, cli) = cli();
    let data = cli.data_dir().to_path_buf();
    cli.run(&["tenant", "create", "acme"]).ok();
    let forum = |args: &[&str]| {
        let full: Vec<&str> = ["forum", "--tenant", "acme"]
            .iter()
            .copied()
            .chain(args.iter().copied())
            .collect();
        cli.run(&full)
    };
    forum(&["user", "join", "ann"]).ok();
    forum(&["user", "join", "bob"]).ok();
    forum(&["user", "join", "mia"]).ok();
    forum(&["user", "role", "mia", "moderator"]).ok();
    let th = forum(&[
        "thread", "create", "--author", "ann", "--title", "T", "--body", "b", "--json",
    ])
    .json();
    let thread = th["thread_id"].as_i64().expect("thread_id").to_string();
    let post = th["post_id"].as_i64().expect("post_id").to_string();
    forum(&["mod", "ban", "bob", "--by", "mia"]).ok();
    forum(&["user", "join", "cy"]).ok();
    forum(&["mod", "lock-thread", &thread, "--by", "mia"]).ok();
    let events = event_types(&data, "acme").await;

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["user", "join", "dan"], "unknown tenant"),
        (
            vec![
                "thread", "create", "--author", "ghost", "--title", "T", "--body", "b",
            ],
            "unknown user",
        ),
        (
            vec![
                "post", "create", "--thread", &thread, "--author", "ghost", "--body", "b",
            ],
            "unknown user",
        ),
        (
            vec![
                "post", "create", "--thread", "424242", "--author", "ann", "--body", "b",
            ],
            "unknown thread",
        ),
        (
            vec!["post", "edit", "999999999", "--by", "ann", "--body", "x"],
            "unknown post",
        ),
        (
            vec!["post", "delete", "999999999", "--by", "ann"],
            "unknown post",
        ),
        (vec!["mod", "ban", "ann", "--by", "cy"], "member moderating"),
        (
            vec!["mod", "remove-post", &post, "--by", "cy"],
            "member moderating",
        ),
        (
            vec!["mod", "unlock-thread", &thread, "--by", "cy"],
            "member moderating",
        ),
        (
            vec!["mod", "unban", "bob", "--by", "ann"],
            "member moderating",
        ),
        (vec!["mod", "ban", "ghost", "--by", "mia"], "unknown user"),
        (
            vec![
                "thread", "create", "--author", "bob", "--title", "T", "--body", "banned",
            ],
            "banned author",
        ),
        (
            vec![
                "post", "create", "--thread", &thread, "--author", "ann", "--body", "late",
            ],
            "locked thread",
        ),
        (
            vec!["post", "edit", &post, "--by", "cy", "--body", "not mine"],
            "not the author",
        ),
        (vec!["user", "join", "ann"], "taken username"),
        (vec!["user", "leave", "ghost"], "unknown user"),
        (vec!["user", "role", "ghost", "admin"], "unknown user"),
    ];
    for (args, why) in cases {
        let run = if why == "unknown tenant" {
            let full: Vec<&str> = ["forum", "--tenant", "nope"]
                .iter()
                .copied()
                .chain(args.iter().copied())
                .collect();
            cli.run(&full)
        } else {
            forum(&args)
        };
        let line = run.refused().to_owned();
        assert!(
            run.stdout.trim().is_empty(),
            "{why}: `{}` printed on stdout: {}",
            run.args,
            run.stdout
        );
        assert!(
            !line.contains("storage failure") && !line.to_lowercase().contains("panick"),
            "{why}: a clear reason, got {line}"
        );
        assert_eq!(
            event_types(&data, "acme").await,
            events,
            "{why}: `{}` wrote an event",
            run.args
        );
    }
    assert!(
        !data.join("tenants").join("nope.db").exists(),
        "no database for an unknown tenant"
    );

    // Arguments clap refuses: non-zero, nothing written.
    for args in [
        &["user", "role", "ann", "superuser"][..],
        &[
            "post", "create", "--thread", "abc", "--author", "ann", "--body", "b",
        ][..],
        &["mod", "ban", "ann"][..],
    ] {
        let run = forum(args);
        assert!(!run.success, "`{}` should fail", run.args);
        assert!(!run.stderr.trim().is_empty(), "`{}` says why", run.args);
    }
    assert_eq!(event_types(&data, "acme").await, events);
}

/// The CLI and a running server share one data dir: what the CLI writes is served at
/// once. And no plaintext key is ever at rest or in the server's logs, even at debug level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_shares_the_data_dir_and_never_reveals_a_key() {
    let (_dir, cli) = cli();
    cli.run(&["tenant", "create", "alpha"]).ok();
    cli.run(&["tenant", "create", "beta"]).ok();
    let key = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "all",
            "--scopes",
            "events:read,users:read,posts:read",
            "--json",
        ])
        .json()["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let revoked = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "alpha",
            "--name",
            "old",
            "--scopes",
            "events:read",
            "--json",
        ])
        .json();
    let revoked_key = revoked["key"].as_str().expect("key").to_owned();
    let unknown_key =
        mobieus_domain::api_key::ApiKeySecret::generate(mobieus_domain::api_key::KeyMode::Live)
            .expose()
            .to_owned();
    cli.run(&["forum", "--tenant", "alpha", "user", "join", "ann"])
        .ok();

    let server = ServeProcess::start(&cli, &[("RUST_LOG", "debug")]);
    let http = client();
    let get = |host: &str, path: &str, key: &str| {
        http.get(server.url(path))
            .header("host", host)
            .bearer_auth(key)
            .send()
    };

    let r = get("alpha.localhost", "/api/v1/users", &key)
        .await
        .expect("an answer");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));

    // Written by the CLI while the server runs: visible at once.
    cli.run(&["forum", "--tenant", "alpha", "user", "join", "bob"])
        .ok();
    cli.run(&[
        "forum", "--tenant", "alpha", "thread", "create", "--author", "bob", "--title", "Live",
        "--body", "hi",
    ])
    .ok();
    let body: Value = get("alpha.localhost", "/api/v1/events", &key)
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");
    let types: Vec<&str> = body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        ["user.joined", "user.joined", "post.created"],
        "the CLI's writes are served at once"
    );
    cli.run(&["tenant", "create", "gamma"]).ok();
    let fresh = cli
        .run(&[
            "key",
            "create",
            "--tenant",
            "gamma",
            "--name",
            "new",
            "--scopes",
            "events:read",
            "--json",
        ])
        .json()["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let r = get("gamma.localhost", "/api/v1/events", &fresh)
        .await
        .expect("an answer");
    assert_eq!(
        r.status(),
        200,
        "a tenant and key made by the CLI work on the running server at once"
    );

    cli.run(&[
        "key",
        "revoke",
        "--tenant",
        "alpha",
        revoked["id"].as_str().expect("id"),
    ])
    .ok();
    let r = get("alpha.localhost", "/api/v1/events", &revoked_key)
        .await
        .expect("an answer");
    assert_eq!(
        r.status(),
        401,
        "revoked by the CLI: refused by the running server at once"
    );

    // Keys in every kind of request: good, foreign tenant, unknown, revoked, bad query.
    for (host, path, k) in [
        ("alpha.localhost", "/api/v1/posts", key.as_str()),
        ("beta.localhost", "/api/v1/events", key.as_str()),
        ("alpha.localhost", "/api/v1/events", unknown_key.as_str()),
        ("alpha.localhost", "/api/v1/events?limit=0", key.as_str()),
        ("nowhere.localhost", "/api/v1/events", key.as_str()),
        ("alpha.localhost", "/api/v1/nope", key.as_str()),
    ] {
        let r = get(host, path, k).await.expect("an answer");
        let text = r.text().await.expect("body");
        assert!(
            !text.contains(k),
            "a response echoed the key ({host}{path})"
        );
    }

    let logs = server.stop();
    let all_logs = format!("{}{}", logs.stdout, logs.stderr);
    assert!(
        !all_logs.trim().is_empty(),
        "the server logged something at debug level (else this test proves nothing)"
    );
    for (name, secret) in [
        ("key", &key),
        ("revoked key", &revoked_key),
        ("unknown key", &unknown_key),
        ("fresh key", &fresh),
    ] {
        let hits = files_containing(cli.data_dir(), secret);
        assert!(
            hits.is_empty(),
            "the plaintext {name} is at rest in {hits:?}"
        );
        assert!(
            !all_logs.contains(secret.as_str()),
            "the plaintext {name} is in the server's logs"
        );
        // Not even the secret part after the prefix.
        assert!(
            !all_logs.contains(&secret[secret.len() - 24..]),
            "the secret part of the {name} is in the server's logs"
        );
    }
}
