//! The guides over real HTTP: served on any host, linked from every problem document's
//! `type`, and the events reference made from the catalog.

#![allow(clippy::unwrap_used, reason = "test")]

use mobieus_domain::event::EventType;
use mobieus_testkit::TestApp;

#[tokio::test]
async fn the_guides_are_served_on_any_host() {
    let app = TestApp::start().await;
    let index = app.get("nowhere.localhost", "/know", None).await;
    index.assert_status(200);
    for slug in [
        "api-overview",
        "api-authentication",
        "api-events-reference",
        "api-webhooks-quickstart",
        "api-streaming",
        "errors",
    ] {
        assert!(
            index.text.contains(&format!("href=\"/know/{slug}\"")),
            "{slug}"
        );
        let page = app.get("127.0.0.1", &format!("/know/{slug}"), None).await;
        page.assert_status(200);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(page.header("content-security-policy").is_some());
    }
    assert_eq!(app.get("127.0.0.1", "/know/nope", None).await.status(), 404);
}

#[tokio::test]
async fn a_problem_documents_type_leads_to_its_entry() {
    let app = TestApp::start().await;
    app.tenant("alpha").await;
    let problem = app.get("alpha.localhost", "/api/v1/events", None).await;
    problem.assert_status(401);
    let link = problem.body["type"].as_str().unwrap();
    let (path, anchor) = link.split_once('#').unwrap();
    let page = app.get("alpha.localhost", path, None).await;
    page.assert_status(200);
    assert!(page.text.contains(&format!("id=\"{anchor}\"")), "{link}");
}

#[tokio::test]
async fn the_events_reference_has_an_example_of_every_type() {
    let app = TestApp::start().await;
    let page = app
        .get("127.0.0.1", "/know/api-events-reference", None)
        .await;
    for info in EventType::CATALOG {
        assert!(
            page.text.contains(&format!("id=\"{}\"", info.name)),
            "{}",
            info.name
        );
        assert!(
            page.text.contains(&format!("\"type\": \"{}\"", info.name)),
            "an example of {}",
            info.name
        );
    }
}
