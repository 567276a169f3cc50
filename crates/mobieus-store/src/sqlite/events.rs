//! The public event feed (the outbox table).

use super::paginate;
use crate::{EventFilter, Page, Result, StoredEvent};
use mobieus_domain::event::Event;
use mobieus_domain::time::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor};

/// The event type stored for delivery but kept out of the feed (the domain's rule; there
/// is one such type, `webhook.test`).
fn not_in_feed() -> &'static str {
    use mobieus_domain::event::EventType;
    EventType::CATALOG
        .iter()
        .find(|i| !i.event_type.in_feed())
        .map_or(EventType::WebhookTest.name(), |i| i.name)
}

const EVENT_SELECT: &str = "SELECT position, id, type, created_at, payload FROM api_events";

fn event_from_row(row: &SqliteRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        position: row.try_get("position")?,
        id: row.try_get("id")?,
        event_type: row.try_get("type")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        json: row.try_get("payload")?,
    })
}

/// Appends an event to the feed; returns its position.
pub(crate) async fn insert_event<'e>(
    e: impl SqliteExecutor<'e>,
    event: &Event,
    json: &str,
) -> Result<i64> {
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO api_events (id, type, created_at, payload) VALUES (?, ?, ?, ?) RETURNING position",
    )
    .bind(event.id.as_str())
    .bind(event.event_type.name())
    .bind(event.created_at.millis())
    .bind(json)
    .fetch_one(e)
    .await?;
    Ok(position)
}

/// One page of the feed. Each type filter reads its own index range in order and the
/// pages are merged, so a page costs the same however large the feed and however many
/// types are asked for (an `IN` list would fetch and sort every matching event).
pub(crate) async fn events_page<'e>(
    e: impl SqliteExecutor<'e>,
    filter: &EventFilter,
    after: i64,
    limit: u32,
) -> Result<Page<StoredEvent>> {
    let fetch = i64::from(limit) + 1;
    let mut q = sqlx::QueryBuilder::<Sqlite>::new("SELECT * FROM (");
    let types: Vec<Option<&str>> = if filter.types.is_empty() {
        vec![None]
    } else {
        filter.types.iter().map(|t| Some(t.name())).collect()
    };
    for (i, t) in types.iter().enumerate() {
        if i > 0 {
            q.push(" UNION ALL ");
        }
        q.push("SELECT * FROM (")
            .push(EVENT_SELECT)
            .push(" WHERE position > ")
            .push_bind(after);
        match t {
            Some(t) => q.push(" AND type = ").push_bind(*t),
            // Test events go only to the endpoint tested, never into the feed.
            None => q.push(" AND type <> ").push_bind(not_in_feed()),
        };
        if let Some(since) = filter.since {
            q.push(" AND created_at >= ").push_bind(since.millis());
        }
        if let Some(until) = filter.until {
            q.push(" AND created_at < ").push_bind(until.millis());
        }
        q.push(" ORDER BY position LIMIT ")
            .push_bind(fetch)
            .push(")");
    }
    q.push(") ORDER BY position LIMIT ").push_bind(fetch);
    let rows = q.build().fetch_all(e).await?;
    let items = rows
        .iter()
        .map(event_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(paginate(items, limit, |ev| ev.position))
}

pub(crate) async fn event_by_id<'e>(
    e: impl SqliteExecutor<'e>,
    id: &str,
) -> Result<Option<StoredEvent>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{EVENT_SELECT} WHERE id = ? AND type <> ?"
    )))
    .bind(id)
    .bind(not_in_feed())
    .fetch_optional(e)
    .await?;
    row.as_ref().map(event_from_row).transpose()
}
