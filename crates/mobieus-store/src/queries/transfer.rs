//! A tenant's rows read out page by page, and written back as they were (see
//! [`crate::transfer`] for what an export holds).

use crate::Result;
use crate::db::{Arg, Conn, Row, Stmt};
use crate::transfer::{Cell, Kind, Table};

/// Up to `limit` rows of `table` after key `after` (`None`: from the first), in key order.
pub(crate) async fn export_page(
    c: &mut Conn<'_>,
    table: &Table,
    after: Option<&Cell>,
    limit: u32,
) -> Result<Vec<Vec<Cell>>> {
    let mut stmt = Stmt::new(table.page_sql(after.is_some(), limit));
    if let Some(after) = after {
        let key_kind = table
            .columns
            .iter()
            .find(|(name, _)| *name == table.key)
            .map_or(Kind::Int, |(_, kind)| *kind);
        stmt = stmt.bind(arg(after, key_kind));
    }
    c.all(stmt, |row| read_row(table, row)).await
}

fn read_row(table: &Table, row: &Row<'_>) -> Result<Vec<Cell>> {
    let mut cells = Vec::with_capacity(table.columns.len());
    for (i, (_, kind)) in table.columns.iter().enumerate() {
        let cell = match kind {
            Kind::Int => row.get::<Option<i64>>(i)?.map(Cell::Int),
            Kind::Bool => row.get::<Option<bool>>(i)?.map(|b| Cell::Int(i64::from(b))),
            Kind::Text => row.get::<Option<String>>(i)?.map(Cell::Text),
            Kind::Bytes => row.get::<Option<Vec<u8>>>(i)?.map(Cell::Bytes),
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(cells)
}

/// Writes rows of `table` back with every column as given (ids included); on Postgres,
/// then moves the table's identity counter past them (SQLite's rowids follow the
/// largest id by themselves).
pub(crate) async fn import_rows(c: &mut Conn<'_>, table: &Table, rows: &[Vec<Cell>]) -> Result<()> {
    // Postgres: the ids are the exported ones, not the counter's.
    let overriding = if c.is_pg() && table.identity.is_some() {
        "OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let sql = table.insert_sql(overriding);
    for row in rows {
        let mut stmt = Stmt::new(sql.clone());
        for (cell, (_, kind)) in row.iter().zip(table.columns) {
            stmt = stmt.bind(arg(cell, *kind));
        }
        c.exec(stmt).await?;
    }
    if let Some(column) = table.identity
        && c.is_pg()
    {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), coalesce(max({1}), 0) + 1, false) FROM {0}",
            table.name, column
        );
        c.exec(Stmt::new(sql)).await?;
    }
    Ok(())
}

/// A cell as a parameter of its column's kind.
fn arg(cell: &Cell, kind: Kind) -> Arg<'_> {
    match (cell, kind) {
        (Cell::Int(n), Kind::Bool) => Arg::Bool(Some(*n != 0)),
        (Cell::Int(n), _) => Arg::from(*n),
        (Cell::Text(t), _) => Arg::from(t),
        (Cell::Bytes(b), _) => Arg::from(b),
        (Cell::Null, Kind::Int) => Arg::Int(None),
        (Cell::Null, Kind::Bool) => Arg::Bool(None),
        (Cell::Null, Kind::Text) => Arg::Text(None),
        (Cell::Null, Kind::Bytes) => Arg::Bytes(None),
    }
}
