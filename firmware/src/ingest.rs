//! Capture files into the store: read records, decode, track, and commit in batches with a cursor per file.
//!
//! Each commit carries, with the records it changed, a cursor saying how many records of which
//! file it covers. A crash (power cut, SIGKILL) between commits therefore leaves the store
//! holding exactly the state after a prefix of the input, and says which prefix.

use crate::gps::log::{ReadOptions, WeekRollover, read_log_with, suggest_week_shift};
use crate::gps::track::Track;
use crate::model::{SessionRecord, TimeSource, TimeUs};
use crate::store::{SourceCursor, Store, StoreWriter};
use crate::tracker::{DecodeStats, Decoder, Input, Tracker};
use anyhow::Context;
use piwardrive_dot11::capfile::CapReader;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Records per batch: large enough that fsyncs do not dominate, small enough that a crash
/// loses little work and the batch stays a few MB at most.
pub const DEFAULT_BATCH_RECORDS: u64 = 50_000;

/// What happened to one file.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub records: u64,
    pub bytes: u64,
    pub stats: DecodeStats,
    /// The error that stopped reading the file (with its byte offset), if any.
    pub error: Option<String>,
}

/// Options for [`ingest_files`].
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub batch_records: u64,
    /// Print a line to stdout after each commit (`committed <file> records=<n>`), for tests
    /// that check nothing acknowledged is ever lost.
    pub print_commits: bool,
    pub progress: bool,
    /// A GPS log whose fixes are interpolated at each record's time.
    pub gps: Option<PathBuf>,
    /// Move the GPS log's dates by this many weeks (for logs with GPS week-rollover dates).
    pub gps_week_shift: Option<i64>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            batch_records: DEFAULT_BATCH_RECORDS,
            print_commits: false,
            progress: false,
            gps: None,
            gps_week_shift: None,
        }
    }
}

/// What the GPS log contributed to a run.
#[derive(Debug, Clone, Default)]
pub struct GpsSummary {
    /// The log reader's report (fixes, skipped lines and why), for printing.
    pub report: String,
    /// Records that got a position.
    pub positioned: u64,
    /// Records with a time, looked up in the track.
    pub looked_up: u64,
    /// When the log and the captures do not overlap: weeks by which moving the log would make
    /// them overlap (see [`crate::gps::log::suggest_week_shift`]).
    pub suggested_week_shift: Option<i64>,
}

/// Everything `ingest` reports.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
    pub gps: Option<GpsSummary>,
}

/// The track and its counters while ingesting.
struct GpsFeed {
    track: Track,
    summary: GpsSummary,
}

impl GpsFeed {
    /// Tells the tracker where the receiver was at the record's time: the interpolated fix,
    /// or no fix when the log does not cover that moment closely enough.
    fn feed(&mut self, tracker: &mut Tracker, ts_us: Option<TimeUs>) {
        let Some(t) = ts_us else { return };
        let fix = self.track.at(t);
        self.summary.looked_up += 1;
        self.summary.positioned += u64::from(fix.is_some());
        tracker.handle(Input::Fix(fix));
    }
}

/// The cursor key of a file: its path as given, made absolute so that the same file from
/// another working directory resumes the same cursor.
pub fn source_key(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}", abs.display())
}

/// Reads every file into the store, one session for the whole run. A file that fails is
/// reported and the others are still read; the returned reports say which failed.
pub fn ingest_files(
    store: &Store,
    files: &[PathBuf],
    opts: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    let mut gps = match &opts.gps {
        Some(path) => {
            let ro = ReadOptions {
                week_rollover: match opts.gps_week_shift {
                    Some(w) => WeekRollover::ShiftWeeks(w),
                    None => WeekRollover::Auto,
                },
                now_us: Some(now_us()),
            };
            let log = read_log_with(path, &ro)
                .with_context(|| format!("reading the GPS log {}", path.display()))?;
            Some(GpsFeed {
                summary: GpsSummary {
                    report: log.report.to_string(),
                    ..Default::default()
                },
                track: Track::new(log.fixes),
            })
        }
        None => None,
    };
    let session = SessionRecord::new(
        store.next_session_id()?,
        store.device_id(),
        // Replaced by the first record's time (the tracker takes the earliest it sees).
        now_us(),
        files.iter().map(|f| f.display().to_string()).collect(),
        TimeSource::CaptureFile,
    );
    let mut tracker = Tracker::new(
        session,
        store.next_observation_seq()?,
        store.all_aps()?,
        store.all_clients()?,
    );
    let writer = StoreWriter::spawn(store.clone());
    let mut reports = Vec::new();
    for path in files {
        let report = ingest_one(&writer, &mut tracker, gps.as_mut(), path, opts)
            .with_context(|| format!("writing {} into the store", path.display()))?;
        reports.push(report);
    }
    let session = tracker.session().clone();
    if let (Some(g), Some(end)) = (gps.as_mut(), session.ended_at)
        && g.summary.positioned == 0
        && let Some(span) = g.track.span()
    {
        g.summary.suggested_week_shift = suggest_week_shift(span, (session.started_at, end));
    }
    tracker.handle(Input::EndSession {
        now: session.ended_at.unwrap_or(0),
    });
    writer.send(tracker.take_batch())?;
    writer.finish()?;
    Ok(IngestReport {
        files: reports,
        gps: gps.map(|g| g.summary),
    })
}

fn ingest_one(
    writer: &StoreWriter,
    tracker: &mut Tracker,
    mut gps: Option<&mut GpsFeed>,
    path: &Path,
    opts: &IngestOptions,
) -> anyhow::Result<FileReport> {
    let key = source_key(path);
    let mut report = FileReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            report.error = Some(format!("cannot open: {e}"));
            return Ok(report);
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(opts.progress, size, path);
    let mut reader = match CapReader::new(BufReader::with_capacity(1 << 16, file)) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(e.to_string());
            return Ok(report);
        }
    };
    let mut decoder = Decoder::default();
    let mut since_commit = 0u64;
    let send = |tracker: &mut Tracker, records: u64, offset: u64, complete: bool| {
        let mut batch = tracker.take_batch();
        batch.cursors.push((
            key.clone(),
            SourceCursor {
                records,
                byte_offset: offset,
                complete,
            },
        ));
        writer.send(batch)?;
        if opts.print_commits {
            writer.flush()?;
            println!("committed {} records={records}", path.display());
        }
        anyhow::Ok(())
    };
    loop {
        let rec = match reader.next_record() {
            None => break,
            Some(Err(e)) => {
                report.error = Some(e.to_string());
                break;
            }
            Some(Ok(rec)) => rec,
        };
        report.records += 1;
        if let Some(g) = gps.as_deref_mut() {
            g.feed(tracker, rec.ts_us);
        }
        decoder.feed(&rec, |ev| tracker.handle(Input::Frame(ev)));
        since_commit += 1;
        if since_commit >= opts.batch_records {
            since_commit = 0;
            let pos = reader.position();
            send(tracker, report.records, pos, false)?;
            bar.set_position(pos);
        }
    }
    report.bytes = reader.position();
    send(
        tracker,
        report.records,
        report.bytes,
        report.error.is_none(),
    )?;
    bar.finish_and_clear();
    report.stats = decoder.stats();
    Ok(report)
}

/// The wall clock, for the one place ingest needs it: a session's start before any record.
pub fn now_us() -> TimeUs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as TimeUs)
        .unwrap_or(0)
}

fn progress_bar(enabled: bool, size: u64, path: &Path) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(path.display().to_string());
    bar
}

/// Reads a whole capture from memory (the demo's bundled files), calling `f` per record.
pub fn for_each_record<R: Read>(
    r: R,
    mut f: impl FnMut(&piwardrive_dot11::capfile::Record<'_>),
) -> Result<u64, piwardrive_dot11::capfile::CapError> {
    let mut reader = CapReader::new(r)?;
    let mut n = 0;
    while let Some(rec) = reader.next_record() {
        f(&rec?);
        n += 1;
    }
    Ok(n)
}
