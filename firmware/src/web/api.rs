//! The JSON API (`/api/v1/...`): the same data as the pages, for scripts and the future
//! hub. Air bytes (SSIDs, mesh IDs, WPS names) go out twice: `ssid`, the escaped display
//! text of [`display_ssid`], and `ssid_hex`, the exact bytes.
//!
//! Errors are JSON too (`{"error": "..."}`): a bad query or BSSID is a 400, a network or
//! session not stored a 404, like the gate's 401 and 403. Everything here is described in
//! `openapi.json` (see [`super::openapi`]); the tests hold each answer to that document.

use std::str::FromStr;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::auth::json_error;
use super::edits::NetEdits;
use super::escape::{display_ssid, hex};
use super::exports::{self, FORMATS};
use super::format::{self, SecurityDetail};
use super::pages::{self, Detail, ListParams, Listing};
use super::system_page::{self, Series};
use super::{AppState, PAGE_SIZE, WebError};
use crate::dot11::MacAddr;
use crate::export::Format;
use crate::model::{ApRecord, ClientRecord, Fix, Observation, SessionRecord, TimeUs};

/// `Query`, but a query string that does not parse is a JSON 400 naming the parameter and
/// what was wrong with it, like every other refusal of the API (axum's own is plain text).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| json_error(e.status(), &e.body_text()))
    }
}

/// One network in `/api/v1/networks`.
#[derive(Debug, Serialize)]
pub struct NetworkJson {
    pub bssid: String,
    /// Display text per [`display_ssid`]; `null` when no SSID is known.
    pub ssid: Option<String>,
    pub ssid_hex: Option<String>,
    pub hidden: bool,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
    pub band: Option<&'static str>,
    pub max_signal_dbm: Option<i8>,
    pub security: String,
    pub vendor: Option<String>,
    /// RFC 3339, UTC.
    pub first_seen: String,
    pub last_seen: String,
    /// The same instants as Unix microseconds, exact.
    pub first_seen_us: i64,
    pub last_seen_us: i64,
    /// Where the network is estimated to be (see [`crate::export::network_position`]), with
    /// the accuracy radius in metres; `null` when it was never heard with a GPS fix.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// The user's label, note and "ignore" (synced between devices and the hub).
    pub label: Option<String>,
    pub note: Option<String>,
    pub ignored: bool,
}

impl NetworkJson {
    pub fn new(ap: &ApRecord, edits: NetEdits) -> NetworkJson {
        let pos = crate::export::network_position(ap);
        NetworkJson {
            bssid: ap.bssid.to_string(),
            ssid: ap.ssid.as_deref().map(display_ssid),
            ssid_hex: ap.ssid.as_deref().map(hex),
            hidden: ap.hidden,
            channel: ap.channel,
            freq_mhz: ap.freq_mhz,
            band: ap.band.map(|b| b.label()),
            max_signal_dbm: ap.best_signal_dbm,
            security: format::security_class(&ap.security),
            vendor: ap.vendor.clone(),
            first_seen: format::time_iso(ap.first_seen),
            last_seen: format::time_iso(ap.last_seen),
            first_seen_us: ap.first_seen,
            last_seen_us: ap.last_seen,
            lat: pos.map(|p| p.lat),
            lon: pos.map(|p| p.lon),
            accuracy_m: pos.map(|p| p.accuracy_m),
            label: edits.label,
            note: edits.note,
            ignored: edits.ignored,
        }
    }
}

/// `/api/v1/networks`.
#[derive(Debug, Serialize)]
pub struct NetworksJson {
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub per_page: usize,
    pub sort: &'static str,
    pub networks: Vec<NetworkJson>,
}

pub async fn networks(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<NetworksJson>, WebError> {
    let l = Listing::read(&state, params).await?;
    Ok(Json(NetworksJson {
        total: l.total,
        page: l.page,
        pages: l.pages,
        per_page: PAGE_SIZE,
        sort: l.sort.as_str(),
        networks: l
            .aps
            .iter()
            .map(|a| NetworkJson::new(a, NetEdits::of(&l.edits, a.bssid)))
            .collect(),
    }))
}

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness only: answers without touching the store, so a probe never waits on the disk.
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// A position: where a network was estimated to be, or where the device was at a sighting.
#[derive(Debug, Serialize)]
pub struct FixJson {
    pub lat: f64,
    pub lon: f64,
    pub alt_m: Option<f64>,
    pub accuracy_m: f64,
    pub time: String,
    pub time_us: TimeUs,
}

impl FixJson {
    fn new(f: &Fix) -> FixJson {
        FixJson {
            lat: f.lat,
            lon: f.lon,
            alt_m: f.alt_m,
            accuracy_m: f.accuracy_m,
            time: format::time_iso(f.time_us),
            time_us: f.time_us,
        }
    }
}

/// One SSID the network has used.
#[derive(Debug, Serialize)]
pub struct SsidSeenJson {
    pub ssid: String,
    pub ssid_hex: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub first_seen_us: TimeUs,
    pub last_seen_us: TimeUs,
}

/// The WPS element, whose names are air data like the SSID.
#[derive(Debug, Serialize)]
pub struct WpsJson {
    /// 1 = not configured, 2 = configured.
    pub state: Option<u8>,
    pub manufacturer: Option<String>,
    pub manufacturer_hex: Option<String>,
    pub model: Option<String>,
    pub model_hex: Option<String>,
    pub device_name: Option<String>,
    pub device_name_hex: Option<String>,
}

/// The security section of the detail page: the suite names as the page shows them (joined
/// with ", ", "–" for none), with the WPS element's fields apart.
#[derive(Debug, Serialize)]
pub struct SecurityJson {
    pub class: String,
    #[serde(flatten)]
    pub detail: SecurityDetail,
    pub wps: Option<WpsJson>,
}

/// One sighting (newest first).
#[derive(Debug, Serialize)]
pub struct SightingJson {
    pub time: String,
    pub time_us: TimeUs,
    pub session_id: u64,
    pub signal_dbm: Option<i8>,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
    /// Where the device was; `null` without a GPS fix.
    pub fix: Option<FixJson>,
}

impl SightingJson {
    fn new(o: &Observation) -> SightingJson {
        SightingJson {
            time: format::time_iso(o.time),
            time_us: o.time,
            session_id: o.session_id,
            signal_dbm: o.signal_dbm,
            channel: o.channel,
            freq_mhz: o.freq_mhz,
            fix: o.fix.as_ref().map(FixJson::new),
        }
    }
}

/// A client seen with the network.
#[derive(Debug, Serialize)]
pub struct ClientJson {
    pub mac: String,
    pub vendor: Option<String>,
    /// A locally administered (most likely randomised) address.
    pub randomized: bool,
    pub frames: u64,
    pub max_signal_dbm: Option<i8>,
    pub first_seen: String,
    pub last_seen: String,
    pub first_seen_us: TimeUs,
    pub last_seen_us: TimeUs,
}

impl ClientJson {
    fn new(c: &ClientRecord) -> ClientJson {
        ClientJson {
            mac: c.mac.to_string(),
            vendor: c.vendor.clone(),
            randomized: c.randomized,
            frames: c.frames,
            max_signal_dbm: c.best_signal_dbm,
            first_seen: format::time_iso(c.first_seen),
            last_seen: format::time_iso(c.last_seen),
            first_seen_us: c.first_seen,
            last_seen_us: c.last_seen,
        }
    }
}

/// `/api/v1/networks/{bssid}`: what the detail page shows.
#[derive(Debug, Serialize)]
pub struct NetworkDetailJson {
    #[serde(flatten)]
    pub network: NetworkJson,
    pub ssid_history: Vec<SsidSeenJson>,
    pub width_mhz: Option<u16>,
    pub phy: &'static str,
    pub heard_channels: Vec<u16>,
    pub security_detail: SecurityJson,
    /// The two letters of the country element (air data: display text and hex).
    pub country: Option<String>,
    pub country_hex: Option<String>,
    pub mesh_id: Option<String>,
    pub mesh_id_hex: Option<String>,
    pub ibss: bool,
    pub beacons: u64,
    pub probe_responses: u64,
    pub data_frames: u64,
    pub last_signal_dbm: Option<i8>,
    /// Where the strongest signal was heard.
    pub best_fix: Option<FixJson>,
    /// The signal heard there.
    pub best_fix_signal_dbm: Option<i8>,
    /// On a hub: the devices that saw the network; `null` on a device.
    pub seen_by: Option<Vec<pages::SeenBy>>,
    pub client_count: u32,
    /// The newest sightings, newest first (as many as the page lists).
    pub sightings: Vec<SightingJson>,
    /// The signal chart's data: (Unix microseconds, dBm) of the newest sightings with a
    /// reading, oldest first.
    pub signal: Vec<(TimeUs, f64)>,
    /// Clients last seen with this network, most recent first.
    pub clients: Vec<ClientJson>,
}

/// Air bytes as (display text, hex).
fn air(raw: Option<&[u8]>) -> (Option<String>, Option<String>) {
    (raw.map(display_ssid), raw.map(hex))
}

impl NetworkDetailJson {
    fn new(d: &Detail) -> NetworkDetailJson {
        let ap = &d.ap;
        let (country, country_hex) = air(ap.country.as_ref().map(|c| &c[..2]));
        let (mesh_id, mesh_id_hex) = air(ap.mesh_id.as_deref());
        let wps = ap.security.wps.as_ref().map(|w| {
            let (manufacturer, manufacturer_hex) = air(w.manufacturer.as_deref());
            let (model, model_hex) = air(w.model.as_deref());
            let (device_name, device_name_hex) = air(w.device_name.as_deref());
            WpsJson {
                state: w.state,
                manufacturer,
                manufacturer_hex,
                model,
                model_hex,
                device_name,
                device_name_hex,
            }
        });
        let mut signal = pages::signal_points(&d.sightings);
        signal.reverse();
        NetworkDetailJson {
            network: NetworkJson::new(ap, d.edits.clone()),
            ssid_history: ap
                .ssid_history
                .iter()
                .map(|h| SsidSeenJson {
                    ssid: display_ssid(&h.ssid),
                    ssid_hex: hex(&h.ssid),
                    count: h.count,
                    first_seen: format::time_iso(h.first_seen),
                    last_seen: format::time_iso(h.last_seen),
                    first_seen_us: h.first_seen,
                    last_seen_us: h.last_seen,
                })
                .collect(),
            width_mhz: ap.width_mhz,
            phy: format::phy(ap.phy),
            heard_channels: ap.heard_channels.clone(),
            security_detail: SecurityJson {
                class: format::security_class(&ap.security),
                detail: SecurityDetail::new(&ap.security),
                wps,
            },
            country,
            country_hex,
            mesh_id,
            mesh_id_hex,
            ibss: ap.ibss,
            beacons: ap.beacons,
            probe_responses: ap.probe_responses,
            data_frames: ap.data_frames,
            last_signal_dbm: ap.last_signal_dbm,
            best_fix: ap.best_fix.as_ref().map(FixJson::new),
            best_fix_signal_dbm: ap.best_fix_signal_dbm,
            seen_by: d.seen_by.clone(),
            client_count: ap.client_count,
            sightings: d
                .sightings
                .iter()
                .take(pages::SIGHTINGS_SHOWN)
                .map(SightingJson::new)
                .collect(),
            signal,
            clients: d.clients.iter().map(ClientJson::new).collect(),
        }
    }
}

/// `GET /api/v1/networks/{bssid}`.
pub async fn network(
    State(state): State<AppState>,
    Path(bssid): Path<String>,
) -> Result<Response, WebError> {
    let Ok(mac) = MacAddr::from_str(&bssid) else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "not a BSSID: expected six hex octets, like 00:11:22:aa:bb:cc",
        ));
    };
    // One read serves the sightings (the newest few) and the signal series (more of them).
    let Some(d) = Detail::read(&state, mac, pages::SIGHTINGS_CHARTED).await? else {
        return Ok(json_error(
            StatusCode::NOT_FOUND,
            &format!("no network with BSSID {mac} has been recorded"),
        ));
    };
    Ok(Json(NetworkDetailJson::new(&d)).into_response())
}

/// One export a session (or the whole store) can be downloaded as.
#[derive(Debug, Serialize)]
pub struct ExportLinkJson {
    pub format: &'static str,
    pub href: String,
}

fn export_links(session: Option<u64>) -> Vec<ExportLinkJson> {
    FORMATS
        .iter()
        .map(|&(_, name, _, _)| ExportLinkJson {
            format: name,
            href: exports::href(name, session),
        })
        .collect()
}

/// One capture session, as the sessions page lists it.
#[derive(Debug, Serialize)]
pub struct SessionJson {
    pub id: u64,
    pub started: String,
    pub started_us: TimeUs,
    /// `null` while running, or when the session was interrupted.
    pub ended: Option<String>,
    pub ended_us: Option<TimeUs>,
    /// running, ended or interrupted.
    pub status: &'static str,
    pub frames: u64,
    /// The capture sources (interfaces, files), as configured.
    pub sources: Vec<String>,
    /// Where the timestamps came from: capture file, system clock, GPS or GPS-corrected.
    pub clock: &'static str,
    pub exports: Vec<ExportLinkJson>,
}

impl SessionJson {
    fn new(s: &SessionRecord) -> SessionJson {
        SessionJson {
            id: s.id,
            started: format::time_iso(s.started_at),
            started_us: s.started_at,
            ended: s.ended_at.map(format::time_iso),
            ended_us: s.ended_at,
            status: exports::status_label(s.status),
            frames: s.frames,
            sources: s.sources.clone(),
            clock: exports::clock_label(&s.time_source),
            exports: export_links(Some(s.id)),
        }
    }
}

/// `GET /api/v1/sessions`: newest first.
pub async fn sessions(State(state): State<AppState>) -> Result<Json<Vec<SessionJson>>, WebError> {
    let sessions = exports::read_sessions(&state).await?;
    Ok(Json(sessions.iter().map(SessionJson::new).collect()))
}

/// One export format, as the exports page offers it.
#[derive(Debug, Serialize)]
pub struct ExportFormatJson {
    pub format: &'static str,
    pub label: &'static str,
    pub about: &'static str,
    pub content_type: &'static str,
    /// The download of everything; add `?session=N` for one session.
    pub href: String,
}

/// `GET /api/v1/exports`.
pub async fn export_formats() -> Json<Vec<ExportFormatJson>> {
    Json(
        FORMATS
            .iter()
            .map(|&(fmt, format, label, about)| ExportFormatJson {
                format,
                label,
                about,
                content_type: exports::content_type(fmt),
                href: exports::href(format, None),
            })
            .collect(),
    )
}

/// `GET /api/v1/map/networks?session=N`: the map's network layer, the GeoJSON export
/// (streamed, as `/exports/geojson` sends it, without the download header).
pub async fn map_networks(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<exports::DownloadParams>,
) -> Result<Response, WebError> {
    match exports::stream(&state, Format::Geojson, p.session).await? {
        Some(resp) => Ok(resp),
        None => Ok(json_error(
            StatusCode::NOT_FOUND,
            &exports::no_session(p.session.unwrap_or_default()),
        )),
    }
}

/// `/api/v1/system/history`.
#[derive(Debug, Serialize)]
pub struct HistoryJson {
    /// Seconds between readings.
    pub every_s: u64,
    pub series: Vec<Series>,
}

/// `GET /api/v1/system/history`: the readings behind the system page's charts (kept in
/// memory for the last 24 hours).
pub async fn system_history(State(state): State<AppState>) -> Json<HistoryJson> {
    Json(HistoryJson {
        every_s: system_page::SAMPLE_EVERY.as_secs(),
        series: system_page::history_series(&state),
    })
}
