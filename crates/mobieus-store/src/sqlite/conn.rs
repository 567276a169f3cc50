//! Connections to one database file: one write connection, taken for a whole write
//! transaction, and a few read connections, taken for one read. WAL mode lets reads run
//! beside the writer, in this process and in others.

use super::migrate;
use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections kept open when idle (more are opened while reads overlap).
const IDLE_READERS: usize = 4;
/// Prepared statements kept per connection (the dynamic queries vary in shape).
const STATEMENT_CACHE: usize = 64;

/// The connections to one database file. Cheap to clone; closed when the last clone goes.
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The one write connection. An async lock: a writer waiting for another's
    /// transaction to finish waits without holding a thread.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl Pool {
    /// Opens (creating when missing) a database in WAL mode and brings its schema up to
    /// date. On a blocking thread: migrating may wait for another process's lock.
    pub(crate) async fn open(path: &Path, migrations: &'static [&'static str]) -> Result<Self> {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut writer = connect(&path)?;
            let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Migrate(format!(
                    "cannot put {} in WAL mode (it stays {mode})",
                    path.display()
                )));
            }
            migrate::run(&mut writer, migrations)?;
            // The writer never sleeps on the lock inside SQLite: `begin_write` retries
            // asynchronously instead (see there).
            writer.busy_timeout(Duration::ZERO)?;
            Ok(Self {
                inner: Arc::new(Inner {
                    path,
                    writer: Arc::new(tokio::sync::Mutex::new(writer)),
                    readers: Mutex::new(Vec::new()),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Migrate(format!("the task opening the database failed: {e}")))?
    }

    /// Runs `f` on a read connection. Reads in WAL mode never wait for writers.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(&self.inner.path)?,
        };
        let out = f(&conn);
        let mut idle = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// Runs `f` in a write transaction of its own, committed when it returns `Ok`.
    pub(crate) async fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let tx = begin_write(self).await?;
        let out = f(tx.conn())?;
        tx.commit()?;
        Ok(out)
    }
}

/// One write transaction: holds the database's write connection until committed or
/// dropped (which rolls back).
pub(crate) struct Tx {
    conn: tokio::sync::OwnedMutexGuard<Connection>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

impl Tx {
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "cannot roll back a write transaction");
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Starts a write transaction (`BEGIN IMMEDIATE`: it queues for the write lock up front
/// instead of failing when a read turns into a write). While another process holds the
/// lock, it sleeps asynchronously and tries again, for up to `BUSY_TIMEOUT`.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx> {
    let conn = pool.inner.writer.clone().lock_owned().await;
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        let begun = conn
            .prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]));
        match begun {
            Ok(_) => return Ok(Tx { conn }),
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
