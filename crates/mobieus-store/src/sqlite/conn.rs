//! Connections to one database file: one write connection, taken for a whole write
//! transaction, and a few read connections, taken for one read. WAL mode lets reads run
//! beside the writer, in this process and in others.

use super::migrate;
use crate::{Result, StoreError};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections kept open when idle (more are opened while reads overlap).
const IDLE_READERS: usize = 4;
/// Commits between two background checkpoints (128 cost ingest about a tenth of its rate,
/// 512 keep the log near 14 MB under a steady stream of small commits).
const CHECKPOINT_EVERY: u64 = 512;
/// The log's size, in pages, at which a commit checkpoints inline (the background fell
/// behind).
const SAFETY_CHECKPOINT_PAGES: i64 = 20_000;
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
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// Writers waiting for the write connection.
    waiting: AtomicUsize,
    commits: AtomicU64,
    checkpointing: AtomicBool,
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
    // Temporary files in memory: among them the journal of each savepoint of a group
    // commit (see `Tx`), which would otherwise spill to a file past 64 KiB.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
    )?;
    // Checkpoints run in the background (see `Pool::after_commit`); SQLite's own, in the
    // commit that crosses the threshold, stays as a safety net far above it.
    conn.pragma_update(None, "wal_autocheckpoint", SAFETY_CHECKPOINT_PAGES)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Plans that do not depend on the values bound: without this, a statement whose
    // plan could change with a parameter (a `LIMIT ?` in a subquery, a `?` compared
    // with a partial index's condition) is parsed and planned again on every run,
    // which undoes the statement cache.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
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
                    writer: Arc::new(tokio::sync::Mutex::new(Writer {
                        conn: writer,
                        group: Vec::new(),
                    })),
                    waiting: AtomicUsize::new(0),
                    commits: AtomicU64::new(0),
                    checkpointing: AtomicBool::new(false),
                    readers: Mutex::new(Vec::new()),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Migrate(format!("the task opening the database failed: {e}")))?
    }

    /// Runs `f` on a read connection. Reads in WAL mode never wait for writers.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let mut reader = self.reader()?;
        f(reader.conn())
    }

    /// A read connection, back among the idle ones when dropped.
    pub(crate) fn reader(&self) -> Result<Reader> {
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
        Ok(Reader {
            conn: Some(conn),
            pool: self.clone(),
        })
    }

    /// Checkpoints the log now and then, off the commit path: copying the log's pages
    /// into the database file takes milliseconds, which SQLite would otherwise spend in
    /// the commit that crosses its threshold (the p99 of `mobieus-bench latency` was
    /// 4 ms with that, 0.6 ms without).
    ///
    /// In two steps. First a passive checkpoint on a blocking thread, beside the writers:
    /// it copies most of the log. Under a steady stream of commits it never finishes,
    /// though (frames are appended while it copies), and a log that is never fully copied
    /// is never started again from its beginning: it grows. So then, holding the write
    /// connection (this process's writers wait, briefly), a second passive checkpoint
    /// copies the few frames added meanwhile and completes; the next transaction starts
    /// the log again from its beginning.
    fn after_commit(&self) {
        let n = self.inner.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if !n.is_multiple_of(CHECKPOINT_EVERY)
            || self.inner.checkpointing.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.inner.checkpointing.store(false, Ordering::Release);
            return;
        };
        let pool = self.clone();
        runtime.spawn(async move {
            let bulk = pool.clone();
            let copied = tokio::task::spawn_blocking(move || bulk.checkpoint()).await;
            if matches!(copied, Ok(Ok(()))) {
                let writer = pool.inner.writer.clone().lock_owned().await;
                let rest = pool.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let done = rest.checkpoint();
                    drop(writer);
                    done
                })
                .await;
            }
            pool.inner.checkpointing.store(false, Ordering::Release);
        });
    }

    fn checkpoint(&self) -> Result<()> {
        let done = self.read(|c| {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        });
        if let Err(e) = &done {
            tracing::debug!(error = %e, "background checkpoint failed");
        }
        done
    }
}

/// A read connection taken from a [`Pool`] (see [`Pool::reader`]).
pub(crate) struct Reader {
    conn: Option<Connection>,
    pool: Pool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl Reader {
    pub(crate) fn conn(&mut self) -> &mut Connection {
        // Present until the drop takes it.
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("a read connection is used after its drop"),
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut idle = self
            .pool
            .inner
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

/// The write connection and the group of committed transactions waiting for the
/// physical commit they share.
struct Writer {
    conn: Connection,
    /// The transactions whose work is in the open SQLite transaction, each waiting to
    /// hear that it was committed.
    group: Vec<oneshot::Sender<Result<(), String>>>,
}

/// Transactions committed together at most (bounds how long the first one waits).
const MAX_GROUP: usize = 64;
/// How long a transaction waiting for its group's commit waits before committing the
/// group itself (in case the writer it waited for went away without writing).
const GROUP_WAIT: Duration = Duration::from_millis(5);

/// One write transaction, a savepoint inside the SQLite transaction it may share with
/// others (group commit). Holds the database's write connection until committed or
/// dropped (which undoes its own work only).
///
/// Group commit: each commit of SQLite writes every page the transaction changed to
/// the log, so many small transactions pay mostly for writing the same index pages again
/// and again. When another writer is already waiting for the connection, a transaction
/// that commits releases its savepoint and hands the connection on, and the last one of
/// the group commits for all. Nobody hears "committed" before the data is: each waits for
/// the commit of its group.
pub(crate) struct Tx {
    writer: Option<tokio::sync::OwnedMutexGuard<Writer>>,
    pool: Pool,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

impl Tx {
    pub(crate) fn conn(&mut self) -> &mut Connection {
        // Present until `commit` or drop takes it.
        match &mut self.writer {
            Some(w) => &mut w.conn,
            None => unreachable!("a transaction is used after its commit"),
        }
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        let Some(mut w) = self.writer.take() else {
            return Ok(());
        };
        if let Err(e) = w
            .conn
            .prepare_cached("RELEASE member")
            .and_then(|mut s| s.execute([]))
        {
            self.writer = Some(w);
            return Err(e.into());
        }
        if self.pool.inner.waiting.load(Ordering::Acquire) == 0 || w.group.len() >= MAX_GROUP {
            return commit_group(&mut w, &self.pool);
        }
        let (done, mut heard) = oneshot::channel();
        w.group.push(done);
        drop(w);
        loop {
            match tokio::time::timeout(GROUP_WAIT, &mut heard).await {
                Ok(Ok(result)) => return result.map_err(StoreError::Commit),
                Ok(Err(_)) => {
                    return Err(StoreError::Commit("the group commit was abandoned".into()));
                }
                Err(_) => {
                    let mut w = self.pool.inner.writer.clone().lock_owned().await;
                    match heard.try_recv() {
                        Ok(result) => return result.map_err(StoreError::Commit),
                        Err(oneshot::error::TryRecvError::Empty) => {
                            commit_group(&mut w, &self.pool)?;
                        }
                        Err(oneshot::error::TryRecvError::Closed) => {
                            return Err(StoreError::Commit(
                                "the group commit was abandoned".into(),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Commits the open SQLite transaction and tells each transaction of the group.
fn commit_group(w: &mut Writer, pool: &Pool) -> Result<()> {
    let committed = w
        .conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]));
    let group = std::mem::take(&mut w.group);
    match committed {
        Ok(_) => {
            for member in group {
                let _ = member.send(Ok(()));
            }
            pool.after_commit();
            Ok(())
        }
        Err(e) => {
            if !w.conn.is_autocommit()
                && let Err(e) = w.conn.execute_batch("ROLLBACK")
            {
                tracing::warn!(error = %e, "cannot roll back a write transaction");
            }
            fail_group(group, &e.to_string());
            Err(e.into())
        }
    }
}

fn fail_group(group: Vec<oneshot::Sender<Result<(), String>>>, why: &str) {
    for member in group {
        let _ = member.send(Err(why.to_owned()));
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(mut w) = self.writer.take() else {
            return;
        };
        if w.conn.is_autocommit() {
            // SQLite rolled the whole transaction back itself (after some errors).
            let group = std::mem::take(&mut w.group);
            fail_group(group, "the transaction was rolled back");
            return;
        }
        if let Err(e) = w.conn.execute_batch("ROLLBACK TO member; RELEASE member") {
            tracing::warn!(error = %e, "cannot roll back a write transaction");
        }
        if w.group.is_empty() {
            if let Err(e) = w.conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "cannot roll back a write transaction");
            }
        } else if self.pool.inner.waiting.load(Ordering::Acquire) == 0 {
            // The others' work waits for a commit and nobody else is coming.
            let _ = commit_group(&mut w, &self.pool);
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Counts a writer waiting for the write connection while it waits (also when its
/// future is dropped mid-wait).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Starts a write transaction: joins the SQLite transaction a group left open, or starts
/// one with `BEGIN IMMEDIATE` (it queues for the write lock up front instead of failing
/// when a read turns into a write). While another process holds the lock, it sleeps
/// asynchronously and tries again, for up to `BUSY_TIMEOUT`.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx> {
    let mut w = {
        let _waiting = Waiting::new(&pool.inner.waiting);
        pool.inner.writer.clone().lock_owned().await
    };
    if w.conn.is_autocommit() {
        if !w.group.is_empty() {
            // SQLite rolled the group's transaction back itself (after some errors).
            let group = std::mem::take(&mut w.group);
            fail_group(group, "the transaction was rolled back");
        }
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        loop {
            let begun = w
                .conn
                .prepare_cached("BEGIN IMMEDIATE")
                .and_then(|mut s| s.execute([]));
            match begun {
                Ok(_) => break,
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    if let Err(e) = w
        .conn
        .prepare_cached("SAVEPOINT member")
        .and_then(|mut s| s.execute([]))
    {
        let tx = Tx {
            writer: Some(w),
            pool: pool.clone(),
        };
        drop(tx);
        return Err(e.into());
    }
    Ok(Tx {
        writer: Some(w),
        pool: pool.clone(),
    })
}
