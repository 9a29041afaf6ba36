//! Text renderings of the network table for the command line: tsv (for machines and tests), json and an aligned table.

use crate::model::ApRecord;
use piwardrive_dot11::security;
use std::fmt::Write as _;

/// The security class of an AP as the truth files write it (`WPA/WPA2`, `OPEN`, ...).
pub fn enc_class(ap: &ApRecord) -> String {
    let s = &ap.security;
    security::classify(s.privacy, s.wpa, s.rsn_akms).to_string()
}

/// Lowercase hex of raw bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// An SSID as printable text: printable ASCII as itself, `\` as `\\`, anything else as
/// `\xNN`. The same convention as the truth files' `ssid_escaped`, so nothing from the air can
/// inject control characters, tabs or newlines into a terminal or a TSV.
pub fn escape_ssid(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for &b in raw {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// The TSV header. The first six columns are a contract (see the README and the truth test).
pub const TSV_HEADER: &str = "bssid\tssid_hex\thidden\tchannel\tmax_signal_dbm\tenc_class\tssid_escaped\tband\tfreq_mhz\tvendor\tfirst_seen_us\tlast_seen_us\tbeacons\tprobe_responses\tdata_frames\tclients";

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Removes the characters that would break a TSV cell. Vendor names come from the IEEE
/// registry, not the air, but a cell must never be able to shift a column.
fn tsv_cell(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// One TSV row per AP, in the order given.
pub fn tsv(aps: &[ApRecord]) -> String {
    let mut out = String::with_capacity(64 + aps.len() * 160);
    out.push_str(TSV_HEADER);
    out.push('\n');
    for ap in aps {
        let ssid = ap.ssid.as_deref().unwrap_or(&[]);
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            ap.bssid,
            hex(ssid),
            u8::from(ap.hidden),
            opt(ap.channel),
            opt(ap.best_signal_dbm),
            enc_class(ap),
            escape_ssid(ssid),
            ap.band.map(|b| b.label()).unwrap_or(""),
            opt(ap.freq_mhz),
            tsv_cell(ap.vendor.as_deref().unwrap_or("")),
            ap.first_seen,
            ap.last_seen,
            ap.beacons,
            ap.probe_responses,
            ap.data_frames,
            ap.client_count,
        );
    }
    out
}

/// A JSON array of APs with display-ready fields (raw SSID as hex, escaped SSID as text).
pub fn json(aps: &[ApRecord]) -> serde_json::Value {
    serde_json::Value::Array(
        aps.iter()
            .map(|ap| {
                let ssid = ap.ssid.as_deref().unwrap_or(&[]);
                serde_json::json!({
                    "bssid": ap.bssid.to_string(),
                    "ssid": escape_ssid(ssid),
                    "ssid_hex": hex(ssid),
                    "hidden": ap.hidden,
                    "channel": ap.channel,
                    "freq_mhz": ap.freq_mhz,
                    "band": ap.band.map(|b| b.label()),
                    "max_signal_dbm": ap.best_signal_dbm,
                    "enc_class": enc_class(ap),
                    "vendor": ap.vendor,
                    "first_seen_us": ap.first_seen,
                    "last_seen_us": ap.last_seen,
                    "beacons": ap.beacons,
                    "probe_responses": ap.probe_responses,
                    "data_frames": ap.data_frames,
                    "clients": ap.client_count,
                })
            })
            .collect(),
    )
}

/// An aligned table for people.
pub fn table(aps: &[ApRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<17}  {:<32}  {:>4}  {:>5}  {:<14}  VENDOR",
        "BSSID", "SSID", "CH", "DBM", "SECURITY"
    );
    for ap in aps {
        let ssid = match (&ap.ssid, ap.hidden) {
            (Some(s), _) => escape_ssid(s),
            (None, true) => "<hidden>".to_string(),
            (None, false) => String::new(),
        };
        let ssid: String = if ssid.chars().count() > 32 {
            ssid.chars().take(31).chain(['…']).collect()
        } else {
            ssid
        };
        let _ = writeln!(
            out,
            "{:<17}  {:<32}  {:>4}  {:>5}  {:<14}  {}",
            ap.bssid,
            ssid,
            opt(ap.channel),
            opt(ap.best_signal_dbm),
            enc_class(ap),
            tsv_cell(ap.vendor.as_deref().unwrap_or("")),
        );
    }
    let _ = writeln!(out, "{} networks", aps.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_truth_files() {
        // aircrack_Chinese-SSID-Name.tsv: GBK bytes, ssid_escaped "\xb2\xe2\xca\xd4".
        assert_eq!(
            escape_ssid(&[0xb2, 0xe2, 0xca, 0xd4]),
            "\\xb2\\xe2\\xca\\xd4"
        );
        assert_eq!(escape_ssid(b"a\\b\tc\n\0"), "a\\\\b\\x09c\\x0a\\x00");
        assert_eq!(hex(b"WML"), "574d4c");
    }

    #[test]
    fn hostile_ssid_cannot_shift_tsv_columns() {
        let mut ap = ApRecord::new("00:11:22:33:44:55".parse().unwrap(), 1);
        ap.ssid = Some(b"evil\tcol\nrow\r=cmd|".to_vec());
        ap.vendor = Some("Bad\tVendor".into());
        let out = tsv(&[ap]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let header_cols = lines[0].split('\t').count();
        assert_eq!(lines[1].split('\t').count(), header_cols);
    }
}
