//! The feed, live: what a stream reads after its cursor, at its reader's pace.
//!
//! Each tenant with open streams on this node has one [`Tail`]: a task that reads the
//! feed's new events once for all of them (woken by the commits of this process, by
//! Postgres notifications from the others, and by a timer that finds what another process
//! committed to SQLite) and keeps the latest in a ring. A stream that has caught up takes
//! its next events from the ring; one that is behind, or that the ring has left behind,
//! reads the store itself, a page at a time. The feed's positions become visible in order
//! (no reader sees position n+1 before n has committed), so reading after a position never
//! skips an event and never repeats one, whichever of the two a stream reads from.

use crate::error::CoreError;
use mobieus_domain::event::EventType;
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::{EventFilter, StoredEvent, TenantDb};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// How many of the newest events a tail keeps for the streams that have caught up.
const RING: usize = 2048;
/// The most a stream is handed at once.
const BATCH: usize = 100;
/// How often a tail reads the feed with no wake-up: what another process committed to
/// SQLite reaches open streams within this.
const POLL: Duration = Duration::from_millis(500);

/// The tails of this node, by tenant: one per tenant with open streams.
#[derive(Debug, Default)]
pub struct LiveFeed {
    tails: Mutex<HashMap<TenantSlug, Weak<Tail>>>,
}

impl LiveFeed {
    /// A stream of `db`'s feed after position `after`, of the types in `types` (all when
    /// empty).
    pub fn open(&self, db: &TenantDb, after: i64, types: Vec<EventType>) -> LiveReader {
        LiveReader {
            tail: self.tail(db),
            db: db.clone(),
            filter: EventFilter {
                types,
                ..EventFilter::default()
            },
            cursor: after,
        }
    }

    fn tail(&self, db: &TenantDb) -> Arc<Tail> {
        let mut tails = self
            .tails
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tail) = tails.get(db.slug()).and_then(Weak::upgrade) {
            return tail;
        }
        tails.retain(|_, t| t.strong_count() > 0);
        let tail = Tail::start(db.clone());
        tails.insert(db.slug().clone(), Arc::downgrade(&tail));
        tail
    }
}

/// One tenant's newest events, read once for every stream of this node.
#[derive(Debug)]
struct Tail {
    ring: RwLock<Ring>,
    /// The position of the newest event read; changes as the tail reads more.
    head: watch::Sender<i64>,
}

#[derive(Debug, Default)]
struct Ring {
    /// Every feed event after `covers_after`, up to the head, oldest first.
    events: VecDeque<Arc<StoredEvent>>,
    /// `None` until the tail's first read.
    covers_after: Option<i64>,
}

impl Tail {
    fn start(db: TenantDb) -> Arc<Self> {
        let tail = Arc::new(Tail {
            ring: RwLock::default(),
            head: watch::channel(0).0,
        });
        let weak = Arc::downgrade(&tail);
        tokio::spawn(async move { Tail::run(weak, db).await });
        tail
    }

    /// Reads the feed at each wake-up until no stream holds the tail any more.
    async fn run(tail: Weak<Tail>, db: TenantDb) {
        let mut woken = db.watch_feed();
        let mut head = None;
        loop {
            let Some(this) = tail.upgrade() else { return };
            match this.read(&db, head).await {
                Ok(h) => head = Some(h),
                Err(e) => {
                    tracing::warn!(tenant = %db.slug(), error = %e, "reading the feed for its streams failed; trying again");
                }
            }
            drop(this);
            let _ = tokio::time::timeout(POLL, woken.changed()).await;
        }
    }

    /// Reads what is new after `head` (from the newest event, at the first read) into the
    /// ring; returns the new head.
    async fn read(&self, db: &TenantDb, head: Option<i64>) -> Result<i64, CoreError> {
        let mut head = match head {
            Some(h) => h,
            None => {
                let h = db.feed_head().await?;
                self.ring_mut().covers_after = Some(h);
                h
            }
        };
        loop {
            let page = db
                .events_page(&EventFilter::default(), head, BATCH as u32)
                .await?;
            let Some(last) = page.items.last() else { break };
            head = last.position;
            let more = page.next_after.is_some();
            {
                let mut ring = self.ring_mut();
                for event in page.items {
                    ring.events.push_back(Arc::new(event));
                }
                while ring.events.len() > RING {
                    if let Some(gone) = ring.events.pop_front() {
                        ring.covers_after = Some(gone.position);
                    }
                }
            }
            self.head.send_replace(head);
            if !more {
                break;
            }
        }
        // The first read's head too, when nothing followed it.
        self.head.send_if_modified(|h| {
            let moved = *h < head;
            *h = (*h).max(head);
            moved
        });
        Ok(head)
    }

    fn ring_mut(&self) -> std::sync::RwLockWriteGuard<'_, Ring> {
        self.ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ring's events after `cursor` (up to a batch), when the ring holds every event
    /// after it; `None` when the stream must read the store.
    fn after(&self, cursor: i64) -> Option<Vec<Arc<StoredEvent>>> {
        let ring = self
            .ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let covers_after = ring.covers_after?;
        if cursor < covers_after {
            return None;
        }
        let start = ring.events.partition_point(|e| e.position <= cursor);
        Some(ring.events.range(start..).take(BATCH).cloned().collect())
    }
}

/// One stream's place in the feed.
#[derive(Debug)]
pub struct LiveReader {
    tail: Arc<Tail>,
    db: TenantDb,
    filter: EventFilter,
    /// Every feed event up to this position has been handed out (or filtered out).
    cursor: i64,
}

impl LiveReader {
    /// The next events after the cursor, oldest first; empty when the stream has caught
    /// up (then wait for [`LiveReader::changed`]).
    pub async fn next(&mut self) -> Result<Vec<Arc<StoredEvent>>, CoreError> {
        loop {
            if let Some(events) = self.tail.after(self.cursor) {
                let Some(last) = events.last() else {
                    return Ok(Vec::new());
                };
                self.cursor = last.position;
                let wanted: Vec<_> = events.into_iter().filter(|e| self.wants(e)).collect();
                if wanted.is_empty() {
                    continue;
                }
                return Ok(wanted);
            }
            // Behind the ring: from the store. Everything up to the tail's head had
            // committed before this read began, so when the read finds nothing more, the
            // stream has seen every event it wants up to that head.
            let head = *self.tail.head.borrow();
            let page = self
                .db
                .events_page(&self.filter, self.cursor, BATCH as u32)
                .await?;
            let done = page.next_after.is_none();
            if let Some(last) = page.items.last() {
                self.cursor = last.position;
            }
            if done {
                self.cursor = self.cursor.max(head);
            }
            if !page.items.is_empty() {
                return Ok(page.items.into_iter().map(Arc::new).collect());
            }
            if self.tail.after(self.cursor).is_none() {
                // The tail has not read this far yet (its first read is under way).
                return Ok(Vec::new());
            }
        }
    }

    /// Completes when the tail has read new events (or, at the latest, after `POLL`).
    pub async fn changed(&mut self) {
        let mut head = self.tail.head.subscribe();
        if *head.borrow_and_update() > self.cursor {
            return;
        }
        let _ = tokio::time::timeout(POLL, head.changed()).await;
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        self.filter.types.is_empty()
            || self
                .filter
                .types
                .iter()
                .any(|t| t.name() == event.event_type)
    }
}
