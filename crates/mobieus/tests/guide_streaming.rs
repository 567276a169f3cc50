//! The stream consumers published in the streaming guide, taken from the page the server
//! serves (`/know/api-streaming`) and run as they are printed (Python 3 and Node, no
//! packages) against a real `mobieus serve`: they replay the feed, follow it live, and
//! when the server is killed and started again, with events committed while it was down,
//! they resume after the last event they handled: every event once, in feed order.
//! Without `python3` or `node` the test of that consumer says it skips (see
//! `mobieus_testkit::tools`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_testkit::cli::{Background, Cli};
use mobieus_testkit::tools::SnippetProcess;
use mobieus_testkit::{client, free_port, tools};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The code of the block marked `data-snippet="NAME"` on the served streaming guide.
async fn snippet(port: u16, name: &str) -> String {
    let page = client()
        .get(format!("http://127.0.0.1:{port}/know/api-streaming"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    tools::snippet(&page.text().await.unwrap(), name)
}

/// `mobieus serve` on a fixed port, so it can be started again where clients look.
fn serve(cli: &Cli, port: u16) -> Background {
    let listen = format!("127.0.0.1:{port}");
    let server = Background::spawn(cli, &["serve", "--no-worker", "--listen", &listen], &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "serve never listened on {listen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn join(cli: &Cli, name: &str) {
    cli.run(&["forum", "--tenant", "alpha", "user", "join", name])
        .ok();
}

async fn check(program: &str, file: &str, name: &str) {
    if !tools::available(program, &format!("the {name} streaming guide test")) {
        return;
    }
    let (_dir, cli) = Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"));
    cli.run(&["tenant", "create", "alpha", "--host", "localhost"])
        .ok();
    join(&cli, "ann");
    join(&cli, "bob");
    let key = cli.create_key("alpha", "stream", "events:read", &[])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = free_port();
    let server = serve(&cli, port);
    // The tenant is served at `localhost` too: every resolver knows that name.
    let env = [
        ("MOBIEUS_URL", format!("http://localhost:{port}")),
        ("MOBIEUS_API_KEY", key.clone()),
    ];
    let consumer = SnippetProcess::start(program, file, &snippet(port, name).await, &env);
    let wait = Duration::from_secs(20);
    let mut seen = consumer.lines(2, wait);
    join(&cli, "cy");
    seen.extend(consumer.lines(1, wait));

    // The server dies; two members join while it is down; it comes back on its port.
    server.kill();
    join(&cli, "dee");
    join(&cli, "eve");
    let server = serve(&cli, port);
    join(&cli, "fay");
    seen.extend(consumer.lines(3, wait));
    assert!(
        consumer.next_line(Duration::from_millis(500)).is_none(),
        "nothing more than the feed"
    );

    // Every event of the feed once, in order, as `<id> <type>`.
    let feed: Value = client()
        .get(format!("http://127.0.0.1:{port}/api/v1/events?limit=100"))
        .header("host", "alpha.localhost")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    drop(server);
    let want: Vec<String> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["id"].as_str().unwrap(),
                e["type"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(seen, want);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6, "an event came twice: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_consumer_in_the_guide_resumes_across_a_server_restart() {
    check("python3", "consumer.py", "stream-python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_consumer_in_the_guide_resumes_across_a_server_restart() {
    check("node", "consumer.mjs", "stream-node").await;
}
