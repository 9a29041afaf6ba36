//! Small pure formatters shared by the pages and the JSON API: times, security, bands.

use crate::dot11::security::{self, akm_name, cipher_name};
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

/// UTC time to the second, for the detail page: `2026-11-27 14:57:03`.
pub fn time_full(us: TimeUs) -> String {
    let (y, mo, d, h, mi, s) = civil(us);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// UTC time to the minute, for the list, where width is scarce: `2026-11-27 14:57`.
pub fn time_short(us: TimeUs) -> String {
    let (y, mo, d, h, mi, _) = civil(us);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// RFC 3339 UTC time, for `<time datetime>` and the JSON API: `2026-11-27T14:57:03Z`.
pub fn time_iso(us: TimeUs) -> String {
    let (y, mo, d, h, mi, s) = civil(us);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// A size for people, in binary units: `512 B`, `3.4 MiB`, `28.1 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
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

/// The security class (`OPEN`, `WEP`, `WPA/WPA2`, `WPA2/WPA3`, ...) by the decoder's rule,
/// which is the truth files' definition.
pub fn security_class(s: &Security) -> String {
    security::classify(s.privacy, s.wpa, s.rsn_akms).to_string()
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

/// A suite bit set as names (unknown numbers as `type N`), or a dash when empty.
fn suites(set: u32, name: fn(u8) -> Option<&'static str>) -> String {
    let names: Vec<String> = (0..32u8)
        .filter(|&n| set & (1 << n) != 0)
        .map(|n| name(n).map_or_else(|| format!("type {n}"), str::to_owned))
        .collect();
    if names.is_empty() {
        "–".to_owned()
    } else {
        names.join(", ")
    }
}

/// WPA (00-50-F2) AKMs: only the first two were ever defined.
fn wpa_akm_name(n: u8) -> Option<&'static str> {
    match n {
        1 => Some("802.1X"),
        2 => Some("PSK"),
        _ => None,
    }
}

/// The security ingredients, spelled out for the detail page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecurityDetail {
    pub privacy: bool,
    pub wpa: bool,
    pub rsn_akms: String,
    pub rsn_pairwise: String,
    pub rsn_group: String,
    pub wpa_akms: String,
    pub wpa_ciphers: String,
    pub pmf: &'static str,
    /// The page's one-line summary; the API gives the WPS names one by one instead.
    #[serde(skip)]
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
        assert_eq!(time_full(t), "2026-11-27 14:57:03");
        assert_eq!(time_short(t), "2026-11-27 14:57");
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
        // An RSN AKM nobody knows still means WPA2 (the decoder's rule, like the truth files).
        assert_eq!(security_class(&s(false, &[30], true)), "WPA2");
        assert_eq!(security_css("WPA2/WPA3"), "good");
    }

    #[test]
    fn suites_are_named() {
        assert_eq!(suites(1 << 2 | 1 << 8, akm_name), "PSK, SAE");
        assert_eq!(suites(1 << 30, akm_name), "type 30");
        assert_eq!(suites(0, cipher_name), "–");
    }
}
