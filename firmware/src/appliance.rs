//! `piwardrive run`: the appliance process — capture sources, GPS, the tracker, the store writer and the web UI, supervised and shut down in order.
//!
//! The shape (mini-redis, vector): [`run`] takes a [`Config`] and a shutdown token from the
//! caller. Every long-lived task is spawned on a `TaskTracker` and stopped by a token, in this
//! order on shutdown:
//!
//! 1. sources (capture, scans, the hoppers, the gpsd client, the commit ticker) stop, and the
//!    monitor interfaces are put back;
//! 2. the tracker drains its input channel (which closes when the last source has dropped its
//!    sender), ends the session, and hands the last batch to the store writer, which commits
//!    it and stops;
//! 3. the web UI stops last, so that it keeps answering while the rest winds down.
//!
//! Architecture Invariant: the tracker task owns the [`Tracker`] and is fed by ONE bounded
//! channel of the closed enum [`TrackerInput`]. Sources never wait on it: a frame that finds
//! it full is dropped and counted in its source's status. Store writes (which fsync and may
//! wait on the SD card) run on the blocking pool, never on the async workers.
//!
//! Choice: a source that cannot start (no adapter, no privileges, adapter unplugged) does not
//! stop the appliance. Its state and error are published and logged, it retries with backoff,
//! and it resumes by itself when the adapter comes back; the UI and GPS keep running. A
//! missing privilege is logged as an error naming CAP_NET_RAW and CAP_NET_ADMIN. What does
//! stop `piwardrive run` with a non-zero exit: an invalid configuration, a store that cannot
//! be opened, and a web UI that cannot listen (these need the user, not a retry).

mod source;

pub use source::{ActiveMode, SourceError, SourceState, SourceStatus};

use crate::capture::hopper::{Channel, HopStatus};
use crate::capture::scan::{ScanBss, events_for_scan};
use crate::clock::{self, ClockDecision};
use crate::config::{Config, Layers, Settings};
use crate::gps::{GpsStatus, gpsd};
use crate::ingest::now_us;
use crate::model::{Band, Fix, SessionRecord, TimeSource, TimeUs};
use crate::replication::device::{self as sync_device, SyncStatus};
use crate::store::{Reserve, Store, StoreWriter};
use crate::tracker::{Decoder, Event, Heard, Input, Tracker};
use crate::upstream::{self, Upstream};
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Inputs waiting for the tracker. At 4096 frames (a few seconds of a busy channel in
/// wardrive mode) a stall of the tracker shows as counted drops rather than memory growth.
pub const INPUT_CAPACITY: usize = 4096;

/// Everything the tracker task consumes. Owned, unlike [`Input`], because frames cross from
/// the capture threads; the tracker task decodes them.
#[derive(Debug)]
pub enum TrackerInput {
    /// A captured frame; `channel` is where the hopper had the radio when it arrived, used
    /// when the radio header does not say.
    Frame {
        ts_us: TimeUs,
        dlt: u32,
        data: Vec<u8>,
        channel: Option<Channel>,
    },
    /// One managed-mode scan's results, read at `now`.
    Scan { now: TimeUs, results: Vec<ScanBss> },
    /// The current fix, or `None` when it is lost or stale.
    Fix(Option<Fix>),
    /// GPS time arrived (see [`Input::GpsTime`]).
    GpsTime {
        gps: TimeUs,
        system: TimeUs,
        clock_set: bool,
    },
    /// The commit interval passed: update the session and commit what changed.
    Tick,
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// `shutdown` was cancelled (a signal).
    Shutdown,
    /// The settings page asked for a restart: the caller reads the configuration and the
    /// settings overlay again and calls [`run`] anew.
    Restart,
}

/// Runs the appliance until `shutdown` is cancelled (or the web UI fails, or the settings
/// page asks for a restart), then stops it in order. `layers` are what `config` was merged
/// from (`config::load_layers`), for the settings page. See the module documentation for
/// what is an error and what is a state.
pub async fn run(
    config: Config,
    layers: Layers,
    shutdown: CancellationToken,
) -> anyhow::Result<Stopped> {
    run_as(config, layers, None, shutdown).await
}

/// Runs `piwardrive hub`: the appliance with no capture source and no GPS (whatever
/// `config` says), its UI and the sync routes served over HTTPS by [`crate::hub::serve`]
/// on `hub.listen` instead of the plain-HTTP UI. Otherwise as [`run`].
pub async fn run_hub(
    mut config: Config,
    layers: Layers,
    hub: crate::hub::HubOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<Stopped> {
    config.sources.clear();
    config.gps.enabled = false;
    config.web.listen = hub.listen;
    run_as(config, layers, Some(hub), shutdown).await
}

async fn run_as(
    config: Config,
    layers: Layers,
    hub: Option<crate::hub::HubOptions>,
    shutdown: CancellationToken,
) -> anyhow::Result<Stopped> {
    let settings = config.validate()?;
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    let opened = open_store(&settings).await?;
    let store = opened.store.clone();
    let session_id = opened.tracker.session().id;
    tracing::info!(
        "store {} open: session {session_id} started ({} networks known)",
        store.path().display(),
        opened.tracker.ap_count()
    );

    let reserve = Reserve::new(settings.reserve_free_bytes);
    if settings.reserve_free_bytes > 0
        && let Some((_, free)) = crate::system::disk_space(&settings.data_dir)
        && free < settings.reserve_free_bytes
    {
        tracing::error!(
            "storage: only {} MB free on the data partition, less than the {} MB kept free \
             (storage.reserve_free_mb): nothing new will be recorded",
            free / (1024 * 1024),
            settings.reserve_free_bytes / (1024 * 1024)
        );
    }
    let restart = CancellationToken::new();
    let writer = StoreWriter::spawn_with_reserve(store.clone(), reserve.clone());
    let web_state = web_state(&settings, &store)
        .await?
        .with_writer(writer.status())
        .with_settings(crate::web::SettingsState::for_run(
            layers,
            reserve,
            restart.clone(),
        ));

    let (input_tx, input_rx) = mpsc::channel(INPUT_CAPACITY);
    let tracker_task = tokio::spawn(tracker_loop(opened.tracker, writer, input_rx));

    let sources_token = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(ticker(
        input_tx.clone(),
        settings.commit_interval,
        sources_token.clone(),
    ));
    let mut gps_observer = None;
    if let Some(g) = settings.gpsd.clone() {
        let (status_tx, status_rx) = watch::channel(GpsStatus::new(g.stale_after));
        gps_observer = Some(status_rx.clone());
        let (fix_tx, fix_rx) = mpsc::channel(64);
        tracing::info!("GPS: reading gpsd at {}", g.addr);
        tasks.spawn({
            let token = sources_token.clone();
            async move {
                if let Err(e) = gpsd::run(g, status_tx, Some(fix_tx), token).await {
                    tracing::error!("GPS: {e}");
                }
            }
        });
        tasks.spawn(gps_bridge(
            status_rx,
            fix_rx,
            input_tx.clone(),
            settings.set_clock,
            sources_token.clone(),
        ));
    } else {
        tracing::info!(
            "GPS: disabled in the configuration; networks are recorded without position"
        );
    }
    let mut observers = source::spawn_all(&settings, &tasks, &input_tx, &sources_token);
    observers.gps = gps_observer;
    tasks.close();
    let web_token = CancellationToken::new();
    let mut web_state = web_state.with_sources(observers.clone());
    // A device syncs with the hub it enrolled with, on a task of its own; a hub does not.
    let sync_token = CancellationToken::new();
    let sync_task = if hub.is_none() {
        let (status_tx, status_rx) = watch::channel(SyncStatus::default());
        web_state = web_state.with_sync(status_rx);
        let dir = settings.data_dir.clone();
        let connect = move || match Upstream::load(&dir) {
            Ok(Some(up)) => match upstream::Client::new(&up) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!("sync: {e}");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                tracing::error!("sync: {e}");
                None
            }
        };
        let schedule = sync_device::Schedule {
            interval: settings.sync_interval,
            ..sync_device::Schedule::default()
        };
        Some(tokio::spawn(sync_device::run(
            store.clone(),
            connect,
            piwardrive_sync::Limits::default(),
            schedule,
            status_tx,
            sync_token.clone(),
        )))
    } else {
        None
    };
    let mut web_task = match hub {
        None => tokio::spawn(crate::web::serve(
            settings.listen,
            web_state,
            web_token.clone(),
        )),
        Some(hub) => tokio::spawn(crate::hub::serve(
            hub,
            store.clone(),
            web_state,
            web_token.clone(),
        )),
    };
    // The tracker's channel closes when the sources, the ticker and the GPS bridge have all
    // dropped their senders: that is how the tracker knows the sources are done.
    drop(input_tx);

    let mut stopped = Stopped::Shutdown;
    let web_early = tokio::select! {
        _ = shutdown.cancelled() => None,
        _ = restart.cancelled() => {
            tracing::info!("restart asked for on the settings page");
            stopped = Stopped::Restart;
            None
        }
        r = &mut web_task => Some(r),
    };
    if web_early.is_some() {
        tracing::error!("the web UI stopped; shutting the appliance down");
    }

    sync_token.cancel();
    if let Some(t) = sync_task {
        // A round in flight is dropped: the hub applies each request whole or not at all.
        let _ = t.await;
    }
    tracing::info!("shutdown 1/3: stopping the sources");
    sources_token.cancel();
    tasks.wait().await;
    for o in &observers.sources {
        let s = o.borrow();
        tracing::info!(
            "source {}: stopped ({} frames, {} dropped at the tracker, {} scans, {} restarts)",
            s.name,
            s.frames,
            s.dropped,
            s.scans,
            s.restarts
        );
    }
    tracing::info!("shutdown 2/3: draining the tracker and flushing the store");
    let tracked = tracker_task.await.context("the tracker task panicked")?;
    match &tracked {
        Ok(t) => tracing::info!(
            "store flushed: session {session_id} ended ({} frames, {} networks, {} commits)",
            t.frames,
            t.aps,
            t.commits
        ),
        Err(e) => tracing::error!("the store could not be flushed: {e:#}"),
    }
    tracing::info!("shutdown 3/3: stopping the web UI");
    web_token.cancel();
    let served = match web_early {
        Some(r) => r,
        None => web_task.await,
    };
    served.context("the web UI task panicked")??;
    // A store that could not be flushed (disk full, the free-space reserve) is an error at
    // shutdown, as before; a restart goes ahead, since it is how recording resumes once
    // there is room (the error is in the log just above).
    if stopped == Stopped::Shutdown {
        tracked?;
    }
    tracing::info!("stopped");
    Ok(stopped)
}

/// The web UI's state: the store, and the admin password of the configuration hashed
/// (argon2id, on the blocking pool) so that only the hash stays in memory. Without one and
/// without a stored admin, says that the first visitor will choose the password.
async fn web_state(settings: &Settings, store: &Store) -> anyhow::Result<crate::web::AppState> {
    let state = crate::web::AppState::new(store.clone());
    if let Some(password) = settings.admin_password.clone() {
        let phc =
            tokio::task::spawn_blocking(move || crate::accounts::hash_password(password.expose()))
                .await
                .context("the password-hashing task panicked")??;
        tracing::info!("web UI: the admin password comes from the configuration");
        return Ok(state.with_admin_password_hash(phc));
    }
    let s = store.clone();
    let has_admin = tokio::task::spawn_blocking(move || s.has_admin())
        .await
        .context("the store-reading task panicked")??;
    if !has_admin {
        tracing::warn!(
            "web UI: no admin account yet; the first visitor to the UI chooses its password \
             (/setup). To choose it beforehand, set [web] admin_password in the configuration \
             or run `piwardrive user passwd --data-dir {}`",
            settings.data_dir.display()
        );
    }
    Ok(state)
}

struct Opened {
    store: Store,
    tracker: Tracker,
}

/// Opens the store (creating the data directory) and starts a session on the system clock,
/// on the blocking pool: redb opens and reads synchronously.
async fn open_store(settings: &Settings) -> anyhow::Result<Opened> {
    let dir = settings.data_dir.clone();
    let path = settings.store_path.clone();
    let sources: Vec<String> = settings
        .sources
        .iter()
        .map(|s| format!("live:{}", s.interface))
        .collect();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Opened> {
        std::fs::create_dir_all(&dir).with_context(|| {
            format!(
                "creating the data directory {} (set data_dir in the configuration to a \
                 writable directory)",
                dir.display()
            )
        })?;
        let store = Store::open(&path)?;
        let session = SessionRecord::new(
            store.next_session_id()?,
            store.device_id(),
            now_us(),
            sources,
            TimeSource::SystemClock,
        );
        let tracker = Tracker::new(
            session,
            store.next_observation_seq()?,
            store.all_aps()?,
            store.all_clients()?,
        );
        Ok(Opened { store, tracker })
    })
    .await
    .context("the store-opening task panicked")?
}

/// What the tracker task did, for the last log lines.
struct Tracked {
    frames: u64,
    aps: usize,
    commits: u64,
}

/// The tracker task: decodes, tracks, commits on every tick; on the channel's close ends
/// the session and stops the writer.
async fn tracker_loop(
    mut tracker: Tracker,
    writer: StoreWriter,
    mut rx: mpsc::Receiver<TrackerInput>,
) -> anyhow::Result<Tracked> {
    let writer = Arc::new(writer);
    let mut decoder = Decoder::default();
    let mut reported: Option<String> = None;
    while let Some(input) = rx.recv().await {
        match input {
            TrackerInput::Frame {
                ts_us,
                dlt,
                data,
                channel,
            } => {
                let _ = decoder.decode(dlt, &data, ts_us, |ev| {
                    tracker.handle(Input::Frame(tag_channel(ev, channel)))
                });
            }
            TrackerInput::Scan { now, results } => {
                events_for_scan(&results, now, |ev| tracker.handle(Input::Frame(ev)));
            }
            TrackerInput::Fix(f) => tracker.handle(Input::Fix(f)),
            TrackerInput::GpsTime {
                gps,
                system,
                clock_set,
            } => tracker.handle(Input::GpsTime {
                gps,
                system,
                clock_set,
            }),
            TrackerInput::Tick => {
                tracker.handle(Input::Tick { now: now_us() });
                let batch = tracker.take_batch();
                if batch.is_empty() {
                    continue;
                }
                let w = writer.clone();
                let sent = tokio::task::spawn_blocking(move || w.send(batch))
                    .await
                    .context("the store-writing task panicked")?;
                // A failed writer (disk full) stays failed; say so once, keep tracking so
                // the UI's live view goes on, and report it again at shutdown.
                if let Err(e) = sent {
                    let msg = e.to_string();
                    if reported.as_deref() != Some(msg.as_str()) {
                        tracing::error!("store: {msg}");
                        reported = Some(msg);
                    }
                }
            }
        }
    }
    tracker.handle(Input::EndSession { now: now_us() });
    let batch = tracker.take_batch();
    let frames = tracker.session().frames;
    let aps = tracker.ap_count();
    let writer = Arc::into_inner(writer).context("the store writer is still shared")?;
    let stats = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        writer.send(batch)?;
        Ok(writer.finish()?)
    })
    .await
    .context("the store-writing task panicked")??;
    Ok(Tracked {
        frames,
        aps,
        commits: stats.commits,
    })
}

/// Gives an event the hopper's channel when its radio header named none. A header that does
/// name one (mac80211 always does) is the better witness: the hopper's channel is read when
/// the frame reaches the appliance, which may be just after a switch.
fn tag_channel(mut ev: Event<'_>, channel: Option<Channel>) -> Event<'_> {
    let Some(c) = channel else { return ev };
    let heard = match &mut ev {
        Event::BssAdvert { heard, .. }
        | Event::ProbeRequest { heard, .. }
        | Event::Link { heard, .. } => heard,
        Event::Other { .. } => return ev,
    };
    if heard.freq_mhz.is_none() && heard.channel.is_none() {
        *heard = Heard {
            band: Some(model_band(c.band)),
            channel: Some(c.number),
            freq_mhz: Some(c.freq_mhz),
        };
    }
    ev
}

fn model_band(b: piwardrive_dot11::channel::Band) -> Band {
    use piwardrive_dot11::channel::Band as D;
    match b {
        D::Ghz2_4 => Band::B2_4,
        D::Ghz5 => Band::B5,
        D::Ghz6 => Band::B6,
        D::Ghz60 => Band::B60,
    }
}

/// Sends a tick every commit interval until the sources stop.
async fn ticker(tx: mpsc::Sender<TrackerInput>, every: Duration, token: CancellationToken) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = interval.tick() => {
                if tx.send(TrackerInput::Tick).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Turns the gpsd client's fixes and state into tracker inputs: every fix, `Fix(None)` when
/// the state loses its fix (stale, no fix, gpsd gone), and once per run the GPS time, after
/// setting the system clock from it when allowed and needed.
async fn gps_bridge(
    mut status: watch::Receiver<GpsStatus>,
    mut fixes: mpsc::Receiver<Fix>,
    tx: mpsc::Sender<TrackerInput>,
    set_clock: bool,
    token: CancellationToken,
) {
    let mut had_fix = false;
    let mut time_sent = false;
    let mut last_state = None;
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            f = fixes.recv() => {
                let Some(f) = f else { break };
                had_fix = true;
                if tx.send(TrackerInput::Fix(Some(f))).await.is_err() {
                    break;
                }
                let offset = status.borrow().gps_clock_offset_us;
                if !time_sent && let Some(system_minus_gps) = offset {
                    time_sent = true;
                    let input = gps_time(system_minus_gps, set_clock);
                    if tx.send(input).await.is_err() {
                        break;
                    }
                }
            }
            r = status.changed() => {
                if r.is_err() {
                    break;
                }
                let s = status.borrow_and_update().clone();
                if last_state != Some(s.state) {
                    tracing::info!("GPS: {}", crate::gps::watch::describe(&s));
                    last_state = Some(s.state);
                }
                if had_fix && !s.state.has_fix() {
                    had_fix = false;
                    if tx.send(TrackerInput::Fix(None)).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// Compares the system clock with GPS time (`system_minus_gps_us` from gpsd's status), sets
/// the clock when they disagree and `set_clock` allows it, and says what happened.
fn gps_time(system_minus_gps_us: i64, set_clock: bool) -> TrackerInput {
    let system = now_us();
    let gps = system - system_minus_gps_us;
    let clock_set = match clock::decide(system, gps) {
        ClockDecision::Keep => {
            tracing::info!("clock: the system clock agrees with GPS time");
            false
        }
        ClockDecision::Set { offset_us } if set_clock => match clock::set_system_clock(gps) {
            Ok(()) => {
                tracing::info!(
                    "clock: set the system clock to GPS time (it was {:+.3} s off)",
                    -offset_us as f64 / 1e6
                );
                true
            }
            Err(e) => {
                tracing::warn!("clock: {e}");
                false
            }
        },
        ClockDecision::Set { offset_us } => {
            tracing::info!(
                "clock: the system clock is {:+.3} s off GPS time; gps.set_clock is off, so \
                 timestamps are corrected instead",
                -offset_us as f64 / 1e6
            );
            false
        }
    };
    TrackerInput::GpsTime {
        gps,
        system,
        clock_set,
    }
}

/// The read ends of the appliance's live state: the web UI's capture page and API read them.
#[derive(Debug, Clone, Default)]
pub struct Observers {
    pub sources: Vec<watch::Receiver<SourceStatus>>,
    pub hops: Vec<watch::Receiver<HopStatus>>,
    /// The GPS, when the configuration enables it.
    pub gps: Option<watch::Receiver<GpsStatus>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use piwardrive_dot11::channel::Band as D;

    #[test]
    fn frames_without_a_radio_channel_get_the_hoppers() {
        let c = Channel::new(D::Ghz5, 36).unwrap();
        let ev = Event::ProbeRequest {
            time: 1,
            client: piwardrive_dot11::MacAddr([2, 0, 0, 0, 0, 1]),
            ssid: None,
            signal_dbm: None,
            heard: Heard::default(),
        };
        let Event::ProbeRequest { heard, .. } = tag_channel(ev, Some(c)) else {
            unreachable!()
        };
        assert_eq!(heard.channel, Some(36));
        assert_eq!(heard.freq_mhz, Some(5180));
        assert_eq!(heard.band, Some(Band::B5));
        // A channel from the radio header wins.
        let from_radio = Heard {
            band: Some(Band::B2_4),
            channel: Some(6),
            freq_mhz: Some(2437),
        };
        let ev = Event::ProbeRequest {
            time: 1,
            client: piwardrive_dot11::MacAddr([2, 0, 0, 0, 0, 1]),
            ssid: None,
            signal_dbm: None,
            heard: from_radio,
        };
        let Event::ProbeRequest { heard, .. } = tag_channel(ev, Some(c)) else {
            unreachable!()
        };
        assert_eq!(heard, from_radio);
    }
}
