//! The store's error type: every message names the file and says what the user can do.

use std::path::{Path, PathBuf};

/// Everything that can go wrong opening, reading or writing the store.
///
/// Messages are written for the person holding the device: they name the file and end with
/// what to do about it, because the web UI and the command line show them as they are.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk (or the partition holding the store) is full. Writing stopped at the failed
    /// commit; every earlier commit is intact because redb never overwrites committed pages.
    #[error(
        "disk full writing {path}: stopped writing; already stored data is intact. \
         Free space on that partition and restart PiWardrive to resume recording"
    )]
    DiskFull { path: PathBuf },

    /// Free space on the store's partition fell below the reserve the settings keep free
    /// (`[storage] reserve_free_mb`): writing stopped before the commit; nothing was lost.
    #[error(
        "only {free_mb} MB free on the partition of {path}, less than the {reserve_mb} MB kept \
         free (Settings, storage reserve): stopped writing new observations; already stored \
         data is intact. Free space on that partition (or lower the reserve) and restart \
         PiWardrive to resume recording"
    )]
    ReserveReached {
        path: PathBuf,
        free_mb: u64,
        reserve_mb: u64,
    },

    /// The file was written by a different (usually newer) schema than this build knows.
    #[error(
        "{path} has store schema version {found}, but this build of PiWardrive understands \
         version {expected}: {hint}"
    )]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
        hint: &'static str,
    },

    /// The file is not a redb database, or redb found damage it cannot repair.
    #[error(
        "{path} is corrupt or unreadable ({detail}): move it aside (keep it for recovery) and \
         PiWardrive will start a new store"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// A stored value did not decode as the record type its table holds.
    #[error(
        "{path}: the value stored in table `{table}` under key {key} does not decode \
         ({source}); the file was probably written by another version, or is damaged"
    )]
    Decode {
        path: PathBuf,
        table: &'static str,
        key: String,
        #[source]
        source: postcard::Error,
    },

    /// A record failed to encode (should not happen for the model's types).
    #[error("{path}: could not encode a value for table `{table}` under key {key}: {source}")]
    Encode {
        path: PathBuf,
        table: &'static str,
        key: String,
        #[source]
        source: postcard::Error,
    },

    /// The writer thread is no longer running; `reason` says why.
    #[error("the store writer for {path} has stopped: {reason}")]
    WriterStopped { path: PathBuf, reason: String },

    /// Another process (or another `Store` in this process) holds the file.
    #[error(
        "{path} is already open by another PiWardrive (or another tool): stop it first, \
         only one process may write the store"
    )]
    AlreadyOpen { path: PathBuf },

    /// Creating the directory, or another plain file-system step, failed.
    #[error("{path}: {action} failed: {source}; check that the partition is mounted read-write")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A record that must be unique (an API token's name) already exists.
    #[error("{path} already holds {what}: choose another name, or revoke that one first")]
    Exists { path: PathBuf, what: String },

    /// Any other database error, with the file it concerns.
    #[error("{path}: database error: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
}

impl StoreError {
    /// True when the error is the disk-full condition, so callers can show it specially.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull { .. })
    }

    /// Classifies any redb error for the file at `path`.
    ///
    /// redb wraps the same causes in several error types (`StorageError`, `CommitError`,
    /// `TransactionError`, ...); all of them convert into `redb::Error`, so this looks there.
    pub(crate) fn from_redb(path: &Path, err: impl Into<redb::Error>) -> StoreError {
        let err: redb::Error = err.into();
        let path = path.to_path_buf();
        match err {
            redb::Error::Io(io) if is_enospc(&io) => StoreError::DiskFull { path },
            redb::Error::Corrupted(detail) => StoreError::Corrupt { path, detail },
            // redb reports a file that is not a redb database (bad magic number) this way.
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                StoreError::Corrupt {
                    path,
                    detail: io.to_string(),
                }
            }
            redb::Error::DatabaseAlreadyOpen => StoreError::AlreadyOpen { path },
            redb::Error::UpgradeRequired(v) => StoreError::Corrupt {
                path,
                detail: format!("redb file format {v} is not supported by this build"),
            },
            other => StoreError::Db {
                path,
                source: other,
            },
        }
    }
}

/// ENOSPC, or the quota equivalent: both mean "no room left to write".
pub(crate) fn is_enospc(err: &std::io::Error) -> bool {
    // 28 is ENOSPC and 122 EDQUOT on Linux, the only platform the appliance runs on; the
    // ErrorKind checks cover the rest.
    matches!(err.raw_os_error(), Some(28) | Some(122))
        || matches!(
            err.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
}
