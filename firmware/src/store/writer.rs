//! The one store writer: an OS thread that group-commits queued batches, durably, in order.
//!
//! Why a thread and not a tokio task: a commit blocks on fsync for tens of milliseconds on an
//! SD card, and the writer must keep going while the async runtime is busy or shutting down.
//! The queue is a bounded channel so a slow card pushes back on the tracker instead of growing
//! memory without limit.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use redb::{Durability, ReadableTable, Table, WriteTransaction};

use super::schema::{
    APS, APS_BY_FIRST_SEEN, APS_BY_LAST_SEEN, CLIENTS, CURSORS, NET_STAMPS, NET_STREAM,
    OBSERVATIONS, OBSERVATIONS_BY_MAC, SESSION_MACS, SESSIONS, TRACK,
};
use super::{Batch, Fault, Store, StoreError, decode, encode};
use crate::model::ApRecord;

/// Batches that may wait in the queue before `send` blocks. The tracker sends about one batch
/// a second, so this is half a minute of slack for a slow or stalled card.
const QUEUE_CAPACITY: usize = 32;

/// At most this many batches go into one transaction, which bounds a commit's size and memory
/// after a long stall. It equals the queue size so one commit can empty a full queue.
const MAX_BATCHES_PER_COMMIT: usize = QUEUE_CAPACITY;

/// Totals over the writer's life.
#[derive(Debug, Clone, Default)]
pub struct WriterStats {
    pub commits: u64,
    pub batches: u64,
    pub aps_written: u64,
    pub observations_written: u64,
}

/// The free space the writer leaves on the store's file system, in bytes (0: none). Shared
/// with whoever may change it while the writer runs (the settings page): every commit reads
/// it afresh.
#[derive(Debug, Clone, Default)]
pub struct Reserve(Arc<AtomicU64>);

impl Reserve {
    pub fn new(bytes: u64) -> Reserve {
        Reserve(Arc::new(AtomicU64::new(bytes)))
    }

    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, bytes: u64) {
        self.0.store(bytes, Ordering::Relaxed);
    }
}

/// Why the writer stopped, kept in a form that can be handed to every later caller.
#[derive(Debug, Clone)]
enum Failure {
    DiskFull,
    /// Free space fell below the reserve before a commit.
    Reserve {
        free_mb: u64,
        reserve_mb: u64,
    },
    Other(String),
}

impl Failure {
    fn from_error(err: &StoreError) -> Failure {
        match err {
            StoreError::DiskFull { .. } => Failure::DiskFull,
            StoreError::ReserveReached {
                free_mb,
                reserve_mb,
                ..
            } => Failure::Reserve {
                free_mb: *free_mb,
                reserve_mb: *reserve_mb,
            },
            _ => Failure::Other(err.to_string()),
        }
    }

    fn to_error(&self, path: &std::path::Path) -> StoreError {
        match self {
            Failure::DiskFull => StoreError::DiskFull {
                path: path.to_path_buf(),
            },
            Failure::Reserve {
                free_mb,
                reserve_mb,
            } => StoreError::ReserveReached {
                path: path.to_path_buf(),
                free_mb: *free_mb,
                reserve_mb: *reserve_mb,
            },
            Failure::Other(reason) => StoreError::WriterStopped {
                path: path.to_path_buf(),
                reason: reason.clone(),
            },
        }
    }
}

#[derive(Debug)]
struct StatusInner {
    path: PathBuf,
    running: AtomicBool,
    commits: AtomicU64,
    batches: AtomicU64,
    aps_written: AtomicU64,
    observations_written: AtomicU64,
    queued: AtomicU64,
    /// Unix microseconds of the last successful commit, 0 before the first.
    last_commit_us: AtomicI64,
    failure: Mutex<Option<Failure>>,
}

impl StatusInner {
    fn failure(&self) -> Option<Failure> {
        // A poisoned lock only means a panic elsewhere while holding it; the value is still a
        // plain Option, so read it anyway rather than panic here too.
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn fail(&self, failure: Failure) {
        let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        // The first failure is the cause; later ones are consequences.
        if slot.is_none() {
            *slot = Some(failure);
        }
    }

    /// The error to give a caller once the writer is gone.
    fn stopped_error(&self) -> StoreError {
        self.failure()
            .unwrap_or_else(|| Failure::Other("the writer has been shut down".into()))
            .to_error(&self.path)
    }
}

/// A cheap, clonable view of the writer's state for the UI; reading it never blocks the writer.
#[derive(Clone, Debug)]
pub struct WriterStatus {
    inner: Arc<StatusInner>,
}

/// One consistent-enough reading of [`WriterStatus`] (each field is read atomically).
#[derive(Debug, Clone, Default)]
pub struct WriterStatusSnapshot {
    /// The thread is alive and accepting batches.
    pub running: bool,
    pub commits: u64,
    pub batches: u64,
    pub aps_written: u64,
    pub observations_written: u64,
    /// Batches sent but not yet taken into a commit.
    pub queued: u64,
    /// Unix microseconds of the last successful commit.
    pub last_commit_us: Option<i64>,
    /// Why writing stopped (e.g. disk full), as the message to show.
    pub error: Option<String>,
}

impl WriterStatus {
    pub fn snapshot(&self) -> WriterStatusSnapshot {
        let i = &self.inner;
        let last = i.last_commit_us.load(Ordering::Relaxed);
        WriterStatusSnapshot {
            running: i.running.load(Ordering::Relaxed),
            commits: i.commits.load(Ordering::Relaxed),
            batches: i.batches.load(Ordering::Relaxed),
            aps_written: i.aps_written.load(Ordering::Relaxed),
            observations_written: i.observations_written.load(Ordering::Relaxed),
            queued: i.queued.load(Ordering::Relaxed),
            last_commit_us: (last != 0).then_some(last),
            error: self.last_error(),
        }
    }

    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    pub fn is_running(&self) -> bool {
        self.inner.running.load(Ordering::Relaxed)
    }

    /// The message of the error that stopped the writer, if one did.
    pub fn last_error(&self) -> Option<String> {
        self.inner
            .failure()
            .map(|f| f.to_error(&self.inner.path).to_string())
    }

    fn stats(&self) -> WriterStats {
        let i = &self.inner;
        WriterStats {
            commits: i.commits.load(Ordering::Relaxed),
            batches: i.batches.load(Ordering::Relaxed),
            aps_written: i.aps_written.load(Ordering::Relaxed),
            observations_written: i.observations_written.load(Ordering::Relaxed),
        }
    }
}

enum Msg {
    Batch(Batch),
    /// Answered once everything queued before it is committed.
    Flush(SyncSender<Result<(), Failure>>),
}

/// The one writer: its own OS thread, fed by a bounded channel.
///
/// `send` and `flush` block (on a full queue, on the commit); from async code call them via
/// `tokio::task::spawn_blocking` or `block_in_place`. The handle is `Sync`, so several tasks can
/// share it behind an `Arc`.
pub struct StoreWriter {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    status: WriterStatus,
}

impl StoreWriter {
    /// A writer without a free-space reserve (it writes until the disk is full).
    pub fn spawn(store: Store) -> StoreWriter {
        StoreWriter::spawn_with_reserve(store, Reserve::default())
    }

    /// A writer that, before each commit, reads the free space of the store's file system
    /// (statvfs, as the dashboard does) and stops, as on a full disk, when it is below
    /// `reserve`. Nothing stored is touched: recording stops, the data stays.
    pub fn spawn_with_reserve(store: Store, reserve: Reserve) -> StoreWriter {
        let (tx, rx) = mpsc::sync_channel(QUEUE_CAPACITY);
        let status = WriterStatus {
            inner: Arc::new(StatusInner {
                path: store.path().to_path_buf(),
                running: AtomicBool::new(true),
                commits: AtomicU64::new(0),
                batches: AtomicU64::new(0),
                aps_written: AtomicU64::new(0),
                observations_written: AtomicU64::new(0),
                queued: AtomicU64::new(0),
                last_commit_us: AtomicI64::new(0),
                failure: Mutex::new(None),
            }),
        };
        let thread_status = status.inner.clone();
        let spawned = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(store, rx, thread_status, reserve));
        let thread = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                // Without a thread the receiver is gone, so every send reports this reason.
                status.inner.fail(Failure::Other(format!(
                    "could not start the writer thread: {e}"
                )));
                status.inner.running.store(false, Ordering::Relaxed);
                None
            }
        };
        StoreWriter {
            tx: Some(tx),
            thread,
            status,
        }
    }

    /// Queues a batch; blocks while the queue is full; `Err` if the writer has stopped (e.g.
    /// disk full), saying why. `Ok` means queued, not yet durable: use [`flush`](Self::flush).
    pub fn send(&self, batch: Batch) -> Result<(), StoreError> {
        let inner = &self.status.inner;
        if let Some(f) = inner.failure() {
            return Err(f.to_error(&inner.path));
        }
        let Some(tx) = &self.tx else {
            return Err(inner.stopped_error());
        };
        inner.queued.fetch_add(1, Ordering::Relaxed);
        // try_send first so the common case does not block; a full queue then waits.
        let sent = match tx.try_send(Msg::Batch(batch)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg)) => tx.send(msg).map_err(|_| ()),
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        sent.map_err(|()| {
            inner.queued.fetch_sub(1, Ordering::Relaxed);
            inner.stopped_error()
        })
    }

    /// Returns once everything sent before it is committed (durably), or the error that
    /// stopped the writer.
    pub fn flush(&self) -> Result<(), StoreError> {
        let inner = &self.status.inner;
        if let Some(f) = inner.failure() {
            return Err(f.to_error(&inner.path));
        }
        let Some(tx) = &self.tx else {
            return Err(inner.stopped_error());
        };
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        tx.send(Msg::Flush(reply_tx))
            .map_err(|_| inner.stopped_error())?;
        match reply_rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(f)) => Err(f.to_error(&inner.path)),
            // The writer dropped the request: it stopped before reaching it.
            Err(_) => Err(inner.stopped_error()),
        }
    }

    /// Flushes, stops the thread, returns totals.
    pub fn finish(mut self) -> Result<WriterStats, StoreError> {
        let flushed = self.flush();
        self.stop();
        flushed.map(|()| self.status.stats())
    }

    /// A handle the UI can poll.
    pub fn status(&self) -> WriterStatus {
        self.status.clone()
    }

    /// Closes the queue and waits for the thread, which commits what was queued before it
    /// exits (so stopping is also a flush).
    fn stop(&mut self) {
        drop(self.tx.take());
        if let Some(handle) = self.thread.take()
            && handle.join().is_err()
        {
            self.status
                .inner
                .fail(Failure::Other("the writer thread panicked".into()));
        }
    }
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("status", &self.status.snapshot())
            .finish_non_exhaustive()
    }
}

impl Drop for StoreWriter {
    /// Commits everything queued and stops the thread; errors are already in the status.
    fn drop(&mut self) {
        self.stop();
    }
}

/// Marks the writer stopped however the thread ends, including by a panic.
struct RunningGuard(Arc<StatusInner>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0
                .fail(Failure::Other("the writer thread panicked (a bug)".into()));
        }
        self.0.running.store(false, Ordering::Relaxed);
    }
}

fn run(store: Store, rx: Receiver<Msg>, status: Arc<StatusInner>, reserve: Reserve) {
    let _guard = RunningGuard(status.clone());
    // `recv` fails only once every sender is gone and the queue is empty: a clean stop after
    // everything sent has been committed.
    while let Ok(first) = rx.recv() {
        let mut batches = Vec::new();
        let mut waiters = Vec::new();
        // Group commit: whatever queued up while the last commit was syncing goes into this
        // one. Whole batches only, so a batch is never split across commits.
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Batch(b) => batches.push(b),
                Msg::Flush(reply) => waiters.push(reply),
            }
            next = if batches.len() < MAX_BATCHES_PER_COMMIT {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        let n = batches.len() as u64;
        status.queued.fetch_sub(n, Ordering::Relaxed);

        let result = if batches.iter().all(Batch::is_empty) {
            // Nothing to write: no commit, no fsync; a flush is answered at once.
            Ok(())
        } else if let Some(short) = below_reserve(store.path(), reserve.bytes()) {
            Err(short.to_error(store.path()))
        } else {
            commit(&store, &batches).map_err(|f| f.at(store.path()))
        };
        match result {
            Ok(()) => {
                // Committed: the network list's rows follow before anyone is told.
                if batches.iter().any(|b| !b.aps.is_empty()) {
                    store.ap_rows_committed(batches.iter().flat_map(|b| &b.aps));
                }
                status.batches.fetch_add(n, Ordering::Relaxed);
                if batches.iter().any(|b| !b.is_empty()) {
                    status.commits.fetch_add(1, Ordering::Relaxed);
                    status.last_commit_us.store(now_us(), Ordering::Relaxed);
                }
                let aps: usize = batches.iter().map(|b| b.aps.len()).sum();
                let obs: usize = batches.iter().map(|b| b.observations.len()).sum();
                status.aps_written.fetch_add(aps as u64, Ordering::Relaxed);
                status
                    .observations_written
                    .fetch_add(obs as u64, Ordering::Relaxed);
                for w in waiters {
                    // A waiter that gave up is no concern of ours.
                    let _ = w.send(Ok(()));
                }
            }
            Err(err) => {
                // Stop for good: after a failed commit redb refuses further writes on this
                // handle (it cannot know what reached the disk), and the committed file is
                // intact. Below the reserve nothing was attempted, but recording stays
                // stopped the same way, so that the card is never filled a batch at a time
                // while space comes and goes. Dropping `rx` on return wakes blocked senders
                // with the reason.
                tracing::error!(error = %err, "store writer stopped");
                let failure = Failure::from_error(&err);
                status.fail(failure.clone());
                for w in waiters {
                    let _ = w.send(Err(failure.clone()));
                }
                return;
            }
        }
    }
}

/// The reserve failure when the file system holding `path` has less than `reserve` bytes
/// free for an unprivileged writer. A reading that fails passes: the commit then meets the
/// disk itself, and a full disk stops the writer anyway.
fn below_reserve(path: &std::path::Path, reserve: u64) -> Option<Failure> {
    if reserve == 0 {
        return None;
    }
    let dir = path.parent().unwrap_or(path);
    let (_, free) = crate::system::disk_space(dir)?;
    const MB: u64 = 1024 * 1024;
    (free < reserve).then_some(Failure::Reserve {
        free_mb: free / MB,
        reserve_mb: reserve.div_ceil(MB),
    })
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Writes `batches` in one durable transaction.
fn commit(store: &Store, batches: &[Batch]) -> Result<(), Fault> {
    let mut txn = store.db().begin_write()?;
    // Every commit is fsynced before it is acknowledged (redb's default, stated here because the
    // whole "a power cut loses at most one window" promise rests on it).
    txn.set_durability(Durability::Immediate)?;
    // Quick repair stores the allocator state with each commit, so the first open after a
    // power cut is instant instead of a full walk of the file; commits cost a little more,
    // which group commit pays once per window.
    txn.set_quick_repair(true);
    {
        let mut t = Tables::open(&txn)?;
        for batch in batches {
            t.apply(batch)?;
        }
    }
    txn.commit()?;
    Ok(())
}

/// The tables one commit writes, opened once per transaction.
pub(crate) struct Tables<'txn> {
    aps: Table<'txn, u64, &'static [u8]>,
    by_first: Table<'txn, (i64, u64), ()>,
    by_last: Table<'txn, (i64, u64), ()>,
    clients: Table<'txn, u64, &'static [u8]>,
    observations: Table<'txn, u64, &'static [u8]>,
    obs_by_mac: Table<'txn, (u64, u64), ()>,
    sessions: Table<'txn, u64, &'static [u8]>,
    cursors: Table<'txn, &'static str, &'static [u8]>,
    track: Table<'txn, i64, &'static [u8]>,
    session_macs: Table<'txn, (u64, u64), ()>,
    net_stamps: Table<'txn, u64, u64>,
    net_stream: Table<'txn, u64, u64>,
    /// The next stamp of the network stream, read on the first AP written.
    next_stamp: Option<u64>,
}

impl<'txn> Tables<'txn> {
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Tables<'txn>, Fault> {
        Ok(Tables {
            aps: txn.open_table(APS)?,
            by_first: txn.open_table(APS_BY_FIRST_SEEN)?,
            by_last: txn.open_table(APS_BY_LAST_SEEN)?,
            clients: txn.open_table(CLIENTS)?,
            observations: txn.open_table(OBSERVATIONS)?,
            obs_by_mac: txn.open_table(OBSERVATIONS_BY_MAC)?,
            sessions: txn.open_table(SESSIONS)?,
            cursors: txn.open_table(CURSORS)?,
            track: txn.open_table(TRACK)?,
            session_macs: txn.open_table(SESSION_MACS)?,
            net_stamps: txn.open_table(NET_STAMPS)?,
            net_stream: txn.open_table(NET_STREAM)?,
            next_stamp: None,
        })
    }

    /// Applies one batch. Records are upserts: the last write of a key wins.
    pub(crate) fn apply(&mut self, batch: &Batch) -> Result<(), Fault> {
        for ap in &batch.aps {
            self.put_ap(ap)?;
        }
        for c in &batch.clients {
            let bytes = encode("clients", c.mac, c)?;
            self.clients.insert(c.mac.to_u64(), bytes.as_slice())?;
        }
        for o in &batch.observations {
            let bytes = encode("observations", o.seq, o)?;
            let old_mac = match self.observations.insert(o.seq, bytes.as_slice())? {
                // Only the MAC matters here; if the old row does not decode, its index
                // entry cannot be found, and readers skip index entries that do not match.
                Some(old) => {
                    decode::<crate::model::Observation>("observations", o.seq, old.value())
                        .ok()
                        .map(|old| old.mac.to_u64())
                }
                None => None,
            };
            let mac = o.mac.to_u64();
            if let Some(old_mac) = old_mac.filter(|&m| m != mac) {
                self.obs_by_mac.remove((old_mac, o.seq))?;
            }
            self.obs_by_mac.insert((mac, o.seq), ())?;
            // The session index only grows: a rewritten observation that moved to another
            // session leaves its old entry, which readers tolerate (they look the record up
            // and a network seen once in a session stays "seen in" it).
            self.session_macs.insert((o.session_id, mac), ())?;
        }
        for shift in &batch.time_shifts {
            self.shift_observations(shift)?;
        }
        for fix in &batch.track {
            // Keyed by time: a second fix with the same microsecond replaces the first.
            let bytes = encode("track", fix.time_us, fix)?;
            self.track.insert(fix.time_us, bytes.as_slice())?;
        }
        for s in &batch.sessions {
            let bytes = encode("sessions", s.id, s)?;
            self.sessions.insert(s.id, bytes.as_slice())?;
        }
        for (key, cursor) in &batch.cursors {
            let bytes = encode("cursors", format!("{key:?}"), cursor)?;
            self.cursors.insert(key.as_str(), bytes.as_slice())?;
        }
        Ok(())
    }

    /// Applies a [`super::TimeShift`]. One device runs one session at a time, so the
    /// session's observations are the run of sequence numbers just below `before_seq`: walk
    /// back until another session's observation.
    fn shift_observations(&mut self, shift: &super::TimeShift) -> Result<(), Fault> {
        let mut shifted = Vec::new();
        for row in self.observations.range(..shift.before_seq)?.rev() {
            let (k, v) = row?;
            let mut o: crate::model::Observation = decode("observations", k.value(), v.value())?;
            if o.session_id != shift.session_id {
                break;
            }
            o.time += shift.offset_us;
            shifted.push(o);
        }
        for o in shifted {
            let bytes = encode("observations", o.seq, &o)?;
            self.observations.insert(o.seq, bytes.as_slice())?;
        }
        Ok(())
    }

    /// Upserts an AP and moves its index entries when its times changed.
    fn put_ap(&mut self, ap: &ApRecord) -> Result<(), Fault> {
        let key = ap.bssid.to_u64();
        let bytes = encode("aps", ap.bssid, ap)?;
        let old_times = match self.aps.insert(key, bytes.as_slice())? {
            Some(old) => match decode::<ApRecord>("aps", ap.bssid, old.value()) {
                Ok(old) => Some((old.first_seen, old.last_seen)),
                Err(e) => {
                    // Overwriting an undecodable record heals it; its stale index entries (if
                    // any) are ignored by readers because they no longer match the record.
                    tracing::warn!(bssid = %ap.bssid, error = ?e, "replacing an AP record that did not decode");
                    None
                }
            },
            None => None,
        };
        if let Some((first, last)) = old_times {
            if first != ap.first_seen {
                self.by_first.remove((first, key))?;
            }
            if last != ap.last_seen {
                self.by_last.remove((last, key))?;
            }
        }
        self.by_first.insert((ap.first_seen, key), ())?;
        self.by_last.insert((ap.last_seen, key), ())?;
        self.stamp_network(key)
    }

    /// Gives the network the next stamp of the stream sync sends summaries from, replacing
    /// its previous one: whatever changed in the record, the hub gets it again.
    fn stamp_network(&mut self, key: u64) -> Result<(), Fault> {
        let stamp = match self.next_stamp {
            Some(s) => s,
            None => self.net_stream.last()?.map_or(1, |(k, _)| k.value() + 1),
        };
        self.next_stamp = Some(stamp + 1);
        if let Some(old) = self.net_stamps.insert(key, stamp)? {
            let old = old.value();
            self.net_stream.remove(old)?;
        }
        self.net_stream.insert(stamp, key)?;
        Ok(())
    }
}
