//! One capture source under supervision: find its adapter, choose monitor or scan, run the hopper and the capture, and restart with backoff after any failure.
//!
//! Each configured source is one supervisor task. An attempt lists the adapters, claims one
//! (a named interface, or for "auto" the first free adapter that is not serving the hotspot),
//! and runs until the capture fails, the adapter disappears, or shutdown. Whatever ended it is
//! published in the source's [`SourceStatus`] and logged when it changes; the next attempt
//! waits 1 s, doubling to 30 s, so an unplugged adapter is picked up again within 30 s of
//! coming back.
//!
//! Monitor sources that hop share the band plan (`split_hopping`): each publishes the channels
//! it would hop alone on a shared board, and every hopper's share is recomputed with
//! [`hopper::split`] whenever a source joins or leaves, so the survivors take over the
//! channels of an adapter that was unplugged.

use super::TrackerInput;
use crate::capture::hopper::{self, Channel, HopOptions, HopState, HopStatus, Hopper};
use crate::capture::live::{self, CaptureError, CaptureFilter, CaptureStats, CaptureStatus};
use crate::capture::nl80211::{self, Adapter, IfType, Nl80211Error};
use crate::capture::scan::Scanner;
use crate::config::{InterfaceChoice, Mode, Settings, SourceSettings};
use crate::ingest::now_us;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a source waits for the hopper's first tune before it starts capturing anyway.
const FIRST_TUNE_WAIT: Duration = Duration::from_secs(5);

const BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A missing capability does not fix itself while the process runs; retry rarely.
const BACKOFF_PERMISSION: Duration = Duration::from_secs(60);
/// An attempt that ran this long was a success: the next failure starts the backoff afresh.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);
/// A hopper that could tune nothing for this long means the adapter is in trouble (reset,
/// half-removed): the source starts over, re-entering monitor mode.
const HOP_FAILING_LIMIT: Duration = Duration::from_secs(5);
/// Frames queued between a capture thread and its source task.
const FRAME_QUEUE: usize = 1024;

/// What a source is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceState {
    /// Looking for its adapter, setting it up.
    #[default]
    Starting,
    /// Capturing in monitor mode.
    Capturing,
    /// Running managed-mode scans (networks only; no clients are seen this way).
    Scanning,
    /// The last attempt failed; retrying after `retry_in`.
    Failed,
    /// Shut down.
    Stopped,
}

impl SourceState {
    pub fn label(self) -> &'static str {
        match self {
            SourceState::Starting => "starting",
            SourceState::Capturing => "capturing",
            SourceState::Scanning => "scanning",
            SourceState::Failed => "failed",
            SourceState::Stopped => "stopped",
        }
    }
}

/// How the adapter is being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveMode {
    Monitor,
    /// The managed-mode fallback: the UI should say that clients are not seen.
    Scan,
}

impl ActiveMode {
    pub fn label(self) -> &'static str {
        match self {
            ActiveMode::Monitor => "monitor",
            ActiveMode::Scan => "scan",
        }
    }
}

/// A source as the rest of the appliance sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceStatus {
    /// "source N (interface)", as in the log.
    pub name: String,
    pub state: SourceState,
    /// The interface captured or scanned on.
    pub interface: Option<String>,
    pub driver: Option<String>,
    pub mode: Option<ActiveMode>,
    /// Frames handed to the tracker, and frames dropped because its queue was full.
    pub frames: u64,
    pub dropped: u64,
    /// libpcap's counters for the current capture.
    pub capture: CaptureStats,
    pub scans: u64,
    /// Attempts that ended (failures and outages).
    pub restarts: u64,
    pub last_error: Option<String>,
    pub retry_in: Option<Duration>,
}

/// Why an attempt ended.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Nl80211(#[from] Nl80211Error),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Plan(#[from] hopper::PlanError),
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    /// A missing CAP_NET_ADMIN or CAP_NET_RAW.
    pub fn is_permission(&self) -> bool {
        match self {
            SourceError::Nl80211(e) => e.is_permission(),
            SourceError::Capture(e) => matches!(e, CaptureError::Permission { .. }),
            _ => false,
        }
    }
}

/// What every source task shares.
#[derive(Clone)]
struct Shared {
    input: mpsc::Sender<TrackerInput>,
    /// Adapters (phy indices) in use by a source.
    claimed: Arc<Mutex<HashSet<u32>>>,
    /// Interface names given explicitly to some source: "auto" leaves them alone.
    named: Arc<Vec<String>>,
    /// Per source, the channels it would hop alone while it is hopping in monitor mode.
    board: watch::Sender<Vec<Option<Vec<Channel>>>>,
    split: bool,
}

/// Starts one supervisor per configured source on `tasks`.
pub(super) fn spawn_all(
    settings: &Settings,
    tasks: &TaskTracker,
    input: &mpsc::Sender<TrackerInput>,
    token: &CancellationToken,
) -> super::Observers {
    let named = settings
        .sources
        .iter()
        .filter_map(|s| match &s.interface {
            InterfaceChoice::Named(n) => Some(n.clone()),
            InterfaceChoice::Auto => None,
        })
        .collect();
    let shared = Shared {
        input: input.clone(),
        claimed: Arc::default(),
        named: Arc::new(named),
        board: watch::Sender::new(vec![None; settings.sources.len()]),
        split: settings.split_hopping,
    };
    let mut observers = super::Observers::default();
    for (index, s) in settings.sources.iter().enumerate() {
        let name = format!("{index} ({})", s.interface);
        let (status, status_rx) = watch::channel(SourceStatus {
            name: name.clone(),
            ..SourceStatus::default()
        });
        let (hop, hop_rx) = watch::channel(HopStatus::default());
        observers.sources.push(status_rx);
        observers.hops.push(hop_rx);
        let sup = Supervisor {
            index,
            name,
            settings: s.clone(),
            shared: shared.clone(),
            status,
            hop,
        };
        tasks.spawn(sup.run(token.clone()));
    }
    observers
}

/// One source's supervisor. Its `status` and `hop` receivers are in [`super::Observers`].
struct Supervisor {
    index: usize,
    name: String,
    settings: SourceSettings,
    shared: Shared,
    status: watch::Sender<SourceStatus>,
    hop: watch::Sender<HopStatus>,
}

/// Releases a claimed adapter when the attempt ends, however it ends.
struct Claim {
    phy: u32,
    claimed: Arc<Mutex<HashSet<u32>>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.phy);
    }
}

impl Supervisor {
    async fn run(self, token: CancellationToken) {
        let mut backoff = BACKOFF_INITIAL;
        let mut last_reported: Option<String> = None;
        while !token.is_cancelled() {
            self.status.send_modify(|s| {
                s.state = SourceState::Starting;
                s.retry_in = None;
            });
            let started = Instant::now();
            let result = self.attempt(&token).await;
            if token.is_cancelled() {
                break;
            }
            if started.elapsed() >= HEALTHY_AFTER {
                backoff = BACKOFF_INITIAL;
            }
            let e = match result {
                Ok(()) => SourceError::Other("the capture ended".into()),
                Err(e) => e,
            };
            let wait = if e.is_permission() {
                BACKOFF_PERMISSION
            } else {
                backoff
            };
            let msg = e.to_string();
            // The same failure every few seconds (no adapter plugged in) is logged once; the
            // status carries it for the UI meanwhile.
            if last_reported.as_deref() != Some(msg.as_str()) {
                if e.is_permission() {
                    tracing::error!(
                        "source {}: {msg}. The web UI keeps running; restart piwardrive with \
                         these capabilities to capture",
                        self.name
                    );
                } else {
                    tracing::warn!(
                        "source {}: {msg}; retrying (every {} s at most)",
                        self.name,
                        BACKOFF_MAX.as_secs()
                    );
                }
                last_reported = Some(msg.clone());
            } else {
                tracing::debug!("source {}: {msg}; retrying in {wait:?}", self.name);
            }
            self.status.send_modify(|s| {
                s.state = SourceState::Failed;
                s.mode = None;
                s.restarts += 1;
                s.last_error = Some(msg);
                s.retry_in = Some(wait);
            });
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        self.status.send_modify(|s| {
            s.state = SourceState::Stopped;
            s.retry_in = None;
        });
    }

    /// One attempt: claim an adapter and capture or scan on it until something ends it.
    async fn attempt(&self, token: &CancellationToken) -> Result<(), SourceError> {
        let adapters = nl80211::list_adapters().await?;
        let (adapter, _claim) = self.claim(&adapters)?;
        self.status.send_modify(|s| {
            s.interface = Some(adapter.label().to_string());
            s.driver = adapter.driver.clone();
        });
        let label = adapter.label().to_string();
        let driver = adapter
            .driver
            .as_deref()
            .unwrap_or("unknown driver")
            .to_string();
        match self.settings.mode {
            Mode::Scan => self.scan(&adapter, token).await,
            Mode::Monitor if !adapter.supports_monitor => Err(Nl80211Error::MonitorUnsupported {
                iface: label,
                driver,
            }
            .into()),
            Mode::Monitor => self.monitor(&adapter, token).await,
            Mode::Auto if !adapter.supports_monitor => {
                tracing::info!(
                    "source {}: {label} ({driver}) cannot do monitor mode; using the managed-mode \
                     scan fallback (networks only, no clients)",
                    self.name
                );
                self.scan(&adapter, token).await
            }
            Mode::Auto => match self.monitor(&adapter, token).await {
                Err(SourceError::Nl80211(e @ Nl80211Error::MonitorUnsupported { .. })) => {
                    tracing::info!(
                        "source {}: {e}; using the managed-mode scan fallback (networks only, no \
                         clients)",
                        self.name
                    );
                    self.scan(&adapter, token).await
                }
                r => r,
            },
        }
    }

    /// Chooses this source's adapter and marks it used.
    fn claim(&self, adapters: &[Adapter]) -> Result<(Adapter, Claim), SourceError> {
        let mut claimed = self
            .shared
            .claimed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let has_name = |a: &Adapter, n: &str| {
            a.name.as_deref() == Some(n)
                || a.phy_name == n
                || a.interfaces.iter().any(|(_, name, _)| name == n)
        };
        let chosen = match &self.settings.interface {
            InterfaceChoice::Named(n) => {
                let a = adapters.iter().find(|a| has_name(a, n)).ok_or_else(|| {
                    let present: Vec<&str> = adapters.iter().map(|a| a.label()).collect();
                    SourceError::Other(format!(
                        "interface {n} not found (present: {}); is the adapter plugged in?",
                        present.join(", ")
                    ))
                })?;
                if claimed.contains(&a.phy) {
                    return Err(SourceError::Other(format!(
                        "{n} is on {}, which another source already uses",
                        a.phy_name
                    )));
                }
                a
            }
            InterfaceChoice::Auto => {
                let free = |a: &&Adapter| {
                    !claimed.contains(&a.phy)
                        && !self.shared.named.iter().any(|n| has_name(a, n))
                        // An adapter in AP mode is serving the hotspot the phone is on.
                        && !a.interfaces.iter().any(|(_, _, t)| *t == IfType::Ap)
                };
                let want_monitor = self.settings.mode != Mode::Scan;
                adapters
                    .iter()
                    .filter(free)
                    .find(|a| a.supports_monitor || !want_monitor)
                    .or_else(|| adapters.iter().find(free))
                    .ok_or_else(|| {
                        SourceError::Other(format!(
                            "no free Wi-Fi adapter: {} present, each in use by another source, \
                             named by one, or serving the hotspot",
                            adapters.len()
                        ))
                    })?
            }
        };
        claimed.insert(chosen.phy);
        Ok((
            chosen.clone(),
            Claim {
                phy: chosen.phy,
                claimed: self.shared.claimed.clone(),
            },
        ))
    }

    /// Monitor mode: the hopper and the live capture, until one of them fails.
    async fn monitor(
        &self,
        adapter: &Adapter,
        token: &CancellationToken,
    ) -> Result<(), SourceError> {
        let opts: &HopOptions = &self.settings.hop;
        let sel = hopper::select(&adapter.channels, opts)?;
        for r in &sel.unavailable {
            tracing::warn!(
                "source {}: channel {r} is not available on {}; skipped",
                self.name,
                adapter.label()
            );
        }
        let mon = nl80211::enter_monitor(adapter).await?;
        tracing::info!(
            "source {}: {} in monitor mode as {}{}",
            self.name,
            adapter.label(),
            mon.name,
            match opts.lock {
                Some(_) => format!(", locked to channel {}", sel.channels[0]),
                None => format!(
                    ", hopping {} channels, {} ms each",
                    sel.channels.len(),
                    opts.dwell.as_millis()
                ),
            }
        );
        let result = self.capture(adapter, &mon, sel.channels, token).await;
        if let Err(e) = mon.restore().await {
            tracing::warn!("source {}: putting the interface back: {e}", self.name);
        }
        result
    }

    async fn capture(
        &self,
        adapter: &Adapter,
        mon: &nl80211::MonitorInterface,
        wanted: Vec<Channel>,
        token: &CancellationToken,
    ) -> Result<(), SourceError> {
        let hopping = self.settings.hop.lock.is_none() && wanted.len() > 1;
        let joins_split = hopping && self.shared.split;
        let mut board = self.shared.board.subscribe();
        if joins_split {
            let w = wanted.clone();
            self.shared.board.send_modify(|b| b[self.index] = Some(w));
        }
        let share = if joins_split {
            self.share_of(&board.borrow_and_update())
        } else {
            wanted.clone()
        };
        let (hopper, control) = Hopper::new(
            mon.tuner(),
            adapter.channels.clone(),
            share,
            self.settings.hop.clone(),
        );
        let tuned = |h: &HopStatus| h.tunes - h.tune_failures;
        let tuned_before = tuned(&self.hop.borrow());
        let hop_token = token.child_token();
        let hop_task = tokio::spawn(hopper.run(hop_token.clone(), self.hop.clone()));
        let hop_rx = self.hop.subscribe();
        // Capture only once the radio is on a channel the hopper chose: until the first tune
        // it is on whatever channel it was left on, and a source locked to one channel would
        // record networks of another. If nothing tunes within the wait, capture anyway; the
        // hopper's failing state and the supervisor deal with a radio that cannot tune.
        let mut first = self.hop.subscribe();
        let _ = tokio::time::timeout(FIRST_TUNE_WAIT, first.wait_for(|h| tuned(h) > tuned_before))
            .await;

        let (frame_tx, mut frames) = mpsc::channel(FRAME_QUEUE);
        let ifname = mon.name.clone();
        let filter: CaptureFilter = self.settings.filter;
        let started = tokio::task::spawn_blocking(move || live::start(&ifname, filter, frame_tx))
            .await
            .map_err(|e| SourceError::Other(format!("the capture start panicked: {e}")));
        let cap = match started {
            Ok(Ok(c)) => Some(c),
            Ok(Err(e)) => {
                self.leave(joins_split, hop_token, hop_task).await;
                return Err(e.into());
            }
            Err(e) => {
                self.leave(joins_split, hop_token, hop_task).await;
                return Err(e);
            }
        };
        self.status.send_modify(|s| {
            s.state = SourceState::Capturing;
            s.mode = Some(ActiveMode::Monitor);
            s.interface = Some(mon.name.clone());
            s.last_error = None;
            s.retry_in = None;
        });
        // Counters accumulate over restarts: the status shows totals since start.
        let (base_frames, base_dropped) = {
            let s = self.status.borrow();
            (s.frames, s.dropped)
        };
        let mut frames_in = 0u64;
        let mut dropped = 0u64;
        let mut failing_since: Option<Instant> = None;
        let mut every_second = tokio::time::interval(Duration::from_secs(1));
        let ended: Result<(), SourceError> = loop {
            tokio::select! {
                _ = token.cancelled() => break Ok(()),
                f = frames.recv() => {
                    let Some(f) = f else {
                        let status = cap.as_ref().map(|c| c.status());
                        break Err(match status {
                            Some(CaptureStatus::Failed(e)) => e.into(),
                            _ => SourceError::Other("the capture stopped".into()),
                        });
                    };
                    let channel = hop_rx.borrow().current;
                    let input = TrackerInput::Frame {
                        ts_us: f.ts_us,
                        dlt: f.dlt as u32,
                        data: f.data,
                        channel,
                    };
                    match self.shared.input.try_send(input) {
                        Ok(()) => frames_in += 1,
                        Err(mpsc::error::TrySendError::Full(_)) => dropped += 1,
                        Err(mpsc::error::TrySendError::Closed(_)) => break Ok(()),
                    }
                }
                r = board.changed(), if joins_split => {
                    if r.is_err() {
                        continue;
                    }
                    let share = self.share_of(&board.borrow_and_update());
                    if control.set_share(share).await.is_err() {
                        break Err(SourceError::Other("the channel hopper stopped".into()));
                    }
                }
                _ = every_second.tick() => {
                    let stats = cap.as_ref().map(|c| c.stats()).unwrap_or_default();
                    self.status.send_modify(|s| {
                        s.frames = base_frames + frames_in;
                        s.dropped = base_dropped + dropped;
                        s.capture = stats;
                    });
                    let hop = hop_rx.borrow().clone();
                    if hop.state == HopState::Failing {
                        let since = *failing_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= HOP_FAILING_LIMIT {
                            break Err(SourceError::Other(format!(
                                "the channel hopper has tuned nothing for {} s ({})",
                                HOP_FAILING_LIMIT.as_secs(),
                                hop.last_error.unwrap_or_default()
                            )));
                        }
                    } else {
                        failing_since = None;
                    }
                }
            }
        };
        self.status.send_modify(|s| {
            s.frames = base_frames + frames_in;
            s.dropped = base_dropped + dropped;
        });
        if let Some(c) = cap {
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
        }
        self.leave(joins_split, hop_token, hop_task).await;
        ended
    }

    /// Leaves the split board and stops the hopper.
    async fn leave(
        &self,
        joined: bool,
        hop_token: CancellationToken,
        hop_task: tokio::task::JoinHandle<()>,
    ) {
        if joined {
            self.shared.board.send_modify(|b| b[self.index] = None);
        }
        hop_token.cancel();
        let _ = hop_task.await;
    }

    /// This source's part of the band plan, given everyone's wishes.
    fn share_of(&self, board: &[Option<Vec<Channel>>]) -> Vec<Channel> {
        let present: Vec<(usize, Vec<Channel>)> = board
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.clone().map(|w| (i, w)))
            .collect();
        let wanted: Vec<Vec<Channel>> = present.iter().map(|(_, w)| w.clone()).collect();
        let shares = hopper::split(&wanted);
        present
            .iter()
            .position(|(i, _)| *i == self.index)
            .map(|p| shares[p].clone())
            .unwrap_or_default()
    }

    /// The managed-mode fallback: a scan every `scan_interval`.
    async fn scan(&self, adapter: &Adapter, token: &CancellationToken) -> Result<(), SourceError> {
        let mut scanner = Scanner::open(adapter).await?;
        tracing::info!(
            "source {}: scanning on {} every {} s (managed mode: networks only, no clients)",
            self.name,
            scanner.iface(),
            self.settings.scan_interval.as_secs()
        );
        self.status.send_modify(|s| {
            s.state = SourceState::Scanning;
            s.mode = Some(ActiveMode::Scan);
            s.interface = Some(scanner.iface().to_string());
            s.last_error = None;
        });
        loop {
            let started = Instant::now();
            let results = tokio::select! {
                _ = token.cancelled() => return Ok(()),
                r = scanner.scan_once() => r?,
            };
            let n = results.len() as u64;
            let input = TrackerInput::Scan {
                now: now_us(),
                results,
            };
            if self.shared.input.send(input).await.is_err() {
                return Ok(());
            }
            self.status.send_modify(|s| {
                s.scans += 1;
                s.frames += n;
            });
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(started + self.settings.scan_interval) => {}
            }
        }
    }
}
