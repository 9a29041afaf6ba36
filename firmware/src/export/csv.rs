//! CSV with every column of the network record, one row per network, for spreadsheets.
//!
//! RFC 4180 (CRLF line ends, quoting as needed). Text that came off the air (SSIDs, vendor
//! names from WPS, mesh IDs, country codes) is made printable by `ssid_escaped` and then
//! neutralised: a cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe
//! so a spreadsheet shows it instead of running it. Our own numbers are never neutralised (a
//! signal of -67 stays a number). The exact SSID is in `ssid_hex`.

use std::fmt::Write as _;
use std::io::Write;

use piwardrive_dot11::security::{akm_list, cipher_list};

use super::text::{
    hex, iso_time, neutralise_formula, push_csv_field, security_summary, ssid_escaped,
};
use super::{ExportError, ExportOptions, ExportStats, HomeZones, for_each_network};
use crate::model::{ApRecord, Phy, Pmf};
use crate::store::Snapshot;

pub(crate) const COLUMNS: [&str; 49] = [
    "bssid",
    "ssid",
    "ssid_hex",
    "hidden",
    "ssid_history",
    "channel",
    "frequency_mhz",
    "band",
    "width_mhz",
    "phy",
    "heard_channels",
    "security",
    "auth_mode",
    "privacy",
    "wpa",
    "rsn_akms",
    "rsn_pairwise",
    "rsn_group",
    "wpa_akms",
    "wpa_ciphers",
    "pmf",
    "wps",
    "wps_state",
    "wps_device_name",
    "wps_model",
    "wps_manufacturer",
    "vendor",
    "country",
    "mesh_id",
    "ibss",
    "first_seen",
    "last_seen",
    "beacons",
    "probe_responses",
    "data_frames",
    "best_signal_dbm",
    "best_lat",
    "best_lon",
    "best_alt_m",
    "best_accuracy_m",
    "best_fix_time",
    "best_fix_signal_dbm",
    "est_lat",
    "est_lon",
    "est_samples",
    "last_signal_dbm",
    "client_count",
    "ssid_count",
    "observed_in_session",
];

pub(super) fn write(
    snap: &Snapshot,
    options: &ExportOptions,
    zones: &HomeZones,
    out: &mut dyn Write,
    stats: &mut ExportStats,
) -> Result<(), ExportError> {
    out.write_all(COLUMNS.join(",").as_bytes())?;
    out.write_all(b"\r\n")?;
    let mut line = String::with_capacity(512);
    for_each_network(snap, options.session, zones, stats, |ap, stats| {
        line.clear();
        row(ap, options.session, &mut line);
        out.write_all(line.as_bytes())?;
        stats.written += 1;
        Ok(())
    })
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Air-supplied bytes as a safe spreadsheet cell.
fn air_text(bytes: &[u8]) -> String {
    neutralise_formula(ssid_escaped(bytes))
}

fn row(ap: &ApRecord, session: Option<u64>, line: &mut String) {
    let summary = security_summary(&ap.security, ap.ibss);
    let s = &ap.security;
    let wps = s.wps.as_ref();
    let fix = ap.best_fix;
    let estimate = ap.position.and_then(|e| e.lat_lon());
    let history = ap
        .ssid_history
        .iter()
        .map(|h| format!("{}:{}", hex(&h.ssid), h.count))
        .collect::<Vec<_>>()
        .join(" ");
    let heard = ap
        .heard_channels
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let cells: [String; 49] = [
        ap.bssid.to_string(),
        ap.ssid.as_deref().map(air_text).unwrap_or_default(),
        ap.ssid.as_deref().map(hex).unwrap_or_default(),
        ap.hidden.to_string(),
        history,
        opt(ap.channel),
        opt(ap.freq_mhz),
        ap.band.map(|b| b.label().to_string()).unwrap_or_default(),
        opt(ap.width_mhz),
        match ap.phy {
            Phy::Legacy => "legacy",
            Phy::N => "n",
            Phy::Ac => "ac",
            Phy::Ax => "ax",
            Phy::Be => "be",
        }
        .to_string(),
        heard,
        summary.enc_class().to_string(),
        summary.wigle_auth_mode().to_string(),
        s.privacy.to_string(),
        s.wpa.to_string(),
        akm_list(s.rsn_akms).to_string(),
        cipher_list(s.rsn_pairwise).to_string(),
        cipher_list(s.rsn_group).to_string(),
        akm_list(s.wpa_akms).to_string(),
        cipher_list(s.wpa_ciphers).to_string(),
        match s.pmf {
            Pmf::Disabled => "disabled",
            Pmf::Capable => "capable",
            Pmf::Required => "required",
        }
        .to_string(),
        wps.is_some().to_string(),
        opt(wps.and_then(|w| w.state)),
        wps.and_then(|w| w.device_name.as_deref())
            .map(air_text)
            .unwrap_or_default(),
        wps.and_then(|w| w.model.as_deref())
            .map(air_text)
            .unwrap_or_default(),
        wps.and_then(|w| w.manufacturer.as_deref())
            .map(air_text)
            .unwrap_or_default(),
        // Vendor names come from the IEEE registry, but a registry entry is text we did not
        // write either.
        ap.vendor
            .as_deref()
            .map(|v| air_text(v.as_bytes()))
            .unwrap_or_default(),
        ap.country.map(|c| air_text(&c)).unwrap_or_default(),
        ap.mesh_id.as_deref().map(air_text).unwrap_or_default(),
        ap.ibss.to_string(),
        iso_time(ap.first_seen),
        iso_time(ap.last_seen),
        ap.beacons.to_string(),
        ap.probe_responses.to_string(),
        ap.data_frames.to_string(),
        opt(ap.best_signal_dbm),
        opt(fix.map(|f| format!("{:.8}", f.lat))),
        opt(fix.map(|f| format!("{:.8}", f.lon))),
        opt(fix.and_then(|f| f.alt_m).map(|a| format!("{a:.1}"))),
        opt(fix.map(|f| format!("{:.1}", f.accuracy_m))),
        opt(fix.map(|f| iso_time(f.time_us))),
        opt(ap.best_fix_signal_dbm),
        opt(estimate.map(|(lat, _)| format!("{lat:.8}"))),
        opt(estimate.map(|(_, lon)| format!("{lon:.8}"))),
        opt(ap.position.map(|e| e.samples)),
        opt(ap.last_signal_dbm),
        ap.client_count.to_string(),
        ap.ssid_history.len().to_string(),
        opt(session),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_csv_field(line, c);
    }
    let _ = line.write_str("\r\n");
}
