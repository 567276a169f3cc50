//! The public event catalog and the event envelope: the one place the taxonomy lives.
//! The API docs, the OpenAPI document and (later) the admin pickers are generated from
//! [`EventType::CATALOG`]; the payload of each type is the matching [`EventData`] variant,
//! so a type cannot be written with another type's data.

use crate::forum::{Post, Thread, User, UserRef};
use crate::random;
use crate::tenant::TenantSlug;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the event and API shapes, sent in every event.
pub const API_VERSION: &str = "2026-05-24";

/// A public event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    UserJoined,
    UserLeft,
    PostCreated,
    PostEdited,
    PostDeleted,
    UserBanned,
    UserUnbanned,
    PostRemoved,
    ThreadLocked,
    ThreadUnlocked,
    WebhookTest,
}

/// One entry of the catalog.
#[derive(Debug)]
pub struct EventTypeInfo {
    pub event_type: EventType,
    pub name: &'static str,
    pub description: &'static str,
}

/// An event type name that is not in the catalog.
#[derive(Debug, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

impl EventType {
    /// Every event type, in the order the docs list them.
    pub const CATALOG: [EventTypeInfo; 11] = [
        info(
            EventType::UserJoined,
            "user.joined",
            "A member joined the forum. `data.user` is the new member.",
        ),
        info(
            EventType::UserLeft,
            "user.left",
            "A member left the forum (deleted their account). `data.user` is the member, e-mail erased.",
        ),
        info(
            EventType::PostCreated,
            "post.created",
            "A post was written: a reply, or the opening post of a new thread (`data.post.opens_thread`). `data` has `post`, `thread` and `actor`.",
        ),
        info(
            EventType::PostEdited,
            "post.edited",
            "A post's body changed. `data` has `post` (new body), `thread`, `actor`, and `previous.body` (the body before the edit).",
        ),
        info(
            EventType::PostDeleted,
            "post.deleted",
            "A post was deleted by its author or a moderator. `data` has `post`, `thread` and `actor`.",
        ),
        info(
            EventType::UserBanned,
            "moderation.user_banned",
            "A moderator banned a member. `data` has `user`, `actor` and `reason`.",
        ),
        info(
            EventType::UserUnbanned,
            "moderation.user_unbanned",
            "A moderator lifted a ban. `data` has `user`, `actor` and `reason`.",
        ),
        info(
            EventType::PostRemoved,
            "moderation.post_removed",
            "A moderator removed a post. `data` has `post`, `thread`, `actor` and `reason`.",
        ),
        info(
            EventType::ThreadLocked,
            "moderation.thread_locked",
            "A moderator locked a thread; it takes no replies. `data` has `thread`, `actor` and `reason`.",
        ),
        info(
            EventType::ThreadUnlocked,
            "moderation.thread_unlocked",
            "A moderator unlocked a thread. `data` has `thread`, `actor` and `reason`.",
        ),
        info(
            EventType::WebhookTest,
            "webhook.test",
            "Sent only to the endpoint being tested; never in the event feed.",
        ),
    ];

    pub fn name(self) -> &'static str {
        Self::CATALOG
            .iter()
            .find(|i| i.event_type == self)
            .map_or("", |i| i.name)
    }

    /// What an event of this type says, as the catalog describes it.
    pub fn description(self) -> &'static str {
        Self::CATALOG
            .iter()
            .find(|i| i.event_type == self)
            .map_or("", |i| i.description)
    }

    pub fn parse(s: &str) -> Result<Self, UnknownEventType> {
        Self::CATALOG
            .iter()
            .find(|i| i.name == s)
            .map(|i| i.event_type)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }

    /// Whether events of this type appear in the public feed (`webhook.test` does not).
    pub fn in_feed(self) -> bool {
        self != EventType::WebhookTest
    }
}

const fn info(
    event_type: EventType,
    name: &'static str,
    description: &'static str,
) -> EventTypeInfo {
    EventTypeInfo {
        event_type,
        name,
        description,
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An event's id: `evt_` and a ULID (time-ordered, 80 random bits), stable forever; it is
/// also the `webhook-id` of every delivery of the event.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    pub fn generate(at: Timestamp) -> Self {
        let mut rnd = [0u8; 10];
        random::id_fill(&mut rnd);
        let mut value =
            u128::from(u64::try_from(at.millis()).unwrap_or(0) & 0xFFFF_FFFF_FFFF) << 80;
        for (i, b) in rnd.iter().enumerate() {
            value |= u128::from(*b) << (8 * (9 - i));
        }
        const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let mut s = String::with_capacity(30);
        s.push_str("evt_");
        for i in (0..26).rev() {
            s.push(CROCKFORD[((value >> (5 * i)) & 31) as usize] as char);
        }
        Self(s)
    }

    /// Accepts the shape of an event id (does not say whether it exists).
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("evt_")?;
        (rest.len() == 26
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
        .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0)
    }
}

/// A post's state before an edit (Stripe's `previous_attributes`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PreviousPost {
    /// The body before the edit.
    pub body: String,
    /// When the body before this one was edited; `null` when it was the first.
    #[schema(required = true)]
    pub edited_at: Option<Timestamp>,
}

/// What each event carries, so an integrator needs no second call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    UserJoined {
        user: User,
    },
    UserLeft {
        user: User,
    },
    PostCreated {
        post: Post,
        thread: Thread,
        actor: UserRef,
    },
    PostEdited {
        post: Post,
        thread: Thread,
        actor: UserRef,
        previous: PreviousPost,
    },
    PostDeleted {
        post: Post,
        thread: Thread,
        actor: UserRef,
    },
    UserBanned {
        user: User,
        actor: UserRef,
        reason: Option<String>,
    },
    UserUnbanned {
        user: User,
        actor: UserRef,
        reason: Option<String>,
    },
    PostRemoved {
        post: Post,
        thread: Thread,
        actor: UserRef,
        reason: Option<String>,
    },
    ThreadLocked {
        thread: Thread,
        actor: UserRef,
        reason: Option<String>,
    },
    ThreadUnlocked {
        thread: Thread,
        actor: UserRef,
        reason: Option<String>,
    },
    WebhookTest {
        message: String,
    },
}

impl EventData {
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::UserJoined { .. } => EventType::UserJoined,
            EventData::UserLeft { .. } => EventType::UserLeft,
            EventData::PostCreated { .. } => EventType::PostCreated,
            EventData::PostEdited { .. } => EventType::PostEdited,
            EventData::PostDeleted { .. } => EventType::PostDeleted,
            EventData::UserBanned { .. } => EventType::UserBanned,
            EventData::UserUnbanned { .. } => EventType::UserUnbanned,
            EventData::PostRemoved { .. } => EventType::PostRemoved,
            EventData::ThreadLocked { .. } => EventType::ThreadLocked,
            EventData::ThreadUnlocked { .. } => EventType::ThreadUnlocked,
            EventData::WebhookTest { .. } => EventType::WebhookTest,
        }
    }
}

/// A public event: the body of a feed item and of a webhook request.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub api_version: &'static str,
    pub created_at: Timestamp,
    pub tenant: TenantSlug,
    pub data: EventData,
    /// A test send (`POST /api/v1/webhooks/{id}/test` with an `event_type`): sent to the
    /// tested endpoint only and never in the feed. Serialised as `"test": true` only when
    /// set, so every other event keeps exactly the documented shape.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl Event {
    pub fn new(tenant: TenantSlug, created_at: Timestamp, data: EventData) -> Self {
        Self {
            id: EventId::generate(created_at),
            event_type: data.event_type(),
            api_version: API_VERSION,
            created_at,
            tenant,
            data,
            test: false,
        }
    }

    /// Whether the event belongs in the public feed: not a test send, nor a `webhook.test`.
    pub fn in_feed(&self) -> bool {
        !self.test && self.event_type.in_feed()
    }

    /// The JSON bytes that are stored, listed and signed: serialised once, never again.
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_round_trip_and_are_unique() {
        let mut names: Vec<_> = EventType::CATALOG.iter().map(|i| i.name).collect();
        for i in &EventType::CATALOG {
            assert_eq!(EventType::parse(i.name).unwrap(), i.event_type);
            assert_eq!(i.event_type.name(), i.name);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::CATALOG.len());
        assert!(EventType::parse("post.published").is_err());
    }

    #[test]
    fn event_ids_are_time_ordered() {
        let a = EventId::generate(Timestamp::from_millis(1_000));
        let b = EventId::generate(Timestamp::from_millis(2_000));
        assert!(a.as_str() < b.as_str());
        assert!(EventId::parse(a.as_str()).is_some());
        assert!(EventId::parse("evt_x").is_none());
    }

    #[test]
    fn envelope_has_the_documented_shape() {
        let tenant = TenantSlug::parse("acme").unwrap();
        let e = Event::new(
            tenant,
            Timestamp::from_millis(0),
            EventData::WebhookTest {
                message: "hi".into(),
            },
        );
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["type"], "webhook.test");
        assert_eq!(v["api_version"], API_VERSION);
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(v["tenant"], "acme");
        assert_eq!(v["data"]["message"], "hi");
        assert!(v.get("test").is_none());
    }

    #[test]
    fn a_test_send_says_so_at_the_top_level() {
        let tenant = TenantSlug::parse("acme").unwrap();
        let mut e = Event::new(
            tenant,
            Timestamp::from_millis(0),
            EventData::WebhookTest {
                message: "hi".into(),
            },
        );
        e.test = true;
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["test"], true);
        assert!(!e.in_feed());
    }
}
