//! How many bytes an observation costs on the wire, on a synthetic wardrive; the target is under 32.

mod common;

use flate2::Compression;
use flate2::write::DeflateEncoder;
use piwardrive_sync::{Have, Limits, Message, Replica};
use std::io::Write;

const TARGET: f64 = 32.0;

/// Encodes every batch a device would send a hub that has nothing, decodes each back (the
/// figure counts only what really round-trips), and returns (messages, bytes, observations).
fn measure(interpolate: bool) -> (usize, usize, usize, usize) {
    let drive = common::wardrive(0x5eed, 3000, 3600, interpolate);
    let mut device = Replica::new(drive.device);
    for o in &drive.observations {
        device.record(o.clone()).unwrap();
    }
    let mut hub = Replica::new(piwardrive_sync::DeviceId([0xab; 16]));
    let batches = device.batches_for(
        &Have::new(),
        Limits {
            batches: usize::MAX,
            ..Limits::default()
        },
    );
    let mut bytes = 0;
    for b in &batches {
        let wire = Message::Batch(b.clone()).encode();
        bytes += wire.len();
        match Message::decode(&wire).unwrap() {
            Message::Batch(back) => {
                assert_eq!(&back, b);
                hub.apply_batch(&back);
            }
            other => panic!("decoded as {other:?}"),
        }
    }
    assert_eq!(hub.observation_count(), drive.observations.len());
    // What the columnar layout buys: the same observations as plain postcard, deflated the
    // same way, per batch.
    let plain: usize = batches
        .iter()
        .map(|b| {
            let raw = postcard::to_stdvec(b.observations()).unwrap();
            let mut z = DeflateEncoder::new(Vec::new(), Compression::best());
            z.write_all(&raw).unwrap();
            z.finish().unwrap().len()
        })
        .sum();
    (batches.len(), bytes, drive.observations.len(), plain)
}

#[test]
fn bytes_per_observation_under_target() {
    for (interpolate, label) in [(false, "live (1 Hz fixes)"), (true, "interpolated fixes")] {
        let (messages, bytes, n, plain) = measure(interpolate);
        let per = bytes as f64 / n as f64;
        let plain_per = plain as f64 / n as f64;
        println!(
            "wire size, {label}: {n} observations of 3000 networks and 1500 clients in \
             {messages} batches, {bytes} bytes = {per:.2} bytes/observation (target < {TARGET}); \
             plain postcard + deflate: {plain_per:.2}"
        );
        // A realistic drive: thousands of networks, several sightings each.
        assert!(n > 5 * 3000, "{n} observations");
        assert!(per < TARGET, "{label}: {per:.2} bytes per observation");
        assert!(
            per < plain_per,
            "the columnar layout must beat plain postcard"
        );
    }
}

/// The batch body is standard raw DEFLATE (RFC 1951): Python's zlib, not flate2, inflates it
/// to the columnar bytes that start with the format byte and the device id.
#[test]
fn batches_inflate_with_python_zlib() {
    let drive = common::wardrive(7, 200, 120, false);
    let batch = piwardrive_sync::Batch::new(drive.device, drive.observations).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.deflate");
    std::fs::write(&path, batch.encode()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys, zlib; d = zlib.decompress(open(sys.argv[1], 'rb').read(), -15); print(len(d), d[:17].hex())")
        .arg(&path)
        .output()
        .expect("python3 runs (CI installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (len, head) = text.trim().split_once(' ').unwrap();
    let expect_head: String = std::iter::once(1u8)
        .chain(drive.device.0)
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(head, expect_head);
    assert!(
        len.parse::<usize>().unwrap() > batch.len() * 8,
        "{len} bytes inflated"
    );
}
