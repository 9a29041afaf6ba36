//! Exports run in bounded memory: a store with 1,000,000 observations is exported in a child
//! process whose peak resident memory (VmHWM) is compared with that of a store with 400,000.
//! Both stores are larger than redb's page cache (capped at 32 MiB by `Store::open`), so the
//! cache is full in both and the difference is what the export itself grows by: about zero
//! when it streams, hundreds of megabytes if it loaded rows.
//!
//! Slow (it builds two stores), so ignored by default; run it with
//! `cargo test --release -p piwardrive --test export_memory -- --ignored --nocapture`.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use piwardrive::dot11::MacAddr;
use piwardrive::export::{Format, export};
use piwardrive::model::{
    ApRecord, Band, Fix, Observation, ObservationKind, Phy, Security, SessionRecord, SessionStatus,
    TimeSource,
};
use piwardrive::store::{Batch, Store, StoreWriter};

const CHILD_ENV: &str = "PIWARDRIVE_EXPORT_MEMORY_CHILD";
const T0: i64 = 1_767_323_045_000_000;
/// Distinct networks: more than the WiGLE writer's AP cache holds, so it churns.
const APS: u64 = 20_000;
const PER_BATCH: u64 = 20_000;

fn ap(i: u64) -> ApRecord {
    ApRecord {
        bssid: MacAddr::from_u64(0x0200_0000_0000 + i),
        ssid: Some(format!("net-{i},\"x\"").into_bytes()),
        ssid_history: Vec::new(),
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![6],
        security: Security {
            privacy: true,
            rsn_akms: 1 << 2,
            rsn_pairwise: 1 << 4,
            rsn_group: 1 << 4,
            ..Security::default()
        },
        vendor: None,
        country: None,
        mesh_id: None,
        ibss: false,
        first_seen: T0,
        last_seen: T0,
        beacons: 1,
        probe_responses: 0,
        data_frames: 0,
        best_signal_dbm: Some(-50),
        best_fix: Some(fix(i as i64)),
        best_fix_signal_dbm: Some(-50),
        position: None,
        last_signal_dbm: Some(-50),
        client_count: 0,
    }
}

fn fix(i: i64) -> Fix {
    Fix {
        lat: 40.0 + (i % 10_000) as f64 * 1e-4,
        lon: -3.0 - (i % 7_000) as f64 * 1e-4,
        alt_m: Some(650.0),
        accuracy_m: 5.0,
        time_us: T0 + i * 1_000_000,
    }
}

/// Writes `observations` observations (one session, every one with a fix) and one track
/// point per ten observations, through the store writer as the appliance would.
fn build(path: &Path, observations: u64) {
    let store = Store::open(path).unwrap();
    let w = StoreWriter::spawn(store);
    w.send(Batch {
        aps: (0..APS).map(ap).collect(),
        sessions: vec![SessionRecord {
            id: 1,
            device_id: [9; 16],
            started_at: T0,
            ended_at: None,
            sources: vec!["synthetic".into()],
            status: SessionStatus::Running,
            time_source: TimeSource::Gps,
            frames: observations,
        }],
        ..Batch::default()
    })
    .unwrap();
    let mut seq = 1;
    while seq <= observations {
        let end = (seq + PER_BATCH).min(observations + 1);
        let obs = (seq..end)
            .map(|s| Observation {
                seq: s,
                session_id: 1,
                kind: ObservationKind::Ap,
                mac: MacAddr::from_u64(0x0200_0000_0000 + s % APS),
                time: T0 + s as i64 * 100_000,
                signal_dbm: Some(-40 - (s % 50) as i8),
                channel: Some(6),
                freq_mhz: Some(2437),
                fix: Some(fix(s as i64)),
            })
            .collect();
        let track = (seq..end).step_by(10).map(|s| fix(s as i64)).collect();
        w.send(Batch {
            observations: obs,
            track,
            ..Batch::default()
        })
        .unwrap();
        seq = end;
    }
    w.finish().unwrap();
}

/// A `Write` that counts and discards, so the figure is the exporter's memory, not a file's
/// page cache.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The child: exports the store named in the environment and reports its memory.
#[test]
#[ignore = "run by export_memory_is_bounded in a child process"]
fn child_export() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (path, format) = spec.split_once('|').unwrap();
    let format = match format {
        "wigle" => Format::Wigle,
        "kml" => Format::Kml,
        "geojson" => Format::Geojson,
        "csv" => Format::Csv,
        "gpx" => Format::Gpx,
        other => panic!("unknown format {other}"),
    };
    let store = Store::open(Path::new(path)).unwrap();
    let before = status_kb("VmRSS:");
    let start = Instant::now();
    let mut out = Count(0);
    let stats = export(&store, format, None, &mut out).unwrap();
    println!(
        "RESULT rss_before_kb={before} hwm_kb={} bytes={} rows={} ms={}",
        status_kb("VmHWM:"),
        out.0,
        stats.written,
        start.elapsed().as_millis()
    );
}

struct Measure {
    rss_before_kb: u64,
    hwm_kb: u64,
    bytes: u64,
    rows: u64,
    ms: u64,
}

fn measure(path: &Path, format: &str) -> Measure {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_export", "--ignored", "--nocapture"])
        .env(CHILD_ENV, format!("{}|{format}", path.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in {text}"));
    let get = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
            .unwrap()
            .parse()
            .unwrap()
    };
    Measure {
        rss_before_kb: get("rss_before_kb"),
        hwm_kb: get("hwm_kb"),
        bytes: get("bytes"),
        rows: get("rows"),
        ms: get("ms"),
    }
}

#[test]
#[ignore = "slow: builds stores of 400,000 and 1,000,000 observations; run with --release"]
fn export_memory_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.redb");
    let big = dir.path().join("big.redb");
    let t = Instant::now();
    build(&small, 400_000);
    build(&big, 1_000_000);
    println!(
        "built stores in {:.1} s ({} MB for 1M observations)",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&big).unwrap().len() / 1_000_000
    );
    for format in ["wigle", "kml", "geojson", "csv", "gpx"] {
        let s = measure(&small, format);
        let b = measure(&big, format);
        println!(
            "{format:8} 400k obs: peak {:>6} KiB (start {:>6}), {:>8} rows, {:>10} bytes, {:>6} ms | \
             1M obs: peak {:>6} KiB (start {:>6}), {:>8} rows, {:>10} bytes, {:>6} ms",
            s.hwm_kb,
            s.rss_before_kb,
            s.rows,
            s.bytes,
            s.ms,
            b.hwm_kb,
            b.rss_before_kb,
            b.rows,
            b.bytes,
            b.ms
        );
        if format == "wigle" {
            assert_eq!(b.rows, 1_000_000);
        }
        // The WiGLE export reads every observation of both stores, so the page cache is full
        // in both runs and 2.5 times the rows may cost at most a few MiB more.
        if format == "wigle" {
            assert!(
                b.hwm_kb < s.hwm_kb + 4 * 1024,
                "{format}: peak grew from {} KiB to {} KiB with 2.5 times the data",
                s.hwm_kb,
                b.hwm_kb
            );
        }
        // Every format: what the process had before the export, plus the page cache's cap
        // (32 MiB, which a format that reads less of the file fills less), plus 16 MiB for
        // buffers, the AP cache and the allocator.
        assert!(
            b.hwm_kb < b.rss_before_kb + (32 + 16) * 1024,
            "{format}: peak {} KiB from {} KiB",
            b.hwm_kb,
            b.rss_before_kb
        );
        assert!(b.hwm_kb < 64 * 1024, "{format}: peak {} KiB", b.hwm_kb);
    }
}
