//! Small pure formatters shared by the pages and the JSON API: times, security, bands.

use crate::model::{ApRecord, Band, Phy, Pmf, Security, TimeUs};

/// Splits Unix microseconds into a UTC civil date and time of day.
///
/// The date part is the days-to-civil conversion from Howard Hinnant's "chrono-Compatible
/// Low-Level Date Algorithms", written out here because the appliance has no date crate and
/// needs only this.
fn civil(us: TimeUs) -> (i64, u32, u32, u32, u32, u32) {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, sod / 3600, sod / 60 % 60, sod % 60)
}

/// Short UTC time for tables: `2026-11-27 14:57:03`.
pub fn time_short(us: TimeUs) -> String {
    let (y, mo, d, h, mi, s) = civil(us);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// RFC 3339 UTC time, for `<time datetime>` and the JSON API: `2026-11-27T14:57:03Z`.
pub fn time_iso(us: TimeUs) -> String {
    let (y, mo, d, h, mi, s) = civil(us);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `Band::label`, or a dash when unknown.
pub fn band(b: Option<Band>) -> &'static str {
    b.map_or("–", Band::label)
}

pub fn phy(p: Phy) -> &'static str {
    match p {
        Phy::Legacy => "a/b/g",
        Phy::N => "n (Wi-Fi 4)",
        Phy::Ac => "ac (Wi-Fi 5)",
        Phy::Ax => "ax (Wi-Fi 6)",
        Phy::Be => "be (Wi-Fi 7)",
    }
}

pub fn pmf(p: Pmf) -> &'static str {
    match p {
        Pmf::Disabled => "disabled",
        Pmf::Capable => "capable",
        Pmf::Required => "required",
    }
}

fn has(set: u32, n: u32) -> bool {
    n < 32 && set & (1 << n) != 0
}

/// The security class as the truth files define it (see data/README.md): WPA element gives
/// WPA; RSN AKMs 1-6, 14-17, 19, 20 give WPA2; 8, 9, 11, 12, 13, 24, 25 give WPA3; 18 gives
/// OWE; classes join with `/`; with neither element the privacy bit gives WEP, else OPEN.
///
/// The decoder's `dot11::security` module is meant to own this rule; until it exposes it for
/// `model::Security`, the web UI derives the label here from the same definition.
pub fn security_class(s: &Security) -> String {
    const WPA2: &[u32] = &[1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 19, 20];
    const WPA3: &[u32] = &[8, 9, 11, 12, 13, 24, 25];
    let mut parts: Vec<&str> = Vec::new();
    if s.wpa {
        parts.push("WPA");
    }
    if WPA2.iter().any(|&n| has(s.rsn_akms, n)) {
        parts.push("WPA2");
    }
    if WPA3.iter().any(|&n| has(s.rsn_akms, n)) {
        parts.push("WPA3");
    }
    if has(s.rsn_akms, 18) {
        parts.push("OWE");
    }
    if !parts.is_empty() {
        parts.join("/")
    } else if s.privacy {
        "WEP".to_owned()
    } else {
        "OPEN".to_owned()
    }
}

/// A CSS class suffix for the class's colour: open and WEP are bad, WPA(1) only is weak.
pub fn security_css(class: &str) -> &'static str {
    match class {
        "OPEN" => "open",
        "WEP" => "wep",
        "WPA" => "wpa",
        _ => "good",
    }
}

/// Names of the 00-0f-ac AKM suite types (IEEE 802.11-2020 table 9-151).
fn akm_name(n: u32) -> Option<&'static str> {
    Some(match n {
        1 => "802.1X",
        2 => "PSK",
        3 => "FT-802.1X",
        4 => "FT-PSK",
        5 => "802.1X-SHA256",
        6 => "PSK-SHA256",
        7 => "TDLS",
        8 => "SAE",
        9 => "FT-SAE",
        10 => "AP-PeerKey",
        11 => "802.1X-Suite-B",
        12 => "802.1X-Suite-B-192",
        13 => "FT-802.1X-SHA384",
        14 => "FILS-SHA256",
        15 => "FILS-SHA384",
        16 => "FT-FILS-SHA256",
        17 => "FT-FILS-SHA384",
        18 => "OWE",
        19 => "FT-PSK-SHA384",
        20 => "PSK-SHA384",
        24 => "SAE-EXT-KEY",
        25 => "FT-SAE-EXT-KEY",
        _ => return None,
    })
}

/// Names of the 00-0f-ac cipher suite types (the WPA element uses the same numbers for 1-5).
fn cipher_name(n: u32) -> Option<&'static str> {
    Some(match n {
        0 => "group",
        1 => "WEP-40",
        2 => "TKIP",
        4 => "CCMP-128",
        5 => "WEP-104",
        6 => "BIP-CMAC-128",
        7 => "no group traffic",
        8 => "GCMP-128",
        9 => "GCMP-256",
        10 => "CCMP-256",
        11 => "BIP-GMAC-128",
        12 => "BIP-GMAC-256",
        13 => "BIP-CMAC-256",
        _ => return None,
    })
}

/// A suite bit set as names (unknown numbers as `type N`), or a dash when empty.
fn suites(set: u32, name: fn(u32) -> Option<&'static str>) -> String {
    let names: Vec<String> = (0..32)
        .filter(|&n| has(set, n))
        .map(|n| name(n).map_or_else(|| format!("type {n}"), str::to_owned))
        .collect();
    if names.is_empty() {
        "–".to_owned()
    } else {
        names.join(", ")
    }
}

fn wpa_akm_name(n: u32) -> Option<&'static str> {
    match n {
        1 => Some("802.1X"),
        2 => Some("PSK"),
        _ => None,
    }
}

/// The security ingredients, spelled out for the detail page.
#[derive(Debug, Clone)]
pub struct SecurityDetail {
    pub privacy: bool,
    pub wpa: bool,
    pub rsn_akms: String,
    pub rsn_pairwise: String,
    pub rsn_group: String,
    pub wpa_akms: String,
    pub wpa_ciphers: String,
    pub pmf: &'static str,
    pub wps: String,
}

impl SecurityDetail {
    pub fn new(s: &Security) -> SecurityDetail {
        let wps = match &s.wps {
            None => "absent".to_owned(),
            Some(w) => {
                let state = match w.state {
                    Some(1) => "not configured".to_owned(),
                    Some(2) => "configured".to_owned(),
                    Some(n) => format!("state {n}"),
                    None => "state unknown".to_owned(),
                };
                // Device strings come from the air too: shown through the SSID escaper.
                let mut out = vec![state];
                for v in [&w.manufacturer, &w.model, &w.device_name]
                    .into_iter()
                    .flatten()
                {
                    out.push(super::escape::display_ssid(v));
                }
                out.join(" · ")
            }
        };
        SecurityDetail {
            privacy: s.privacy,
            wpa: s.wpa,
            rsn_akms: suites(s.rsn_akms, akm_name),
            rsn_pairwise: suites(s.rsn_pairwise, cipher_name),
            rsn_group: suites(s.rsn_group, cipher_name),
            wpa_akms: suites(s.wpa_akms, wpa_akm_name),
            wpa_ciphers: suites(s.wpa_ciphers, cipher_name),
            pmf: pmf(s.pmf),
            wps,
        }
    }
}

/// The vendor, or a dash.
pub fn vendor(ap: &ApRecord) -> String {
    ap.vendor.clone().unwrap_or_else(|| "–".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc() {
        assert_eq!(time_iso(0), "1970-01-01T00:00:00Z");
        // 2026-11-27 14:57:03.5 UTC
        let t = 1_795_791_423_500_000;
        assert_eq!(time_iso(t), "2026-11-27T14:57:03Z");
        assert_eq!(time_short(t), "2026-11-27 14:57:03");
        assert_eq!(time_iso(951_782_400_000_000), "2000-02-29T00:00:00Z");
        // Before 1970 rounds down, not towards zero.
        assert_eq!(time_iso(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn security_classes_follow_the_truth_file_rule() {
        let s = |wpa, akms: &[u32], privacy| Security {
            wpa,
            rsn_akms: akms.iter().fold(0, |a, n| a | 1 << n),
            privacy,
            ..Default::default()
        };
        assert_eq!(security_class(&s(false, &[], false)), "OPEN");
        assert_eq!(security_class(&s(false, &[], true)), "WEP");
        assert_eq!(security_class(&s(true, &[], true)), "WPA");
        assert_eq!(security_class(&s(true, &[2], true)), "WPA/WPA2");
        assert_eq!(security_class(&s(false, &[2, 8], true)), "WPA2/WPA3");
        assert_eq!(security_class(&s(false, &[24], true)), "WPA3");
        assert_eq!(security_class(&s(false, &[18], false)), "OWE");
        assert_eq!(security_css("WPA2/WPA3"), "good");
    }

    #[test]
    fn suites_are_named() {
        assert_eq!(suites(1 << 2 | 1 << 8, akm_name), "PSK, SAE");
        assert_eq!(suites(1 << 30, akm_name), "type 30");
        assert_eq!(suites(0, cipher_name), "–");
    }
}
