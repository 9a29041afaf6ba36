//! The channel hopper: which channels to visit, in which order, for how long; pure planning plus an async driver over a tuner.
//!
//! Planning is a set of pure functions: [`select`] picks the channels one adapter should visit
//! (from what the adapter and the regulatory domain allow, narrowed by bands, an explicit list
//! or a lock), [`cycle_order`] puts them in stride order, and [`split`] shares a band plan
//! between several adapters. [`Hopper`] drives one adapter through its share over a [`Tuner`]:
//! tune, dwell, next; it drops channels that keep failing, reports everything in a
//! [`HopStatus`] on a `watch` channel, and takes lock/unlock commands through [`HopControl`].
//!
//! The choices, with their reasons:
//! - Dwell 200 ms by default (Kismet's 5 channels a second), never below 50 ms: a shorter
//!   dwell spends most of its time retuning and misses beacons (102.4 ms apart) entirely.
//! - Stride 4: channels are visited as 1, 5, 9, 13, 2, 6, ... so that two overlapping 2.4 GHz
//!   channels are never visited one after the other, and a busy neighbourhood is sampled
//!   across the band early in each cycle. The run a cycle starts with rotates from cycle to
//!   cycle, so a channel's visits do not stay in phase with a periodic transmitter.
//! - 6 GHz: only the preferred scanning channels (PSC: 5, 21, 37, ..., 229, every fourth
//!   20 MHz channel) by default, as Kismet does; 6 GHz access points are required to be
//!   discoverable on a PSC, and visiting all 59 channels would triple the cycle time.
//! - A channel that fails to tune is tried again in the next cycle and dropped after
//!   `max_failures` consecutive failures. A cycle in which no channel could be tuned at all is
//!   the adapter's failure (unplugged, reset), not the channels': it counts against no
//!   channel, puts the hopper in the failing state, and the next cycle waits with backoff.

use piwardrive_dot11::channel::{self, Band};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// One channel a radio can be tuned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    pub band: Band,
    /// The IEEE channel number within its band.
    pub number: u16,
    /// Centre frequency of the 20 MHz primary channel.
    pub freq_mhz: u16,
}

/// Why a channel could not be tuned (the driver's or the kernel's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TuneError(pub String);

/// Something that tunes one radio: nl80211 on the appliance, a fake in tests.
pub trait Tuner: Send {
    fn tune(&mut self, channel: Channel) -> impl Future<Output = Result<(), TuneError>> + Send;
}

/// The default time spent on each channel.
pub const DEFAULT_DWELL: Duration = Duration::from_millis(200);
/// The shortest dwell accepted; shorter ones are raised to it with a warning.
pub const MIN_DWELL: Duration = Duration::from_millis(50);
/// The default stride between consecutive visits, in positions of the sorted channel list.
pub const DEFAULT_STRIDE: usize = 4;
/// Consecutive tuning failures after which a channel is dropped.
pub const DEFAULT_MAX_FAILURES: u32 = 3;
/// First wait after a cycle in which no channel could be tuned; doubles up to the maximum.
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Channel {
    /// The channel whose 20 MHz centre is `mhz`.
    pub fn from_freq(mhz: u16) -> Option<Channel> {
        let (band, number) = channel::freq_to_channel(mhz)?;
        Some(Channel {
            band,
            number,
            freq_mhz: mhz,
        })
    }

    /// Channel `number` of `band`, when the band has one.
    pub fn new(band: Band, number: u16) -> Option<Channel> {
        let freq_mhz = channel::channel_to_freq(band, number)?;
        Some(Channel {
            band,
            number,
            freq_mhz,
        })
    }

    /// Whether this is a 6 GHz preferred scanning channel (IEEE 802.11ax-2021, 26.17.2.3.3).
    pub fn is_psc(&self) -> bool {
        self.band == Band::Ghz6 && self.number % 16 == 5
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} MHz)", self.number, self.freq_mhz)
    }
}

/// A channel as a person names it: a number, a number in a band, or a frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelRef {
    /// A bare number: 2.4 GHz if the adapter has it, else 5 GHz, else 6 GHz. Numbers exist in
    /// several bands (1, 5, 9 and 13 in 2.4 and 6 GHz; 149-177 in 5 and 6 GHz), so 6 GHz
    /// channels that clash need the band.
    Number(u16),
    /// A number within a band.
    InBand(Band, u16),
    /// A centre frequency in MHz.
    Freq(u16),
}

impl ChannelRef {
    /// Whether `c` is the channel this names (for a bare number, in any band).
    fn names(&self, c: &Channel) -> bool {
        match *self {
            ChannelRef::Number(n) => c.number == n,
            ChannelRef::InBand(b, n) => c.band == b && c.number == n,
            ChannelRef::Freq(f) => c.freq_mhz == f,
        }
    }

    /// The channel among `available` this names, preferring the lowest band for a bare number.
    pub fn resolve(&self, available: &[Channel]) -> Option<Channel> {
        available
            .iter()
            .filter(|c| self.names(c))
            .min_by_key(|c| (c.band, c.freq_mhz))
            .copied()
    }
}

impl fmt::Display for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ChannelRef::Number(n) => write!(f, "{n}"),
            ChannelRef::InBand(b, n) => write!(f, "{}/{n}", band_key(b)),
            ChannelRef::Freq(m) => write!(f, "{m} MHz"),
        }
    }
}

/// The short name of a band in configuration files and channel names ("2.4", "5", "6").
pub fn band_key(b: Band) -> &'static str {
    match b {
        Band::Ghz2_4 => "2.4",
        Band::Ghz5 => "5",
        Band::Ghz6 => "6",
        Band::Ghz60 => "60",
    }
}

/// Parses a band's short name ("2.4", "5", "6", also with a "GHz" suffix).
pub fn parse_band(s: &str) -> Option<Band> {
    let s = s.trim();
    let s = s
        .strip_suffix("GHz")
        .or_else(|| s.strip_suffix("ghz"))
        .unwrap_or(s)
        .trim();
    match s {
        "2.4" => Some(Band::Ghz2_4),
        "5" => Some(Band::Ghz5),
        "6" => Some(Band::Ghz6),
        _ => None,
    }
}

/// Why a channel name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a channel: write a number (6, 36), a band and a number (\"6/37\" for 6 GHz \
     channel 37), or a frequency in MHz (5180)"
)]
pub struct ChannelRefError(pub String);

impl ChannelRef {
    /// A number as written in a configuration file: 1000 and above is a frequency in MHz,
    /// anything else a channel number.
    pub fn from_number(n: u16) -> ChannelRef {
        if n >= 1000 {
            ChannelRef::Freq(n)
        } else {
            ChannelRef::Number(n)
        }
    }
}

impl FromStr for ChannelRef {
    type Err = ChannelRefError;

    fn from_str(s: &str) -> Result<ChannelRef, ChannelRefError> {
        let err = || ChannelRefError(s.to_string());
        let t = s.trim();
        if let Some((band, num)) = t.split_once('/') {
            let band = parse_band(band).ok_or_else(err)?;
            let n: u16 = num.trim().parse().map_err(|_| err())?;
            return Channel::new(band, n)
                .map(|_| ChannelRef::InBand(band, n))
                .ok_or_else(err);
        }
        let t = t
            .strip_suffix("MHz")
            .or_else(|| t.strip_suffix("mhz"))
            .map(|m| (m.trim(), true))
            .unwrap_or((t, false));
        let n: u16 = t.0.parse().map_err(|_| err())?;
        if t.1 {
            return Ok(ChannelRef::Freq(n));
        }
        if n == 0 {
            return Err(err());
        }
        Ok(ChannelRef::from_number(n))
    }
}

/// How one adapter hops. Built from the configuration (see `config.rs`), then
/// [`HopOptions::checked`] once.
#[derive(Debug, Clone, PartialEq)]
pub struct HopOptions {
    /// Time spent on each channel.
    pub dwell: Duration,
    /// Positions of the sorted channel list skipped between consecutive visits.
    pub stride: usize,
    /// Bands to hop; empty means 2.4, 5 and 6 GHz (whatever the adapter has of them).
    pub bands: Vec<Band>,
    /// An explicit list of channels; empty means every allowed channel of `bands`.
    pub channels: Vec<ChannelRef>,
    /// Visit every 6 GHz channel rather than only the preferred scanning channels.
    pub all_6ghz: bool,
    /// Stay on this channel instead of hopping.
    pub lock: Option<ChannelRef>,
    /// Consecutive tuning failures after which a channel is dropped.
    pub max_failures: u32,
}

impl Default for HopOptions {
    fn default() -> Self {
        HopOptions {
            dwell: DEFAULT_DWELL,
            stride: DEFAULT_STRIDE,
            bands: Vec::new(),
            channels: Vec::new(),
            all_6ghz: false,
            lock: None,
            max_failures: DEFAULT_MAX_FAILURES,
        }
    }
}

/// A value [`HopOptions::checked`] changed, to be shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopWarning {
    #[error(
        "a dwell of {asked:?} is below the {MIN_DWELL:?} floor (most of it would go to \
         retuning); using {MIN_DWELL:?}"
    )]
    DwellRaised { asked: Duration },
    #[error("a stride of 0 cannot visit anything; using 1")]
    StrideRaised,
    #[error("max_failures 0 would drop every channel before trying it; using 1")]
    MaxFailuresRaised,
}

impl HopOptions {
    /// Raises values below their floors, saying which.
    pub fn checked(mut self) -> (HopOptions, Vec<HopWarning>) {
        let mut warnings = Vec::new();
        if self.dwell < MIN_DWELL {
            warnings.push(HopWarning::DwellRaised { asked: self.dwell });
            self.dwell = MIN_DWELL;
        }
        if self.stride == 0 {
            warnings.push(HopWarning::StrideRaised);
            self.stride = 1;
        }
        if self.max_failures == 0 {
            warnings.push(HopWarning::MaxFailuresRaised);
            self.max_failures = 1;
        }
        (self, warnings)
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "channel {0} is not available on this adapter (the hardware or the regulatory domain \
         does not allow it)"
    )]
    Unavailable(ChannelRef),
    #[error("no channel to hop: {0}")]
    Empty(String),
}

/// What [`select`] chose: the channels, sorted by frequency, and the explicitly listed ones
/// that the adapter does not have (worth a warning, not an error).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub channels: Vec<Channel>,
    pub unavailable: Vec<ChannelRef>,
}

/// The channels one adapter should visit, from the ones it may tune (`available`: nl80211's
/// list with disabled channels already removed), sorted by frequency.
///
/// A lock gives that one channel (an error if the adapter lacks it). An explicit list gives the
/// listed channels the adapter has. Otherwise every available channel of the chosen bands,
/// 6 GHz reduced to the preferred scanning channels unless `all_6ghz`.
pub fn select(available: &[Channel], opts: &HopOptions) -> Result<Selection, PlanError> {
    if let Some(lock) = opts.lock {
        let ch = lock
            .resolve(available)
            .ok_or(PlanError::Unavailable(lock))?;
        return Ok(Selection {
            channels: vec![ch],
            unavailable: Vec::new(),
        });
    }
    let mut sel = Selection::default();
    if opts.channels.is_empty() {
        let bands: &[Band] = if opts.bands.is_empty() {
            &[Band::Ghz2_4, Band::Ghz5, Band::Ghz6]
        } else {
            &opts.bands
        };
        sel.channels = available
            .iter()
            .filter(|c| bands.contains(&c.band))
            .filter(|c| c.band != Band::Ghz6 || opts.all_6ghz || c.is_psc())
            .copied()
            .collect();
    } else {
        for r in &opts.channels {
            match r.resolve(available) {
                Some(c) => sel.channels.push(c),
                None => sel.unavailable.push(*r),
            }
        }
    }
    sel.channels.sort_by_key(|c| (c.freq_mhz, c.band));
    sel.channels.dedup();
    if sel.channels.is_empty() {
        let why = if !opts.channels.is_empty() {
            "none of the listed channels is available on this adapter".to_string()
        } else if available.is_empty() {
            "the adapter reports no usable channel (check the regulatory domain: `iw reg get`)"
                .to_string()
        } else {
            "the adapter has no channel in the chosen bands".to_string()
        };
        return Err(PlanError::Empty(why));
    }
    Ok(sel)
}

/// The stride actually used for `n` channels: at most half the list, so that short lists
/// still alternate (with 5 channels a stride of 4 would visit 3 neighbours in a row).
fn effective_stride(n: usize, stride: usize) -> usize {
    stride.clamp(1, (n / 2).max(1))
}

/// The order of one cycle over `sorted` (channels sorted by frequency).
///
/// With stride `s` the list splits into `s` runs (positions 0, s, 2s, ...; 1, 1+s, ...; ...)
/// visited one after another, so consecutive visits are `s` positions apart except where one
/// run ends and the next begins. Cycle `k` starts with run `k mod s`; if that run's first
/// channel neighbours `last` (the channel visited just before), the next run starts instead,
/// so the seam between two cycles keeps neighbours apart too.
pub fn cycle_order(
    sorted: &[Channel],
    stride: usize,
    cycle: u64,
    last: Option<Channel>,
) -> Vec<Channel> {
    let n = sorted.len();
    let s = effective_stride(n, stride);
    let pos_of_last = last.and_then(|l| sorted.iter().position(|c| *c == l));
    let neighbours = |p: usize| pos_of_last.is_some_and(|q| p.abs_diff(q) <= 1);
    let mut first_run = (cycle % s as u64) as usize;
    for k in 0..s {
        let run = (first_run + k) % s;
        if run < n && !neighbours(run) {
            first_run = run;
            break;
        }
    }
    let mut order = Vec::with_capacity(n);
    for k in 0..s {
        let run = (first_run + k) % s;
        order.extend(sorted.iter().skip(run).step_by(s).copied());
    }
    order
}

/// Shares channels between adapters: `wanted[i]` is what adapter `i` would hop alone (its
/// [`select`]ion); the result gives each adapter its part, sorted by frequency.
///
/// The rule: every channel goes to exactly one adapter. Channels that fewer adapters can take
/// are handed out first, each to the adapter that wants it and has the fewest channels so far
/// (ties to the lower index). Identical adapters therefore interleave the band plan evenly
/// (with two: 1, 3, 5, ... and 2, 4, 6, ...), which halves the time between visits to any
/// channel; a 2.4-GHz-only adapter beside a dual-band one ends up with 2.4 GHz while the other
/// takes 5 GHz.
pub fn split(wanted: &[Vec<Channel>]) -> Vec<Vec<Channel>> {
    let mut takers: HashMap<Channel, Vec<usize>> = HashMap::new();
    for (i, w) in wanted.iter().enumerate() {
        for c in w {
            let t = takers.entry(*c).or_default();
            if !t.contains(&i) {
                t.push(i);
            }
        }
    }
    let mut channels: Vec<(Channel, Vec<usize>)> = takers.into_iter().collect();
    channels.sort_by_key(|(c, t)| (t.len(), c.freq_mhz, c.band));
    let mut shares = vec![Vec::new(); wanted.len()];
    for (c, t) in channels {
        if let Some(&i) = t.iter().min_by_key(|&&i| (shares[i].len(), i)) {
            shares[i].push(c);
        }
    }
    for s in &mut shares {
        s.sort_by_key(|c: &Channel| (c.freq_mhz, c.band));
    }
    shares
}

/// The plan for `adapters` adapters that all have the channels `available`: each adapter's
/// share in the order of its first cycle. With a lock every adapter gets the locked channel.
pub fn plan(
    available: &[Channel],
    opts: &HopOptions,
    adapters: usize,
) -> Result<Vec<Vec<Channel>>, PlanError> {
    let sel = select(available, opts)?;
    if opts.lock.is_some() {
        return Ok(vec![sel.channels; adapters]);
    }
    let shares = split(&vec![sel.channels; adapters]);
    Ok(shares
        .iter()
        .map(|s| cycle_order(s, opts.stride, 0, None))
        .collect())
}

/// What the hopper is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HopState {
    /// Not started yet, or stopped.
    #[default]
    Idle,
    /// Visiting its channels in turn.
    Hopping,
    /// Staying on one channel (a lock, or a plan of one channel).
    Locked,
    /// No channel could be tuned in the last attempt; retrying with backoff.
    Failing,
}

impl HopState {
    pub fn label(self) -> &'static str {
        match self {
            HopState::Idle => "idle",
            HopState::Hopping => "hopping",
            HopState::Locked => "locked",
            HopState::Failing => "failing",
        }
    }
}

/// A channel the hopper gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedChannel {
    pub channel: Channel,
    /// The last tuning error.
    pub error: TuneError,
    pub failures: u32,
}

/// The hopper as the UI shows it and the capture path reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HopStatus {
    pub state: HopState,
    /// The channel the radio is on now, set once tuning it succeeded; `None` while tuning
    /// fails. Frames whose radio header has no frequency are tagged with it.
    pub current: Option<Channel>,
    /// The channels being hopped (the share minus the dropped ones), sorted by frequency.
    pub channels: Vec<Channel>,
    pub dropped: Vec<DroppedChannel>,
    /// Completed cycles over the channel list.
    pub cycles: u64,
    pub tunes: u64,
    pub tune_failures: u64,
    pub dwell: Duration,
    /// The latest problem: a tuning failure, a lock that could not be applied.
    pub last_error: Option<String>,
}

/// A request to a running hopper.
#[derive(Debug)]
pub enum HopCommand {
    /// Stay on a channel; the reply says which one it resolved to.
    Lock(
        ChannelRef,
        Option<oneshot::Sender<Result<Channel, PlanError>>>,
    ),
    /// Resume hopping.
    Unlock,
    /// Replace this hopper's share of the band plan (another adapter came or went).
    SetShare(Vec<Channel>),
}

/// Why a command did not reach the hopper.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopError {
    #[error("the channel hopper is not running")]
    Stopped,
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The sending end of a hopper's commands (the UI, the CLI, the split coordinator).
#[derive(Debug, Clone)]
pub struct HopControl {
    tx: mpsc::Sender<HopCommand>,
}

impl HopControl {
    /// Locks the hopper to a channel; returns the channel it resolved to.
    pub async fn lock(&self, channel: ChannelRef) -> Result<Channel, HopError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(HopCommand::Lock(channel, Some(reply)))
            .await
            .map_err(|_| HopError::Stopped)?;
        Ok(answer.await.map_err(|_| HopError::Stopped)??)
    }

    pub async fn unlock(&self) -> Result<(), HopError> {
        self.tx
            .send(HopCommand::Unlock)
            .await
            .map_err(|_| HopError::Stopped)
    }

    pub async fn set_share(&self, share: Vec<Channel>) -> Result<(), HopError> {
        self.tx
            .send(HopCommand::SetShare(share))
            .await
            .map_err(|_| HopError::Stopped)
    }
}

/// Drives one radio through its channels. Who holds the other ends: the [`HopControl`]
/// returned by [`Hopper::new`] sends commands; the `watch` receiver of [`HopStatus`] belongs
/// to the capture path (channel tags) and the UI.
pub struct Hopper<T: Tuner> {
    tuner: T,
    /// Everything the adapter may tune: a lock may name any of these.
    available: Vec<Channel>,
    /// This adapter's share of the plan, sorted by frequency.
    share: Vec<Channel>,
    opts: HopOptions,
    commands: mpsc::Receiver<HopCommand>,
}

/// What interrupted a wait.
enum Wake {
    Elapsed,
    Replan,
    Shutdown,
}

impl<T: Tuner> Hopper<T> {
    /// A hopper over `share` (see [`select`] and [`split`]), with `opts` already
    /// [checked](HopOptions::checked). A lock in `opts` applies from the start.
    pub fn new(
        tuner: T,
        available: Vec<Channel>,
        mut share: Vec<Channel>,
        opts: HopOptions,
    ) -> (Hopper<T>, HopControl) {
        let (tx, commands) = mpsc::channel(8);
        share.sort_by_key(|c| (c.freq_mhz, c.band));
        share.dedup();
        (
            Hopper {
                tuner,
                available,
                share,
                opts,
                commands,
            },
            HopControl { tx },
        )
    }

    /// Hops until `shutdown` is cancelled, publishing on `status`. On return the state is
    /// [`HopState::Idle`] with no current channel.
    pub async fn run(self, shutdown: CancellationToken, status: watch::Sender<HopStatus>) {
        let Hopper {
            mut tuner,
            available,
            share,
            opts,
            mut commands,
        } = self;
        let mut run = Run {
            available,
            active: share,
            lock: None,
            failures: HashMap::new(),
            commands_open: true,
            status: &status,
        };
        status.send_modify(|s| {
            *s = HopStatus {
                channels: run.active.clone(),
                dwell: opts.dwell,
                ..HopStatus::default()
            }
        });
        if let Some(r) = opts.lock {
            match r.resolve(&run.available) {
                Some(c) => run.lock = Some(c),
                None => {
                    let e = PlanError::Unavailable(r).to_string();
                    tracing::warn!("channel hopper: {e}; hopping instead");
                    status.send_modify(|s| s.last_error = Some(e));
                }
            }
        }
        let mut backoff = BACKOFF_INITIAL;
        let mut cycle: u64 = 0;
        let mut last: Option<Channel> = None;
        'outer: while !shutdown.is_cancelled() {
            // One channel (locked or the whole plan): tune it and stay until told otherwise.
            let single = run.lock.or(match run.active.as_slice() {
                [only] => Some(*only),
                _ => None,
            });
            if let Some(ch) = single {
                let tuned = tokio::select! {
                    r = tuner.tune(ch) => r,
                    _ = shutdown.cancelled() => break 'outer,
                };
                let wait = match tuned {
                    Ok(()) => {
                        backoff = BACKOFF_INITIAL;
                        run.tuned(ch, HopState::Locked);
                        None
                    }
                    Err(e) => {
                        run.failed_all(ch, &e);
                        let w = backoff;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        Some(w)
                    }
                };
                match run.wait(&mut commands, &shutdown, wait).await {
                    Wake::Shutdown => break 'outer,
                    Wake::Elapsed | Wake::Replan => continue 'outer,
                }
            }
            if run.active.is_empty() {
                status.send_modify(|s| {
                    s.state = HopState::Failing;
                    s.current = None;
                    s.last_error = Some("no channel left to hop".into());
                });
                match run.wait(&mut commands, &shutdown, None).await {
                    Wake::Shutdown => break 'outer,
                    _ => continue 'outer,
                }
            }
            let order = cycle_order(&run.active, opts.stride, cycle, last);
            let mut tuned = 0usize;
            let mut failed: Vec<(Channel, TuneError)> = Vec::new();
            for ch in order {
                let r = tokio::select! {
                    r = tuner.tune(ch) => r,
                    _ = shutdown.cancelled() => break 'outer,
                };
                last = Some(ch);
                match r {
                    Ok(()) => {
                        tuned += 1;
                        run.failures.remove(&ch);
                        run.tuned(ch, HopState::Hopping);
                        match run.wait(&mut commands, &shutdown, Some(opts.dwell)).await {
                            Wake::Elapsed => {}
                            Wake::Replan => continue 'outer,
                            Wake::Shutdown => break 'outer,
                        }
                    }
                    Err(e) => {
                        // No dwell on a channel the radio is not on: go straight to the next.
                        status.send_modify(|s| {
                            s.current = None;
                            s.tunes += 1;
                            s.tune_failures += 1;
                            s.last_error = Some(format!("tuning channel {ch}: {e}"));
                        });
                        failed.push((ch, e));
                    }
                }
            }
            cycle += 1;
            status.send_modify(|s| s.cycles = cycle);
            if tuned == 0 {
                // The adapter, not the channels: nothing is dropped, and the next cycle waits.
                if let Some((ch, e)) = failed.first() {
                    run.failed_all(*ch, e);
                }
                let w = backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                match run.wait(&mut commands, &shutdown, Some(w)).await {
                    Wake::Shutdown => break 'outer,
                    _ => continue 'outer,
                }
            }
            backoff = BACKOFF_INITIAL;
            for (ch, e) in failed {
                run.count_failure(ch, e, opts.max_failures);
            }
        }
        status.send_modify(|s| {
            s.state = HopState::Idle;
            s.current = None;
        });
    }
}

/// The hopper's mutable state while it runs.
struct Run<'a> {
    available: Vec<Channel>,
    /// Channels being hopped: the share minus the dropped ones, sorted.
    active: Vec<Channel>,
    lock: Option<Channel>,
    /// Consecutive failures per channel, with the last error.
    failures: HashMap<Channel, (u32, TuneError)>,
    commands_open: bool,
    status: &'a watch::Sender<HopStatus>,
}

impl Run<'_> {
    fn tuned(&self, ch: Channel, state: HopState) {
        self.status.send_modify(|s| {
            s.state = state;
            s.current = Some(ch);
            s.tunes += 1;
        });
    }

    fn failed_all(&self, ch: Channel, e: &TuneError) {
        let msg = format!("could not tune any channel (last: {ch}: {e}); retrying");
        self.status.send_modify(|s| {
            if s.state != HopState::Failing {
                tracing::warn!("channel hopper: {msg}");
            }
            s.state = HopState::Failing;
            s.current = None;
            s.tunes += 1;
            s.tune_failures += 1;
            s.last_error = Some(msg);
        });
    }

    fn count_failure(&mut self, ch: Channel, e: TuneError, max: u32) {
        let entry = self.failures.entry(ch).or_insert((0, e.clone()));
        entry.0 += 1;
        entry.1 = e;
        if entry.0 < max {
            return;
        }
        let (failures, error) = self
            .failures
            .remove(&ch)
            .unwrap_or((max, TuneError(String::new())));
        self.active.retain(|c| *c != ch);
        tracing::warn!("channel hopper: dropping channel {ch} after {failures} failures: {error}");
        let active = self.active.clone();
        self.status.send_modify(|s| {
            s.channels = active;
            s.dropped.push(DroppedChannel {
                channel: ch,
                error,
                failures,
            });
        });
    }

    /// Waits `for_` (forever when `None`) or until a command changes the plan or shutdown.
    async fn wait(
        &mut self,
        commands: &mut mpsc::Receiver<HopCommand>,
        shutdown: &CancellationToken,
        for_: Option<Duration>,
    ) -> Wake {
        let deadline = for_.map(|d| tokio::time::Instant::now() + d);
        loop {
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let recv = async {
                if self.commands_open {
                    commands.recv().await
                } else {
                    std::future::pending().await
                }
            };
            let cmd = tokio::select! {
                _ = shutdown.cancelled() => return Wake::Shutdown,
                _ = sleep => return Wake::Elapsed,
                c = recv => c,
            };
            let Some(cmd) = cmd else {
                // Nobody can send commands any more; keep hopping without them.
                self.commands_open = false;
                continue;
            };
            if self.apply(cmd) {
                return Wake::Replan;
            }
        }
    }

    /// Applies a command; true when the plan changed.
    fn apply(&mut self, cmd: HopCommand) -> bool {
        match cmd {
            HopCommand::Lock(r, reply) => {
                let resolved = r.resolve(&self.available).ok_or(PlanError::Unavailable(r));
                let changed = match &resolved {
                    Ok(c) => {
                        tracing::info!("channel hopper: locked to channel {c}");
                        self.lock = Some(*c);
                        true
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        self.status.send_modify(|s| s.last_error = Some(msg));
                        false
                    }
                };
                if let Some(reply) = reply {
                    let _ = reply.send(resolved);
                }
                changed
            }
            HopCommand::Unlock => {
                let was = self.lock.take();
                if was.is_some() {
                    tracing::info!("channel hopper: unlocked, hopping again");
                }
                was.is_some()
            }
            HopCommand::SetShare(mut share) => {
                share.sort_by_key(|c| (c.freq_mhz, c.band));
                share.dedup();
                let dropped: Vec<Channel> = self
                    .status
                    .borrow()
                    .dropped
                    .iter()
                    .map(|d| d.channel)
                    .collect();
                share.retain(|c| !dropped.contains(c));
                self.active = share;
                let active = self.active.clone();
                self.status.send_modify(|s| s.channels = active);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    fn ch(band: Band, n: u16) -> Channel {
        Channel::new(band, n).unwrap()
    }

    fn g24() -> Vec<Channel> {
        (1..=13).map(|n| ch(Band::Ghz2_4, n)).collect()
    }

    fn g5() -> Vec<Channel> {
        [
            36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140,
            149, 153, 157, 161, 165,
        ]
        .iter()
        .map(|&n| ch(Band::Ghz5, n))
        .collect()
    }

    fn g6() -> Vec<Channel> {
        (1..=233).step_by(4).map(|n| ch(Band::Ghz6, n)).collect()
    }

    fn numbers(v: &[Channel]) -> Vec<u16> {
        v.iter().map(|c| c.number).collect()
    }

    /// Fails when two consecutive visits are neighbours in the sorted list.
    fn assert_no_neighbours(sorted: &[Channel], visits: &[Channel]) {
        let pos = |c: &Channel| sorted.iter().position(|s| s == c).unwrap();
        for w in visits.windows(2) {
            assert!(
                pos(&w[0]).abs_diff(pos(&w[1])) > 1,
                "{} then {} are neighbours in {:?}",
                w[0],
                w[1],
                numbers(visits)
            );
        }
    }

    #[test]
    fn stride_order_of_2_4_ghz() {
        assert_eq!(
            numbers(&cycle_order(&g24(), 4, 0, None)),
            [1, 5, 9, 13, 2, 6, 10, 3, 7, 11, 4, 8, 12]
        );
    }

    #[test]
    fn no_neighbours_in_a_row_across_cycles() {
        let mut all = g24();
        all.extend(g5());
        for list in [g24(), g5(), all, g24()[..5].to_vec(), g24()[..7].to_vec()] {
            for stride in [2, 3, 4, 5] {
                let mut visits = Vec::new();
                for cycle in 0..12 {
                    let order = cycle_order(&list, stride, cycle, visits.last().copied());
                    // Every cycle visits every channel exactly once.
                    let mut sorted = order.clone();
                    sorted.sort_by_key(|c| c.freq_mhz);
                    assert_eq!(sorted, list);
                    visits.extend(order);
                }
                assert_no_neighbours(&list, &visits);
            }
        }
    }

    #[test]
    fn the_start_rotates_from_cycle_to_cycle() {
        let firsts: HashSet<u16> = (0..4)
            .map(|k| cycle_order(&g24(), 4, k, None)[0].number)
            .collect();
        assert_eq!(firsts.len(), 4);
    }

    #[test]
    fn select_bands_psc_and_lists() {
        let mut avail = g24();
        avail.extend(g5());
        avail.extend(g6());
        let all = select(&avail, &HopOptions::default()).unwrap().channels;
        let six: Vec<u16> = all
            .iter()
            .filter(|c| c.band == Band::Ghz6)
            .map(|c| c.number)
            .collect();
        assert_eq!(six, (5..=229).step_by(16).collect::<Vec<u16>>());
        assert_eq!(all.len(), 13 + 24 + 15);
        let every6 = HopOptions {
            all_6ghz: true,
            bands: vec![Band::Ghz6],
            ..HopOptions::default()
        };
        assert_eq!(select(&avail, &every6).unwrap().channels.len(), 59);
        let only24 = HopOptions {
            bands: vec![Band::Ghz2_4],
            ..HopOptions::default()
        };
        assert_eq!(select(&avail, &only24).unwrap().channels, g24());
        let listed = HopOptions {
            channels: vec![
                ChannelRef::Number(11),
                ChannelRef::Number(1),
                ChannelRef::Freq(5180),
                ChannelRef::InBand(Band::Ghz6, 1),
                ChannelRef::Number(14),
            ],
            ..HopOptions::default()
        };
        let sel = select(&avail, &listed).unwrap();
        // A bare 1 is 2.4 GHz; 6 GHz channel 1 needs its band (and is kept though not a PSC).
        assert_eq!(
            sel.channels,
            [
                ch(Band::Ghz2_4, 1),
                ch(Band::Ghz2_4, 11),
                ch(Band::Ghz5, 36),
                ch(Band::Ghz6, 1)
            ]
        );
        assert_eq!(sel.unavailable, [ChannelRef::Number(14)]);
        let nothing = HopOptions {
            channels: vec![ChannelRef::Number(14)],
            ..HopOptions::default()
        };
        assert!(matches!(select(&avail, &nothing), Err(PlanError::Empty(_))));
    }

    #[test]
    fn a_lock_selects_one_channel() {
        let opts = HopOptions {
            lock: Some(ChannelRef::Number(6)),
            ..HopOptions::default()
        };
        assert_eq!(plan(&g24(), &opts, 1).unwrap(), [[ch(Band::Ghz2_4, 6)]]);
        let opts = HopOptions {
            lock: Some(ChannelRef::Number(36)),
            ..HopOptions::default()
        };
        assert_eq!(
            plan(&g24(), &opts, 1),
            Err(PlanError::Unavailable(ChannelRef::Number(36)))
        );
    }

    #[test]
    fn channel_names_parse() {
        assert_eq!("6".parse(), Ok(ChannelRef::Number(6)));
        assert_eq!("6/37".parse(), Ok(ChannelRef::InBand(Band::Ghz6, 37)));
        assert_eq!(
            "2.4 GHz/14".parse(),
            Ok(ChannelRef::InBand(Band::Ghz2_4, 14))
        );
        assert_eq!("5180".parse(), Ok(ChannelRef::Freq(5180)));
        assert_eq!("5180 MHz".parse(), Ok(ChannelRef::Freq(5180)));
        for bad in ["", "0", "x", "6/", "7/1", "2.4/99", "-1"] {
            assert!(bad.parse::<ChannelRef>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn options_below_their_floors_are_raised() {
        let (o, w) = HopOptions {
            dwell: Duration::from_millis(10),
            stride: 0,
            max_failures: 0,
            ..HopOptions::default()
        }
        .checked();
        assert_eq!(o.dwell, MIN_DWELL);
        assert_eq!(o.stride, 1);
        assert_eq!(o.max_failures, 1);
        assert_eq!(w.len(), 3);
        assert!(w[0].to_string().contains("50ms"), "{}", w[0]);
        let (o, w) = HopOptions::default().checked();
        assert_eq!(o, HopOptions::default());
        assert!(w.is_empty());
    }

    #[test]
    fn identical_adapters_interleave() {
        let shares = plan(&g24(), &HopOptions::default(), 2).unwrap();
        let mut a = numbers(&shares[0]);
        let mut b = numbers(&shares[1]);
        a.sort();
        b.sort();
        assert_eq!(a, [1, 3, 5, 7, 9, 11, 13]);
        assert_eq!(b, [2, 4, 6, 8, 10, 12]);
    }

    #[test]
    fn a_narrow_adapter_keeps_its_band() {
        let mut dual = g24();
        dual.extend(g5());
        let shares = split(&[g24(), dual.clone()]);
        assert_eq!(shares[0], g24());
        assert_eq!(shares[1], g5());
        // Three identical adapters: every channel exactly once, sizes within one.
        let shares = split(&[dual.clone(), dual.clone(), dual.clone()]);
        let mut union: Vec<Channel> = shares.concat();
        union.sort_by_key(|c| c.freq_mhz);
        assert_eq!(union, dual);
        let sizes: Vec<usize> = shares.iter().map(Vec::len).collect();
        assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
    }

    /// A tuner that records when it was asked for which channel, failing chosen channels or,
    /// when `all_fail` is set, every channel (an unplugged adapter).
    #[derive(Clone)]
    struct FakeTuner {
        start: Instant,
        calls: Arc<Mutex<Vec<(Duration, u16)>>>,
        failing: Arc<Mutex<HashSet<u16>>>,
        all_fail: Arc<Mutex<bool>>,
    }

    impl FakeTuner {
        fn new() -> FakeTuner {
            FakeTuner {
                start: Instant::now(),
                calls: Arc::default(),
                failing: Arc::default(),
                all_fail: Arc::default(),
            }
        }

        fn calls(&self) -> Vec<(Duration, u16)> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Tuner for FakeTuner {
        async fn tune(&mut self, channel: Channel) -> Result<(), TuneError> {
            self.calls
                .lock()
                .unwrap()
                .push((self.start.elapsed(), channel.number));
            if *self.all_fail.lock().unwrap() {
                return Err(TuneError("No such device (os error 19)".into()));
            }
            if self.failing.lock().unwrap().contains(&channel.number) {
                return Err(TuneError("Invalid argument (os error 22)".into()));
            }
            Ok(())
        }
    }

    struct Running {
        shutdown: CancellationToken,
        status: watch::Receiver<HopStatus>,
        control: HopControl,
        task: tokio::task::JoinHandle<()>,
    }

    fn start(tuner: FakeTuner, channels: Vec<Channel>, opts: HopOptions) -> Running {
        let (opts, _) = opts.checked();
        let (hopper, control) = Hopper::new(tuner, channels.clone(), channels, opts);
        let (tx, status) = watch::channel(HopStatus::default());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(hopper.run(shutdown.clone(), tx));
        Running {
            shutdown,
            status,
            control,
            task,
        }
    }

    impl Running {
        async fn stop(self) -> HopStatus {
            self.shutdown.cancel();
            self.task.await.unwrap();
            self.status.borrow().clone()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn dwells_exactly_in_stride_order() {
        let tuner = FakeTuner::new();
        let r = start(tuner.clone(), g24(), HopOptions::default());
        // Two cycles of 13 channels end at 5.2 s; the 27th tune starts the third.
        tokio::time::sleep(Duration::from_millis(13 * 200 * 2 + 100)).await;
        let s = r.stop().await;
        let calls = tuner.calls();
        assert_eq!(calls.len(), 27);
        for (i, (t, _)) in calls.iter().enumerate() {
            assert_eq!(*t, Duration::from_millis(200 * i as u64));
        }
        let visited: Vec<u16> = calls.iter().map(|c| c.1).collect();
        assert_eq!(&visited[..13], [1, 5, 9, 13, 2, 6, 10, 3, 7, 11, 4, 8, 12]);
        let as_channels: Vec<Channel> = visited.iter().map(|&n| ch(Band::Ghz2_4, n)).collect();
        assert_no_neighbours(&g24(), &as_channels);
        assert_eq!(s.cycles, 2);
        assert_eq!(s.state, HopState::Idle);
        assert_eq!(s.current, None);
    }

    #[tokio::test(start_paused = true)]
    async fn publishes_the_current_channel() {
        let tuner = FakeTuner::new();
        let r = start(tuner.clone(), g24(), HopOptions::default());
        tokio::time::sleep(Duration::from_millis(450)).await;
        // Tuned at 0 (1), 200 (5), 400 (9): channel 9 now.
        assert_eq!(r.status.borrow().current, Some(ch(Band::Ghz2_4, 9)));
        assert_eq!(r.status.borrow().state, HopState::Hopping);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_dwell_below_the_floor_is_raised() {
        let tuner = FakeTuner::new();
        let r = start(
            tuner.clone(),
            g24(),
            HopOptions {
                dwell: Duration::from_millis(5),
                ..HopOptions::default()
            },
        );
        tokio::time::sleep(Duration::from_millis(975)).await;
        let s = r.stop().await;
        assert_eq!(s.dwell, MIN_DWELL);
        let calls = tuner.calls();
        assert_eq!(calls[1].0 - calls[0].0, MIN_DWELL);
        // Tunes at 0, 50, ..., 950 ms.
        assert_eq!(calls.len(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn failing_channels_are_dropped_and_reported() {
        let tuner = FakeTuner::new();
        tuner.failing.lock().unwrap().extend([12, 13]);
        let r = start(tuner.clone(), g24(), HopOptions::default());
        // 11 good channels a cycle: 2.2 s per cycle; five cycles is plenty for 3 failures.
        tokio::time::sleep(Duration::from_secs(12)).await;
        let s = r.stop().await;
        let dropped: Vec<u16> = s.dropped.iter().map(|d| d.channel.number).collect();
        assert_eq!(dropped.len(), 2);
        assert!(dropped.contains(&12) && dropped.contains(&13));
        assert!(
            s.dropped
                .iter()
                .all(|d| d.failures == DEFAULT_MAX_FAILURES && d.error.0.contains("os error 22"))
        );
        assert_eq!(numbers(&s.channels), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        // Each failing channel was tried once per cycle, three times, then never again.
        let calls = tuner.calls();
        for n in [12, 13] {
            assert_eq!(calls.iter().filter(|c| c.1 == n).count(), 3);
        }
        // A failure costs no dwell: the channel after it is tuned at the same instant.
        let i = calls.iter().position(|c| c.1 == 13).unwrap();
        assert_eq!(calls[i + 1].0, calls[i].0);
        assert_eq!(s.tune_failures, 6);
    }

    #[tokio::test(start_paused = true)]
    async fn an_adapter_that_fails_everything_backs_off_and_recovers() {
        let tuner = FakeTuner::new();
        *tuner.all_fail.lock().unwrap() = true;
        let r = start(tuner.clone(), g24(), HopOptions::default());
        tokio::time::sleep(Duration::from_secs(10)).await;
        {
            let s = r.status.borrow();
            assert_eq!(s.state, HopState::Failing);
            assert!(
                s.dropped.is_empty(),
                "an unplugged adapter drops no channel"
            );
            assert!(s.last_error.as_deref().unwrap().contains("os error 19"));
        }
        // Cycles start at 0, 0.5, 1.5, 3.5, 7.5 s (backoff doubling from 500 ms).
        let starts: Vec<Duration> = tuner
            .calls()
            .iter()
            .filter(|c| c.1 == 1)
            .map(|c| c.0)
            .collect();
        assert_eq!(
            starts,
            [0, 500, 1500, 3500, 7500].map(Duration::from_millis)
        );
        *tuner.all_fail.lock().unwrap() = false;
        tokio::time::sleep(Duration::from_secs(16)).await;
        let s = r.stop().await;
        assert!(s.dropped.is_empty());
        assert!(s.cycles > 5);
        let last = tuner.calls().last().unwrap().0;
        assert!(last > Duration::from_secs(25));
    }

    #[tokio::test(start_paused = true)]
    async fn lock_and_unlock_at_run_time() {
        let tuner = FakeTuner::new();
        let r = start(tuner.clone(), g24(), HopOptions::default());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let locked = r.control.lock(ChannelRef::Number(6)).await.unwrap();
        assert_eq!(locked, ch(Band::Ghz2_4, 6));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(r.status.borrow().state, HopState::Locked);
        assert_eq!(r.status.borrow().current, Some(locked));
        // Locked at 300 ms: one tune, then nothing for five seconds.
        let calls = tuner.calls();
        assert_eq!(calls.last().unwrap(), &(Duration::from_millis(300), 6));
        assert_eq!(calls.len(), 3);
        assert_eq!(
            r.control.lock(ChannelRef::Number(36)).await,
            Err(HopError::Plan(PlanError::Unavailable(ChannelRef::Number(
                36
            ))))
        );
        r.control.unlock().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(r.status.borrow().state, HopState::Hopping);
        assert!(tuner.calls().len() > 6);
        r.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_lock_from_the_start_tunes_once() {
        let tuner = FakeTuner::new();
        let r = start(
            tuner.clone(),
            g24(),
            HopOptions {
                lock: Some(ChannelRef::Number(11)),
                ..HopOptions::default()
            },
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(tuner.calls(), [(Duration::ZERO, 11)]);
        let s = r.stop().await;
        assert_eq!(s.tunes, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_share_takes_effect_at_once() {
        let tuner = FakeTuner::new();
        let r = start(tuner.clone(), g24(), HopOptions::default());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let shares = split(&[g24(), g24()]);
        r.control.set_share(shares[1].clone()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100 + 6 * 200 * 2)).await;
        let s = r.stop().await;
        assert_eq!(s.channels, shares[1]);
        let after: HashSet<u16> = tuner.calls()[1..].iter().map(|c| c.1).collect();
        assert_eq!(after, shares[1].iter().map(|c| c.number).collect());
    }
}
