//! Online backups: every database of the data dir written to another directory as a
//! consistent snapshot (`VACUUM INTO`, which reads inside one transaction while writers
//! go on), with the master key file when there is one. The result is a data dir: restore
//! by pointing `--data-dir` at it.

use crate::{Result, Store, StoreError};
use std::path::{Path, PathBuf};

/// What a backup wrote.
#[derive(Clone, Debug)]
pub struct BackupSummary {
    pub tenants: usize,
    pub bytes: u64,
    /// Whether `master.key` was copied (it is not when the key comes from the environment).
    pub master_key_copied: bool,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::DataDir {
        path: path.display().to_string(),
        source,
    }
}

/// `VACUUM INTO` a new file (SQLite refuses to overwrite one).
fn snapshot(c: &rusqlite::Connection, to: &Path) -> Result<u64> {
    c.execute("VACUUM INTO ?1", [to.display().to_string()])?;
    Ok(std::fs::metadata(to).map_err(io(to))?.len())
}

impl Store {
    /// Writes a snapshot of the control database and of every tenant's database into
    /// `out`, which must be empty or not exist; copies `master.key` (mode 0600) from the
    /// data dir when the key is kept there.
    pub async fn backup_to(&self, out: &Path) -> Result<BackupSummary> {
        if out.exists() {
            let empty = std::fs::read_dir(out).map_err(io(out))?.next().is_none();
            if !empty {
                let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "not empty");
                return Err(io(out)(e));
            }
        }
        let tenants_out: PathBuf = out.join("tenants");
        std::fs::create_dir_all(&tenants_out).map_err(io(&tenants_out))?;
        let mut summary = BackupSummary {
            tenants: 0,
            bytes: 0,
            master_key_copied: false,
        };
        let control = out.join("control.db");
        let crate::store::Control::Sqlite(pool) = &self.control else {
            return Err(StoreError::Unsupported(
                "backups of a Postgres database by mobieus (use pg_dump; see docs/operations.md)",
            ));
        };
        summary.bytes += pool.read(|c| snapshot(c, &control))?;
        for tenant in self.tenants().await? {
            let db = self.tenant_db(&tenant.slug).await?;
            let file = tenants_out.join(format!("{}.db", tenant.slug));
            summary.bytes += db.snapshot_to(&file)?;
            summary.tenants += 1;
        }
        let key = self.tenants_dir.with_file_name("master.key");
        if key.exists() {
            let copy = out.join("master.key");
            std::fs::copy(&key, &copy).map_err(io(&copy))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(&copy))?;
            }
            summary.master_key_copied = true;
        }
        Ok(summary)
    }
}

pub(crate) fn snapshot_db(c: &rusqlite::Connection, to: &Path) -> Result<u64> {
    snapshot(c, to)
}
