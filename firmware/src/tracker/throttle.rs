//! Observation throttling, as the WiGLE app does it: a new row only when something worth a row changed.

use crate::model::{Fix, TimeUs};

/// Moved at least this far (metres) and `SLOW_INTERVAL_US` passed: a new observation.
const NEAR_M: f64 = 11.0;
/// Moved at least this far (metres): a new observation, whatever the time.
const FAR_M: f64 = 110.0;
const SLOW_INTERVAL_US: TimeUs = 3_600_000_000;
/// The signal rose by at least this much (dB) over the last observation: a new observation.
const SIGNAL_RISE_DB: i16 = 5;

/// What the last observation of one network or client was, to decide on the next.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mark {
    /// Session of the last observation; 0 = none yet (session ids start at 1).
    session: u64,
    time: TimeUs,
    signal: Option<i8>,
    fix: Option<Fix>,
}

impl Mark {
    /// Decides whether a sighting becomes an observation, and remembers it if so.
    pub fn should_observe(
        &mut self,
        session: u64,
        time: TimeUs,
        signal: Option<i8>,
        fix: Option<Fix>,
    ) -> bool {
        let observe = if self.session != session {
            // The first sighting in a session is always recorded.
            true
        } else if let (Some(now), Some(last)) = (signal, self.signal)
            && i16::from(now) - i16::from(last) >= SIGNAL_RISE_DB
        {
            true
        } else {
            match (fix, self.fix) {
                (Some(f), Some(last)) => {
                    let d = distance_m(&f, &last);
                    d >= FAR_M || (d >= NEAR_M && time - self.time >= SLOW_INTERVAL_US)
                }
                // The first sighting with a position is worth a row: it is the first that
                // can be placed on a map or uploaded.
                (Some(_), None) => true,
                (None, _) => false,
            }
        };
        if observe {
            *self = Mark {
                session,
                time,
                signal,
                fix: fix.or(self.fix),
            };
        }
        observe
    }
}

pub use crate::gps::track::distance_m;

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lat: f64, lon: f64) -> Fix {
        Fix {
            lat,
            lon,
            alt_m: None,
            accuracy_m: 5.0,
            time_us: 0,
        }
    }

    #[test]
    fn distance_of_one_degree_of_latitude() {
        let d = distance_m(&fix(52.0, 13.0), &fix(53.0, 13.0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn rules() {
        let mut m = Mark::default();
        assert!(m.should_observe(1, 0, Some(-80), None), "first in session");
        assert!(!m.should_observe(1, 1, Some(-80), None));
        assert!(
            !m.should_observe(1, 2, Some(-76), None),
            "4 dB is not enough"
        );
        assert!(m.should_observe(1, 3, Some(-75), None), "5 dB rise");
        assert!(
            m.should_observe(1, 4, Some(-90), Some(fix(52.0, 13.0))),
            "first fix"
        );
        // 0.0001 degree of latitude is about 11.1 m.
        assert!(
            !m.should_observe(1, 5, Some(-90), Some(fix(52.0001, 13.0))),
            "near, soon"
        );
        assert!(m.should_observe(1, 5 + SLOW_INTERVAL_US, None, Some(fix(52.0001, 13.0))));
        assert!(!m.should_observe(1, 6 + SLOW_INTERVAL_US, None, Some(fix(52.0009, 13.0))));
        assert!(
            m.should_observe(1, 7 + SLOW_INTERVAL_US, None, Some(fix(52.0012, 13.0))),
            "far"
        );
        assert!(
            m.should_observe(2, 8 + SLOW_INTERVAL_US, None, None),
            "new session"
        );
    }
}
