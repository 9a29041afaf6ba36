//! Track lookups checked against positions computed independently: great-circle interpolation on unit vectors, and hand-worked values.

use std::path::Path;

use piwardrive::gps::log::read_log;
use piwardrive::gps::track::{ThinOptions, Track, TrackConfig, distance_m, thin};
use piwardrive::model::Fix;
use proptest::prelude::*;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/gps")
        .join(name)
}

fn fix(t_us: i64, lat: f64, lon: f64) -> Fix {
    Fix {
        lat,
        lon,
        alt_m: None,
        accuracy_m: 4.0,
        time_us: t_us,
    }
}

/// A point on the unit sphere.
fn unit(lat: f64, lon: f64) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// The point a fraction `f` of the way along the great circle from `a` to `b` (spherical
/// linear interpolation), as latitude and longitude. This shares nothing with the track's
/// planar interpolation; over the few metres between fixes the two agree to far better than
/// 1e-7 degrees, and across the antimeridian only a correct wrap can agree with it.
fn slerp(a: (f64, f64), b: (f64, f64), f: f64) -> (f64, f64) {
    let (p, q) = (unit(a.0, a.1), unit(b.0, b.1));
    let dot = (p[0] * q[0] + p[1] * q[1] + p[2] * q[2]).clamp(-1.0, 1.0);
    let omega = dot.acos();
    let v = if omega < 1e-15 {
        p
    } else {
        let (wa, wb) = (
            ((1.0 - f) * omega).sin() / omega.sin(),
            (f * omega).sin() / omega.sin(),
        );
        [
            wa * p[0] + wb * q[0],
            wa * p[1] + wb * q[1],
            wa * p[2] + wb * q[2],
        ]
    };
    let lat = v[2].atan2(v[0].hypot(v[1])).to_degrees();
    let lon = v[1].atan2(v[0]).to_degrees();
    (lat, lon)
}

/// The difference of two longitudes, the short way round.
fn dlon(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

#[test]
fn hand_worked_values() {
    let track = Track::new(vec![fix(0, 0.0, 10.0), fix(2_000_000, 0.001, 10.002)]);
    // Exact hits give the fix itself.
    assert_eq!(track.at(0), Some(track.fixes()[0]));
    assert_eq!(track.at(2_000_000), Some(track.fixes()[1]));
    // A quarter of the way: 0.00025, 10.0005.
    let q = track.at(500_000).unwrap();
    assert!((q.lat - 0.00025).abs() < 1e-12 && (q.lon - 10.0005).abs() < 1e-12);
    assert_eq!(q.time_us, 500_000);
    // Accuracy: the worse neighbour (4 m) plus 3 m/s² × 0.5 s × 1.5 s / 2 = 1.125 m.
    assert!((q.accuracy_m - 5.125).abs() < 1e-9, "{}", q.accuracy_m);
}

#[test]
fn gaps_edges_and_configuration() {
    let fixes = vec![fix(0, 1.0, 1.0), fix(20_000_000, 1.0, 1.01)];
    let track = Track::new(fixes.clone());
    // A 20 s gap is more than the default 10 s: nothing in the middle...
    assert_eq!(track.at(10_000_000), None);
    // ...but the edges of the gap are edges of the track.
    assert_eq!(track.at(1_000_000), Some(fixes[0]));
    assert_eq!(track.at(1_000_001), None);
    assert_eq!(track.at(19_000_000), Some(fixes[1]));
    // Before and after the span.
    assert_eq!(track.at(-1_000_000), Some(fixes[0]));
    assert_eq!(track.at(-1_000_001), None);
    assert_eq!(track.at(21_000_000), Some(fixes[1]));
    assert_eq!(track.at(21_000_001), None);
    // A wider max_gap bridges it; a zero edge tolerance gives only exact and inner times.
    let wide = Track::with_config(
        fixes.clone(),
        TrackConfig {
            max_gap_us: 30_000_000,
            edge_tolerance_us: 0,
        },
    );
    let mid = wide.at(10_000_000).unwrap();
    assert!((mid.lon - 1.005).abs() < 1e-12);
    assert_eq!(wide.at(-1), None);
    assert_eq!(wide.at(20_000_001), None);
    // Exactly max_gap apart still interpolates.
    let edge = Track::new(vec![fix(0, 1.0, 1.0), fix(10_000_000, 1.0, 1.01)]);
    assert!(edge.at(5_000_000).is_some());
}

#[test]
fn antimeridian_against_great_circle() {
    for (a, b) in [
        ((-17.0, 179.9999), (-17.0001, -179.9999)),
        ((65.0, -179.99995), (65.00002, 179.99990)),
        ((0.0, 180.0), (0.0001, -179.9998)),
    ] {
        let track = Track::new(vec![fix(0, a.0, a.1), fix(1_000_000, b.0, b.1)]);
        for k in 1..10 {
            let f = f64::from(k) / 10.0;
            let got = track.at((f * 1e6) as i64).unwrap();
            let (lat, lon) = slerp(a, b, f);
            assert!((got.lat - lat).abs() < 1e-7, "{a:?}->{b:?} at {f}: {got:?}");
            assert!(
                dlon(got.lon, lon) < 1e-7,
                "{a:?}->{b:?} at {f}: {got:?} vs {lon}"
            );
            assert!((-180.0..=180.0).contains(&got.lon));
        }
    }
}

/// Tags frames every 100 ms across a real boat track and checks every answer against a
/// straightforward reimplementation of the rules with great-circle interpolation.
#[test]
fn real_track_frames_against_independent_positions() {
    let mut fixes = read_log(&data("bundg_zeus_9.log")).unwrap();
    fixes.sort_by_key(|f| f.time_us);
    assert!(fixes.windows(2).all(|w| w[0].time_us < w[1].time_us));
    let track = Track::new(fixes.clone());
    let (first, last) = track.span().unwrap();
    let (mut inside, mut edges, mut none) = (0, 0, 0);
    let mut t = first - 2_000_000;
    while t <= last + 2_000_000 {
        let got = track.at(t);
        let i = fixes.partition_point(|f| f.time_us <= t);
        let (prev, next) = (i.checked_sub(1).map(|k| fixes[k]), fixes.get(i).copied());
        match (prev, next) {
            (Some(p), _) if p.time_us == t => assert_eq!(got, Some(p)),
            (Some(p), Some(n)) if n.time_us - p.time_us <= 10_000_000 => {
                let f = (t - p.time_us) as f64 / (n.time_us - p.time_us) as f64;
                let (lat, lon) = slerp((p.lat, p.lon), (n.lat, n.lon), f);
                let g = got.unwrap();
                assert!(
                    (g.lat - lat).abs() < 1e-7 && dlon(g.lon, lon) < 1e-7,
                    "t={t}"
                );
                assert!(g.accuracy_m >= p.accuracy_m.max(n.accuracy_m));
                if let (Some(a), Some(b), Some(h)) = (p.alt_m, n.alt_m, g.alt_m) {
                    assert!(h >= a.min(b) - 1e-9 && h <= a.max(b) + 1e-9);
                }
                inside += 1;
            }
            (p, n) => {
                let near_p = p.filter(|p| t - p.time_us <= 1_000_000);
                let near_n = n.filter(|n| n.time_us - t <= 1_000_000);
                let want = match (near_p, near_n) {
                    (Some(p), Some(n)) => Some(if n.time_us - t < t - p.time_us { n } else { p }),
                    (p, n) => p.or(n),
                };
                assert_eq!(got, want, "t={t}");
                if want.is_some() {
                    edges += 1;
                } else {
                    none += 1;
                }
            }
        }
        t += 100_000;
    }
    assert!(
        inside > 1000 && edges > 0 && none > 0,
        "{inside} {edges} {none}"
    );
    // A capture from another day gets no positions at all.
    for day in [-1, 1, 3000] {
        let t0 = first + day * 86_400_000_000;
        assert!((0..600).all(|s| track.at(t0 + s * 1_000_000).is_none()));
    }
}

#[test]
fn thinning_a_real_boat_and_a_standing_walker() {
    let opts = ThinOptions::default();
    for name in ["bundg_zeus_9.log", "haicom-305N.log", "nmea-rtk.log"] {
        let mut fixes = read_log(&data(name)).unwrap();
        fixes.sort_by_key(|f| f.time_us);
        let kept = thin(&fixes, &opts);
        assert_eq!(kept.first(), fixes.first(), "{name}");
        assert_eq!(kept.last(), fixes.last(), "{name}");
        for (k, w) in kept.windows(2).enumerate() {
            let dt = w[1].time_us - w[0].time_us;
            let last_pair = k + 2 == kept.len();
            assert!(dt >= 900_000 || last_pair, "{name}: {dt} us apart");
        }
        // Never more than one fix a second (plus the last).
        let span_s = (fixes.last().unwrap().time_us - fixes[0].time_us) / 1_000_000;
        assert!(kept.len() as i64 <= span_s + 2, "{name}");
        // A fix was dropped only because it had not moved from the kept fix before it, or
        // because it came less than 0.9 s (one a second, less clock jitter) after it.
        for f in &fixes {
            let i = kept.partition_point(|k| k.time_us <= f.time_us);
            let before = kept[i - 1];
            assert!(
                before.time_us == f.time_us
                    || distance_m(&before, f) <= opts.min_move_m
                    || f.time_us - before.time_us < 900_000,
                "{name}: dropped a fix that moved"
            );
        }
    }
    // The boat moves about 3 m/s: at 1 Hz nearly every fix is kept.
    let boat = read_log(&data("bundg_zeus_9.log")).unwrap();
    assert!(thin(&boat, &opts).len() * 10 >= boat.len() * 8);
}

proptest! {
    /// Lookups in increasing order (the cursor), in random order, and on a fresh track give
    /// the same answers, and an answer is never outside the box of its neighbours.
    #[test]
    fn cursor_matches_fresh_lookups(
        steps in prop::collection::vec((1i64..30_000_000, -1e-3f64..1e-3, -1e-3f64..1e-3), 1..200),
        probes in prop::collection::vec(-5_000_000i64..2_000_000_000, 1..300),
    ) {
        let mut t = 0;
        let (mut lat, mut lon) = (45.0, 179.9);
        let mut fixes = Vec::new();
        for (dt, dla, dlo) in steps {
            t += dt;
            lat += dla;
            lon += dlo;
            if lon > 180.0 { lon -= 360.0; }
            fixes.push(fix(t, lat, lon));
        }
        let track = Track::new(fixes.clone());
        let mut sorted = probes.clone();
        sorted.sort();
        let forward: Vec<Option<Fix>> = sorted.iter().map(|&p| track.at(p)).collect();
        for (&p, got) in sorted.iter().zip(&forward) {
            let fresh = Track::new(fixes.clone()).at(p);
            prop_assert_eq!(*got, fresh);
            if let Some(g) = got {
                let lo = fixes.iter().map(|f| f.lat).fold(f64::MAX, f64::min);
                let hi = fixes.iter().map(|f| f.lat).fold(f64::MIN, f64::max);
                prop_assert!(g.lat >= lo - 1e-12 && g.lat <= hi + 1e-12);
                prop_assert!(g.accuracy_m >= 4.0);
            }
        }
        for &p in probes.iter().rev() {
            prop_assert_eq!(track.at(p), Track::new(fixes.clone()).at(p));
        }
    }
}
