//! A tenant's rows read out page by page, and written back as they were.

use crate::Result;
use crate::transfer::{Cell, Kind, Table};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Row};

/// Up to `limit` rows of `table` after key `after` (`None`: from the first), in key order.
pub(crate) async fn export_page(
    c: &mut PgConnection,
    table: &Table,
    after: Option<&Cell>,
    limit: u32,
) -> Result<Vec<Vec<Cell>>> {
    let sql = table.page_sql(after.is_some(), limit);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(after) = after {
        let key_kind = table
            .columns
            .iter()
            .find(|(name, _)| *name == table.key)
            .map_or(Kind::Int, |(_, kind)| *kind);
        query = bind(query, after, key_kind);
    }
    let rows = query.fetch_all(&mut *c).await?;
    rows.iter().map(|row| read_row(table, row)).collect()
}

fn read_row(table: &Table, row: &PgRow) -> Result<Vec<Cell>> {
    let mut cells = Vec::with_capacity(table.columns.len());
    for (i, (_, kind)) in table.columns.iter().enumerate() {
        let cell = match kind {
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
            Kind::Bool => row
                .try_get::<Option<bool>, _>(i)?
                .map(|b| Cell::Int(i64::from(b))),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Cell::Text),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Cell::Bytes),
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(cells)
}

/// Writes rows of `table` back with every column as given (ids included), then moves
/// the table's identity counter past them.
pub(crate) async fn import_rows(
    c: &mut PgConnection,
    table: &Table,
    rows: &[Vec<Cell>],
) -> Result<()> {
    // The ids are the exported ones, not the counter's.
    let overriding = if table.identity.is_some() {
        "OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let sql = table.insert_sql(overriding);
    for row in rows {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for (cell, (_, kind)) in row.iter().zip(table.columns) {
            query = bind(query, cell, *kind);
        }
        query.execute(&mut *c).await?;
    }
    if let Some(column) = table.identity {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), coalesce(max({1}), 0) + 1, false) FROM {0}",
            table.name, column
        )))
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

fn bind<'q>(
    query: Query<'q, Postgres, PgArguments>,
    cell: &Cell,
    kind: Kind,
) -> Query<'q, Postgres, PgArguments> {
    match (cell, kind) {
        (Cell::Int(n), Kind::Bool) => query.bind(*n != 0),
        (Cell::Int(n), _) => query.bind(*n),
        (Cell::Text(t), _) => query.bind(t.clone()),
        (Cell::Bytes(b), _) => query.bind(b.clone()),
        (Cell::Null, Kind::Int) => query.bind(None::<i64>),
        (Cell::Null, Kind::Bool) => query.bind(None::<bool>),
        (Cell::Null, Kind::Text) => query.bind(None::<String>),
        (Cell::Null, Kind::Bytes) => query.bind(None::<Vec<u8>>),
    }
}
