//! The OpenAPI 3.1 document and the Redoc page, over real HTTP.
//!
//! `/api/openapi.yaml` is snapshot-tested (`snapshots/openapi__openapi.snap`), so every
//! contract change shows up in review: after an intended change, run the tests with
//! `INSTA_UPDATE=always` (or `cargo insta review`) and commit the new snapshot. The
//! structure is checked on `/api/openapi.json`, the same document as JSON.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed setup stops the test with its message"
)]

use mobieus_testkit::TestApp;
use serde_json::Value;
use std::collections::BTreeSet;

const HOST: &str = "alpha.localhost";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn app() -> TestApp {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    app
}

#[tokio::test]
async fn the_yaml_document_matches_its_snapshot() {
    let app = app().await;
    let r = app.get(HOST, "/api/openapi.yaml", None).await;
    r.assert_status(200);
    let ct = r.content_type();
    assert!(ct.contains("yaml"), "Content-Type of openapi.yaml: {ct:?}");
    assert!(
        r.text.lines().any(|l| l.starts_with("openapi: 3.1")
            || l.starts_with("openapi: '3.1")
            || l.starts_with("openapi: \"3.1")),
        "an OpenAPI 3.1 YAML document"
    );
    insta::assert_snapshot!("openapi", r.text);
}

async fn spec(app: &TestApp) -> Value {
    let r = app.get(HOST, "/api/openapi.json", None).await;
    r.assert_status(200);
    assert!(
        r.body.is_object(),
        "openapi.json is a JSON object: {}",
        &r.text[..r.text.len().min(200)]
    );
    r.body
}

#[tokio::test]
async fn the_yaml_and_json_documents_agree() {
    let app = app().await;
    let yaml = app.get(HOST, "/api/openapi.yaml", None).await.text;
    let json = spec(&app).await;
    for path in json["paths"].as_object().expect("paths").keys() {
        assert!(
            yaml.contains(&format!("{path}:"))
                || yaml.contains(&format!("'{path}':"))
                || yaml.contains(&format!("\"{path}\":")),
            "YAML lacks path {path}"
        );
    }
    for name in json["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
        .keys()
    {
        assert!(
            yaml.contains(&format!("{name}:")),
            "YAML lacks schema {name}"
        );
    }
    // The document is served the same on every host: it does not depend on the tenant.
    let other = app
        .get("nowhere.localhost", "/api/openapi.json", None)
        .await;
    if other.status() == 200 {
        assert_eq!(other.body, json);
    }
}

/// Records a failed check instead of stopping at the first one.
macro_rules! check {
    ($problems:ident, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $problems.push(format!($($msg)+));
        }
    };
}

#[tokio::test]
async fn the_document_is_structurally_valid_openapi_3_1() {
    let app = app().await;
    let doc = spec(&app).await;
    // Every problem is collected, so one run lists them all.
    let mut problems: Vec<String> = Vec::new();

    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    check!(problems, version.starts_with("3.1."), "openapi: {version}");
    check!(
        problems,
        doc["info"]["title"].as_str().is_some_and(|s| !s.is_empty()),
        "info.title"
    );
    check!(
        problems,
        doc["info"]["version"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "info.version"
    );

    let paths = doc["paths"].as_object().expect("`paths` is an object");
    for want in [
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/posts",
        "/api/v1/posts/{id}",
    ] {
        check!(
            problems,
            paths.contains_key(want),
            "documents {want}; has {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        check!(problems, path.starts_with('/'), "path {path}");
        let item = item.as_object().expect("a path item is an object");
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let at = format!("{} {path}", method.to_uppercase());
            if let Some(id) = op["operationId"].as_str() {
                check!(
                    problems,
                    operation_ids.insert(id.to_owned()),
                    "operationId {id} is unique ({at})"
                );
            }
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{at} has `responses`"));
            check!(
                problems,
                !responses.is_empty(),
                "{at} documents at least one response"
            );
            for (status, response) in responses {
                check!(
                    problems,
                    status == "default"
                        || (status.len() == 3
                            && status.chars().all(|c| c.is_ascii_digit() || c == 'X')),
                    "{at}: response key {status}"
                );
                if response.get("$ref").is_none() {
                    check!(
                        problems,
                        response["description"].is_string(),
                        "{at} response {status} has a description (required in 3.1)"
                    );
                }
            }
            check!(
                problems,
                responses.keys().any(|status| status.starts_with('2')),
                "{at} documents its success (2xx) answer"
            );
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let path_params: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            for name in &templated {
                check!(
                    problems,
                    path_params.contains(*name),
                    "{at} declares path parameter {name}"
                );
            }
            for p in params.iter().filter(|p| p["in"] == "path") {
                check!(
                    problems,
                    p["required"] == true,
                    "{at}: path parameters are required"
                );
            }
            if path.starts_with("/api/v1/") {
                for code in ["401", "429"] {
                    check!(
                        problems,
                        responses.contains_key(code),
                        "{at} documents {code}"
                    );
                }
                let secured = op.get("security").or_else(|| doc.get("security"));
                check!(
                    problems,
                    secured.is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty())),
                    "{at} states its security requirement"
                );
            }
        }
    }

    let events = &doc["paths"]["/api/v1/events"]["get"];
    let names: BTreeSet<&str> = events["parameters"]
        .as_array()
        .expect("events parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for want in ["type", "since", "until", "limit", "cursor"] {
        check!(
            problems,
            names.contains(want),
            "GET /api/v1/events documents `{want}`: {names:?}"
        );
    }
    let posts = &doc["paths"]["/api/v1/posts"]["get"];
    let names: BTreeSet<&str> = posts["parameters"]
        .as_array()
        .expect("posts parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for want in ["thread", "author", "limit", "cursor"] {
        check!(
            problems,
            names.contains(want),
            "GET /api/v1/posts documents `{want}`: {names:?}"
        );
    }

    // A list's meta always carries `has_more` and `next_cursor` (null at the end).
    for list in ["/api/v1/events", "/api/v1/users", "/api/v1/posts"] {
        let schema = resolve_ref(
            &doc,
            &doc["paths"][list]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        );
        let meta = resolve_ref(&doc, &schema["properties"]["meta"]);
        let required: Vec<&str> = meta["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for member in ["request_id", "has_more", "next_cursor"] {
            check!(
                problems,
                required.contains(&member),
                "GET {list}: meta.{member} is required (always present); required = {required:?}"
            );
        }
    }

    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("components.securitySchemes");
    check!(
        problems,
        schemes.values().any(|s| s["type"] == "http"
            && s["scheme"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case("bearer"))),
        "a bearer security scheme: {schemes:?}"
    );

    // Every event type of the catalog is documented (generated from the one catalog).
    let text = doc.to_string();
    for info in mobieus_domain::event::EventType::CATALOG
        .iter()
        .filter(|i| i.event_type.in_feed())
    {
        check!(
            problems,
            text.contains(&format!("\"{}\"", info.name)),
            "the document names event type {}",
            info.name
        );
    }
    assert!(
        problems.is_empty(),
        "the OpenAPI document has {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Every `$ref` in the document points at something that exists in it.
#[tokio::test]
async fn every_ref_resolves() {
    let app = app().await;
    let doc = spec(&app).await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(
        !refs.is_empty(),
        "a generated document refers to its components"
    );
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("$ref {r} is local"));
        assert!(
            pointer.starts_with("/components/"),
            "$ref {r} points into components"
        );
        assert!(doc.pointer(pointer).is_some(), "$ref {r} resolves");
    }
}

/// `v`, or what its `$ref` points at.
fn resolve_ref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(&Value::Null),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Attribute values of `attr` in every `<tag …>` of `html` (lower-cased match on names).
fn attributes(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let open = format!("<{tag}");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&open) {
        let start = from + i;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag_text = &html[start..end];
        let tag_lower = &lower[start..end];
        let needle = format!("{attr}=");
        let mut at = 0;
        while let Some(j) = tag_lower[at..].find(&needle) {
            let k = at + j;
            let before = tag_lower[..k].chars().last();
            if before.is_some_and(char::is_whitespace) {
                let rest = &tag_text[k + needle.len()..];
                let value = match rest.chars().next() {
                    Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or_default(),
                    _ => rest
                        .split(|c: char| c.is_whitespace() || c == '>')
                        .next()
                        .unwrap_or_default(),
                };
                out.push(value.to_owned());
            }
            at = k + needle.len();
        }
        from = end.max(start + 1);
    }
    out
}

/// Resolves `src` against the page at `/api/docs` the way a browser does.
fn resolve(src: &str) -> String {
    if src.starts_with('/') {
        src.to_owned()
    } else {
        format!("/api/{src}")
    }
}

fn is_remote(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("http:") || u.starts_with("https:") || u.starts_with("//")
}

#[tokio::test]
async fn the_docs_render_without_the_network() {
    let app = app().await;
    let page = app.get(HOST, "/api/docs", None).await;
    page.assert_status(200);
    assert!(
        page.content_type().starts_with("text/html"),
        "Content-Type {}",
        page.content_type()
    );
    let html = &page.text;
    assert!(
        html.to_ascii_lowercase().contains("redoc"),
        "the page uses Redoc"
    );

    let scripts = attributes(html, "script", "src");
    let links = attributes(html, "link", "href");
    assert!(!scripts.is_empty(), "the page loads its scripts: {html}");
    for url in scripts.iter().chain(&links) {
        assert!(!is_remote(url), "/api/docs loads {url} from the network");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no absolute URL anywhere in the page: {html}"
    );

    let mut largest = 0;
    for src in &scripts {
        let r = app.get(HOST, &resolve(src), None).await;
        r.assert_status(200);
        assert!(
            r.content_type().contains("javascript"),
            "{src}: Content-Type {}",
            r.content_type()
        );
        largest = largest.max(r.text.len());
    }
    assert!(
        largest > 100_000,
        "the Redoc bundle is served from the binary ({largest} bytes)"
    );
    for href in &links {
        app.get(HOST, &resolve(href), None).await.assert_status(200);
    }

    // The spec the page renders is served too.
    let spec = app.get(HOST, "/api/openapi.json", None).await;
    spec.assert_status(200);
}

#[test]
fn attribute_scanning_finds_quoted_and_bare_values() {
    let html = r#"<html><script src="/a.js"></script><SCRIPT type=module SRC='b.js'></SCRIPT><script>var x = "src=nope"</script><link rel=stylesheet href=/c.css><img data-src="x"></html>"#;
    assert_eq!(attributes(html, "script", "src"), ["/a.js", "b.js"]);
    assert_eq!(attributes(html, "link", "href"), ["/c.css"]);
    assert_eq!(resolve("b.js"), "/api/b.js");
    assert!(
        is_remote("//cdn.example/x.js") && is_remote("HTTPS://x") && !is_remote("/api/docs/x.js")
    );
}

#[tokio::test]
async fn the_cli_prints_the_served_document_without_a_server() {
    let app = app().await;
    let (_dir, cli) = mobieus_testkit::cli::Cli::in_temp_dir(env!("CARGO_BIN_EXE_mobieus"));
    let json = app.get(HOST, "/api/openapi.json", None).await.text;
    assert_eq!(cli.run(&["openapi", "--json"]).ok(), json);
    let yaml = app.get(HOST, "/api/openapi.yaml", None).await.text;
    assert_eq!(cli.run(&["openapi"]).ok(), yaml);
    // Nothing was opened or created.
    assert!(!cli.data_dir().exists());
}
