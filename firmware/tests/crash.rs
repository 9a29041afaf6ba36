//! Power-cut safety: `piwardrive ingest` killed with SIGKILL at random moments leaves a store that opens and holds exactly a committed prefix of its input.
//!
//! The reference is the tracker itself, run in this process over the same file: at every
//! commit boundary (every `BATCH` records, and the end of the file) we note a digest of its
//! state. After each kill, the store's cursor says how many records it covers; the store's
//! content must have exactly the reference digest at that boundary (no torn record, no partial
//! batch), and the cursor must cover every commit the child had reported durable before it
//! died (no lost commit).

use piwardrive::ingest::source_key;
use piwardrive::model::{SessionRecord, TimeSource};
use piwardrive::store::Store;
use piwardrive::tracker::{Decoder, Input, Tracker};
use piwardrive_dot11::capfile::CapReader;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const RECORDS: u64 = 60_000;
const BATCH: u64 = 1_000;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_piwardrive"))
}

/// A digest of what a store (or a tracker) holds: every AP and client record, sorted, and the
/// number of observations.
fn digest(
    mut aps: Vec<piwardrive::model::ApRecord>,
    mut clients: Vec<piwardrive::model::ClientRecord>,
    observations: u64,
) -> u64 {
    aps.sort_by_key(|a| a.bssid);
    clients.sort_by_key(|c| c.mac);
    let mut h = DefaultHasher::new();
    serde_json::to_string(&aps).unwrap().hash(&mut h);
    serde_json::to_string(&clients).unwrap().hash(&mut h);
    observations.hash(&mut h);
    h.finish()
}

/// Digest of the tracker's state and the decoded-frame count at every commit boundary, keyed
/// by records covered.
fn reference(capture: &Path) -> BTreeMap<u64, (u64, u64)> {
    let session = SessionRecord::new(1, [0; 16], 0, vec![], TimeSource::CaptureFile);
    let mut tracker = Tracker::new(session, 1, vec![], vec![]);
    let mut decoder = Decoder::default();
    let bytes = std::fs::read(capture).unwrap();
    let mut reader = CapReader::new(&bytes[..]).unwrap();
    let mut out = BTreeMap::new();
    let mut n = 0u64;
    let mut observations = 0u64;
    let mut snap = |tracker: &mut Tracker, n: u64| {
        observations += tracker.take_batch().observations.len() as u64;
        let aps = tracker.aps().cloned().collect();
        let clients = tracker.clients().cloned().collect();
        out.insert(
            n,
            (digest(aps, clients, observations), tracker.session().frames),
        );
    };
    snap(&mut tracker, 0);
    while let Some(rec) = reader.next_record() {
        decoder.feed(&rec.unwrap(), |ev| tracker.handle(Input::Frame(ev)));
        n += 1;
        if n.is_multiple_of(BATCH) {
            snap(&mut tracker, n);
        }
    }
    snap(&mut tracker, n);
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough to spread kill times; the seed is printed for reproduction.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn ingest_cmd(dir: &Path, capture: &Path) -> Command {
    let mut c = bin();
    c.arg("ingest")
        .arg("--data-dir")
        .arg(dir)
        .arg("--batch-records")
        .arg(BATCH.to_string())
        .arg("--print-commits")
        .arg(capture)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    c
}

#[test]
fn sigkill_at_random_moments_leaves_a_committed_prefix() {
    let work = tempfile::tempdir().unwrap();
    let capture = work.path().join("synthetic.pcapng");
    let st = bin()
        .args(["synth", "--records", &RECORDS.to_string(), "-o"])
        .arg(&capture)
        .status()
        .unwrap();
    assert!(st.success());
    let reference = reference(&capture);
    let key = source_key(&capture);

    // Time one undisturbed run, to spread the kills over the whole of a run.
    let t0 = Instant::now();
    let full = ingest_cmd(&work.path().join("full"), &capture)
        .output()
        .unwrap();
    let full_time = t0.elapsed();
    assert!(full.status.success());
    let store = Store::open(&work.path().join("full/piwardrive.redb")).unwrap();
    let cur = store.cursor(&key).unwrap().unwrap();
    assert_eq!((cur.records, cur.complete), (RECORDS, true));
    drop(store);

    let kills: u64 = std::env::var("PIWARDRIVE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed = std::env::var("PIWARDRIVE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("full run {full_time:?}; {kills} kills; PIWARDRIVE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let mut mid_run = 0;
    for i in 0..kills {
        let dir = work.path().join(format!("k{i}"));
        let mut child = ingest_cmd(&dir, &capture).spawn().unwrap();
        // Up to 110% of a full run, so some kills land after the end too.
        let wait = full_time.mul_f64((rng.next() % 1100) as f64 / 1000.0);
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let acknowledged = stdout
            .lines()
            .filter_map(|l| {
                l.rsplit_once("records=")
                    .and_then(|(_, n)| n.parse::<u64>().ok())
            })
            .max();

        let path = dir.join("piwardrive.redb");
        if !path.exists() {
            assert_eq!(
                acknowledged, None,
                "kill {i}: commits acknowledged but no store"
            );
            continue;
        }
        let store = Store::open(&path)
            .unwrap_or_else(|e| panic!("kill {i} after {wait:?}: the store does not open: {e}"));
        let covered = store.cursor(&key).unwrap().map_or(0, |c| c.records);
        assert!(
            acknowledged.is_none_or(|a| covered >= a),
            "kill {i}: commit of {acknowledged:?} records was acknowledged, store covers {covered}"
        );
        let (want, decoded) = *reference.get(&covered).unwrap_or_else(|| {
            panic!("kill {i}: store covers {covered} records, which is not a commit boundary")
        });
        let got = digest(
            store.all_aps().unwrap(),
            store.all_clients().unwrap(),
            store.observation_count().unwrap(),
        );
        assert_eq!(
            got, want,
            "kill {i} after {wait:?}: the store's content is not the state after {covered} records"
        );
        if covered > 0 {
            let sessions = store.sessions().unwrap();
            assert_eq!(sessions.len(), 1, "kill {i}");
            assert_eq!(sessions[0].frames, decoded, "kill {i}: session frame count");
        }
        if covered > 0 && covered < RECORDS {
            mid_run += 1;
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("{mid_run} of {kills} kills landed mid-run");
    // Kills that all land before the first or after the last commit would prove nothing.
    assert!(
        mid_run * 4 >= kills,
        "only {mid_run} of {kills} kills landed between commits; the test is not testing"
    );
}
