//! `/api/docs`: the OpenAPI document rendered by Redoc in a dark theme. Redoc's bundle
//! (redoc@2.5.4 from npm, vendored in `assets/`) is served from the binary: the page
//! loads nothing from the network and sends no telemetry.

use axum::http::header;
use axum::response::{Html, IntoResponse};

const REDOC_JS: &[u8] = include_bytes!("../assets/redoc.standalone.js");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mobieus API reference</title>
<style>html,body{margin:0;background:#0f1117;color:#e3e6ed}</style>
</head>
<body>
<div id="redoc"></div>
<script src="/api/docs/redoc.standalone.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"#;

const INIT: &str = r##"Redoc.init('/api/openapi.json', {
  hideDownloadButton: false,
  expandResponses: '200',
  theme: {
    colors: {
      primary: { main: '#7aa2f7' },
      success: { main: '#9ece6a' },
      warning: { main: '#e0af68' },
      error: { main: '#f7768e' },
      text: { primary: '#e3e6ed', secondary: '#a9b1c6' },
      border: { dark: '#2a2f3a', light: '#3b4252' },
      responses: {
        success: { color: '#9ece6a', backgroundColor: '#1b2a1b' },
        error: { color: '#f7768e', backgroundColor: '#2e1a20' }
      },
      http: { get: '#7aa2f7', post: '#9ece6a', patch: '#e0af68', delete: '#f7768e' }
    },
    schema: { nestedBackground: '#161922', typeNameColor: '#9ece6a', typeTitleColor: '#e3e6ed', linesColor: '#3b4252' },
    typography: {
      fontFamily: 'system-ui, -apple-system, "Segoe UI", sans-serif',
      headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", sans-serif' },
      code: { fontFamily: 'ui-monospace, Menlo, Consolas, monospace', color: '#e0af68', backgroundColor: '#161922' },
      links: { color: '#7aa2f7' }
    },
    sidebar: { backgroundColor: '#0b0d12', textColor: '#e3e6ed', activeTextColor: '#7aa2f7' },
    rightPanel: { backgroundColor: '#161922', textColor: '#e3e6ed' },
    codeBlock: { backgroundColor: '#0b0d12' }
  }
}, document.getElementById('redoc'));
"##;

/// Scripts only from this server; Redoc runs its search index in a blob: worker.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:";

pub(crate) async fn page() -> impl IntoResponse {
    ([(header::CONTENT_SECURITY_POLICY, CSP)], Html(PAGE))
}

pub(crate) async fn init_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        INIT,
    )
}

pub(crate) async fn redoc_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        REDOC_JS,
    )
}
