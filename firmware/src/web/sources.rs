//! The capture sources of a running appliance as the UI and the API show them: state, adapter, mode, channel, counters, drops and the last error.
//!
//! One view struct serves both: `/api/v1/sources` serialises it, `/capture` renders it. The
//! values come from the sources' and hoppers' watch channels (no store read). Interface names,
//! driver names and error messages come from the system, not the air, but they still reach
//! the page only through askama's escaping.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::auth::Ctx;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::appliance::{ActiveMode, Observers, SourceState, SourceStatus};
use crate::capture::hopper::{Channel, HopState, HopStatus};

/// What a managed-scan source cannot see, said wherever such a source is shown.
pub const SCAN_NOTE: &str = "managed-mode scans: access points only, clients are not seen \
    (the adapter cannot do monitor mode)";

/// `/api/v1/sources`.
#[derive(Debug, Serialize)]
pub struct SourcesView {
    /// False when this process captures nothing (`demo`, or a store being viewed).
    pub live: bool,
    pub sources: Vec<SourceView>,
}

/// One capture source.
#[derive(Debug, Serialize)]
pub struct SourceView {
    /// "N (interface)" as configured, as in the log.
    pub name: String,
    /// starting, capturing, scanning, failed or stopped.
    pub state: &'static str,
    pub interface: Option<String>,
    pub driver: Option<String>,
    /// monitor or scan; `null` until the adapter is set up.
    pub mode: Option<&'static str>,
    /// False for a managed-scan source: it sees access points only.
    pub sees_clients: bool,
    /// Why `sees_clients` is false, for people.
    pub note: Option<&'static str>,
    /// Frames (or scan results) handed to the tracker.
    pub frames: u64,
    /// Frames dropped because the tracker's queue was full.
    pub dropped_at_tracker: u64,
    /// Frames dropped between the capture thread and its source (queue full).
    pub dropped_at_capture: u64,
    /// libpcap's counters for the current capture: passed the filter, dropped by the kernel
    /// (buffer full), dropped by the interface or driver.
    pub pcap_received: u64,
    pub pcap_dropped: u64,
    pub interface_dropped: u64,
    pub scans: u64,
    /// Attempts that ended (failures and outages, such as the adapter being unplugged).
    pub restarts: u64,
    pub last_error: Option<String>,
    /// When the next attempt starts, after a failure.
    pub retry_in_ms: Option<u64>,
    /// The channel hopper of a monitor source.
    pub hop: Option<HopView>,
}

/// A monitor source's hopper.
#[derive(Debug, Serialize)]
pub struct HopView {
    /// idle, hopping, locked or failing.
    pub state: &'static str,
    /// The channel the radio is on now ("36 (5 GHz, 5180 MHz)"); `null` while tuning fails.
    pub channel: Option<String>,
    pub channel_number: Option<u16>,
    pub freq_mhz: Option<u16>,
    pub channels: Vec<String>,
    pub dwell_ms: u64,
    pub cycles: u64,
    pub tune_failures: u64,
    /// Channels given up on, with the driver's last word about each.
    pub dropped: Vec<DroppedView>,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DroppedView {
    pub channel: String,
    pub error: String,
    pub failures: u32,
}

fn channel_label(c: &Channel) -> String {
    format!("{} ({}, {} MHz)", c.number, c.band, c.freq_mhz)
}

impl HopView {
    fn new(h: &HopStatus) -> HopView {
        HopView {
            state: h.state.label(),
            channel: h.current.as_ref().map(channel_label),
            channel_number: h.current.map(|c| c.number),
            freq_mhz: h.current.map(|c| c.freq_mhz),
            channels: h.channels.iter().map(|c| c.number.to_string()).collect(),
            dwell_ms: u64::try_from(h.dwell.as_millis()).unwrap_or(u64::MAX),
            cycles: h.cycles,
            tune_failures: h.tune_failures,
            dropped: h
                .dropped
                .iter()
                .map(|d| DroppedView {
                    channel: channel_label(&d.channel),
                    error: d.error.to_string(),
                    failures: d.failures,
                })
                .collect(),
            last_error: h.last_error.clone(),
        }
    }
}

impl SourceView {
    fn new(s: &SourceStatus, h: &HopStatus) -> SourceView {
        let scan = s.mode == Some(ActiveMode::Scan);
        // A hopper that never ran (scan mode, or not started) has nothing to show.
        let hop =
            (!scan && (h.state != HopState::Idle || h.current.is_some())).then(|| HopView::new(h));
        SourceView {
            name: s.name.clone(),
            state: s.state.label(),
            interface: s.interface.clone(),
            driver: s.driver.clone(),
            mode: s.mode.map(ActiveMode::label),
            sees_clients: !scan,
            note: scan.then_some(SCAN_NOTE),
            frames: s.frames,
            dropped_at_tracker: s.dropped,
            dropped_at_capture: s.capture.channel_drops,
            pcap_received: s.capture.received,
            pcap_dropped: s.capture.pcap_drops,
            interface_dropped: s.capture.if_drops,
            scans: s.scans,
            restarts: s.restarts,
            last_error: s.last_error.clone(),
            retry_in_ms: s
                .retry_in
                .filter(|_| s.state == SourceState::Failed)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            hop,
        }
    }
}

impl SourcesView {
    pub fn new(observers: Option<&Observers>) -> SourcesView {
        let Some(o) = observers else {
            return SourcesView {
                live: false,
                sources: Vec::new(),
            };
        };
        let idle = HopStatus::default();
        SourcesView {
            live: true,
            sources: o
                .sources
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let hop = o.hops.get(i).map(|h| h.borrow().clone());
                    SourceView::new(&s.borrow(), hop.as_ref().unwrap_or(&idle))
                })
                .collect(),
        }
    }
}

/// `GET /api/v1/sources`.
pub async fn api(State(state): State<AppState>) -> Json<SourcesView> {
    Json(SourcesView::new(state.sources.as_ref()))
}

#[derive(Template)]
#[template(path = "capture.html")]
struct CapturePage {
    layout: Layout,
    view: SourcesView,
}

/// `GET /capture`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let page = CapturePage {
        layout: Layout::new("/capture", &ctx),
        view: SourcesView::new(state.sources.as_ref()),
    };
    Ok(Html(page.render()?).into_response())
}
