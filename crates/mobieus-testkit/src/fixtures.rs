//! Forum fixtures: arranging a tenant's forum through the real `mobieus-core` use cases,
//! so every fixture also writes its public event exactly as production does.

use mobieus_core::forum::{self, Actor, NewThread};
use mobieus_domain::forum::{
    Post, PostBody, PostId, Reason, Role, Thread, ThreadId, Title, User, Username,
};
use mobieus_store::TenantDb;

/// The types of a tenant's first 1,000 events in the feed, oldest first.
pub async fn event_types(db: &TenantDb) -> Vec<String> {
    db.events_page(&mobieus_store::EventFilter::default(), 0, 1_000)
        .await
        .expect("read the feed")
        .items
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// Every event of a tenant's feed, oldest first, as the store holds them.
pub async fn feed(db: &TenantDb) -> Vec<mobieus_store::StoredEvent> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = db
            .events_page(&mobieus_store::EventFilter::default(), after, 100)
            .await
            .expect("read the feed");
        out.extend(page.items);
        match page.next_after {
            Some(next) => after = next,
            None => return out,
        }
    }
}

/// `Actor::Username(username)`.
pub fn actor(username: &str) -> Actor {
    Actor::Username(Username::parse(username).expect("a valid username"))
}

fn body(text: &str) -> PostBody {
    PostBody::parse(text).expect("a valid post body")
}

/// `username` joins (one `user.joined`).
pub async fn join(db: &TenantDb, username: &str) -> User {
    let name = Username::parse(username).expect("a valid username");
    forum::join(db, &name, None).await.expect("join").value
}

/// `username` joins and is given `role` (one `user.joined`; roles publish nothing).
pub async fn join_as(db: &TenantDb, username: &str, role: Role) -> User {
    join(db, username).await;
    let name = Username::parse(username).expect("a valid username");
    forum::set_role(db, &name, role).await.expect("set role")
}

/// `author` opens a thread; returns its opening post (one `post.created`).
pub async fn open_thread(db: &TenantDb, author: &str, title: &str, text: &str) -> Post {
    let new = NewThread {
        author: actor(author),
        title: Title::parse(title).expect("a valid title"),
        body: body(text),
    };
    forum::create_thread(db, &new)
        .await
        .expect("create thread")
        .value
}

/// `author` replies in `thread` (one `post.created`).
pub async fn reply(db: &TenantDb, thread: ThreadId, author: &str, text: &str) -> Post {
    forum::reply(db, thread, &actor(author), &body(text))
        .await
        .expect("reply")
        .value
}

/// `by` edits post `id` (one `post.edited`).
pub async fn edit(db: &TenantDb, id: PostId, by: &str, text: &str) -> Post {
    forum::edit_post(db, id, &actor(by), &body(text))
        .await
        .expect("edit post")
        .value
}

/// Moderator `by` bans `target` (one `moderation.user_banned`).
pub async fn ban(db: &TenantDb, target: &str, by: &str, reason: Option<&str>) -> User {
    let target = Username::parse(target).expect("a valid username");
    let reason = reason.map(|r| Reason::parse(r).expect("a valid reason"));
    forum::ban(db, &target, &actor(by), reason.as_ref())
        .await
        .expect("ban")
        .value
}

/// Moderator `by` locks `thread` (one `moderation.thread_locked`).
pub async fn lock(db: &TenantDb, thread: ThreadId, by: &str) -> Thread {
    forum::lock_thread(db, thread, &actor(by), None)
        .await
        .expect("lock thread")
        .value
}

/// A small forum: members `ann` and `bob`, moderator `mod`, and a thread opened by `ann`
/// with `replies` replies by `bob`. Writes `4 + replies` events.
#[derive(Debug)]
pub struct SmallForum {
    pub ann: User,
    pub bob: User,
    pub moderator: User,
    /// The thread's opening post.
    pub opening: Post,
    /// The replies, oldest first.
    pub replies: Vec<Post>,
}

impl SmallForum {
    /// The thread's id.
    pub fn thread(&self) -> ThreadId {
        self.opening.thread_id
    }

    /// How many events building it wrote.
    pub fn events(&self) -> usize {
        4 + self.replies.len()
    }
}

/// Builds a [`SmallForum`] on `db`.
pub async fn small_forum(db: &TenantDb, replies: usize) -> SmallForum {
    let ann = join(db, "ann").await;
    let bob = join(db, "bob").await;
    let moderator = join_as(db, "mod", Role::Moderator).await;
    let opening = open_thread(db, "ann", "Hello", "first").await;
    let mut posts = Vec::with_capacity(replies);
    for i in 0..replies {
        posts.push(reply(db, opening.thread_id, "bob", &format!("reply {i}")).await);
    }
    SmallForum {
        ann,
        bob,
        moderator,
        opening,
        replies: posts,
    }
}

/// One event of every type the feed holds, each through its use case, in the catalog's
/// order (`user.joined` … `moderation.thread_unlocked`), and a few more along the way:
/// members `eve` (who leaves), `fay`, moderator `gus`; reasons given and not.
pub async fn every_event_type(db: &TenantDb) {
    join(db, "eve").await;
    forum::leave(db, &actor("eve")).await.expect("leave");
    join(db, "fay").await;
    join_as(db, "gus", Role::Moderator).await;
    let opening = open_thread(db, "fay", "Everything", "the first post").await;
    let thread = opening.thread_id;
    edit(db, opening.id, "fay", "the first post, edited").await;
    let second = reply(db, thread, "fay", "a reply").await;
    forum::delete_post(db, second.id, &actor("fay"))
        .await
        .expect("delete post");
    let reason = Reason::parse("spam").expect("a valid reason");
    ban(db, "fay", "gus", Some("spam")).await;
    forum::unban(
        db,
        &Username::parse("fay").expect("a valid username"),
        &actor("gus"),
        None,
    )
    .await
    .expect("unban");
    let third = reply(db, thread, "fay", "another reply").await;
    forum::remove_post(db, third.id, &actor("gus"), Some(&reason))
        .await
        .expect("remove post");
    lock(db, thread, "gus").await;
    forum::unlock_thread(db, thread, &actor("gus"), Some(&reason))
        .await
        .expect("unlock thread");
}
