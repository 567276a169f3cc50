//! Running the `mobieus` binary in tests. The binary's path comes from the test crate
//! (`env!("CARGO_BIN_EXE_mobieus")`), so this module only knows how to call it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The CLI on one data dir.
#[derive(Debug, Clone)]
pub struct Cli {
    bin: PathBuf,
    data_dir: PathBuf,
    /// `--database-url` for every run (Postgres), if any.
    database_url: Option<String>,
}

/// What one CLI run did.
#[derive(Debug)]
pub struct CliRun {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for messages.
    pub args: String,
}

impl CliRun {
    fn from_output(args: String, out: Output) -> Self {
        Self {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args,
        }
    }

    /// Panics unless the run succeeded; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(
            self.success,
            "`mobieus {}` exited {:?}: {}",
            self.args, self.code, self.stderr
        );
        &self.stdout
    }

    /// Panics unless the run succeeded and printed one JSON value; returns it.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(out)
            .unwrap_or_else(|e| panic!("`mobieus {}` printed no JSON ({e}): {out:?}", self.args))
    }

    /// Panics unless the run failed with exactly one non-empty line on stderr; returns it.
    #[track_caller]
    pub fn refused(&self) -> &str {
        assert!(
            !self.success,
            "`mobieus {}` should have failed but exited 0; stdout: {}",
            self.args, self.stdout
        );
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "`mobieus {}` should print one line on stderr, printed: {:?}",
            self.args,
            self.stderr
        );
        lines[0]
    }
}

impl Cli {
    /// The binary at `bin`, run with `--data-dir data_dir`.
    pub fn new(bin: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bin: bin.into(),
            data_dir: data_dir.into(),
            database_url: None,
        }
    }

    /// The same CLI with `--database-url url` on every run.
    pub fn with_database_url(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    /// The binary at `bin` over a data dir inside a fresh temporary dir, which the caller
    /// keeps alive as long as it needs the data.
    pub fn in_temp_dir(bin: impl Into<PathBuf>) -> (tempfile::TempDir, Self) {
        let dir = tempfile::Builder::new()
            .prefix("mobieus-cli-test-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        (dir, Self::new(bin, data))
    }

    /// The data dir every run uses.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A command for `mobieus --data-dir DIR <args>`, with a clean environment for the
    /// settings the binary reads (`MOBIEUS_*`, `RUST_LOG`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data-dir").arg(&self.data_dir);
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd.args(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MOBIEUS_") {
                cmd.env_remove(name);
            }
        }
        cmd.env_remove("RUST_LOG").stdin(Stdio::null());
        cmd
    }

    /// Runs `mobieus --data-dir DIR <args>` to completion.
    pub fn run(&self, args: &[&str]) -> CliRun {
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.bin.display()));
        CliRun::from_output(args.join(" "), out)
    }

    /// Mints an API key with `key create --tenant T --name N --scopes S <extra> --json`;
    /// returns what it printed (`key`, `id`, …).
    pub fn create_key(
        &self,
        tenant: &str,
        name: &str,
        scopes: &str,
        extra: &[&str],
    ) -> serde_json::Value {
        let mut args = vec![
            "key", "create", "--tenant", tenant, "--name", name, "--scopes", scopes,
        ];
        args.extend_from_slice(extra);
        args.push("--json");
        self.run(&args).json()
    }
}

/// A `mobieus` child process running in the background (a server or a worker), its
/// stdout and stderr captured; killed when dropped.
#[derive(Debug)]
pub struct Background {
    child: Option<Child>,
    // stdout and stderr go to files, not pipes: a chatty process never blocks on a full pipe.
    logs: tempfile::TempDir,
}

/// What a stopped process printed.
#[derive(Debug)]
pub struct ServeLogs {
    pub stdout: String,
    pub stderr: String,
}

impl Background {
    /// Starts `mobieus --data-dir DIR <args>` with the given extra environment.
    pub fn spawn(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = cli.command(args);
        let logs = tempfile::Builder::new()
            .prefix("mobieus-logs-")
            .tempdir()
            .expect("a temp dir for logs");
        let stdout =
            std::fs::File::create(logs.path().join("stdout")).expect("create the stdout log");
        let stderr =
            std::fs::File::create(logs.path().join("stderr")).expect("create the stderr log");
        cmd.stdout(stdout).stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn mobieus {}: {e}", args.join(" ")));
        Self {
            child: Some(child),
            logs,
        }
    }

    /// Panics with its stderr when the process has exited.
    fn assert_running(&mut self, what: &str) {
        let child = self.child.as_mut().expect("a running process");
        if let Some(status) = child.try_wait().expect("poll the process") {
            panic!("{what} exited ({status}): {}", self.read("stderr"));
        }
    }

    fn read(&self, name: &str) -> String {
        String::from_utf8_lossy(&std::fs::read(self.logs.path().join(name)).unwrap_or_default())
            .into_owned()
    }

    /// What it printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        self.read("stdout")
    }

    /// What it printed on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.read("stderr")
    }

    /// SIGKILL: no chance to clean up, as when a machine dies.
    pub fn kill(mut self) -> ServeLogs {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.logs()
    }

    /// SIGTERM, then SIGKILL after 10 s; returns everything it printed.
    pub fn stop(mut self) -> ServeLogs {
        let mut child = self.child.take().expect("a running process");
        // Ask politely first so it can flush its logs.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        self.logs()
    }

    fn logs(&self) -> ServeLogs {
        ServeLogs {
            stdout: self.read("stdout"),
            stderr: self.read("stderr"),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `mobieus serve` child process; killed when dropped.
#[derive(Debug)]
pub struct ServeProcess {
    process: Background,
    /// The port it listens on.
    pub port: u16,
}

impl ServeProcess {
    /// Starts `mobieus --data-dir DIR serve --listen 127.0.0.1:<free port>` with the
    /// given extra environment, capturing stdout and stderr, and waits until it accepts
    /// connections (up to 60 s).
    pub fn start(cli: &Cli, env: &[(&str, &str)]) -> Self {
        Self::start_with(cli, &[], env)
    }

    /// Like [`ServeProcess::start`], with extra `serve` arguments.
    pub fn start_with(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_on(cli, crate::free_port(), args, env)
    }

    /// Like [`ServeProcess::start_with`], on a given port (to restart a server where its
    /// clients expect it).
    pub fn start_on(cli: &Cli, port: u16, args: &[&str], env: &[(&str, &str)]) -> Self {
        let listen = format!("127.0.0.1:{port}");
        let mut all = vec!["serve", "--listen", &listen];
        all.extend_from_slice(args);
        let mut process = Background::spawn(cli, &all, env);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            process.assert_running("mobieus serve");
            if std::net::TcpStream::connect_timeout(
                &([127, 0, 0, 1], port).into(),
                Duration::from_millis(200),
            )
            .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "mobieus serve did not listen on {listen} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { process, port }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and returns everything it printed.
    pub fn stop(self) -> ServeLogs {
        self.process.stop()
    }

    /// SIGKILL: no chance to clean up, as when a machine dies.
    pub fn kill(self) -> ServeLogs {
        self.process.kill()
    }
}
