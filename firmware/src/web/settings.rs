//! The settings page: capture, GPS, hotspot, sync, storage and the WiGLE account, saved by the admin to the overlay file `<data_dir>/settings.toml`, which `run` merges over its configuration file.
//!
//! - `GET /settings`: every section with its saved values (the configuration file with the
//!   overlay over it, read afresh); a viewer sees them read-only.
//! - `POST /settings/{section}` (admin; the gate has checked the CSRF token): checks the
//!   section's fields one by one (a message per field), then the whole configuration with
//!   the overlay as it would be (the same strict parser and validation `run` uses), and only
//!   then writes the overlay: temporary file (mode 0600: it may hold the hotspot
//!   passphrase), fsync, rename, fsync of the directory. Invalid input writes nothing and
//!   the form comes back with the messages. A read-only data partition is said so.
//! - `POST /settings/restart` (admin, `run` only): the ordered restart of `appliance::run`,
//!   which then reads the configuration and the overlay again.
//!
//! What applies when: the storage reserve at once (it is read by the store writer before
//! every commit); capture and GPS at the restart; the hotspot at the next boot (the system
//! image reads it); the sync hub URL is the enrollment form's default (sync uses the enrolled hub); the WiGLE
//! account at the next upload (the Exports page reads it afresh each time).
//! - `POST /settings/enroll` (admin): enrolls the device with a hub (URL and code) and
//!   saves `<data_dir>/upstream.toml`; the sync section shows the enrollment.
//!
//! Under `demo` there is no configuration file and nothing to restart: the overlay goes to
//! the demo's temporary directory and changes nothing in the running demo.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::auth::Ctx;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::accounts::Role;
use crate::capture::hopper::{ChannelRef, band_key, parse_band};
use crate::config::{self, Config, Layers, Mode, OVERLAY_FILE};
use crate::store::Reserve;

/// The settings of a running web UI: the layers it merges and what it may change live.
/// Cheap to clone.
#[derive(Clone)]
pub struct SettingsState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The configuration file without its `[web]` table; empty without one.
    file: toml::Table,
    file_path: Option<PathBuf>,
    overlay_path: PathBuf,
    /// The overlay `run` started with; `None` under `demo`, where nothing runs from it.
    started: Option<Option<toml::Table>>,
    /// The store writer's free-space reserve, changed live on save (`run` only).
    reserve: Option<Reserve>,
    /// Cancelled by the restart button (`run` only).
    restart: Option<CancellationToken>,
    /// One save at a time: each one reads the overlay, changes a section and writes it.
    saving: tokio::sync::Mutex<()>,
}

impl SettingsState {
    /// Settings without a running appliance behind them (`demo`): the overlay lives in
    /// `data_dir`, there is no configuration file and nothing restarts.
    pub fn for_demo(data_dir: &Path) -> SettingsState {
        SettingsState {
            inner: Arc::new(Inner {
                file: toml::Table::new(),
                file_path: None,
                overlay_path: data_dir.join(OVERLAY_FILE),
                started: None,
                reserve: None,
                restart: None,
                saving: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The settings of `piwardrive run`: the layers it was started from, the store writer's
    /// reserve, and the token its restart button cancels.
    pub fn for_run(layers: Layers, reserve: Reserve, restart: CancellationToken) -> SettingsState {
        SettingsState {
            inner: Arc::new(Inner {
                file: layers.file,
                file_path: layers.file_path,
                overlay_path: layers.overlay_path,
                started: Some(layers.overlay),
                reserve: Some(reserve),
                restart: Some(restart),
                saving: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The configuration as saved now: the file with the overlay as it is on disk (read on
    /// the caller's thread). What a WiGLE upload started from the page uses.
    pub(super) fn current(&self) -> Result<Config, String> {
        let overlay = config::read_overlay(&self.inner.overlay_path).map_err(|e| e.to_string())?;
        self.merged(overlay.as_ref()).map(|(_, c)| c)
    }

    fn is_demo(&self) -> bool {
        self.inner.started.is_none()
    }

    /// The configuration file merged with `overlay`, parsed and validated as `run` does.
    fn merged(&self, overlay: Option<&toml::Table>) -> Result<(toml::Table, Config), String> {
        let mut t = self.inner.file.clone();
        if let Some(o) = overlay {
            config::merge(&mut t, o);
        }
        let origin = format!("settings with {}", self.inner.overlay_path.display());
        let c = Config::from_table(&t, &origin).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok((t, c))
    }
}

/// The sections of the page, in page order; each is one form and one `POST`.
const SECTIONS: [&str; 6] = ["capture", "gps", "hotspot", "sync", "storage", "wigle"];

/// What a field shows: its value and, after a refused save, why.
#[derive(Default, Clone)]
pub struct Field {
    pub value: String,
    pub error: Option<String>,
}

/// One capture source's form.
pub struct SourceForm {
    pub index: usize,
    pub interface: Field,
    pub mode: String,
    pub filter: String,
    pub dwell_ms: Field,
    /// ("2.4", checked), ...
    pub bands: Vec<(&'static str, bool)>,
    pub bands_error: Option<String>,
    pub channels: Field,
    pub lock: Field,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    /// An admin logged in with a password may save; everyone else reads.
    editable: bool,
    demo: bool,
    restartable: bool,
    config_file: String,
    overlay_path: String,
    /// The data partition is mounted read-only: saving cannot work.
    read_only: bool,
    /// The overlay on disk could not be read (edited by hand): values are the file's.
    overlay_error: Option<String>,
    /// Saved changes that wait for a restart.
    pending_restart: bool,
    /// The section just saved (after the redirect).
    saved: Option<&'static str>,
    /// A refused save: the section and the message for it as a whole.
    refused: Option<(&'static str, String)>,
    sources: Vec<SourceForm>,
    gps_enabled: bool,
    gps_set_clock: bool,
    gpsd: Field,
    ssid: Field,
    passphrase_set: bool,
    passphrase: Field,
    country: Field,
    hub_url: Field,
    reserve_mb: Field,
    wigle_name: Field,
    wigle_token_set: bool,
    wigle_token: Field,
    wigle_donate: bool,
    reserve_default: u64,
    reserve_live: Option<u64>,
    /// The hub this device is enrolled with (`<data_dir>/upstream.toml`).
    upstream: Option<UpstreamView>,
    /// The enrollment form's URL (the configured hub URL until one is typed).
    enroll_url: String,
    /// The outcome of `POST /settings/enroll`: `Ok(message)` or `Err(message)`.
    enrolled: Option<Result<String, String>>,
    /// The home exclusion zones (the user's edits, synced): (id, lat, lon, radius m).
    zones: Vec<(String, String, String, u32)>,
    /// Why a zone was not added or removed.
    zone_error: Option<String>,
}

/// What the sync section shows of the enrollment (never the token).
struct UpstreamView {
    hub_url: String,
    hub_id: String,
    pin: String,
    device_name: String,
    enrolled_at: String,
}

impl SettingsPage {
    fn refused_in(&self, section: &str) -> Option<&str> {
        match &self.refused {
            Some((s, m)) if *s == section => Some(m.as_str()),
            _ => None,
        }
    }

    fn is_saved(&self, section: &str) -> bool {
        self.saved == Some(section)
    }
}

/// The values a page shows, from a validated configuration.
fn fill(page: &mut SettingsPage, c: &Config) {
    page.sources = c
        .sources
        .iter()
        .enumerate()
        .map(|(index, s)| SourceForm {
            index,
            interface: value(&s.interface),
            mode: mode_name(s.mode).to_owned(),
            filter: match s.filter {
                config::Filter::Wardrive => "wardrive",
                config::Filter::Survey => "survey",
            }
            .to_owned(),
            dwell_ms: value(&s.hop.dwell_ms.to_string()),
            bands: BANDS
                .iter()
                .map(|&b| (b, s.hop.bands.iter().any(|x| band_key(x.0) == b)))
                .collect(),
            bands_error: None,
            channels: value(
                &s.hop
                    .channels
                    .iter()
                    .map(|c| c.0.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            lock: value(&s.hop.lock.map(|c| c.0.to_string()).unwrap_or_default()),
        })
        .collect();
    page.gps_enabled = c.gps.enabled;
    page.gps_set_clock = c.gps.set_clock;
    page.gpsd = value(&c.gps.gpsd);
    page.ssid = value(c.hotspot.ssid.as_deref().unwrap_or(""));
    page.passphrase_set = c.hotspot.passphrase.is_some();
    page.country = value(c.hotspot.country.as_deref().unwrap_or(""));
    page.hub_url = value(c.sync.hub_url.as_deref().unwrap_or(""));
    page.reserve_mb = value(&c.storage.reserve_free_mb.to_string());
    page.wigle_name = value(c.wigle.api_name.as_deref().unwrap_or(""));
    page.wigle_token_set = c.wigle.api_token.is_some();
    page.wigle_donate = c.wigle.donate;
}

const BANDS: [&str; 3] = ["2.4", "5", "6"];

fn value(v: &str) -> Field {
    Field {
        value: v.to_owned(),
        error: None,
    }
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Auto => "auto",
        Mode::Monitor => "monitor",
        Mode::Scan => "scan",
    }
}

/// A page with the saved values; the caller adds a save's outcome.
async fn base_page(state: &AppState, ctx: &Ctx) -> SettingsPage {
    let s = &state.settings;
    let overlay = match tokio::task::spawn_blocking({
        let p = s.inner.overlay_path.clone();
        move || config::read_overlay(&p)
    })
    .await
    {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let (overlay, mut overlay_error) = match overlay {
        Ok(o) => (o, None),
        Err(e) => (None, Some(e)),
    };
    let merged = match s.merged(overlay.as_ref()) {
        Ok((_, c)) => c,
        Err(e) => {
            overlay_error.get_or_insert(e);
            s.merged(None).map(|(_, c)| c).unwrap_or_default()
        }
    };
    let pending_restart = match &s.inner.started {
        Some(started) => ["gps", "sources"].iter().any(|k| {
            let now = overlay.as_ref().and_then(|o| o.get(*k));
            let then = started.as_ref().and_then(|o| o.get(*k));
            now != then
        }),
        None => false,
    };
    let editable = ctx
        .principal
        .as_ref()
        .is_some_and(|p| p.role == Role::Admin && !ctx.csrf.is_empty());
    let dir = s
        .inner
        .overlay_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut page = SettingsPage {
        layout: Layout::new("/settings", ctx),
        editable,
        demo: s.is_demo(),
        restartable: s.inner.restart.is_some(),
        config_file: s
            .inner
            .file_path
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string()),
        overlay_path: s.inner.overlay_path.display().to_string(),
        read_only: mounted_read_only(&dir),
        overlay_error,
        pending_restart,
        saved: None,
        refused: None,
        sources: Vec::new(),
        gps_enabled: true,
        gps_set_clock: true,
        gpsd: Field::default(),
        ssid: Field::default(),
        passphrase_set: false,
        passphrase: Field::default(),
        country: Field::default(),
        hub_url: Field::default(),
        reserve_mb: Field::default(),
        wigle_name: Field::default(),
        wigle_token_set: false,
        wigle_token: Field::default(),
        wigle_donate: false,
        reserve_default: config::DEFAULT_RESERVE_FREE_MB,
        reserve_live: s.inner.reserve.as_ref().map(|r| r.bytes() / (1024 * 1024)),
        upstream: None,
        enroll_url: String::new(),
        enrolled: None,
        zones: Vec::new(),
        zone_error: None,
    };
    match state.read(|s| s.edits()).await {
        Ok(edits) => {
            page.zones = edits
                .zones()
                .iter()
                .map(|z| {
                    (
                        super::edits::zone_id(z),
                        format!("{:.7}", f64::from(z.lat_e7) / 1e7),
                        format!("{:.7}", f64::from(z.lon_e7) / 1e7),
                        z.radius_m,
                    )
                })
                .collect();
        }
        Err(e) => page.zone_error = Some(format!("The zones could not be read: {e}")),
    }
    fill(&mut page, &merged);
    page.enroll_url = page.hub_url.value.clone();
    match tokio::task::spawn_blocking(move || crate::upstream::Upstream::load(&dir)).await {
        Ok(Ok(Some(up))) => {
            page.upstream = Some(UpstreamView {
                pin: up.pin_text(),
                hub_url: up.hub_url,
                hub_id: up.hub_id,
                device_name: up.device_name,
                enrolled_at: up.enrolled_at,
            })
        }
        Ok(Ok(None)) => {}
        Ok(Err(e)) => page.enrolled = Some(Err(e.to_string())),
        Err(e) => page.enrolled = Some(Err(e.to_string())),
    }
    page
}

#[derive(Deserialize)]
pub struct EnrollForm {
    hub_url: String,
    code: String,
    #[serde(default)]
    name: String,
}

/// `POST /settings/enroll` (admin): enrolls this device with the hub at the URL with the
/// code from the hub's Devices page (see [`crate::upstream::enroll`]), checks the new token
/// through the pinned client, saves `<data_dir>/upstream.toml`, and shows the outcome in
/// the sync section.
pub async fn enroll(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<EnrollForm>,
) -> Result<Response, WebError> {
    let dir = state
        .settings
        .inner
        .overlay_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let url = f.hub_url.trim().to_owned();
    let name = match f.name.trim() {
        "" => crate::upstream::default_name(),
        n => n.to_owned(),
    };
    let device_id = state.store.device_id();
    let outcome = async {
        let up = crate::upstream::enroll(&url, &f.code, device_id, &name).await?;
        let me = crate::upstream::Client::new(&up)?.whoami().await?;
        if me.device_id != up.device_id {
            return Err(crate::upstream::UpstreamError::Invalid(
                "the hub takes the new token for another device".into(),
            ));
        }
        let save_dir = dir.clone();
        let saved = up.clone();
        tokio::task::spawn_blocking(move || saved.save(&save_dir))
            .await
            .map_err(|e| crate::upstream::UpstreamError::Setup(e.to_string()))??;
        Ok(up)
    }
    .await;
    let mut page = base_page(&state, &ctx).await;
    let status = match outcome {
        Ok(up) => {
            tracing::info!(hub = %up.hub_url, hub_id = %up.hub_id, "enrolled with a hub");
            page.enrolled = Some(Ok(format!(
                "Enrolled with the hub at {} as \u{201c}{}\u{201d}; its certificate is pinned.",
                up.hub_url, up.device_name
            )));
            StatusCode::OK
        }
        Err(e) => {
            tracing::warn!(error = %e, "enrollment with a hub failed");
            page.enroll_url = url;
            page.enrolled = Some(Err(format!("Not enrolled: {e}")));
            StatusCode::BAD_REQUEST
        }
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /settings`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let mut page = base_page(&state, &ctx).await;
    page.saved = q
        .saved
        .as_deref()
        .and_then(|s| SECTIONS.iter().find(|x| **x == s).copied());
    Ok(Html(page.render()?).into_response())
}

/// The settings page with `msg` in the zones section, 400: a zone not added or removed.
pub(super) async fn zone_refused(
    state: &AppState,
    ctx: &Ctx,
    msg: String,
) -> Result<Response, WebError> {
    let mut page = base_page(state, ctx).await;
    page.zone_error = Some(msg);
    Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
}

/// The form as posted: every field, repeated names (the band checkboxes) kept in order.
struct Posted(Vec<(String, String)>);

impl Posted {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// A section's new overlay keys, or the messages per field (keyed as in the configuration:
/// `hotspot.ssid`, `sources[0].hop.lock`).
type Built = Result<toml::Table, BTreeMap<String, String>>;

/// `POST /settings/{section}`.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    UrlPath(section): UrlPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let Some(section) = SECTIONS.iter().find(|s| **s == section).copied() else {
        return super::pages::not_found(ctx).await;
    };
    let posted = Posted(fields);
    let s = state.settings.clone();
    let _one_at_a_time = s.inner.saving.lock().await;
    let overlay_path = s.inner.overlay_path.clone();
    let current = tokio::task::spawn_blocking(move || config::read_overlay(&overlay_path))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let current = match current {
        Ok(o) => o.unwrap_or_default(),
        Err(e) => {
            return refuse(
                &state,
                &ctx,
                section,
                &posted,
                BTreeMap::new(),
                format!("The saved settings cannot be read, so nothing was saved: {e}. Fix or remove that file."),
            )
            .await;
        }
    };
    let saved_merged = s
        .merged(Some(&current))
        .or_else(|_| s.merged(None))
        .map(|(t, _)| t)
        .unwrap_or_default();
    let built = match section {
        "capture" => build_capture(&posted, &saved_merged),
        "gps" => build_gps(&posted),
        "hotspot" => build_hotspot(&posted, &current),
        "sync" => build_sync(&posted),
        "wigle" => build_wigle(&posted, &current),
        _ => build_storage(&posted),
    };
    let keys = match built {
        Ok(k) => k,
        Err(errors) => {
            return refuse(
                &state,
                &ctx,
                section,
                &posted,
                errors,
                "Not saved: correct the fields marked below.".into(),
            )
            .await;
        }
    };
    let mut overlay = current;
    if section == "capture" {
        // The whole list replaces the old one.
        if let Some(v) = keys.get("sources") {
            overlay.insert("sources".to_owned(), v.clone());
        }
    } else {
        // A table section: its keys replace the saved ones; a key left empty on the page
        // (no hotspot SSID) is removed, so the layer below applies again.
        let mut t = match overlay.remove(section) {
            Some(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        };
        for (k, v) in keys {
            match v {
                toml::Value::String(s) if s.is_empty() => {
                    t.remove(&k);
                }
                v => {
                    t.insert(k, v);
                }
            }
        }
        if !t.is_empty() {
            overlay.insert(section.to_owned(), toml::Value::Table(t));
        }
    }
    // The whole configuration as `run` would read it next time, by the same parser.
    let text = match toml::to_string(&overlay) {
        Ok(t) => t,
        Err(e) => return Err(WebError::Internal(format!("encoding the settings: {e}"))),
    };
    let checked = config::parse_overlay(&text, &s.inner.overlay_path.display().to_string())
        .map_err(|e| e.to_string())
        .and_then(|o| s.merged(Some(&o)));
    let config = match checked {
        Ok((_, c)) => c,
        Err(e) => {
            return refuse(
                &state,
                &ctx,
                section,
                &posted,
                BTreeMap::new(),
                format!("Not saved: {e}"),
            )
            .await;
        }
    };
    let path = s.inner.overlay_path.clone();
    let written = tokio::task::spawn_blocking(move || write_atomically(&path, &header(&text)))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    if let Err(e) = written {
        let message = write_error(&s.inner.overlay_path, &e);
        tracing::error!("settings: {message}");
        return refuse(&state, &ctx, section, &posted, BTreeMap::new(), message).await;
    }
    if section == "storage"
        && let Some(r) = &s.inner.reserve
    {
        r.set(config.storage.reserve_free_mb * 1024 * 1024);
    }
    tracing::info!(
        "settings: {section} saved to {}",
        s.inner.overlay_path.display()
    );
    Ok(Redirect::to(&format!("/settings?saved={section}#{section}")).into_response())
}

/// The form again, with what was typed, the messages per field, and `message` for the
/// section; nothing was written.
async fn refuse(
    state: &AppState,
    ctx: &Ctx,
    section: &'static str,
    posted: &Posted,
    errors: BTreeMap<String, String>,
    message: String,
) -> Result<Response, WebError> {
    let mut page = base_page(state, ctx).await;
    let typed = |name: &str, key: &str| Field {
        value: posted.get(name).to_owned(),
        error: errors.get(key).cloned(),
    };
    match section {
        "capture" => {
            for s in &mut page.sources {
                let i = s.index;
                let n = |f: &str| format!("s{i}.{f}");
                let k = |f: &str| format!("sources[{i}].{f}");
                s.interface = typed(&n("interface"), &k("interface"));
                s.mode = posted.get(&n("mode")).to_owned();
                s.filter = posted.get(&n("filter")).to_owned();
                s.dwell_ms = typed(&n("dwell_ms"), &k("hop.dwell_ms"));
                let bands = posted.all(&n("bands"));
                s.bands = BANDS.iter().map(|&b| (b, bands.contains(&b))).collect();
                s.bands_error = errors.get(&k("hop.bands")).cloned();
                s.channels = typed(&n("channels"), &k("hop.channels"));
                s.lock = typed(&n("lock"), &k("hop.lock"));
            }
        }
        "gps" => {
            page.gps_enabled = posted.checked("enabled");
            page.gps_set_clock = posted.checked("set_clock");
            page.gpsd = typed("gpsd", "gps.gpsd");
        }
        "hotspot" => {
            page.ssid = typed("ssid", "hotspot.ssid");
            // A refused passphrase is not sent back into the page.
            page.passphrase = Field {
                value: String::new(),
                error: errors.get("hotspot.passphrase").cloned(),
            };
            page.country = typed("country", "hotspot.country");
        }
        "sync" => page.hub_url = typed("hub_url", "sync.hub_url"),
        "wigle" => {
            page.wigle_name = typed("api_name", "wigle.api_name");
            // A token, refused or not, is never sent back into the page.
            page.wigle_token = Field {
                value: String::new(),
                error: errors.get("wigle.api_token").cloned(),
            };
            page.wigle_donate = posted.checked("donate");
        }
        _ => page.reserve_mb = typed("reserve_free_mb", "storage.reserve_free_mb"),
    }
    page.refused = Some((section, message));
    Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
}

/// `[[sources]]` from the capture form. Each source starts from its saved table, so keys
/// the page does not show (`scan_interval_ms`, `hop.stride`, ...) keep their values.
fn build_capture(p: &Posted, saved: &toml::Table) -> Built {
    let saved_sources: Vec<toml::Table> = match saved.get("sources") {
        Some(toml::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_table().cloned().unwrap_or_default())
            .collect(),
        // No [[sources]] in any layer: the one default source.
        _ => vec![toml::Table::new()],
    };
    let mut errors = BTreeMap::new();
    let mut out = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, base) in saved_sources.into_iter().enumerate() {
        let n = |f: &str| format!("s{i}.{f}");
        let k = |f: &str| format!("sources[{i}].{f}");
        let mut t = base;
        let interface = p.get(&n("interface")).trim();
        if interface.is_empty() {
            errors.insert(
                k("interface"),
                "Name an interface (wlan1), a phy (phy1), or write auto.".into(),
            );
        } else if interface != "auto"
            && (interface.len() > 15
                || !interface
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            errors.insert(
                k("interface"),
                "An interface name is 1 to 15 letters, digits, dots, dashes or underscores.".into(),
            );
        } else if interface != "auto" && names.iter().any(|x| x == interface) {
            errors.insert(
                k("interface"),
                format!("{interface} is used by another source; an adapter can serve only one."),
            );
        } else {
            names.push(interface.to_owned());
        }
        t.insert("interface".into(), interface.into());
        let mode = p.get(&n("mode"));
        if !["auto", "monitor", "scan"].contains(&mode) {
            errors.insert(k("mode"), "Choose auto, monitor or scan.".into());
        }
        t.insert("mode".into(), mode.into());
        let filter = p.get(&n("filter"));
        if !["wardrive", "survey"].contains(&filter) {
            errors.insert(k("filter"), "Choose wardrive or survey.".into());
        }
        t.insert("filter".into(), filter.into());
        let mut hop = match t.remove("hop") {
            Some(toml::Value::Table(h)) => h,
            _ => toml::Table::new(),
        };
        match p.get(&n("dwell_ms")).trim().parse::<i64>() {
            Ok(ms) if (50..=60_000).contains(&ms) => {
                hop.insert("dwell_ms".into(), ms.into());
            }
            _ => {
                errors.insert(
                    k("hop.dwell_ms"),
                    "Write a whole number of milliseconds from 50 to 60000 (200 is 5 channels a second)."
                        .into(),
                );
            }
        }
        let mut bands = Vec::new();
        for b in p.all(&n("bands")) {
            match parse_band(b) {
                Some(band) => bands.push(toml::Value::from(band_key(band))),
                None => {
                    errors.insert(k("hop.bands"), format!("{b:?} is not a band."));
                }
            }
        }
        hop.insert("bands".into(), toml::Value::Array(bands));
        let mut channels = Vec::new();
        for c in p
            .get(&n("channels"))
            .split([',', ' '])
            .filter(|c| !c.trim().is_empty())
        {
            match c.parse::<ChannelRef>() {
                Ok(r) => channels.push(toml::Value::from(r.to_string())),
                Err(e) => {
                    errors.insert(k("hop.channels"), capitalise(&e.to_string()));
                }
            }
        }
        hop.insert("channels".into(), toml::Value::Array(channels));
        let lock = p.get(&n("lock")).trim();
        if lock.is_empty() {
            hop.remove("lock");
        } else {
            match lock.parse::<ChannelRef>() {
                Ok(r) => {
                    hop.insert("lock".into(), r.to_string().into());
                }
                Err(e) => {
                    errors.insert(k("hop.lock"), capitalise(&e.to_string()));
                }
            }
        }
        t.insert("hop".into(), toml::Value::Table(hop));
        out.push(toml::Value::Table(t));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut keys = toml::Table::new();
    keys.insert("sources".into(), toml::Value::Array(out));
    Ok(keys)
}

fn build_gps(p: &Posted) -> Built {
    let mut keys = toml::Table::new();
    let gpsd = p.get("gpsd").trim();
    if let Err(m) = config::check_gpsd_addr(gpsd) {
        return Err(BTreeMap::from([("gps.gpsd".into(), capitalise(&m))]));
    }
    keys.insert("enabled".into(), p.checked("enabled").into());
    keys.insert("gpsd".into(), gpsd.into());
    keys.insert("set_clock".into(), p.checked("set_clock").into());
    Ok(keys)
}

/// The hotspot: an empty SSID or country removes the key (the image's own applies); an
/// empty passphrase keeps the saved one (it is never sent to the page).
fn build_hotspot(p: &Posted, current: &toml::Table) -> Built {
    let mut errors = BTreeMap::new();
    let mut keys = toml::Table::new();
    // An SSID is taken as typed: spaces are valid in one.
    let ssid = p.get("ssid");
    if !ssid.is_empty()
        && let Err(m) = config::check_ssid(ssid)
    {
        errors.insert("hotspot.ssid".into(), format!("The SSID {m}."));
    }
    keys.insert("ssid".into(), ssid.into());
    let passphrase = p.get("passphrase");
    if passphrase.is_empty() {
        let kept = current
            .get("hotspot")
            .and_then(|h| h.get("passphrase"))
            .cloned();
        if let Some(v) = kept {
            keys.insert("passphrase".into(), v);
        }
    } else if let Err(m) = config::check_passphrase(passphrase) {
        errors.insert("hotspot.passphrase".into(), format!("The passphrase {m}."));
    } else {
        keys.insert("passphrase".into(), passphrase.into());
    }
    let country = p.get("country").trim();
    if country.is_empty() {
        keys.insert("country".into(), "".into());
    } else {
        match config::check_country(country) {
            Ok(c) => {
                keys.insert("country".into(), c.into());
            }
            Err(m) => {
                errors.insert("hotspot.country".into(), capitalise(&m));
            }
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

fn build_sync(p: &Posted) -> Built {
    let url = p.get("hub_url").trim();
    if !url.is_empty()
        && let Err(m) = config::check_hub_url(url)
    {
        return Err(BTreeMap::from([(
            "sync.hub_url".into(),
            format!("The hub URL {m}."),
        )]));
    }
    Ok(toml::Table::from_iter([("hub_url".to_owned(), url.into())]))
}

/// `[wigle]`: the account and the donation choice. An empty token field keeps the saved
/// token (the page never shows it); an empty API name removes name and token both.
fn build_wigle(p: &Posted, current: &toml::Table) -> Built {
    let mut errors = BTreeMap::new();
    let mut keys = toml::Table::new();
    let name = p.get("api_name").trim();
    if !name.is_empty()
        && let Err(m) = config::check_wigle_credential(name, true)
    {
        errors.insert("wigle.api_name".into(), format!("The API name {m}."));
    }
    keys.insert("api_name".into(), name.into());
    let token = p.get("api_token").trim();
    if name.is_empty() {
        keys.insert("api_token".into(), "".into());
    } else if token.is_empty() {
        let kept = current
            .get("wigle")
            .and_then(|w| w.get("api_token"))
            .cloned();
        if let Some(v) = kept {
            keys.insert("api_token".into(), v);
        }
    } else if let Err(m) = config::check_wigle_credential(token, false) {
        errors.insert("wigle.api_token".into(), format!("The API token {m}."));
    } else {
        keys.insert("api_token".into(), token.into());
    }
    keys.insert("donate".into(), p.checked("donate").into());
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

fn build_storage(p: &Posted) -> Built {
    let bad = |m: String| Err(BTreeMap::from([("storage.reserve_free_mb".into(), m)]));
    let Ok(mb) = p.get("reserve_free_mb").trim().parse::<u64>() else {
        return bad("Write a whole number of MB (0 turns the reserve off).".into());
    };
    if let Err(m) = config::check_reserve_mb(mb) {
        return bad(capitalise(&m));
    }
    // TOML integers are i64; the check above keeps the value far below that.
    Ok(toml::Table::from_iter([(
        "reserve_free_mb".to_owned(),
        toml::Value::Integer(mb as i64),
    )]))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The overlay's first lines: what the file is, for whoever opens it.
fn header(body: &str) -> String {
    format!(
        "# PiWardrive settings saved on the settings page. `piwardrive run` reads this file\n\
         # over its configuration file (docs/configuration.md). Mode 0600: it may hold the\n\
         # hotspot passphrase.\n\n{body}"
    )
}

/// Replaces `path` with `text` so that a power cut leaves the old file or the new one,
/// never a mix: a temporary file beside it (mode 0600), fsync, rename over, fsync of the
/// directory.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("settings")
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        // `mode` applies only when the file is created; a leftover keeps its own.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The message for a failed write of the overlay.
fn write_error(path: &Path, e: &std::io::Error) -> String {
    let dir = path.parent().unwrap_or(path).display();
    if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem {
        format!(
            "Not saved: the data partition ({dir}) is mounted read-only, so nothing can be \
             written to it (after a failed file-system check the appliance mounts it so). \
             Recorded data is still shown; see the System page."
        )
    } else if matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)) {
        format!("Not saved: the data partition ({dir}) is full. Free space on it and try again.")
    } else {
        format!("Not saved: writing {} failed: {e}.", path.display())
    }
}

/// Whether the file system holding `dir` is mounted read-only (statvfs's ST_RDONLY).
fn mounted_read_only(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is writable memory of the right
    // type; statvfs fills it completely when it returns 0.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: statvfs returned 0, so the struct is initialised.
    let st = unsafe { st.assume_init() };
    st.f_flag & libc::ST_RDONLY != 0
}

#[derive(Template)]
#[template(path = "restarting.html")]
struct RestartingPage {
    layout: Layout,
}

/// `POST /settings/restart`: the ordered restart of `run` (sources, tracker and store, then
/// the web UI), which then reads the configuration and the overlay again. Under `demo`
/// there is nothing to restart.
pub async fn restart(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let Some(token) = &state.settings.inner.restart else {
        let mut page = base_page(&state, &ctx).await;
        page.refused = Some((
            "restart",
            "This is the demo: it has no configuration to restart from. Saved settings are \
             kept in its temporary directory until it stops."
                .into(),
        ));
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    };
    tracing::info!(
        user = ctx.principal.as_ref().map_or("", |p| p.name.as_str()),
        "restart asked for on the settings page"
    );
    // Everyone logs in again after the restart (sessions live in memory). Ending them now
    // also ends the dashboards' event streams, which the web server would otherwise wait
    // for before it stops.
    let names = state.read(|s| s.users()).await?;
    for u in names {
        state.auth.end_sessions_of(&u.name);
    }
    state.auth.end_sessions_of(crate::accounts::ADMIN);
    token.cancel();
    let page = RestartingPage {
        layout: Layout::new("/settings", &Ctx::default()),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_with_mode_0600() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(OVERLAY_FILE);
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomically(&p, "[sync]\nhub_url = \"https://hub.example\"\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "[sync]\nhub_url = \"https://hub.example\"\n"
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(OVERLAY_FILE)]);
        // A directory that is not there: an error, no file.
        let e = write_atomically(&d.path().join("gone/settings.toml"), "x").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_read_only_partition_is_named_in_the_message() {
        let p = Path::new("/data/settings.toml");
        // EROFS, as the kernel reports it for a read-only mount.
        let m = write_error(p, &std::io::Error::from_raw_os_error(libc::EROFS));
        assert!(m.contains("read-only") && m.contains("/data"), "{m}");
        let m = write_error(p, &std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(m.contains("full"), "{m}");
    }

    use super::super::tests::{Fixture, body, fixture, get, send};
    use axum::body::Body;
    use axum::http::{Request, header};

    /// The hidden CSRF field of a page.
    fn csrf_of(html: &str) -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    }

    async fn post(f: &Fixture, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = csrf_of(&body(get(f, "/settings").await).await);
        let mut all = fields.to_vec();
        all.push(("csrf", &csrf));
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
            .unwrap();
        send(f, req).await
    }

    fn overlay_path(f: &Fixture) -> PathBuf {
        f.state.settings.inner.overlay_path.clone()
    }

    /// The overlay as the `toml` crate reads it.
    fn overlay(f: &Fixture) -> toml::Table {
        std::fs::read_to_string(overlay_path(f))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The sync section's enrollment form against a real hub served over TLS in this
    /// process: a mistyped code is named and saves nothing; a good one enrolls this store's
    /// device, saves upstream.toml and shows the pin.
    #[tokio::test]
    async fn the_sync_section_enrolls_with_a_hub() {
        let f = fixture(Vec::new(), Vec::new());
        let hub_dir = tempfile::tempdir().unwrap();
        let hub_store = crate::store::Store::open(&hub_dir.path().join("hub.redb")).unwrap();
        let cert = crate::hub::tls::load_or_create(hub_dir.path(), &["localhost".into()]).unwrap();
        let hub = crate::hub::Hub::new(hub_store.clone(), &cert, crate::hub::DEFAULT_CODE_TTL);
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(
            crate::hub::tls::server_config(&cert).unwrap(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let server = tokio::spawn(crate::web::serve_http1(
            listener,
            crate::hub::sync_routes(&hub),
            Some(acceptor),
            stop.clone(),
        ));
        let dir = overlay_path(&f).parent().unwrap().to_path_buf();
        let resp = post(
            &f,
            "/settings/enroll",
            &[("hub_url", &url), ("code", "7K3Q-M9XD"), ("name", "van")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let html = body(resp).await;
        assert!(
            html.contains("Not enrolled: the enrollment code has 8"),
            "{html}"
        );
        assert!(!dir.join(crate::upstream::FILE).exists());
        let code = hub.new_code().unwrap().code;
        let resp = post(
            &f,
            "/settings/enroll",
            &[("hub_url", &url), ("code", &code), ("name", "van")],
        )
        .await;
        let status = resp.status();
        let html = body(resp).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Enrolled with the hub at"), "{html}");
        let pin = crate::hub::tls::fingerprint_text(&cert.fingerprint);
        assert!(html.contains(&pin), "{html}");
        let up = crate::upstream::Upstream::load(&dir).unwrap().unwrap();
        assert_eq!(up.pin_text(), pin);
        let enrolled = hub_store
            .hub_device(&f.state.store.device_id())
            .unwrap()
            .unwrap();
        assert_eq!(enrolled.name, "van");
        // The page shows the enrollment on a later visit too.
        let html = body(get(&f, "/settings").await).await;
        assert!(
            html.contains(&pin) && html.contains("Enroll again"),
            "{html}"
        );
        stop.cancel();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_saved_hotspot_is_in_the_overlay_and_shown_escaped() {
        let f = fixture(Vec::new(), Vec::new());
        let hostile = "\"><script>alert(1)</script>";
        let resp = post(
            &f,
            "/settings/hotspot",
            &[
                ("ssid", hostile),
                ("passphrase", "correct horse"),
                ("country", "de"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            resp.headers()[header::LOCATION],
            "/settings?saved=hotspot#hotspot"
        );
        let t = overlay(&f);
        assert_eq!(t["hotspot"]["ssid"].as_str(), Some(hostile));
        assert_eq!(t["hotspot"]["passphrase"].as_str(), Some("correct horse"));
        assert_eq!(t["hotspot"]["country"].as_str(), Some("DE"));
        let mode = std::fs::metadata(overlay_path(&f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The same strict parser `run` uses accepts it.
        let (_, c) = f.state.settings.merged(Some(&t)).unwrap();
        assert_eq!(c.hotspot.ssid.as_deref(), Some(hostile));
        let html = body(get(&f, "/settings?saved=hotspot").await).await;
        assert!(!html.contains("<script>alert(1)"), "unescaped markup");
        assert!(
            html.contains("value=\"&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;\""),
            "{html}"
        );
        assert!(html.contains("Saved."));
        // The passphrase never goes back to the page, but it is known to be set.
        assert!(!html.contains("correct horse"));
        assert!(html.contains("set; leave empty to keep it"));
        // Saving with an empty passphrase keeps it; an empty SSID removes the key.
        let resp = post(
            &f,
            "/settings/hotspot",
            &[("ssid", ""), ("passphrase", ""), ("country", "DE")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let t = overlay(&f);
        assert_eq!(t["hotspot"]["passphrase"].as_str(), Some("correct horse"));
        assert!(t["hotspot"].get("ssid").is_none(), "{t:?}");
    }

    #[tokio::test]
    async fn the_wigle_token_is_saved_kept_when_left_empty_and_never_shown() {
        let f = fixture(Vec::new(), Vec::new());
        let resp = post(
            &f,
            "/settings/wigle",
            &[
                ("api_name", "AIDme"),
                ("api_token", "tok3n-s3cret"),
                ("donate", "on"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let o = overlay(&f);
        assert_eq!(o["wigle"]["api_name"].as_str(), Some("AIDme"));
        assert_eq!(o["wigle"]["api_token"].as_str(), Some("tok3n-s3cret"));
        assert_eq!(o["wigle"]["donate"].as_bool(), Some(true));
        let html = body(get(&f, "/settings").await).await;
        assert!(!html.contains("tok3n"), "the token is never shown back");
        assert!(html.contains("set; leave empty to keep it"));
        // Saved again with the token field empty: the token stays.
        let resp = post(&f, "/settings/wigle", &[("api_name", "AIDme")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let o = overlay(&f);
        assert_eq!(o["wigle"]["api_token"].as_str(), Some("tok3n-s3cret"));
        assert_eq!(o["wigle"]["donate"].as_bool(), Some(false));
        // A bad token is refused by name, and not echoed.
        let resp = post(
            &f,
            "/settings/wigle",
            &[("api_name", "AIDme"), ("api_token", "has space")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let html = body(resp).await;
        assert!(
            html.contains("The API token may hold only printable ASCII"),
            "{html}"
        );
        assert!(!html.contains("has space"));
        // No API name: no account, the token goes too.
        let resp = post(&f, "/settings/wigle", &[("api_name", "")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert!(
            overlay(&f)
                .get("wigle")
                .and_then(|w| w.get("api_token"))
                .is_none()
        );
    }

    #[tokio::test]
    async fn invalid_values_come_back_with_a_message_per_field_and_nothing_is_written() {
        let f = fixture(Vec::new(), Vec::new());
        let long = "x".repeat(33);
        let resp = post(
            &f,
            "/settings/hotspot",
            &[("ssid", &long), ("passphrase", "short"), ("country", "DEU")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let html = body(resp).await;
        for m in [
            "Not saved: correct the fields marked below.",
            "The SSID must be 1 to 32 bytes; this one is 33",
            "The passphrase must be 8 to 63 characters; this one is 5",
            "&#34;DEU&#34; is not a two-letter country code",
        ] {
            assert!(html.contains(m), "{m} missing");
        }
        // What was typed is kept, except the passphrase.
        assert!(html.contains(&format!("value=\"{long}\"")));
        assert!(!html.contains("value=\"short\""));
        assert!(!overlay_path(&f).exists());
        for (path, fields, message) in [
            (
                "/settings/sync",
                vec![("hub_url", "http://hub.example.org")],
                "The hub URL must start with https://",
            ),
            (
                "/settings/storage",
                vec![("reserve_free_mb", "-5")],
                "Write a whole number of MB",
            ),
            (
                "/settings/gps",
                vec![("gpsd", "localhost"), ("enabled", "1")],
                "is not host:port",
            ),
            (
                "/settings/capture",
                vec![
                    ("s0.interface", "wlan1"),
                    ("s0.mode", "monitor"),
                    ("s0.filter", "wardrive"),
                    ("s0.dwell_ms", "20"),
                    ("s0.channels", "1, 7/1"),
                    ("s0.lock", ""),
                ],
                "from 50 to 60000",
            ),
        ] {
            let resp = post(&f, path, &fields).await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
            let html = body(resp).await;
            assert!(html.contains(message), "{path}: {message}");
            assert!(!overlay_path(&f).exists(), "{path} wrote");
        }
        // An unknown section is not a page.
        let resp = post(&f, "/settings/colour", &[("x", "y")]).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn capture_and_gps_keep_the_keys_the_page_does_not_show() {
        let f = fixture(Vec::new(), Vec::new());
        // A hand-written overlay with keys the page does not edit.
        std::fs::write(
            overlay_path(&f),
            "[gps]\nstale_after_ms = 5000\n[[sources]]\ninterface = \"wlan1\"\nscan_interval_ms = 4000\n[sources.hop]\nstride = 2\n",
        )
        .unwrap();
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("name=\"s0.interface\" value=\"wlan1\""));
        assert!(html.contains("Applies at the next restart."));
        let resp = post(
            &f,
            "/settings/capture",
            &[
                ("s0.interface", "wlan2"),
                ("s0.mode", "monitor"),
                ("s0.filter", "survey"),
                ("s0.dwell_ms", "250"),
                ("s0.bands", "2.4"),
                ("s0.bands", "5"),
                ("s0.channels", "1 6, 11 6/37"),
                ("s0.lock", "36"),
            ],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let resp = post(&f, "/settings/gps", &[("gpsd", "10.0.0.2:2947")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let t = overlay(&f);
        let s0 = &t["sources"][0];
        assert_eq!(s0["interface"].as_str(), Some("wlan2"));
        assert_eq!(s0["scan_interval_ms"].as_integer(), Some(4000));
        assert_eq!(s0["hop"]["stride"].as_integer(), Some(2));
        assert_eq!(s0["hop"]["dwell_ms"].as_integer(), Some(250));
        assert_eq!(s0["hop"]["lock"].as_str(), Some("36"));
        assert_eq!(s0["hop"]["channels"].as_array().unwrap().len(), 4, "{s0:?}");
        assert_eq!(t["gps"]["stale_after_ms"].as_integer(), Some(5000));
        assert_eq!(t["gps"]["enabled"].as_bool(), Some(false));
        assert_eq!(t["gps"]["gpsd"].as_str(), Some("10.0.0.2:2947"));
        // Read back as the configuration `run` would start with.
        let (_, c) = f.state.settings.merged(Some(&t)).unwrap();
        let s = c.validate().unwrap();
        assert_eq!(s.sources[0].hop.lock, Some(ChannelRef::Number(36)));
        assert_eq!(s.gpsd, None);
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("name=\"s0.channels\" value=\"1, 6, 11, 6/37\""));
        assert!(html.contains("value=\"survey\" selected"));
    }

    #[tokio::test]
    async fn under_run_the_reserve_applies_at_once_and_restart_stops_run() {
        let mut f = fixture(Vec::new(), Vec::new());
        let dir = overlay_path(&f).parent().unwrap().to_path_buf();
        let reserve = Reserve::new(100 * 1024 * 1024);
        let token = CancellationToken::new();
        let layers = Layers {
            file: toml::Table::new(),
            file_path: Some(dir.join("piwardrive.toml")),
            overlay_path: dir.join(OVERLAY_FILE),
            overlay: None,
        };
        f.state = f.state.clone().with_settings(SettingsState::for_run(
            layers,
            reserve.clone(),
            token.clone(),
        ));
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("in force now: 100 MB"));
        assert!(html.contains("Restart PiWardrive"));
        let resp = post(&f, "/settings/storage", &[("reserve_free_mb", "512")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(reserve.bytes(), 512 * 1024 * 1024);
        // A restart-only section saved: the page says it waits for the restart.
        let resp = post(
            &f,
            "/settings/gps",
            &[("gpsd", "127.0.0.1:2947"), ("enabled", "1")],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("waiting for a restart"));
        assert!(!token.is_cancelled());
        let resp = post(&f, "/settings/restart", &[]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(body(resp).await.contains("Restarting"));
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn the_demo_has_nothing_to_restart() {
        let f = fixture(Vec::new(), Vec::new());
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("This is the demo"));
        assert!(!html.contains("Restart PiWardrive"));
        let resp = post(&f, "/settings/restart", &[]).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(body(resp).await.contains("no configuration to restart"));
    }

    #[tokio::test]
    async fn a_viewer_sees_the_values_read_only_and_cannot_save() {
        let f = fixture(Vec::new(), Vec::new());
        std::fs::write(
            overlay_path(&f),
            "[sync]\nhub_url = \"https://hub.example.org/\"\n",
        )
        .unwrap();
        let viewer = f.login_as("vera", Role::Viewer);
        let req = Request::get("/settings")
            .header(header::COOKIE, &viewer)
            .body(Body::empty())
            .unwrap();
        let resp = send(&f, req).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let html = body(resp).await;
        assert!(html.contains("value=\"https://hub.example.org/\""));
        assert!(html.contains("<fieldset disabled>"));
        assert!(!html.contains("<button type=\"submit\">Save"));
        assert!(html.contains("shown read-only"));
        let csrf = csrf_of(&html);
        let req = Request::post("/settings/sync")
            .header(header::COOKIE, &viewer)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={csrf}&hub_url=https%3A%2F%2Fevil.example"
            )))
            .unwrap();
        assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
        // Without the CSRF token an admin is refused too.
        let req = Request::post("/settings/sync")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("hub_url=https%3A%2F%2Fevil.example"))
            .unwrap();
        assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            overlay(&f)["sync"]["hub_url"].as_str(),
            Some("https://hub.example.org/")
        );
    }

    /// A read-only data partition (a read-only tmpfs, as the appliance mounts /data after a
    /// failed fsck): the page says so and a save fails with that message. Mounting needs
    /// root (CAP_SYS_ADMIN); without it the test says so and checks nothing.
    #[tokio::test]
    async fn a_read_only_data_partition_is_said_and_refuses_saving() {
        let mut f = fixture(Vec::new(), Vec::new());
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            other => {
                eprintln!("SKIPPED: cannot mount a read-only tmpfs here: {other:?}");
                return;
            }
        }
        struct Unmount(PathBuf);
        impl Drop for Unmount {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(&self.0).status();
            }
        }
        let _unmount = Unmount(dir.path().to_path_buf());
        f.state = f
            .state
            .clone()
            .with_settings(SettingsState::for_demo(dir.path()));
        let html = body(get(&f, "/settings").await).await;
        assert!(html.contains("The data partition is mounted read-only"));
        let resp = post(&f, "/settings/storage", &[("reserve_free_mb", "50")]).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let html = body(resp).await;
        assert!(
            html.contains("is mounted read-only, so nothing can be written"),
            "{html}"
        );
        assert!(!dir.path().join(OVERLAY_FILE).exists());
    }
}
