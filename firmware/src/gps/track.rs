//! A GPS track: fixes in time order, and the fix at any moment by interpolation when the track covers it closely enough.
//!
//! [`Track::at`] answers "where was the receiver at time t?" for each captured frame:
//!
//! - t equal to a fix's time: that fix, unchanged.
//! - t between two fixes no more than [`TrackConfig::max_gap_us`] apart: the linear
//!   interpolation of the two (latitude, longitude across the antimeridian, altitude), with the
//!   accuracy of the worse of the two plus a bound on how far a real path can stray from the
//!   straight line between them (see [`interpolation_error_m`]).
//! - t within [`TrackConfig::edge_tolerance_us`] of the first or last fix, or of either side of
//!   a gap longer than `max_gap_us`: the nearest fix, unchanged (its own time says how old it
//!   is). A gap is treated like the ends of the track because that is what it is: the log
//!   stopped and started again.
//! - otherwise `None`: a frame outside what the log covers gets no position rather than a
//!   wrong one.
//!
//! Lookups in increasing time order (a capture replayed against its log) cost O(1) amortised:
//! the track remembers where the previous lookup landed and gallops forward from there.
//! Lookups in any other order cost O(log n).
//!
//! [`thin`] keeps a track the way the store wants it: at most one fix a second, and while
//! standing still one only when it moved more than a few metres or a minute has passed.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::{Fix, TimeUs};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The acceleration bound behind [`interpolation_error_m`]: about 0.3 g, the upper end of
/// ordinary driving (firm braking, a brisk corner) and far above walking or cycling.
pub const MAX_ACCELERATION_M_S2: f64 = 3.0;

/// How far a track may be from a point in time before it says nothing about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackConfig {
    /// The longest interval between two fixes across which positions are interpolated.
    pub max_gap_us: i64,
    /// How far before the first fix, after the last, or into a gap, the nearest fix is given.
    pub edge_tolerance_us: i64,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            max_gap_us: 10_000_000,
            edge_tolerance_us: 1_000_000,
        }
    }
}

/// Fixes sorted by time with duplicate times removed, ready for lookups.
#[derive(Debug)]
pub struct Track {
    fixes: Vec<Fix>,
    config: TrackConfig,
    /// Fixes dropped by [`Track::new`] because they were not valid positions.
    dropped: usize,
    /// The index of the segment where the last lookup landed: a hint, so any value is safe.
    hint: AtomicUsize,
}

impl Clone for Track {
    fn clone(&self) -> Self {
        Track {
            fixes: self.fixes.clone(),
            config: self.config,
            dropped: self.dropped,
            hint: AtomicUsize::new(self.hint.load(Ordering::Relaxed)),
        }
    }
}

impl Track {
    /// A track with the default configuration (10 s gaps, 1 s at the edges).
    pub fn new(fixes: Vec<Fix>) -> Track {
        Track::with_config(fixes, TrackConfig::default())
    }

    /// A track from fixes in any order. Fixes that are not valid positions (out of range, not
    /// finite, accuracy not positive) are dropped and counted in [`Track::dropped`]. Of several
    /// fixes with the same time, the most accurate is kept (the first of equals), so that a
    /// log's second opinion on an epoch cannot make it worse.
    pub fn with_config(mut fixes: Vec<Fix>, config: TrackConfig) -> Track {
        let before = fixes.len();
        fixes.retain(Fix::is_plausible);
        let dropped = before - fixes.len();
        // A stable sort keeps file order among equal times, which makes "first of equals" mean
        // what it says.
        fixes.sort_by_key(|f| f.time_us);
        fixes.dedup_by(|later, kept| {
            if later.time_us != kept.time_us {
                return false;
            }
            if later.accuracy_m < kept.accuracy_m {
                *kept = *later;
            }
            true
        });
        Track {
            fixes,
            config,
            dropped,
            hint: AtomicUsize::new(0),
        }
    }

    pub fn fixes(&self) -> &[Fix] {
        &self.fixes
    }

    pub fn len(&self) -> usize {
        self.fixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fixes.is_empty()
    }

    pub fn config(&self) -> TrackConfig {
        self.config
    }

    /// Fixes that [`Track::new`] dropped as invalid.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The first and last fix time.
    pub fn span(&self) -> Option<(TimeUs, TimeUs)> {
        Some((self.fixes.first()?.time_us, self.fixes.last()?.time_us))
    }

    /// The number of fixes at or before `t`, found from the hint when lookups move forward.
    fn count_at_or_before(&self, t: TimeUs) -> usize {
        let f = &self.fixes;
        let n = f.len();
        let h = self.hint.load(Ordering::Relaxed);
        let count = if h < n && f[h].time_us <= t {
            // Gallop forward from the hint: the steps double until they pass t, then a binary
            // search over the last step. Moving d fixes costs O(log d), and a sequence of
            // increasing lookups moves at most n fixes in all.
            let mut lo = h + 1; // f[lo - 1] <= t
            let mut step = 1;
            let mut hi = loop {
                let probe = lo.saturating_add(step - 1);
                if probe >= n {
                    break n;
                }
                if f[probe].time_us > t {
                    break probe;
                }
                lo = probe + 1;
                step *= 2;
            };
            hi = hi.max(lo);
            lo + f[lo..hi].partition_point(|x| x.time_us <= t)
        } else {
            f.partition_point(|x| x.time_us <= t)
        };
        if count > 0 {
            self.hint.store(count - 1, Ordering::Relaxed);
        }
        count
    }

    /// The position at time `t`, or `None` when the track does not cover `t` closely enough.
    /// See the module documentation for the rules.
    pub fn at(&self, t: TimeUs) -> Option<Fix> {
        let count = self.count_at_or_before(t);
        let prev = count.checked_sub(1).map(|i| self.fixes[i]);
        let next = self.fixes.get(count).copied();
        if let Some(p) = prev
            && p.time_us == t
        {
            return Some(p);
        }
        if let (Some(a), Some(b)) = (prev, next)
            && b.time_us.saturating_sub(a.time_us) <= self.config.max_gap_us
        {
            return Some(interpolate(&a, &b, t));
        }
        let tol = self.config.edge_tolerance_us;
        let before = prev.filter(|p| t.saturating_sub(p.time_us) <= tol);
        let after = next.filter(|n| n.time_us.saturating_sub(t) <= tol);
        match (before, after) {
            (Some(p), Some(n)) => Some(if n.time_us - t < t - p.time_us { n } else { p }),
            (p, n) => p.or(n),
        }
    }
}

/// How far a path with acceleration bounded by [`MAX_ACCELERATION_M_S2`] can be from the
/// straight line between its positions at two times, at a time `dt_a_s` after the first and
/// `dt_b_s` before the second: `a_max · dt_a · dt_b / 2`, the classical error bound of linear
/// interpolation. It is 0 at the fixes, a few decimetres between 1 Hz fixes, and 37.5 m at the
/// middle of a 10 s gap, which is what a car can really do in 10 s that the fixes would not
/// show.
pub fn interpolation_error_m(dt_a_s: f64, dt_b_s: f64) -> f64 {
    MAX_ACCELERATION_M_S2 * dt_a_s * dt_b_s / 2.0
}

/// The position at `t`, between `a` and `b` (with `a.time_us < t < b.time_us`).
fn interpolate(a: &Fix, b: &Fix, t: TimeUs) -> Fix {
    let span = (b.time_us - a.time_us) as f64;
    let f = (t - a.time_us) as f64 / span;
    let lat = a.lat + (b.lat - a.lat) * f;
    // The short way round: from 179.9 to -179.9 is 0.2 degrees east, not 359.8 west.
    let mut dlon = b.lon - a.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    let mut lon = a.lon + dlon * f;
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    let alt_m = match (a.alt_m, b.alt_m) {
        (Some(x), Some(y)) => Some(x + (y - x) * f),
        // With one altitude missing there is nothing to interpolate, and guessing would put a
        // 2D fix's absence of altitude on equal footing with a measurement.
        _ => None,
    };
    let dt_a = (t - a.time_us) as f64 / 1e6;
    let dt_b = (b.time_us - t) as f64 / 1e6;
    Fix {
        lat,
        lon,
        alt_m,
        accuracy_m: a.accuracy_m.max(b.accuracy_m) + interpolation_error_m(dt_a, dt_b),
        time_us: t,
    }
}

/// Great-circle distance in metres (haversine, which stays accurate for the few metres that
/// thinning compares).
pub fn distance_m(a: &Fix, b: &Fix) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dla = la2 - la1;
    let dlo = (b.lon - a.lon).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// How [`thin`] keeps a track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThinOptions {
    /// At most one fix per this interval (1 Hz), less a tenth for receiver clock jitter.
    pub min_interval_us: i64,
    /// A fix is kept when it is more than this far from the last kept one.
    pub min_move_m: f64,
    /// While not moving, one fix per this interval still marks that the receiver was there.
    pub stationary_interval_us: i64,
}

impl Default for ThinOptions {
    fn default() -> Self {
        ThinOptions {
            min_interval_us: 1_000_000,
            min_move_m: 2.5,
            stationary_interval_us: 60_000_000,
        }
    }
}

/// Thins fixes for storage: at most one per `min_interval_us`; a fix is kept when it moved more
/// than `min_move_m` from the last kept one or `stationary_interval_us` has passed since it.
/// The first and last fixes are always kept, and so is the last fix of a stop before moving
/// off, so that the stored track shows how long the receiver stood there and not a slow drift
/// from the arrival to the departure.
///
/// The input may be in any order; the output is sorted by time. A thinned track has gaps of up
/// to a minute where the receiver stood still, so it is for storing and drawing, not for
/// [`Track::at`] with its default 10 s `max_gap_us`: interpolate frames against the log itself.
pub fn thin(fixes: &[Fix], opts: &ThinOptions) -> Vec<Fix> {
    let mut sorted: Vec<Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| f.time_us);
    let mut thinner = Thinner::new(*opts);
    let mut out = Vec::new();
    for f in sorted {
        thinner.push(f, &mut out);
    }
    thinner.finish(&mut out);
    out
}

/// [`thin`] as a stream, for fixes arriving in time order (the tracker keeps the live track
/// with it): [`Thinner::push`] appends what is kept at once, [`Thinner::finish`] what was held
/// back as a possible end of a stop.
#[derive(Debug, Clone)]
pub struct Thinner {
    opts: ThinOptions,
    /// Receivers stamp 1 Hz fixes with a few milliseconds of jitter (haicom-305N.log steps by
    /// 0.999 s now and then), so "one a second" allows a tenth of the interval, or every
    /// other fix of a 1 Hz log would be dropped.
    min_interval: i64,
    last: Option<Fix>,
    /// The latest fix seen but not kept, a candidate for "the end of a stop".
    held: Option<Fix>,
}

impl Thinner {
    pub fn new(opts: ThinOptions) -> Thinner {
        Thinner {
            opts,
            min_interval: opts.min_interval_us - opts.min_interval_us / 10,
            last: None,
            held: None,
        }
    }

    /// Feeds the next fix (not earlier than the previous one); kept fixes go to `out`.
    pub fn push(&mut self, f: Fix, out: &mut Vec<Fix>) {
        if !f.is_plausible() {
            return;
        }
        let Some(last) = self.last else {
            self.keep(f, out);
            return;
        };
        if f.time_us.saturating_sub(last.time_us) < self.min_interval {
            self.held = Some(f);
            return;
        }
        if distance_m(&last, &f) > self.opts.min_move_m {
            if let Some(h) = self.held
                && h.time_us.saturating_sub(last.time_us) >= self.min_interval
                && f.time_us.saturating_sub(h.time_us) >= self.min_interval
                && distance_m(&last, &h) <= self.opts.min_move_m
            {
                self.keep(h, out);
            }
            self.keep(f, out);
        } else if f.time_us.saturating_sub(last.time_us) >= self.opts.stationary_interval_us {
            self.keep(f, out);
        } else {
            self.held = Some(f);
        }
    }

    /// Ends the track: the last fix seen is always kept, even when less than the interval
    /// after the last kept one, so that the track ends where the log ends.
    pub fn finish(&mut self, out: &mut Vec<Fix>) {
        if let (Some(h), Some(last)) = (self.held.take(), self.last)
            && h.time_us > last.time_us
        {
            self.keep(h, out);
        }
    }

    fn keep(&mut self, f: Fix, out: &mut Vec<Fix>) {
        self.last = Some(f);
        self.held = None;
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(t_s: f64, lat: f64, lon: f64) -> Fix {
        Fix {
            lat,
            lon,
            alt_m: Some(10.0),
            accuracy_m: 5.0,
            time_us: (t_s * 1e6) as i64,
        }
    }

    #[test]
    fn exact_midpoint_and_edges() {
        let track = Track::new(vec![fix(10.0, 50.0, 1.0), fix(12.0, 50.002, 1.004)]);
        assert_eq!(track.at(10_000_000), Some(track.fixes()[0]));
        assert_eq!(track.at(12_000_000), Some(track.fixes()[1]));
        let mid = track.at(11_000_000).unwrap();
        assert!((mid.lat - 50.001).abs() < 1e-12);
        assert!((mid.lon - 1.002).abs() < 1e-12);
        assert_eq!(mid.time_us, 11_000_000);
        // Worse neighbour (5 m) plus 3 m/s² × 1 s × 1 s / 2.
        assert!((mid.accuracy_m - 6.5).abs() < 1e-9);
        assert_eq!(track.at(9_000_000), Some(track.fixes()[0]));
        assert_eq!(track.at(8_999_999), None);
        assert_eq!(track.at(13_000_000), Some(track.fixes()[1]));
        assert_eq!(track.at(13_000_001), None);
    }

    #[test]
    fn gaps_and_their_edges() {
        let track = Track::new(vec![fix(0.0, 1.0, 1.0), fix(30.0, 1.0, 1.1)]);
        assert_eq!(track.at(15_000_000), None);
        assert_eq!(track.at(500_000), Some(track.fixes()[0]));
        assert_eq!(track.at(29_500_000), Some(track.fixes()[1]));
        let tight = Track::with_config(
            vec![fix(0.0, 1.0, 1.0), fix(2.0, 1.0, 1.1)],
            TrackConfig {
                max_gap_us: 1_000_000,
                edge_tolerance_us: 1_000_000,
            },
        );
        // Both edges are 1 s away: the earlier fix wins the tie.
        assert_eq!(tight.at(1_000_000), Some(tight.fixes()[0]));
        assert_eq!(tight.at(1_200_000), Some(tight.fixes()[1]));
    }

    #[test]
    fn antimeridian() {
        let track = Track::new(vec![fix(0.0, -17.0, 179.9), fix(2.0, -17.0, -179.9)]);
        let mid = track.at(1_000_000).unwrap();
        assert!((mid.lon.abs() - 180.0).abs() < 1e-9, "{}", mid.lon);
        let q = track.at(1_500_000).unwrap();
        assert!((q.lon - -179.95).abs() < 1e-9, "{}", q.lon);
        let back = Track::new(vec![fix(0.0, -17.0, -179.9), fix(2.0, -17.0, 179.9)]);
        let q = back.at(500_000).unwrap();
        assert!((q.lon - -179.95).abs() < 1e-9, "{}", q.lon);
    }

    #[test]
    fn duplicates_and_invalid_fixes() {
        let mut worse = fix(1.0, 2.0, 2.0);
        worse.accuracy_m = 50.0;
        let better = fix(1.0, 2.1, 2.0);
        let bad = fix(2.0, f64::NAN, 2.0);
        let mut zero = fix(3.0, 1.0, 1.0);
        zero.accuracy_m = 0.0;
        let track = Track::new(vec![fix(4.0, 0.0, 0.0), worse, better, bad, zero]);
        assert_eq!(track.len(), 2);
        assert_eq!(track.dropped(), 2);
        assert_eq!(track.fixes()[0], better);
        assert_eq!(track.span(), Some((1_000_000, 4_000_000)));
    }

    #[test]
    fn forward_random_and_backward_lookups_agree() {
        let fixes: Vec<Fix> = (0..1000)
            .filter(|i| i % 37 != 0)
            .map(|i| fix(f64::from(i) * 1.5, 40.0 + f64::from(i) * 1e-5, -3.0))
            .collect();
        let track = Track::new(fixes);
        let fresh = |t| Track::new(track.fixes().to_vec()).at(t);
        let mut t = -5_000_000;
        while t < 1_600_000_000 {
            assert_eq!(track.at(t), fresh(t), "t={t}");
            t += 700_001;
        }
        for t in [1_000_000_000, 3_000_000, 999_999_999, 1_499_000_000, -1] {
            assert_eq!(track.at(t), fresh(t), "t={t}");
        }
        assert_eq!(Track::new(Vec::new()).at(0), None);
    }

    #[test]
    fn thinning() {
        // 120 s standing still (jitter under a metre), then moving 10 m a second for 10 s.
        let mut fixes: Vec<Fix> = (0..120)
            .map(|i| fix(f64::from(i), 50.0 + f64::from(i % 3) * 2e-6, 8.0))
            .collect();
        for i in 0..10 {
            fixes.push(fix(
                120.0 + f64::from(i),
                50.0 + f64::from(i + 1) * 9e-5,
                8.0,
            ));
        }
        // Two fixes within one second are never both kept.
        fixes.push(fix(129.5, 50.0 + 11.0 * 9e-5, 8.0));
        let kept = thin(&fixes, &ThinOptions::default());
        let times: Vec<f64> = kept.iter().map(|f| f.time_us as f64 / 1e6).collect();
        let mut want = vec![0.0, 60.0, 119.0];
        want.extend((0..10).map(|i| 120.0 + f64::from(i)));
        want.push(129.5);
        assert_eq!(times, want);
    }
}
