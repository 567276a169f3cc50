//! What SQLite's control database keeps its own way: one hint of due work per tenant,
//! updated in place (the tenants and their hosts are `queries::control`).

use super::{Pool, begin_write};
use crate::Result;
use crate::db::{Conn, Stmt};
use crate::rows::slug_from;
use mobieus_domain::tenant::TenantSlug;
use mobieus_domain::time::Timestamp;

/// Runs one statement in a write transaction of its own.
async fn write(pool: &Pool, stmt: Stmt<'_>) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    Conn::Sqlite(tx.conn()).exec(stmt).await?;
    tx.commit().await
}

/// Marks `slug` as having work due by `at` (the earlier of this and any hint there).
pub(crate) async fn hint_due(pool: &Pool, slug: &TenantSlug, at: Timestamp) -> Result<()> {
    let stmt = Stmt::new(
        "INSERT INTO due_work (slug, due_at) VALUES ($1, $2)
         ON CONFLICT (slug) DO UPDATE SET due_at = min(due_at, excluded.due_at)",
    )
    .bind(slug.as_str())
    .bind(at.millis());
    write(pool, stmt).await
}

/// Sets when `slug` next has work due (`None`: nothing pending), as found by a look at
/// its deliveries that started at `checked_at`: hints of work committed before then are
/// answered by it and replaced; a later one is kept when it asks for earlier.
pub(crate) async fn set_due(
    pool: &Pool,
    slug: &TenantSlug,
    next: Option<Timestamp>,
    checked_at: Timestamp,
) -> Result<()> {
    let stmt = match next {
        Some(at) => Stmt::new(
            "INSERT INTO due_work (slug, due_at) VALUES ($1, $2)
             ON CONFLICT (slug) DO UPDATE SET due_at = CASE WHEN due_at <= $3 THEN excluded.due_at ELSE min(due_at, excluded.due_at) END",
        )
        .bind(slug.as_str())
        .bind(at.millis())
        .bind(checked_at.millis()),
        // A hint at or before the check is answered by it; a later one is kept.
        None => Stmt::new("DELETE FROM due_work WHERE slug = $1 AND due_at <= $2")
            .bind(slug.as_str())
            .bind(checked_at.millis()),
    };
    write(pool, stmt).await
}

/// The tenants with work due by `now`.
pub(crate) async fn due_tenants(pool: &Pool, now: Timestamp) -> Result<Vec<TenantSlug>> {
    let mut reader = pool.reader()?;
    let stmt = Stmt::new("SELECT slug FROM due_work WHERE due_at <= $1").bind(now.millis());
    Conn::Sqlite(reader.conn())
        .all(stmt, |r| slug_from(&r.get::<String>(0)?))
        .await
}
