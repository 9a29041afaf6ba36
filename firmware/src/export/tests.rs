//! Conformance tests of the exports: one test per WiGLE CSV 1.6 rule (several of which
//! Kismet's writer breaks), hostile SSIDs through every format, and the text helpers.

use proptest::prelude::*;

use super::text::{self, Utc};
use super::*;
use crate::model::{
    ApRecord, Band, Fix, Observation, ObservationKind, Phy, Pmf, Security, SessionRecord,
    SessionStatus, TimeSource, WpsInfo,
};
use crate::store::{Batch, StoreWriter};
use piwardrive_dot11::MacAddr;

/// 2026-01-02 03:04:05 UTC.
const T0: i64 = 1_767_323_045_000_000;

/// A test-side RFC 4180 reader (the `csv` crate is not a dependency): quoted fields may hold
/// commas, doubled quotes, CR and LF; records end in LF or CRLF.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut field_started = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started => {
                in_quotes = true;
                field_started = true;
            }
            '"' => panic!("a quote inside an unquoted field: {field:?}"),
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                field_started = false;
            }
            c => {
                field.push(c);
                field_started = true;
            }
        }
    }
    assert!(!in_quotes, "unterminated quoted field");
    assert!(field.is_empty() && record.is_empty(), "no final newline");
    records
}

fn mac(n: u64) -> MacAddr {
    MacAddr::from_u64(n)
}

fn fix(lat: f64, lon: f64, time_us: i64) -> Fix {
    Fix {
        lat,
        lon,
        alt_m: Some(41.25),
        accuracy_m: 4.5,
        time_us,
    }
}

fn bits(types: &[u8]) -> u32 {
    types.iter().fold(0, |m, t| m | 1 << t)
}

fn wpa2_psk() -> Security {
    Security {
        privacy: true,
        rsn_akms: bits(&[2]),
        rsn_pairwise: bits(&[4]),
        rsn_group: bits(&[4]),
        pmf: Pmf::Disabled,
        ..Security::default()
    }
}

fn ap(bssid: u64, ssid: &[u8], security: Security) -> ApRecord {
    ApRecord {
        bssid: mac(bssid),
        ssid: Some(ssid.to_vec()),
        ssid_history: Vec::new(),
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![6],
        security,
        vendor: Some("Acme".into()),
        country: None,
        mesh_id: None,
        ibss: false,
        first_seen: T0 - 3_600_000_000,
        last_seen: T0 + 60_000_000,
        beacons: 10,
        probe_responses: 0,
        data_frames: 0,
        best_signal_dbm: Some(-61),
        best_fix: Some(fix(52.52, 13.405, T0)),
        best_fix_signal_dbm: Some(-61),
        position: None,
        last_signal_dbm: Some(-70),
        client_count: 0,
    }
}

fn obs(seq: u64, session: u64, m: u64, time: i64, f: Option<Fix>) -> Observation {
    Observation {
        seq,
        session_id: session,
        kind: ObservationKind::Ap,
        mac: mac(m),
        time,
        signal_dbm: Some(-67),
        channel: Some(6),
        freq_mhz: Some(2437),
        fix: f,
    }
}

fn session(id: u64, start: i64, end: Option<i64>) -> SessionRecord {
    SessionRecord {
        id,
        device_id: [7; 16],
        started_at: start,
        ended_at: end,
        sources: vec!["test".into()],
        status: SessionStatus::Ended,
        time_source: TimeSource::Gps,
        frames: 1,
    }
}

/// The hostile SSID of the Python check: commas, quotes, CR/LF, a spreadsheet formula,
/// invalid UTF-8 and a NUL byte.
const HOSTILE: &[u8] = b"=cmd|' /C calc'!A0,\"quoted\",\r\nline2\xff\xfe\x00end";
/// Characters that break XML when written raw.
const XML_HOSTILE: &[u8] = b"]]><a href='x'>&amp;\x01\x1b\"";

const AP_WPA2: u64 = 0xaabb_ccdd_eeff;
const AP_6GHZ: u64 = 0x1122_3344_5566;
const AP_HOSTILE: u64 = 0x0200_0000_0001;
const AP_XML: u64 = 0x0200_0000_0002;
const AP_NOFIX: u64 = 0x0200_0000_0003;
const CLIENT: u64 = 0x0600_0000_0009;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();

    let mut six = ap(
        AP_6GHZ,
        b"",
        Security {
            privacy: true,
            rsn_akms: bits(&[8]),
            rsn_pairwise: bits(&[4]),
            rsn_group: bits(&[4]),
            pmf: Pmf::Required,
            ..Security::default()
        },
    );
    six.ssid = None;
    six.hidden = true;
    six.channel = Some(37);
    six.freq_mhz = Some(6135);
    six.band = Some(Band::B6);
    let mut nofix = ap(AP_NOFIX, b"nofix", Security::default());
    nofix.best_fix = None;
    let mut hostile = ap(
        AP_HOSTILE,
        HOSTILE,
        Security {
            privacy: true,
            wpa: true,
            wpa_akms: bits(&[2]),
            wpa_ciphers: bits(&[2]),
            wps: Some(WpsInfo {
                state: Some(2),
                device_name: Some(b"+SUM(1,2)".to_vec()),
                ..WpsInfo::default()
            }),
            ..Security::default()
        },
    );
    hostile.vendor = Some("@vendor".into());

    let mut six_obs = obs(4, 1, AP_6GHZ, T0 + 3_000_000, Some(fix(-33.9, 151.2, T0)));
    // A stored channel that Kismet's formula would give ((6135 - 5000) / 5); the frequency
    // decides.
    six_obs.channel = Some(227);
    six_obs.freq_mhz = Some(6135);
    six_obs.signal_dbm = None;
    let mut client = obs(5, 1, CLIENT, T0, Some(fix(52.0, 13.0, T0)));
    client.kind = ObservationKind::Client;
    let mut tiny_accuracy = fix(52.5201, 13.4051, T0);
    tiny_accuracy.accuracy_m = 0.01;
    tiny_accuracy.alt_m = None;
    let mut zero_accuracy = fix(52.5201, 13.4051, T0);
    zero_accuracy.accuracy_m = 0.0;
    let nan = Fix {
        lat: f64::NAN,
        ..fix(0.0, 0.0, T0)
    };

    let batch = Batch {
        aps: vec![
            ap(AP_WPA2, b"Example,Net", wpa2_psk()),
            six,
            hostile,
            ap(AP_XML, XML_HOSTILE, Security::default()),
            nofix,
        ],
        observations: vec![
            obs(1, 1, AP_WPA2, T0, Some(fix(52.52, 13.405, T0))),
            // Seen again an hour later: its row carries its own time, not the first sighting.
            obs(2, 1, AP_WPA2, T0 + 3_600_000_000, Some(tiny_accuracy)),
            obs(3, 1, AP_WPA2, T0 + 7_200_000_000, None),
            six_obs,
            client,
            obs(
                6,
                2,
                AP_HOSTILE,
                T0 + 86_400_000_000,
                Some(fix(1.0, -2.0, T0)),
            ),
            obs(7, 2, AP_XML, T0 + 86_400_000_000, Some(fix(1.5, -2.5, T0))),
            obs(8, 2, AP_WPA2, T0, Some(zero_accuracy)),
            obs(9, 2, AP_WPA2, T0, Some(nan)),
            obs(10, 2, AP_NOFIX, T0, None),
        ],
        sessions: vec![
            session(1, T0 - 10_000_000, Some(T0 + 7_300_000_000)),
            session(2, T0 + 80_000_000_000, None),
        ],
        track: vec![
            fix(52.0, 13.0, T0),
            fix(52.0001, 13.0001, T0 + 1_000_000),
            // A two-minute gap starts a new segment.
            fix(52.001, 13.001, T0 + 121_000_000),
            fix(52.1, 13.1, T0 + 90_000_000_000),
        ],
        ..Batch::default()
    };
    let w = StoreWriter::spawn(store.clone());
    w.send(batch).unwrap();
    w.finish().unwrap();
    Fixture { _dir: dir, store }
}

fn run(store: &Store, format: Format, session: Option<u64>) -> (String, ExportStats) {
    let mut out = Vec::new();
    let stats = export(store, format, session, &mut out).unwrap();
    (
        String::from_utf8(out).expect("every export is UTF-8"),
        stats,
    )
}

fn wigle_rows(session: Option<u64>) -> (Vec<Vec<String>>, ExportStats) {
    let f = fixture();
    let (text, stats) = run(&f.store, Format::Wigle, session);
    (parse_csv(&text), stats)
}

fn row_of(rows: &[Vec<String>], m: u64) -> Vec<&Vec<String>> {
    let m = mac(m).to_string();
    rows.iter().skip(2).filter(|r| r[0] == m).collect()
}

#[test]
fn wigle_header_lines_are_exact() {
    let f = fixture();
    let (text, _) = run(&f.store, Format::Wigle, None);
    let mut lines = text.split('\n');
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "WigleWifi-1.6,appRelease={v},model=PiWardrive,release={v},device=piwardrive,\
             display=piwardrive,board=unknown,brand=PiWardrive,star=Sol,body=3,subBody=0"
        )
    );
    assert_eq!(
        lines.next().unwrap(),
        "MAC,SSID,AuthMode,FirstSeen,Channel,Frequency,RSSI,CurrentLatitude,CurrentLongitude,\
         AltitudeMeters,AccuracyMeters,RCOIs,MfgrId,Type"
    );
}

/// The spec's own example: a value with a comma is quoted as a whole field.
#[test]
fn wigle_pre_header_quotes_values_with_commas() {
    let options = ExportOptions {
        wigle_device: WigleDevice {
            brand: "Moog, LLC".into(),
            board: "Raspberry Pi 4 Model B \"Rev\" 1.4".into(),
            ..WigleDevice::default()
        },
        ..ExportOptions::default()
    };
    let line = wigle::pre_header(&options);
    assert!(line.contains(",\"brand=Moog, LLC\","), "{line}");
    assert!(
        line.contains(",\"board=Raspberry Pi 4 Model B \"\"Rev\"\" 1.4\","),
        "{line}"
    );
    let parsed = parse_csv(&format!("{line}\n"));
    assert_eq!(parsed[0].len(), 11);
    assert_eq!(parsed[0][7], "brand=Moog, LLC");
    assert_eq!(parsed[0][10], "subBody=0");
}

/// Kismet writes 12 fields under the 14-column header on Wi-Fi rows.
#[test]
fn wigle_every_row_has_14_fields_and_type_wifi() {
    let (rows, _) = wigle_rows(None);
    assert!(rows.len() > 2);
    for r in &rows[1..] {
        assert_eq!(r.len(), 14, "{r:?}");
    }
    for r in &rows[2..] {
        assert_eq!(r[13], "WIFI");
        assert_eq!(r[11], "", "RCOIs");
        assert_eq!(r[12], "", "MfgrId");
    }
}

#[test]
fn wigle_mac_is_lowercase() {
    let (rows, _) = wigle_rows(None);
    assert_eq!(row_of(&rows, AP_WPA2)[0][0], "aa:bb:cc:dd:ee:ff");
    for r in &rows[2..] {
        assert_eq!(r[0], r[0].to_lowercase());
    }
}

/// FirstSeen is the observation's time (Kismet writes the device's first sighting on every
/// row), in UTC, zero-padded, with ':' in the time.
#[test]
fn wigle_first_seen_is_the_observation_time_in_utc() {
    let (rows, _) = wigle_rows(None);
    let a = row_of(&rows, AP_WPA2);
    assert_eq!(a[0][3], "2026-01-02 03:04:05");
    assert_eq!(a[1][3], "2026-01-02 04:04:05");
    assert_eq!(row_of(&rows, AP_HOSTILE)[0][3], "2026-01-03 03:04:05");
}

/// Frequency in MHz (Kismet's live logger writes kHz) and 6 GHz channels as (f - 5950) / 5
/// (Kismet has no 6 GHz branch and writes 227 for 6135 MHz).
#[test]
fn wigle_channel_and_frequency_in_mhz_with_6ghz_right() {
    let (rows, _) = wigle_rows(None);
    let a = row_of(&rows, AP_WPA2);
    assert_eq!((a[0][4].as_str(), a[0][5].as_str()), ("6", "2437"));
    let six = row_of(&rows, AP_6GHZ);
    assert_eq!((six[0][4].as_str(), six[0][5].as_str()), ("37", "6135"));
}

/// WiGLE needs an integer RSSI; an observation without a signal gets the documented floor.
#[test]
fn wigle_rssi_is_an_integer_and_missing_signal_is_the_floor() {
    let (rows, stats) = wigle_rows(None);
    for r in &rows[2..] {
        r[6].parse::<i8>().unwrap();
    }
    assert_eq!(row_of(&rows, AP_6GHZ)[0][6], MISSING_SIGNAL_DBM.to_string());
    assert_eq!(row_of(&rows, AP_WPA2)[0][6], "-67");
    assert_eq!(stats.signal_floored, 1);
}

/// Kismet writes 0 for AccuracyMeters, and WiGLE filters on it.
#[test]
fn wigle_accuracy_is_never_zero() {
    let (rows, stats) = wigle_rows(None);
    for r in &rows[2..] {
        let acc: f64 = r[10].parse().unwrap();
        assert!(acc > 0.0, "{r:?}");
    }
    // A centimetre RTK fix does not round to 0; a fix that claims 0 is not written.
    assert_eq!(row_of(&rows, AP_WPA2)[1][10], "0.1");
    assert_eq!(stats.skipped_bad_fix, 2, "accuracy 0 and NaN latitude");
}

#[test]
fn wigle_numbers_use_a_point_and_enough_decimals() {
    let (rows, _) = wigle_rows(None);
    let r = row_of(&rows, AP_WPA2)[0];
    assert_eq!(r[7], "52.52000000");
    assert_eq!(r[8], "13.40500000");
    assert_eq!(r[9], "41.2");
    assert_eq!(r[10], "4.5");
    let six = row_of(&rows, AP_6GHZ)[0];
    assert_eq!(
        (six[7].as_str(), six[8].as_str()),
        ("-33.90000000", "151.20000000")
    );
    // Without an altitude the app writes 0.
    assert_eq!(row_of(&rows, AP_WPA2)[1][9], "0.0");
}

/// Only AP observations with a fix become rows; clients and fixless sightings do not.
#[test]
fn wigle_has_no_row_without_a_fix_and_no_client_rows() {
    let (rows, stats) = wigle_rows(None);
    assert!(row_of(&rows, CLIENT).is_empty());
    assert!(row_of(&rows, AP_NOFIX).is_empty());
    assert_eq!(row_of(&rows, AP_WPA2).len(), 2);
    assert_eq!(stats.written, 5);
    assert_eq!(stats.written as usize, rows.len() - 2);
    assert_eq!(stats.skipped_client, 1);
    assert_eq!(stats.skipped_no_fix, 2);
}

#[test]
fn wigle_auth_mode_in_android_style() {
    let (rows, _) = wigle_rows(None);
    assert_eq!(row_of(&rows, AP_WPA2)[0][2], "[WPA2-PSK-CCMP][ESS]");
    assert_eq!(row_of(&rows, AP_6GHZ)[0][2], "[RSN-SAE-CCMP][ESS]");
    assert_eq!(row_of(&rows, AP_HOSTILE)[0][2], "[WPA-PSK-TKIP][ESS][WPS]");
    assert_eq!(row_of(&rows, AP_XML)[0][2], "[ESS]");
}

/// Commas, quotes, CR/LF and formula prefixes stay inside the SSID field; invalid UTF-8
/// becomes U+FFFD and NUL is dropped; everything else is kept exactly.
#[test]
fn wigle_hostile_ssids_stay_in_their_field() {
    let (rows, _) = wigle_rows(None);
    let h = row_of(&rows, AP_HOSTILE);
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0][1],
        "=cmd|' /C calc'!A0,\"quoted\",\r\nline2\u{fffd}\u{fffd}end"
    );
    assert_eq!(row_of(&rows, AP_WPA2)[0][1], "Example,Net");
    assert_eq!(row_of(&rows, AP_6GHZ)[0][1], "", "hidden: empty SSID");
    assert_eq!(
        row_of(&rows, AP_XML)[0][1],
        String::from_utf8(XML_HOSTILE.to_vec()).unwrap()
    );
}

#[test]
fn wigle_session_filter() {
    let (rows, _) = wigle_rows(Some(2));
    assert_eq!(rows.len() - 2, 2);
    assert!(row_of(&rows, AP_6GHZ).is_empty());
}

#[test]
fn unknown_session_is_refused() {
    let f = fixture();
    for format in [Format::Wigle, Format::Kml, Format::Gpx] {
        let err = export(&f.store, format, Some(99), &mut Vec::new()).unwrap_err();
        assert!(matches!(err, ExportError::NoSuchSession(99)), "{err}");
    }
}

#[test]
fn kml_has_styles_folders_and_escaped_text() {
    let f = fixture();
    let (kml, stats) = run(&f.store, Format::Kml, None);
    for id in ["open", "owe", "wep", "wpa", "wpa2", "wpa3"] {
        assert!(kml.contains(&format!("<Style id=\"{id}\">")), "{id}");
    }
    assert_eq!(kml.matches("<Folder>").count(), 2);
    assert!(kml.contains("<name>Session 1</name>"));
    // AP_WPA2 is in both sessions; AP_NOFIX has no position.
    assert_eq!(kml.matches("<Placemark>").count(), 5);
    assert_eq!(stats.written, 5);
    assert_eq!(stats.skipped_no_fix, 1);
    assert!(kml.contains("<styleUrl>#wpa2</styleUrl>"));
    assert!(kml.contains("<styleUrl>#wpa3</styleUrl>"));
    assert!(kml.contains("<coordinates>13.4050000,52.5200000</coordinates>"));
    assert!(
        kml.contains("<name>]]&gt;&lt;a href=&apos;x&apos;&gt;&amp;amp;\\x01\\x1b&quot;</name>")
    );
    assert!(!kml.contains("]]>"));
    assert!(
        !kml.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    );
    assert!(kml.contains("\\xff\\xfe\\x00end"));

    let (one, _) = run(&f.store, Format::Kml, Some(2));
    assert_eq!(one.matches("<Folder>").count(), 1);
    assert_eq!(one.matches("<Placemark>").count(), 3);
}

/// The map formats draw a network at the signal-weighted estimate when there is one.
#[test]
fn maps_use_the_position_estimate() {
    let mut a = ap(AP_WPA2, b"est", wpa2_psk());
    let mut e = None;
    crate::model::PositionEstimate::add(&mut e, &fix(10.0, 20.0, T0), Some(-40));
    crate::model::PositionEstimate::add(&mut e, &fix(10.0, 20.0, T0), Some(-90));
    a.position = e;
    let p = text::position(&a).unwrap();
    assert!(
        (p.lat - 10.0).abs() < 1e-9 && (p.lon - 20.0).abs() < 1e-9,
        "{p:?}"
    );
    assert_eq!(p.alt_m, Some(41.25));
    assert_eq!(p.accuracy_m, 4.5);
    a.position = None;
    assert_eq!(text::position(&a).unwrap().lat, 52.52);
    a.best_fix = None;
    assert_eq!(text::position(&a), None);
}

#[test]
fn geojson_is_valid_json_with_lon_lat_order() {
    let f = fixture();
    let (text, stats) = run(&f.store, Format::Geojson, None);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "FeatureCollection");
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 4);
    assert_eq!(stats.written, 4);
    let by = |m: u64| {
        features
            .iter()
            .find(|f| f["properties"]["bssid"] == mac(m).to_string())
            .unwrap()
    };
    let a = by(AP_WPA2);
    assert_eq!(a["geometry"]["type"], "Point");
    assert_eq!(
        a["geometry"]["coordinates"],
        serde_json::json!([13.405, 52.52])
    );
    assert_eq!(a["properties"]["ssid"], "Example,Net");
    assert_eq!(a["properties"]["security"], "WPA2");
    assert_eq!(a["properties"]["first_seen"], "2026-01-02T02:04:05Z");
    let h = by(AP_HOSTILE);
    assert_eq!(h["properties"]["ssid_hex"], text::hex(HOSTILE));
    assert_eq!(
        h["properties"]["ssid"],
        "=cmd|' /C calc'!A0,\"quoted\",\\x0d\\x0aline2\\xff\\xfe\\x00end"
    );
    assert!(by(AP_6GHZ)["properties"]["ssid"].is_null());
}

#[test]
fn csv_has_every_column_and_neutralises_formulas() {
    let f = fixture();
    let (text, stats) = run(&f.store, Format::Csv, None);
    let rows = parse_csv(&text);
    assert_eq!(rows[0], csv::COLUMNS.to_vec());
    assert_eq!(
        rows.len(),
        6,
        "header and five networks, with or without a fix"
    );
    assert_eq!(stats.written, 5);
    for r in &rows {
        assert_eq!(r.len(), csv::COLUMNS.len());
    }
    let col = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap();
    let h = rows
        .iter()
        .find(|r| r[0] == mac(AP_HOSTILE).to_string())
        .unwrap();
    assert!(h[col("ssid")].starts_with("'=cmd"), "{:?}", h[col("ssid")]);
    assert_eq!(h[col("wps_device_name")], "'+SUM(1,2)");
    assert_eq!(h[col("vendor")], "'@vendor");
    assert_eq!(h[col("ssid_hex")], text::hex(HOSTILE));
    // Our own negative numbers stay numbers.
    assert_eq!(h[col("best_signal_dbm")], "-61");
    for r in &rows[1..] {
        for c in r {
            assert!(!c.starts_with(['=', '+', '@', '\t', '\r']), "{c:?}");
        }
    }
}

#[test]
fn gpx_track_segments_and_session_range() {
    let f = fixture();
    let (gpx, stats) = run(&f.store, Format::Gpx, None);
    assert_eq!(stats.written, 4);
    assert_eq!(gpx.matches("<trkseg>").count(), 3);
    assert!(gpx.contains(
        "<trkpt lat=\"52.00000000\" lon=\"13.00000000\"><ele>41.2</ele>\
         <time>2026-01-02T03:04:05Z</time></trkpt>"
    ));
    let (one, stats) = run(&f.store, Format::Gpx, Some(1));
    assert_eq!(stats.written, 3);
    assert_eq!(one.matches("<trkseg>").count(), 2);
    assert!(one.contains("<name>PiWardrive session 1</name>"));
}

#[test]
fn utc_calendar() {
    let t = |us| {
        let u = Utc::from_us(us);
        (u.year, u.month, u.day, u.hour, u.minute, u.second)
    };
    assert_eq!(t(0), (1970, 1, 1, 0, 0, 0));
    assert_eq!(t(951_782_400_000_000), (2000, 2, 29, 0, 0, 0));
    assert_eq!(t(T0), (2026, 1, 2, 3, 4, 5));
    assert_eq!(t(-1), (1969, 12, 31, 23, 59, 59));
    assert_eq!(t(4_107_542_399_000_000), (2100, 2, 28, 23, 59, 59));
    assert_eq!(t(4_107_542_400_000_000), (2100, 3, 1, 0, 0, 0));
    assert_eq!(text::wigle_time(T0 + 999_999), "2026-01-02 03:04:05");
    assert_eq!(text::iso_time(T0), "2026-01-02T03:04:05Z");
}

/// Reverses `ssid_escaped`, to show that it loses nothing.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut b = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match chars.next().unwrap() {
            '\\' => out.push(b'\\'),
            'x' => {
                let h: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&h, 16).unwrap());
            }
            'u' => {
                assert_eq!(chars.next(), Some('{'));
                let h: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let c = char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap();
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            other => panic!("unknown escape {other}"),
        }
    }
    out
}

/// Characters that reorder or hide text are escaped in KML, GeoJSON and our CSV as the web
/// UI shows them (a right-to-left override would make "evil\u{202e}gpj.exe" read as
/// "evilexe.jpg" in a spreadsheet or Google Earth); WiGLE CSV keeps them, as WiGLE does.
#[test]
fn deceptive_characters_are_escaped_except_for_wigle() {
    let rtl = "evil\u{202e}gpj.exe".as_bytes();
    assert_eq!(text::ssid_escaped(rtl), r"evil\xe2\x80\xaegpj.exe");
    assert_eq!(unescape(&text::ssid_escaped(rtl)), rtl);
    for c in ['\u{200b}', '\u{200f}', '\u{2066}', '\u{feff}', '\u{061c}'] {
        let ssid = format!("a{c}b");
        let e = text::ssid_escaped(ssid.as_bytes());
        assert!(!e.contains(c) && e.starts_with(r"a\x"), "{c:?}: {e}");
        assert_eq!(
            e,
            crate::web::display_ssid(ssid.as_bytes()),
            "the export and the UI show it alike"
        );
    }
    assert_eq!(text::ssid_wigle(rtl), "evil\u{202e}gpj.exe");
}

proptest! {
    /// Any SSID: the escaped text is printable and gives the bytes back.
    #[test]
    fn ssid_escaped_is_printable_and_reversible(ssid in prop::collection::vec(any::<u8>(), 0..40)) {
        let e = text::ssid_escaped(&ssid);
        prop_assert!(!e.chars().any(char::is_control));
        prop_assert_eq!(unescape(&e), ssid);
    }

    /// Any SSID: a WiGLE line parses back to 14 fields with the SSID in its place.
    #[test]
    fn any_ssid_keeps_the_wigle_columns(ssid in prop::collection::vec(
        prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'), Just(b'='), Just(0u8), any::<u8>()],
        0..32,
    )) {
        let mut line = String::new();
        text::push_csv_field(&mut line, &text::ssid_wigle(&ssid));
        let record = format!("aa:bb:cc:dd:ee:ff,{line},[ESS],2026-01-02 03:04:05,6,2437,-67,1.0,2.0,0.0,4.5,,,WIFI\n");
        let parsed = parse_csv(&record);
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(parsed[0].len(), 14);
        prop_assert_eq!(&parsed[0][1], &text::ssid_wigle(&ssid));
        prop_assert!(!parsed[0][1].contains('\0'));
    }

    /// Any text: the XML rendering has no raw markup characters and no characters XML 1.0
    /// forbids.
    #[test]
    fn xml_text_is_inert(s in ".{0,40}") {
        let mut out = String::new();
        text::push_xml_text(&mut out, &s);
        prop_assert!(!out.contains(['<', '>', '"', '\'']));
        let forbidden = |c: char| {
            (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
        };
        prop_assert!(!out.chars().any(forbidden));
    }
}

/// A network whose fix is far from the fixture's others (Munich, not Berlin).
const AP_FAR: u64 = 0x0200_0000_00fa;

/// The fixture, plus [`AP_FAR`] with an observation, and a home zone of `radius_m` around
/// (lat, lon) in the store's edits.
fn zoned(lat: f64, lon: f64, radius_m: u32) -> Fixture {
    let f = fixture();
    let mut far = ap(AP_FAR, b"far away", wpa2_psk());
    far.best_fix = Some(fix(48.137, 11.575, T0));
    let w = StoreWriter::spawn(f.store.clone());
    w.send(Batch {
        aps: vec![far],
        observations: vec![obs(
            11,
            1,
            AP_FAR,
            T0 + 5_000_000,
            Some(fix(48.137, 11.575, T0)),
        )],
        ..Batch::default()
    })
    .unwrap();
    w.finish().unwrap();
    let me = f.store.sync_id();
    let zone = piwardrive_sync::Zone {
        lat_e7: (lat * 1e7).round() as i32,
        lon_e7: (lon * 1e7).round() as i32,
        radius_m,
    };
    f.store
        .update_edits(|e| e.add_zone(me, zone))
        .unwrap()
        .unwrap();
    f
}

/// Metres from the fixture's home, (52.52, 13.405).
fn from_home(lat: f64, lon: f64) -> f64 {
    super::distance_m(52.52, 13.405, lat, lon)
}

#[test]
fn home_zone_keeps_its_observations_out_of_the_wigle_csv() {
    // Without a zone the home rows are there (so the check below can fail).
    let (rows, _) = wigle_rows(None);
    assert_eq!(row_of(&rows, AP_WPA2).len(), 2);
    let f = zoned(52.52, 13.405, 100);
    let (text, stats) = run(&f.store, Format::Wigle, None);
    let rows = parse_csv(&text);
    // Seqs 1, 2 and 8 (whose fix of accuracy 0 would not be a row anyway) were heard within
    // 15 m of home: the zone is tested first. The NaN fix is still a bad fix.
    assert_eq!(stats.skipped_home_zone, 3, "{stats:?}\n{text}");
    assert!(row_of(&rows, AP_WPA2).is_empty(), "{rows:?}");
    for r in &rows[2..] {
        let (lat, lon): (f64, f64) = (r[7].parse().unwrap(), r[8].parse().unwrap());
        assert!(from_home(lat, lon) > 100.0, "{r:?}");
    }
    assert_eq!(row_of(&rows, AP_FAR).len(), 1);
    assert_eq!(row_of(&rows, AP_HOSTILE).len(), 1);
}

#[test]
fn home_zone_keeps_its_networks_out_of_kml_geojson_and_csv() {
    let f = zoned(52.52, 13.405, 100);
    // Every fixture network with a fix was placed at home; only the far one is drawn.
    let (kml, stats) = run(&f.store, Format::Kml, None);
    assert_eq!(kml.matches("<Placemark>").count(), 1, "{kml}");
    assert!(kml.contains("<coordinates>11.5750000,48.1370000</coordinates>"));
    assert!(!kml.contains("52.52"));
    assert!(stats.skipped_home_zone >= 4, "{stats:?}");

    let (text, stats) = run(&f.store, Format::Geojson, None);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["properties"]["bssid"], mac(AP_FAR).to_string());
    assert_eq!(stats.skipped_home_zone, 4);

    let (text, stats) = run(&f.store, Format::Csv, None);
    let rows = parse_csv(&text);
    let mut bssids: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    bssids.sort();
    // The far network, and the one never heard with a fix (nothing places it at home).
    let mut want = vec![mac(AP_FAR).to_string(), mac(AP_NOFIX).to_string()];
    want.sort();
    assert_eq!(bssids, want);
    assert_eq!(stats.skipped_home_zone, 4);
    assert!(!text.contains("52.52"));
}

#[test]
fn home_zone_keeps_its_track_points_out_of_the_gpx() {
    // 5 m around the second track point (52.0001, 13.0001); the first is 13 m away.
    let f = zoned(52.0001, 13.0001, 5);
    let (gpx, stats) = run(&f.store, Format::Gpx, None);
    assert_eq!(stats.written, 3);
    assert_eq!(stats.skipped_home_zone, 1);
    assert!(!gpx.contains("lat=\"52.00010000\""), "{gpx}");
    assert!(gpx.contains("lat=\"52.00000000\""));
    assert!(gpx.contains("lat=\"52.00100000\""));
}
