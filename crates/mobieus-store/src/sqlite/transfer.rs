//! A tenant's rows read out page by page, and written back as they were.

use crate::Result;
use crate::transfer::{Cell, Table};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

/// Up to `limit` rows of `table` after key `after` (`None`: from the first), in key order.
pub(crate) fn export_page(
    c: &Connection,
    table: &Table,
    after: Option<&Cell>,
    limit: u32,
) -> Result<Vec<Vec<Cell>>> {
    let sql = table.page_sql(after.is_some(), limit);
    let mut stmt = c.prepare_cached(&sql)?;
    let args: Vec<Value> = after.map(to_value).into_iter().collect();
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(table.columns.len());
        for (i, (name, _)) in table.columns.iter().enumerate() {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(n) => Cell::Int(n),
                ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                ValueRef::Real(_) => return Err(crate::rows::corrupt("a real number in", name)),
            });
        }
        out.push(cells);
    }
    Ok(out)
}

/// Writes rows of `table` back with every column as given (ids included).
pub(crate) fn import_rows(c: &Connection, table: &Table, rows: &[Vec<Cell>]) -> Result<()> {
    let sql = table.insert_sql("");
    let mut stmt = c.prepare_cached(&sql)?;
    for row in rows {
        stmt.execute(params_from_iter(row.iter().map(to_value)))?;
    }
    Ok(())
}

fn to_value(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(n) => Value::Integer(*n),
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Bytes(b) => Value::Blob(b.clone()),
    }
}
