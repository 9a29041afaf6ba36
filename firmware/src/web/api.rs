//! The JSON API (`/api/v1/...`): the same data as the pages, for scripts and the future
//! hub. SSIDs go out twice: `ssid`, the escaped display text, and `ssid_hex`, the exact bytes.

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;

use super::escape::{display_ssid, hex};
use super::format;
use super::pages::{ListParams, Listing};
use super::{AppState, PAGE_SIZE, WebError};
use crate::model::ApRecord;

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
}

impl NetworkJson {
    fn new(ap: &ApRecord) -> NetworkJson {
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
    Query(params): Query<ListParams>,
) -> Result<Json<NetworksJson>, WebError> {
    let l = Listing::read(&state, params).await?;
    Ok(Json(NetworksJson {
        total: l.total,
        page: l.page,
        pages: l.pages,
        per_page: PAGE_SIZE,
        sort: l.sort.as_str(),
        networks: l.aps.iter().map(NetworkJson::new).collect(),
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
