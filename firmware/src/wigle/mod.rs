//! Upload to wigle.net: the observations not yet sent, as gzipped WiGLE CSV 1.6 files, one multipart POST each, remembering in the store what was sent.
//!
//! The same on a device and on the hub: it reads a [`Store`] (observations numbered by a
//! store-local, increasing `seq`) and notes each successful upload in it
//! (`store::WigleUpload`). The last upload's `last_seq` is the watermark; an upload sends only
//! the observations above it, up to the highest one stored when it began (so it never chases a
//! store that is still recording).
//!
//! Files: the rows and header of `piwardrive export --format wigle` (the same writer,
//! `export::wigle::Rows`), at most `[wigle] max_rows_per_file` rows and
//! [`MAX_FILE_BYTES`] of CSV each, gzipped. Each file is one request (`client.rs`); the
//! watermark moves to the file's last seq only when WiGLE answered `success: true`, so a
//! failed, refused or cut upload is sent again next time, whole (WiGLE drops rows it already
//! has). Nothing above the watermark that is a WiGLE row: no request at all.
//!
//! Home zones: an observation whose fix lies in one of the user's home zones (the store's
//! edits, read when the upload begins) is not a row, exactly as in the export
//! ([`HomeZones`]).
//!
//! Air data: SSIDs reach only the CSV rows inside the gzipped file part, quoted by the
//! export's RFC 4180 writer; the file name, the form fields and every header are ours.

mod client;

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::config::{Secret, WigleConfig};
use crate::export::wigle::{Rows, write_head};
use crate::export::{ExportError, ExportOptions, ExportStats, HomeZones, WigleDevice};
use crate::store::{Store, StoreError, WigleUpload};

pub use client::{Timeouts, UploadError};

/// The path of WiGLE's upload endpoint under the API's base URL.
pub const UPLOAD_PATH: &str = "/api/v2/file/upload";

/// The most CSV bytes one file holds before gzip, below WiGLE's 180 MB cap (the WiGLE app's
/// `WIGLE_MAX_UPLOAD_BYTES = 180,000,000`) with room for the row that crosses it.
pub const MAX_FILE_BYTES: u64 = 170_000_000;

/// The account an upload is made for.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_name: String,
    pub api_token: Secret,
}

/// Everything an upload needs besides the store.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// `https://api.wigle.net`, or a test server.
    pub base_url: String,
    pub credentials: Credentials,
    pub donate: bool,
    pub max_rows_per_file: u64,
    /// The pre-header's device description.
    pub device: WigleDevice,
    pub timeouts: Timeouts,
    /// Build the files and say what would be sent; send nothing, note nothing.
    pub dry_run: bool,
}

impl UploadOptions {
    /// The options `[wigle]` gives; an error naming the keys when the account is not set.
    pub fn from_config(c: &WigleConfig) -> Result<UploadOptions, UploadError> {
        let (Some(api_name), Some(api_token)) = (&c.api_name, &c.api_token) else {
            return Err(UploadError::NoCredentials);
        };
        Ok(UploadOptions {
            base_url: c.base_url.clone(),
            credentials: Credentials {
                api_name: api_name.clone(),
                api_token: api_token.clone(),
            },
            donate: c.donate,
            max_rows_per_file: c.max_rows_per_file,
            device: WigleDevice::detect(),
            timeouts: Timeouts::default(),
            dry_run: false,
        })
    }
}

/// One file sent (or, in a dry run, built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    pub file_name: String,
    pub rows: u64,
    /// Gzipped size.
    pub bytes: u64,
    pub after_seq: u64,
    pub last_seq: u64,
    pub trans_id: Option<String>,
}

/// What an upload did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The files WiGLE accepted, in order (each is noted in the store).
    pub sent: Vec<SentFile>,
    /// Observations above the watermark that are not WiGLE rows (clients, no position).
    pub skipped: ExportStats,
    /// True when there was nothing to send: no request was made.
    pub nothing_to_send: bool,
    pub dry_run: bool,
}

/// An upload that stopped on an error, after sending `sent` (already noted in the store).
#[derive(Debug)]
pub struct Failed {
    pub sent: Vec<SentFile>,
    pub error: UploadError,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        if !self.sent.is_empty() {
            write!(
                f,
                " ({} file(s) with {} rows were uploaded before it and are recorded; the rest \
                 is sent by the next upload)",
                self.sent.len(),
                self.sent.iter().map(|s| s.rows).sum::<u64>()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Failed {}

/// One file, built in memory.
struct Chunk {
    gz: Vec<u8>,
    rows: u64,
    after_seq: u64,
    last_seq: u64,
}

/// Builds the next file: the WiGLE rows of the observations in `(after_seq, until_seq]`, at
/// most `max_rows` rows and about [`MAX_FILE_BYTES`]. `None` when that range holds no WiGLE
/// row. The file covers the observations up to its last row, or up to `until_seq` when the
/// range ran out first.
fn build_chunk(
    store: &Store,
    after_seq: u64,
    until_seq: u64,
    max_rows: u64,
    device: &WigleDevice,
    zones: &HomeZones,
    skipped: &mut ExportStats,
) -> Result<Option<Chunk>, ExportError> {
    let snap = store.snapshot()?;
    let options = ExportOptions {
        session: None,
        wigle_device: device.clone(),
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    write_head(&options, &mut gz)?;
    let mut rows = Rows::new(&snap, zones.clone())?;
    let mut stats = ExportStats::default();
    let mut csv_bytes = 0u64;
    let mut last_seq = until_seq;
    let walk = snap.for_each_observation_after(after_seq, |o| {
        if o.seq > until_seq {
            return std::ops::ControlFlow::Break(Ok(()));
        }
        match rows.row(o, &mut stats) {
            Ok(Some(line)) => {
                if let Err(e) = gz.write_all(line.as_bytes()) {
                    return std::ops::ControlFlow::Break(Err(ExportError::from(e)));
                }
                csv_bytes += line.len() as u64;
                if stats.written >= max_rows || csv_bytes >= MAX_FILE_BYTES {
                    last_seq = o.seq;
                    return std::ops::ControlFlow::Break(Ok(()));
                }
                std::ops::ControlFlow::Continue(())
            }
            Ok(None) => std::ops::ControlFlow::Continue(()),
            Err(e) => std::ops::ControlFlow::Break(Err(e)),
        }
    })?;
    if let std::ops::ControlFlow::Break(Err(e)) = walk {
        return Err(e);
    }
    add_skipped(skipped, &stats);
    if stats.written == 0 {
        return Ok(None);
    }
    Ok(Some(Chunk {
        gz: gz.finish()?,
        rows: stats.written,
        after_seq,
        last_seq,
    }))
}

/// `piwardrive-<first 8 hex digits of the store's id>-<UTC time>[-<part>].csv.gz`: only
/// characters we chose, so nothing from the air reaches the multipart framing.
pub fn file_name(device_id: &[u8; 16], now_us: i64, part: usize) -> String {
    let stamp: String = crate::web::time_iso(now_us)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let id = crate::accounts::to_hex(&device_id[..4]);
    if part <= 1 {
        format!("piwardrive-{id}-{stamp}.csv.gz")
    } else {
        format!("piwardrive-{id}-{stamp}-{part}.csv.gz")
    }
}

/// Runs `f` on the blocking pool (redb reads and gzip are synchronous).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UploadError::Internal(e.to_string()))?
}

/// Uploads what the store holds above its watermark. See the module documentation.
pub async fn upload(store: &Store, options: &UploadOptions) -> Result<Outcome, Failed> {
    let mut outcome = Outcome {
        dry_run: options.dry_run,
        ..Outcome::default()
    };
    let fail = |outcome: &Outcome, error: UploadError| Failed {
        sent: outcome.sent.clone(),
        error,
    };
    let api = if options.dry_run {
        None
    } else {
        Some(client::Api::new(options).map_err(|e| fail(&outcome, e))?)
    };
    let s = store.clone();
    let (mut after, until, zones) = blocking(move || {
        let watermark = s.wigle_watermark()?;
        let last = s.snapshot()?.last_observation_seq()?;
        // Read once: the whole upload leaves out the zones as they were when it began.
        let zones = HomeZones::of(&s)?;
        Ok((watermark, last, zones))
    })
    .await
    .map_err(|e| fail(&outcome, e))?;
    let started_us = crate::accounts::now_us();
    let max_rows = options.max_rows_per_file.max(1);
    let mut part = 0;
    while after < until {
        let s = store.clone();
        let device = options.device.clone();
        let zones = zones.clone();
        let (chunk, skipped) = blocking(move || {
            let mut skipped = ExportStats::default();
            let c = build_chunk(&s, after, until, max_rows, &device, &zones, &mut skipped)?;
            Ok((c, skipped))
        })
        .await
        .map_err(|e| fail(&outcome, e))?;
        add_skipped(&mut outcome.skipped, &skipped);
        let Some(chunk) = chunk else {
            break;
        };
        part += 1;
        let name = file_name(&store.device_id(), started_us, part);
        let mut sent = SentFile {
            file_name: name.clone(),
            rows: chunk.rows,
            bytes: chunk.gz.len() as u64,
            after_seq: chunk.after_seq,
            last_seq: chunk.last_seq,
            trans_id: None,
        };
        after = chunk.last_seq;
        let Some(api) = &api else {
            outcome.sent.push(sent);
            continue;
        };
        let answer = api
            .send(&name, chunk.gz, options.donate)
            .await
            .map_err(|e| fail(&outcome, e))?;
        sent.trans_id = answer.trans_id;
        let record = WigleUpload {
            time_us: crate::accounts::now_us(),
            after_seq: sent.after_seq,
            last_seq: sent.last_seq,
            rows: sent.rows,
            bytes: sent.bytes,
            file_name: sent.file_name.clone(),
            trans_id: sent.trans_id.clone(),
            donated: options.donate,
        };
        let s = store.clone();
        let noted = blocking(move || Ok(s.note_wigle_upload(&record)?))
            .await
            .map_err(|e| fail(&outcome, e))?;
        if !noted {
            return Err(fail(&outcome, UploadError::Concurrent));
        }
        tracing::info!(
            file = %sent.file_name,
            rows = sent.rows,
            bytes = sent.bytes,
            trans_id = sent.trans_id.as_deref().unwrap_or("-"),
            "uploaded to WiGLE"
        );
        outcome.sent.push(sent);
    }
    outcome.nothing_to_send = outcome.sent.is_empty();
    Ok(outcome)
}

fn add_skipped(total: &mut ExportStats, s: &ExportStats) {
    total.skipped_no_fix += s.skipped_no_fix;
    total.skipped_bad_fix += s.skipped_bad_fix;
    total.skipped_client += s.skipped_client;
    total.skipped_no_record += s.skipped_no_record;
    total.signal_floored += s.signal_floored;
    total.skipped_home_zone += s.skipped_home_zone;
}

impl From<StoreError> for UploadError {
    fn from(e: StoreError) -> UploadError {
        UploadError::Store(e)
    }
}

impl From<ExportError> for UploadError {
    fn from(e: ExportError) -> UploadError {
        UploadError::Export(e)
    }
}
