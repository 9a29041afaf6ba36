//! The web UI under load (`cargo bench -p piwardrive --bench web_load`): wrk against the real server, pages beside a static file.
//!
//! The bench builds a store of 100,000 networks (with clients, positioned observations, a
//! session and a GPS track) through the store's own writer, caches it under `target/tmp/`,
//! copies it to a fresh data directory, creates an API token with `piwardrive token create`,
//! and starts the appliance itself as a second process: `piwardrive run` with a configuration
//! that has no capture source and no GPS, so only the store, the tracker task and the web UI
//! run. Then wrk (Debian package `wrk`) loads each URL in turn, with and without
//! `Accept-Encoding: gzip`, the static stylesheet (as the pages link it) first in every
//! block as the baseline, for several rounds. Per URL it prints requests/s, p50 and p99 (the
//! median over the rounds) and the ratio of p99 to the baseline's, and `BELOW TARGET` for any
//! page whose p99 is over 50 ms.
//!
//! `PIWARDRIVE_BENCH_QUICK=1`: 10,000 networks, one short round (a smoke run).
//! `PIWARDRIVE_BENCH_NETWORKS`, `PIWARDRIVE_BENCH_SECONDS`, `PIWARDRIVE_BENCH_ROUNDS`,
//! `PIWARDRIVE_BENCH_CONNECTIONS` override the sizes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use piwardrive::dot11::MacAddr;
use piwardrive::model::{
    ApRecord, Band, ClientRecord, Fix, Observation, ObservationKind, Phy, PositionEstimate,
    Security, SessionRecord, SessionStatus, SsidSeen, TimeSource, TimeUs,
};
use piwardrive::store::{Batch, SourceCursor, Store, StoreWriter};

/// The p99 every page must stay under.
const TARGET_P99_MS: f64 = 50.0;
/// Bump when the generated store changes, so that a cached one is rebuilt.
const GENERATOR_VERSION: u32 = 1;
/// The drive starts 2026-11-27 08:00 UTC and lasts four hours.
const T0: TimeUs = 1_795_766_400_000_000;
const DRIVE_US: TimeUs = 4 * 3600 * 1_000_000;

// ---------------------------------------------------------------------------------------------
// The store

/// splitmix64: small, fast, and the same sequence everywhere, so the store is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// OUIs of common access-point makers; the vendor comes from the same IEEE registry the
/// tracker uses (`oui-data`), so it is whatever a real capture would show.
const OUIS: &[u32] = &[
    0x3810D5, 0xC80E14, 0x2C3AFD, 0x7CFF4D, 0xE0286D, // AVM (FRITZ!Box)
    0xF4F26D, 0x50C7BF, 0x60A4B7, // TP-Link
    0x000C42, 0x4C5E0C, // MikroTik
    0x001A1E, 0x24DEC6, // Aruba
    0x0018F8, 0x00146C, 0xA040A0, // Cisco-Linksys, Netgear
    0x88711F, 0xE4BFFA, // Huawei, TP-Link
    0x28C68E, 0xB0487A, // Netgear, TP-Link
    0x001D7E, 0xF09FC2, // Cisco-Linksys, Ubiquiti
];

/// SSIDs as heard on a city drive: ISP defaults with per-device suffixes, hotspots, phones,
/// printers, and the hostile ones anything from the air may carry.
fn ssid(rng: &mut Rng, i: u64) -> Vec<u8> {
    let hex4 = format!("{:04X}", i & 0xffff);
    let n = rng.below(100);
    match n {
        0..=14 => format!(
            "FRITZ!Box {} {}",
            rng.pick(&["7590", "7530 AX", "6660 Cable", "7490"]),
            &hex4[..2]
        )
        .into_bytes(),
        15..=24 => format!("Vodafone-{hex4}").into_bytes(),
        25..=32 => format!("TP-Link_{hex4}").into_bytes(),
        33..=38 => format!("WLAN-{:06}", i % 1_000_000).into_bytes(),
        39..=43 => format!("o2-WLAN{:02}", i % 100).into_bytes(),
        44..=47 => format!("MagentaWLAN-{hex4}").into_bytes(),
        48..=50 => b"Telekom_FON".to_vec(),
        51..=52 => b"eduroam".to_vec(),
        53..=55 => format!("DIRECT-{}-HP OfficeJet Pro 9010", &hex4[2..]).into_bytes(),
        56..=58 => format!(
            "iPhone von {}",
            rng.pick(&["Anna", "Jörg", "Mehmet", "Zoë", "Ana-María"])
        )
        .into_bytes(),
        59..=61 => format!("Galaxy A52 {hex4}").into_bytes(),
        62..=63 => format!("HUAWEI-{hex4}_5G").into_bytes(),
        64..=65 => format!("NETGEAR{:02}", i % 100).into_bytes(),
        66 => b"Freifunk".to_vec(),
        67 => b"Guest".to_vec(),
        68 => format!("AndroidAP_{hex4}").into_bytes(),
        69 => "Café Müller Gäste-WLAN".as_bytes().to_vec(),
        70 => "🏠 Home 📶".as_bytes().to_vec(),
        71 => b"<script>alert(1)</script>".to_vec(),
        72 => b"\"><svg onload=alert(document.cookie)>".to_vec(),
        73 => b"' OR 1=1; --".to_vec(),
        74 => b"{{7*7}}${7*7}%s%n".to_vec(),
        75 => vec![0xff, 0xfe, b'b', b'a', b'd', 0xc3, 0x28, 0x80],
        76 => "\u{202e}gnp.exe".as_bytes().to_vec(),
        77 => b"tab\there\nnewline\rcr".to_vec(),
        78 => b"\x1b[31mred\x1b[0m".to_vec(),
        79 => b"nul\0inside".to_vec(),
        80 => b"&amp;&lt;&#x27;".to_vec(),
        81 => vec![b'A'; 32],
        82 => b"x".to_vec(),
        83 => vec![
            0xe6, 0x97, 0xa0, 0xe7, 0xba, 0xbf, 0xe7, 0xbd, 0x91, 0xe7, 0xbb, 0x9c,
        ],
        _ => {
            // Anything else: random printable text of 1 to 32 bytes.
            let len = 1 + rng.below(32) as usize;
            (0..len)
                .map(|_| {
                    *rng.pick(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.")
                })
                .collect()
        }
    }
}

/// Where the car is at `t`: a zig-zag through a city (Berlin), about 30 km/h.
fn position(t: TimeUs) -> (f64, f64) {
    let s = (t - T0) as f64 / 1e6;
    let lat = 52.50 + 0.04 * ((s / 1800.0).sin());
    let lon = 13.30 + 0.2 * (s / DRIVE_US as f64 * 1e6);
    (lat, lon)
}

fn fix_at(rng: &mut Rng, t: TimeUs) -> Fix {
    let (lat, lon) = position(t);
    Fix {
        lat: lat + (rng.below(200) as f64 - 100.0) * 1e-6,
        lon: lon + (rng.below(200) as f64 - 100.0) * 1e-6,
        alt_m: Some(35.0 + rng.below(20) as f64),
        accuracy_m: 2.0 + rng.below(12) as f64,
        time_us: t,
    }
}

fn security(rng: &mut Rng) -> Security {
    // RSN AKM suite numbers: 1 802.1X, 2 PSK, 8 SAE, 18 OWE.
    let (privacy, wpa, akms) = match rng.below(100) {
        0..=9 => (false, false, 0),
        10 => (true, false, 0),
        11..=12 => (true, true, 0),
        13..=19 => (true, true, 1 << 2),
        20..=76 => (true, false, 1 << 2),
        77..=79 => (true, false, 1 << 1),
        80..=94 => (true, false, (1 << 2) | (1 << 8)),
        95..=98 => (true, false, 1 << 8),
        _ => (true, false, 1 << 18),
    };
    Security {
        privacy,
        wpa,
        rsn_akms: akms,
        rsn_pairwise: if akms != 0 { 1 << 4 } else { 0 },
        rsn_group: if akms != 0 { 1 << 4 } else { 0 },
        wpa_akms: if wpa { 1 << 2 } else { 0 },
        wpa_ciphers: if wpa { 1 << 2 } else { 0 },
        ..Default::default()
    }
}

/// The low three octets of device `i`: a bijection on 24 bits (an odd multiplier), so every
/// device gets its own address whatever its first three octets, yet they look scattered.
fn scramble(i: u64) -> u64 {
    (i.wrapping_mul(0x9E_3779) ^ 0x5A_5A5A) & 0x00ff_ffff
}

/// The first three octets of a randomised (locally administered, unicast) address.
fn local_prefix(rng: &mut Rng) -> u64 {
    ((rng.below(64) << 2) | 0b10) << 16 | rng.below(1 << 16)
}

struct Generated {
    aps: Vec<ApRecord>,
    clients: Vec<ClientRecord>,
    observations: Vec<Observation>,
    track: Vec<Fix>,
}

/// `n` networks heard over a four-hour drive, `n / 4` clients, two positioned sightings per
/// network and one per client.
fn generate(n: u64, session_id: u64) -> Generated {
    let mut rng = Rng(0x5eed_0000 + n);
    let mut aps = Vec::with_capacity(n as usize);
    let mut observations = Vec::new();
    let mut seq = 1u64;
    for i in 0..n {
        let local = rng.pct(8);
        let prefix = if local {
            local_prefix(&mut rng)
        } else {
            u64::from(*rng.pick(OUIS))
        };
        let bssid = MacAddr::from_u64((prefix << 24) | scramble(i));
        let vendor = (!local)
            .then(|| {
                let o = bssid.octets();
                let hex = format!(
                    "{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
                    o[0], o[1], o[2], o[3], o[4], o[5]
                );
                oui_data::lookup(&hex).map(|d| d.organization().to_string())
            })
            .flatten();
        let first_seen = T0 + (i as i64 * DRIVE_US) / n as i64;
        let last_seen = first_seen + rng.below(30 * 60 * 1_000_000) as i64;
        let hidden = rng.pct(5);
        let name = (!hidden).then(|| ssid(&mut rng, i));
        let (band, channel, freq) = match rng.below(100) {
            0..=59 => {
                let c = *rng.pick(&[1u16, 6, 11, 1, 6, 11, 3, 13]);
                (Band::B2_4, c, 2407 + 5 * c)
            }
            60..=94 => {
                let c = *rng.pick(&[36u16, 40, 44, 48, 100, 112, 116, 132]);
                (Band::B5, c, 5000 + 5 * c)
            }
            _ => {
                let c = *rng.pick(&[5u16, 21, 37, 53]);
                (Band::B6, c, 5950 + 5 * c)
            }
        };
        let best = -30 - rng.below(65) as i8;
        let mut position = None;
        let mut best_fix = None;
        for (k, t) in [first_seen, last_seen].into_iter().enumerate() {
            let signal = best - (k as i8) * rng.below(10) as i8;
            let fix = fix_at(&mut rng, t);
            PositionEstimate::add(&mut position, &fix, Some(signal));
            if k == 0 {
                best_fix = Some(fix);
            }
            observations.push(Observation {
                seq,
                session_id,
                kind: ObservationKind::Ap,
                mac: bssid,
                time: t,
                signal_dbm: Some(signal),
                channel: Some(channel),
                freq_mhz: Some(freq),
                fix: Some(fix),
            });
            seq += 1;
        }
        let beacons = 1 + rng.below(5000);
        aps.push(ApRecord {
            bssid,
            ssid: name.clone(),
            ssid_history: vec![SsidSeen {
                ssid: name.unwrap_or_default(),
                count: beacons,
                first_seen,
                last_seen,
            }],
            hidden,
            channel: Some(channel),
            freq_mhz: Some(freq),
            band: Some(band),
            width_mhz: Some(*rng.pick(&[20u16, 40, 80, 160])),
            phy: *rng.pick(&[Phy::N, Phy::Ac, Phy::Ax, Phy::Ax, Phy::Legacy]),
            heard_channels: vec![channel],
            security: security(&mut rng),
            vendor,
            country: rng.pct(60).then_some(*b"DE "),
            mesh_id: None,
            ibss: rng.pct(1),
            first_seen,
            last_seen,
            beacons,
            probe_responses: rng.below(20),
            data_frames: rng.below(500),
            best_signal_dbm: Some(best),
            best_fix,
            best_fix_signal_dbm: Some(best),
            position,
            last_signal_dbm: Some(best - rng.below(15) as i8),
            client_count: 0,
        });
    }
    let mut clients = Vec::new();
    for j in 0..n / 4 {
        let ap = rng.below(n) as usize;
        let randomized = rng.pct(70);
        let prefix = if randomized {
            local_prefix(&mut rng)
        } else {
            u64::from(*rng.pick(OUIS))
        };
        let mac = MacAddr::from_u64((prefix << 24) | scramble(j));
        let t = aps[ap].first_seen + rng.below(60_000_000) as i64;
        let fix = fix_at(&mut rng, t);
        let signal = -40 - rng.below(50) as i8;
        aps[ap].client_count += 1;
        let probed = (0..rng.below(4)).map(|k| ssid(&mut rng, j + k)).collect();
        clients.push(ClientRecord {
            mac,
            randomized,
            probed_ssids: probed,
            associated_bssid: rng.pct(60).then_some(aps[ap].bssid),
            vendor: None,
            first_seen: t,
            last_seen: t + rng.below(600_000_000) as i64,
            frames: 1 + rng.below(300),
            best_signal_dbm: Some(signal),
            best_fix: Some(fix),
        });
        observations.push(Observation {
            seq,
            session_id,
            kind: ObservationKind::Client,
            mac,
            time: t,
            signal_dbm: Some(signal),
            channel: aps[ap].channel,
            freq_mhz: aps[ap].freq_mhz,
            fix: Some(fix),
        });
        seq += 1;
    }
    let track = (0..DRIVE_US / 1_000_000)
        .map(|s| fix_at(&mut rng, T0 + s * 1_000_000))
        .collect();
    Generated {
        aps,
        clients,
        observations,
        track,
    }
}

/// Writes the store through [`StoreWriter`] in tracker-sized batches (a drive's worth of
/// commits, each with the session record and a cursor, as `ingest` writes them).
fn build_store(path: &Path, n: u64) -> anyhow::Result<()> {
    let store = Store::open(path)?;
    let session_id = store.next_session_id()?;
    let g = generate(n, session_id);
    let mut session = SessionRecord::new(
        session_id,
        store.device_id(),
        T0,
        vec!["web_load bench".into()],
        TimeSource::Gps,
    );
    let writer = StoreWriter::spawn(store.clone());
    const CHUNKS: usize = 50;
    let per = |len: usize| len.div_ceil(CHUNKS).max(1);
    let mut aps = g.aps.chunks(per(g.aps.len()));
    let mut clients = g.clients.chunks(per(g.clients.len()));
    let mut obs = g.observations.chunks(per(g.observations.len()));
    let mut track = g.track.chunks(per(g.track.len()));
    for k in 0..CHUNKS {
        session.frames = (k as u64 + 1) * 10_000;
        if k == CHUNKS - 1 {
            session.ended_at = Some(T0 + DRIVE_US);
            session.status = SessionStatus::Ended;
        }
        writer.send(Batch {
            aps: aps.next().unwrap_or_default().to_vec(),
            clients: clients.next().unwrap_or_default().to_vec(),
            observations: obs.next().unwrap_or_default().to_vec(),
            sessions: vec![session.clone()],
            cursors: vec![(
                "bench:web_load".into(),
                SourceCursor {
                    records: session.frames,
                    byte_offset: 0,
                    complete: k == CHUNKS - 1,
                },
            )],
            track: track.next().unwrap_or_default().to_vec(),
            time_shifts: Vec::new(),
        })?;
    }
    writer.finish()?;
    let st = store.stats()?;
    anyhow::ensure!(st.aps == n, "{} networks stored, {n} meant", st.aps);
    eprintln!(
        "  {} networks, {} clients, {} observations, {:.1} MB",
        st.aps,
        st.clients,
        st.observations,
        st.file_bytes as f64 / 1e6
    );
    Ok(())
}

/// The cached store for `n` networks, built on first use.
fn cached_store(n: u64) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_load");
    let dir = root.join(format!("store-v{GENERATOR_VERSION}-{n}"));
    let file = dir.join("piwardrive.redb");
    if file.exists() {
        eprintln!("store: cached at {}", file.display());
        return file;
    }
    eprintln!("store: building {n} networks in {}", dir.display());
    let t = Instant::now();
    let building = root.join(format!("building-{n}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    build_store(&building.join("piwardrive.redb"), n).expect("building the store");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&building, &dir).expect("moving the built store in place");
    eprintln!("  built in {:.1} s", t.elapsed().as_secs_f64());
    file
}

// ---------------------------------------------------------------------------------------------
// The server

/// The appliance process; killed on drop if the bench fails before stopping it.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(bin: &str, data_dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let config = data_dir.join("bench.toml");
        // No capture source and no GPS: the store, the tracker task and the web UI only.
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nsources = []\n\n[web]\nlisten = \"{addr}\"\n\n[gps]\nenabled = false\n",
                data_dir.display().to_string()
            ),
        )
        .unwrap();
        let log = data_dir.join("server.log");
        let child = Command::new(bin)
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting piwardrive run");
        let server = Server { child, addr, log };
        let t = Instant::now();
        loop {
            if let Ok(r) = server.get("/api/v1/system/health", &[])
                && r.status == 200
            {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "the server did not come up; its log:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "server: piwardrive run on {addr}, up in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        server
    }

    /// One HTTP/1.0 request (so the body ends at the close, never chunked).
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Reply> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut req = format!("GET {path} HTTP/1.0\r\nHost: {}\r\n", self.addr);
        for (k, v) in headers {
            req += &format!("{k}: {v}\r\n");
        }
        req += "\r\n";
        s.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no end of headers"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok(Reply {
            status,
            head,
            body: raw[split + 4..].to_vec(),
        })
    }

    fn stop(mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(st)) = self.child.try_wait() {
                if !st.success() {
                    eprintln!(
                        "server exited with {st}; its log:\n{}",
                        std::fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("server did not stop within 30 s of SIGTERM; killing it");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

// ---------------------------------------------------------------------------------------------
// wrk

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
}

/// A wrk duration such as `491.00us`, `3.77ms`, `1.02s`, `1.50m`, in milliseconds.
fn wrk_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        "h" => v * 3_600_000.0,
        _ => return None,
    })
}

/// Parses `wrk --latency` output.
fn parse_wrk(out: &str) -> Option<Run> {
    let mut p50 = None;
    let mut p99 = None;
    let mut rps = None;
    let mut requests = None;
    let mut errors = 0;
    for line in out.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("50%") {
            p50 = wrk_ms(v);
        } else if let Some(v) = t.strip_prefix("99%") {
            p99 = wrk_ms(v);
        } else if let Some(v) = t.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if t.contains(" requests in ") {
            requests = t.split_whitespace().next().and_then(|n| n.parse().ok());
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().unwrap_or(1);
        } else if let Some(v) = t.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 3"
            errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Some(Run {
        rps: rps?,
        p50_ms: p50?,
        p99_ms: p99?,
        requests: requests?,
        errors,
    })
}

struct Load {
    threads: u32,
    connections: u32,
    seconds: u32,
}

fn wrk(load: &Load, url: &str, headers: &[(&str, &str)]) -> Run {
    let mut c = Command::new("wrk");
    c.arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        // Long enough that a slow page is measured rather than counted as a timeout.
        .args(["--timeout", "10s"])
        .arg("--latency");
    for (k, v) in headers {
        c.arg("-H").arg(format!("{k}: {v}"));
    }
    let out = c.arg(url).output().expect("running wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrk(&text).unwrap_or_else(|| panic!("could not read wrk's output:\n{text}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

// ---------------------------------------------------------------------------------------------

/// One URL under load.
struct Target {
    label: String,
    path: String,
    /// Extra request headers (the htmx fragment request).
    headers: Vec<(&'static str, &'static str)>,
    /// The static baseline, not a page: no target applies.
    baseline: bool,
}

fn target(label: &str, path: String) -> Target {
    Target {
        label: label.to_owned(),
        path,
        headers: Vec::new(),
        baseline: false,
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let quick = std::env::var("PIWARDRIVE_BENCH_QUICK").is_ok_and(|v| v != "0")
        || !std::env::args().any(|a| a == "--bench");
    let n = env_u64("PIWARDRIVE_BENCH_NETWORKS").unwrap_or(if quick { 10_000 } else { 100_000 });
    let load = Load {
        threads: 2,
        connections: env_u64("PIWARDRIVE_BENCH_CONNECTIONS").unwrap_or(8) as u32,
        seconds: env_u64("PIWARDRIVE_BENCH_SECONDS").unwrap_or(if quick { 2 } else { 10 }) as u32,
    };
    let rounds = env_u64("PIWARDRIVE_BENCH_ROUNDS").unwrap_or(if quick { 1 } else { 2 }) as usize;
    if Command::new("wrk")
        .arg("--version")
        .output()
        .map_or(true, |o| o.stdout.is_empty() && o.stderr.is_empty())
    {
        eprintln!(
            "web_load bench: wrk is not installed (apt-get install -y wrk); nothing measured"
        );
        return;
    }
    let bin = env!("CARGO_BIN_EXE_piwardrive");

    let cached = cached_store(n);
    let work = tempfile::Builder::new()
        .prefix("web_load-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let data_dir = work.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::copy(&cached, data_dir.join("piwardrive.redb")).expect("copying the store");
    let out = Command::new(bin)
        .args([
            "token",
            "create",
            "--name",
            "bench",
            "--role",
            "viewer",
            "--data-dir",
        ])
        .arg(&data_dir)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "piwardrive token create failed");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let bearer = format!("Bearer {token}");

    let server = Server::start(bin, &data_dir);
    let auth = [("Authorization", bearer.as_str())];
    let home = server.get("/networks", &auth).expect("GET /networks");
    assert_eq!(
        home.status, 200,
        "GET /networks with the token: {}",
        home.head
    );
    let html = String::from_utf8_lossy(&home.body);
    let css = html
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|l| l.starts_with("/static/app.") && l.ends_with(".css"))
        .expect("the stylesheet link in /networks")
        .to_owned();
    let pages = n.div_ceil(50);
    let deep = (pages * 9 / 10).max(1);
    let mut targets = vec![
        Target {
            label: "static app.css (baseline)".into(),
            path: css,
            headers: Vec::new(),
            baseline: true,
        },
        target("/networks", "/networks".into()),
        target("/networks sort=last", "/networks?sort=last".into()),
        target("/networks sort=signal", "/networks?sort=signal".into()),
        target(
            "/networks q+band+sec",
            "/networks?q=fritz&band=5&sec=wpa2".into(),
        ),
        target("/networks q=<script", "/networks?q=%3Cscript".into()),
        target(
            &format!("/networks page={deep}"),
            format!("/networks?page={deep}"),
        ),
        target(
            &format!("/networks page={deep} sort=last"),
            format!("/networks?page={deep}&sort=last"),
        ),
        target("/ (dashboard)", "/".into()),
        target("/api/v1/dashboard", "/api/v1/dashboard".into()),
        target("/api/v1/networks", "/api/v1/networks".into()),
        target(
            &format!("/api/v1/networks page={deep}"),
            format!("/api/v1/networks?page={deep}"),
        ),
    ];
    targets.push(Target {
        headers: vec![("HX-Request", "true")],
        ..target(
            "/networks fragment (htmx) sec=open",
            "/networks?sec=open&sort=signal".into(),
        )
    });

    // Every URL must answer 200 with the token (a 401 would be fast and worthless), and its
    // size is reported for both encodings.
    let mut sizes = BTreeMap::new();
    for t in &targets {
        for gzip in [false, true] {
            let mut h: Vec<(&str, &str)> = auth.to_vec();
            h.extend(t.headers.iter().copied());
            if gzip {
                h.push(("Accept-Encoding", "gzip"));
            }
            let r = server.get(&t.path, &h).expect("probe request");
            assert_eq!(r.status, 200, "{}: {}", t.path, r.head);
            let encoded = r
                .head
                .to_ascii_lowercase()
                .contains("content-encoding: gzip");
            assert_eq!(encoded, gzip, "{} gzip={gzip}: {}", t.path, r.head);
            sizes.insert((t.label.clone(), gzip), r.body.len());
        }
    }

    let loadavg = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_before = loadavg();
    let started = Instant::now();
    let base = format!("http://{}", server.addr);
    let mut results: BTreeMap<(usize, bool), Vec<Run>> = BTreeMap::new();
    for round in 0..rounds {
        for gzip in [false, true] {
            for (i, t) in targets.iter().enumerate() {
                let mut h: Vec<(&str, &str)> = auth.to_vec();
                h.extend(t.headers.iter().copied());
                if gzip {
                    h.push(("Accept-Encoding", "gzip"));
                }
                let r = wrk(&load, &format!("{base}{}", t.path), &h);
                eprintln!(
                    "  round {} {:<5} {:<38} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms{}",
                    round + 1,
                    if gzip { "gzip" } else { "plain" },
                    t.label,
                    r.rps,
                    r.p50_ms,
                    r.p99_ms,
                    if r.errors > 0 {
                        format!("  {} ERRORS", r.errors)
                    } else {
                        String::new()
                    }
                );
                results.entry((i, gzip)).or_default().push(r);
            }
        }
    }
    let load_after = loadavg();
    server.stop();

    println!(
        "web_load bench: {n} networks, wrk -t{} -c{} -d{}s --latency per URL, {rounds} round(s) \
         (median of rounds), {:.0} s in all",
        load.threads,
        load.connections,
        load.seconds,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  load average before {}  after {}",
        load_before.trim(),
        load_after.trim()
    );
    let mut below = 0;
    let mut errors = 0;
    for gzip in [false, true] {
        println!(
            "\n  {}:",
            if gzip {
                "Accept-Encoding: gzip"
            } else {
                "no Accept-Encoding (identity)"
            }
        );
        println!(
            "  | {:<38} | {:>8} | {:>9} | {:>9} | {:>12} | {:>9} |",
            "URL", "req/s", "p50 ms", "p99 ms", "p99/static", "bytes"
        );
        println!(
            "  |{:-<40}|{:->10}|{:->11}|{:->11}|{:->14}|{:->11}|",
            "", "", "", "", "", ""
        );
        let base_p99 = median(
            results[&(0, gzip)]
                .iter()
                .map(|r| r.p99_ms)
                .collect::<Vec<_>>(),
        );
        for (i, t) in targets.iter().enumerate() {
            let runs = &results[&(i, gzip)];
            let rps = median(runs.iter().map(|r| r.rps).collect());
            let p50 = median(runs.iter().map(|r| r.p50_ms).collect());
            let p99 = median(runs.iter().map(|r| r.p99_ms).collect());
            let errs: u64 = runs.iter().map(|r| r.errors).sum();
            let reqs: u64 = runs.iter().map(|r| r.requests).sum();
            errors += errs;
            let verdict = if t.baseline {
                ""
            } else if p99 > TARGET_P99_MS || errs > 0 || reqs == 0 {
                below += 1;
                "  BELOW TARGET"
            } else {
                ""
            };
            println!(
                "  | {:<38} | {:>8.0} | {:>9.2} | {:>9.2} | {:>11.1}x | {:>9} |{verdict}{}",
                t.label,
                rps,
                p50,
                p99,
                p99 / base_p99,
                sizes[&(t.label.clone(), gzip)],
                if errs > 0 {
                    format!("  {errs} errors in {reqs} requests")
                } else {
                    String::new()
                }
            );
        }
    }
    println!();
    if below == 0 {
        println!("  target (every page p99 under {TARGET_P99_MS} ms at {n} networks): met");
    } else {
        println!(
            "  target (every page p99 under {TARGET_P99_MS} ms at {n} networks): {below} BELOW TARGET"
        );
    }
    if errors > 0 {
        println!(
            "  {errors} failed requests (non-2xx/3xx or socket errors): the figures above are suspect"
        );
    }
}
