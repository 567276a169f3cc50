//! One example of every event type, for the events reference. Each is built from the same
//! types and serialised by the same [`Event::to_json`] as the events the forum publishes,
//! so its shape is theirs (a test in `mobieus-core` compares them with events made by the
//! use cases, key by key).

use crate::event::{Event, EventData, EventType, PreviousPost};
use crate::forum::{
    Post, PostId, PostStatus, Role, Thread, ThreadId, User, UserId, UserRef, UserStatus,
};
use crate::tenant::TenantSlug;
use crate::time::Timestamp;

const AT: i64 = 1_780_000_000_000;

fn ann() -> User {
    User {
        id: UserId(42),
        username: "ann".to_owned(),
        email: Some("ann@example.org".to_owned()),
        role: Role::Member,
        banned: false,
        status: UserStatus::Active,
        joined_at: Timestamp::from_millis(AT - 86_400_000),
        left_at: None,
    }
}

fn cleo() -> UserRef {
    UserRef {
        id: UserId(7),
        username: "cleo".to_owned(),
    }
}

fn thread(locked: bool) -> Thread {
    Thread {
        id: ThreadId(12),
        title: "Welcome to the community".to_owned(),
        author: UserRef {
            id: UserId(42),
            username: "ann".to_owned(),
        },
        locked,
        created_at: Timestamp::from_millis(AT - 3_600_000),
    }
}

fn post(status: PostStatus, edited: bool) -> Post {
    Post {
        id: PostId(311),
        thread_id: ThreadId(12),
        author: UserRef {
            id: UserId(42),
            username: "ann".to_owned(),
        },
        body: (status == PostStatus::Visible).then(|| {
            if edited {
                "Hello everyone! (fixed a typo)"
            } else {
                "Hello everyone!"
            }
            .to_owned()
        }),
        status,
        opens_thread: false,
        created_at: Timestamp::from_millis(AT - 60_000),
        edited_at: edited.then(|| Timestamp::from_millis(AT)),
    }
}

fn data(t: EventType) -> EventData {
    let reason = Some("spam".to_owned());
    match t {
        EventType::UserJoined => EventData::UserJoined { user: ann() },
        EventType::UserLeft => EventData::UserLeft {
            user: User {
                email: None,
                status: UserStatus::Left,
                left_at: Some(Timestamp::from_millis(AT)),
                ..ann()
            },
        },
        EventType::PostCreated => EventData::PostCreated {
            post: post(PostStatus::Visible, false),
            thread: thread(false),
            actor: post(PostStatus::Visible, false).author,
        },
        EventType::PostEdited => EventData::PostEdited {
            post: post(PostStatus::Visible, true),
            thread: thread(false),
            actor: post(PostStatus::Visible, true).author,
            previous: PreviousPost {
                body: "Helo everyone!".to_owned(),
                edited_at: None,
            },
        },
        EventType::PostDeleted => EventData::PostDeleted {
            post: post(PostStatus::Deleted, false),
            thread: thread(false),
            actor: post(PostStatus::Deleted, false).author,
        },
        EventType::UserBanned => EventData::UserBanned {
            user: User {
                banned: true,
                ..ann()
            },
            actor: cleo(),
            reason,
        },
        EventType::UserUnbanned => EventData::UserUnbanned {
            user: ann(),
            actor: cleo(),
            reason: None,
        },
        EventType::PostRemoved => EventData::PostRemoved {
            post: post(PostStatus::Removed, false),
            thread: thread(false),
            actor: cleo(),
            reason,
        },
        EventType::ThreadLocked => EventData::ThreadLocked {
            thread: thread(true),
            actor: cleo(),
            reason: Some("off topic".to_owned()),
        },
        EventType::ThreadUnlocked => EventData::ThreadUnlocked {
            thread: thread(false),
            actor: cleo(),
            reason: None,
        },
        EventType::WebhookTest => EventData::WebhookTest {
            message: "A test event sent from mobieus; no action is needed.".to_owned(),
        },
    }
}

/// An example event of type `t` on tenant `tenant` (`to_json` gives it as it is sent).
pub fn example(tenant: &TenantSlug, t: EventType) -> Event {
    Event::new(tenant.clone(), Timestamp::from_millis(AT), data(t))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn every_type_has_an_example_of_its_own_type() {
        let acme = TenantSlug::parse("acme").unwrap();
        for info in EventType::CATALOG {
            let v: serde_json::Value =
                serde_json::from_str(&example(&acme, info.event_type).to_json()).unwrap();
            assert_eq!(v["type"], info.name);
            assert_eq!(v["tenant"], "acme");
            assert!(v["data"].is_object());
        }
    }
}
