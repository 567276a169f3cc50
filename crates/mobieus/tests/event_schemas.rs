//! Each event type's schema, served alone as JSON Schema 2020-12 under
//! `/api/schemas/events`, against what the server really writes and sends: events of
//! every type made by the real use cases, read from the feed, and the webhook requests a
//! real HTTPS receiver got (every type, test sends included), validated by an independent
//! validator (Python's `jsonschema`). The validation is strict: a member the schema does
//! not name fails it, so a field added to an event without its schema fails this test.
//! Without `python3` and its `jsonschema` package, that test says it skips (CI installs
//! them and sets `MOBIEUS_TEST_REQUIRE_TOOLS=1`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use mobieus_domain::event::EventType;
use mobieus_testkit::receiver::Receiver;
use mobieus_testkit::{TestApp, TestOptions, fixtures, tools};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HOST: &str = "alpha.localhost";
const SCOPES: &str = "webhooks:read,webhooks:manage,events:read";

/// The schemas by type, as served.
async fn schemas(app: &TestApp) -> BTreeMap<String, Value> {
    let index = app.get(HOST, "/api/schemas/events", None).await;
    index.assert_status(200);
    let listed = index.body["event_types"].as_array().expect("event_types");
    let names: Vec<&str> = listed.iter().map(|t| t["type"].as_str().unwrap()).collect();
    let catalog: Vec<&str> = EventType::CATALOG.iter().map(|i| i.name).collect();
    assert_eq!(names, catalog, "the index lists the catalog, in its order");
    let mut out = BTreeMap::new();
    for t in listed {
        let url = t["schema"].as_str().expect("a schema address");
        let r = app.get(HOST, url, None).await;
        r.assert_status(200);
        assert_eq!(r.content_type(), "application/schema+json");
        let schema: Value = serde_json::from_str(&r.text).expect("JSON");
        out.insert(t["type"].as_str().unwrap().to_owned(), schema);
    }
    out
}

#[tokio::test]
async fn each_event_type_is_served_as_a_json_schema_of_its_own() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    for (name, schema) in schemas(&app).await {
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["properties"]["type"]["enum"], json!([name]));
        let text = schema.to_string();
        assert!(
            !text.contains("#/components/"),
            "{name}: a reference left out"
        );
        // Every reference resolves inside the document.
        let defs = schema["$defs"].as_object().expect("$defs");
        let mut at = 0;
        while let Some(i) = text[at..].find("\"#/$defs/") {
            let start = at + i + "\"#/$defs/".len();
            let end = start + text[start..].find('"').unwrap();
            assert!(
                defs.contains_key(&text[start..end]),
                "{name}: {}",
                &text[start..end]
            );
            at = end;
        }
    }
    for missing in ["post.published.json", "post.created", "post.created.yaml"] {
        let r = app
            .get(HOST, &format!("/api/schemas/events/{missing}"), None)
            .await;
        r.assert_status(404);
        assert_eq!(r.body["code"], "not_found", "{missing}");
    }
}

/// Validates each instance (label, schema name, value) against its schema with
/// `jsonschema`, every object closed to members its schema does not name; returns each
/// instance's errors by label.
fn validate(
    schemas: &BTreeMap<String, Value>,
    instances: &[(String, String, Value)],
) -> BTreeMap<String, Vec<String>> {
    const SCRIPT: &str = r#"
import json, sys
from jsonschema import Draft202012Validator

def strict(s):
    if isinstance(s, list):
        return [strict(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: strict(v) for k, v in s.items()}
    if "properties" in s and "additionalProperties" not in s:
        out["additionalProperties"] = False
    return out

case = json.load(open(sys.argv[1]))
validators = {}
for name, schema in case["schemas"].items():
    Draft202012Validator.check_schema(schema)
    validators[name] = Draft202012Validator(strict(schema))
out = {}
for label, name, body in case["instances"]:
    v = validators.get(name)
    if v is None:
        out[label] = ["no schema %r" % name]
    else:
        out[label] = ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in v.iter_errors(body)]
print(json.dumps(out))
"#;
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case.json");
    std::fs::write(
        &case,
        json!({ "schemas": schemas, "instances": instances }).to_string(),
    )
    .unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&case)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the validator's JSON")
}

#[tokio::test]
async fn real_events_and_webhook_requests_match_their_schemas() {
    if !tools::python_module(
        "jsonschema",
        "real_events_and_webhook_requests_match_their_schemas",
    ) {
        return;
    }
    let receiver = Receiver::https().await;
    let ca = receiver.ca_file();
    let app = TestApp::start_with(TestOptions::delivering("0s", Some(&ca))).await;
    let key = app.key("alpha", SCOPES, 6000).await;
    let (endpoint, _) = app
        .register_webhook(HOST, &key, &receiver.url("/hook"), &["*"])
        .await;
    let db = app.tenant("alpha").await;
    fixtures::every_event_type(&db).await;
    let test = format!("/api/v1/webhooks/{endpoint}/test");
    let feed_types: Vec<&str> = EventType::CATALOG
        .iter()
        .filter(|i| i.event_type.in_feed())
        .map(|i| i.name)
        .collect();
    for t in &feed_types {
        let body = json!({ "event_type": t }).to_string();
        app.post(HOST, &test, Some(&key), &body)
            .await
            .assert_status(202);
    }
    app.post(HOST, &test, Some(&key), "")
        .await
        .assert_status(202);

    let (feed, _) = app.walk(HOST, "/api/v1/events?limit=100", &key).await;
    let expected = feed.len() + feed_types.len() + 1;
    let received = receiver.wait_for(expected, Duration::from_secs(15)).await;
    assert_eq!(received.len(), expected);

    let mut schemas = schemas(&app).await;
    let mut instances: Vec<(String, String, Value)> = Vec::new();
    let typed = |label: String, body: Value| {
        let name = body["type"].as_str().unwrap_or_default().to_owned();
        (label, name, body)
    };
    for (i, e) in feed.iter().enumerate() {
        instances.push(typed(format!("feed #{i} {}", e["type"]), e.clone()));
    }
    // Each request's headers, against the document's `webhooks` entry for its type.
    let doc = app.get(HOST, "/api/openapi.json", None).await.body;
    for (i, r) in received.iter().enumerate() {
        let t = r.header("mobieus-event").to_owned();
        instances.push(typed(format!("request #{i} {t}"), r.json()));
        let parameters = doc["webhooks"][&t]["post"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("the document's webhooks entry for {t}"));
        let (mut properties, mut sent) = (serde_json::Map::new(), serde_json::Map::new());
        for p in parameters {
            let name = p["name"].as_str().unwrap();
            properties.insert(name.to_owned(), p["schema"].clone());
            let value = r.header(&name.to_ascii_lowercase());
            if !value.is_empty() {
                sent.insert(name.to_owned(), json!(value));
            }
        }
        let names: Vec<&String> = properties.keys().collect();
        let headers = json!({ "type": "object", "required": names, "properties": properties });
        schemas.insert(format!("headers of {t}"), headers);
        instances.push((
            format!("request #{i} {t}: headers"),
            format!("headers of {t}"),
            Value::Object(sent),
        ));
    }
    let covered = |prefix: &str| -> BTreeSet<String> {
        instances
            .iter()
            .filter(|(label, _, _)| label.starts_with(prefix) && !label.ends_with("headers"))
            .map(|(_, name, _)| name.clone())
            .collect()
    };
    let in_feed: BTreeSet<String> = feed_types.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(covered("feed"), in_feed, "every feed type is in the feed");
    let every: BTreeSet<String> = EventType::CATALOG
        .iter()
        .map(|i| i.name.to_owned())
        .collect();
    assert_eq!(covered("request"), every, "every type was sent");

    // What the check must refuse: a member no schema names, a required one missing, a
    // wrong type, a type's data under another type.
    let edited = feed
        .iter()
        .find(|e| e["type"] == "post.edited")
        .unwrap()
        .clone();
    let mut added = edited.clone();
    added["data"]["post"]["likes"] = json!(3);
    let mut missing = edited.clone();
    missing["data"].as_object_mut().unwrap().remove("previous");
    let mut retyped = edited.clone();
    retyped["created_at"] = json!(12);
    let mut swapped = edited;
    swapped["type"] = json!("user.joined");
    let refused = [
        ("tampered: an added member", added),
        ("tampered: a missing member", missing),
        ("tampered: a wrong type", retyped),
        ("tampered: another type's data", swapped),
    ];
    for (label, body) in &refused {
        instances.push(typed((*label).to_owned(), body.clone()));
    }
    // The tampered body claims another type: it is checked against that type's schema.
    let results = validate(&schemas, &instances);
    let failures: Vec<String> = results
        .iter()
        .filter(|(label, errors)| !label.starts_with("tampered") && !errors.is_empty())
        .map(|(label, errors)| format!("{label}: {errors:?}"))
        .collect();
    assert!(
        failures.is_empty(),
        "real events off their schemas:\n{}",
        failures.join("\n")
    );
    for (label, _) in &refused {
        assert!(
            !results[*label].is_empty(),
            "the schemas let through {label}"
        );
    }
}

/// Where a version's published event schemas are kept.
fn kept_schemas() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/snapshots/event-schemas-{}.json",
        mobieus_domain::event::API_VERSION
    ))
}

/// Set to `1` to record the schemas of this build as the version's (only when they grow).
const UPDATE_VAR: &str = "MOBIEUS_UPDATE_SCHEMAS";

/// Why `new` does not keep every promise of `old` (empty when it does), at `at`.
fn shrunk(old: &Value, new: &Value, at: &str, why: &mut Vec<String>) {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        if old != new {
            why.push(format!("{at}: {old} became {new}"));
        }
        return;
    };
    for (k, ov) in o {
        let here = format!("{at}/{k}");
        let Some(nv) = n.get(k) else {
            // Text only describes; anything else that goes away breaks a promise.
            if !matches!(k.as_str(), "description" | "example" | "title") {
                why.push(format!("{here}: removed"));
            }
            continue;
        };
        match k.as_str() {
            "description" | "example" | "title" => {}
            // More members, more definitions: growth. Each kept one keeps its promises.
            "properties" | "$defs" => shrunk_members(ov, nv, &here, why),
            // A member always present stays so; more may join it.
            "required" => {
                for member in ov.as_array().into_iter().flatten() {
                    if !nv.as_array().is_some_and(|a| a.contains(member)) {
                        why.push(format!("{here}: {member} no longer required"));
                    }
                }
            }
            // A value may join an enum the API answers with.
            "enum" => {
                for value in ov.as_array().into_iter().flatten() {
                    if !nv.as_array().is_some_and(|a| a.contains(value)) {
                        why.push(format!("{here}: {value} removed"));
                    }
                }
            }
            // Another alternative may join; the kept ones keep their promises.
            "oneOf" | "anyOf" => {
                let (oa, na) = (ov.as_array(), nv.as_array());
                for (i, item) in oa.into_iter().flatten().enumerate() {
                    match na.and_then(|a| a.get(i)) {
                        Some(n_item) => shrunk(item, n_item, &format!("{here}/{i}"), why),
                        None => why.push(format!("{here}/{i}: removed")),
                    }
                }
            }
            _ => shrunk(ov, nv, &here, why),
        }
    }
}

fn shrunk_members(old: &Value, new: &Value, at: &str, why: &mut Vec<String>) {
    for (name, o) in old.as_object().into_iter().flatten() {
        match new.get(name) {
            Some(n) => shrunk(o, n, &format!("{at}/{name}"), why),
            None => why.push(format!("{at}/{name}: removed")),
        }
    }
}

#[tokio::test]
async fn within_a_version_the_event_schemas_only_grow() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let now = serde_json::to_value(schemas(&app).await).unwrap();
    let path = kept_schemas();
    let update = std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1");
    let kept: Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).expect("the kept schemas are JSON"),
        Err(_) if update => Value::Object(serde_json::Map::new()),
        Err(e) => panic!(
            "no schemas kept for this API version at {} ({e}): run this test with {UPDATE_VAR}=1 and commit the file",
            path.display()
        ),
    };
    let mut why = Vec::new();
    shrunk_members(&kept, &now, "", &mut why);
    assert!(
        why.is_empty(),
        "within API version {}, a published event schema lost a promise (change the version, or keep it):\n{}",
        mobieus_domain::event::API_VERSION,
        why.join("\n")
    );
    if kept != now {
        if update {
            std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        } else {
            panic!(
                "the event schemas grew: run this test with {UPDATE_VAR}=1 and commit {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_removed_member_a_changed_type_or_a_member_made_optional_is_refused() {
    let old = json!({ "t": {
        "type": "object", "required": ["a", "b"], "description": "x",
        "properties": { "a": { "type": "string" }, "b": { "type": "integer" } },
    }});
    let mut why = Vec::new();
    let grown = json!({ "t": {
        "type": "object", "required": ["a", "b", "c"], "description": "y",
        "properties": { "a": { "type": "string" }, "b": { "type": "integer" }, "c": {} },
    }});
    shrunk_members(&old, &grown, "", &mut why);
    assert!(why.is_empty(), "{why:?}");
    for (case, new) in [
        (
            "removed",
            json!({ "t": { "type": "object", "required": ["a"], "properties": { "a": { "type": "string" } } } }),
        ),
        (
            "retyped",
            json!({ "t": { "type": "object", "required": ["a", "b"], "properties": { "a": { "type": "string" }, "b": { "type": "string" } } } }),
        ),
        (
            "optional",
            json!({ "t": { "type": "object", "required": ["a"], "properties": { "a": { "type": "string" }, "b": { "type": "integer" } } } }),
        ),
        (
            "nullable",
            json!({ "t": { "type": "object", "required": ["a", "b"], "properties": { "a": { "type": ["string", "null"] }, "b": { "type": "integer" } } } }),
        ),
        ("type gone", json!({})),
    ] {
        let mut why = Vec::new();
        shrunk_members(&old, &new, "", &mut why);
        assert!(!why.is_empty(), "{case} was let through");
    }
}
