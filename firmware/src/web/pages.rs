//! The HTML pages: the network list (full page or htmx fragment) and the network detail.
//!
//! Handlers turn store records into small view structs of ready-to-print strings, so the
//! templates hold no logic beyond loops and `if`s, and every piece of air data reaches them
//! as an [`SsidView`] or a string that askama will HTML-escape.

use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::assets::URLS;
use super::auth::Ctx;
use super::edits::NetEdits;
use super::escape::{SsidView, display_ssid};
use super::filter::{self, Filter};
use super::format::{self, SecurityDetail};
use super::{AppState, PAGE_SIZE, WebError};
use crate::dot11::MacAddr;
use crate::model::{ApRecord, ClientRecord, Fix, Observation};

/// One entry of the main navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// Built yet; the others are shown greyed out so the layout is the final one.
    pub enabled: bool,
    pub current: bool,
}

/// The pages of DESIGN.md section 7, in menu order.
const NAV: [(&str, &str, bool); 11] = [
    ("/", "Dashboard", true),
    ("/networks", "Networks", true),
    ("/capture", "Capture", true),
    ("/map", "Map", true),
    ("/channels", "Channels", true),
    ("/sessions", "Sessions", true),
    ("/exports", "Exports", true),
    ("/alerts", "Alerts", false),
    ("/system", "System", true),
    ("/settings", "Settings", true),
    ("/accounts", "Accounts", true),
];

/// Shown to admins only (web/auth.rs refuses them to everyone else).
const ADMIN_NAV: &str = "/accounts";

/// What `base.html` needs: asset URLs, the navigation with the current page marked, who is
/// logged in, and the CSRF token for forms and htmx.
pub struct Layout {
    pub css_url: &'static str,
    pub htmx_url: &'static str,
    pub htmx_sse_url: &'static str,
    pub icon_url: &'static str,
    pub version: &'static str,
    pub nav: Vec<NavItem>,
    /// The account logged in (the top bar shows it with a log-out button).
    pub user: Option<String>,
    /// Hex; empty when the request has none (an API token).
    pub csrf: String,
    /// An admin is logged in: edit forms are shown (the gate refuses them to the rest).
    pub is_admin: bool,
}

impl Layout {
    pub(super) fn new(current: &str, ctx: &Ctx) -> Layout {
        let admin = ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.role == crate::accounts::Role::Admin);
        let logged_in = ctx.principal.is_some();
        Layout {
            is_admin: admin,
            user: ctx.principal.as_ref().map(|p| p.name.clone()),
            csrf: ctx.csrf.clone(),
            css_url: &URLS.css,
            htmx_url: &URLS.htmx,
            htmx_sse_url: &URLS.htmx_sse,
            icon_url: &URLS.icon,
            version: env!("CARGO_PKG_VERSION"),
            nav: NAV
                .iter()
                // Before logging in there is no menu (it would lead to the login page).
                .filter(|_| logged_in)
                .filter(|(href, _, _)| *href != ADMIN_NAV || admin)
                .map(|&(href, label, enabled)| NavItem {
                    href,
                    label,
                    enabled,
                    current: href == current,
                })
                .collect(),
        }
    }
}

pub use super::filter::{ListParams, Sort};

/// One page of the list, as read from the store.
pub struct Listing {
    pub total: u64,
    /// 1-based, as asked for (may be past the last page, which is then empty).
    pub page: u64,
    /// At least 1, so "page 1 of 1" reads right for an empty store.
    pub pages: u64,
    pub sort: Sort,
    pub filter: Filter,
    pub aps: Vec<ApRecord>,
    /// The user's edits (labels and "ignore" marks of the rows).
    pub edits: piwardrive_sync::Edits,
}

impl Listing {
    pub async fn read(state: &AppState, params: ListParams) -> Result<Listing, WebError> {
        let page = params.page.unwrap_or(1).max(1);
        let sort = params.sort.unwrap_or_default();
        let filter = Filter::new(&params);
        let offset = (page - 1).saturating_mul(PAGE_SIZE as u64);
        // Unfiltered, the count and the page are two snapshots; a commit in between can only
        // make the count a little stale, which the next refresh fixes.
        let f = filter.clone();
        let (found, edits) = state
            .read(move |s| {
                let edits = s.edits()?;
                let page = filter::read_page(s, &f, &edits, sort, offset, PAGE_SIZE)?;
                Ok((page, edits))
            })
            .await?;
        Ok(Listing {
            total: found.total,
            page,
            pages: found.total.div_ceil(PAGE_SIZE as u64).max(1),
            sort,
            filter,
            aps: found.aps,
            edits,
        })
    }

    fn href(&self, page: u64) -> String {
        let q = self.filter.query(self.sort);
        if q.is_empty() {
            format!("/networks?page={page}")
        } else {
            format!("/networks?page={page}&{q}")
        }
    }
}

/// One row of the list.
pub struct NetworkRow {
    pub bssid: String,
    pub ssid: SsidView,
    /// The user's label (user text: escaped like air data).
    pub label: Option<String>,
    pub ignored: bool,
    pub channel: Option<u16>,
    pub band: &'static str,
    pub max_signal_dbm: Option<i8>,
    pub security: String,
    pub security_css: &'static str,
    pub vendor: String,
    pub first_seen: String,
    pub last_seen: String,
}

impl NetworkRow {
    fn new(ap: &ApRecord, edits: &piwardrive_sync::Edits) -> NetworkRow {
        let security = format::security_class(&ap.security);
        let e = NetEdits::of(edits, ap.bssid);
        NetworkRow {
            bssid: ap.bssid.to_string(),
            ssid: SsidView::new(ap.ssid.as_deref(), ap.hidden),
            label: e.label,
            ignored: e.ignored,
            channel: ap.channel,
            band: format::band(ap.band),
            max_signal_dbm: ap.best_signal_dbm,
            security_css: format::security_css(&security),
            security,
            vendor: format::vendor(ap),
            first_seen: format::time_short(ap.first_seen),
            last_seen: format::time_short(ap.last_seen),
        }
    }
}

#[derive(Template)]
#[template(path = "networks.html", blocks = ["list"])]
pub struct NetworksPage {
    pub layout: Layout,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub rows: Vec<NetworkRow>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// The orders offered: (value, label, current).
    pub sorts: Vec<(&'static str, &'static str, bool)>,
    /// The form's current values ("" for any).
    pub q: String,
    pub band: &'static str,
    pub sec: &'static str,
    pub hidden: &'static str,
    pub session: bool,
    pub ignored: &'static str,
    /// On a hub: the devices to filter by, (id hex, name, selected); empty elsewhere.
    pub devices: Vec<(String, String, bool)>,
    pub filtered: bool,
}

/// True for an htmx request that wants a fragment. A history restore (back button after an
/// htmx navigation) also carries `HX-Request` but needs the whole page.
fn wants_fragment(headers: &HeaderMap) -> bool {
    let is = |name: &str| headers.get(name).is_some_and(|v| v.as_bytes() == b"true");
    is("hx-request") && !is("hx-history-restore-request")
}

pub async fn networks(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<ListParams>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let l = Listing::read(&state, params).await?;
    let f = &l.filter;
    let page = NetworksPage {
        layout: Layout::new("/networks", &ctx),
        total: l.total,
        page: l.page,
        pages: l.pages,
        rows: l.aps.iter().map(|a| NetworkRow::new(a, &l.edits)).collect(),
        prev_href: (l.page > 1).then(|| l.href((l.page - 1).min(l.pages))),
        next_href: (l.page < l.pages).then(|| l.href(l.page + 1)),
        sorts: [
            (Sort::First, "newest first seen"),
            (Sort::Last, "last seen"),
            (Sort::Signal, "strongest signal"),
        ]
        .into_iter()
        .map(|(s, label)| (s.as_str(), label, s == l.sort))
        .collect(),
        q: f.q.clone().unwrap_or_default(),
        band: f.band.map_or("", |b| b.as_str()),
        sec: f.sec.map_or("", |s| s.as_str()),
        hidden: f.hidden.map_or("", |h| match h {
            filter::YesNo::Yes => "yes",
            filter::YesNo::No => "no",
        }),
        session: f.session.is_some(),
        ignored: f.ignored.map_or("", |i| i.as_str()),
        devices: hub_device_choices(&state, f.device.map(|d| d.0)).await?,
        filtered: !f.is_empty(),
    };
    let html = if wants_fragment(&headers) {
        page.as_list().render()?
    } else {
        page.render()?
    };
    let mut resp = Html(html).into_response();
    // The same URL answers with a page or a fragment: caches must keep them apart.
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(resp)
}

/// On a hub, the enrolled devices as the list's device filter offers them: (id hex, name,
/// whether it is the one selected). Empty elsewhere.
async fn hub_device_choices(
    state: &AppState,
    selected: Option<piwardrive_sync::DeviceId>,
) -> Result<Vec<(String, String, bool)>, WebError> {
    if state.hub.is_none() {
        return Ok(Vec::new());
    }
    let devices = state.read(|s| s.hub_devices()).await?;
    Ok(devices
        .iter()
        .map(|d| {
            (
                crate::accounts::to_hex(&d.id),
                d.name.clone(),
                selected.is_some_and(|s| s.0 == d.id),
            )
        })
        .collect())
}

/// A device that saw a network (on a hub).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeenBy {
    /// The device id, 32 hex digits.
    pub id: String,
    /// Its name in the hub's device table; `null` for a device the hub has no record of.
    pub name: Option<String>,
}

/// One SSID-history entry.
pub struct HistoryRow {
    pub ssid: SsidView,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// One sighting.
pub struct SightingRow {
    pub time: String,
    pub signal: String,
    pub channel: String,
    pub fix: String,
}

fn fix_text(f: &Fix) -> String {
    format!("{:.6}, {:.6} ±{:.0} m", f.lat, f.lon, f.accuracy_m)
}

fn opt_text<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

impl SightingRow {
    fn new(o: &Observation) -> SightingRow {
        SightingRow {
            time: format::time_full(o.time),
            signal: opt_text(o.signal_dbm),
            channel: opt_text(o.channel),
            fix: o.fix.as_ref().map_or_else(|| "no fix".to_owned(), fix_text),
        }
    }
}

/// Everything the detail page shows about one AP.
pub struct ApView {
    /// `SSID (bssid)` for the window title, where spans cannot go.
    pub title: String,
    pub bssid: String,
    pub ssid: SsidView,
    pub hidden: bool,
    pub history: Vec<HistoryRow>,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
    pub band: &'static str,
    pub width_mhz: Option<u16>,
    pub phy: &'static str,
    pub heard_channels: String,
    pub security: String,
    pub security_css: &'static str,
    pub sec: SecurityDetail,
    pub vendor: String,
    pub country: String,
    pub mesh_id: Option<SsidView>,
    pub ibss: bool,
    pub first_seen: String,
    pub first_seen_iso: String,
    pub last_seen: String,
    pub last_seen_iso: String,
    pub beacons: u64,
    pub probe_responses: u64,
    pub data_frames: u64,
    pub max_signal_dbm: Option<i8>,
    pub last_signal_dbm: Option<i8>,
    pub best_fix: Option<String>,
    pub client_count: u32,
}

impl ApView {
    fn new(ap: &ApRecord) -> ApView {
        let security = format::security_class(&ap.security);
        let name = match &ap.ssid {
            Some(s) if !s.is_empty() => display_ssid(s),
            _ if ap.hidden => "(hidden)".to_owned(),
            _ => "(no SSID)".to_owned(),
        };
        ApView {
            title: format!("{name} ({})", ap.bssid),
            bssid: ap.bssid.to_string(),
            ssid: SsidView::new(ap.ssid.as_deref(), ap.hidden),
            hidden: ap.hidden,
            history: ap
                .ssid_history
                .iter()
                .map(|h| HistoryRow {
                    // An empty history entry is the hidden (blank) SSID itself.
                    ssid: SsidView::new(Some(&h.ssid), h.ssid.iter().all(|&b| b == 0)),
                    count: h.count,
                    first_seen: format::time_full(h.first_seen),
                    last_seen: format::time_full(h.last_seen),
                })
                .collect(),
            channel: ap.channel,
            freq_mhz: ap.freq_mhz,
            band: format::band(ap.band),
            width_mhz: ap.width_mhz,
            phy: format::phy(ap.phy),
            heard_channels: ap
                .heard_channels
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            security_css: format::security_css(&security),
            security,
            sec: SecurityDetail::new(&ap.security),
            vendor: format::vendor(ap),
            // The country element is air data too; its third byte (indoor/outdoor) is
            // rarely meaningful, so only the two letters are shown.
            country: ap
                .country
                .map_or_else(|| "–".to_owned(), |c| display_ssid(&c[..2])),
            mesh_id: ap.mesh_id.as_deref().map(|m| SsidView::new(Some(m), false)),
            ibss: ap.ibss,
            first_seen: format::time_full(ap.first_seen),
            first_seen_iso: format::time_iso(ap.first_seen),
            last_seen: format::time_full(ap.last_seen),
            last_seen_iso: format::time_iso(ap.last_seen),
            beacons: ap.beacons,
            probe_responses: ap.probe_responses,
            data_frames: ap.data_frames,
            max_signal_dbm: ap.best_signal_dbm,
            last_signal_dbm: ap.last_signal_dbm,
            best_fix: ap.best_fix.as_ref().map(fix_text),
            client_count: ap.client_count,
        }
    }
}

#[derive(Template)]
#[template(path = "network.html")]
pub struct NetworkPage {
    pub layout: Layout,
    pub ap: ApView,
    pub edits: NetEdits,
    /// On a hub: the devices that saw it.
    pub seen_by: Option<Vec<SeenBy>>,
    pub max_label: usize,
    pub max_note: usize,
    pub sightings: Vec<SightingRow>,
    pub clients: Vec<ClientRow>,
    /// `/networks/<bssid>/signal.svg`
    pub chart_url: String,
}

/// A client seen with the network.
pub struct ClientRow {
    pub mac: String,
    pub vendor: String,
    pub randomized: bool,
    pub frames: u64,
    pub signal: String,
    pub last_seen: String,
}

impl ClientRow {
    fn new(c: &ClientRecord) -> ClientRow {
        ClientRow {
            mac: c.mac.to_string(),
            vendor: c.vendor.clone().unwrap_or_default(),
            randomized: c.randomized,
            frames: c.frames,
            signal: opt_text(c.best_signal_dbm),
            last_seen: format::time_short(c.last_seen),
        }
    }
}

/// Sightings listed on the detail page (and in `/api/v1/networks/{bssid}`).
pub(super) const SIGHTINGS_SHOWN: usize = 20;
/// Sightings drawn in the signal chart (the newest ones), and in the API's signal series.
pub(super) const SIGHTINGS_CHARTED: usize = 500;
/// Clients listed on the detail page.
pub(super) const CLIENTS_SHOWN: usize = 100;

/// What the detail page and `/api/v1/networks/{bssid}` show of one network: the record, its
/// newest `sightings` observations (newest first) and its newest associated clients.
pub(super) struct Detail {
    pub ap: ApRecord,
    pub sightings: Vec<Observation>,
    pub clients: Vec<ClientRecord>,
    pub edits: NetEdits,
    /// On a hub: the devices its joined summary names; `None` elsewhere.
    pub seen_by: Option<Vec<SeenBy>>,
}

impl Detail {
    /// `None` when no network with that BSSID is stored.
    pub(super) async fn read(
        state: &AppState,
        mac: MacAddr,
        sightings: usize,
    ) -> Result<Option<Detail>, WebError> {
        let is_hub = state.hub.is_some();
        state
            .read(move |s| {
                let Some(ap) = s.ap(mac)? else {
                    return Ok(None);
                };
                let sightings = s.observations_for(mac, sightings)?;
                // The clients table is far smaller than the networks'; a scan is fine.
                let mut clients: Vec<ClientRecord> = s
                    .all_clients()?
                    .into_iter()
                    .filter(|c| c.associated_bssid == Some(mac))
                    .collect();
                clients.sort_by_key(|c| std::cmp::Reverse(c.last_seen));
                clients.truncate(CLIENTS_SHOWN);
                let edits = NetEdits::of(&s.edits()?, mac);
                let seen_by = if is_hub {
                    let names: std::collections::HashMap<[u8; 16], String> = s
                        .hub_devices()?
                        .into_iter()
                        .map(|d| (d.id, d.name))
                        .collect();
                    let devices = s.hub_network(mac)?.map(|n| n.devices().clone());
                    Some(
                        devices
                            .into_iter()
                            .flatten()
                            .map(|d| SeenBy {
                                id: crate::accounts::to_hex(&d.0),
                                name: names.get(&d.0).cloned(),
                            })
                            .collect(),
                    )
                } else {
                    None
                };
                Ok(Some(Detail {
                    ap,
                    sightings,
                    clients,
                    edits,
                    seen_by,
                }))
            })
            .await
    }
}

/// The points of the signal chart: (time, dBm) of each sighting with a reading, in the order
/// given.
pub(super) fn signal_points(obs: &[Observation]) -> Vec<(crate::model::TimeUs, f64)> {
    obs.iter()
        .filter_map(|o| Some((o.time, f64::from(o.signal_dbm?))))
        .collect()
}

pub async fn network(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(bssid): Path<String>,
) -> Result<Response, WebError> {
    let Ok(mac) = MacAddr::from_str(&bssid) else {
        return not_found_page(
            &ctx,
            "That is not a BSSID (expected six hex octets, like 00:11:22:aa:bb:cc).",
        );
    };
    let Some(Detail {
        ap,
        sightings: obs,
        clients,
        edits,
        seen_by,
    }) = Detail::read(&state, mac, SIGHTINGS_SHOWN).await?
    else {
        return not_found_page(
            &ctx,
            &format!("No network with BSSID {mac} has been recorded."),
        );
    };
    let page = NetworkPage {
        layout: Layout::new("/networks", &ctx),
        ap: ApView::new(&ap),
        edits,
        seen_by,
        max_label: piwardrive_sync::edits::MAX_LABEL_LEN,
        max_note: piwardrive_sync::edits::MAX_NOTE_LEN,
        sightings: obs.iter().map(SightingRow::new).collect(),
        clients: clients.iter().map(ClientRow::new).collect(),
        chart_url: format!("/networks/{mac}/signal.svg"),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    pub layout: Layout,
    pub title: &'static str,
    pub message: &'a str,
}

fn not_found_page(ctx: &Ctx, message: &str) -> Result<Response, WebError> {
    message_page(ctx, StatusCode::NOT_FOUND, message)
}

/// A page that only says `message` (a refused form, a missing network), with `status`.
pub(super) fn message_page(
    ctx: &Ctx,
    status: StatusCode,
    message: &str,
) -> Result<Response, WebError> {
    let page = NotFoundPage {
        layout: Layout::new("", ctx),
        title: if status == StatusCode::NOT_FOUND {
            "Not found"
        } else {
            "Not done"
        },
        message,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// Any path no route matches.
pub async fn not_found(ctx: Ctx) -> Result<Response, WebError> {
    not_found_page(&ctx, "There is no page at this address.")
}

/// `GET /networks/{bssid}/signal.svg`: the signal of the newest sightings over time.
pub async fn signal_chart(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(bssid): Path<String>,
) -> Result<Response, WebError> {
    let Ok(mac) = MacAddr::from_str(&bssid) else {
        return not_found_page(&ctx, "That is not a BSSID.");
    };
    let obs = state
        .read(move |s| s.observations_for(mac, SIGHTINGS_CHARTED))
        .await?;
    let points = signal_points(&obs);
    let svg = super::chart::LineChart {
        points: &points,
        y_min: -100.0,
        y_max: -20.0,
        y_step: 20.0,
        unit: "",
        empty_text: "no signal readings",
        title: &format!("Signal of {mac} over time, dBm"),
    }
    .render();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        svg,
    )
        .into_response())
}
