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
        use serde::Serializer as _;
        // Serialised as a map straight from the pairs, so their order is kept (a
        // `serde_json::Map` would sort the names) and nothing is built in between.
        let mut json = Vec::with_capacity(512);
        let written = serde_json::Serializer::new(&mut json).collect_map(pairs);
        // Neither can fail: the writer is a `Vec` and every key is a string, and
        // serde_json writes only UTF-8.
        match written.map(|()| String::from_utf8(json)) {
            Ok(Ok(json)) => Self(json),
            _ => Self::none(),
        }
    }

    /// The JSON text, as stored.
    pub fn as_json(&self) -> &str {
        &self.0
    }
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
