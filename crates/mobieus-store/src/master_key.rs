//! The master key that seals secrets at rest: given by the operator
//! (`MOBIEUS_MASTER_KEY`), or kept in `<data dir>/master.key`, created with mode 0600 on
//! first start. Without it, sealed secrets cannot be recovered: back it up with the data.

use crate::{Result, StoreError};
use mobieus_domain::sealing::MasterKey;
use std::io::Write;
use std::path::Path;

const FILE: &str = "master.key";

pub(crate) fn load(data_dir: &Path, configured: Option<&str>) -> Result<MasterKey> {
    if let Some(text) = configured {
        return MasterKey::parse(text).map_err(|e| StoreError::MasterKey(e.to_string()));
    }
    let path = data_dir.join(FILE);
    let io_error = |source| StoreError::DataDir {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::parse(&text)
            .map_err(|e| StoreError::MasterKey(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(format!("{}\n", key.to_base64()).as_bytes())
                        .map_err(io_error)?;
                    file.sync_all().map_err(io_error)?;
                    tracing::info!(path = %path.display(), "created a new master key for secrets at rest; back it up with the data dir");
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(data_dir, None),
                Err(e) => Err(io_error(e)),
            }
        }
        Err(e) => Err(io_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(dir.path(), None).unwrap();
        let second = load(dir.path(), None).unwrap();
        assert_eq!(first.to_base64(), second.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let given = MasterKey::generate();
        assert_eq!(
            load(dir.path(), Some(&given.to_base64()))
                .unwrap()
                .to_base64(),
            given.to_base64()
        );
        assert!(load(dir.path(), Some("nope")).is_err());
    }
}
