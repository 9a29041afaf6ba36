//! `ingest --gps`: frames get the fix interpolated at their time from a GPS log, checked against positions computed here; a log that does not cover the capture gives no positions.

use piwardrive::store::Store;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

fn capture() -> PathBuf {
    // Radiotap with signal; 2018-09-22 13:02:46.598171 to 13:04:45.905782 UTC (capinfos).
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/pcap/aircrack_test1.pcap")
}

const T0: i64 = 1_537_621_364_000_000; // 2018-09-22 13:02:44 UTC, before the first frame

/// Where the walker of the GPX track is at `t_us`: northward at 1e-4 degrees a second along
/// 8.5 E, from 50 N at T0. Linear, so interpolation between the logged seconds is exact.
fn lat_at(t_us: i64) -> f64 {
    50.0 + (t_us - T0) as f64 * 1e-10
}

/// ISO 8601 for a time on 2018-09-22 after T0, moved to a later day of that month.
fn iso(t_us: i64, day: i64) -> String {
    // Seconds since T0 within the same day: 13:02:44 + s.
    let s = (t_us - T0) / 1_000_000 + 13 * 3600 + 2 * 60 + 44;
    format!(
        "2018-09-{:02}T{:02}:{:02}:{:02}Z",
        22 + day,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A GPX track with one point a second from `from_s` to `to_s` seconds after T0.
fn gpx(path: &Path, from_s: i64, to_s: i64, day: i64) {
    let mut g = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=\"1.1\" creator=\"test\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>\n",
    );
    for s in from_s..=to_s {
        let t = T0 + s * 1_000_000;
        let _ = writeln!(
            g,
            "<trkpt lat=\"{:.10}\" lon=\"8.5\"><ele>100</ele><time>{}</time><hdop>1.2</hdop></trkpt>",
            lat_at(t),
            iso(t, day)
        );
    }
    g.push_str("</trkseg></trk></gpx>\n");
    std::fs::write(path, g).unwrap();
}

fn ingest(dir: &Path, gps: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .arg("ingest")
        .arg("--data-dir")
        .arg(dir)
        .arg("--gps")
        .arg(gps)
        .arg(capture())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn frames_get_the_interpolated_fix() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("walk.gpx");
    gpx(&log, 0, 125, 0);
    let stderr = ingest(&dir.path().join("store"), &log);
    assert!(
        stderr.contains("GPS: 192 of 192 records got a position"),
        "{stderr}"
    );

    let store = Store::open(&dir.path().join("store/piwardrive.redb")).unwrap();
    let mut n = 0;
    let _: ControlFlow<()> = store
        .for_each_observation(None, |o| {
            let f = o.fix.expect("every observation has a fix");
            // The frame's own time, not the nearest logged second.
            assert!(
                (f.lat - lat_at(o.time)).abs() < 1e-9,
                "{o:?}: want {}",
                lat_at(o.time)
            );
            assert!((f.lon - 8.5).abs() < 1e-12);
            assert_eq!(f.alt_m, Some(100.0));
            let hdop_m = 1.2 * piwardrive::gps::HDOP_UERE_95_M;
            assert!(
                f.accuracy_m >= hdop_m,
                "HDOP x UERE at least: {}",
                f.accuracy_m
            );
            n += 1;
            ControlFlow::<()>::Continue(())
        })
        .unwrap();
    assert!(n >= 7, "one observation per network at least, got {n}");
    for ap in store.all_aps().unwrap() {
        let f = ap.best_fix.expect("located");
        let p = ap.position.expect("estimated").lat_lon().unwrap();
        // The estimate lies within the stretch of track the AP was heard from.
        let (lo, hi) = (lat_at(ap.first_seen) - 1e-9, lat_at(ap.last_seen) + 1e-9);
        assert!(
            p.0 >= lo && p.0 <= hi,
            "{}: {p:?} not in {lo}..{hi}",
            ap.bssid
        );
        assert!(f.lat >= lo && f.lat <= hi, "{}: best fix {f:?}", ap.bssid);
        assert!((p.1 - 8.5).abs() < 1e-9);
    }
    // The track is stored too (thinned to at most one point a second).
    let mut points = 0;
    let _: ControlFlow<()> = store
        .for_each_track_point(.., |_| {
            points += 1;
            ControlFlow::<()>::Continue(())
        })
        .unwrap();
    assert!((60..=125).contains(&points), "{points} track points");
}

#[test]
fn a_log_that_does_not_cover_the_capture_gives_no_positions() {
    let dir = tempfile::tempdir().unwrap();
    // The same walk, a day later: nothing in the capture can be placed.
    let log = dir.path().join("other-day.gpx");
    gpx(&log, 0, 125, 1);
    let stderr = ingest(&dir.path().join("store"), &log);
    assert!(
        stderr.contains("GPS: 0 of 192 records got a position"),
        "{stderr}"
    );
    let store = Store::open(&dir.path().join("store/piwardrive.redb")).unwrap();
    let _: ControlFlow<()> = store
        .for_each_observation(None, |o| {
            assert_eq!(o.fix, None, "{o:?}");
            ControlFlow::<()>::Continue(())
        })
        .unwrap();
    assert!(
        store
            .all_aps()
            .unwrap()
            .iter()
            .all(|a| a.best_fix.is_none() && a.position.is_none())
    );

    // And a log that covers only the first minute places only the frames of that minute.
    let dir2 = tempfile::tempdir().unwrap();
    let log = dir2.path().join("first-minute.gpx");
    gpx(&log, 0, 60, 0);
    let stderr = ingest(&dir2.path().join("store"), &log);
    let line = stderr.lines().find(|l| l.starts_with("GPS: ")).unwrap();
    let placed: u64 = line[5..].split(' ').next().unwrap().parse().unwrap();
    assert!(placed > 0 && placed < 192, "{line}");
    let store = Store::open(&dir2.path().join("store/piwardrive.redb")).unwrap();
    let end = T0 + 61 * 1_000_000; // last point plus the 1 s edge tolerance
    let _: ControlFlow<()> = store
        .for_each_observation(None, |o| {
            assert_eq!(o.fix.is_some(), o.time <= end, "{o:?}");
            ControlFlow::<()>::Continue(())
        })
        .unwrap();
}
