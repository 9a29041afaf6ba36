//! GPS log files (gpspipe -w JSON, raw NMEA, GPX) read into fixes.
//!
//! [`read_log`] and [`read_log_with`] take a file, find out by its content (never its name)
//! which of three formats it is, and return the fixes in it:
//!
//! - **gpspipe -w JSON lines**: TPV objects with mode 2 or 3 and a `time`. Other classes (SKY,
//!   DEVICE, VERSION, WATCH...) are counted and passed over; a TPV without a fix or without a
//!   time is counted and skipped. gpsd 3.22 emits both on every replay.
//! - **NMEA 0183** (a serial log, `gpspipe -r`, or gpsd's regression logs with `#` comments).
//!   NMEA gives only the time of day in most sentences, so sentences are grouped into epochs by
//!   that time of day; the date comes from RMC (the most recent valid RMC, moved by a day when
//!   the time of day wraps past midnight). A position comes from RMC (status A, and a mode
//!   indicator that is not N/E/S), else GLL (the same), else GGA (quality 1-5), the order gpsd
//!   uses; altitude and HDOP come from the epoch's GGA. Checksums are verified whenever present; a sentence with a wrong one is
//!   counted and dropped.
//! - **GPX** 1.0/1.1 from phone apps: `trkpt` and `rtept` with `lat`/`lon` attributes and
//!   `time`, `ele`, `hdop` children. See the `gpx` section below for the XML subset we read.
//!
//! Accuracy is never 0 (WiGLE reads 0 as "exact"): gpsd's `eph` when it gives one, else
//! `sqrt(epx² + epy²)`, else the last SKY's HDOP × 15 m; for NMEA, GST's standard deviations
//! as a 2DRMS radius when the receiver sends GST, else GGA's HDOP × 15 m; for GPX, HDOP × 15 m
//! (95% radii, the convention of `crate::gps` for every source).
//! A fix with no accuracy information at all gets [`ASSUMED_ACCURACY_M`], and the report says
//! how many did.
//!
//! One bad line never aborts a file: it is counted by reason in the [`GpsLogReport`], and the
//! first few are kept with their line and byte offset. A file with no usable fix is an error
//! ([`GpsLogError::NoFix`]) that says why.
//!
//! ## The GPS week rollover and gpsd 3.22
//!
//! GPS broadcasts a 10-bit week number, so every receiver and every daemon has to guess which
//! 1024-week era it is in. gpsd 3.22 guesses from its build date, so an NMEA log recorded before
//! 2019 and replayed through it comes out exactly 1024 weeks (7168 days, about 19.6 years) late:
//! bt451.log, recorded on 2009-12-09, reads as 2029-07-25. The NMEA logs themselves carry their
//! true dates (RMC's two-digit year, read as 1980-2079), so nothing is done to them.
//!
//! For gpspipe JSON, [`WeekRollover::Auto`] moves a fix back by 1024 weeks only on proof that its
//! date cannot be right: the fix is more than [`ROLLOVER_EVIDENCE_US`] (30 days) later than the
//! DEVICE `activated` stamp that gpsd wrote from the system clock when it opened the receiver
//! (a gpspipe log records fixes as they arrive, so they cannot run years ahead of that stamp),
//! or later than [`ReadOptions::now_us`]. Every such move is counted and explained in
//! [`GpsLogReport::week_shift`]. A replay whose dates lie *before* the activation stamp (haicom,
//! 2007, reads as 2026-11-22 and was replayed on 2026-11-27) cannot be told apart from a true
//! date by the file alone; the report then carries a note, and [`suggest_week_shift`] lets the
//! caller decide with one more fact: the time span of the capture the log is meant to position.
//! [`WeekRollover::ShiftWeeks`] applies a shift the user asked for, to every format.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::{Fix, TimeUs};

// Accuracy radii follow one convention for every GPS source (see `crate::gps`).
pub use super::{
    HDOP_UERE_95_M as HDOP_TO_METRES, MIN_ACCURACY_M, UNKNOWN_ACCURACY_M as ASSUMED_ACCURACY_M,
};

/// 1024 GPS weeks in microseconds: the length of one GPS week-number era.
pub const GPS_ERA_US: i64 = 1024 * 7 * 86_400 * 1_000_000;

/// How far a gpspipe fix may run ahead of gpsd's DEVICE activation stamp before its date is
/// taken to be a week-rollover error (see the module documentation).
pub const ROLLOVER_EVIDENCE_US: i64 = 30 * 86_400 * 1_000_000;

/// 2019-04-07T00:00:00Z, the second GPS week rollover. An activation stamp before it comes from
/// an unset clock (a Pi without an RTC boots in 1970) and proves nothing about fix dates.
const SECOND_ROLLOVER_US: i64 = 1_554_595_200 * 1_000_000;

/// Longest line kept by the line-based readers. A gpsd SKY object with 40 satellites is about
/// 5 KiB and an NMEA sentence at most 82 bytes, so anything longer is not a GPS log line.
const MAX_LINE: usize = 64 * 1024;

/// GPX files are read whole; a day at 1 Hz is about 15 MB, so this leaves a wide margin while
/// keeping a Pi Zero 2 W (512 MB) safe from a hostile file.
pub const MAX_GPX_BYTES: u64 = 256 << 20;

/// How many problems the report keeps with their location.
const MAX_EXAMPLES: usize = 10;

/// How much of the file the format detection looks at.
const DETECT_BYTES: usize = 64 * 1024;

/// The formats [`read_log`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `gpspipe -w` output: one gpsd JSON object per line.
    GpspipeJson,
    /// NMEA 0183 sentences, one per line, `#` comment lines allowed.
    Nmea,
    /// GPX 1.0 or 1.1.
    Gpx,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::GpspipeJson => "gpspipe -w JSON",
            LogFormat::Nmea => "NMEA 0183",
            LogFormat::Gpx => "GPX",
        })
    }
}

/// What to do about GPS week-rollover errors in the dates of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeekRollover {
    /// Move gpspipe fixes back 1024 weeks only when their date is provably impossible, and say
    /// so in the report (see the module documentation). NMEA and GPX dates are left alone.
    #[default]
    Auto,
    /// Never change a date.
    Off,
    /// Move every fix of the file by this many weeks (usually -1024), whatever its format.
    ShiftWeeks(i64),
}

/// Options for [`read_log_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub week_rollover: WeekRollover,
    /// The current time, when the caller knows it. A fix more than a day after it cannot be
    /// true: with [`WeekRollover::Auto`] a gpspipe fix is moved back an era, and a fix still in
    /// the future after that is skipped.
    pub now_us: Option<TimeUs>,
}

/// Where in a file something was found: 1-based line number and 0-based byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: u64,
    pub byte: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} (byte {})", self.line, self.byte)
    }
}

/// Why a line, a sentence, an epoch or a point gave no fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// A gpsd object of another class (SKY, DEVICE, VERSION, WATCH...).
    OtherClass,
    /// An NMEA sentence that carries neither a position nor a date (GSV, VTG, GSA, ZDA...).
    UnusedSentence,
    /// The receiver said it had no fix (TPV mode 0/1, RMC status V, GGA quality 0).
    NoFix,
    /// A fix without a time (a TPV without `time`, a GPX point without `<time>`).
    NoTime,
    /// An NMEA position read before any RMC date, with none following closely.
    NoDate,
    /// An NMEA sentence whose checksum is wrong.
    BadChecksum,
    /// A line that is not valid JSON, not an NMEA sentence, or a GPX point that is not well formed.
    Malformed,
    /// A value out of range or unreadable (latitude 91, `NaN`, 25 o'clock, an unknown entity).
    BadValue,
    /// A line longer than any GPS log line.
    LineTooLong,
    /// A GPX waypoint: a place someone marked, not a place the receiver was at that time.
    Waypoint,
    /// A fix dated more than a day after [`ReadOptions::now_us`].
    InFuture,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::OtherClass => "gpsd objects of other classes",
            SkipReason::UnusedSentence => "NMEA sentences without position or date",
            SkipReason::NoFix => "no fix (receiver not fixed)",
            SkipReason::NoTime => "fixes without a time",
            SkipReason::NoDate => "NMEA positions without a date",
            SkipReason::BadChecksum => "bad NMEA checksums",
            SkipReason::Malformed => "malformed",
            SkipReason::BadValue => "bad values",
            SkipReason::LineTooLong => "lines too long",
            SkipReason::Waypoint => "GPX waypoints (not track points)",
            SkipReason::InFuture => "fixes dated in the future",
        })
    }
}

/// One problem, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: Location,
    pub reason: SkipReason,
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.detail)
    }
}

/// A change of dates the reader made, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekShift {
    /// Weeks added to the fixes' times (-1024 for gpsd 3.22's late dates).
    pub weeks: i64,
    /// How many fixes were moved.
    pub fixes: u64,
    /// The evidence, in words.
    pub why: String,
}

/// What was read from a log, for the command line to print.
#[derive(Debug, Clone, PartialEq)]
pub struct GpsLogReport {
    pub path: PathBuf,
    pub format: LogFormat,
    /// Lines in the file (for GPX too).
    pub lines: u64,
    /// Fixes returned.
    pub fixes: u64,
    /// Comment (`#`) and blank lines.
    pub comments: u64,
    /// Lines (JSON, NMEA), NMEA epochs (NoDate) or GPX points (GPX) skipped, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// The first few problems worth showing, with their location. Routine skips (other gpsd
    /// classes, unused NMEA sentences, no fix yet) are counted but not listed.
    pub examples: Vec<Problem>,
    /// Fixes that had no accuracy information and got [`ASSUMED_ACCURACY_M`].
    pub assumed_accuracy: u64,
    /// Dates the reader moved, if it did.
    pub week_shift: Option<WeekShift>,
    /// Set when a structural error stopped the reading early (only GPX: after a broken tag
    /// the rest of an XML file cannot be trusted). The fixes before it are kept.
    pub stopped_early: Option<Problem>,
    /// Anything else the user should know (a suspected replay of an old log, for one).
    pub notes: Vec<String>,
    /// Earliest and latest fix time.
    pub span: Option<(TimeUs, TimeUs)>,
}

impl GpsLogReport {
    fn new(path: &Path, format: LogFormat) -> Self {
        GpsLogReport {
            path: path.to_path_buf(),
            format,
            lines: 0,
            fixes: 0,
            comments: 0,
            skipped: BTreeMap::new(),
            examples: Vec::new(),
            assumed_accuracy: 0,
            week_shift: None,
            stopped_early: None,
            notes: Vec::new(),
            span: None,
        }
    }

    /// Counts a skip; unusual ones are also kept as examples.
    fn skip(&mut self, reason: SkipReason, at: Location, detail: impl FnOnce() -> String) {
        *self.skipped.entry(reason).or_insert(0) += 1;
        let routine = matches!(
            reason,
            SkipReason::OtherClass | SkipReason::UnusedSentence | SkipReason::NoFix
        );
        if !routine && self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Problem {
                at,
                reason,
                detail: detail(),
            });
        }
    }

    /// Total of everything skipped.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The number skipped for one reason.
    pub fn skipped_for(&self, reason: SkipReason) -> u64 {
        self.skipped.get(&reason).copied().unwrap_or(0)
    }

    /// A one-line summary of the skips, for messages.
    fn skip_summary(&self) -> String {
        if self.skipped.is_empty() {
            return "nothing skipped".to_string();
        }
        let parts: Vec<String> = self
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        format!("skipped {}", parts.join(", "))
    }
}

impl fmt::Display for GpsLogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} log, {} lines, {} fixes",
            self.path.display(),
            self.format,
            self.lines,
            self.fixes
        )?;
        if let Some((a, b)) = self.span {
            write!(f, " from {} to {}", format_time(a), format_time(b))?;
        }
        writeln!(f)?;
        writeln!(f, "  {}", self.skip_summary())?;
        if self.assumed_accuracy > 0 {
            writeln!(
                f,
                "  {} fixes had no accuracy in the log and were given {ASSUMED_ACCURACY_M} m",
                self.assumed_accuracy
            )?;
        }
        if let Some(s) = &self.week_shift {
            writeln!(
                f,
                "  moved {} fixes by {} weeks: {}",
                s.fixes, s.weeks, s.why
            )?;
        }
        if let Some(p) = &self.stopped_early {
            writeln!(f, "  stopped reading at {p}")?;
        }
        for p in &self.examples {
            writeln!(f, "  {p}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

/// The fixes of a log and the report of reading it.
#[derive(Debug, Clone)]
pub struct GpsLog {
    /// Fixes in the order of the file (not sorted, not deduplicated: [`super::track::Track`]
    /// does that).
    pub fixes: Vec<Fix>,
    pub report: GpsLogReport,
}

/// Errors that stop a log from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum GpsLogError {
    #[error("cannot read GPS log {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}: not a GPS log this reader knows (gpspipe -w JSON, NMEA 0183 or GPX); {at}: {snippet:?}",
        path.display()
    )]
    UnknownFormat {
        path: PathBuf,
        at: Location,
        snippet: String,
    },
    #[error("{}: {what}", path.display())]
    Unsupported { path: PathBuf, what: String },
    #[error(
        "{}: the GPX file is {size} bytes, more than the {limit}-byte limit; split it into days",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{}: no usable fix in this {format} log: {why}", path.display())]
    NoFix {
        path: PathBuf,
        format: LogFormat,
        why: String,
        report: Box<GpsLogReport>,
    },
}

/// Reads a GPS log with the default options and returns its fixes in file order.
pub fn read_log(path: &Path) -> Result<Vec<Fix>, GpsLogError> {
    read_log_with(path, &ReadOptions::default()).map(|log| log.fixes)
}

/// Reads a GPS log and returns its fixes with the report of what was read.
pub fn read_log_with(path: &Path, opts: &ReadOptions) -> Result<GpsLog, GpsLogError> {
    let file = File::open(path).map_err(|source| GpsLogError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_log(file, path, opts)
}

/// Reads a GPS log from any reader; `name` is used in messages. This is what [`read_log_with`]
/// does after opening the file, and what tests and fuzzers call with bytes.
pub fn parse_log<R: Read>(
    mut reader: R,
    name: &Path,
    opts: &ReadOptions,
) -> Result<GpsLog, GpsLogError> {
    let io_err = |source| GpsLogError::Io {
        path: name.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(DETECT_BYTES);
    (&mut reader)
        .take(DETECT_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let format = detect(&head, name)?;
    let mut log = match format {
        LogFormat::Gpx => {
            let mut all = head;
            (&mut reader)
                .take(MAX_GPX_BYTES + 1 - all.len() as u64)
                .read_to_end(&mut all)
                .map_err(io_err)?;
            if all.len() as u64 > MAX_GPX_BYTES {
                return Err(GpsLogError::TooLarge {
                    path: name.to_path_buf(),
                    size: all.len() as u64,
                    limit: MAX_GPX_BYTES,
                });
            }
            gpx::parse(&all, name)
        }
        LogFormat::GpspipeJson | LogFormat::Nmea => {
            let lines = Lines::new(BufReader::new(io::Cursor::new(head).chain(reader)));
            if format == LogFormat::Nmea {
                nmea::parse(lines, name)
            } else {
                json::parse(lines, name, opts)
            }
            .map_err(io_err)?
        }
    };
    apply_options(&mut log, opts);
    finish(log)
}

/// Applies the user's week shift and drops fixes from the future.
fn apply_options(log: &mut GpsLog, opts: &ReadOptions) {
    if let WeekRollover::ShiftWeeks(weeks) = opts.week_rollover
        && weeks != 0
    {
        let by = weeks.saturating_mul(7 * 86_400 * 1_000_000);
        for f in &mut log.fixes {
            f.time_us = f.time_us.saturating_add(by);
        }
        log.report.week_shift = Some(WeekShift {
            weeks,
            fixes: log.fixes.len() as u64,
            why: "asked for by the caller".to_string(),
        });
    }
    if let Some(now) = opts.now_us {
        let limit = now.saturating_add(86_400 * 1_000_000);
        let before = log.fixes.len();
        log.fixes.retain(|f| f.time_us <= limit);
        let dropped = before - log.fixes.len();
        if dropped > 0 {
            *log.report.skipped.entry(SkipReason::InFuture).or_insert(0) += dropped as u64;
            log.report.notes.push(format!(
                "{dropped} fixes were dated more than a day after the current time ({}) and were dropped",
                format_time(now)
            ));
        }
    }
}

/// Fills in the summary fields, or turns an empty result into an error.
fn finish(mut log: GpsLog) -> Result<GpsLog, GpsLogError> {
    log.report.fixes = log.fixes.len() as u64;
    log.report.span = log
        .fixes
        .iter()
        .map(|f| f.time_us)
        .fold(None, |acc, t| match acc {
            None => Some((t, t)),
            Some((a, b)) => Some((a.min(t), b.max(t))),
        });
    if log.fixes.is_empty() {
        let r = &log.report;
        let mut why = r.skip_summary();
        if let Some(p) = &r.stopped_early {
            why = format!("{why}; stopped at {p}");
        } else if let Some(p) = r.examples.first() {
            why = format!("{why}; first problem at {p}");
        }
        return Err(GpsLogError::NoFix {
            path: r.path.clone(),
            format: r.format,
            why,
            report: Box::new(log.report),
        });
    }
    Ok(log)
}

/// Looks at the beginning of a file and says which format it is.
fn detect(head: &[u8], name: &Path) -> Result<LogFormat, GpsLogError> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err(GpsLogError::Unsupported {
            path: name.to_path_buf(),
            what: "the file is UTF-16; save it as UTF-8".to_string(),
        });
    }
    let first = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Err(GpsLogError::Empty {
            path: name.to_path_buf(),
        });
    };
    if body[first] == b'<' {
        return Ok(LogFormat::Gpx);
    }
    // Line by line: comments and blank lines say nothing; the first line that looks like a
    // JSON object or carries an NMEA sentence decides. A serial log may start in the middle of
    // a sentence, so a few undecided lines are allowed before giving up.
    let mut byte = head.len() - body.len();
    let mut undecided: Option<(Location, String)> = None;
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let at = Location {
            line: i as u64 + 1,
            byte: byte as u64,
        };
        byte += raw.len() + 1;
        let line = raw.trim_ascii();
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if line[0] == b'{' {
            return Ok(LogFormat::GpspipeJson);
        }
        if line[0] == b'$' || line[0] == b'!' || nmea::find_start(line).is_some() {
            return Ok(LogFormat::Nmea);
        }
        if undecided.is_none() {
            undecided = Some((
                at,
                String::from_utf8_lossy(&line[..line.len().min(60)]).into(),
            ));
        }
        if i > 50 {
            break;
        }
    }
    let (at, snippet) = undecided.unwrap_or_default();
    Err(GpsLogError::UnknownFormat {
        path: name.to_path_buf(),
        at,
        snippet,
    })
}

/// A line reader that never holds more than [`MAX_LINE`] bytes and knows where it is.
struct Lines<R> {
    r: R,
    buf: Vec<u8>,
    line: u64,
    byte: u64,
}

/// One line: its location, and whether it was cut at [`MAX_LINE`].
struct LineInfo {
    at: Location,
    too_long: bool,
}

impl<R: BufRead> Lines<R> {
    fn new(r: R) -> Self {
        Lines {
            r,
            buf: Vec::new(),
            line: 0,
            byte: 0,
        }
    }

    /// Reads the next line into `self.buf` without its line ending.
    fn next_line(&mut self) -> io::Result<Option<LineInfo>> {
        self.buf.clear();
        let start = self.byte;
        let mut too_long = false;
        let mut any = false;
        loop {
            let avail = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (&avail[..i + 1], true),
                None => (avail, false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if chunk.len() > room {
                too_long = true;
                self.buf.extend_from_slice(&chunk[..room]);
            } else {
                self.buf.extend_from_slice(chunk);
            }
            let n = chunk.len();
            self.r.consume(n);
            self.byte += n as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some(LineInfo {
            at: Location {
                line: self.line,
                byte: start,
            },
            too_long,
        }))
    }
}

/// Accuracy from a measured value, or the assumed one (counted) when there is none.
fn accuracy_or_assumed(measured: Option<f64>, report: &mut GpsLogReport) -> f64 {
    match measured {
        Some(a) => a.max(MIN_ACCURACY_M),
        None => {
            report.assumed_accuracy += 1;
            ASSUMED_ACCURACY_M
        }
    }
}

/// A strictly positive, finite number, or nothing: receivers write 0 or 99.99 for "unknown"
/// HDOP, and 0 must never become an accuracy.
fn positive(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite() && *v > 0.0)
}

/// A latitude and longitude in range, or why not.
fn check_position(lat: f64, lon: f64) -> Result<(f64, f64), String> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(format!("latitude {lat} out of range"));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(format!("longitude {lon} out of range"));
    }
    Ok((lat, lon))
}

/// Altitudes beyond these are not a receiver on the ground, in a car or on a plane.
fn check_altitude(alt: f64) -> Option<f64> {
    (alt.is_finite() && (-1_000.0..=100_000.0).contains(&alt)).then_some(alt)
}

// ---------------------------------------------------------------------------------------------
// Time.

/// Days from 1970-01-01 to a date of the proceeding Gregorian calendar.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Count years from March, so that the leap day is the last day of the counted year and
    // the month lengths before it follow a fixed pattern (153 days per 5 months).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day counted from 1970-01-01 (the inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A date as days since 1970, if it is a real date in the years a GPS log can have.
fn date_days(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1980..=2200).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Formats Unix microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (fraction only when non-zero).
pub fn format_time(t_us: TimeUs) -> String {
    let secs = t_us.div_euclid(1_000_000);
    let micros = t_us.rem_euclid(1_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let base = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if micros == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{micros:06}Z")
    }
}

/// Reads `n` ASCII digits at `s[i..]`.
fn digits(s: &[u8], i: usize, n: usize) -> Option<u32> {
    let part = s.get(i..i + n)?;
    let mut v = 0u32;
    for &b in part {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// Reads a fraction of a second (`.` already consumed) as microseconds, and how many bytes it
/// took. Digits past the sixth are read and dropped.
fn fraction_us(s: &[u8]) -> Option<(i64, usize)> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 12 {
        return None;
    }
    let mut us = 0i64;
    for k in 0..6 {
        us = us * 10
            + s.get(k)
                .filter(|_| k < n)
                .map_or(0, |b| i64::from(b - b'0'));
    }
    Some((us, n))
}

/// Parses an ISO 8601 / RFC 3339 date-time (`2018-08-20T09:47:41.000Z`, offsets `+02:00` or
/// `+0200`, or no zone, which GPX defines as UTC) into Unix microseconds.
pub fn parse_iso8601(text: &str) -> Result<TimeUs, String> {
    let bad = || format!("bad date-time {:?}", truncate(text, 40));
    let s = text.trim().as_bytes();
    if s.len() < 19 || s.len() > 40 {
        return Err(bad());
    }
    let year = digits(s, 0, 4).ok_or_else(bad)?;
    let month = digits(s, 5, 2).ok_or_else(bad)?;
    let day = digits(s, 8, 2).ok_or_else(bad)?;
    let hour = digits(s, 11, 2).ok_or_else(bad)?;
    let minute = digits(s, 14, 2).ok_or_else(bad)?;
    let second = digits(s, 17, 2).ok_or_else(bad)?;
    if s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    if s[13] != b':' || s[16] != b':' || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let days = date_days(i64::from(year), month, day)
        .ok_or_else(|| format!("date out of range in {:?}", truncate(text, 40)))?;
    let mut i = 19;
    let mut frac = 0;
    if s.get(i) == Some(&b'.') {
        let (us, n) = fraction_us(&s[i + 1..]).ok_or_else(bad)?;
        frac = us;
        i += 1 + n;
    }
    let offset_s: i64 = match s.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == s.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            let (h, m) = match rest.len() {
                5 if rest[2] == b':' => (digits(rest, 0, 2), digits(rest, 3, 2)),
                4 => (digits(rest, 0, 2), digits(rest, 2, 2)),
                2 => (digits(rest, 0, 2), Some(0)),
                _ => (None, None),
            };
            let (h, m) = (h.ok_or_else(bad)?, m.ok_or_else(bad)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let v = i64::from(h * 3600 + m * 60);
            if sign == b'-' { -v } else { v }
        }
        _ => return Err(bad()),
    };
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_s;
    Ok(secs * 1_000_000 + frac)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What to tell a caller whose capture does not overlap its GPS log: the number of weeks (a
/// whole number of 1024-week GPS eras, ±1 or ±2) by which moving the log would make the two
/// overlap, when they do not overlap as they are. `None` when they already overlap or no
/// such shift helps.
///
/// This is the decisive test for gpsd 3.22's late dates in a replayed gpspipe log: a log from
/// 2007 read as 2026 overlaps nothing from 2007, and overlaps the capture once moved back one
/// era. The caller should say what it did with the answer (apply it, or print it as advice).
pub fn suggest_week_shift(log: (TimeUs, TimeUs), capture: (TimeUs, TimeUs)) -> Option<i64> {
    let overlaps = |shift: i64| {
        let (a, b) = (log.0.saturating_add(shift), log.1.saturating_add(shift));
        a <= capture.1 && capture.0 <= b
    };
    if overlaps(0) {
        return None;
    }
    [-1i64, 1, -2, 2]
        .into_iter()
        .find(|&eras| overlaps(eras * GPS_ERA_US))
        .map(|eras| eras * 1024)
}

// ---------------------------------------------------------------------------------------------
// gpspipe -w JSON.

mod json {
    use super::*;

    /// A fix and the most recent gpsd activation stamp before it.
    struct Pending {
        fix: Fix,
        activated: Option<TimeUs>,
    }

    pub(super) fn parse<R: BufRead>(
        mut lines: Lines<R>,
        name: &Path,
        opts: &ReadOptions,
    ) -> io::Result<GpsLog> {
        let mut report = GpsLogReport::new(name, LogFormat::GpspipeJson);
        let mut pending: Vec<Pending> = Vec::new();
        let mut last_hdop: Option<f64> = None;
        let mut activated: Option<TimeUs> = None;
        while let Some(info) = lines.next_line()? {
            let at = info.at;
            if info.too_long {
                report.skip(SkipReason::LineTooLong, at, || {
                    format!("line longer than {MAX_LINE} bytes")
                });
                continue;
            }
            let line = lines.buf.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                report.comments += 1;
                continue;
            }
            let v: Value = match serde_json::from_slice(line) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    report.skip(SkipReason::Malformed, at, || "not a JSON object".into());
                    continue;
                }
                Err(e) => {
                    report.skip(SkipReason::Malformed, at, || format!("not JSON: {e}"));
                    continue;
                }
            };
            match v.get("class").and_then(Value::as_str) {
                Some("TPV") => {}
                Some("SKY") => {
                    // Kept for TPVs that carry no error estimate of their own.
                    if let Some(h) = positive(v.get("hdop").and_then(Value::as_f64)) {
                        last_hdop = Some(h);
                    }
                    report.skip(SkipReason::OtherClass, at, String::new);
                    continue;
                }
                Some("DEVICE") => {
                    // `activated` is an ISO time when a device opens, and 0 when it goes away.
                    if let Some(t) = v.get("activated").and_then(Value::as_str)
                        && let Ok(t) = parse_iso8601(t)
                    {
                        activated = Some(t);
                    }
                    report.skip(SkipReason::OtherClass, at, String::new);
                    continue;
                }
                _ => {
                    report.skip(SkipReason::OtherClass, at, String::new);
                    continue;
                }
            }
            let mode = v.get("mode").and_then(Value::as_u64).unwrap_or(0);
            if mode < 2 {
                report.skip(SkipReason::NoFix, at, String::new);
                continue;
            }
            let time = match v.get("time") {
                None | Some(Value::Null) => {
                    report.skip(SkipReason::NoTime, at, || {
                        format!("TPV with mode {mode} but no time")
                    });
                    continue;
                }
                Some(Value::String(s)) => parse_iso8601(s),
                // gpsd 2.x wrote Unix seconds as a number.
                Some(Value::Number(n)) => n
                    .as_f64()
                    .filter(|s| s.is_finite() && (3.2e8..7.3e9).contains(s))
                    .map(|s| (s * 1e6).round() as i64)
                    .ok_or_else(|| format!("bad time {n}")),
                Some(other) => Err(format!("bad time {other}")),
            };
            let time_us = match time {
                Ok(t) => t,
                Err(e) => {
                    report.skip(SkipReason::BadValue, at, || e);
                    continue;
                }
            };
            let lat = v.get("lat").and_then(Value::as_f64);
            let lon = v.get("lon").and_then(Value::as_f64);
            let (lat, lon) = match (lat, lon) {
                (Some(lat), Some(lon)) => match check_position(lat, lon) {
                    Ok(p) => p,
                    Err(e) => {
                        report.skip(SkipReason::BadValue, at, || e);
                        continue;
                    }
                },
                _ => {
                    report.skip(SkipReason::Malformed, at, || {
                        format!("TPV with mode {mode} but no lat/lon")
                    });
                    continue;
                }
            };
            // Altitude above mean sea level, like NMEA's GGA; only a 3D fix has one.
            let alt_m = if mode >= 3 {
                v.get("altMSL")
                    .or_else(|| v.get("alt"))
                    .and_then(Value::as_f64)
                    .and_then(check_altitude)
            } else {
                None
            };
            let num = |k: &str| positive(v.get(k).and_then(Value::as_f64));
            let measured = num("eph")
                .or_else(|| match (num("epx"), num("epy")) {
                    (Some(x), Some(y)) => Some(x.hypot(y)),
                    _ => None,
                })
                .or_else(|| last_hdop.map(|h| h * HDOP_TO_METRES));
            let accuracy_m = accuracy_or_assumed(measured, &mut report);
            pending.push(Pending {
                fix: Fix {
                    lat,
                    lon,
                    alt_m,
                    accuracy_m,
                    time_us,
                },
                activated,
            });
        }
        report.lines = lines.line;
        let fixes = resolve_rollover(pending, &mut report, opts);
        Ok(GpsLog { fixes, report })
    }

    /// Applies [`WeekRollover::Auto`] to gpspipe fixes (see the module documentation).
    fn resolve_rollover(
        pending: Vec<Pending>,
        report: &mut GpsLogReport,
        opts: &ReadOptions,
    ) -> Vec<Fix> {
        let auto = opts.week_rollover == WeekRollover::Auto;
        let future_limit = opts.now_us.map(|n| n.saturating_add(86_400 * 1_000_000));
        let mut moved = 0u64;
        let mut by_activation = false;
        let mut older_than_recording: Option<(TimeUs, TimeUs)> = None;
        let mut fixes = Vec::with_capacity(pending.len());
        for Pending { mut fix, activated } in pending {
            let activated = activated.filter(|&a| a >= SECOND_ROLLOVER_US);
            let after_activation =
                activated.is_some_and(|a| fix.time_us > a.saturating_add(ROLLOVER_EVIDENCE_US));
            let after_now = future_limit.is_some_and(|l| fix.time_us > l);
            if auto && (after_activation || after_now) {
                fix.time_us -= GPS_ERA_US;
                moved += 1;
                by_activation |= after_activation;
            } else if let Some(a) = activated
                && fix.time_us < a - 86_400 * 1_000_000
                && older_than_recording.is_none()
            {
                older_than_recording = Some((fix.time_us, a));
            }
            fixes.push(fix);
        }
        if moved > 0 {
            let why = if by_activation {
                "their dates were more than 30 days after gpsd's DEVICE activation stamp, which \
                 a live recording cannot produce; this is gpsd's GPS week-rollover error on a \
                 replayed log from before 2019"
            } else {
                "their dates were in the future; this is a GPS week-rollover error"
            };
            report.week_shift = Some(WeekShift {
                weeks: -1024,
                fixes: moved,
                why: why.to_string(),
            });
        }
        if let Some((t, a)) = older_than_recording {
            report.notes.push(format!(
                "fixes are dated before gpsd opened the receiver ({} against {}), so this is a \
                 replay of an older log; if that log predates 2019, gpsd 3.22 dated it 1024 weeks \
                 late and its true dates are 1024 weeks earlier",
                format_time(t),
                format_time(a)
            ));
        }
        fixes
    }
}

// ---------------------------------------------------------------------------------------------
// NMEA 0183.

mod nmea {
    use std::collections::VecDeque;

    use super::*;

    /// How many epochs are kept open for sentences that arrive out of order. Receivers send
    /// one epoch after another, but some (the B&G plotter in bundg_zeus_9.log) send the GGA of
    /// second N after the RMC of second N+1.
    const OPEN_EPOCHS: usize = 3;

    /// Microseconds in a day and half a day, for midnight handling.
    const DAY_US: i64 = 86_400 * 1_000_000;

    /// What one sentence said.
    #[derive(Debug, PartialEq)]
    pub(super) enum Sentence {
        /// A valid RMC: time of day, date (days since 1970), position.
        Rmc {
            tod: i64,
            date: i64,
            lat: f64,
            lon: f64,
        },
        /// A GGA with a fix.
        Gga {
            tod: i64,
            lat: f64,
            lon: f64,
            hdop: Option<f64>,
            alt: Option<f64>,
        },
        /// A valid GLL: time of day and position.
        Gll { tod: i64, lat: f64, lon: f64 },
        /// GST: standard deviations of latitude and longitude error, metres.
        Gst { tod: i64, lat_sd: f64, lon_sd: f64 },
    }

    /// Why a line gave no sentence we use.
    #[derive(Debug, PartialEq)]
    pub(super) struct NotUsed(pub SkipReason, pub String);

    /// One second (or tenth, or fifth) of receiver output.
    #[derive(Default)]
    struct Epoch {
        tod: i64,
        at: Location,
        date: Option<i64>,
        rmc: Option<(f64, f64)>,
        gll: Option<(f64, f64)>,
        gga: Option<(f64, f64, Option<f64>, Option<f64>)>,
        gst: Option<f64>,
    }

    /// Finds where a sentence starts in a line with leading noise: the last `$` followed by a
    /// five-character address and a comma.
    pub(super) fn find_start(line: &[u8]) -> Option<usize> {
        (0..line.len()).rev().find(|&i| {
            line[i] == b'$'
                && line.len() > i + 6
                && line[i + 1..i + 6].iter().all(u8::is_ascii_alphanumeric)
                && line[i + 6] == b','
        })
    }

    pub(super) fn parse<R: BufRead>(mut lines: Lines<R>, name: &Path) -> io::Result<GpsLog> {
        let mut report = GpsLogReport::new(name, LogFormat::Nmea);
        let mut open: VecDeque<Epoch> = VecDeque::new();
        let mut fixes = Vec::new();
        // The latest valid RMC date and its time of day.
        let mut date_ref: Option<(i64, i64)> = None;
        while let Some(info) = lines.next_line()? {
            let at = info.at;
            if info.too_long {
                report.skip(SkipReason::LineTooLong, at, || {
                    format!("line longer than {MAX_LINE} bytes")
                });
                continue;
            }
            let line = lines.buf.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                report.comments += 1;
                continue;
            }
            let sentence = match sentence(line) {
                Ok(s) => s,
                Err(NotUsed(reason, detail)) => {
                    report.skip(reason, at, || detail);
                    continue;
                }
            };
            let tod = match sentence {
                Sentence::Rmc { tod, .. }
                | Sentence::Gll { tod, .. }
                | Sentence::Gga { tod, .. }
                | Sentence::Gst { tod, .. } => tod,
            };
            let idx = match open.iter().position(|e| e.tod == tod) {
                Some(i) => i,
                None => {
                    if open.len() == OPEN_EPOCHS
                        && let Some(done) = open.pop_front()
                    {
                        close(done, date_ref, &mut fixes, &mut report);
                    }
                    open.push_back(Epoch {
                        tod,
                        at,
                        ..Epoch::default()
                    });
                    open.len() - 1
                }
            };
            let epoch = &mut open[idx];
            match sentence {
                Sentence::Rmc { date, lat, lon, .. } => {
                    epoch.date = Some(date);
                    epoch.rmc = Some((lat, lon));
                    date_ref = Some((date, tod));
                }
                Sentence::Gll { lat, lon, .. } => epoch.gll = Some((lat, lon)),
                Sentence::Gga {
                    lat,
                    lon,
                    hdop,
                    alt,
                    ..
                } => epoch.gga = Some((lat, lon, hdop, alt)),
                Sentence::Gst { lat_sd, lon_sd, .. } => {
                    // Twice the distance RMS: the radius holding about 95% of fixes, the
                    // same confidence as gpsd's eph.
                    epoch.gst = positive(Some(2.0 * lat_sd.hypot(lon_sd)));
                }
            }
        }
        while let Some(done) = open.pop_front() {
            close(done, date_ref, &mut fixes, &mut report);
        }
        report.lines = lines.line;
        Ok(GpsLog { fixes, report })
    }

    /// Turns a finished epoch into a fix, if it has a position and a date.
    fn close(
        e: Epoch,
        date_ref: Option<(i64, i64)>,
        fixes: &mut Vec<Fix>,
        report: &mut GpsLogReport,
    ) {
        // Receivers normally send one position per epoch in RMC, GLL and GGA alike, but some
        // do not: the B&G plotter in bundg_zeus_9.log stamps its GGA a second ahead of the RMC
        // and GLL with the same position. Then we take the position the way gpsd does (RMC,
        // else GLL, else GGA), so that a log read from a file gives the track the appliance
        // would have seen live through gpsd. RMC is also the one sentence that states date,
        // time and position together. GGA still gives the altitude and HDOP of its epoch.
        let (hdop, alt) = e.gga.map_or((None, None), |g| (g.2, g.3));
        let (lat, lon) = match (e.rmc.or(e.gll), e.gga) {
            (Some(p), _) => p,
            (None, Some(g)) => (g.0, g.1),
            // Only a GST: nothing to place.
            (None, None) => return,
        };
        let date = match (e.date, date_ref) {
            (Some(d), _) => d,
            (None, Some((d, ref_tod))) => {
                // The reference date belongs to another time of day; more than half a day
                // apart means midnight lies between the two.
                if e.tod < ref_tod - DAY_US / 2 {
                    d + 1
                } else if e.tod > ref_tod + DAY_US / 2 {
                    d - 1
                } else {
                    d
                }
            }
            (None, None) => {
                report.skip(SkipReason::NoDate, e.at, || {
                    "position before any valid RMC gave the date".to_string()
                });
                return;
            }
        };
        let measured = e.gst.or_else(|| hdop.map(|h| h * HDOP_TO_METRES));
        let accuracy_m = accuracy_or_assumed(measured, report);
        fixes.push(Fix {
            lat,
            lon,
            alt_m: alt,
            accuracy_m,
            time_us: date * DAY_US + e.tod,
        });
    }

    /// Checks and splits one line into the fields of its sentence.
    pub(super) fn sentence(raw: &[u8]) -> Result<Sentence, NotUsed> {
        let start = if raw[0] == b'$' || raw[0] == b'!' {
            0
        } else {
            find_start(raw).ok_or_else(|| NotUsed(SkipReason::Malformed, not_nmea(raw)))?
        };
        let line = &raw[start..];
        if !line.iter().all(|b| (0x20..0x7f).contains(b)) {
            return Err(NotUsed(SkipReason::Malformed, not_nmea(raw)));
        }
        let body = match line.iter().rposition(|&b| b == b'*') {
            Some(star) => {
                let body = &line[1..star];
                let given = line[star + 1..].trim_ascii();
                let want = body.iter().fold(0u8, |acc, b| acc ^ b);
                let ok = given.len() == 2
                    && std::str::from_utf8(given)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        == Some(want);
                if !ok {
                    return Err(NotUsed(
                        SkipReason::BadChecksum,
                        format!(
                            "checksum {:?} where {want:02X} was computed: {}",
                            String::from_utf8_lossy(given),
                            String::from_utf8_lossy(&line[..line.len().min(82)])
                        ),
                    ));
                }
                body
            }
            None => &line[1..],
        };
        // Printable ASCII was checked above, so this cannot fail.
        let body =
            std::str::from_utf8(body).map_err(|_| NotUsed(SkipReason::Malformed, not_nmea(raw)))?;
        let f: Vec<&str> = body.split(',').collect();
        let addr = f[0];
        if addr.len() != 5 || addr.starts_with('P') {
            return Err(NotUsed(SkipReason::UnusedSentence, String::new()));
        }
        let bad = |what: &str| {
            NotUsed(
                SkipReason::BadValue,
                format!("{what} in {}", truncate(body, 82)),
            )
        };
        let field = |i: usize| f.get(i).copied().unwrap_or("");
        match &addr[2..] {
            "RMC" => {
                if field(2) != "A" {
                    return Err(NotUsed(SkipReason::NoFix, String::new()));
                }
                // NMEA 2.3 adds a mode indicator: N (not valid), E (dead reckoning) and S
                // (simulator) are not measured positions.
                if matches!(field(12), "N" | "E" | "S") {
                    return Err(NotUsed(SkipReason::NoFix, String::new()));
                }
                let tod = time_of_day(field(1)).ok_or_else(|| bad("bad time"))?;
                let date = date_ddmmyy(field(9)).ok_or_else(|| bad("bad date"))?;
                let (lat, lon) = position(&f, 3).map_err(|e| bad(&e))?;
                Ok(Sentence::Rmc {
                    tod,
                    date,
                    lat,
                    lon,
                })
            }
            "GLL" => {
                // lat, N/S, lon, E/W, time, status, and in NMEA 2.3 a mode indicator.
                if field(6) != "A" || matches!(field(7), "N" | "E" | "S") {
                    return Err(NotUsed(SkipReason::NoFix, String::new()));
                }
                let tod = time_of_day(field(5)).ok_or_else(|| bad("bad time"))?;
                let (lat, lon) = position(&f, 1).map_err(|e| bad(&e))?;
                Ok(Sentence::Gll { tod, lat, lon })
            }
            "GGA" => {
                // 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float; 6 (dead reckoning), 7
                // (manual input) and 8 (simulator) are not measurements.
                let quality = field(6);
                if !matches!(quality, "1" | "2" | "3" | "4" | "5") {
                    if quality.is_empty() || matches!(quality, "0" | "6" | "7" | "8") {
                        return Err(NotUsed(SkipReason::NoFix, String::new()));
                    }
                    return Err(bad("bad fix quality"));
                }
                let tod = time_of_day(field(1)).ok_or_else(|| bad("bad time"))?;
                let (lat, lon) = position(&f, 2).map_err(|e| bad(&e))?;
                let hdop = number(field(8));
                // Receivers write 99.99 for "unknown", which is no accuracy at all.
                let hdop = positive(hdop).filter(|h| *h < 99.0);
                let alt = if field(10).is_empty() || field(10) == "M" {
                    number(field(9)).and_then(check_altitude)
                } else {
                    None
                };
                Ok(Sentence::Gga {
                    tod,
                    lat,
                    lon,
                    hdop,
                    alt,
                })
            }
            "GST" => {
                let tod = time_of_day(field(1)).ok_or_else(|| bad("bad time"))?;
                match (number(field(6)), number(field(7))) {
                    (Some(lat_sd), Some(lon_sd)) if lat_sd >= 0.0 && lon_sd >= 0.0 => {
                        Ok(Sentence::Gst {
                            tod,
                            lat_sd,
                            lon_sd,
                        })
                    }
                    _ => Err(NotUsed(SkipReason::UnusedSentence, String::new())),
                }
            }
            _ => Err(NotUsed(SkipReason::UnusedSentence, String::new())),
        }
    }

    fn not_nmea(raw: &[u8]) -> String {
        format!(
            "not an NMEA sentence: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(60)])
        )
    }

    /// A plain decimal number (no `inf`, `NaN`, hex or exponent: NMEA has none of them).
    pub(super) fn number(s: &str) -> Option<f64> {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        let ok = !digits.is_empty()
            && digits.len() <= 20
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
            && digits.bytes().any(|b| b.is_ascii_digit());
        if !ok {
            return None;
        }
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// `hhmmss` or `hhmmss.sss` as microseconds into the day.
    pub(super) fn time_of_day(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() < 6 {
            return None;
        }
        let (h, m, sec) = (digits(b, 0, 2)?, digits(b, 2, 2)?, digits(b, 4, 2)?);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let frac = match b.get(6) {
            None => 0,
            Some(b'.') if b.len() == 7 => 0,
            Some(b'.') => {
                let (us, n) = fraction_us(&b[7..])?;
                if 7 + n != b.len() {
                    return None;
                }
                us
            }
            Some(_) => return None,
        };
        Some(i64::from(h * 3600 + m * 60 + sec) * 1_000_000 + frac)
    }

    /// `ddmmyy` as days since 1970; two-digit years 80-99 are 1980-1999 and 00-79 are
    /// 2000-2079 (GPS did not exist before 1980).
    pub(super) fn date_ddmmyy(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() != 6 {
            return None;
        }
        let (d, m, y) = (digits(b, 0, 2)?, digits(b, 2, 2)?, digits(b, 4, 2)?);
        let year = if y >= 80 { 1900 + y } else { 2000 + y };
        date_days(i64::from(year), m, d)
    }

    /// Latitude and longitude from the four fields starting at `i`
    /// (`ddmm.mmmm,N,dddmm.mmmm,E`).
    fn position(f: &[&str], i: usize) -> Result<(f64, f64), String> {
        let get = |k: usize| f.get(i + k).copied().unwrap_or("");
        let lat = angle(get(0), 2).ok_or("bad latitude")?;
        let lon = angle(get(2), 3).ok_or("bad longitude")?;
        let lat = match get(1) {
            "N" => lat,
            "S" => -lat,
            _ => return Err("bad latitude hemisphere".into()),
        };
        let lon = match get(3) {
            "E" => lon,
            "W" => -lon,
            _ => return Err("bad longitude hemisphere".into()),
        };
        check_position(lat, lon)
    }

    /// Degrees from NMEA's degrees-and-minutes (`deg_digits` digits of degrees, then minutes).
    fn angle(s: &str, deg_digits: usize) -> Option<f64> {
        let int_len = s.find('.').unwrap_or(s.len());
        if int_len != deg_digits + 2 || s.starts_with(['-', '+']) {
            return None;
        }
        let v = number(s)?;
        let deg = (v / 100.0).trunc();
        let min = v - deg * 100.0;
        (min < 60.0).then(|| deg + min / 60.0)
    }
}

// ---------------------------------------------------------------------------------------------
// GPX.

/// The GPX reader: a small, strict, bounds-checked XML reader for the subset GPX needs.
///
/// It reads elements, attributes, character data, CDATA sections, comments, processing
/// instructions and the XML declaration, the five predefined entities and character
/// references. It refuses what GPX never needs and what makes XML dangerous: a DOCTYPE with
/// an internal subset (entity declarations, the "billion laughs"), any other named entity,
/// nesting deeper than [`gpx::MAX_DEPTH`]. Element names are matched by local name, so
/// `<gpx:trkpt>` and a default namespace both work; everything inside `<extensions>` and any
/// element we do not know is skipped.
///
/// A problem inside one point (a missing or out-of-range `lat`, a bad time, an unknown entity
/// in a value) skips that point. A structural error (a tag left open, a mismatched end tag,
/// text after the root) stops the reading there: the points before it are kept, and the
/// report says where it stopped.
mod gpx {
    use super::*;

    /// Deepest element nesting accepted; GPX needs 5 (gpx/trk/trkseg/trkpt/ele) plus whatever
    /// extensions add.
    pub(super) const MAX_DEPTH: usize = 64;

    /// Longest value (ele, time, hdop, an attribute) read; none of them needs more.
    const MAX_VALUE: usize = 256;

    /// An XML event.
    enum Event<'a> {
        Start {
            name: &'a [u8],
            attrs: &'a [u8],
            empty: bool,
        },
        End {
            name: &'a [u8],
        },
        Text(&'a [u8]),
        CData(&'a [u8]),
        Eof,
    }

    /// A structural error at a byte offset.
    struct XmlError {
        at: usize,
        msg: String,
    }

    struct Reader<'a> {
        s: &'a [u8],
        pos: usize,
    }

    fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    }

    fn is_name_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
    }

    impl<'a> Reader<'a> {
        /// The next event, and the byte offset where it starts.
        fn next(&mut self) -> Result<(usize, Event<'a>), XmlError> {
            loop {
                let s = self.s;
                let start = self.pos;
                if start >= s.len() {
                    return Ok((start, Event::Eof));
                }
                let err = |msg: &str| XmlError {
                    at: start,
                    msg: msg.to_string(),
                };
                if s[start] != b'<' {
                    let end = find(s, b"<", start).unwrap_or(s.len());
                    self.pos = end;
                    return Ok((start, Event::Text(&s[start..end])));
                }
                let rest = &s[start..];
                if rest.starts_with(b"<!--") {
                    let end =
                        find(s, b"-->", start + 4).ok_or_else(|| err("comment never closed"))?;
                    self.pos = end + 3;
                    continue;
                }
                if rest.starts_with(b"<![CDATA[") {
                    let end = find(s, b"]]>", start + 9)
                        .ok_or_else(|| err("CDATA section never closed"))?;
                    self.pos = end + 3;
                    return Ok((start, Event::CData(&s[start + 9..end])));
                }
                if rest.starts_with(b"<!DOCTYPE") {
                    // Only a DOCTYPE without an internal subset is skipped: the subset is
                    // where entities are declared, and expanding them is how XML files blow
                    // up memory or read local files.
                    let mut i = start + 9;
                    loop {
                        match s.get(i) {
                            None => return Err(err("DOCTYPE never closed")),
                            Some(b'[') => {
                                return Err(err(
                                    "a DOCTYPE with declarations (entities) is not accepted in a GPX file",
                                ));
                            }
                            Some(b'>') => break,
                            Some(_) => i += 1,
                        }
                    }
                    self.pos = i + 1;
                    continue;
                }
                if rest.starts_with(b"<!") {
                    return Err(err("unknown markup declaration"));
                }
                if rest.starts_with(b"<?") {
                    let end = find(s, b"?>", start + 2)
                        .ok_or_else(|| err("processing instruction never closed"))?;
                    self.pos = end + 2;
                    continue;
                }
                if rest.starts_with(b"</") {
                    let end =
                        find(s, b">", start + 2).ok_or_else(|| err("end tag never closed"))?;
                    let name = s[start + 2..end].trim_ascii_end();
                    if name.is_empty() || !name.iter().all(|&b| is_name_byte(b)) {
                        return Err(err("bad end tag name"));
                    }
                    self.pos = end + 1;
                    return Ok((start, Event::End { name }));
                }
                let name_end = (start + 1..s.len())
                    .find(|&i| !is_name_byte(s[i]))
                    .unwrap_or(s.len());
                let name = &s[start + 1..name_end];
                if name.is_empty() {
                    return Err(err("'<' that starts no tag (write &lt; in text)"));
                }
                // Find the end of the tag, skipping quoted attribute values.
                let mut i = name_end;
                let mut quote = None;
                let end = loop {
                    let Some(&b) = s.get(i) else {
                        return Err(err("tag never closed"));
                    };
                    match (quote, b) {
                        (None, b'"' | b'\'') => quote = Some(b),
                        (Some(q), _) if b == q => quote = None,
                        (None, b'>') => break i,
                        (None, b'<') | (Some(_), b'<') => {
                            return Err(err("'<' inside a tag"));
                        }
                        _ => {}
                    }
                    i += 1;
                };
                let empty = end > name_end && s[end - 1] == b'/';
                let attrs = &s[name_end..if empty { end - 1 } else { end }];
                if !attrs.is_empty() && !attrs[0].is_ascii_whitespace() {
                    return Err(err("bad character in tag name"));
                }
                self.pos = end + 1;
                return Ok((start, Event::Start { name, attrs, empty }));
            }
        }
    }

    /// The part of a name after its namespace prefix.
    fn local(name: &[u8]) -> &[u8] {
        match name.iter().rposition(|&b| b == b':') {
            Some(i) => &name[i + 1..],
            None => name,
        }
    }

    /// An attribute's name and its value as written (entities not yet replaced).
    type Attribute<'a> = (&'a [u8], &'a [u8]);

    /// Splits an attribute list into (name, raw value) pairs.
    fn attributes(mut s: &[u8]) -> Result<Vec<Attribute<'_>>, String> {
        let mut out: Vec<Attribute<'_>> = Vec::new();
        loop {
            s = s.trim_ascii_start();
            if s.is_empty() {
                return Ok(out);
            }
            let name_len = s.iter().take_while(|&&b| is_name_byte(b)).count();
            if name_len == 0 {
                return Err("bad attribute".into());
            }
            let name = &s[..name_len];
            s = s[name_len..].trim_ascii_start();
            s = s
                .strip_prefix(b"=")
                .ok_or("attribute without a value")?
                .trim_ascii_start();
            let q = *s.first().ok_or("attribute without a value")?;
            if q != b'"' && q != b'\'' {
                return Err("attribute value not quoted".into());
            }
            let close = s[1..]
                .iter()
                .position(|&b| b == q)
                .ok_or("attribute value not closed")?;
            let value = &s[1..1 + close];
            if out.iter().any(|(n, _)| *n == name) {
                return Err(format!(
                    "attribute {} given twice",
                    String::from_utf8_lossy(name)
                ));
            }
            out.push((name, value));
            s = &s[close + 2..];
        }
    }

    /// Replaces the predefined entities and character references; anything else is refused,
    /// since entity declarations are.
    pub(super) fn decode(raw: &[u8], out: &mut String) -> Result<(), String> {
        let text = std::str::from_utf8(raw).map_err(|_| "text is not UTF-8".to_string())?;
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let after = &rest[amp + 1..];
            let semi = after
                .find(';')
                .filter(|&i| i <= 10)
                .ok_or("'&' that starts no entity (write &amp;)")?;
            let ent = &after[..semi];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = ent.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = ent.strip_prefix('#') {
                        dec.parse::<u32>().ok()
                    } else {
                        return Err(format!(
                            "unknown entity &{ent}; (only the five XML entities and character references are read)"
                        ));
                    };
                    code.filter(|&c| c != 0)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad character reference &{ent};"))?
                }
            };
            out.push(c);
            if out.len() > MAX_VALUE {
                return Err("value too long".into());
            }
            rest = &after[semi + 1..];
        }
        out.push_str(rest);
        if out.len() > MAX_VALUE {
            return Err("value too long".into());
        }
        Ok(())
    }

    /// A number the way XML Schema writes a decimal or double: no `NaN`, `INF` or hex, which
    /// Rust's parser would otherwise accept.
    fn number(s: &str) -> Result<f64, String> {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.len() <= 40
            && t.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
            && t.bytes().any(|b| b.is_ascii_digit());
        let v = if ok { t.parse::<f64>().ok() } else { None };
        v.filter(|v| v.is_finite())
            .ok_or_else(|| format!("bad number {:?}", truncate(t, 40)))
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Child {
        Ele,
        Time,
        Hdop,
    }

    /// A point being read.
    struct Point {
        /// The stack depth of the point's own element.
        depth: usize,
        at: Location,
        waypoint: bool,
        lat_lon: Result<(f64, f64), (SkipReason, String)>,
        ele: Option<String>,
        time: Option<String>,
        hdop: Option<String>,
        /// The child whose text is being collected.
        collecting: Option<Child>,
        problem: Option<(SkipReason, String)>,
    }

    impl Point {
        fn slot(&mut self, c: Child) -> &mut Option<String> {
            match c {
                Child::Ele => &mut self.ele,
                Child::Time => &mut self.time,
                Child::Hdop => &mut self.hdop,
            }
        }

        fn fail(&mut self, reason: SkipReason, msg: String) {
            if self.problem.is_none() {
                self.problem = Some((reason, msg));
            }
        }

        /// Adds character data to the value being collected.
        fn text(&mut self, raw: &[u8], cdata: bool) {
            let Some(c) = self.collecting else {
                return;
            };
            let mut value = self.slot(c).take().unwrap_or_default();
            let r = if cdata {
                match std::str::from_utf8(raw) {
                    Ok(t) if value.len() + t.len() <= MAX_VALUE => {
                        value.push_str(t);
                        Ok(())
                    }
                    Ok(_) => Err("value too long".to_string()),
                    Err(_) => Err("text is not UTF-8".to_string()),
                }
            } else {
                decode(raw, &mut value)
            };
            *self.slot(c) = Some(value);
            if let Err(e) = r {
                self.fail(SkipReason::BadValue, e);
            }
        }

        fn finish(self) -> Result<(Fix, bool), (SkipReason, String)> {
            if let Some(p) = self.problem {
                return Err(p);
            }
            if self.waypoint {
                return Err((SkipReason::Waypoint, "waypoint".into()));
            }
            let (lat, lon) = self.lat_lon?;
            let time = self
                .time
                .ok_or((SkipReason::NoTime, "point without <time>".into()))?;
            let time_us = parse_iso8601(&time).map_err(|e| (SkipReason::BadValue, e))?;
            let alt_m = match self.ele {
                Some(e) => Some(
                    number(&e)
                        .ok()
                        .and_then(check_altitude)
                        .ok_or((SkipReason::BadValue, format!("bad <ele> {e:?}")))?,
                ),
                None => None,
            };
            let hdop = match self.hdop {
                Some(h) => Some(number(&h).map_err(|e| (SkipReason::BadValue, e))?),
                None => None,
            };
            let measured = positive(hdop.map(|h| h * HDOP_TO_METRES));
            Ok((
                Fix {
                    lat,
                    lon,
                    alt_m,
                    accuracy_m: measured.unwrap_or(ASSUMED_ACCURACY_M).max(MIN_ACCURACY_M),
                    time_us,
                },
                measured.is_none(),
            ))
        }
    }

    /// Turns byte offsets into line numbers, for offsets that mostly increase.
    struct LineIndex<'a> {
        s: &'a [u8],
        off: usize,
        line: u64,
    }

    impl LineIndex<'_> {
        fn at(&mut self, off: usize) -> Location {
            let off = off.min(self.s.len());
            if off < self.off {
                self.off = 0;
                self.line = 1;
            }
            self.line += self.s[self.off..off]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.off = off;
            Location {
                line: self.line,
                byte: off as u64,
            }
        }
    }

    fn lat_lon(attrs: &[u8]) -> Result<(f64, f64), (SkipReason, String)> {
        let list = attributes(attrs).map_err(|e| (SkipReason::Malformed, e))?;
        let get = |want: &[u8]| -> Result<f64, (SkipReason, String)> {
            let name = String::from_utf8_lossy(want);
            let raw = list
                .iter()
                .find(|(n, _)| *n == want)
                .map(|(_, v)| *v)
                .ok_or_else(|| (SkipReason::Malformed, format!("no {name} attribute")))?;
            let mut text = String::new();
            decode(raw, &mut text).map_err(|e| (SkipReason::BadValue, e))?;
            number(&text).map_err(|e| (SkipReason::BadValue, format!("{name}: {e}")))
        };
        let (lat, lon) = (get(b"lat")?, get(b"lon")?);
        check_position(lat, lon).map_err(|e| (SkipReason::BadValue, e))
    }

    pub(super) fn parse(s: &[u8], name: &Path) -> GpsLog {
        let mut report = GpsLogReport::new(name, LogFormat::Gpx);
        report.lines = s.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let body_start = if s.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let mut reader = Reader { s, pos: body_start };
        let mut lines = LineIndex { s, off: 0, line: 1 };
        let mut fixes = Vec::new();
        let mut stack: Vec<&[u8]> = Vec::new();
        let mut seen_root = false;
        let mut point: Option<Point> = None;
        let stop = |report: &mut GpsLogReport, at: Location, msg: String| {
            report.stopped_early = Some(Problem {
                at,
                reason: SkipReason::Malformed,
                detail: msg,
            });
        };
        loop {
            let (off, ev) = match reader.next() {
                Ok(x) => x,
                Err(e) => {
                    stop(&mut report, lines.at(e.at), e.msg);
                    break;
                }
            };
            match ev {
                Event::Eof => {
                    if let Some(open) = stack.last() {
                        let msg = format!(
                            "the file ends inside <{}> (cut short?)",
                            String::from_utf8_lossy(open)
                        );
                        stop(&mut report, lines.at(off), msg);
                    } else if !seen_root {
                        stop(&mut report, lines.at(off), "no <gpx> element".into());
                    }
                    break;
                }
                Event::Text(t) | Event::CData(t) if stack.is_empty() => {
                    if !t.trim_ascii().is_empty() {
                        stop(
                            &mut report,
                            lines.at(off),
                            "text outside the <gpx> element".into(),
                        );
                        break;
                    }
                }
                Event::Text(t) => {
                    if let Some(p) = &mut point
                        && stack.len() == p.depth + 2
                    {
                        p.text(t, false);
                    }
                }
                Event::CData(t) => {
                    if let Some(p) = &mut point
                        && stack.len() == p.depth + 2
                    {
                        p.text(t, true);
                    }
                }
                Event::Start { name, attrs, empty } => {
                    if stack.is_empty() {
                        if seen_root {
                            stop(&mut report, lines.at(off), "a second root element".into());
                            break;
                        }
                        if local(name) != b"gpx" {
                            let msg = format!(
                                "the root element is <{}>, not <gpx>",
                                String::from_utf8_lossy(name)
                            );
                            stop(&mut report, lines.at(off), msg);
                            break;
                        }
                        seen_root = true;
                    }
                    if stack.len() >= MAX_DEPTH {
                        stop(
                            &mut report,
                            lines.at(off),
                            format!("elements nested deeper than {MAX_DEPTH}"),
                        );
                        break;
                    }
                    let depth = stack.len();
                    let lname = local(name);
                    match &mut point {
                        None if matches!(lname, b"trkpt" | b"rtept" | b"wpt") => {
                            point = Some(Point {
                                depth,
                                at: lines.at(off),
                                waypoint: lname == b"wpt",
                                lat_lon: lat_lon(attrs),
                                ele: None,
                                time: None,
                                hdop: None,
                                collecting: None,
                                problem: None,
                            });
                        }
                        Some(p) if depth == p.depth + 1 => {
                            let child = match lname {
                                b"ele" => Some(Child::Ele),
                                b"time" => Some(Child::Time),
                                b"hdop" => Some(Child::Hdop),
                                _ => None,
                            };
                            if let Some(c) = child {
                                if p.slot(c).is_some() {
                                    let msg =
                                        format!("<{}> given twice", String::from_utf8_lossy(lname));
                                    p.fail(SkipReason::Malformed, msg);
                                }
                                *p.slot(c) = Some(String::new());
                                p.collecting = (!empty).then_some(c);
                            }
                        }
                        _ => {}
                    }
                    if empty {
                        // An empty point has no <time> and is finished at once.
                        if point.as_ref().is_some_and(|p| p.depth == depth)
                            && let Some(p) = point.take()
                        {
                            finish_point(p, &mut fixes, &mut report);
                        }
                    } else {
                        stack.push(name);
                    }
                }
                Event::End { name } => {
                    match stack.pop() {
                        Some(open) if open == name => {}
                        Some(open) => {
                            let msg = format!(
                                "</{}> where </{}> was expected",
                                String::from_utf8_lossy(name),
                                String::from_utf8_lossy(open)
                            );
                            stop(&mut report, lines.at(off), msg);
                            break;
                        }
                        None => {
                            let msg =
                                format!("</{}> closes nothing", String::from_utf8_lossy(name));
                            stop(&mut report, lines.at(off), msg);
                            break;
                        }
                    }
                    let depth = stack.len();
                    if let Some(p) = &mut point {
                        if depth == p.depth + 1 {
                            p.collecting = None;
                        } else if depth == p.depth
                            && let Some(p) = point.take()
                        {
                            finish_point(p, &mut fixes, &mut report);
                        }
                    }
                }
            }
        }
        if let Some(p) = point {
            report.skip(SkipReason::Malformed, p.at, || {
                "point cut off by the error above".to_string()
            });
        }
        GpsLog { fixes, report }
    }

    fn finish_point(p: Point, fixes: &mut Vec<Fix>, report: &mut GpsLogReport) {
        let at = p.at;
        match p.finish() {
            Ok((fix, assumed)) => {
                if assumed {
                    report.assumed_accuracy += 1;
                }
                fixes.push(fix);
            }
            Err((reason, msg)) => report.skip(reason, at, || msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_bytes(bytes: &[u8]) -> Result<GpsLog, GpsLogError> {
        parse_log(bytes, Path::new("test"), &ReadOptions::default())
    }

    /// Builds an NMEA sentence with its checksum.
    fn nmea(body: &str) -> String {
        let cs = body.bytes().fold(0u8, |a, b| a ^ b);
        format!("${body}*{cs:02X}")
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2018, 8, 20), 17_763);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for d in -800_000..800_000 {
            if d % 997 != 0 {
                continue;
            }
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        // 1024 weeks after 2009-12-09 is 2029-07-25: bt451's date through gpsd 3.22.
        assert_eq!(
            days_from_civil(2009, 12, 9) + 7168,
            days_from_civil(2029, 7, 25)
        );
    }

    #[test]
    fn iso8601_forms() {
        let base = parse_iso8601("2018-08-20T09:47:41Z").unwrap();
        assert_eq!(base, 1_534_758_461_000_000);
        assert_eq!(parse_iso8601("2018-08-20T09:47:41.000Z").unwrap(), base);
        assert_eq!(
            parse_iso8601("2018-08-20T09:47:41.5Z").unwrap(),
            base + 500_000
        );
        assert_eq!(
            parse_iso8601("2018-08-20T09:47:41.123456789Z").unwrap(),
            base + 123_456
        );
        assert_eq!(parse_iso8601("2018-08-20T11:47:41+02:00").unwrap(), base);
        assert_eq!(parse_iso8601("2018-08-20T08:47:41-0100").unwrap(), base);
        assert_eq!(parse_iso8601("2018-08-20T09:47:41").unwrap(), base);
        assert_eq!(format_time(base), "2018-08-20T09:47:41Z");
        for bad in [
            "2018-02-30T00:00:00Z",
            "2018-08-20T24:00:00Z",
            "2018-08-20T09:47:41.Z",
            "2018-08-20T09:47:41Q",
            "1018-08-20T09:47:41Z",
            "99999-08-20T09:47:41Z",
            "2018-08-20",
            "",
        ] {
            assert!(parse_iso8601(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn nmea_fields() {
        assert_eq!(nmea::time_of_day("094737"), Some(35_257_000_000));
        assert_eq!(nmea::time_of_day("095304.802"), Some(35_584_802_000));
        assert_eq!(nmea::time_of_day("240000"), None);
        assert_eq!(nmea::time_of_day("0947"), None);
        assert_eq!(
            nmea::date_ddmmyy("200818"),
            Some(days_from_civil(2018, 8, 20))
        );
        assert_eq!(
            nmea::date_ddmmyy("080407"),
            Some(days_from_civil(2007, 4, 8))
        );
        assert_eq!(nmea::date_ddmmyy("310299"), None);
        assert_eq!(nmea::number("inf"), None);
        assert_eq!(nmea::number("NaN"), None);
        assert_eq!(nmea::number("-4"), Some(-4.0));
    }

    #[test]
    fn nmea_sentence_checks() {
        let good = nmea("GPGGA,094737,5251.0085,N,00518.8151,E,1,12,0.60,-4,M,46.8,M,,");
        let s = nmea::sentence(good.as_bytes()).unwrap();
        let nmea::Sentence::Gga {
            lat,
            lon,
            hdop,
            alt,
            ..
        } = s
        else {
            panic!("{s:?}")
        };
        assert!((lat - (52.0 + 51.0085 / 60.0)).abs() < 1e-12);
        assert!((lon - (5.0 + 18.8151 / 60.0)).abs() < 1e-12);
        assert_eq!((hdop, alt), (Some(0.6), Some(-4.0)));
        let mut broken = good.clone();
        broken.replace_range(10..11, "8");
        assert_eq!(
            nmea::sentence(broken.as_bytes()).unwrap_err().0,
            SkipReason::BadChecksum
        );
        // Without a checksum the sentence is taken as it is.
        let bare = "$GPGGA,094737,5251.0085,N,00518.8151,E,1,12,0.60,-4,M,46.8,M,,";
        assert!(nmea::sentence(bare.as_bytes()).is_ok());
        // Line noise before the sentence is dropped.
        let noisy = format!("\u{1}xx{good}");
        assert!(nmea::sentence(noisy.as_bytes()).is_ok());
        let void = nmea("GPRMC,,V,,,,,,,,,,N");
        assert_eq!(
            nmea::sentence(void.as_bytes()).unwrap_err().0,
            SkipReason::NoFix
        );
        let gsv = nmea("GPGSV,1,1,00");
        assert_eq!(
            nmea::sentence(gsv.as_bytes()).unwrap_err().0,
            SkipReason::UnusedSentence
        );
        let far = nmea("GPGGA,094737,9251.0085,N,00518.8151,E,1,12,0.60,-4,M,46.8,M,,");
        assert_eq!(
            nmea::sentence(far.as_bytes()).unwrap_err().0,
            SkipReason::BadValue
        );
        let minutes = nmea("GPGGA,094737,5261.0085,N,00518.8151,E,1,12,0.60,-4,M,46.8,M,,");
        assert_eq!(
            nmea::sentence(minutes.as_bytes()).unwrap_err().0,
            SkipReason::BadValue
        );
    }

    #[test]
    fn nmea_epochs_dates_and_midnight() {
        let log = [
            "# a comment".to_string(),
            // A GGA before any RMC takes its date from the RMC that follows closely.
            nmea("GPGGA,235958,5000.0000,N,00100.0000,W,1,08,1.0,10.0,M,47.0,M,,"),
            nmea("GPRMC,235959,A,5000.0000,N,00100.0000,W,0.0,0.0,311218,,,A"),
            nmea("GPGGA,235959,5000.0010,N,00100.0000,W,1,08,1.2,10.0,M,47.0,M,,"),
            // Past midnight with no RMC: the date moves on by a day.
            nmea("GPGGA,000000,5000.0020,N,00100.0000,W,1,08,1.0,11.0,M,47.0,M,,"),
            nmea("GPGST,000000,1.0,1.0,1.0,0.0,0.3,0.4,1.0"),
            "$GPGGA,000001,5000.0030,N,00100.0000,W,1,08,1.0,11.0,M,47.0,M,,*00".to_string(),
        ]
        .join("\r\n");
        let got = parse_bytes(log.as_bytes()).unwrap();
        assert_eq!(got.report.format, LogFormat::Nmea);
        let times: Vec<String> = got.fixes.iter().map(|f| format_time(f.time_us)).collect();
        assert_eq!(
            times,
            [
                "2018-12-31T23:59:58Z",
                "2018-12-31T23:59:59Z",
                "2019-01-01T00:00:00Z"
            ]
        );
        // RMC's position wins over GGA's; GGA's HDOP 1.2 gives 1.2 × HDOP_TO_METRES.
        assert!((got.fixes[1].lat - 50.0).abs() < 1e-12);
        assert!(got.fixes[1].lon < 0.0);
        assert!((got.fixes[1].accuracy_m - 1.2 * HDOP_TO_METRES).abs() < 1e-9);
        // GST's deviations (0.3 m, 0.4 m) give a 2DRMS radius of 1 m.
        assert!((got.fixes[2].accuracy_m - 1.0).abs() < 1e-9);
        assert_eq!(got.fixes[2].alt_m, Some(11.0));
        assert_eq!(got.report.skipped_for(SkipReason::BadChecksum), 1);
        assert_eq!(got.report.examples[0].at.line, 7);
        assert_eq!(got.report.comments, 1);
    }

    #[test]
    fn nmea_without_date_is_an_error_that_says_so() {
        let log = nmea("GPGGA,094737,5251.0085,N,00518.8151,E,1,12,0.60,-4,M,46.8,M,,");
        let err = parse_bytes(log.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, GpsLogError::NoFix { .. }), "{msg}");
        assert!(msg.contains("without a date"), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn json_tpvs() {
        let log = br#"{"class":"VERSION","release":"3.22"}
{"class":"DEVICE","path":"/dev/pts/1","activated":"2026-11-27T13:35:07.495Z"}
{"class":"TPV","mode":1}
{"class":"TPV","mode":3,"lat":55.797017833,"lon":23.569022000,"eph":12.0}
{"class":"SKY","hdop":1.2}
{"class":"TPV","mode":3,"time":"2026-11-27T13:35:09.000Z","lat":55.5,"lon":23.5,"altMSL":37.0,"eph":0.0,"epx":3.0,"epy":4.0}
{"class":"TPV","mode":2,"time":"2026-11-27T13:35:10.000Z","lat":55.5,"lon":23.5,"altMSL":37.0}
{"class":"TPV","mode":3,"time":"2026-11-27T13:35:11.000Z","lat":95.5,"lon":23.5}
{"class":"TPV","mode":3,"time":"2026-11-27T13:35:12.0
{"class":"DEVICE","path":"/dev/pts/1","activated":0}
"#;
        let got = parse_bytes(log).unwrap();
        assert_eq!(got.report.format, LogFormat::GpspipeJson);
        assert_eq!(got.fixes.len(), 2);
        assert_eq!(got.fixes[0].alt_m, Some(37.0));
        // eph 0 means unknown: epx/epy give 5 m.
        assert!((got.fixes[0].accuracy_m - 5.0).abs() < 1e-9);
        // A 2D fix has no altitude, and borrows the SKY's HDOP: 1.2 × HDOP_TO_METRES.
        assert_eq!(got.fixes[1].alt_m, None);
        assert!((got.fixes[1].accuracy_m - 1.2 * HDOP_TO_METRES).abs() < 1e-9);
        let r = &got.report;
        assert_eq!(r.skipped_for(SkipReason::NoFix), 1);
        assert_eq!(r.skipped_for(SkipReason::NoTime), 1);
        assert_eq!(r.skipped_for(SkipReason::BadValue), 1);
        assert_eq!(r.skipped_for(SkipReason::Malformed), 1);
        assert_eq!(r.skipped_for(SkipReason::OtherClass), 4);
        assert!(r.week_shift.is_none());
        assert_eq!(r.examples[0].at, Location { line: 4, byte: 140 });
    }

    #[test]
    fn json_rollover_needs_evidence() {
        let device = r#"{"class":"DEVICE","activated":"2026-11-27T13:35:07.495Z"}"#;
        let tpv =
            |t: &str| format!(r#"{{"class":"TPV","mode":3,"time":"{t}","lat":1.0,"lon":2.0}}"#);
        // Years after gpsd opened the receiver: moved back, and said so.
        let late = format!("{device}\n{}\n", tpv("2029-07-25T15:25:05.000Z"));
        let got = parse_bytes(late.as_bytes()).unwrap();
        assert_eq!(format_time(got.fixes[0].time_us), "2009-12-09T15:25:05Z");
        let shift = got.report.week_shift.as_ref().unwrap();
        assert_eq!((shift.weeks, shift.fixes), (-1024, 1));
        // Off leaves it alone.
        let opts = ReadOptions {
            week_rollover: WeekRollover::Off,
            now_us: None,
        };
        let got = parse_log(late.as_bytes(), Path::new("t"), &opts).unwrap();
        assert_eq!(format_time(got.fixes[0].time_us), "2029-07-25T15:25:05Z");
        // Before the activation: a replay, which the file alone cannot settle. Nothing moves,
        // but the report says what may be wrong.
        let replay = format!("{device}\n{}\n", tpv("2026-11-22T09:53:27.797Z"));
        let got = parse_bytes(replay.as_bytes()).unwrap();
        assert_eq!(
            format_time(got.fixes[0].time_us),
            "2026-11-22T09:53:27.797000Z"
        );
        assert!(got.report.week_shift.is_none());
        assert!(got.report.notes[0].contains("1024 weeks"));
        // A clock that was never set proves nothing.
        let unset = format!(
            "{}\n{}\n",
            r#"{"class":"DEVICE","activated":"1970-01-01T00:00:30.000Z"}"#,
            tpv("2026-11-22T09:53:27.797Z")
        );
        let got = parse_bytes(unset.as_bytes()).unwrap();
        assert!(got.report.week_shift.is_none());
        // Without any DEVICE line, the current time is the evidence.
        let opts = ReadOptions {
            week_rollover: WeekRollover::Auto,
            now_us: Some(parse_iso8601("2026-11-27T00:00:00Z").unwrap()),
        };
        let alone = format!("{}\n", tpv("2029-07-25T15:25:05.000Z"));
        let got = parse_log(alone.as_bytes(), Path::new("t"), &opts).unwrap();
        assert_eq!(format_time(got.fixes[0].time_us), "2009-12-09T15:25:05Z");
    }

    #[test]
    fn explicit_shift_and_future() {
        let log = format!(
            "{}\n{}\n",
            nmea("GPRMC,094737,A,5251.0093,N,00518.8170,E,5.6,230.5,200818,1.4,E,A"),
            nmea("GPRMC,094738,A,5251.0093,N,00518.8170,E,5.6,230.5,200868,1.4,E,A"),
        );
        let opts = ReadOptions {
            week_rollover: WeekRollover::ShiftWeeks(1024),
            now_us: Some(parse_iso8601("2040-01-01T00:00:00Z").unwrap()),
        };
        let got = parse_log(log.as_bytes(), Path::new("t"), &opts).unwrap();
        // 2018 + 1024 weeks is 2038 (kept); 2068 + 1024 weeks is in the future (dropped).
        assert_eq!(got.fixes.len(), 1);
        assert_eq!(format_time(got.fixes[0].time_us), "2038-04-05T09:47:37Z");
        assert_eq!(got.report.skipped_for(SkipReason::InFuture), 1);
        assert_eq!(got.report.week_shift.as_ref().unwrap().weeks, 1024);
        // RMC has no HDOP: the assumed accuracy is used and counted.
        assert_eq!(got.fixes[0].accuracy_m, ASSUMED_ACCURACY_M);
        assert_eq!(got.report.assumed_accuracy, 2);
    }

    #[test]
    fn suggest_week_shift_finds_the_era() {
        let era = GPS_ERA_US;
        let cap = (1_000 * era, 1_000 * era + 3_600_000_000);
        assert_eq!(suggest_week_shift(cap, cap), None);
        let late = (cap.0 + era - 60_000_000, cap.1 + era);
        assert_eq!(suggest_week_shift(late, cap), Some(-1024));
        let early = (cap.0 - era, cap.1 - era);
        assert_eq!(suggest_week_shift(early, cap), Some(1024));
        let unrelated = (cap.0 + 5_000_000_000_000, cap.1 + 5_000_000_000_000);
        assert_eq!(suggest_week_shift(unrelated, cap), None);
    }

    #[test]
    fn detection_is_by_content() {
        assert!(matches!(parse_bytes(b""), Err(GpsLogError::Empty { .. })));
        assert!(matches!(
            parse_bytes(b"  \n\n"),
            Err(GpsLogError::Empty { .. })
        ));
        let err = parse_bytes(b"MAC,SSID,AuthMode\n1,2,3\n").unwrap_err();
        assert!(matches!(err, GpsLogError::UnknownFormat { .. }), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = parse_bytes(b"\xFF\xFE<\x00g\x00").unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
        // Only comments: NMEA-looking, but no data at all.
        let err = parse_bytes(b"# only\n# comments\n").unwrap_err();
        assert!(matches!(err, GpsLogError::UnknownFormat { .. }), "{err}");
    }

    #[test]
    fn long_lines_are_skipped_not_kept() {
        let mut log = "x".repeat(MAX_LINE * 2);
        log.insert(0, '$');
        log.push('\n');
        log.push_str(&nmea(
            "GPRMC,094737,A,5251.0093,N,00518.8170,E,5.6,230.5,200818,1.4,E,A",
        ));
        let got = parse_bytes(log.as_bytes()).unwrap();
        assert_eq!(got.fixes.len(), 1);
        assert_eq!(got.report.skipped_for(SkipReason::LineTooLong), 1);
        assert_eq!(got.report.lines, 2);
    }

    #[test]
    fn gpx_entities_and_values() {
        let mut out = String::new();
        gpx::decode(b"a&lt;b&#x41;&#66;&amp;", &mut out).unwrap();
        assert_eq!(out, "a<bAB&");
        for bad in ["&foo;", "&#0;", "&#xD800;", "& x", "&#xFFFFFFFF;"] {
            let mut out = String::new();
            assert!(gpx::decode(bad.as_bytes(), &mut out).is_err(), "{bad}");
        }
    }

    #[test]
    fn gpx_minimal() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported -->
<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><trkseg>
  <trkpt lat="52.5" lon="-0.25"><ele>12.5</ele><time>2024-05-01T10:00:00Z</time><hdop>0.8</hdop></trkpt>
  <trkpt lat='52.6' lon='-0.26'><time><![CDATA[2024-05-01T10:00:01Z]]></time></trkpt>
  <trkpt lat="52.7" lon="-0.27"/>
 </trkseg></trk>
 <wpt lat="1" lon="1"><time>2024-05-01T10:00:00Z</time></wpt>
</gpx>
"#;
        let got = parse_bytes(xml).unwrap();
        assert_eq!(got.report.format, LogFormat::Gpx);
        assert_eq!(got.fixes.len(), 2);
        assert_eq!(got.fixes[0].alt_m, Some(12.5));
        assert!((got.fixes[0].accuracy_m - 0.8 * HDOP_TO_METRES).abs() < 1e-9);
        assert_eq!(got.fixes[1].accuracy_m, ASSUMED_ACCURACY_M);
        assert_eq!(got.report.skipped_for(SkipReason::NoTime), 1);
        assert_eq!(got.report.skipped_for(SkipReason::Waypoint), 1);
        assert_eq!(got.report.examples[0].at.line, 7);
        assert!(got.report.stopped_early.is_none());
    }
}
