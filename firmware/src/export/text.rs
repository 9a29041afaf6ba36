//! Text helpers shared by the exports: UTC times, SSID renderings, CSV and XML escaping, the
//! security conversion and the one place that decides where a network is drawn.

use std::fmt::Write as _;

use piwardrive_dot11::security::{EncClass, SecuritySummary};

use crate::model::{ApRecord, Fix, Pmf, Security, TimeUs};
use crate::web::escape::is_deceptive;

/// A UTC calendar time, from Unix microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub(crate) fn from_us(us: TimeUs) -> Utc {
        // Floor division, so an instant before 1970 still lands in the right second and day.
        let secs = us.div_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod % 3600 / 60) as u32,
            second: (sod % 60) as u32,
        }
    }

    /// Whether the year has four digits, so the fixed-width formats below stay fixed-width.
    pub(crate) fn is_four_digit_year(&self) -> bool {
        (0..=9999).contains(&self.year)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date, by counting whole 400-year eras
/// (146,097 days each) from 0000-03-01, so that the leap day falls at the end of a year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March ... 11 = February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `yyyy-MM-dd HH:mm:ss` in UTC, zero-padded, as the WiGLE app writes FirstSeen.
pub(crate) fn wigle_time(us: TimeUs) -> String {
    let t = Utc::from_us(us);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// ISO 8601 / RFC 3339 in UTC with a `Z`, to the second (GPX, KML, GeoJSON, CSV).
pub(crate) fn iso_time(us: TimeUs) -> String {
    let t = Utc::from_us(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// The SSID for WiGLE: WiGLE 1.6 files are UTF-8 and WiGLE keys networks by BSSID, so the
/// SSID is written exactly when it is UTF-8; a byte sequence that is not valid UTF-8 becomes
/// U+FFFD (one per invalid sequence), and NUL bytes are dropped because C-string based readers
/// stop at them. Nothing else is changed: commas, quotes, CR/LF and formula prefixes stay, and
/// RFC 4180 quoting keeps them inside the field.
pub(crate) fn ssid_wigle(ssid: &[u8]) -> String {
    let mut s = String::from_utf8_lossy(ssid).into_owned();
    s.retain(|c| c != '\0');
    s
}

/// The SSID as unambiguous, printable text (KML, GeoJSON, our CSV): valid UTF-8 is kept,
/// `\` becomes `\\`, a byte that is not part of valid UTF-8 becomes `\xNN`, an ASCII control
/// character `\xNN`, a C1 control or a non-character that XML 1.0 forbids `\u{NNNN}`, and a
/// character that reorders or hides the text around it (a right-to-left override, a
/// zero-width space: [`is_deceptive`], the same set the web UI escapes) the `\xNN` of its
/// bytes, as the UI shows it. The mapping is reversible, so the exact bytes can be recovered
/// (they are also in `ssid_hex`).
pub(crate) fn ssid_escaped(ssid: &[u8]) -> String {
    let mut out = String::with_capacity(ssid.len());
    for chunk in ssid.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\0'..='\x1f' | '\x7f' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                    let _ = write!(out, "\\u{{{:04x}}}", c as u32);
                }
                c if is_deceptive(c) => {
                    for b in c.encode_utf8(&mut [0; 4]).bytes() {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Lowercase hex of the raw bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Appends `field` to a CSV line per RFC 4180: quoted (with `"` doubled) when it holds a
/// comma, a quote, CR or LF, or starts or ends with a space (which some readers trim), so no
/// content can move a column.
pub(crate) fn push_csv_field(line: &mut String, field: &str) {
    let needs_quotes = field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        || field.starts_with(' ')
        || field.ends_with(' ');
    if needs_quotes {
        line.push('"');
        for c in field.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// A cell a spreadsheet would treat as a formula (`=`, `+`, `-`, `@`, or a leading tab or CR
/// that some spreadsheets skip before looking) gets a leading apostrophe, which spreadsheets
/// read as "this is text". Only for text that came off the air, never for our own numbers.
pub(crate) fn neutralise_formula(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('\'');
        s.push_str(&text);
        s
    } else {
        text
    }
}

/// Escapes text for XML 1.0 content and attribute values. Characters that XML 1.0 does not
/// allow at all (C0 controls other than tab, LF and CR; U+FFFE and U+FFFF) cannot be written
/// even as character references, so they are dropped; SSIDs reach this already escaped by
/// [`ssid_escaped`], which keeps their information.
pub(crate) fn push_xml_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\0'..='\x1f' | '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// The stored security ingredients as the decoder's summary, so WiGLE's AuthMode and the
/// security class come from the same code as everywhere else. `ibss` is the AP record's
/// flag; every other BSS we record is an infrastructure one (ESS).
pub(crate) fn security_summary(s: &Security, ibss: bool) -> SecuritySummary {
    SecuritySummary {
        privacy: s.privacy,
        ess: !ibss,
        ibss,
        wpa: s.wpa,
        wpa_akms: s.wpa_akms,
        wpa_ciphers: s.wpa_ciphers,
        rsn: s.rsn_akms != 0 || s.rsn_pairwise != 0 || s.rsn_group != 0,
        rsn_akms: s.rsn_akms,
        rsn_pairwise: s.rsn_pairwise,
        rsn_group: s.rsn_group,
        mfp_capable: s.pmf != Pmf::Disabled,
        mfp_required: s.pmf == Pmf::Required,
        wps: s.wps.is_some(),
        wps_configured: s.wps.as_ref().and_then(|w| w.state) == Some(2),
    }
}

/// The one style a network is drawn with: its strongest class (a WPA2/WPA3 transition network
/// is drawn as WPA3). The ids are the KML `Style` ids.
pub(crate) fn style_id(class: EncClass) -> &'static str {
    if class.contains(EncClass::WPA3) {
        "wpa3"
    } else if class.contains(EncClass::WPA2) {
        "wpa2"
    } else if class.contains(EncClass::WPA) {
        "wpa"
    } else if class.contains(EncClass::OWE) {
        "owe"
    } else if class.contains(EncClass::WEP) {
        "wep"
    } else {
        "open"
    }
}

/// Where a network is drawn on a map: the tracker's signal-weighted estimate when it has one,
/// else the fix of its strongest located sighting. The estimate carries no altitude, so the
/// best fix's is used; its accuracy is the worst accuracy among the sightings that went into
/// it (a floor, as the estimate documents), and its time the best fix's (else last seen).
/// This is the one place that decides; every map format calls it.
pub fn position(ap: &ApRecord) -> Option<Fix> {
    let estimate = ap.position.and_then(|e| {
        let (lat, lon) = e.lat_lon()?;
        Some(Fix {
            lat,
            lon,
            alt_m: ap.best_fix.and_then(|f| f.alt_m),
            accuracy_m: e.worst_accuracy_m,
            time_us: ap.best_fix.map_or(ap.last_seen, |f| f.time_us),
        })
    });
    estimate
        .filter(Fix::is_plausible)
        .or_else(|| ap.best_fix.filter(Fix::is_plausible))
}

/// The name a network is listed under: its SSID as text, else `(hidden)`.
pub(crate) fn display_name(ap: &ApRecord) -> String {
    match ap.ssid.as_deref() {
        Some(s) if !s.is_empty() => ssid_escaped(s),
        _ => "(hidden)".to_string(),
    }
}
