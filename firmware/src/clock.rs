//! The system clock on a device without a real-time clock: when to trust it, when to set it from GPS, and setting it.
//!
//! A Pi boots with whatever time its saved clock or the build date gives; GPS time is the
//! first time it can trust. The policy here is pure ([`decide`]); [`set_system_clock`] is the
//! one place that touches the kernel, and it needs CAP_SYS_TIME.

use crate::model::TimeUs;

/// Within this much of GPS time, the system clock is left alone: gpsd's own latency and the
/// serial line make a smaller correction meaningless.
pub const TOLERANCE_US: TimeUs = 2_000_000;

/// What to do about the system clock, given one comparison with GPS time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockDecision {
    /// The clock agrees with GPS within [`TOLERANCE_US`].
    Keep,
    /// Set the clock to GPS time: it is off by `offset_us` (GPS minus system).
    Set { offset_us: TimeUs },
}

/// Compares the system clock (`system_us`, read when the GPS time arrived) with GPS time.
pub fn decide(system_us: TimeUs, gps_us: TimeUs) -> ClockDecision {
    let offset_us = gps_us.saturating_sub(system_us);
    if offset_us.abs() <= TOLERANCE_US {
        ClockDecision::Keep
    } else {
        ClockDecision::Set { offset_us }
    }
}

/// Why the clock could not be set.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error(
        "cannot set the system clock: this process lacks CAP_SYS_TIME (run as root, or grant it \
         with `setcap cap_sys_time+ep` or the service's AmbientCapabilities=CAP_SYS_TIME); \
         timestamps are corrected by the GPS offset instead"
    )]
    NotPermitted,
    #[error("cannot set the system clock: {0}")]
    Os(std::io::Error),
}

/// Sets the system (CLOCK_REALTIME) clock to `t_us`, Unix microseconds.
pub fn set_system_clock(t_us: TimeUs) -> Result<(), ClockError> {
    let ts = libc::timespec {
        tv_sec: t_us.div_euclid(1_000_000) as libc::time_t,
        tv_nsec: (t_us.rem_euclid(1_000_000) * 1000) as libc::c_long,
    };
    // SAFETY: `ts` is a valid, initialised timespec that lives across the call; the kernel
    // only reads it.
    let r = unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &ts) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EPERM) => Err(ClockError::NotPermitted),
        _ => Err(ClockError::Os(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        assert_eq!(decide(1_000_000_000, 1_001_999_999), ClockDecision::Keep);
        assert_eq!(
            decide(1_000_000_000, 999_000_000 - 1_000_001),
            ClockDecision::Set {
                offset_us: -2_000_001
            }
        );
        // A Pi that booted at the epoch and then saw GPS time.
        assert_eq!(
            decide(5_000_000, 1_795_000_000_000_000),
            ClockDecision::Set {
                offset_us: 1_795_000_000_000_000 - 5_000_000
            }
        );
    }
}
