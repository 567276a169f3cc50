//! A live event stream read over real HTTP, message by message.

use mobieus_domain::sse::{Message, SseParser};
use std::time::Duration;

/// An open `text/event-stream` answer.
#[derive(Debug)]
pub struct SseStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: std::collections::VecDeque<Message>,
}

impl SseStream {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            parser: SseParser::default(),
            ready: Default::default(),
        }
    }

    /// The next message with an `id` (an event), or `None` when the stream ended or
    /// nothing came within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(m) = self.ready.pop_front() {
                if m.id.is_some() {
                    return Some(m);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.ready.extend(self.parser.push(&bytes)),
                _ => return None,
            }
        }
    }

    /// Reads `n` events, failing the test if they do not come within `wait` each.
    pub async fn events(&mut self, n: usize, wait: Duration) -> Vec<Message> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            match self.next_event(wait).await {
                Some(m) => out.push(m),
                None => panic!("event {} of {n} did not come within {wait:?}", i + 1),
            }
        }
        out
    }

    /// Whether the server ended the stream within `wait` (events before the end are
    /// skipped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    self.parser.push(&bytes);
                }
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Heartbeat comments seen so far.
    pub fn comments(&self) -> u64 {
        self.parser.comments
    }
}
