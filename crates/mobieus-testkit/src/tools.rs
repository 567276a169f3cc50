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
