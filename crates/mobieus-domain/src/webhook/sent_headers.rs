//! The request headers of an attempt as kept in its delivery log: a JSON object of
//! names to values, written once when the attempt is made. The log is written for every
//! attempt and read rarely, so it is kept as the JSON text it is stored as, not as a
//! map that each attempt would build and the recorder serialise again.

/// A JSON object of header names to values, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentHeaders(String);

impl SentHeaders {
    /// No headers: nothing was sent.
    pub fn none() -> Self {
        Self("{}".to_owned())
    }

    /// The headers named, in order. Names and values are escaped as JSON strings.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut json = String::with_capacity(512);
        json.push('{');
        for (i, (name, value)) in pairs.into_iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            push_json_string(&mut json, name);
            json.push(':');
            push_json_string(&mut json, value);
        }
        json.push('}');
        Self(json)
    }

    /// The JSON text, as stored.
    pub fn as_json(&self) -> &str {
        &self.0
    }
}

/// Appends `s` as a JSON string literal: the runs that need no escape (all of a header
/// value, as a rule) copied whole.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    // Without an early exit, so the check runs over many bytes at a time.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    });
    if plain {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escaped.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escaped);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn is_a_json_object_of_the_pairs_in_order() {
        let h = SentHeaders::from_pairs([("content-type", "application/json"), ("a", "1")]);
        assert_eq!(
            h.as_json(),
            r#"{"content-type":"application/json","a":"1"}"#
        );
        assert_eq!(SentHeaders::none().as_json(), "{}");
    }

    #[test]
    fn escapes_what_json_must() {
        let odd = "q\"b\\s\n\t\u{1}é";
        let h = SentHeaders::from_pairs([("x", odd)]);
        let parsed: serde_json::Value = serde_json::from_str(h.as_json()).unwrap();
        assert_eq!(parsed["x"], odd);
    }
}
