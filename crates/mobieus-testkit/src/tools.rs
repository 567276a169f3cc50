//! Programs some tests run besides the server (`python3`, `node`: the guide's receiver
//! snippets). A machine with only Rust runs every other test; these then say they skip,
//! unless `MOBIEUS_TEST_REQUIRE_TOOLS=1` (CI sets it), which makes a missing program a
//! failure, so a test never goes quietly unrun where it is meant to run.

use std::process::{Command, Stdio};

/// Set to `1` to fail, not skip, a test whose program is missing.
pub const REQUIRE_TOOLS_VAR: &str = "MOBIEUS_TEST_REQUIRE_TOOLS";

/// Whether `program` can be run (`program --version` succeeds). When it cannot, prints
/// why `test` skips and answers `false`, or panics when tools are required.
pub fn available(program: &str, test: &str) -> bool {
    runs(program, &["--version"], &format!("`{program}`"), test)
}

/// Whether `python3` can import `module` (a package from PyPI, e.g. `jsonschema`); as
/// [`available`] otherwise.
pub fn python_module(module: &str, test: &str) -> bool {
    runs(
        "python3",
        &["-c", &format!("import {module}")],
        &format!("`python3` with the `{module}` package"),
        test,
    )
}

fn runs(program: &str, args: &[&str], what: &str, test: &str) -> bool {
    let runs = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if runs {
        return true;
    }
    if std::env::var(REQUIRE_TOOLS_VAR).is_ok_and(|v| v == "1") {
        panic!("{test} needs {what}, which cannot be run here ({REQUIRE_TOOLS_VAR}=1)");
    }
    eprintln!(
        "skipping {test}: {what} is not installed (install it to run this test; \
         {REQUIRE_TOOLS_VAR}=1 makes this a failure, as in CI)"
    );
    false
}

/// The code of the block marked `data-snippet="NAME"` in a served guide page's HTML, with
/// the page's escapes undone: what a reader copies.
pub fn snippet(page: &str, name: &str) -> String {
    let marker = format!("data-snippet=\"{name}\">");
    let at = page.find(&marker).expect("the snippet on the page") + marker.len();
    let code = &page[at..];
    code[..code.find("</code></pre>").expect("the snippet's end")]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A published snippet running as a program of its own (`python3 receiver.py`), with the
/// lines it prints; killed when dropped.
#[derive(Debug)]
pub struct SnippetProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

impl SnippetProcess {
    /// Writes `code` to `file` in a fresh directory and runs `program file` with `env`.
    pub fn start(program: &str, file: &str, code: &str, env: &[(&str, String)]) -> Self {
        use std::io::{BufRead, BufReader};
        let dir = tempfile::tempdir().expect("a temp dir for the snippet");
        let path = dir.path().join(file);
        std::fs::write(&path, code).expect("write the snippet");
        let mut child = Command::new(program)
            .arg(&path)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let out = child.stdout.take().expect("the snippet's stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            _dir: dir,
        }
    }

    /// The next line it prints, if one comes within `wait`.
    pub fn next_line(&self, wait: std::time::Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    /// The next `n` lines it prints, each within `wait`.
    pub fn lines(&self, n: usize, wait: std::time::Duration) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.next_line(wait)
                    .unwrap_or_else(|| panic!("line {} of {n} did not come within {wait:?}", i + 1))
            })
            .collect()
    }
}

impl Drop for SnippetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
