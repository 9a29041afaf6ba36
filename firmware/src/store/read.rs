//! Streaming readers over one snapshot: exports and other long reads walk whole tables row by
//! row without loading them, and see one consistent commit from the first row to the last.
//!
//! Every walk takes a callback returning [`ControlFlow`], so a caller can stop early and carry
//! its own error (an I/O error writing the export, say) out through `Break`.

use std::ops::{Bound, ControlFlow, RangeBounds};
use std::path::{Path, PathBuf};

use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable};

use piwardrive_dot11::MacAddr;

use super::schema::{
    APS, OBSERVATIONS, OBSERVATIONS_BY_MAC, SESSION_MACS, SESSIONS, TRACK, mac_key,
};
use super::{Fault, Store, StoreError, decode};
use crate::model::{ApRecord, Fix, Observation, SessionRecord};

/// A span of Unix microseconds, as `RangeBounds<i64>` takes it.
pub type TimeRange = (Bound<i64>, Bound<i64>);

/// One read snapshot of the store. It holds a redb read transaction: the writer goes on
/// committing meanwhile, but pages this snapshot still sees are kept until it is dropped, so
/// drop it when the long read is done.
pub struct Snapshot {
    txn: ReadTransaction,
    path: PathBuf,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Point lookups of APs by BSSID inside one snapshot, with the table opened once (an export
/// looks up the AP of every observation it writes).
pub struct ApLookup {
    table: ReadOnlyTable<u64, &'static [u8]>,
    path: PathBuf,
}

impl std::fmt::Debug for ApLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApLookup")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ApLookup {
    pub fn get(&self, bssid: MacAddr) -> Result<Option<ApRecord>, StoreError> {
        let run = || -> Result<Option<ApRecord>, Fault> {
            let v = self.table.get(bssid.to_u64())?;
            v.map(|v| decode("aps", bssid, v.value())).transpose()
        };
        run().map_err(|e| e.at(&self.path))
    }
}

impl Store {
    /// A snapshot for several reads that must agree with each other (an export).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let txn = self
            .db()
            .begin_read()
            .map_err(|e| StoreError::from_redb(self.path(), e))?;
        Ok(Snapshot {
            txn,
            path: self.path().to_path_buf(),
        })
    }

    /// [`Snapshot::for_each_observation`] on a fresh snapshot.
    pub fn for_each_observation<B>(
        &self,
        session: Option<u64>,
        f: impl FnMut(&Observation) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.snapshot()?.for_each_observation(session, f)
    }

    /// [`Snapshot::for_each_ap`] on a fresh snapshot.
    pub fn for_each_ap<B>(
        &self,
        f: impl FnMut(&ApRecord) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.snapshot()?.for_each_ap(f)
    }

    /// [`Snapshot::for_each_track_point`] on a fresh snapshot.
    pub fn for_each_track_point<B>(
        &self,
        range: impl RangeBounds<i64>,
        f: impl FnMut(&Fix) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.snapshot()?.for_each_track_point(range, f)
    }
}

/// Walks `range` of a table whose values are postcard records, decoding one row at a time.
fn walk<K, T, B>(
    rows: redb::Range<'_, K, &'static [u8]>,
    name: &'static str,
    key_text: impl Fn(K::SelfType<'_>) -> String,
    mut f: impl FnMut(T) -> ControlFlow<B>,
) -> Result<ControlFlow<B>, Fault>
where
    K: redb::Key + 'static,
    T: serde::de::DeserializeOwned,
{
    for entry in rows {
        let (k, v) = entry?;
        let record: T = match postcard::from_bytes(v.value()) {
            Ok(r) => r,
            Err(source) => {
                return Err(Fault::Decode {
                    table: name,
                    key: key_text(k.value()),
                    source,
                });
            }
        };
        if let ControlFlow::Break(b) = f(record) {
            return Ok(ControlFlow::Break(b));
        }
    }
    Ok(ControlFlow::Continue(()))
}

impl Snapshot {
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn run<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, Fault>,
    ) -> Result<T, StoreError> {
        f(&self.txn).map_err(|e| e.at(&self.path))
    }

    /// Every observation in sequence order, or only those of `session`. Memory stays constant:
    /// one decoded row at a time. Filtering by session scans the table (observations are keyed
    /// by sequence number), which is fine for an export that reads every row anyway.
    pub fn for_each_observation<B>(
        &self,
        session: Option<u64>,
        mut f: impl FnMut(&Observation) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(OBSERVATIONS)?;
            walk(
                t.iter()?,
                "observations",
                |k: u64| k.to_string(),
                |o: Observation| match session {
                    Some(s) if o.session_id != s => ControlFlow::Continue(()),
                    _ => f(&o),
                },
            )
        })
    }

    /// The observations numbered above `after_seq`, in sequence order (a key range: nothing
    /// below it is read). What an incremental upload walks.
    pub fn for_each_observation_after<B>(
        &self,
        after_seq: u64,
        mut f: impl FnMut(&Observation) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(OBSERVATIONS)?;
            walk(
                t.range((Bound::Excluded(after_seq), Bound::Unbounded))?,
                "observations",
                |k: u64| k.to_string(),
                |o: Observation| f(&o),
            )
        })
    }

    /// The highest observation seq in this snapshot (0 when there is none).
    pub fn last_observation_seq(&self) -> Result<u64, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(OBSERVATIONS)?;
            Ok(t.last()?.map_or(0, |(k, _)| k.value()))
        })
    }

    /// Every AP in BSSID order.
    pub fn for_each_ap<B>(
        &self,
        mut f: impl FnMut(&ApRecord) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(APS)?;
            walk(t.iter()?, "aps", mac_key, |ap: ApRecord| f(&ap))
        })
    }

    /// Track points whose time lies in `range` (Unix microseconds), oldest first.
    pub fn for_each_track_point<B>(
        &self,
        range: impl RangeBounds<i64>,
        mut f: impl FnMut(&Fix) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(TRACK)?;
            let range = (range.start_bound().cloned(), range.end_bound().cloned());
            walk(
                t.range(range)?,
                "track",
                |k: i64| k.to_string(),
                |p: Fix| f(&p),
            )
        })
    }

    /// The MAC of every AP or client observed in `session`, in MAC order, each once.
    pub fn for_each_mac_in_session<B>(
        &self,
        session: u64,
        mut f: impl FnMut(MacAddr) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(SESSION_MACS)?;
            for entry in t.range((session, 0)..=(session, u64::MAX))? {
                let (k, _) = entry?;
                if let ControlFlow::Break(b) = f(MacAddr::from_u64(k.value().1)) {
                    return Ok(ControlFlow::Break(b));
                }
            }
            Ok(ControlFlow::Continue(()))
        })
    }

    /// Every AP observed in `session`, in BSSID order (clients in the session are skipped).
    pub fn for_each_ap_in_session<B>(
        &self,
        session: u64,
        mut f: impl FnMut(&ApRecord) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        let aps = self.aps()?;
        let mut failure = None;
        let flow = self.for_each_mac_in_session(session, |mac| match aps.get(mac) {
            Ok(Some(ap)) => f(&ap).map_break(Ok),
            // A client MAC, or an index entry without its record: not an AP of this session.
            Ok(None) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(Err(()))
            }
        })?;
        match flow {
            ControlFlow::Continue(()) => Ok(ControlFlow::Continue(())),
            ControlFlow::Break(Ok(b)) => Ok(ControlFlow::Break(b)),
            ControlFlow::Break(Err(())) => Err(failure.expect("set before breaking")),
        }
    }

    /// Whether any observation of `mac` is stored (an index lookup, no scan).
    pub fn has_observations(&self, mac: MacAddr) -> Result<bool, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(OBSERVATIONS_BY_MAC)?;
            let m = mac.to_u64();
            let mut r = t.range((m, 0)..=(m, u64::MAX))?;
            Ok(r.next().transpose()?.is_some())
        })
    }

    /// AP lookups by BSSID within this snapshot.
    pub fn aps(&self) -> Result<ApLookup, StoreError> {
        let table = self.run(|txn| Ok(txn.open_table(APS)?))?;
        Ok(ApLookup {
            table,
            path: self.path.clone(),
        })
    }

    pub fn session(&self, id: u64) -> Result<Option<SessionRecord>, StoreError> {
        self.run(|txn| {
            let t = txn.open_table(SESSIONS)?;
            let v = t.get(id)?;
            v.map(|v| decode("sessions", id, v.value())).transpose()
        })
    }

    /// Every session, oldest (lowest id) first. Sessions are few (one per run), so they are
    /// collected.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut out = Vec::new();
        let t = self.run(|txn| Ok(txn.open_table(SESSIONS)?))?;
        let flow: ControlFlow<()> = self.run(|_| {
            walk(
                t.iter()?,
                "sessions",
                |k: u64| k.to_string(),
                |s| {
                    out.push(s);
                    ControlFlow::Continue(())
                },
            )
        })?;
        debug_assert!(flow.is_continue());
        Ok(out)
    }

    /// The time span of a session's GPS track: from its start to its end; a session that has
    /// no end (still running, or interrupted by a power cut) runs until the next session
    /// starts, else without bound. `None` when there is no such session.
    pub fn session_time_range(&self, id: u64) -> Result<Option<TimeRange>, StoreError> {
        let Some(s) = self.session(id)? else {
            return Ok(None);
        };
        let end = match s.ended_at {
            Some(end) => Bound::Included(end),
            None => {
                let next = self.run(|txn| {
                    let t = txn.open_table(SESSIONS)?;
                    let mut later = t.range(id.saturating_add(1)..)?;
                    match later.next() {
                        Some(entry) => {
                            let (k, v) = entry?;
                            let n: SessionRecord = decode("sessions", k.value(), v.value())?;
                            Ok(Some(n.started_at))
                        }
                        None => Ok(None),
                    }
                })?;
                next.map_or(Bound::Unbounded, Bound::Excluded)
            }
        };
        Ok(Some((Bound::Included(s.started_at), end)))
    }
}
