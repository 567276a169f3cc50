//! How `mobieus serve` faces clients, on the real binary: HTTPS with rustls and HSTS,
//! `Secure` `__Host-` cookies over HTTPS; plain HTTP refused off loopback unless
//! `--behind-proxy`, and then only requests a trusted proxy forwarded as HTTPS answered.
//! Everything listens and connects on loopback only.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::cli::{Cli, ServeProcess};
use mobieus_testkit::tls;

const BIN: &str = env!("CARGO_BIN_EXE_mobieus");

fn https_client(ca: &std::path::Path) -> reqwest::Client {
    mobieus_delivery::install_crypto();
    let pem = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

#[test]
fn plain_http_off_loopback_is_refused_before_listening() {
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    // Refused before binding: nothing listens on the wildcard address.
    let run = cli.run(&["serve", "--listen", "0.0.0.0:0"]);
    let why = run.refused();
    assert!(
        why.contains("refusing to serve plain HTTP on 0.0.0.0:0"),
        "{why}"
    );
    assert!(why.contains("--behind-proxy"), "{why}");
    // clap's own usage error (several lines, exit 2).
    let half = cli.run(&["serve", "--tls-cert", "cert.pem"]);
    assert_eq!(half.code, Some(2));
    assert!(half.stderr.contains("--tls-key"), "{}", half.stderr);
    assert!(
        !cli.data_dir().join("master.key").exists(),
        "nothing was created"
    );
    let bad = cli.run(&["serve", "--behind-proxy", "--trusted-proxy", "10.0.0.0/33"]);
    assert!(
        bad.refused().contains("--trusted-proxy"),
        "{}",
        bad.refused()
    );
    let missing = cli.run(&[
        "serve",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(
        missing.refused().contains("cannot read the certificate"),
        "{}",
        missing.refused()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_with_hsts_and_secure_cookies() {
    let (dir, cli) = Cli::in_temp_dir(BIN);
    cli.run(&["tenant", "create", "acme"]).ok();
    let certs = tls::issue(dir.path(), &["localhost", "127.0.0.1"]);
    let cert = certs.cert_file.to_str().unwrap();
    let key = certs.key_file.to_str().unwrap();
    let server = ServeProcess::start_with(&cli, &["--tls-cert", cert, "--tls-key", key], &[]);
    let client = https_client(&certs.ca_file);
    let base = format!("https://127.0.0.1:{}", server.port);

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );

    let api = client
        .get(format!("{base}/api/v1/events"))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
    assert!(api.headers().contains_key("strict-transport-security"));

    let page = client
        .get(format!("{base}/register"))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap();
    let set = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-mobieus_csrf="), "{set}");
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Domain"), "{set}");

    // Plain HTTP to the HTTPS port gets no answer from the application.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", server.port))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_only_forwarded_https_from_the_proxy_is_answered() {
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    cli.run(&["tenant", "create", "acme"]).ok();
    let server = ServeProcess::start_with(&cli, &["--behind-proxy"], &[]);
    let client = mobieus_testkit::client();
    let get = |path: &str, proto: Option<&str>| {
        let mut req = client
            .get(server.url(path))
            .header("host", "acme.localhost");
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    let direct = get("/api/v1/events", None).await.unwrap();
    assert_eq!(direct.status(), 403);
    let problem: serde_json::Value = direct.json().await.unwrap();
    assert_eq!(problem["code"], "https_required");
    assert_eq!(
        get("/api/v1/events", Some("http")).await.unwrap().status(),
        403
    );
    let forwarded = get("/api/v1/events", Some("https")).await.unwrap();
    assert_eq!(forwarded.status(), 401, "through to the API's own answer");
    assert!(
        forwarded
            .headers()
            .contains_key("strict-transport-security")
    );
    assert_eq!(
        get("/healthz", None).await.unwrap().status(),
        200,
        "probes pass"
    );
    server.stop();

    // A request from an address that is not the proxy's is refused, header or not.
    let server = ServeProcess::start_with(
        &cli,
        &["--behind-proxy", "--trusted-proxy", "10.0.0.1"],
        &[],
    );
    let spoofed = client
        .get(server.url("/api/v1/events"))
        .header("host", "acme.localhost")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 403);
    server.stop();
}

#[tokio::test]
async fn readyz_says_whether_the_database_is_this_builds() {
    let app = mobieus_testkit::TestApp::start().await;
    let r = app.get("127.0.0.1", "/readyz", None).await;
    r.assert_status(200);
    assert_eq!(r.text, "ready\n");
    // A later build migrated the control database further: this one is not ready for it.
    let door = app.db().control_side_door().await;
    if door.is_postgres() {
        door.execute("UPDATE schema_version SET version = 99", &[])
            .await;
    } else {
        door.execute("PRAGMA user_version = 99", &[]).await;
    }
    let r = app.get("127.0.0.1", "/readyz", None).await;
    r.assert_status(503);
    assert_eq!(r.text, "not ready\n");
    app.get("127.0.0.1", "/healthz", None)
        .await
        .assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_is_a_data_dir_with_everything() {
    let (dir, cli) = Cli::in_temp_dir(BIN);
    cli.run(&["tenant", "create", "acme"]).ok();
    cli.run(&["tenant", "create", "beta"]).ok();
    cli.run(&["forum", "--tenant", "acme", "user", "join", "ann"])
        .ok();
    cli.run(&[
        "key",
        "create",
        "--tenant",
        "acme",
        "--name",
        "crm",
        "--scopes",
        "events:read",
    ])
    .ok();
    let server = ServeProcess::start(&cli, &[]);
    let out = dir.path().join("backup");
    let done = cli.run(&["backup", "--out", out.to_str().unwrap()]);
    let said = done.ok();
    assert!(said.contains("2 tenant databases"), "{said}");
    assert!(said.contains("master.key is in the backup"), "{said}");
    server.stop();
    // The backup is a data dir: the same tenants, members, keys and events, and the same
    // master key (so sealed secrets open).
    let restored = Cli::new(BIN, &out);
    assert!(restored.run(&["tenant", "list"]).ok().contains("beta"));
    assert!(
        restored
            .run(&["key", "list", "--tenant", "acme"])
            .ok()
            .contains("crm")
    );
    assert_eq!(
        std::fs::read(out.join("master.key")).unwrap(),
        std::fs::read(cli.data_dir().join("master.key")).unwrap()
    );
    let again = restored.run(&["forum", "--tenant", "acme", "user", "join", "ann"]);
    assert!(again.refused().contains("taken"), "ann is in the backup");
    // Never over something.
    let twice = cli.run(&["backup", "--out", out.to_str().unwrap()]);
    assert!(
        twice.refused().contains("is not empty"),
        "{}",
        twice.refused()
    );
}
