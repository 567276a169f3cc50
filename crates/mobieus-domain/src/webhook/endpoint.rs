//! Webhook endpoints as the management API shows them (never with their secret).

use crate::event::EventType;
use crate::random;
use crate::time::Timestamp;
use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, pattern = $pattern)]
        pub struct $name(String);

        impl $name {
            /// Accepts the shape of an id (does not say whether it exists).
            pub fn parse(s: &str) -> Option<Self> {
                let rest = s.strip_prefix($prefix)?;
                (rest.len() == 20 && random::is_base62(rest)).then(|| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

prefixed_id!(
    /// A webhook endpoint's id, `ep_…`.
    EndpointId,
    "ep_",
    "^ep_[0-9A-Za-z]{20}$"
);
prefixed_id!(
    /// A delivery's id, `dlv_…`: one event to one endpoint, across all its attempts.
    DeliveryId,
    "dlv_",
    "^dlv_[0-9A-Za-z]{20}$"
);

impl EndpointId {
    pub fn generate() -> Self {
        Self(format!("ep_{}", random::id_base62(20)))
    }
}

impl DeliveryId {
    /// Time-ordered: the creation time in milliseconds as 8 base62 characters (until the
    /// year 8000), then 12 random ones (71 bits). Deliveries made together sort together,
    /// so the indexes holding delivery ids (the id's own, the attempts by delivery) grow
    /// at one end: recording 40 attempts rewrites a few index pages, not 40 random ones.
    pub fn generate(at: Timestamp) -> Self {
        let millis = u64::try_from(at.millis()).unwrap_or(0);
        Self(format!(
            "dlv_{}{}",
            random::base62_fixed(millis, 8),
            random::id_base62(12)
        ))
    }
}

/// Which events an endpoint receives: all of them, or the listed types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventSelection {
    All,
    Types(Vec<EventType>),
}

/// An event list that cannot be a subscription.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadSelection {
    #[error("unknown event type {0:?}")]
    Unknown(String),
    #[error("{0} is not an event an endpoint can subscribe to")]
    NotSubscribable(String),
    #[error("give [\"*\"] for every event, or at least one event type")]
    Empty,
}

impl EventSelection {
    /// Parses `["*"]` or a list of event types (duplicates dropped, order kept stable).
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, BadSelection> {
        if names.len() == 1 && names[0].as_ref() == "*" {
            return Ok(EventSelection::All);
        }
        let mut types = Vec::new();
        for name in names {
            let name = name.as_ref();
            let t = EventType::parse(name).map_err(|_| BadSelection::Unknown(name.to_owned()))?;
            if !t.in_feed() {
                return Err(BadSelection::NotSubscribable(name.to_owned()));
            }
            if !types.contains(&t) {
                types.push(t);
            }
        }
        if types.is_empty() {
            return Err(BadSelection::Empty);
        }
        types.sort();
        Ok(EventSelection::Types(types))
    }

    pub fn includes(&self, t: EventType) -> bool {
        match self {
            EventSelection::All => t.in_feed(),
            EventSelection::Types(types) => types.contains(&t),
        }
    }

    /// The stored and shown form: `*` or `a,b`.
    pub fn to_list(&self) -> String {
        match self {
            EventSelection::All => "*".to_owned(),
            EventSelection::Types(types) => {
                types.iter().map(|t| t.name()).collect::<Vec<_>>().join(",")
            }
        }
    }

    pub fn parse_list(s: &str) -> Result<Self, BadSelection> {
        Self::parse(&s.split(',').collect::<Vec<_>>())
    }
}

impl Serialize for EventSelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EventSelection::All => ["*"].serialize(s),
            EventSelection::Types(types) => types.serialize(s),
        }
    }
}

/// A webhook endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: EndpointId,
    /// Where events are sent (https).
    pub url: String,
    #[schema(required = true)]
    pub label: Option<String>,
    /// The event types sent here, or `["*"]` for all.
    #[schema(value_type = Vec<String>, example = json!(["post.created", "post.edited"]))]
    pub events: EventSelection,
    /// Whether events are sent; an endpoint is disabled by hand, on 410 Gone, or after
    /// too many consecutive failed attempts.
    pub active: bool,
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    #[schema(required = true)]
    pub disabled_at: Option<Timestamp>,
    pub consecutive_failures: u32,
    /// Until when the previous secret still signs (a rotation's grace window).
    #[schema(required = true)]
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse_and_match() {
        let all = EventSelection::parse(&["*"]).unwrap();
        assert!(all.includes(EventType::PostCreated) && !all.includes(EventType::WebhookTest));
        let some = EventSelection::parse(&["post.edited", "post.created", "post.created"]).unwrap();
        assert_eq!(some.to_list(), "post.created,post.edited");
        assert_eq!(EventSelection::parse_list(&some.to_list()).unwrap(), some);
        assert!(some.includes(EventType::PostEdited) && !some.includes(EventType::UserJoined));
        assert!(matches!(
            EventSelection::parse(&["post.published"]),
            Err(BadSelection::Unknown(_))
        ));
        assert!(matches!(
            EventSelection::parse(&["webhook.test"]),
            Err(BadSelection::NotSubscribable(_))
        ));
        assert_eq!(EventSelection::parse::<&str>(&[]), Err(BadSelection::Empty));
        assert!(EventSelection::parse(&["*", "post.created"]).is_err());
    }

    #[test]
    fn ids_have_their_prefix() {
        let e = EndpointId::generate();
        assert!(e.as_str().starts_with("ep_") && EndpointId::parse(e.as_str()).is_some());
        assert!(DeliveryId::parse(e.as_str()).is_none());
        let d = DeliveryId::generate(Timestamp::from_millis(1_700_000_000_000));
        assert!(DeliveryId::parse(d.as_str()).is_some(), "{d}");
    }

    #[test]
    fn delivery_ids_sort_by_creation_time() {
        let times = [
            0,
            61,
            62,
            1_700_000_000_000,
            1_700_000_000_001,
            200_000_000_000_000,
        ];
        let ids: Vec<String> = times
            .iter()
            .map(|t| DeliveryId::generate(Timestamp::from_millis(*t)).to_string())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        let a = DeliveryId::generate(Timestamp::from_millis(5));
        let b = DeliveryId::generate(Timestamp::from_millis(5));
        assert_ne!(
            a, b,
            "the random part tells apart ids of the same millisecond"
        );
    }
}
