//! `piwardrive gps`: watch gpsd as the appliance sees it, print each change of GPS state, and optionally set the system clock from GPS time.

use super::GpsStatus;
use super::gpsd::{self, GpsdConfig};
use crate::clock::{self, ClockDecision};
use crate::ingest::now_us;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What `piwardrive gps` was asked to do.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub gpsd: GpsdConfig,
    /// Stop at the first fix (exit 0), or when `timeout` passes without one (exit 1).
    pub until_fix: bool,
    pub timeout: Option<Duration>,
    /// When GPS time and the system clock disagree by more than the tolerance, set the clock.
    pub set_clock: bool,
}

/// One line describing a status, as printed on each change.
pub fn describe(s: &GpsStatus) -> String {
    let mut line = s.state.label().to_string();
    if let Some(f) = &s.fix {
        let _ = write!(
            line,
            ": {:.6} {}, {:.6} {}, ±{:.0} m",
            f.lat.abs(),
            if f.lat >= 0.0 { 'N' } else { 'S' },
            f.lon.abs(),
            if f.lon >= 0.0 { 'E' } else { 'W' },
            f.accuracy_m
        );
        if let Some(a) = f.alt_m {
            let _ = write!(line, ", altitude {a:.1} m");
        }
    }
    if let (Some(u), Some(v)) = (s.satellites_used, s.satellites_visible) {
        let _ = write!(line, "; {u}/{v} satellites used");
    }
    if let Some(d) = &s.device {
        let _ = write!(line, "; device {d}");
    }
    if let Some(o) = s.gps_clock_offset_us {
        let _ = write!(
            line,
            "; system clock {:+.3} s from GPS time",
            o as f64 / 1e6
        );
    }
    if let Some(e) = &s.last_error {
        let _ = write!(line, " ({e})");
    }
    line
}

/// Watches gpsd until Ctrl-C, the first fix (with `until_fix`) or the timeout. Returns
/// whether a fix was seen.
pub async fn watch_gps(opts: WatchOptions, shutdown: CancellationToken) -> anyhow::Result<bool> {
    let (tx, mut rx) = watch::channel(GpsStatus::new(opts.gpsd.stale_after));
    let client = tokio::spawn(gpsd::run(opts.gpsd.clone(), tx, None, shutdown.clone()));
    let deadline = opts.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut last_line = String::new();
    let mut clock_checked = false;
    let mut saw_fix = false;
    loop {
        let changed = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, rx.changed()).await.ok(),
                None => Some(rx.changed().await),
            }
        };
        let r = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = changed => r,
        };
        match r {
            None => break,         // timed out
            Some(Err(_)) => break, // the client stopped
            Some(Ok(())) => {}
        }
        let status = rx.borrow_and_update().clone();
        let line = describe(&status);
        // Counters and times change with every report; print only what a person would see
        // change: the state, the position to the printed precision, the satellites.
        if line != last_line {
            println!("{line}");
            last_line = line;
        }
        saw_fix |= status.state.has_fix();
        if opts.set_clock
            && !clock_checked
            && status.state.has_fix()
            && let Some(offset) = status.gps_clock_offset_us
        {
            clock_checked = true;
            check_clock(offset);
        }
        if opts.until_fix && saw_fix && (!opts.set_clock || clock_checked) {
            break;
        }
    }
    shutdown.cancel();
    client.await??;
    Ok(saw_fix)
}

/// Compares the system clock with GPS time (`offset` = system minus GPS, as gpsd's status
/// gives it) and sets the clock when they disagree, saying what happened either way.
fn check_clock(system_minus_gps_us: i64) {
    let now = now_us();
    let gps_now = now - system_minus_gps_us;
    match clock::decide(now, gps_now) {
        ClockDecision::Keep => println!("clock: the system clock agrees with GPS time"),
        ClockDecision::Set { offset_us } => match clock::set_system_clock(gps_now) {
            Ok(()) => println!(
                "clock: set the system clock to GPS time (it was {:+.3} s off)",
                -offset_us as f64 / 1e6
            ),
            Err(e) => eprintln!("clock: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gps::GpsState;
    use crate::model::Fix;

    #[test]
    fn describes_a_fix_in_one_line() {
        let mut s = GpsStatus::new(Duration::from_secs(3));
        assert_eq!(describe(&s), "no gpsd");
        s.state = GpsState::Fix3d;
        s.fix = Some(Fix {
            lat: 52.85,
            lon: -5.3,
            alt_m: Some(-4.0),
            accuracy_m: 11.4,
            time_us: 0,
        });
        s.satellites_used = Some(9);
        s.satellites_visible = Some(12);
        s.gps_clock_offset_us = Some(-250_000);
        assert_eq!(
            describe(&s),
            "3D fix: 52.850000 N, 5.300000 W, ±11 m, altitude -4.0 m; 9/12 satellites used; \
             system clock -0.250 s from GPS time"
        );
    }
}
