//! The web UI: axum routes, askama pages and htmx fragments, and the JSON API beside them.
//!
//! API boundary: the binary builds an [`AppState`] around an open store and calls [`serve`]
//! (or mounts [`router`] itself). Everything read from the store is shown through
//! [`escape`]'s rules and askama's HTML escaping; no air data is ever marked safe.
//!
//! Access: [`auth::gate`] wraps every route (fallback included) and lets a request through
//! without a session or API token only on its allowlist (`/login`, `/setup` while no admin
//! exists, `/api/v1/system/health`, `/static/...`); it also enforces roles and CSRF tokens.
//! A route added here is protected without further ado.
//!
//! Routes (see DESIGN.md section 7 for the pages still to come):
//! - `GET /` (the dashboard), `GET /events/dashboard` (its live part, server-sent events)
//! - `GET /networks?page=N&sort=first|last|signal&q=&band=&sec=&hidden=&session=&ignored=hide|only&device=`
//!   (full page, or the `list` fragment for htmx; see [`filter`]; `device`, a device id in hex,
//!   on a hub)
//! - `GET /networks/{bssid}` (with "seen by" on a hub), `GET /networks/{bssid}/signal.svg`
//!   (its signal chart)
//! - admin only (see [`edits`]): `POST /networks/{bssid}/label`, `POST /networks/{bssid}/note`,
//!   `POST /networks/{bssid}/ignore` (`ignored=yes|no`), `POST /settings/zones` (add a home
//!   zone: `lat`, `lon`, `radius_m`), `POST /settings/zones/remove` (`zone`)
//! - `GET /static/{*path}` (from memory; hashed names cached immutably)
//! - `GET /map`, `GET /channels`, `GET /channels/{band}.svg`, `GET /capture` (the capture sources of
//!   `piwardrive run`), `GET /sessions`, `GET /exports`,
//!   `GET /exports/{format}?session=N` (a download, streamed), `GET /exports/wigle-upload` (the
//!   WiGLE uploads section alone, polled while one runs), `GET /system`,
//!   `GET /system/{metric}.svg`
//! - `GET /tiles/{z}/{x}/{y}` (XYZ; one raster tile of the MBTiles or PMTiles archive in
//!   `<data_dir>/tiles/`, see [`tiles`]: 404 when the archive has no such tile or there is no
//!   usable archive, 400 for coordinates outside the zoom's grid; any `?v=` is ignored, the map
//!   page sets it to bust caches)
//! - the JSON API (see [`api`]; every path is described in `openapi.json`, served at
//!   `GET /api/v1/openapi.json`): `GET /api/v1/dashboard`,
//!   `GET /api/v1/networks?page=N&sort=&q=&band=&sec=&hidden=&session=&ignored=&device=` (the
//!   list's filters), `GET /api/v1/networks/{bssid}` (detail, sightings, signal series,
//!   clients, the user's label, note and ignore, on a hub the devices that saw it),
//!   admin only: `PUT /api/v1/networks/{bssid}/label` and `/note` (`{"text"}`),
//!   `PUT /api/v1/networks/{bssid}/ignored` (`{"ignored"}`), `GET|POST /api/v1/zones`,
//!   `DELETE /api/v1/zones/{zone}`,
//!   `GET /api/v1/map/networks?session=N` (GeoJSON), `GET /api/v1/track?session=N`,
//!   `GET /api/v1/channels`, `GET /api/v1/sources`, `GET /api/v1/sessions`,
//!   `GET /api/v1/exports`, `GET /api/v1/system`, `GET /api/v1/system/history`,
//!   `GET /api/v1/system/health` (no login), `GET /api/v1/openapi.json`; any other path under
//!   `/api/` is a JSON 404
//! - `GET|POST /login`, `POST /logout`, `GET|POST /setup` (first visit only)
//! - `GET /settings` (read-only for viewers); admin only: `POST /settings/{section}` (section
//!   `capture`, `gps`, `hotspot`, `sync`, `storage` or `wigle`: saved to `<data_dir>/settings.toml`),
//!   `POST /settings/restart` (`run` only: the ordered restart); see [`settings`]
//! - admin only: `POST /exports/wigle-upload` (starts an upload to WiGLE in the background;
//!   see [`wigle`])
//! - admin only: `GET /accounts`, `POST /accounts/users`, `POST /accounts/users/remove`,
//!   `POST /accounts/tokens`, `POST /accounts/tokens/revoke`, `POST /accounts/password`
//! - admin only: `POST /settings/enroll` (enrolls this device with a hub: URL and code, see
//!   [`crate::upstream`]; the result is shown in the sync section)
//! - admin only, `piwardrive hub`'s (a page saying "not a hub" elsewhere):
//!   `GET /hub/devices` (make an enrollment code, list and revoke enrolled devices; see
//!   [`hub_devices`]), `POST /hub/devices/code`, `POST /hub/devices/revoke`,
//!   `POST /api/v1/hub/enroll-codes` (a new code as JSON, 201; 404 when not a hub)
//! - not in this router: the hub's `/sync/v1/...` routes, merged beside it by
//!   [`crate::hub::serve`] and gated by device tokens instead ([`crate::hub::sync_routes`])

mod api;
mod assets;
pub mod auth;
mod channels;
mod chart;
mod dashboard;
mod edits;
pub mod escape;
mod exports;
mod filter;
mod format;
mod hub_devices;
mod login;
pub(crate) mod map;
mod openapi;
mod pages;
mod settings;
mod sources;
mod system_page;
mod tiles;
mod wigle;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError};

pub use escape::display_ssid;
pub use format::time_iso;
pub use settings::SettingsState;

/// Networks per page, in the HTML list and the JSON API alike.
pub const PAGE_SIZE: usize = 50;

/// What every handler can reach. Cheap to clone: the store is an `Arc` inside.
#[derive(Clone)]
pub struct AppState {
    store: Store,
    /// The live capture sources; `None` when nothing captures (`demo`, a store being viewed).
    sources: Option<crate::appliance::Observers>,
    /// The host's recent readings, filled by [`serve`]'s sampler.
    history: system_page::History,
    /// Sessions, the login limiter and the configured admin password.
    auth: auth::Auth,
    /// The store writer's state when this process records (`run`): the dashboard says when
    /// recording has stopped (disk full, free-space reserve reached).
    writer: Option<crate::store::WriterStatus>,
    /// The settings page's layers and live handles.
    settings: settings::SettingsState,
    /// The offline map tiles in the data directory's `tiles/` folder.
    tiles: tiles::Tiles,
    /// The WiGLE upload the Exports page started, if any, and how the last one ended.
    wigle: wigle::UploadJob,
    /// The hub's enrollment and devices, when this process is `piwardrive hub`.
    hub: Option<crate::hub::Hub>,
    /// The device's sync with its hub, when this process is `piwardrive run`.
    sync: Option<tokio::sync::watch::Receiver<crate::replication::device::SyncStatus>>,
}

impl AppState {
    /// A UI over `store` with nothing running behind it but what shares the store (`demo`):
    /// the settings page saves its overlay beside the store and applies nothing.
    pub fn new(store: Store) -> AppState {
        let dir = store
            .path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        AppState {
            store,
            sources: None,
            history: system_page::History::default(),
            auth: auth::Auth::default(),
            writer: None,
            settings: SettingsState::for_demo(&dir),
            tiles: tiles::Tiles::new(&dir),
            wigle: wigle::UploadJob::default(),
            hub: None,
            sync: None,
        }
    }

    /// The same, as the UI of `piwardrive hub`: the devices page and enrollment codes work.
    pub fn with_hub(mut self, hub: crate::hub::Hub) -> AppState {
        self.hub = Some(hub);
        self
    }

    /// The same, showing the device's sync with its hub on the dashboard.
    pub fn with_sync(
        mut self,
        sync: tokio::sync::watch::Receiver<crate::replication::device::SyncStatus>,
    ) -> AppState {
        self.sync = Some(sync);
        self
    }

    /// The same, showing the state of the store writer that records into the store.
    pub fn with_writer(mut self, writer: crate::store::WriterStatus) -> AppState {
        self.writer = Some(writer);
        self
    }

    /// The same, with the settings of `piwardrive run` (its layers, reserve and restart).
    pub fn with_settings(mut self, settings: SettingsState) -> AppState {
        self.settings = settings;
        self
    }

    /// The same, with the admin's password from the configuration (`[web] admin_password`),
    /// as an argon2id PHC string: it is the admin's password, whatever the store holds, and
    /// `/setup` never opens.
    pub fn with_admin_password_hash(mut self, phc: String) -> AppState {
        self.auth = auth::Auth::new(Some(phc));
        self
    }

    /// The same, showing the capture sources of a running appliance.
    pub fn with_sources(mut self, observers: crate::appliance::Observers) -> AppState {
        self.sources = Some(observers);
        self
    }

    /// Runs a store read on the blocking pool: redb reads are synchronous and may wait on the
    /// SD card, which must not stall the async workers serving other requests.
    async fn read<T, F>(&self, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| WebError::Internal(format!("store read task failed: {e}")))?
            .map_err(WebError::Store)
    }
}

/// A request that could not be answered. Each variant becomes a plain-text response; the
/// details of internal failures are logged, and the store's own message (written for the
/// user: "disk full ... free space") is shown as it is.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("could not render the page: {0}")]
    Render(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "web request failed");
        let body = match &self {
            WebError::Store(e) => format!("PiWardrive could not read its store: {e}\n"),
            WebError::Render(_) | WebError::Internal(_) => {
                "PiWardrive hit an internal error building this page; the details are in the \
                 log.\n"
                    .to_owned()
            }
        };
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

/// The whole UI and API for `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/api/v1/dashboard", get(dashboard::api))
        .route("/events/dashboard", get(dashboard::events))
        .route("/networks", get(pages::networks))
        .route("/networks/{bssid}", get(pages::network))
        .route("/networks/{bssid}/signal.svg", get(pages::signal_chart))
        .route("/capture", get(sources::page))
        .route("/map", get(map::page))
        .route("/api/v1/track", get(map::track))
        .route("/tiles/{z}/{x}/{y}", get(tiles::tile))
        .route("/channels", get(channels::page))
        .route("/channels/{file}", get(channels::svg))
        .route("/api/v1/channels", get(channels::api))
        .route("/system", get(system_page::page))
        .route("/system/{file}", get(system_page::chart))
        .route("/api/v1/system", get(system_page::api))
        .route("/sessions", get(exports::sessions_page))
        .route("/exports", get(exports::exports_page))
        .route("/exports/{format}", get(exports::download))
        .route(
            "/exports/wigle-upload",
            get(wigle::section).post(wigle::start),
        )
        .route("/api/v1/sources", get(sources::api))
        .route("/static/{*path}", get(static_file))
        .route("/api/v1/networks", get(api::networks))
        .route("/api/v1/networks/{bssid}", get(api::network))
        .route("/api/v1/sessions", get(api::sessions))
        .route("/api/v1/exports", get(api::export_formats))
        .route("/api/v1/map/networks", get(api::map_networks))
        .route("/api/v1/system/history", get(api::system_history))
        .route("/api/v1/system/health", get(api::health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/setup", get(login::setup_page).post(login::setup))
        .route("/settings", get(settings::page))
        .route("/settings/restart", post(settings::restart))
        .route("/settings/{section}", post(settings::save))
        .route("/accounts", get(login::accounts_page))
        .route("/accounts/users", post(login::save_viewer))
        .route("/accounts/users/remove", post(login::remove_user))
        .route("/accounts/tokens", post(login::create_token))
        .route("/accounts/tokens/revoke", post(login::revoke_token))
        .route("/accounts/password", post(login::change_password))
        .route("/hub/devices", get(hub_devices::page))
        .route("/hub/devices/code", post(hub_devices::make_code))
        .route("/hub/devices/revoke", post(hub_devices::revoke))
        .route("/api/v1/hub/enroll-codes", post(hub_devices::api_make_code))
        .route("/settings/enroll", post(settings::enroll))
        .route("/networks/{bssid}/label", post(edits::post_label))
        .route("/networks/{bssid}/note", post(edits::post_note))
        .route("/networks/{bssid}/ignore", post(edits::post_ignore))
        .route("/settings/zones", post(edits::post_zone))
        .route("/settings/zones/remove", post(edits::post_zone_remove))
        .route("/api/v1/networks/{bssid}/label", put(edits::put_label))
        .route("/api/v1/networks/{bssid}/note", put(edits::put_note))
        .route("/api/v1/networks/{bssid}/ignored", put(edits::put_ignored))
        .route(
            "/api/v1/zones",
            get(edits::get_zones).post(edits::post_zone_api),
        )
        .route("/api/v1/zones/{zone}", delete(edits::delete_zone_api))
        .fallback(not_found)
        // Every route and the fallback pass the gate first; the security headers go on
        // every response, refusals included.
        .layer(middleware::from_fn_with_state(state.clone(), auth::gate))
        .layer(middleware::from_fn(security_headers))
        // gzip for clients that take it (pages, JSON, SVG, CSS, downloads). tower-http's
        // default predicate leaves out server-sent events, images and tiny bodies, and a
        // response that is already encoded (the vendored .gz assets) passes untouched.
        // The fastest level: compression is CPU spent on every request, and level 1 makes
        // a list page about 0.9 KB larger than the default level (docs/benchmarks.md).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .with_state(state)
}

/// Any path no route matches: a JSON 404 under `/api/`, the HTML page elsewhere.
async fn not_found(ctx: auth::Ctx, uri: axum::http::Uri) -> Result<Response, WebError> {
    if uri.path().starts_with("/api/") {
        return Ok(auth::json_error(
            StatusCode::NOT_FOUND,
            "no such API endpoint; GET /api/v1/openapi.json lists them",
        ));
    }
    pages::not_found(ctx).await
}

async fn static_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    assets::serve(&path, &headers)
}

/// The policy every response carries. Scripts and styles only from this origin (so a markup
/// SSID that slipped past escaping still could not run), no framing, no referrer leaking the
/// device's address to anything outside.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// Serves the UI on `listen` until `shutdown` is cancelled, then stops accepting and lets
/// requests in flight finish.
pub async fn serve(
    listen: SocketAddr,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {listen} for the web UI: is another PiWardrive (or another \
             server) using that port? Choose another address with the listen setting"
            )
        })?;
    let local = listener
        .local_addr()
        .context("reading the web UI's listening address")?;
    tracing::info!("web UI listening on http://{local}/");
    start_sampler(&state, &shutdown);
    serve_http1(listener, router(state), None, shutdown).await;
    tracing::info!("web UI stopped");
    Ok(())
}

/// Starts the task that samples the host's readings for the system page, until `shutdown`.
pub(crate) fn start_sampler(state: &AppState, shutdown: &CancellationToken) {
    let data_dir = state
        .store
        .path()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    tokio::spawn(state.history.clone().sample(data_dir, shutdown.clone()));
}

/// How long a client may take to send a request's headers before its connection is closed
/// (a phone on the hotspot sends them at once; a stalled connection only holds a slot).
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long requests in flight may take to finish once shutdown begins.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Accepts connections until `shutdown` is cancelled, then lets the requests in flight finish
/// (for at most [`SHUTDOWN_GRACE`]) and returns once every connection has closed.
///
/// Our own loop rather than `axum::serve`, for one setting axum does not expose: HTTP/1
/// half-close. A client may send its request and shut its sending side (busybox `nc`, which
/// scripts and probes on small systems use, does); hyper's default then drops the connection
/// without an answer whenever the handler has not finished by the time it reads that EOF -
/// an empty reply for every request that waits on the store. Each request carries the peer's
/// address (`ConnectInfo`), which the login limiter keys on.
///
/// With `tls` (the hub), each connection first completes a TLS handshake, within
/// [`crate::hub::TLS_HANDSHAKE_TIMEOUT`]; a handshake that fails or stalls closes that
/// connection only (logged at debug level), never the server.
pub(crate) async fn serve_http1(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    // Each connection task holds a receiver; when all are gone, `closed()` returns.
    let (conns_tx, conns_rx) = tokio::sync::watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: the listener is fine, wait a
                    // little instead of spinning.
                    tracing::warn!(error = %e, "web UI: could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = app
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let svc = TowerToHyperService::new(svc);
        let shutdown = shutdown.clone();
        let conns_rx = conns_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            use tokio_util::either::Either;
            let stream = match tls {
                None => Either::Left(stream),
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        crate::hub::TLS_HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    );
                    let done = tokio::select! {
                        r = handshake => r,
                        () = shutdown.cancelled() => return,
                    };
                    match done {
                        Ok(Ok(s)) => Either::Right(s),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .half_close(true)
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = shutdown.cancelled() => {
                    // Finish the request in flight, take no more on this connection; a
                    // response that never ends (a live page's event stream) or a long
                    // download is cut after the grace period.
                    conn.as_mut().graceful_shutdown();
                    match tokio::time::timeout(SHUTDOWN_GRACE, conn).await {
                        Ok(r) => r,
                        Err(_) => {
                            tracing::debug!(%peer, "web UI connection cut at shutdown");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "web UI connection ended with an error");
            }
            drop(conns_rx);
        });
    }
    drop(listener);
    drop(conns_rx);
    conns_tx.closed().await;
}
