//! The dashboard: what the store holds, the GPS, the channels listened to, the capture sources, storage, CPU and alerts, live over server-sent events.
//!
//! One [`DashboardView`] is built per request (or per SSE tick) from the store's counts, the
//! appliance's watch channels and the host's /proc and /sys. `/` renders it, `/api/v1/dashboard`
//! serialises it, and `/events/dashboard` pushes the `live` block of the template every
//! [`TICK`] for htmx's SSE extension to swap in, so the counters move without reloading.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::Stream;
use serde::Serialize;

use super::auth::Ctx;
use super::format;
use super::pages::Layout;
use super::sources::SourcesView;
use super::{AppState, WebError};
use crate::gps::GpsState;
use crate::ingest::now_us;
use crate::system::HostMetrics;

/// How often the live block is pushed.
pub const TICK: Duration = Duration::from_secs(2);
/// Below this share of free space on the data partition, an alert.
pub(super) const DISK_LOW_RATIO: f64 = 0.05;
/// Below this much free space, an alert whatever the share.
pub(super) const DISK_LOW_BYTES: u64 = 200 * 1024 * 1024;
/// Above this CPU temperature (°C), an alert (the Pi throttles at 80-85).
const HOT_C: f64 = 75.0;

/// `/api/v1/dashboard`.
#[derive(Debug, Serialize)]
pub struct DashboardView {
    /// RFC 3339, UTC: when this was read.
    pub now: String,
    pub networks: u64,
    /// Networks first seen in the last 60 s.
    pub networks_new_last_minute: u64,
    pub clients: u64,
    pub observations: u64,
    pub gps: GpsView,
    /// One entry per monitor source: the channel it is on, or its hopping state.
    pub listening: Vec<String>,
    pub sources: SourcesView,
    pub host: HostMetrics,
    /// Why recording has stopped (disk full, free-space reserve reached), when it has.
    pub recording_stopped: Option<String>,
    /// The device's sync with its hub (`None` when this process does not sync).
    pub sync: Option<crate::replication::device::SyncStatus>,
    /// Things that need the user, most important first.
    pub alerts: Vec<String>,
}

/// The GPS line of the dashboard.
#[derive(Debug, Serialize)]
pub struct GpsView {
    /// "off" (not configured), "unknown" (not a live appliance), or gpsd's state.
    pub state: String,
    pub has_fix: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub satellites_used: Option<u32>,
    /// The fix as "52.52000, 13.40500 ±5 m" for the page.
    pub position: Option<String>,
}

impl GpsView {
    fn new(state: &AppState) -> GpsView {
        let none = |label: &str| GpsView {
            state: label.to_owned(),
            has_fix: false,
            lat: None,
            lon: None,
            accuracy_m: None,
            satellites_used: None,
            position: None,
        };
        let Some(live) = &state.sources else {
            return none("unknown");
        };
        let Some(rx) = &live.gps else {
            return none("off");
        };
        let g = rx.borrow().clone();
        let fix = g.usable_fix(now_us());
        GpsView {
            state: g.state.label().to_owned(),
            has_fix: fix.is_some() && g.state != GpsState::Stale,
            lat: fix.map(|f| f.lat),
            lon: fix.map(|f| f.lon),
            accuracy_m: fix.map(|f| f.accuracy_m),
            satellites_used: g.satellites_used,
            position: fix.map(|f| format!("{:.5}, {:.5} ±{:.0} m", f.lat, f.lon, f.accuracy_m)),
        }
    }
}

/// The alerts the dashboard raises from what it read.
fn alerts(v: &DashboardView) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &v.recording_stopped {
        out.push(format!("Recording stopped: {e}"));
    }
    for s in &v.sources.sources {
        if s.state == "failed" {
            out.push(format!(
                "Capture source {} is not capturing: {}",
                s.name,
                s.last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        let dropped = s.dropped_at_tracker + s.dropped_at_capture + s.pcap_dropped;
        if dropped > 0 {
            out.push(format!(
                "Capture source {} dropped {dropped} frames",
                s.name
            ));
        }
    }
    if v.sources.live && v.sources.sources.is_empty() {
        out.push("No capture source is configured".to_owned());
    }
    if let (Some(free), Some(ratio)) = (v.host.disk_free_bytes, v.host.disk_free_ratio())
        && (ratio < DISK_LOW_RATIO || free < DISK_LOW_BYTES)
    {
        out.push(format!("Storage almost full: {} free", format::bytes(free)));
    }
    if let Some(t) = v.host.cpu_temp_c
        && t >= HOT_C
    {
        out.push(format!("CPU at {t:.0} °C: the Pi will slow down"));
    }
    if v.gps.state != "off" && v.gps.state != "unknown" && !v.gps.has_fix {
        out.push(format!(
            "GPS: {} (networks are recorded without position)",
            v.gps.state
        ));
    }
    out
}

impl DashboardView {
    /// Reads everything; the store counts on the blocking pool.
    pub async fn read(state: &AppState) -> Result<DashboardView, WebError> {
        let now = now_us();
        let (networks, networks_new_last_minute, clients, observations, host) = state
            .read(move |s| {
                let dir = s
                    .path()
                    .parent()
                    .map(std::path::Path::to_path_buf)
                    .unwrap_or_default();
                Ok((
                    s.ap_count()?,
                    s.aps_first_seen_since(now - 60_000_000)?,
                    s.client_count()?,
                    s.observation_count()?,
                    HostMetrics::read(&dir),
                ))
            })
            .await?;
        let sources = SourcesView::new(state.sources.as_ref());
        let listening = sources
            .sources
            .iter()
            .filter_map(|s| {
                let h = s.hop.as_ref()?;
                Some(match &h.channel {
                    Some(c) if h.state == "locked" => format!("{}: locked on {c}", s.name),
                    Some(c) => format!("{}: {c}, hopping {} channels", s.name, h.channels.len()),
                    None => format!("{}: {}", s.name, h.state),
                })
            })
            .collect();
        let mut v = DashboardView {
            now: format::time_iso(now),
            networks,
            networks_new_last_minute,
            clients,
            observations,
            gps: GpsView::new(state),
            listening,
            sources,
            host,
            recording_stopped: state.writer.as_ref().and_then(|w| w.last_error()),
            sync: state.sync.as_ref().map(|s| s.borrow().clone()),
            alerts: Vec::new(),
        };
        v.alerts = alerts(&v);
        Ok(v)
    }
}

#[derive(Template)]
#[template(path = "dashboard.html", blocks = ["live"])]
struct DashboardPage {
    layout: Layout,
    d: DashboardView,
}

impl DashboardPage {
    fn load_text(&self) -> String {
        match self.d.host.load {
            Some([a, b, c]) => format!("{a:.2} {b:.2} {c:.2} ({} CPUs)", self.d.host.cpus),
            None => "–".to_owned(),
        }
    }

    fn disk_text(&self) -> String {
        match (self.d.host.disk_free_bytes, self.d.host.disk_total_bytes) {
            (Some(f), Some(t)) => format!("{} free of {}", format::bytes(f), format::bytes(t)),
            _ => "–".to_owned(),
        }
    }

    fn mem_text(&self) -> String {
        match (self.d.host.mem_available_bytes, self.d.host.mem_total_bytes) {
            (Some(a), Some(t)) => format!("{} free of {}", format::bytes(a), format::bytes(t)),
            _ => "–".to_owned(),
        }
    }

    fn sync_text(&self) -> String {
        let Some(s) = &self.d.sync else {
            return "–".to_owned();
        };
        if !s.enrolled {
            return "no hub enrolled (Settings → Sync)".to_owned();
        }
        let last = s.last_sync_us.map_or_else(
            || "never synced".to_owned(),
            |t| format!("last {}", format::time_iso(t)),
        );
        let pending = s
            .pending
            .map_or_else(String::new, |p| format!(" · {p} observations pending"));
        let now = if s.syncing { "syncing… · " } else { "" };
        match &s.last_error {
            Some(e) => format!("{now}{last}{pending} · failed: {e}"),
            None => format!("{now}{last}{pending}"),
        }
    }

    fn temp_text(&self) -> String {
        self.d
            .host
            .cpu_temp_c
            .map_or_else(|| "–".to_owned(), |t| format!("{t:.1} °C"))
    }
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let page = DashboardPage {
        layout: Layout::new("/", &ctx),
        d: DashboardView::read(&state).await?,
    };
    Ok(Html(page.render()?).into_response())
}

/// `GET /api/v1/dashboard`.
pub async fn api(State(state): State<AppState>) -> Result<Json<DashboardView>, WebError> {
    Ok(Json(DashboardView::read(&state).await?))
}

/// `GET /events/dashboard`: the `live` block, rendered anew every [`TICK`], as SSE events
/// named `dashboard`. A failed read is sent as a comment and the stream goes on.
///
/// The stream ends when the session that opened it does (logout, expiry, account removed):
/// access is decided when a request starts, and this one lasts as long as the page is open.
/// While it runs, it counts as use of the session.
pub async fn events(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let session = ctx.session_id;
    let stream = futures::stream::unfold(
        (state, tokio::time::interval(TICK)),
        move |(state, mut tick)| async move {
            tick.tick().await;
            if let Some(id) = &session
                && !state.auth.session_alive(id)
            {
                return None;
            }
            let event = match DashboardView::read(&state).await {
                Ok(d) => {
                    let page = DashboardPage {
                        // The live block shows no part of the layout.
                        layout: Layout::new("/", &Ctx::default()),
                        d,
                    };
                    match page.as_live().render() {
                        Ok(html) => Event::default().event("dashboard").data(html),
                        Err(e) => Event::default().comment(format!("render failed: {e}")),
                    }
                }
                Err(e) => Event::default().comment(format!("read failed: {e}")),
            };
            Some((Ok(event), (state, tick)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
