//! GeoJSON (RFC 7946): a FeatureCollection with one Point feature per network.
//!
//! The collection is written by hand around features that serde_json serialises one at a
//! time, so the file streams and every string (hostile SSIDs included) is escaped by
//! serde_json. Positions are `[longitude, latitude]` (RFC 7946 section 3.1.1) rounded to six
//! decimals (about 0.1 m, the precision RFC 7946 section 11.2 suggests); altitude is a
//! property, not a third coordinate, because many tools mishandle 3D points.

use std::io::Write;

use serde::Serialize;

use super::text::{hex, iso_time, position, security_summary, ssid_escaped};
use super::{ExportError, ExportOptions, ExportStats, HomeZones, for_each_network};
use crate::model::ApRecord;
use crate::store::Snapshot;

#[derive(Serialize)]
struct Feature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: Point,
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct Point {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [f64; 2],
}

#[derive(Serialize)]
struct Properties<'a> {
    bssid: String,
    /// The SSID as printable text (see `text::ssid_escaped`), `null` when hidden or unknown.
    ssid: Option<String>,
    /// The exact SSID bytes in hex, `null` when unknown.
    ssid_hex: Option<String>,
    hidden: bool,
    channel: Option<u16>,
    frequency: Option<u16>,
    /// The security class, e.g. `WPA2/WPA3`.
    security: String,
    auth_mode: String,
    /// The best signal heard, in dBm (the position is where it was heard).
    signal: Option<i8>,
    first_seen: String,
    last_seen: String,
    altitude_m: Option<f64>,
    accuracy_m: f64,
    vendor: Option<&'a str>,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub(super) fn write(
    snap: &Snapshot,
    options: &ExportOptions,
    zones: &HomeZones,
    out: &mut dyn Write,
    stats: &mut ExportStats,
) -> Result<(), ExportError> {
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    let mut first = true;
    for_each_network(snap, options.session, zones, stats, |ap, stats| {
        let Some(feature) = feature(ap, stats) else {
            return Ok(());
        };
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut *out, &feature)?;
        stats.written += 1;
        Ok(())
    })?;
    out.write_all(b"\n]}\n")?;
    Ok(())
}

fn feature<'a>(ap: &'a ApRecord, stats: &mut ExportStats) -> Option<Feature<'a>> {
    let Some(fix) = position(ap) else {
        if ap.best_fix.is_some() {
            stats.skipped_bad_fix += 1;
        } else {
            stats.skipped_no_fix += 1;
        }
        return None;
    };
    let summary = security_summary(&ap.security, ap.ibss);
    Some(Feature {
        kind: "Feature",
        geometry: Point {
            kind: "Point",
            coordinates: [round6(fix.lon), round6(fix.lat)],
        },
        properties: Properties {
            bssid: ap.bssid.to_string(),
            ssid: ap.ssid.as_deref().map(ssid_escaped),
            ssid_hex: ap.ssid.as_deref().map(hex),
            hidden: ap.hidden,
            channel: ap.channel,
            frequency: ap.freq_mhz,
            security: summary.enc_class().to_string(),
            auth_mode: summary.wigle_auth_mode().to_string(),
            signal: ap.best_signal_dbm,
            first_seen: iso_time(ap.first_seen),
            last_seen: iso_time(ap.last_seen),
            altitude_m: fix.alt_m,
            accuracy_m: fix.accuracy_m,
            vendor: ap.vendor.as_deref(),
        },
    })
}
