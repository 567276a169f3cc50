//! The public event feed (the outbox table).

use super::sql::{Sql, one, text};
use crate::rows::{not_in_feed, paginate};
use crate::{EventFilter, Page, Result, StoredEvent};
use mobieus_domain::event::Event;
use mobieus_domain::time::Timestamp;
use rusqlite::{Connection, Row, params};

const EVENT_SELECT: &str = "SELECT position, id, type, created_at, payload FROM api_events";

fn event_from_row(row: &Row<'_>) -> Result<StoredEvent> {
    Ok(StoredEvent {
        position: row.get(0)?,
        id: row.get(1)?,
        event_type: row.get(2)?,
        created_at: Timestamp::from_millis(row.get(3)?),
        json: row.get(4)?,
    })
}

/// Appends an event to the feed; returns its position.
pub(crate) fn insert_event(c: &Connection, event: &Event, json: &str) -> Result<i64> {
    let position = one(
        c,
        "INSERT INTO api_events (id, type, created_at, payload) VALUES (?, ?, ?, ?) RETURNING position",
        params![
            event.id.as_str(),
            event.event_type.name(),
            event.created_at.millis(),
            json
        ],
        |r| Ok(r.get::<_, i64>(0)?),
    )?;
    position.ok_or(crate::StoreError::Conflict { what: "event" })
}

/// One page of the feed. Each type filter reads its own index range in order and the
/// pages are merged, so a page costs the same however large the feed and however many
/// types are asked for (an `IN` list would fetch and sort every matching event).
pub(crate) fn events_page(
    c: &Connection,
    filter: &EventFilter,
    after: i64,
    limit: u32,
) -> Result<Page<StoredEvent>> {
    let fetch = i64::from(limit) + 1;
    let types: Vec<Option<&str>> = if filter.types.is_empty() {
        vec![None]
    } else {
        filter.types.iter().map(|t| Some(t.name())).collect()
    };
    // One range needs no merge: the common page is a single ordered index read.
    let merged = types.len() > 1;
    let mut q = Sql::new(if merged { "SELECT * FROM (" } else { "" });
    for (i, t) in types.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        if merged {
            q.push("SELECT * FROM (");
        }
        q.push(EVENT_SELECT).push(" WHERE position > ").bind(after);
        match t {
            Some(t) => q.push(" AND type = ").bind(text(t)),
            // Test events go only to the endpoint tested, never into the feed.
            None => q.push(" AND type <> ").bind(text(not_in_feed())),
        };
        if let Some(since) = filter.since {
            q.push(" AND created_at >= ").bind(since.millis());
        }
        if let Some(until) = filter.until {
            q.push(" AND created_at < ").bind(until.millis());
        }
        q.push(" ORDER BY position LIMIT ").bind(fetch);
        if merged {
            q.push(")");
        }
    }
    if merged {
        q.push(") ORDER BY position LIMIT ").bind(fetch);
    }
    let items = q.all(c, event_from_row)?;
    Ok(paginate(items, limit, |ev| ev.position))
}

pub(crate) fn event_by_id(c: &Connection, id: &str) -> Result<Option<StoredEvent>> {
    let sql = format!("{EVENT_SELECT} WHERE id = ? AND type <> ?");
    one(c, &sql, params![id, not_in_feed()], event_from_row)
}
