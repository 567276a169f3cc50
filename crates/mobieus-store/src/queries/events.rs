//! The public event feed (the outbox table).

use crate::db::{Conn, Row, Stmt};
use crate::rows::{not_in_feed, paginate};
use crate::{EventFilter, Page, Result, StoredEvent};
use mobieus_domain::event::Event;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;

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

/// Appends an event to the feed; returns its position. On Postgres the same statement
/// notifies `FEED_CHANNEL` with the tenant's slug, delivered on commit (and once per
/// transaction however many events it appends), so streams on every node wake.
pub(crate) async fn insert_event(
    c: &mut Conn<'_>,
    slug: &TenantSlug,
    event: &Event,
    json: &str,
) -> Result<i64> {
    let stmt = if c.is_pg() {
        // Positions become visible in commit order: no reader sees position n+1 before n
        // commits (the lock blocks other writers only, never readers). SQLite has one
        // writer, so its commits are in position order already.
        c.exec(Stmt::new("LOCK TABLE api_events IN EXCLUSIVE MODE"))
            .await?;
        Stmt::new(
            "WITH e AS (INSERT INTO api_events (id, type, created_at, payload, test) VALUES ($1, $2, $3, $4, $5) RETURNING position)
             SELECT position, pg_notify($6, $7) FROM e",
        )
    } else {
        Stmt::new(
            "INSERT INTO api_events (id, type, created_at, payload, test) VALUES ($1, $2, $3, $4, $5) RETURNING position",
        )
    };
    let mut stmt = stmt
        .bind(event.id.as_str())
        .bind(event.event_type.name())
        .bind(event.created_at.millis())
        .bind(json)
        .bind(event.test);
    if c.is_pg() {
        stmt = stmt.bind(FEED_CHANNEL).bind(slug.as_str());
    }
    c.one(stmt, |r| r.get(0))
        .await?
        .ok_or(crate::StoreError::Conflict { what: "event" })
}

/// The channel a commit that appended events notifies, with the tenant's slug as payload.
pub(crate) const FEED_CHANNEL: &str = "mobieus_feed";

/// The position of the newest event, in the feed or not (0 when there is none): where a
/// stream that starts now begins.
pub(crate) async fn feed_head(c: &mut Conn<'_>) -> Result<i64> {
    let stmt = Stmt::new("SELECT coalesce(max(position), 0) FROM api_events");
    Ok(c.one(stmt, |r| r.get(0)).await?.unwrap_or(0))
}

/// One page of the feed. Each type filter reads its own index range in order and the
/// pages are merged, so a page costs the same however large the feed and however many
/// types are asked for (an `IN` list would fetch and sort every matching event).
pub(crate) async fn events_page(
    c: &mut Conn<'_>,
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
    let mut q = Stmt::new(if merged { "SELECT * FROM (" } else { "" });
    for (i, t) in types.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        if merged {
            q.push("SELECT * FROM (");
        }
        // Test sends go only to the endpoint tested, never into the feed.
        q.push(EVENT_SELECT)
            .push(" WHERE position > ")
            .push_bind(after)
            .push(" AND NOT test");
        match t {
            Some(t) => q.push(" AND type = ").push_bind(*t),
            // `webhook.test` events go only to the endpoint tested, never into the feed.
            None => q.push(" AND type <> ").push_bind(not_in_feed()),
        };
        if let Some(since) = filter.since {
            q.push(" AND created_at >= ").push_bind(since.millis());
        }
        if let Some(until) = filter.until {
            q.push(" AND created_at < ").push_bind(until.millis());
        }
        q.push(" ORDER BY position LIMIT ").push_bind(fetch);
        if merged {
            q.push(&format!(") AS range_{i}"));
        }
    }
    if merged {
        q.push(") AS ranges ORDER BY position LIMIT ")
            .push_bind(fetch);
    }
    let items = c.all(q, event_from_row).await?;
    Ok(paginate(items, limit, |ev| ev.position))
}

pub(crate) async fn event_by_id(c: &mut Conn<'_>, id: &str) -> Result<Option<StoredEvent>> {
    let sql = format!("{EVENT_SELECT} WHERE id = $1 AND type <> $2 AND NOT test");
    c.one(Stmt::new(sql).bind(id).bind(not_in_feed()), event_from_row)
        .await
}

/// The type and stored JSON of an event, for the headers and body of its deliveries.
pub(crate) async fn event_json(
    c: &mut Conn<'_>,
    event_id: &str,
) -> Result<Option<(String, String)>> {
    let stmt = Stmt::new("SELECT type, payload FROM api_events WHERE id = $1").bind(event_id);
    c.one(stmt, |r| Ok((r.get(0)?, r.get(1)?))).await
}
