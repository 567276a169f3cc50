//! `mobieus tenant export` and `import` through the binary: a tenant moved from a SQLite
//! data dir into the backend the suite runs on (Postgres with MOBIEUS_TEST_POSTGRES_URL)
//! keeps its members and keys; bad input is one line on stderr and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use mobieus_testkit::cli::Cli;
use mobieus_testkit::db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_mobieus");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_moves_from_sqlite_to_another_store_with_its_data() {
    let (dir, src) = Cli::in_temp_dir(BIN);
    src.run(&["tenant", "create", "acme", "--host", "forum.acme.test"])
        .ok();
    src.run(&["forum", "--tenant", "acme", "user", "join", "ann"])
        .ok();
    let key = src.create_key("acme", "crm", "events:read", &[]);
    let file = dir.path().join("acme.export");
    let out = src
        .run(&[
            "tenant",
            "export",
            "--tenant",
            "acme",
            "--out",
            file.to_str().unwrap(),
        ])
        .ok()
        .to_owned();
    assert!(out.contains("exported tenant acme"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the export is readable by its owner only"
        );
    }
    let again = src.run(&[
        "tenant",
        "export",
        "--tenant",
        "acme",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(again.refused().contains("exists"));
    assert_eq!(again.code, Some(2));

    // The destination: the suite's backend, with the source's master key.
    let db = TestDb::new().await;
    std::fs::create_dir_all(db.data_dir()).unwrap();
    std::fs::copy(
        src.data_dir().join("master.key"),
        db.data_dir().join("master.key"),
    )
    .unwrap();
    let mut dst = Cli::new(BIN, db.data_dir());
    if let Some(url) = db.database_url() {
        dst = dst.with_database_url(url);
    }

    // A cut-off file is refused and creates nothing.
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = dir.path().join("cut.export");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n")).unwrap();
    let refused = dst.run(&["tenant", "import", "--file", cut.to_str().unwrap()]);
    assert!(refused.refused().contains("cut off"), "{}", refused.stderr);
    assert_eq!(refused.code, Some(2));
    let missing = dst.run(&["tenant", "import", "--file", "/nonexistent/acme.export"]);
    assert!(missing.refused().contains("cannot read"));
    assert!(!dst.run(&["tenant", "list"]).ok().contains("acme"));

    let imported = dst
        .run(&["tenant", "import", "--file", file.to_str().unwrap()])
        .ok()
        .to_owned();
    assert!(
        imported.contains("imported tenant acme") && imported.contains("users 1"),
        "{imported}"
    );
    assert!(
        dst.run(&["tenant", "list"])
            .ok()
            .contains("forum.acme.test")
    );
    let keys = dst
        .run(&["key", "list", "--tenant", "acme", "--json"])
        .json();
    assert_eq!(keys[0]["id"], key["id"]);
    // The feed goes on: the next member's event follows the imported ones.
    dst.run(&["forum", "--tenant", "acme", "user", "join", "bob"])
        .ok();

    let twice = dst.run(&["tenant", "import", "--file", file.to_str().unwrap()]);
    assert!(
        twice.refused().contains("already exists"),
        "{}",
        twice.stderr
    );
}

#[test]
fn a_bad_database_url_is_one_line_that_never_repeats_it() {
    let (_dir, cli) = Cli::in_temp_dir(BIN);
    for (url, says) in [
        (
            "http://ann:hunter2secret@db.internal/x",
            "expected a postgres:// URL",
        ),
        (
            "postgres://ann:hunter2secret@127.0.0.1:1/x",
            "cannot connect to Postgres",
        ),
    ] {
        let run = cli.run(&["--database-url", url, "tenant", "list"]);
        let line = run.refused();
        assert!(line.contains(says), "{line}");
        assert!(!run.stderr.contains("hunter2secret") && !run.stdout.contains("hunter2secret"));
        assert!(!cli.data_dir().exists(), "nothing was created");
    }
}
