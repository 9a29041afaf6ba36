//! The redb store: schema, one batching writer, and readers that never block it.
//!
//! Architecture: one [`StoreWriter`] thread owns every write and commits whatever batches are
//! queued in one transaction (group commit), each commit durable (fsync) before it is
//! acknowledged; readers ([`Store`]'s methods) each take their own MVCC snapshot, so they see
//! whole commits only and never wait for the writer. Values are postcard-encoded model records;
//! keys are chosen so that redb's key order is the order the UI lists things in.
//!
//! The exceptions to the single writer: accounts and API tokens (`accounts.rs`) and the
//! record of WiGLE uploads (`wigle.rs`) commit their own small transactions; `accounts.rs`
//! says why.

mod accounts;
mod error;
mod hub_devices;
mod query;
mod read;
mod replica;
mod schema;
mod wigle;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::de::DeserializeOwned;

use crate::model::{ApRecord, ClientRecord, Fix, Observation, SessionRecord};
use piwardrive_dot11::MacAddr;

pub use error::StoreError;
pub use hub_devices::HubDevice;
pub use query::{ApRow, ApRows, page_of};
pub use read::{ApLookup, Snapshot, TimeRange};
pub use replica::{HubApplyError, Outbox};
pub use schema::SCHEMA_VERSION;
pub use wigle::WigleUpload;
pub use writer::{Reserve, StoreWriter, WriterStats, WriterStatus, WriterStatusSnapshot};

use schema::{
    APS, APS_BY_FIRST_SEEN, APS_BY_LAST_SEEN, CLIENTS, CURSORS, OBSERVATIONS, OBSERVATIONS_BY_MAC,
    SESSIONS, mac_key,
};

/// redb's page cache defaults to 1 GiB; the Pi has far less RAM than that and the working set
/// (recent APs and indexes) is small, so cap it.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// An open store. Cheap to clone: clones share the one database handle.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("device_id", &self.inner.device_id)
            .finish_non_exhaustive()
    }
}

struct Inner {
    db: redb::Database,
    path: PathBuf,
    device_id: [u8; 16],
    /// The network list's rows, built on first use and kept current by the writer.
    ap_rows: query::ApRowsCache,
}

/// How far a named input (e.g. a capture file) has been ingested, committed in the same
/// transaction as the records it produced, so a restart resumes exactly where the store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceCursor {
    pub records: u64,
    pub byte_offset: u64,
    pub complete: bool,
}

/// Counts for the status page.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    pub aps: u64,
    pub clients: u64,
    pub observations: u64,
    pub sessions: u64,
    pub file_bytes: u64,
}

/// Everything one commit writes: upserts of records (the tracker sends whole records), new
/// observations, session upserts and input cursors, applied atomically.
#[derive(Debug, Default)]
pub struct Batch {
    pub aps: Vec<ApRecord>,
    pub clients: Vec<ClientRecord>,
    pub observations: Vec<Observation>,
    pub sessions: Vec<SessionRecord>,
    pub cursors: Vec<(String, SourceCursor)>,
    /// New GPS track points (keyed by their time; the GPS side thins them before sending).
    pub track: Vec<Fix>,
    /// Corrections of observation times already stored (see [`TimeShift`]).
    pub time_shifts: Vec<TimeShift>,
}

/// Shifts the times of a session's stored observations numbered below `before_seq` by
/// `offset_us`: the correction when GPS time reveals that the system clock was wrong while
/// they were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeShift {
    pub session_id: u64,
    pub before_seq: u64,
    pub offset_us: i64,
}

impl Batch {
    /// True when the batch writes nothing (the writer skips the commit and its fsync).
    pub fn is_empty(&self) -> bool {
        self.aps.is_empty()
            && self.clients.is_empty()
            && self.observations.is_empty()
            && self.sessions.is_empty()
            && self.cursors.is_empty()
            && self.track.is_empty()
            && self.time_shifts.is_empty()
    }
}

/// An error inside the store before the file path is attached: lets the internals use `?` on
/// every redb error type and become a [`StoreError`] at the public boundary.
#[derive(Debug)]
pub(crate) enum Fault {
    Redb(redb::Error),
    Decode {
        table: &'static str,
        key: String,
        source: postcard::Error,
    },
    Encode {
        table: &'static str,
        key: String,
        source: postcard::Error,
    },
}

macro_rules! fault_from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Fault {
            fn from(e: $t) -> Fault {
                Fault::Redb(e.into())
            }
        }
    )*};
}
fault_from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::SetDurabilityError
);

impl Fault {
    pub(crate) fn at(self, path: &Path) -> StoreError {
        match self {
            Fault::Redb(e) => StoreError::from_redb(path, e),
            Fault::Decode { table, key, source } => StoreError::Decode {
                path: path.to_path_buf(),
                table,
                key,
                source,
            },
            Fault::Encode { table, key, source } => StoreError::Encode {
                path: path.to_path_buf(),
                table,
                key,
                source,
            },
        }
    }
}

/// Decodes a stored value; `key` is only formatted when decoding fails.
pub(crate) fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: impl Display,
    bytes: &[u8],
) -> Result<T, Fault> {
    postcard::from_bytes(bytes).map_err(|source| Fault::Decode {
        table,
        key: key.to_string(),
        source,
    })
}

/// Encodes a value for `table`.
pub(crate) fn encode<T: serde::Serialize>(
    table: &'static str,
    key: impl Display,
    value: &T,
) -> Result<Vec<u8>, Fault> {
    postcard::to_stdvec(value).map_err(|source| Fault::Encode {
        table,
        key: key.to_string(),
        source,
    })
}

/// Offsets come from the web UI; anything past `usize` simply skips everything.
fn skip_count(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

impl Store {
    /// Opens or creates the store at `path` (a file; its directory is created if missing),
    /// checks the schema version, creates the device id (random 128-bit, once) on first open.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                action: "creating the store's directory",
                source,
            })?;
        }
        if !path.exists() {
            create_complete(path)?;
        }
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| StoreError::from_redb(path, e))?;

        let prepared = match schema::check_ready(&db) {
            Some(ready) => ready,
            None => {
                // Tables, schema version and device id are settled in one transaction: a power
                // cut during the first open leaves either an empty file or a complete one.
                let mut txn = db
                    .begin_write()
                    .map_err(|e| StoreError::from_redb(path, e))?;
                txn.set_quick_repair(true);
                let prepared = schema::prepare(path, &txn)?;
                txn.commit().map_err(|e| StoreError::from_redb(path, e))?;
                prepared
            }
        };

        Ok(Store {
            inner: Arc::new(Inner {
                db,
                path: path.to_path_buf(),
                device_id: prepared.device_id,
                ap_rows: Default::default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// This device's identity (random, created once with the file).
    pub fn device_id(&self) -> [u8; 16] {
        self.inner.device_id
    }

    pub(crate) fn db(&self) -> &redb::Database {
        &self.inner.db
    }

    /// Runs `f` on a fresh read snapshot: it sees whole commits only and never blocks the writer.
    fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, Fault>,
    ) -> Result<T, StoreError> {
        let run = || -> Result<T, Fault> {
            let txn = self.inner.db.begin_read()?;
            f(&txn)
        };
        run().map_err(|e| e.at(&self.inner.path))
    }

    pub fn ap_count(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(APS)?.len()?))
    }

    /// Newest first by `first_seen` (ties by BSSID, descending), paged.
    pub fn aps_by_first_seen(
        &self,
        offset: u64,
        limit: usize,
    ) -> Result<Vec<ApRecord>, StoreError> {
        self.read(|txn| aps_by_index(txn, true, offset, limit))
    }

    /// Most recently heard first by `last_seen` (ties by BSSID, descending), paged.
    pub fn aps_by_last_seen(&self, offset: u64, limit: usize) -> Result<Vec<ApRecord>, StoreError> {
        self.read(|txn| aps_by_index(txn, false, offset, limit))
    }

    pub fn ap(&self, bssid: MacAddr) -> Result<Option<ApRecord>, StoreError> {
        self.read(|txn| {
            let key = bssid.to_u64();
            let aps = txn.open_table(APS)?;
            let v = aps.get(key)?;
            v.map(|v| decode("aps", bssid, v.value())).transpose()
        })
    }

    /// All APs in BSSID order.
    pub fn all_aps(&self) -> Result<Vec<ApRecord>, StoreError> {
        self.read(|txn| {
            let aps = txn.open_table(APS)?;
            let mut out = Vec::with_capacity(usize::try_from(aps.len()?).unwrap_or(0));
            for entry in aps.iter()? {
                let (k, v) = entry?;
                out.push(decode("aps", mac_key(k.value()), v.value())?);
            }
            Ok(out)
        })
    }

    pub fn client_count(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(CLIENTS)?.len()?))
    }

    /// All clients in MAC order.
    pub fn all_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.read(|txn| {
            let clients = txn.open_table(CLIENTS)?;
            let mut out = Vec::with_capacity(usize::try_from(clients.len()?).unwrap_or(0));
            for entry in clients.iter()? {
                let (k, v) = entry?;
                out.push(decode("clients", mac_key(k.value()), v.value())?);
            }
            Ok(out)
        })
    }

    pub fn client(&self, mac: MacAddr) -> Result<Option<ClientRecord>, StoreError> {
        self.read(|txn| {
            let clients = txn.open_table(CLIENTS)?;
            let v = clients.get(mac.to_u64())?;
            v.map(|v| decode("clients", mac, v.value())).transpose()
        })
    }

    pub fn observation_count(&self) -> Result<u64, StoreError> {
        self.read(|txn| Ok(txn.open_table(OBSERVATIONS)?.len()?))
    }

    /// The newest `limit` observations of `mac` (AP or client), newest (highest seq) first.
    pub fn observations_for(
        &self,
        mac: MacAddr,
        limit: usize,
    ) -> Result<Vec<Observation>, StoreError> {
        self.read(|txn| {
            let index = txn.open_table(OBSERVATIONS_BY_MAC)?;
            let obs = txn.open_table(OBSERVATIONS)?;
            let m = mac.to_u64();
            let mut out = Vec::new();
            for entry in index.range((m, 0)..=(m, u64::MAX))?.rev() {
                if out.len() >= limit {
                    break;
                }
                let (k, _) = entry?;
                let seq = k.value().1;
                // The index and the table change in the same transaction, so a missing or
                // mismatched row means damage; skip it rather than fail the whole page.
                if let Some(v) = obs.get(seq)? {
                    let o: Observation = decode("observations", seq, v.value())?;
                    if o.mac == mac {
                        out.push(o);
                    }
                }
            }
            Ok(out)
        })
    }

    /// All sessions, newest (highest id) first.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.read(|txn| {
            let sessions = txn.open_table(SESSIONS)?;
            let mut out = Vec::new();
            for entry in sessions.iter()?.rev() {
                let (k, v) = entry?;
                out.push(decode("sessions", k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    /// Next free observation sequence number (max stored + 1, or 1).
    pub fn next_observation_seq(&self) -> Result<u64, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(OBSERVATIONS)?;
            let last = t.last()?.map(|(k, _)| k.value());
            Ok(last.map_or(1, |k| k.saturating_add(1)))
        })
    }

    /// Next free session id (max stored + 1, or 1).
    pub fn next_session_id(&self) -> Result<u64, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(SESSIONS)?;
            let last = t.last()?.map(|(k, _)| k.value());
            Ok(last.map_or(1, |k| k.saturating_add(1)))
        })
    }

    /// Progress of a named input (e.g. a capture file key): what has been committed.
    pub fn cursor(&self, source_key: &str) -> Result<Option<SourceCursor>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(CURSORS)?;
            let v = t.get(source_key)?;
            v.map(|v| decode("cursors", format!("{source_key:?}"), v.value()))
                .transpose()
        })
    }

    /// Counts (from one snapshot) and the file's size on disk.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        let mut stats = self.read(|txn| {
            Ok(StoreStats {
                aps: txn.open_table(APS)?.len()?,
                clients: txn.open_table(CLIENTS)?.len()?,
                observations: txn.open_table(OBSERVATIONS)?.len()?,
                sessions: txn.open_table(SESSIONS)?.len()?,
                file_bytes: 0,
            })
        })?;
        stats.file_bytes = std::fs::metadata(&self.inner.path)
            .map_err(|source| StoreError::Io {
                path: self.inner.path.clone(),
                action: "reading the store's file size",
                source,
            })?
            .len();
        Ok(stats)
    }
}

/// Pages through one of the AP time indexes, newest first.
///
/// Paging skips `offset` index entries one by one, so page N costs O(N * limit); fine for the
/// few thousand APs of a drive. If that grows, page by the last key seen instead of an offset.
fn aps_by_index(
    txn: &ReadTransaction,
    by_first_seen: bool,
    offset: u64,
    limit: usize,
) -> Result<Vec<ApRecord>, Fault> {
    let (index, table_name) = if by_first_seen {
        (txn.open_table(APS_BY_FIRST_SEEN)?, "aps_by_first_seen")
    } else {
        (txn.open_table(APS_BY_LAST_SEEN)?, "aps_by_last_seen")
    };
    let aps = txn.open_table(APS)?;
    let mut out = Vec::with_capacity(limit.min(1024));
    for entry in index.iter()?.rev().skip(skip_count(offset)) {
        if out.len() >= limit {
            break;
        }
        let (k, _) = entry?;
        let (time, bssid) = k.value();
        let Some(v) = aps.get(bssid)? else {
            tracing::warn!(table = table_name, bssid = %mac_key(bssid), "index entry without an AP record; skipped");
            continue;
        };
        let ap: ApRecord = decode("aps", mac_key(bssid), v.value())?;
        // The writer keeps index and records in step; a stale entry (only possible after
        // damage) would list an AP twice, so only the entry matching the record counts.
        let current = if by_first_seen {
            ap.first_seen
        } else {
            ap.last_seen
        };
        if current == time {
            out.push(ap);
        }
    }
    Ok(out)
}

/// Makes a new store file at `path` in one step: the file is created and prepared (header,
/// tables, schema version, device id) under a temporary name beside it, then linked into
/// place. A process killed while redb writes a new file's header leaves a file that is not a
/// redb database (seen: SIGKILL 12 ms into `ingest`), which the next start would refuse as
/// corrupt; this way `path` either does not exist or is a complete, empty store. The link
/// never replaces a store another process made meanwhile.
fn create_complete(path: &Path) -> Result<(), StoreError> {
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io {
            path: p,
            action,
            source,
        }
    };
    let name = path.file_name().map_or_else(
        || "piwardrive.redb".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Leftovers of creations that were killed: never a store anyone acknowledged a commit in.
    let prefix = format!(".{name}.creating.");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = n.strip_prefix(&prefix).and_then(|p| p.parse::<i32>().ok())
                // SAFETY: kill with signal 0 only checks whether the process exists.
                && unsafe { libc::kill(pid, 0) } != 0
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let tmp = dir.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    {
        let db = redb::Builder::new()
            .create(&tmp)
            .map_err(|e| StoreError::from_redb(&tmp, e))?;
        let mut txn = db
            .begin_write()
            .map_err(|e| StoreError::from_redb(&tmp, e))?;
        txn.set_quick_repair(true);
        schema::prepare(path, &txn)?;
        txn.commit().map_err(|e| StoreError::from_redb(&tmp, e))?;
    }
    let linked = match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        // Another process made the store first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links: a rename, which is atomic too.
        Err(_) if !path.exists() => {
            std::fs::rename(&tmp, path).map_err(io("moving the new store into place", path))
        }
        Err(_) => Ok(()),
    };
    let _ = std::fs::remove_file(&tmp);
    linked?;
    if let Ok(d) = std::fs::File::open(dir) {
        d.sync_all()
            .map_err(io("syncing the store's directory", dir))?;
    }
    Ok(())
}
