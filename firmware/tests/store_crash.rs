//! Killing the writing process at a random moment: the store reopens, holds every acknowledged
//! batch, and never half of one.
//!
//! The test re-runs its own binary as the writer (the `crash_child_writer` test, ignored unless
//! asked for) and SIGKILLs it mid-stream. SIGKILL leaves the kernel's page cache intact, so this
//! proves redb's commit protocol and recovery from a torn process, not the fsync itself (a real
//! power cut needs the hardware-in-the-loop rig).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use piwardrive::dot11::MacAddr;
use piwardrive::model::{ApRecord, Phy};
use piwardrive::store::{Batch, SourceCursor, Store, StoreWriter};

const ENV_PATH: &str = "PIWARDRIVE_STORE_CRASH_PATH";

fn ap(n: u64) -> ApRecord {
    let mut ap = ApRecord::new(MacAddr::from_u64(n), n as i64);
    ap.ssid = Some(format!("net-{n}").into_bytes());
    ap.channel = Some(36);
    ap.freq_mhz = Some(5180);
    ap.width_mhz = Some(80);
    ap.phy = Phy::Ac;
    ap.heard_channels = vec![36];
    ap.beacons = 1;
    ap
}

/// The writer process: batches of APs, each with a cumulative cursor; prints `ACK n` after a
/// flush confirms `n` APs are durable. Runs until killed.
#[test]
#[ignore = "helper for crash_mid_stream_keeps_every_acknowledged_batch; runs only as its child"]
fn crash_child_writer() {
    let Ok(path) = std::env::var(ENV_PATH) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&path)).unwrap();
    let mut total = store.cursor("feed").unwrap().map_or(0, |c| c.records);
    let writer = StoreWriter::spawn(store);
    for round in 0u64.. {
        let n = 1 + round % 9;
        let aps = (0..n).map(|i| ap(total + i)).collect();
        total += n;
        writer
            .send(Batch {
                aps,
                cursors: vec![(
                    "feed".into(),
                    SourceCursor {
                        records: total,
                        byte_offset: total * 64,
                        complete: false,
                    },
                )],
                ..Batch::default()
            })
            .unwrap();
        // Flush only now and then, so the kill also lands with batches still queued.
        if round % 4 == 0 {
            writer.flush().unwrap();
            println!("ACK {total}");
        }
    }
}

#[test]
fn crash_mid_stream_keeps_every_acknowledged_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged = 0u64;
    for (run, acks_before_kill) in [3u64, 17, 40].into_iter().enumerate() {
        let mut child = Command::new(&exe)
            .args(["crash_child_writer", "--exact", "--ignored", "--nocapture"])
            .env(ENV_PATH, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acks = 0;
        while acks < acks_before_kill {
            let line = lines
                .next()
                .expect("child ended early")
                .expect("child output");
            if let Some(n) = line.strip_prefix("ACK ") {
                acknowledged = n.parse().unwrap();
                acks += 1;
            }
        }
        child.kill().unwrap();
        // An ACK printed between the last read and the kill still counts.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ACK ") {
                acknowledged = n.parse().unwrap();
            }
        }
        child.wait().unwrap();

        let store = Store::open(&path).unwrap();
        let cursor = store.cursor("feed").unwrap().expect("cursor committed");
        let count = store.ap_count().unwrap();
        assert_eq!(count, cursor.records, "run {run}: half a batch is visible");
        assert!(
            cursor.records >= acknowledged,
            "run {run}: acknowledged {acknowledged} but only {} stored",
            cursor.records
        );
        assert_eq!(store.all_aps().unwrap().len() as u64, count);
        assert_eq!(
            store.aps_by_last_seen(0, usize::MAX).unwrap().len() as u64,
            count
        );
        acknowledged = cursor.records;
    }
}
