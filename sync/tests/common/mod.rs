//! Test helpers: a deterministic random source and a synthetic wardrive (track, networks, throttled sightings).

#![allow(dead_code)] // each test binary uses part of this module

use piwardrive_sync::{DeviceId, Fix, Kind, Mac, NetworkSummary, Observation};
use std::collections::HashMap;

/// proptest's case count for the slow tests: `PROPTEST_CASES` when set (a long run:
/// `PROPTEST_CASES=5000 cargo test -p piwardrive-sync --release`), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: small, fast and the same on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform in [a, b).
    pub fn between(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
}

/// Organisationally unique identifiers of common access-point and phone vendors, so that
/// the MACs look like a street's: many share their first three bytes.
const OUIS: [[u8; 3]; 16] = [
    [0x00, 0x1a, 0x2b],
    [0x3c, 0x84, 0x6a],
    [0x50, 0xc7, 0xbf],
    [0x74, 0xda, 0x88],
    [0x98, 0xda, 0xc4],
    [0xa0, 0x63, 0x91],
    [0xb0, 0x4e, 0x26],
    [0xc8, 0x3a, 0x35],
    [0xd8, 0x07, 0xb6],
    [0xe4, 0x8d, 0x8c],
    [0xf4, 0xf2, 0x6d],
    [0x00, 0x24, 0x01],
    [0x2c, 0x30, 0x33],
    [0x44, 0xd9, 0xe7],
    [0x60, 0x45, 0xcb],
    [0x7c, 0x10, 0xc9],
];

pub fn random_mac(rng: &mut Rng, client: bool) -> Mac {
    let oui = OUIS[rng.below(OUIS.len() as u64) as usize];
    let r = rng.next_u64().to_le_bytes();
    let mut m = [oui[0], oui[1], oui[2], r[0], r[1], r[2]];
    if client && rng.chance(0.6) {
        // A randomised (locally administered) client address, as most phones send.
        m[0] = (r[3] & 0xfc) | 0x02;
    }
    Mac(m)
}

const METRES_PER_DEGREE: f64 = 111_320.0;

struct Ap {
    mac: Mac,
    x: f64,
    y: f64,
    channel: u16,
    freq: u16,
    ssid: Vec<u8>,
    client: bool,
}

/// The throttle state of one network, as the firmware's `tracker::throttle::Mark`.
#[derive(Default, Clone, Copy)]
struct Mark {
    seen: bool,
    signal: i8,
    x: f64,
    y: f64,
}

/// A synthetic drive: what one device records.
pub struct Drive {
    pub device: DeviceId,
    pub observations: Vec<Observation>,
    /// Every network's summary as the device would build it (SSID included).
    pub networks: Vec<(Mac, NetworkSummary)>,
}

/// A drive of `seconds` at town speeds (8-14 m/s, turning) through `networks` access points
/// and half as many clients placed within 100 m of the route, 1 Hz GPS fixes, sightings
/// heard with a probability falling with distance, signals from -30 dBm (at 1 m) down to
/// -95 dBm, throttled as the firmware does (first sighting, signal up 5 dB, moved 110 m).
///
/// `interpolate`: each observation carries the fix interpolated to its own time (as `ingest`
/// does with a GPS log) instead of the latest 1 Hz fix (as the live appliance does).
pub fn wardrive(seed: u64, networks: usize, seconds: u64, interpolate: bool) -> Drive {
    let mut rng = Rng(seed);
    let device = DeviceId(
        [rng.next_u64().to_le_bytes(), rng.next_u64().to_le_bytes()]
            .concat()
            .try_into()
            .unwrap(),
    );
    let (lat0, lon0) = (51.45 + rng.between(0.0, 0.1), -0.2 + rng.between(0.0, 0.2));
    let lon_scale = METRES_PER_DEGREE * lat0.to_radians().cos();
    // The route, one point a second.
    let mut track = Vec::with_capacity(seconds as usize + 1);
    let (mut x, mut y, mut heading, mut speed) = (
        0.0f64,
        0.0f64,
        rng.between(0.0, std::f64::consts::TAU),
        11.0,
    );
    for _ in 0..=seconds {
        track.push((x, y));
        heading += rng.between(-0.12, 0.12);
        if rng.chance(0.01) {
            heading += rng.between(-1.6, 1.6); // a turn at a junction
        }
        speed = (speed + rng.between(-1.0, 1.0)).clamp(8.0, 14.0);
        x += speed * heading.cos();
        y += speed * heading.sin();
    }
    // Networks and clients along it, in a 200 m grid for lookups.
    let mut aps = Vec::new();
    let total = networks + networks / 2;
    for i in 0..total {
        let (tx, ty) = track[rng.below(track.len() as u64) as usize];
        let (freq, channel) = if rng.chance(0.7) {
            let ch = [1, 6, 11, 1, 6, 11, 3, 9][rng.below(8) as usize];
            (2407 + 5 * ch, ch)
        } else {
            let ch = [36, 40, 44, 48, 100, 108, 149, 157][rng.below(8) as usize];
            (5000 + 5 * ch, ch)
        };
        let client = i >= networks;
        aps.push(Ap {
            mac: random_mac(&mut rng, client),
            x: tx + rng.between(-100.0, 100.0),
            y: ty + rng.between(-100.0, 100.0),
            channel,
            freq,
            ssid: format!("net-{:04x}", rng.below(0x10000)).into_bytes(),
            client,
        });
    }
    let cell = |x: f64, y: f64| ((x / 200.0).floor() as i64, (y / 200.0).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, ap) in aps.iter().enumerate() {
        grid.entry(cell(ap.x, ap.y)).or_default().push(i);
    }
    let mut marks = vec![Mark::default(); aps.len()];
    let mut summaries: HashMap<usize, NetworkSummary> = HashMap::new();
    let t0: i64 = 1_760_000_000_000_000 + rng.below(1 << 30) as i64;
    let (mut acc_cm, mut alt_cm) = (350i64, 3_500i64);
    let mut observations = Vec::new();
    let mut seq = 0u64;
    for s in 0..seconds as usize {
        let fix_time = t0 + s as i64 * 1_000_000;
        acc_cm = (acc_cm + rng.below(41) as i64 - 20).clamp(180, 900);
        alt_cm = (alt_cm + rng.below(61) as i64 - 30).clamp(500, 9_000);
        let fix_at = |fx: f64, fy: f64, t: i64| Fix {
            lat_e7: ((lat0 + fy / METRES_PER_DEGREE) * 1e7).round() as i32,
            lon_e7: ((lon0 + fx / lon_scale) * 1e7).round() as i32,
            alt_cm: Some(alt_cm as i32),
            accuracy_cm: acc_cm as u32,
            time_us: t,
        };
        let (cx, cy) = track[s];
        let (nx, ny) = track[s + 1];
        let (gx, gy) = cell(cx, cy);
        let mut heard = Vec::new();
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &i in grid.get(&(gx + dx, gy + dy)).into_iter().flatten() {
                    let ap = &aps[i];
                    let d = ((ap.x - cx).powi(2) + (ap.y - cy).powi(2)).sqrt().max(1.0);
                    let p = if d < 60.0 {
                        0.9
                    } else if d < 150.0 {
                        0.5
                    } else {
                        0.0
                    };
                    if rng.chance(p) {
                        let off = rng.below(1_000_000) as i64;
                        let signal = (-30.0 - 28.0 * d.log10() + rng.between(-4.0, 4.0))
                            .round()
                            .clamp(-95.0, -30.0) as i8;
                        heard.push((off, i, signal));
                    }
                }
            }
        }
        heard.sort();
        for (off, i, signal) in heard {
            let ap = &aps[i];
            let m = &mut marks[i];
            let moved = ((m.x - cx).powi(2) + (m.y - cy).powi(2)).sqrt();
            if m.seen && signal < m.signal.saturating_add(5) && moved < 110.0 {
                continue;
            }
            *m = Mark {
                seen: true,
                signal,
                x: cx,
                y: cy,
            };
            let time = fix_time + off;
            let fix = if interpolate {
                let f = off as f64 / 1e6;
                fix_at(cx + (nx - cx) * f, cy + (ny - cy) * f, time)
            } else {
                fix_at(cx, cy, fix_time)
            };
            seq += 1;
            let o = Observation {
                seq,
                session_id: 1,
                kind: if ap.client { Kind::Client } else { Kind::Ap },
                mac: ap.mac,
                time,
                signal_dbm: Some(signal),
                channel: Some(ap.channel),
                freq_mhz: Some(ap.freq),
                fix: Some(fix),
            };
            if let Some(mut n) = NetworkSummary::from_observation(device, &o) {
                n.add_ssid(&ap.ssid);
                summaries
                    .entry(i)
                    .and_modify(|s| {
                        s.join(&n);
                    })
                    .or_insert(n);
            }
            observations.push(o);
        }
    }
    let mut networks: Vec<(Mac, NetworkSummary)> = summaries
        .into_iter()
        .map(|(i, s)| (aps[i].mac, s))
        .collect();
    networks.sort_by_key(|(m, _)| *m);
    Drive {
        device,
        observations,
        networks,
    }
}
