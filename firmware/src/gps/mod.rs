//! GPS: the receiver's state, fixes from a live gpsd or from log files, and the track they make.
//!
//! The GPS state is a first-class value ([`GpsStatus`]): the UI shows it as it is, and the
//! capture path asks it for a fix with [`GpsStatus::usable_fix`], which never hands out a
//! stale one. The live source is [`gpsd`]; it publishes the status on a
//! `tokio::sync::watch` channel and sends each accepted fix to the tracker.

pub mod gpsd;
pub mod log;
pub mod track;
pub mod watch;

/// Accuracy radii, from every source (gpsd, gpspipe logs, NMEA, GPX), are 95% horizontal
/// radii in metres, gpsd's convention for `eph`. Where a source gives only a dilution of
/// precision, it is scaled by gpsd's own user-equivalent range error for 95% confidence
/// without differential corrections: 15 m per unit of HDOP.
pub const HDOP_UERE_95_M: f64 = 15.0;

/// The accuracy given to a fix that comes with no error estimate and no HDOP: the UERE at an
/// HDOP of 2, deliberately pessimistic (a consumer receiver is good to 5-30 m, and we cannot
/// tell which) so that such fixes weigh little and a made-up small radius never passes WiGLE's
/// filters.
pub const UNKNOWN_ACCURACY_M: f64 = 2.0 * HDOP_UERE_95_M;

/// The smallest accuracy ever reported. A receiver that claims 0 m is wrong, WiGLE rejects an
/// accuracy of 0, and no standalone receiver is honestly better than a metre at 95%; an RTK
/// receiver's centimetres are rounded up to this, which understates nothing that matters for
/// locating a Wi-Fi access point.
pub const MIN_ACCURACY_M: f64 = 1.0;

use std::time::Duration;

use serde::Serialize;

use crate::model::{Fix, TimeUs};

/// What the GPS can tell us right now, from worst to best, plus `Stale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GpsState {
    /// gpsd is not reachable (not running, refused, or the connection dropped); the client is
    /// retrying with backoff.
    #[default]
    NoGpsd,
    /// gpsd is up but has no receiver: none plugged in, or it was unplugged
    /// (a DEVICE report with `"activated":0`).
    NoDevice,
    /// A receiver is talking but has no position (TPV mode 0 or 1), or its position could not
    /// be trusted.
    NoFix,
    /// A two-dimensional fix: latitude and longitude, no altitude.
    Fix2d,
    /// A three-dimensional fix.
    Fix3d,
    /// The receiver was heard before but no TPV has arrived for longer than the staleness
    /// limit; whatever position it last gave is no longer attached to anything.
    Stale,
}

impl GpsState {
    /// A short label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            GpsState::NoGpsd => "no gpsd",
            GpsState::NoDevice => "no GPS device",
            GpsState::NoFix => "no fix",
            GpsState::Fix2d => "2D fix",
            GpsState::Fix3d => "3D fix",
            GpsState::Stale => "stale",
        }
    }

    /// Whether this state carries a position.
    pub fn has_fix(self) -> bool {
        matches!(self, GpsState::Fix2d | GpsState::Fix3d)
    }
}

/// Counters kept by the gpsd client since it started; they only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct GpsCounters {
    /// Lines received from gpsd, including the ones skipped.
    pub lines_read: u64,
    /// Lines that were skipped: unparseable JSON, an unknown class, a report with impossible
    /// values, a line cut short by a dropped connection, or a line over the length limit.
    pub lines_skipped: u64,
    /// Of `lines_skipped`, the reports of a class this client does not use (TOFF, PPS, ERROR...).
    pub unknown_classes: u64,
    /// Of `lines_skipped`, the lines longer than the limit (discarded without buffering them).
    pub lines_too_long: u64,
    /// Fixes accepted and published.
    pub fixes_accepted: u64,
    /// Fixes rejected because reaching them from the previous accepted fix would take an
    /// impossible speed.
    pub fixes_rejected_jump: u64,
    /// Accepted fixes that could not be handed to the tracker because its channel was full.
    pub fixes_dropped: u64,
    /// Connections to gpsd made after the first one (after gpsd went away or refused).
    pub reconnects: u64,
}

/// The GPS as the UI shows it and the capture path consults it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpsStatus {
    pub state: GpsState,
    /// The current position; `Some` only when `state` is [`GpsState::Fix2d`] or
    /// [`GpsState::Fix3d`]. Use [`GpsStatus::usable_fix`] to attach it to anything.
    pub fix: Option<Fix>,
    /// System time (Unix µs) at which `fix` was accepted; freshness is measured from here.
    pub fix_received_at: Option<TimeUs>,
    /// Satellites used in the solution, from the last SKY report.
    pub satellites_used: Option<u32>,
    /// Satellites visible, from the last SKY report.
    pub satellites_visible: Option<u32>,
    /// The receiver's device path as gpsd names it (e.g. `/dev/ttyACM0`).
    pub device: Option<String>,
    /// gpsd's release string from its VERSION banner.
    pub gpsd_release: Option<String>,
    /// System time (Unix µs) of the last TPV report of any mode.
    pub last_tpv_at: Option<TimeUs>,
    /// System clock minus GPS time, in µs, from the last TPV that carried a time. It includes
    /// gpsd's reporting latency (typically well under a second).
    pub gps_clock_offset_us: Option<i64>,
    /// A fix older than this (by the system clock) is stale and never used.
    pub stale_after_us: i64,
    pub counters: GpsCounters,
    /// The last connection or protocol problem, for the UI ("connect to 127.0.0.1:2947:
    /// Connection refused").
    pub last_error: Option<String>,
}

/// The default staleness limit: three missed reports of a 1 Hz receiver.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(3);

impl Default for GpsStatus {
    fn default() -> Self {
        GpsStatus::new(DEFAULT_STALE_AFTER)
    }
}

impl GpsStatus {
    /// The status before anything is known: no gpsd, no fix.
    pub fn new(stale_after: Duration) -> Self {
        GpsStatus {
            state: GpsState::NoGpsd,
            fix: None,
            fix_received_at: None,
            satellites_used: None,
            satellites_visible: None,
            device: None,
            gpsd_release: None,
            last_tpv_at: None,
            gps_clock_offset_us: None,
            stale_after_us: i64::try_from(stale_after.as_micros()).unwrap_or(i64::MAX),
            counters: GpsCounters::default(),
            last_error: None,
        }
    }

    /// The fix to attach to something that happened at system time `now` (Unix µs), or `None`.
    ///
    /// Returns a fix only when the state says there is one and it was accepted within the
    /// staleness limit of `now`. The age is checked here as well as by the client's timer, so
    /// a status read late (or a client that has stopped running) can never yield an old
    /// position. The difference is taken in both directions because a frame may carry a
    /// timestamp slightly earlier than the moment the fix arrived; within the limit that fix
    /// is still the best one for it.
    pub fn usable_fix(&self, now: TimeUs) -> Option<Fix> {
        if !self.state.has_fix() {
            return None;
        }
        let fix = self.fix?;
        let at = self.fix_received_at?;
        if now.saturating_sub(at).saturating_abs() > self.stale_after_us {
            return None;
        }
        Some(fix)
    }
}

/// Where "now" comes from, as Unix microseconds of the system clock.
///
/// The gpsd client reads the time through this trait so that tests can substitute their own
/// clock; the appliance uses [`SystemClock`]. The staleness timer itself runs on tokio's
/// clock, so it follows `tokio::time::pause` where tokio's `test-util` feature is enabled.
pub trait Clock: Send + Sync {
    fn now_us(&self) -> TimeUs;
}

/// The system (CLOCK_REALTIME) clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> TimeUs {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            // A clock set before 1970 is possible on a Pi without an RTC; report it honestly.
            Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix() -> Fix {
        Fix {
            lat: 52.85,
            lon: 5.31,
            alt_m: Some(42.8),
            accuracy_m: 11.4,
            time_us: 1_534_758_461_000_000,
        }
    }

    #[test]
    fn usable_fix_only_within_the_limit_and_only_with_a_fix_state() {
        let mut s = GpsStatus::new(Duration::from_secs(3));
        s.state = GpsState::Fix3d;
        s.fix = Some(fix());
        s.fix_received_at = Some(10_000_000);
        assert_eq!(s.usable_fix(10_000_000), Some(fix()));
        assert_eq!(s.usable_fix(13_000_000), Some(fix()));
        assert_eq!(s.usable_fix(13_000_001), None, "older than 3 s is stale");
        // A frame stamped a little before the fix arrived may still use it.
        assert_eq!(s.usable_fix(9_500_000), Some(fix()));
        assert_eq!(s.usable_fix(6_999_999), None);
        for state in [
            GpsState::NoGpsd,
            GpsState::NoDevice,
            GpsState::NoFix,
            GpsState::Stale,
        ] {
            s.state = state;
            assert_eq!(s.usable_fix(10_000_000), None, "{state:?}");
        }
    }

    #[test]
    fn status_serialises_for_the_ui() {
        let s = GpsStatus::default();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "no_gpsd");
        assert_eq!(v["stale_after_us"], 3_000_000);
        assert_eq!(v["counters"]["lines_read"], 0);
    }
}
