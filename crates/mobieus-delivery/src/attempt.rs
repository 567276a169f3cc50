//! One attempt: check the URL again, sign the exact body with a fresh timestamp, send it,
//! and keep what a person debugging the endpoint needs (the headers as sent, the status,
//! the start of the answer, or what failed on the network).

use crate::headers::AttemptHeaders;
use mobieus_core::delivery::Outcome;
use mobieus_domain::time::Timestamp;
use mobieus_domain::webhook::WebhookUrl;
use mobieus_domain::webhook::{SentHeaders, WebhookSecret};
use mobieus_store::{ClaimedDelivery, NewAttempt};
use reqwest::header::HeaderValue;
use std::time::{Duration, Instant};

/// How long the start of an answer's body is waited for, once its status is in.
const EXCERPT_WAIT: Duration = Duration::from_secs(1);

/// The most of an answer's body kept in the attempt log.
const EXCERPT_BYTES: usize = 2048;

/// Where a delivery goes and what signs it.
#[derive(Debug)]
pub(crate) struct Target {
    /// The endpoint's URL under this process's rules, checked when the endpoint was read
    /// (the rules do not change while the process runs): the URL, or why it is refused.
    pub url: Result<WebhookUrl, String>,
    pub active: bool,
    pub current: WebhookSecret,
    pub previous: Option<WebhookSecret>,
}

/// What to send: the event's type (as its header) and its stored JSON, the bytes signed
/// and sent (shared by every delivery of the event in a batch).
#[derive(Debug)]
pub(crate) struct Payload {
    pub event_type: HeaderValue,
    pub body: bytes::Bytes,
}

pub(crate) async fn send(
    client: &reqwest::Client,
    claimed: &ClaimedDelivery,
    target: &Target,
    payload: &Payload,
) -> (NewAttempt, Outcome) {
    let number = claimed.attempts + 1;
    let started_at = Timestamp::now();
    let clock = Instant::now();
    let mut attempt = NewAttempt {
        delivery: claimed.id.clone(),
        number,
        started_at,
        duration_ms: 0,
        request_headers: SentHeaders::none(),
        response_status: None,
        response_excerpt: None,
        error: None,
    };
    let failed = Outcome::Failed {
        gone: false,
        retry_after: None,
    };
    // The URL was checked when it was stored; the rules (or the loopback allowance) may
    // have changed since, so it is checked again before anything is sent (when the
    // endpoint was read into the cache of targets, with this process's rules).
    let url = match &target.url {
        Ok(url) => url,
        Err(refused) => {
            attempt.error = Some(refused.clone());
            return (attempt, failed);
        }
    };
    let delivery_id = claimed.id.to_string();
    let signed = AttemptHeaders {
        event_id: &claimed.event_id,
        event_type: &payload.event_type,
        delivery_id: &delivery_id,
        number,
        current: &target.current,
        previous: target.previous.as_ref(),
    };
    let headers = match signed.build(&payload.body, started_at) {
        Ok(h) => h,
        Err(why) => {
            attempt.error = Some(why);
            return (attempt, failed);
        }
    };
    // Added by the HTTP client from the body.
    let length = payload.body.len().to_string();
    attempt.request_headers = SentHeaders::from_pairs(
        headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default()))
            .chain([("content-length", length.as_str())]),
    );
    let mut request = reqwest::Request::new(reqwest::Method::POST, url.url().clone());
    *request.headers_mut() = headers;
    *request.body_mut() = Some(payload.body.clone().into());
    let result = client.execute(request).await;
    let outcome = match result {
        Ok(mut response) => {
            let status = response.status();
            attempt.response_status = Some(status.as_u16());
            let retry_after = retry_after(&response);
            attempt.response_excerpt = excerpt(&mut response).await;
            if status.is_success() {
                Outcome::Succeeded
            } else {
                Outcome::Failed {
                    gone: status == reqwest::StatusCode::GONE,
                    retry_after: matches!(status.as_u16(), 429 | 503)
                        .then_some(retry_after)
                        .flatten(),
                }
            }
        }
        Err(e) => {
            if e.is_connect() {
                // No connection (refused by the SSRF guard, unresolvable, unreachable):
                // nothing was sent, so the log shows no headers as sent.
                attempt.request_headers = SentHeaders::none();
            }
            attempt.error = Some(describe(&e));
            failed
        }
    };
    attempt.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    (attempt, outcome)
}

/// `Retry-After` in seconds (the HTTP-date form is rare from webhook receivers and is
/// ignored); the delivery policy bounds it.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// The start of the answer's body, read no further than the cap and for no longer than
/// `EXCERPT_WAIT` once the status is in (a slow body must not hold a slot).
async fn excerpt(response: &mut reqwest::Response) -> Option<String> {
    let deadline = tokio::time::Instant::now() + EXCERPT_WAIT;
    let mut kept = Vec::new();
    while kept.len() < EXCERPT_BYTES {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => kept.extend_from_slice(&chunk),
            Ok(Ok(None) | Err(_)) | Err(_) => break,
        }
    }
    if kept.is_empty() {
        return None;
    }
    kept.truncate(EXCERPT_BYTES);
    Some(String::from_utf8_lossy(&kept).into_owned())
}

/// A network failure in one line: reqwest's message and each cause under it (the SSRF
/// guard's refusal among them), never a header or a secret.
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}
