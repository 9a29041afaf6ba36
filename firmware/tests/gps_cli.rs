//! `piwardrive gps` against a real gpsd fed by gpsfake: it reports the fix gpsd has, and says plainly when there is no gpsd.

use std::process::Command;
use std::time::Instant;

mod common;
use common::{GpsFake, free_port};

fn gps_cmd(port: u16, timeout_s: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["gps", "--until-fix", "--timeout", timeout_s, "--gpsd"])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .unwrap()
}

#[test]
fn reports_the_fix_that_gpsd_has() {
    let port = free_port();
    // gpsd's haicom-305N.log, a receiver near Brisbane.
    let _fake = GpsFake::start("haicom-305N.log", "0.1", port);
    let t = Instant::now();
    let out = gps_cmd(port, "30");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fix_line = stdout
        .lines()
        .find(|l| l.starts_with("3D fix: ") || l.starts_with("2D fix: "))
        .unwrap_or_else(|| panic!("no fix line in {stdout}"));
    // The reference: the positions in the NMEA log itself, read by our log reader (which
    // agrees with gpsd to 1e-7 degrees on this log, see gpslog_files.rs).
    let positions: Vec<(f64, f64)> =
        piwardrive::gps::log::read_log(&common::log_path("haicom-305N.log"))
            .unwrap()
            .iter()
            .map(|f| (f.lat, f.lon))
            .collect();
    let printed = |(lat, lon): (f64, f64)| {
        format!(
            "{:.6} {}, {:.6} {}",
            lat.abs(),
            if lat >= 0.0 { 'N' } else { 'S' },
            lon.abs(),
            if lon >= 0.0 { 'E' } else { 'W' }
        )
    };
    assert!(
        positions.iter().any(|p| fix_line.contains(&printed(*p))),
        "{fix_line} is none of the log's positions"
    );
    println!("first fix after {:?}: {fix_line}", t.elapsed());
}

#[test]
fn no_gpsd_is_a_state_not_a_crash() {
    let port = free_port(); // nobody listens here
    let out = gps_cmd(port, "1.5");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no fix within the timeout: {stdout}"
    );
    assert!(stdout.lines().all(|l| l.starts_with("no gpsd")), "{stdout}");
}
