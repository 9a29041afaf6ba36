//! Decode throughput: frames per second on one core over a large synthetic capture of real frames (`cargo bench -p piwardrive --bench decode`).
//!
//! Three loops over the same in-memory records, run in the same invocation so their ratios
//! can be compared on a noisy machine: the link layer alone (radiotap/Prism/PPI and the FCS
//! check), the full decode (link, 802.11 header, elements) as the ingest path runs it, and
//! decode plus the tracker.

use piwardrive::model::{SessionRecord, TimeSource};
use piwardrive::tracker::{Decoder, Input, Tracker};
use piwardrive_dot11::capfile::CapReader;
use piwardrive_dot11::link::{self, LinkType};
use piwardrive_dot11::{frame, ie};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn session() -> SessionRecord {
    SessionRecord::new(1, [0; 16], 0, vec![], TimeSource::CaptureFile)
}

/// Runs `f` over all records repeatedly for at least `min` and returns the best rate of
/// `rounds` rounds, in frames per second.
fn rate(records: &[(u32, Vec<u8>)], rounds: usize, mut f: impl FnMut(u32, &[u8])) -> f64 {
    let mut best: f64 = 0.0;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed() < Duration::from_millis(300) {
            for (link, data) in records {
                f(*link, data);
            }
            n += records.len() as u64;
        }
        best = best.max(n as f64 / t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    // `cargo bench` passes --bench; a test run (`cargo test --benches`) passes nothing: keep
    // that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = if quick { 20_000 } else { 1_000_000 };
    let mut file = Vec::new();
    piwardrive::synth::synthesize(n, 1_700_000_000_000_000, &mut file).unwrap();
    let mut reader = CapReader::new(&file[..]).unwrap();
    let mut records = Vec::with_capacity(n as usize);
    while let Some(r) = reader.next_record() {
        let r = r.unwrap();
        records.push((r.link, r.data.to_vec()));
    }
    let bytes: usize = records.iter().map(|r| r.1.len()).sum();
    let rounds = if quick { 1 } else { 5 };

    let link_only = rate(&records, rounds, |dlt, data| {
        if let Some(lt) = LinkType::from_dlt(dlt) {
            let _ = black_box(link::decode_link(lt, data));
        }
    });
    let full = rate(&records, rounds, |dlt, data| {
        let Some(lt) = LinkType::from_dlt(dlt) else {
            return;
        };
        let Ok(cap) = link::decode_link(lt, data) else {
            return;
        };
        let Ok(f) = frame::parse_padded(cap.frame, cap.radio.data_pad) else {
            return;
        };
        if let Some(b) = f.as_beacon() {
            black_box(ie::parse_bss(b.elements));
        }
        black_box(f);
    });
    let mut decoder = Decoder::default();
    let mut tracker = Tracker::new(session(), 1, vec![], vec![]);
    let mut t = 0i64;
    let tracked = rate(&records, rounds, |dlt, data| {
        t += 1000;
        let _ = decoder.decode(dlt, data, t, |ev| tracker.handle(Input::Frame(ev)));
    });
    black_box(tracker.take_batch());

    println!(
        "decode bench: {} records ({:.1} MB, {} networks after tracking), one core, best of {rounds}",
        records.len(),
        bytes as f64 / 1e6,
        tracker.ap_count()
    );
    println!(
        "  link layer only (radiotap/Prism/PPI + FCS): {:>12.0} frames/s",
        link_only
    );
    println!(
        "  full decode (link + 802.11 + elements):     {:>12.0} frames/s",
        full
    );
    println!(
        "  decode + tracker:                           {:>12.0} frames/s  ({:.2}x of full decode)",
        tracked,
        tracked / full
    );
    if !quick && full < 2_000_000.0 {
        println!("  BELOW TARGET: full decode must reach 2,000,000 frames/s on one core");
    }
}
