//! Reading a server-sent event stream (the live feed) as the HTML standard's
//! `EventSource` does: bytes in, as they arrive in any pieces; messages out, each when its
//! blank line has come. Comment lines (`:`, the heartbeats) are counted, not returned.

/// One message of the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The `id:` field, when the message had one.
    pub id: Option<String>,
    /// The `event:` field; `message` when absent.
    pub event: String,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// The `retry:` field in milliseconds, when the message had one.
    pub retry_ms: Option<u64>,
}

/// An incremental parser: [`SseParser::push`] the bytes read, take the messages done.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of a line not yet ended.
    line: Vec<u8>,
    /// The message being read.
    current: Message,
    /// Whether the current message has a field (a blank line after none sends nothing).
    started: bool,
    data_lines: usize,
    /// Comment lines seen (heartbeats).
    pub comments: u64,
    /// A `\r` ended the last line: a `\n` right after it belongs to the same end.
    after_cr: bool,
}

impl SseParser {
    /// Feeds `bytes`; returns the messages they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Message> {
        let mut done = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(message) = self.line_ended(&line) {
                        done.push(message);
                    }
                }
                _ => self.line.push(b),
            }
        }
        done
    }

    fn line_ended(&mut self, line: &[u8]) -> Option<Message> {
        if line.is_empty() {
            if !self.started {
                return None;
            }
            self.started = false;
            self.data_lines = 0;
            let mut message = std::mem::take(&mut self.current);
            if message.event.is_empty() {
                "message".clone_into(&mut message.event);
            }
            return Some(message);
        }
        if line[0] == b':' {
            self.comments += 1;
            return None;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        self.started = true;
        match field {
            "id" => self.current.id = Some(value.to_owned()),
            "event" => value.clone_into(&mut self.current.event),
            "data" => {
                if self.data_lines > 0 {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.data_lines += 1;
            }
            "retry" => self.current.retry_ms = value.parse().ok(),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_whole_however_the_bytes_are_cut() {
        let wire = b"retry: 2000\n\n: keep-alive\n\nid: evt_1\r\nevent: user.joined\r\ndata: {\"a\":1}\r\n\r\ndata: x\ndata: y\n\n";
        let want = vec![
            Message {
                retry_ms: Some(2000),
                event: "message".into(),
                ..Message::default()
            },
            Message {
                id: Some("evt_1".into()),
                event: "user.joined".into(),
                data: "{\"a\":1}".into(),
                retry_ms: None,
            },
            Message {
                event: "message".into(),
                data: "x\ny".into(),
                ..Message::default()
            },
        ];
        for cut in 1..wire.len() {
            let mut p = SseParser::default();
            let mut got = p.push(&wire[..cut]);
            got.extend(p.push(&wire[cut..]));
            assert_eq!(got, want, "cut at {cut}");
            assert_eq!(p.comments, 1);
        }
    }
}
