//! Ingest throughput against tshark on the same file, side by side (`cargo bench -p piwardrive --bench ingest`).
//!
//! Both read the same synthetic capture of real frames from disk: `piwardrive ingest` decodes,
//! tracks and commits everything into a fresh store; `tshark -r` extracts the fields the
//! truth files are made of (BSSID, SSID, channels, signal, privacy, RSN/WPA suites) from every
//! frame with the FCS checked, into /dev/null. Runs alternate, and the ratio of the medians is
//! reported, since these machines are too noisy for absolute times.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TSHARK_FIELDS: &[&str] = &[
    "frame.number",
    "wlan.fc.type_subtype",
    "wlan.bssid",
    "wlan.ta",
    "wlan.ssid",
    "wlan_radio.channel",
    "wlan_radio.frequency",
    "wlan_radio.signal_dbm",
    "wlan.ds.current_channel",
    "wlan.ht.info.primarychannel",
    "wlan.fixed.capabilities.privacy",
    "wlan.rsn.akms.type",
    "wlan.rsn.pcs.type",
    "wlan.wfa.ie.wpa.version",
    "wlan.fcs.status",
];

fn time(mut cmd: Command) -> Duration {
    let t = Instant::now();
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run");
    let d = t.elapsed();
    assert!(st.success(), "{cmd:?} failed: {st}");
    d
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ours(bin: &str, file: &Path, dir: &Path) -> Command {
    let _ = std::fs::remove_dir_all(dir);
    let mut c = Command::new(bin);
    c.arg("ingest").arg("--data-dir").arg(dir).arg(file);
    c
}

fn tshark(file: &Path) -> Command {
    let mut c = Command::new("tshark");
    c.arg("-r")
        .arg(file)
        .args(["-n", "-o", "wlan.check_checksum:TRUE", "-T", "fields"]);
    for f in TSHARK_FIELDS {
        c.args(["-e", f]);
    }
    c
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let records: u64 = std::env::var("PIWARDRIVE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 5_000 } else { 200_000 });
    let rounds = if quick { 1 } else { 3 };
    let bin = env!("CARGO_BIN_EXE_piwardrive");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("bench.pcapng");
    let st = Command::new(bin)
        .args(["synth", "--records", &records.to_string(), "-o"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    let size = std::fs::metadata(&file).unwrap().len();
    let have_tshark = Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let dir = work.path().join("store");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(time(ours(bin, &file, &dir)));
        if have_tshark {
            b.push(time(tshark(&file)));
        }
    }
    let a = median(a);
    println!(
        "ingest bench: {records} records ({:.1} MB pcapng), median of {rounds} alternating runs",
        size as f64 / 1e6
    );
    println!(
        "  piwardrive ingest: {:>9.3} s  {:>12.0} frames/s",
        a.as_secs_f64(),
        records as f64 / a.as_secs_f64()
    );
    if have_tshark {
        let b = median(b);
        println!(
            "  tshark -r -T fields: {:>7.3} s  {:>12.0} frames/s",
            b.as_secs_f64(),
            records as f64 / b.as_secs_f64()
        );
        let ratio = b.as_secs_f64() / a.as_secs_f64();
        println!("  piwardrive is {ratio:.1}x faster than tshark (target: at least 50x)");
    } else {
        println!("  tshark not installed (apt-get install tshark): no comparison");
    }
}
