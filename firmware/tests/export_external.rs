//! Exports checked by tools that are not ours: Python's csv module reads the WiGLE CSV back,
//! geojson-validator checks the GeoJSON, and xmllint parses the KML and GPX.
//!
//! CI installs them (`apt-get install libxml2-utils`, `python3 -m pip install
//! geojson-validator==0.7.0`). A missing tool fails the test with what to install: a check
//! that silently skips is a check nobody runs. `PIWARDRIVE_PYTHON` picks the interpreter
//! (default `python3`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use piwardrive::dot11::MacAddr;
use piwardrive::export::{Format, export};
use piwardrive::model::{
    ApRecord, Band, Fix, Observation, ObservationKind, Phy, Pmf, Security, SessionRecord,
    SessionStatus, TimeSource,
};
use piwardrive::store::{Batch, Store, StoreWriter};

/// 2026-01-02 03:04:05 UTC.
const T0: i64 = 1_767_323_045_000_000;

/// SSIDs that break naive CSV, spreadsheet, XML and UTF-8 handling.
const HOSTILE: &[&[u8]] = &[
    b"plain",
    b"comma,separated,ssid",
    b"\"quoted\" and \"\"doubled\"\"",
    b"line\r\nbreak\nand\rcr",
    b"=cmd|' /C calc'!A0",
    b"+1+2",
    b"-2-3",
    b"@SUM(A1)",
    b"\tleading tab",
    b"\xff\xfe not utf-8 \xc3",
    b"nul\x00inside",
    b"]]><kml>&amp;</kml>",
    b"<script>alert('x')</script>",
    b"ctrl\x01\x02\x1b\x7f",
    b" spaces around ",
    "caf\u{e9} \u{1f4f6} \u{5bbd}\u{5e26}".as_bytes(),
    b"",
];

fn fix(lat: f64, lon: f64) -> Fix {
    Fix {
        lat,
        lon,
        alt_m: Some(35.5),
        accuracy_m: 3.2,
        time_us: T0,
    }
}

fn ap(i: u64, ssid: &[u8]) -> ApRecord {
    let six = i.is_multiple_of(3);
    let wpa = i.is_multiple_of(2);
    ApRecord {
        bssid: MacAddr::from_u64(0x02ab_0000_0000 + i),
        ssid: (!ssid.is_empty()).then(|| ssid.to_vec()),
        ssid_history: Vec::new(),
        hidden: ssid.is_empty(),
        channel: Some(if six { 37 } else { 11 }),
        freq_mhz: Some(if six { 6135 } else { 2462 }),
        band: Some(if six { Band::B6 } else { Band::B2_4 }),
        width_mhz: Some(20),
        phy: Phy::Ax,
        heard_channels: vec![11],
        security: Security {
            privacy: wpa,
            rsn_akms: if wpa { 1 << 2 | 1 << 8 } else { 0 },
            rsn_pairwise: if wpa { 1 << 4 } else { 0 },
            rsn_group: if wpa { 1 << 4 } else { 0 },
            pmf: Pmf::Capable,
            ..Security::default()
        },
        vendor: None,
        country: Some(*b"DE "),
        mesh_id: None,
        ibss: false,
        first_seen: T0,
        last_seen: T0 + 60_000_000,
        beacons: 5,
        probe_responses: 1,
        data_frames: 0,
        best_signal_dbm: Some(-55),
        best_fix: Some(fix(48.0 + i as f64 * 0.001, -122.0 - i as f64 * 0.001)),
        best_fix_signal_dbm: Some(-55),
        position: None,
        last_signal_dbm: Some(-60),
        client_count: 0,
    }
}

fn python() -> String {
    std::env::var("PIWARDRIVE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_tool(cmd: &mut Command, install_hint: &str) -> std::process::Output {
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("could not run {cmd:?} ({e}): {install_hint}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// What WiGLE's SSID field must read back as (the documented rule: U+FFFD for invalid UTF-8,
/// NUL dropped, nothing else changed).
fn wigle_ssid(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\0', "")
}

fn write_export(store: &Store, format: Format, path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    export(store, format, None, &mut f).unwrap();
}

#[test]
fn exports_pass_external_checkers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let aps: Vec<ApRecord> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, s)| ap(i as u64, s))
        .collect();
    let mut observations = Vec::new();
    let mut seq = 1;
    for (i, a) in aps.iter().enumerate() {
        for k in 0..3u64 {
            observations.push(Observation {
                seq,
                session_id: 1,
                kind: ObservationKind::Ap,
                mac: a.bssid,
                time: T0 + (seq as i64) * 1_000_000,
                signal_dbm: Some(-50 - k as i8),
                channel: a.channel,
                freq_mhz: a.freq_mhz,
                // Every third sighting has no fix and must not become a row.
                fix: (k != 2).then(|| fix(48.0 + i as f64 * 0.001, -122.0)),
            });
            seq += 1;
        }
    }
    let batch = Batch {
        aps: aps.clone(),
        observations,
        sessions: vec![SessionRecord {
            id: 1,
            device_id: [1; 16],
            started_at: T0,
            ended_at: Some(T0 + 3_600_000_000),
            sources: vec!["hostile".into()],
            status: SessionStatus::Ended,
            time_source: TimeSource::Gps,
            frames: 0,
        }],
        track: (0..20)
            .map(|i| Fix {
                time_us: T0 + i * 1_000_000,
                ..fix(48.0 + i as f64 * 1e-5, -122.0)
            })
            .collect(),
        ..Batch::default()
    };
    let w = StoreWriter::spawn(store.clone());
    w.send(batch).unwrap();
    w.finish().unwrap();

    let out = |name: &str| -> PathBuf { dir.path().join(name) };
    write_export(&store, Format::Wigle, &out("w.csv"));
    write_export(&store, Format::Geojson, &out("n.geojson"));
    write_export(&store, Format::Kml, &out("n.kml"));
    write_export(&store, Format::Gpx, &out("t.gpx"));

    let mut wigle_ssids = BTreeMap::new();
    let mut positions = BTreeMap::new();
    let mut ssid_hex = BTreeMap::new();
    for a in &aps {
        let ssid = a.ssid.clone().unwrap_or_default();
        wigle_ssids.insert(a.bssid.to_string(), wigle_ssid(&ssid));
        let f = a.best_fix.unwrap();
        positions.insert(a.bssid.to_string(), [f.lon, f.lat]);
        if a.ssid.is_some() {
            ssid_hex.insert(a.bssid.to_string(), hex(&ssid));
        }
    }
    let expect = serde_json::json!({
        "wigle_rows": aps.len() * 2,
        "wigle_ssids": wigle_ssids,
        "geojson_features": aps.len(),
        "positions": positions,
        "ssid_hex": ssid_hex,
    });
    std::fs::write(out("expect.json"), expect.to_string()).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_exports.py");
    let py = run_tool(
        Command::new(python())
            .arg(&script)
            .arg("--wigle")
            .arg(out("w.csv"))
            .arg("--geojson")
            .arg(out("n.geojson"))
            .arg("--expect")
            .arg(out("expect.json")),
        "install Python 3 (or set PIWARDRIVE_PYTHON)",
    );
    assert!(
        py.status.success(),
        "check_exports.py failed (exit {:?}); if it says geojson-validator is missing, run \
         `python3 -m pip install geojson-validator==0.7.0`:\n{}{}",
        py.status.code(),
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );
    println!("{}", String::from_utf8_lossy(&py.stdout).trim());

    for file in ["n.kml", "t.gpx"] {
        let x = run_tool(
            Command::new("xmllint").arg("--noout").arg(out(file)),
            "install xmllint: `apt-get install libxml2-utils`",
        );
        assert!(
            x.status.success(),
            "xmllint rejects {file}:\n{}",
            String::from_utf8_lossy(&x.stderr)
        );
    }
    // The KML has every network as a placemark; the GPX every track point.
    let kml = std::fs::read_to_string(out("n.kml")).unwrap();
    assert_eq!(kml.matches("<Placemark>").count(), aps.len());
    let gpx = std::fs::read_to_string(out("t.gpx")).unwrap();
    assert_eq!(gpx.matches("<trkpt ").count(), 20);
}
