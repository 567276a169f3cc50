//! Moving a tenant between nodes and backends (SQLite to Postgres, or back): its data
//! written to a file and read into another store.
//!
//! The file is JSON lines: a header (`{"mobieus_export":1,"tenant":…,"hosts":[…],
//! "created_at":…}`), one line per row (`{"t":"<table>","r":[…]}`, bytes in hex, flags as
//! 0 or 1) in the tables' order, and a last line with the number of rows
//! (`{"end":true,"rows":N}`), so a cut-off file is refused. Webhook secrets stay sealed:
//! the file opens only with the same master key, and the import checks that before it
//! writes anything. It holds hashes of keys, passwords and sessions: keep it as secret as
//! the data itself.

use crate::{CoreError, tenants};
use mobieus_domain::tenant::{HostName, TenantSlug};
use mobieus_domain::time::Timestamp;
use mobieus_store::transfer::{Cell, Kind, TABLES, Table, fits};
use mobieus_store::{Store, TenantDb};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// The format's version, in the header.
const VERSION: u64 = 1;
/// Rows read or written at a time.
const PAGE: u32 = 500;

/// Why an export or import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file is not an export this version reads (the line number says where).
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<mobieus_store::StoreError> for TransferError {
    fn from(e: mobieus_store::StoreError) -> Self {
        Self::Core(e.into())
    }
}

/// Rows per table.
pub type Counts = BTreeMap<&'static str, u64>;

/// Writes tenant `slug`'s data to `out`; the rows written per table.
pub async fn export(
    store: &Store,
    slug: &TenantSlug,
    out: &mut impl Write,
) -> Result<Counts, TransferError> {
    let tenant = store
        .tenant(slug)
        .await?
        .ok_or_else(|| CoreError::NotFound {
            what: "tenant",
            id: slug.to_string(),
        })?;
    let db = tenants::open(store, slug).await?;
    let io = |e: std::io::Error| TransferError::Io(e.to_string());
    let header = json!({
        "mobieus_export": VERSION,
        "tenant": tenant.slug,
        "hosts": tenant.hosts,
        "created_at": tenant.created_at.millis(),
    });
    writeln!(out, "{header}").map_err(io)?;
    let mut counts = Counts::new();
    let mut total = 0u64;
    for table in TABLES {
        let mut after: Option<Cell> = None;
        let n = counts.entry(table.name).or_default();
        loop {
            let rows = db.export_page(table, after.as_ref(), PAGE).await?;
            for row in &rows {
                let line =
                    json!({ "t": table.name, "r": row.iter().map(cell_json).collect::<Vec<_>>() });
                writeln!(out, "{line}").map_err(io)?;
            }
            *n += rows.len() as u64;
            total += rows.len() as u64;
            let key = table.columns.iter().position(|(c, _)| *c == table.key);
            match (rows.last(), key) {
                (Some(last), Some(k)) if rows.len() == PAGE as usize => {
                    after = last.get(k).cloned();
                }
                _ => break,
            }
        }
    }
    writeln!(out, "{}", json!({ "end": true, "rows": total })).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(counts)
}

/// What an import found in its file's header.
#[derive(Clone, Debug)]
pub struct Header {
    pub slug: TenantSlug,
    pub hosts: Vec<HostName>,
    pub created_at: Timestamp,
}

/// Reads an export into `store` as a new tenant (or into an empty one of that slug, so
/// an import that failed may be run again). The whole file is checked first (its form,
/// every row against its table, its end, that its webhook secrets open with this store's
/// master key): a file refused writes nothing. The rows go in in one transaction.
pub async fn import(
    store: &Store,
    open: impl Fn() -> std::io::Result<Box<dyn BufRead>>,
) -> Result<(Header, Counts), TransferError> {
    let io = |e: std::io::Error| TransferError::Io(e.to_string());
    // The first pass: check everything.
    let mut lines = open().map_err(io)?.lines();
    let header = read_header(lines.next())?;
    let mut counts = Counts::new();
    let mut last_table = 0usize;
    let mut ended = false;
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let line = line.map_err(io)?;
        if ended {
            return Err(format_error(n, "a line after the end"));
        }
        match parse_line(&line, n)? {
            Line::End(total) => {
                if total != counts.values().sum::<u64>() {
                    return Err(format_error(n, "the row count does not match the rows"));
                }
                ended = true;
            }
            Line::Row(index, row) => {
                if index < last_table {
                    return Err(format_error(n, "the tables are out of order"));
                }
                last_table = index;
                let table = &TABLES[index];
                if table.name == "webhook_endpoints" {
                    check_secret(store, &header.slug, &row, n)?;
                }
                *counts.entry(table.name).or_default() += 1;
            }
        }
    }
    if !ended {
        return Err(TransferError::Format(
            "the file ends before its last line: it was cut off".to_owned(),
        ));
    }
    let db = target(store, &header).await?;
    // The second pass: write it.
    let mut lines = open().map_err(io)?.lines().skip(1);
    let mut tx = db.begin().await?;
    let mut batch: Vec<Vec<Cell>> = Vec::new();
    let mut batch_table = 0usize;
    for (i, line) in lines.by_ref().enumerate() {
        let line = line.map_err(io)?;
        let Line::Row(index, row) = parse_line(&line, i + 2)? else {
            break;
        };
        if (index != batch_table || batch.len() == PAGE as usize) && !batch.is_empty() {
            tx.import_rows(&TABLES[batch_table], &batch).await?;
            batch.clear();
            batch_table = index;
        }
        batch.push(row);
    }
    if !batch.is_empty() {
        tx.import_rows(&TABLES[batch_table], &batch).await?;
    }
    tx.commit().await?;
    Ok((header, counts))
}

/// The tenant to import into: created, or an existing one of that slug with no data.
async fn target(store: &Store, header: &Header) -> Result<TenantDb, TransferError> {
    if store.tenant(&header.slug).await?.is_none() {
        tenants::create(store, &header.slug, &header.hosts).await?;
        return Ok(tenants::open(store, &header.slug).await?);
    }
    let db = tenants::open(store, &header.slug).await?;
    for table in TABLES {
        if !db.export_page(table, None, 1).await?.is_empty() {
            return Err(CoreError::Conflict(format!(
                "tenant {} already exists and holds data: import into a store without it",
                header.slug
            ))
            .into());
        }
    }
    Ok(db)
}

fn format_error(line: usize, what: &str) -> TransferError {
    TransferError::Format(format!("not a mobieus tenant export (line {line}: {what})"))
}

fn read_header(line: Option<std::io::Result<String>>) -> Result<Header, TransferError> {
    let bad = |what: &str| format_error(1, what);
    let line = line
        .ok_or_else(|| bad("the file is empty"))?
        .map_err(|e| TransferError::Io(e.to_string()))?;
    let v: Value = serde_json::from_str(&line).map_err(|_| bad("not JSON"))?;
    match v["mobieus_export"].as_u64() {
        Some(VERSION) => {}
        Some(other) => {
            return Err(TransferError::Format(format!(
                "the export is of format {other}; this build reads format {VERSION}"
            )));
        }
        None => return Err(bad("no mobieus_export header")),
    }
    let slug = v["tenant"]
        .as_str()
        .and_then(|s| TenantSlug::parse(s).ok())
        .ok_or_else(|| bad("no valid tenant slug"))?;
    let hosts = v["hosts"]
        .as_array()
        .ok_or_else(|| bad("no hosts"))?
        .iter()
        .map(|h| h.as_str().and_then(|h| HostName::parse(h).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("an invalid host"))?;
    let created_at = v["created_at"]
        .as_i64()
        .map(Timestamp::from_millis)
        .ok_or_else(|| bad("no created_at"))?;
    Ok(Header {
        slug,
        hosts,
        created_at,
    })
}

enum Line {
    Row(usize, Vec<Cell>),
    End(u64),
}

fn parse_line(line: &str, n: usize) -> Result<Line, TransferError> {
    let v: Value = serde_json::from_str(line).map_err(|_| format_error(n, "not JSON"))?;
    if v["end"] == Value::Bool(true) {
        let rows = v["rows"]
            .as_u64()
            .ok_or_else(|| format_error(n, "an end without a row count"))?;
        return Ok(Line::End(rows));
    }
    let name = v["t"].as_str().ok_or_else(|| format_error(n, "no table"))?;
    let index = TABLES
        .iter()
        .position(|t| t.name == name)
        .ok_or_else(|| format_error(n, "an unknown table"))?;
    let table = &TABLES[index];
    let values = v["r"].as_array().ok_or_else(|| format_error(n, "no row"))?;
    let values = with_added_columns(name, values);
    let row = values
        .iter()
        .zip(table.columns)
        .map(|(value, (_, kind))| json_cell(value, *kind))
        .collect::<Option<Vec<_>>>()
        .filter(|row| values.len() == table.columns.len() && fits(table, row))
        .ok_or_else(|| format_error(n, &format!("a row that does not fit {name}")))?;
    Ok(Line::Row(index, row))
}

/// Columns added to a table after the format was set, with the value a row exported
/// before them takes: an older export still reads.
const ADDED_COLUMNS: &[(&str, usize, i64)] = &[("api_events", 5, 0)];

fn with_added_columns<'a>(table: &str, values: &'a [Value]) -> Cow<'a, [Value]> {
    match ADDED_COLUMNS
        .iter()
        .find(|(name, before, _)| *name == table && values.len() == *before)
    {
        Some((_, _, default)) => {
            let mut values = values.to_vec();
            values.push(json!(default));
            Cow::Owned(values)
        }
        None => Cow::Borrowed(values),
    }
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(n) => json!(n),
        Cell::Text(t) => json!(t),
        Cell::Bytes(b) => json!(hex::encode(b)),
    }
}

fn json_cell(value: &Value, kind: Kind) -> Option<Cell> {
    Some(match (value, kind) {
        (Value::Null, _) => Cell::Null,
        (Value::Number(n), Kind::Int | Kind::Bool) => Cell::Int(n.as_i64()?),
        (Value::String(s), Kind::Text) => Cell::Text(s.clone()),
        (Value::String(s), Kind::Bytes) => Cell::Bytes(hex::decode(s).ok()?),
        _ => return None,
    })
}

/// A webhook endpoint's sealed secret must open with this store's master key (sealed
/// for this tenant and endpoint), or every delivery after the import would fail.
fn check_secret(
    store: &Store,
    slug: &TenantSlug,
    row: &[Cell],
    n: usize,
) -> Result<(), TransferError> {
    let column = |name: &str| {
        Table::by_name("webhook_endpoints")
            .and_then(|t| t.columns.iter().position(|(c, _)| *c == name))
            .and_then(|i| row.get(i))
    };
    let (Some(Cell::Text(id)), Some(Cell::Bytes(sealed))) = (column("id"), column("secret")) else {
        return Err(format_error(n, "an endpoint without its secret"));
    };
    store
        .master_key()
        .open(sealed, &crate::webhooks::sealing_aad(slug, id))
        .map(|_| ())
        .map_err(|_| {
            TransferError::Format(
                "the export's webhook secrets were sealed with another master key: import with the master key of the node that exported it (MOBIEUS_MASTER_KEY or its master.key)".to_owned(),
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn an_event_row_exported_before_the_test_flag_reads_as_not_a_test() {
        let old = r#"{"t":"api_events","r":[1,"evt_1","user.joined",5,"{}"]}"#;
        let Line::Row(_, row) = parse_line(old, 2).unwrap() else {
            panic!("a row");
        };
        assert_eq!(row.last(), Some(&Cell::Int(0)));
        let new = r#"{"t":"api_events","r":[1,"evt_1","post.created",5,"{}",1]}"#;
        let Line::Row(_, row) = parse_line(new, 2).unwrap() else {
            panic!("a row");
        };
        assert_eq!(row.last(), Some(&Cell::Int(1)));
        let short = r#"{"t":"api_events","r":[1,"evt_1","user.joined",5]}"#;
        assert!(parse_line(short, 2).is_err());
    }
}
