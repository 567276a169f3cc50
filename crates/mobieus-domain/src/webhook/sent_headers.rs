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

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
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
