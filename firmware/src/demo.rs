//! `piwardrive demo`: replays the bundled real captures (or the user's, `--replay`) and a real GPS log at their own pace, in a loop, into a temporary store, and serves the UI.

use crate::gps::log::{ReadOptions, parse_log};
use crate::gps::track::Track;
use crate::ingest::now_us;
use crate::model::{Fix, SessionRecord, TimeSource, TimeUs};
use crate::store::{Store, StoreWriter};
use crate::tracker::{Decoder, Input, Tracker};
use anyhow::Context;
use piwardrive_dot11::capfile::CapReader;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The captures the demo replays, compiled in so the binary needs no data files.
pub const BUNDLED: &[(&str, &[u8])] = &[
    (
        "wifite2_handshake_not_exists.cap",
        include_bytes!("../testdata/pcap/wifite2_handshake_not_exists.cap"),
    ),
    (
        "aircrack_test1.pcap",
        include_bytes!("../testdata/pcap/aircrack_test1.pcap"),
    ),
    (
        "aircrack_n-02.cap",
        include_bytes!("../testdata/pcap/aircrack_n-02.cap"),
    ),
    (
        "aircrack_wpa3-psk.pcap",
        include_bytes!("../testdata/pcap/aircrack_wpa3-psk.pcap"),
    ),
    (
        "aircrack_wpa_prism.cap",
        include_bytes!("../testdata/pcap/aircrack_wpa_prism.cap"),
    ),
    (
        "aircrack_pmkid-not-recognized.cap",
        include_bytes!("../testdata/pcap/aircrack_pmkid-not-recognized.cap"),
    ),
];

/// One capture the demo replays: a name for the session's sources, and the file's bytes.
pub struct Capture {
    pub name: String,
    pub bytes: Cow<'static, [u8]>,
}

/// The bundled captures, borrowed from the binary.
pub fn bundled() -> Vec<Capture> {
    BUNDLED
        .iter()
        .map(|&(name, bytes)| Capture {
            name: name.to_owned(),
            bytes: Cow::Borrowed(bytes),
        })
        .collect()
}

/// Reads capture files for `--replay`, checking up front that each is a pcap or pcapng file
/// with at least one record, so that a wrong path fails at once and not as an empty UI.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<Vec<Capture>> {
    paths
        .iter()
        .map(|p| {
            let bytes =
                std::fs::read(p).with_context(|| format!("reading capture {}", p.display()))?;
            let mut reader = CapReader::new(&bytes[..])
                .with_context(|| format!("{} is not a pcap or pcapng capture", p.display()))?;
            anyhow::ensure!(
                matches!(reader.next_record(), Some(Ok(_))),
                "{} holds no readable record to replay",
                p.display()
            );
            Ok(Capture {
                name: file_name(p),
                bytes: Cow::Owned(bytes),
            })
        })
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The GPS log the demo replays with the captures: a boat moving for 146 s (gpsd's
/// bundg_zeus_9.log), re-timed to the demo's clock and played forwards and backwards in turn
/// so that the position never jumps.
pub const BUNDLED_GPS: (&str, &[u8]) = (
    "bundg_zeus_9.log",
    include_bytes!("../testdata/gps/bundg_zeus_9.log"),
);

/// The bundled GPS log, replayed against the wall clock.
pub struct GpsReplay {
    track: Track,
    first: TimeUs,
    span: TimeUs,
    start: Instant,
    speed: f64,
}

impl GpsReplay {
    pub fn new(speed: f64) -> anyhow::Result<GpsReplay> {
        let log = parse_log(
            BUNDLED_GPS.1,
            std::path::Path::new(BUNDLED_GPS.0),
            &ReadOptions::default(),
        )?;
        let track = Track::new(log.fixes);
        let (first, last) = track
            .span()
            .ok_or_else(|| anyhow::anyhow!("the bundled GPS log has no fix"))?;
        Ok(GpsReplay {
            track,
            first,
            span: (last - first).max(1),
            start: Instant::now(),
            speed,
        })
    }

    /// Where the demo's receiver is now, stamped with `now`.
    pub fn fix(&self, now: TimeUs) -> Option<Fix> {
        let elapsed = (self.start.elapsed().as_secs_f64() * self.speed * 1e6) as TimeUs;
        // Forwards on even passes, backwards on odd ones: a ping-pong over the log.
        let pass = elapsed / self.span;
        let into = elapsed % self.span;
        let offset = if pass % 2 == 0 {
            into
        } else {
            self.span - into
        };
        self.track
            .at(self.first + offset)
            .map(|f| Fix { time_us: now, ..f })
    }
}

/// A gap between two records longer than this is shortened to it, so that a capture that was
/// paused for minutes does not leave the demo silent.
const MAX_GAP: Duration = Duration::from_secs(2);
/// How often the replay commits what it tracked.
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Runs the demo on `captures` (see [`bundled`] and [`load`]) until Ctrl-C. The UI's admin
/// password is `password`, or a random one printed at the start.
pub fn run(
    listen: SocketAddr,
    speed: f64,
    captures: Vec<Capture>,
    password: Option<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(speed > 0.0, "--speed must be greater than 0");
    anyhow::ensure!(!captures.is_empty(), "the demo needs a capture to replay");
    if let Some(p) = &password {
        anyhow::ensure!(
            p.chars().count() >= crate::accounts::MIN_PASSWORD_LEN,
            "--password: use at least {} characters",
            crate::accounts::MIN_PASSWORD_LEN
        );
    }
    let dir = std::env::temp_dir().join(format!("piwardrive-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = run_in(dir.clone(), listen, speed, captures, password);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Creates the demo store's admin account; prints the password when it was made up here.
fn create_admin(store: &Store, password: Option<String>) -> anyhow::Result<()> {
    use crate::accounts::{self, ADMIN, Role, UserRecord};
    let (password, made_up) = match password {
        Some(p) => (p, false),
        None => (accounts::random_password()?, true),
    };
    let now = accounts::now_us();
    store.put_user(&UserRecord {
        name: ADMIN.to_owned(),
        role: Role::Admin,
        password_hash: accounts::hash_password(&password)?,
        created_us: now,
        updated_us: now,
    })?;
    if made_up {
        eprintln!("demo: log in as {ADMIN} with password {password}");
    } else {
        eprintln!("demo: log in as {ADMIN} with the password given by --password");
    }
    Ok(())
}

fn run_in(
    dir: PathBuf,
    listen: SocketAddr,
    speed: f64,
    captures: Vec<Capture>,
    password: Option<String>,
) -> anyhow::Result<()> {
    let store = Store::open(&dir.join("piwardrive.redb"))?;
    create_admin(&store, password)?;
    let what = if matches!(captures.first(), Some(c) if matches!(c.bytes, Cow::Borrowed(_))) {
        "the bundled captures".to_owned()
    } else {
        captures
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let shutdown = CancellationToken::new();
    let replay = {
        let store = store.clone();
        let shutdown = shutdown.clone();
        std::thread::Builder::new()
            .name("demo-replay".into())
            .spawn(move || replay(store, speed, &captures, shutdown))?
    };
    let rt = tokio::runtime::Runtime::new()?;
    let served = rt.block_on(async {
        let ctrl_c = {
            let shutdown = shutdown.clone();
            async move {
                let _ = tokio::signal::ctrl_c().await;
                shutdown.cancel();
            }
        };
        tokio::spawn(ctrl_c);
        eprintln!("demo: replaying {what}; UI on http://{listen}/ (Ctrl-C to stop)");
        let r = crate::web::serve(listen, crate::web::AppState::new(store), shutdown.clone()).await;
        shutdown.cancel();
        r
    });
    let replayed = replay
        .join()
        .map_err(|_| anyhow::anyhow!("the replay thread panicked"))?;
    served?;
    replayed
}

/// Replays `captures` in a loop until `shutdown`, committing once a second.
pub fn replay(
    store: Store,
    speed: f64,
    captures: &[Capture],
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let session = SessionRecord::new(
        store.next_session_id()?,
        store.device_id(),
        now_us(),
        captures
            .iter()
            .map(|c| format!("demo:{}", c.name))
            .collect(),
        TimeSource::SystemClock,
    );
    let mut tracker = Tracker::new(session, store.next_observation_seq()?, vec![], vec![]);
    let writer = StoreWriter::spawn(store);
    let gps = GpsReplay::new(speed)?;
    let mut decoder = Decoder::default();
    let mut last_commit = Instant::now();
    'outer: while !shutdown.is_cancelled() {
        for capture in captures {
            let mut reader = CapReader::new(&capture.bytes[..])?;
            let mut prev_ts: Option<TimeUs> = None;
            let mut deadline = Instant::now();
            while let Some(Ok(rec)) = reader.next_record() {
                // Pace the replay by the gaps between the capture's own timestamps.
                if let (Some(p), Some(t)) = (prev_ts, rec.ts_us) {
                    let gap = Duration::from_micros((t - p).max(0) as u64).min(MAX_GAP);
                    deadline += gap.div_f64(speed);
                }
                prev_ts = rec.ts_us.or(prev_ts);
                loop {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    if shutdown.is_cancelled() {
                        break 'outer;
                    }
                    std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
                }
                // The demo records wall-clock time, so that "new in the last minute" and the
                // other live views behave as on a real device.
                let now = now_us();
                tracker.handle(Input::Fix(gps.fix(now)));
                let _ = decoder.decode(rec.link, rec.data, now, |ev| {
                    tracker.handle(Input::Frame(ev))
                });
                if last_commit.elapsed() >= COMMIT_EVERY {
                    last_commit = Instant::now();
                    tracker.handle(Input::Tick { now });
                    writer.send(tracker.take_batch())?;
                }
            }
        }
    }
    tracker.handle(Input::EndSession { now: now_us() });
    writer.send(tracker.take_batch())?;
    writer.finish()?;
    Ok(())
}
