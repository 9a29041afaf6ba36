//! Live capture: libpcap on a monitor interface, on its own thread, into a bounded channel, with drops counted.
//!
//! The capture thread turns libpcap into [`LiveFrame`]s (timestamp, link type, bytes) and
//! nothing else; decoding happens downstream. libpcap is never blocked on the pipeline: a
//! full channel drops the frame and counts it, since a stalled reader makes the kernel drop
//! frames anyway, invisibly. The thread ends on [`LiveCapture::stop`], on drop of the
//! handle, or on an error (interface gone), which [`LiveCapture::status`] reports so the
//! supervisor can restart the source when the adapter comes back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

/// DLT_IEEE802_11_RADIO: 802.11 with a radiotap header, what Linux monitor interfaces give.
pub const DLT_RADIOTAP: i32 = 127;
/// DLT_IEEE802_11: bare 802.11 frames.
pub const DLT_IEEE802_11: i32 = 105;
/// DLT_PRISM_HEADER: 802.11 with a Prism header (old drivers).
pub const DLT_PRISM: i32 = 119;
/// DLT_PPI: 802.11 with a PPI header.
pub const DLT_PPI: i32 = 192;

/// Link types the decoder reads.
pub const ACCEPTED_DLTS: [i32; 4] = [DLT_RADIOTAP, DLT_IEEE802_11, DLT_PRISM, DLT_PPI];

/// The wardrive filter in libpcap's language. On 802.11 link types (radiotap included)
/// libpcap skips the radio header by reading its length from the packet, and `ether proto`
/// on a data frame tests the LLC/SNAP type after the 802.11 header, whose length it also
/// computes per frame (QoS, four addresses). So this passes management frames and
/// unprotected EAPOL (0x888e) data frames, and nothing else; protected data cannot match
/// because its LLC header is encrypted.
pub const WARDRIVE_FILTER: &str = "type mgt or (type data and ether proto 0x888e)";

/// Bytes kept per frame: a radiotap header plus the largest management frames seen in
/// practice; EAPOL-Key frames are far shorter.
pub const SNAPLEN: i32 = 4096;
/// How long libpcap waits for a packet before returning, so the thread sees the stop flag.
pub const READ_TIMEOUT_MS: i32 = 100;
/// Kernel ring buffer size: a few seconds of a busy 2.4 GHz channel at management rates.
pub const BUFFER_BYTES: i32 = 4 << 20;

/// What to let through the kernel filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFilter {
    /// Management frames and EAPOL only (Kismet's wardrive profile): APs, probes, handshakes.
    Wardrive,
    /// Everything (clients are seen through their data frames too).
    Survey,
}

impl CaptureFilter {
    /// The libpcap filter expression, or `None` for no filter.
    pub fn expression(self) -> Option<&'static str> {
        match self {
            CaptureFilter::Wardrive => Some(WARDRIVE_FILTER),
            CaptureFilter::Survey => None,
        }
    }
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFrame {
    /// Capture time, microseconds since the Unix epoch (the kernel's timestamp).
    pub ts_us: i64,
    /// The link type (see [`ACCEPTED_DLTS`]).
    pub dlt: i32,
    /// The frame, radio header included, as captured (at most [`SNAPLEN`] bytes).
    pub data: Vec<u8>,
}

/// Why a capture could not start or had to stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "capture on {iface}: permission denied; piwardrive needs CAP_NET_RAW (and CAP_NET_ADMIN to set monitor mode): run as root or grant them with setcap/AmbientCapabilities"
    )]
    Permission { iface: String },
    /// The interface does not exist, went down or disappeared (adapter unplugged): the
    /// supervisor should wait for it to come back.
    #[error("capture on {iface}: the interface is gone or down ({detail})")]
    InterfaceGone { iface: String, detail: String },
    #[error("capture on {iface}: link type {dlt} is not 802.11; is the interface in monitor mode?")]
    WrongLinkType { iface: String, dlt: i32 },
    #[error("capture on {iface}: cannot install the filter: {detail}")]
    Filter { iface: String, detail: String },
    #[error("capture on {iface}: {detail}")]
    Pcap { iface: String, detail: String },
    #[error("capture on {iface}: cannot start the capture thread: {detail}")]
    Thread { iface: String, detail: String },
}

impl CaptureError {
    /// The adapter is gone (unplugged, interface deleted or down): restart when it is back.
    pub fn is_interface_gone(&self) -> bool {
        matches!(self, CaptureError::InterfaceGone { .. })
    }

    /// Classifies a libpcap error message. libpcap reports errno conditions only as text
    /// (`PCAP_ERROR_PERM_DENIED` as "You don't have permission...", a read on a removed
    /// interface as "The interface went down" or "...No such device..."), so the text is
    /// what there is to read.
    pub fn from_pcap(iface: &str, e: &pcap::Error) -> CaptureError {
        let detail = e.to_string();
        let lower = detail.to_ascii_lowercase();
        let iface = iface.to_string();
        if lower.contains("permission")
            || lower.contains("operation not permitted")
            || lower.contains("eperm")
        {
            CaptureError::Permission { iface }
        } else if lower.contains("no such device")
            || lower.contains("went down")
            || lower.contains("not up")
            || lower.contains("network is down")
            || lower.contains("disappeared")
            || lower.contains("has been removed")
            || lower.contains("no such device or address")
        {
            CaptureError::InterfaceGone { iface, detail }
        } else {
            CaptureError::Pcap { iface, detail }
        }
    }
}

/// Counters of a running (or ended) capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames handed to the channel.
    pub frames: u64,
    /// Frames dropped because the channel was full.
    pub channel_drops: u64,
    /// libpcap's `ps_drop`: dropped by the kernel because the buffer was full.
    pub pcap_drops: u64,
    /// libpcap's `ps_ifdrop`: dropped by the interface or driver.
    pub if_drops: u64,
    /// libpcap's `ps_recv`: frames that passed the filter (counted by the kernel).
    pub received: u64,
}

/// Where the capture thread is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureStatus {
    Running,
    /// Stopped on request (or the frame receiver went away).
    Stopped,
    /// Ended by an error; see [`CaptureError::is_interface_gone`].
    Failed(CaptureError),
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    frames: AtomicU64,
    channel_drops: AtomicU64,
    pcap_drops: AtomicU64,
    if_drops: AtomicU64,
    received: AtomicU64,
    status: Mutex<Option<CaptureStatus>>,
}

/// A running live capture. Dropping it stops the thread (and waits for it, at most one
/// read timeout).
pub struct LiveCapture {
    iface: String,
    dlt: i32,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Opens `ifname` with libpcap and starts the capture thread; frames go to `tx`.
pub fn start(
    ifname: &str,
    filter: CaptureFilter,
    tx: Sender<LiveFrame>,
) -> Result<LiveCapture, CaptureError> {
    let cap = open(ifname, filter)?;
    let dlt = cap.get_datalink().0;
    let shared = Arc::new(Shared::default());
    let thread_shared = shared.clone();
    let name = ifname.to_string();
    let thread = std::thread::Builder::new()
        .name(format!("pcap-{ifname}"))
        .spawn(move || run(cap, name, dlt, tx, &thread_shared))
        .map_err(|e| CaptureError::Thread {
            iface: ifname.to_string(),
            detail: e.to_string(),
        })?;
    Ok(LiveCapture {
        iface: ifname.to_string(),
        dlt,
        shared,
        thread: Some(thread),
    })
}

/// Opens and activates the capture, checks the link type and installs the filter.
pub fn open(
    ifname: &str,
    filter: CaptureFilter,
) -> Result<pcap::Capture<pcap::Active>, CaptureError> {
    let err = |e: pcap::Error| CaptureError::from_pcap(ifname, &e);
    let mut cap = pcap::Capture::from_device(ifname)
        .map_err(err)?
        .immediate_mode(true)
        .snaplen(SNAPLEN)
        .timeout(READ_TIMEOUT_MS)
        .buffer_size(BUFFER_BYTES)
        .open()
        .map_err(err)?;
    let dlt = cap.get_datalink().0;
    if !ACCEPTED_DLTS.contains(&dlt) {
        // A monitor interface may offer radiotap besides its default; ask for it.
        let offered = cap.list_datalinks().unwrap_or_default();
        if offered.iter().any(|l| l.0 == DLT_RADIOTAP) {
            cap.set_datalink(pcap::Linktype(DLT_RADIOTAP))
                .map_err(err)?;
        } else {
            return Err(CaptureError::WrongLinkType {
                iface: ifname.to_string(),
                dlt,
            });
        }
    }
    if let Some(expr) = filter.expression() {
        cap.filter(expr, true).map_err(|e| CaptureError::Filter {
            iface: ifname.to_string(),
            detail: e.to_string(),
        })?;
    }
    Ok(cap)
}

/// Compiles a filter's program for a link type without any device, for tests and checks.
pub fn compile_filter(
    filter: CaptureFilter,
    dlt: i32,
) -> Result<Option<pcap::BpfProgram>, pcap::Error> {
    match filter.expression() {
        None => Ok(None),
        Some(expr) => {
            let dead = pcap::Capture::dead(pcap::Linktype(dlt))?;
            dead.compile(expr, true).map(Some)
        }
    }
}

fn run(
    mut cap: pcap::Capture<pcap::Active>,
    iface: String,
    dlt: i32,
    tx: Sender<LiveFrame>,
    shared: &Shared,
) {
    let mut last_stats = std::time::Instant::now();
    let end = loop {
        if shared.stop.load(Ordering::Relaxed) {
            break CaptureStatus::Stopped;
        }
        match cap.next_packet() {
            Ok(p) => {
                let ts_us = timeval_us(&p.header.ts);
                let frame = LiveFrame {
                    ts_us,
                    dlt,
                    data: p.data.to_vec(),
                };
                match tx.try_send(frame) {
                    Ok(()) => {
                        shared.frames.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Full(_)) => {
                        shared.channel_drops.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Closed(_)) => break CaptureStatus::Stopped,
                }
            }
            Err(pcap::Error::TimeoutExpired) => {}
            Err(e) => break CaptureStatus::Failed(CaptureError::from_pcap(&iface, &e)),
        }
        // pcap_stats is a syscall: once a second is plenty for the UI.
        if last_stats.elapsed() >= std::time::Duration::from_secs(1) {
            update_stats(&mut cap, shared);
            last_stats = std::time::Instant::now();
        }
    };
    update_stats(&mut cap, shared);
    if let CaptureStatus::Failed(e) = &end {
        tracing::warn!(iface, error = %e, "live capture ended");
    }
    *shared.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(end);
}

/// A timeval in microseconds; `time_t` is 32 bits on some 32-bit ARM targets, hence the
/// conversions that are no-ops on 64-bit ones.
#[allow(clippy::useless_conversion)]
fn timeval_us(tv: &libc::timeval) -> i64 {
    i64::from(tv.tv_sec) * 1_000_000 + i64::from(tv.tv_usec)
}

fn update_stats(cap: &mut pcap::Capture<pcap::Active>, shared: &Shared) {
    if let Ok(s) = cap.stats() {
        shared
            .pcap_drops
            .store(u64::from(s.dropped), Ordering::Relaxed);
        shared
            .if_drops
            .store(u64::from(s.if_dropped), Ordering::Relaxed);
        shared
            .received
            .store(u64::from(s.received), Ordering::Relaxed);
    }
}

impl LiveCapture {
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// The link type of the frames.
    pub fn dlt(&self) -> i32 {
        self.dlt
    }

    /// Counters; libpcap's are refreshed about once a second by the capture thread.
    pub fn stats(&self) -> CaptureStats {
        let s = &self.shared;
        CaptureStats {
            frames: s.frames.load(Ordering::Relaxed),
            channel_drops: s.channel_drops.load(Ordering::Relaxed),
            pcap_drops: s.pcap_drops.load(Ordering::Relaxed),
            if_drops: s.if_drops.load(Ordering::Relaxed),
            received: s.received.load(Ordering::Relaxed),
        }
    }

    /// Running, or how the thread ended.
    pub fn status(&self) -> CaptureStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or(CaptureStatus::Running)
    }

    /// Asks the thread to stop; it does within one read timeout.
    pub fn request_stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Stops the thread, waits for it, and returns the final counters and status.
    pub fn stop(mut self) -> (CaptureStats, CaptureStatus) {
        self.join();
        (self.stats(), self.status())
    }

    fn join(&mut self) {
        self.request_stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.join();
    }
}
