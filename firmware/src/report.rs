//! Text renderings of the network and client tables for the command line: tsv (for machines and tests), json and an aligned table.

use crate::model::{ApRecord, ClientRecord};
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

/// The clients TSV header.
pub const CLIENTS_TSV_HEADER: &str = "mac\tassociated_bssid\trandomized\tprobed_ssids_hex\tvendor\tfirst_seen_us\tlast_seen_us\tframes\tmax_signal_dbm";

/// One TSV row per client, in the order given. Probed SSIDs are hex, comma-separated.
pub fn clients_tsv(clients: &[ClientRecord]) -> String {
    let mut out = String::with_capacity(64 + clients.len() * 120);
    out.push_str(CLIENTS_TSV_HEADER);
    out.push('\n');
    for c in clients {
        let probed: Vec<String> = c.probed_ssids.iter().map(|s| hex(s)).collect();
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.mac,
            opt(c.associated_bssid),
            u8::from(c.randomized),
            probed.join(","),
            tsv_cell(c.vendor.as_deref().unwrap_or("")),
            c.first_seen,
            c.last_seen,
            c.frames,
            opt(c.best_signal_dbm),
        );
    }
    out
}

/// A JSON array of clients (probed SSIDs escaped and as hex).
pub fn clients_json(clients: &[ClientRecord]) -> serde_json::Value {
    serde_json::Value::Array(
        clients
            .iter()
            .map(|c| {
                let probed: Vec<serde_json::Value> = c
                    .probed_ssids
                    .iter()
                    .map(|s| serde_json::json!({ "ssid": escape_ssid(s), "ssid_hex": hex(s) }))
                    .collect();
                serde_json::json!({
                    "mac": c.mac.to_string(),
                    "associated_bssid": c.associated_bssid.map(|b| b.to_string()),
                    "randomized": c.randomized,
                    "probed_ssids": probed,
                    "vendor": c.vendor,
                    "first_seen_us": c.first_seen,
                    "last_seen_us": c.last_seen,
                    "frames": c.frames,
                    "max_signal_dbm": c.best_signal_dbm,
                })
            })
            .collect(),
    )
}

/// An aligned client table for people.
pub fn clients_table(clients: &[ClientRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<17}  {:<17}  {:>5}  {:>7}  PROBED",
        "CLIENT", "ASSOCIATED WITH", "DBM", "FRAMES"
    );
    for c in clients {
        let probed: Vec<String> = c.probed_ssids.iter().map(|s| escape_ssid(s)).collect();
        let _ = writeln!(
            out,
            "{:<17}  {:<17}  {:>5}  {:>7}  {}",
            c.mac,
            opt(c.associated_bssid),
            opt(c.best_signal_dbm),
            c.frames,
            probed.join(", "),
        );
    }
    let _ = writeln!(out, "{} clients", clients.len());
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

    #[test]
    fn client_rows_carry_the_association_and_escape_probes() {
        let c = ClientRecord {
            mac: "02:11:22:33:44:55".parse().unwrap(),
            randomized: true,
            probed_ssids: vec![b"home".to_vec(), b"a\tb\n".to_vec()],
            associated_bssid: Some("00:0c:41:82:b2:55".parse().unwrap()),
            vendor: None,
            first_seen: 1,
            last_seen: 2,
            frames: 3,
            best_signal_dbm: Some(-40),
            best_fix: None,
        };
        let out = clients_tsv(std::slice::from_ref(&c));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let cols: Vec<&str> = lines[1].split('\t').collect();
        assert_eq!(cols.len(), CLIENTS_TSV_HEADER.split('\t').count());
        assert_eq!(cols[0], "02:11:22:33:44:55");
        assert_eq!(cols[1], "00:0c:41:82:b2:55");
        assert_eq!(cols[3], "686f6d65,6109620a");
        let j = clients_json(&[c]);
        assert_eq!(j[0]["probed_ssids"][1]["ssid"], "a\\x09b\\x0a");
    }
}
