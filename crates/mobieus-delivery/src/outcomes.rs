//! Attempts made and not yet recorded. Two take from here: the drain loop, which records
//! a tenant's waiting attempts in the transaction of its next claim from that tenant (one
//! commit for both), and the recorder, which records the rest (attempts of tenants the
//! drain is not coming back to), grouped per tenant, once they have waited a little for
//! others to share the commit.

use mobieus_core::delivery::Recorded;
use mobieus_domain::tenant::TenantSlug;
use mobieus_store::TenantDb;
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long the recorder waits for more attempts to finish before recording fewer than
/// `enough`. Each commit writes every page it changed (the delivery rows, their index
/// entries, the attempts), so a few attempts per commit cost several times more per
/// attempt than many; the slots are free already, so the wait delays only when the
/// outcome is written, never a delivery.
const LINGER: Duration = Duration::from_millis(2);
/// How long an attempt of a tenant the drain is claiming from waits for that claim
/// before the recorder takes it anyway (the drain may be held up, waiting for slots).
const STALE: Duration = Duration::from_millis(50);
/// The most attempts recorded in one transaction.
const MAX_RECORD: usize = 512;

/// The attempts waiting to be recorded.
#[derive(Debug)]
pub(crate) struct Outcomes {
    state: Mutex<State>,
    /// Raised when the recorder may have something to do sooner than it planned.
    changed: Notify,
    /// Attempts waiting (of tenants not being drained) that make a commit worth it
    /// without waiting longer.
    enough: usize,
}

#[derive(Debug, Default)]
struct State {
    waiting: Vec<Waiting>,
    /// Tenants the drain is claiming from under a backlog: it comes back for them soon
    /// and records their attempts with that claim.
    draining: HashSet<TenantSlug>,
    /// No more attempts will come: the recorder takes everything and stops.
    closed: bool,
}

#[derive(Debug)]
struct Waiting {
    db: TenantDb,
    recorded: Recorded,
    since: Instant,
}

/// What the recorder records in one transaction: a tenant and its attempts.
pub(crate) type Group = (TenantDb, Vec<Recorded>);

impl Outcomes {
    pub(crate) fn new(enough: usize) -> Self {
        Self {
            state: Mutex::default(),
            changed: Notify::new(),
            enough: enough.max(1),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An attempt finished: to record.
    pub(crate) fn push(&self, db: TenantDb, recorded: Recorded) {
        let n = {
            let mut state = self.state();
            state.waiting.push(Waiting {
                db,
                recorded,
                since: Instant::now(),
            });
            state.waiting.len()
        };
        // The recorder plans its next look from the oldest attempt; it needs waking only
        // when there was none, or when enough are waiting.
        if n == 1 || n == self.enough {
            self.changed.notify_one();
        }
    }

    /// For the drain's claim from this tenant: everything waiting for it, oldest first,
    /// if the drain is draining it under a backlog. Otherwise nothing: a claim that also
    /// recorded would delay the delivery it claims (at low load, each claim would carry
    /// the last delivery's record), so the recorder keeps those.
    pub(crate) fn take_for_claim(&self, slug: &TenantSlug) -> Vec<Recorded> {
        let mut state = self.state();
        if !state.draining.contains(slug) {
            return Vec::new();
        }
        let mut taken = Vec::new();
        let mut kept = Vec::with_capacity(state.waiting.len());
        for w in state.waiting.drain(..) {
            if w.db.slug() == slug && taken.len() < MAX_RECORD {
                taken.push(w.recorded);
            } else {
                kept.push(w);
            }
        }
        state.waiting = kept;
        taken
    }

    /// Whether the drain is coming back to this tenant soon (a backlog) and will record
    /// its attempts with that claim.
    pub(crate) fn draining(&self, slug: &TenantSlug, draining: bool) {
        let changed = {
            let mut state = self.state();
            if draining {
                state.draining.insert(slug.clone())
            } else {
                state.draining.remove(slug)
            }
        };
        if changed && !draining {
            // Its attempts now wait `LINGER`, not `STALE`.
            self.changed.notify_one();
        }
    }

    /// No more attempts come: the recorder records what is left and stops.
    pub(crate) fn close(&self) {
        self.state().closed = true;
        self.changed.notify_one();
    }

    /// For the recorder: waits until some attempts are due to be recorded and returns
    /// them grouped by tenant; `None` once closed with nothing left.
    pub(crate) async fn next(&self) -> Option<Vec<Group>> {
        loop {
            let wake_at = {
                let mut state = self.state();
                let State {
                    waiting,
                    draining,
                    closed,
                } = &mut *state;
                let now = Instant::now();
                let free = waiting
                    .iter()
                    .filter(|w| !draining.contains(w.db.slug()))
                    .count();
                let mut due: Vec<Group> = Vec::new();
                let mut taken = 0;
                let mut wake_at: Option<Instant> = None;
                let mut kept = Vec::with_capacity(waiting.len());
                for w in waiting.drain(..) {
                    let held = draining.contains(w.db.slug());
                    let at = w.since + if held { STALE } else { LINGER };
                    let ready = *closed || at <= now || (!held && free >= self.enough);
                    if ready && taken < MAX_RECORD {
                        taken += 1;
                        match due.iter_mut().find(|(db, _)| db.slug() == w.db.slug()) {
                            Some((_, items)) => items.push(w.recorded),
                            None => due.push((w.db, vec![w.recorded])),
                        }
                    } else {
                        wake_at = Some(wake_at.map_or(at, |t| t.min(at)));
                        kept.push(w);
                    }
                }
                *waiting = kept;
                if !due.is_empty() {
                    return Some(due);
                }
                if *closed {
                    return None;
                }
                wake_at
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}
