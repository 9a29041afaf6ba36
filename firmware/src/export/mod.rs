//! Exports from the store: WiGLE CSV 1.6, KML, GeoJSON, CSV and GPX, each streamed.
//!
//! Every format reads one store [`Snapshot`] (so the file describes one moment of the store)
//! and writes row by row to any `std::io::Write`: memory does not grow with the number of
//! observations or networks, only per-network lookups by key are made while streaming.

mod csv;
mod geojson;
mod gpx;
mod kml;
mod text;
mod zones;

pub use zones::{HomeZones, distance_m};

/// Where a network is drawn on a map: the one decision every map format, and the UI, use.
pub use text::position as network_position;
pub(crate) mod wigle;

#[cfg(test)]
mod tests;

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;

use crate::store::{Snapshot, Store, StoreError};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// WiGLE CSV 1.6: one row per AP observation with a fix, ready to upload to wigle.net.
    Wigle,
    /// KML 2.2: a placemark per network, styled by security, one folder per session.
    Kml,
    /// GeoJSON (RFC 7946): a FeatureCollection with a point per network.
    Geojson,
    /// CSV with every column of the network record, one row per network.
    Csv,
    /// GPX 1.1 of the GPS track.
    Gpx,
}

impl Format {
    /// The usual file extension, for a default output name.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Wigle => "wiglecsv.csv",
            Format::Kml => "kml",
            Format::Geojson => "geojson",
            Format::Csv => "csv",
            Format::Gpx => "gpx",
        }
    }
}

/// The device description in WiGLE's pre-header (`appRelease=…,model=…,…`). WiGLE shows these
/// per upload; the Android app fills them from `android.os.Build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WigleDevice {
    pub app_release: String,
    pub model: String,
    pub release: String,
    pub device: String,
    pub display: String,
    pub board: String,
    pub brand: String,
}

impl Default for WigleDevice {
    /// Fixed values (the crate version, `PiWardrive`), so tests and reproducible exports get
    /// the same header on every machine.
    fn default() -> WigleDevice {
        WigleDevice {
            app_release: env!("CARGO_PKG_VERSION").to_string(),
            model: "PiWardrive".to_string(),
            release: env!("CARGO_PKG_VERSION").to_string(),
            device: "piwardrive".to_string(),
            display: "piwardrive".to_string(),
            board: "unknown".to_string(),
            brand: "PiWardrive".to_string(),
        }
    }
}

impl WigleDevice {
    /// The defaults, with `release` set to the running kernel's release and `board` to the
    /// device-tree model (e.g. `Raspberry Pi 4 Model B Rev 1.4`) where the system has them.
    pub fn detect() -> WigleDevice {
        let read = |path: &str| {
            std::fs::read(path).ok().and_then(|b| {
                let s = String::from_utf8_lossy(&b)
                    .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                    .to_string();
                (!s.is_empty()).then_some(s)
            })
        };
        let mut d = WigleDevice::default();
        if let Some(r) = read("/proc/sys/kernel/osrelease") {
            d.release = r;
        }
        if let Some(m) = read("/proc/device-tree/model") {
            d.board = m;
        }
        d
    }
}

/// What to export besides the format.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Only this session: its observations (WiGLE), the networks seen in it (KML, GeoJSON,
    /// CSV), its time span of the track (GPX).
    pub session: Option<u64>,
    pub wigle_device: WigleDevice,
}

/// What an export wrote and what it left out, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Rows, placemarks, features or track points written.
    pub written: u64,
    /// Left out because there was no position (observations or networks without a fix).
    pub skipped_no_fix: u64,
    /// Left out because the position was implausible: not finite, off the globe, accuracy not
    /// positive, or (WiGLE) a time before 1970 or past year 9999.
    pub skipped_bad_fix: u64,
    /// Client observations, which are not WiGLE rows (WiGLE maps networks).
    pub skipped_client: u64,
    /// Observations whose AP record is missing (only after damage to the store).
    pub skipped_no_record: u64,
    /// WiGLE rows written with [`wigle::MISSING_SIGNAL_DBM`] because the capture gave no signal.
    pub signal_floored: u64,
    /// Left out because the fix (an observation's, a network's position, a track point) lies
    /// in one of the user's home zones ([`HomeZones`]).
    pub skipped_home_zone: u64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the export: {0}; check the output path and the free space")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "there is no session {0} in this store; leave out --session, or pick an id from the \
         sessions page"
    )]
    NoSuchSession(u64),
}

impl From<serde_json::Error> for ExportError {
    fn from(e: serde_json::Error) -> ExportError {
        // serde_json fails here only by failing to write (our values always serialise).
        ExportError::Io(e.into())
    }
}

pub use wigle::MISSING_SIGNAL_DBM;

/// Exports the store in `format`, optionally one session only, with the default WiGLE device
/// description. See [`export_with`].
pub fn export(
    store: &Store,
    format: Format,
    session: Option<u64>,
    out: &mut dyn Write,
) -> Result<ExportStats, ExportError> {
    let options = ExportOptions {
        session,
        ..ExportOptions::default()
    };
    export_with(store, format, &options, out)
}

/// Exports the store in `format` to `out`, streaming from one snapshot. Output is buffered
/// here, so `out` may be a bare `File`; it is flushed before returning. Whatever lies in one
/// of the home zones of the store's edits (read as the export starts) is left out.
pub fn export_with(
    store: &Store,
    format: Format,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<ExportStats, ExportError> {
    let snap = store.snapshot()?;
    if let Some(id) = options.session
        && snap.session(id)?.is_none()
    {
        return Err(ExportError::NoSuchSession(id));
    }
    let zones = HomeZones::of(store)?;
    let z = &zones;
    let mut w = BufWriter::with_capacity(64 * 1024, out);
    let mut stats = ExportStats::default();
    match format {
        Format::Wigle => wigle::write(&snap, options, z, &mut w, &mut stats)?,
        Format::Kml => kml::write(&snap, options, z, &mut w, &mut stats)?,
        Format::Geojson => geojson::write(&snap, options, z, &mut w, &mut stats)?,
        Format::Csv => csv::write(&snap, options, z, &mut w, &mut stats)?,
        Format::Gpx => gpx::write(&snap, options, z, &mut w, &mut stats)?,
    }
    w.flush()?;
    Ok(stats)
}

/// Turns a step's result into the control flow the store's walks take.
fn step(r: Result<(), ExportError>) -> ControlFlow<ExportError> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }
}

/// The end of a walk: a store error, or the error a step stopped it with.
fn finish(r: Result<ControlFlow<ExportError>, StoreError>) -> Result<(), ExportError> {
    match r? {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

/// The networks an export covers: every AP, or those seen in `session`, in BSSID order,
/// but those placed in a home zone (counted in `stats`).
fn for_each_network(
    snap: &Snapshot,
    session: Option<u64>,
    zones: &HomeZones,
    stats: &mut ExportStats,
    mut f: impl FnMut(&crate::model::ApRecord, &mut ExportStats) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let mut each = |ap: &crate::model::ApRecord| {
        if zones.contains_network(ap) {
            stats.skipped_home_zone += 1;
            return step(Ok(()));
        }
        step(f(ap, stats))
    };
    match session {
        Some(id) => finish(snap.for_each_ap_in_session(id, &mut each)),
        None => finish(snap.for_each_ap(&mut each)),
    }
}
