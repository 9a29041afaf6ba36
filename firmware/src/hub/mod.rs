//! `piwardrive hub`, the home server's transport and trust: HTTPS with its own certificate, enrollment codes, device tokens, and the `/sync/v1` router whose requests carry the enrolled device.
//!
//! The hub is the appliance without capture or GPS (`appliance::run_hub`): the same store and
//! web UI, served over HTTPS by [`serve`], with [`sync_routes`] merged beside the UI's
//! router. The sync routes sit outside the web UI's `auth::gate` (devices have no session and
//! their tokens are not API tokens); [`require_device`] is their gate:
//!
//! - `POST /sync/v1/enroll` (no token): a code's secret, the device's id and name in, a new
//!   device token out (see [`code`] for the scheme, [`enroll`] for the exchange);
//! - everything else under `/sync/v1/` needs `Authorization: Bearer <device token>`; a
//!   missing, unknown, replaced or revoked token gets 401 with a one-line reason, and the
//!   handler gets the device as a [`SyncDevice`] request extension.
//!
//! Architecture Invariant: a device token is only ever compared by its SHA-256, which is
//! all the store holds (`store::HubDevice`); the token is shown once, to the device that
//! enrolled. Enrollment codes live in memory only, as SHA-256 of their secret, for
//! [`DEFAULT_CODE_TTL`], and are taken on first use.

pub mod code;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::accounts;
use crate::store::{Store, StoreError};

/// The default address of `piwardrive hub`.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8443";
/// How long an enrollment code stays valid.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Wrong enrollment secrets tolerated while codes are open; one more withdraws every open
/// code (the admin makes a new one), so guessing gets at most this many tries at 2^-50.
pub const MAX_FAILED_ENROLLS: u32 = 64;
/// Largest request body under `/sync/v1/`.
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;
/// Largest enrollment request.
const MAX_ENROLL_BODY: usize = 4 * 1024;
/// Enrollment codes open at a time (each is 32 bytes and an instant).
const MAX_OPEN_CODES: usize = 32;
/// How often the devices' last-seen times go to the store.
const SEEN_FLUSH_EVERY: Duration = Duration::from_secs(60);
/// The prefix of every device token.
pub const DEVICE_TOKEN_PREFIX: &str = "pwd_";

/// The enrolled device behind an authorised `/sync/v1` request: a request extension
/// (`Extension<SyncDevice>` in a handler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDevice {
    /// The device's store id (`Store::device_id` on the device).
    pub id: [u8; 16],
    pub name: String,
}

/// How `piwardrive hub` serves.
#[derive(Debug, Clone)]
pub struct HubOptions {
    pub listen: SocketAddr,
    /// Names and addresses the certificate carries besides the defaults
    /// ([`tls::default_names`]); used only when the certificate is made.
    pub extra_names: Vec<String>,
    /// Lifetime of enrollment codes.
    pub code_ttl: Duration,
}

impl Default for HubOptions {
    fn default() -> Self {
        HubOptions {
            listen: DEFAULT_LISTEN.parse().expect("a valid address"),
            extra_names: Vec::new(),
            code_ttl: DEFAULT_CODE_TTL,
        }
    }
}

/// The running hub's state: the store, its certificate's fingerprint, the open enrollment
/// codes and the devices' last-seen times not yet written. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    fingerprint: [u8; 32],
    cert_path: std::path::PathBuf,
    code_ttl: Duration,
    codes: Mutex<Codes>,
    /// Last-seen times (Unix µs) since the last write to the store.
    seen: Mutex<HashMap<[u8; 16], i64>>,
    /// Requests refused for their token, and enrollments refused for their code.
    refused: AtomicU64,
}

#[derive(Default)]
struct Codes {
    /// SHA-256 of each open code's secret, and when it expires.
    open: Vec<([u8; 32], Instant)>,
    /// Wrong secrets since codes were last all closed.
    failed: u32,
}

/// A new enrollment code, for the admin to type on the device.
#[derive(Debug, Clone, Serialize)]
pub struct NewCode {
    /// `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    pub expires_in_s: u64,
    /// The hub certificate's SHA-256 the code names (`AB:CD:...`), for the curious.
    pub fingerprint: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    pub fn new(store: Store, cert: &tls::HubCert, code_ttl: Duration) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                store,
                fingerprint: cert.fingerprint,
                cert_path: cert.cert_path.clone(),
                code_ttl,
                codes: Mutex::new(Codes::default()),
                seen: Mutex::new(HashMap::new()),
                refused: AtomicU64::new(0),
            }),
        }
    }

    /// The hub's store (the sync handlers write the devices' data into it).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// SHA-256 of the hub certificate's DER.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.inner.fingerprint
    }

    /// Where the certificate is (PEM), for the devices page and `curl --cacert`.
    pub fn cert_path(&self) -> &std::path::Path {
        &self.inner.cert_path
    }

    /// Requests refused so far for a bad device token or enrollment code.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Makes an enrollment code, valid for the configured lifetime, once.
    pub fn new_code(&self) -> Result<NewCode, accounts::AccountError> {
        let code = code::Code::generate(&self.inner.fingerprint)?;
        let now = Instant::now();
        let mut codes = lock(&self.inner.codes);
        codes.open.retain(|(_, until)| *until > now);
        if codes.open.len() >= MAX_OPEN_CODES {
            codes.open.remove(0);
        }
        codes
            .open
            .push((code::secret_hash(code.secret()), now + self.inner.code_ttl));
        Ok(NewCode {
            code: code.display(),
            expires_in_s: self.inner.code_ttl.as_secs(),
            fingerprint: tls::fingerprint_text(&self.inner.fingerprint),
        })
    }

    /// Enrollment codes open now.
    pub fn open_codes(&self) -> usize {
        let now = Instant::now();
        lock(&self.inner.codes)
            .open
            .iter()
            .filter(|(_, until)| *until > now)
            .count()
    }

    /// Takes the code whose secret is `secret`: true once, while it is open.
    fn take_code(&self, secret: &str) -> bool {
        let hash = code::secret_hash(secret);
        let now = Instant::now();
        let mut codes = lock(&self.inner.codes);
        codes.open.retain(|(_, until)| *until > now);
        if codes.open.is_empty() {
            codes.failed = 0;
        }
        let found = codes
            .open
            .iter()
            .position(|(h, _)| accounts::constant_time_eq(h, &hash));
        match found {
            Some(i) => {
                codes.open.remove(i);
                true
            }
            None => {
                codes.failed += 1;
                if codes.failed > MAX_FAILED_ENROLLS && !codes.open.is_empty() {
                    tracing::warn!(
                        "hub: {} wrong enrollment codes: every open code is withdrawn; make a \
                         new one on the Devices page",
                        codes.failed
                    );
                    codes.open.clear();
                    codes.failed = 0;
                }
                false
            }
        }
    }

    /// The device's last authorised request, as far as this process knows (newer than the
    /// store's until the next flush).
    pub fn last_seen(&self, id: &[u8; 16]) -> Option<i64> {
        lock(&self.inner.seen).get(id).copied()
    }

    fn note_seen(&self, id: [u8; 16], now_us: i64) {
        lock(&self.inner.seen).insert(id, now_us);
    }

    /// Writes the last-seen times gathered since the last call (a store write; call it from
    /// the blocking pool).
    pub fn flush_seen(&self) -> Result<(), StoreError> {
        let seen: Vec<([u8; 16], i64)> = lock(&self.inner.seen).drain().collect();
        let r = self.inner.store.note_hub_devices_seen(&seen);
        if r.is_err() {
            // Keep them for the next try (a newer time may have arrived meanwhile).
            let mut m = lock(&self.inner.seen);
            for (id, t) in seen {
                let e = m.entry(id).or_insert(t);
                *e = (*e).max(t);
            }
        }
        r
    }

    /// Runs a store call on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Response> {
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "hub: store access failed");
                Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the hub's store failed",
                ))
            }
            Err(e) => {
                tracing::error!(error = %e, "hub: store task failed");
                Err(error(StatusCode::INTERNAL_SERVER_ERROR, "the hub failed"))
            }
        }
    }
}

/// `{"error": msg}`; 401s say how to authenticate.
fn error(status: StatusCode, msg: &str) -> Response {
    let mut resp = (status, Json(serde_json::json!({ "error": msg }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"piwardrive-sync\""),
        );
    }
    resp
}

/// The routes devices talk to, under `/sync/v1/`: enrollment without a token, and
/// everything else behind [`require_device`]. Merge it beside `web::router` (outside the
/// UI's gate, which would take a device token for an unknown API token).
pub fn sync_routes(hub: &Hub) -> Router {
    let authorised = Router::new()
        .route("/sync/v1/whoami", get(whoami))
        .route(crate::replication::HELLO_PATH, post(sync_hello))
        .route(crate::replication::PUSH_PATH, post(sync_push))
        .route_layer(middleware::from_fn_with_state(hub.clone(), require_device))
        .layer(DefaultBodyLimit::max(MAX_SYNC_BODY));
    Router::new()
        .route(
            "/sync/v1/enroll",
            post(enroll).layer(DefaultBodyLimit::max(MAX_ENROLL_BODY)),
        )
        .merge(authorised)
        .layer(middleware::from_fn(no_store))
        .with_state(hub.clone())
}

/// `POST /sync/v1/hello`: the device's `Hello`, answered with the hub's and the edits it lacks.
async fn sync_hello(
    State(hub): State<Hub>,
    Extension(device): Extension<SyncDevice>,
    body: axum::body::Bytes,
) -> Response {
    sync_answer(hub, device, body, crate::replication::hub::hello).await
}

/// `POST /sync/v1/push`: batches and edits, applied in one durable transaction; answered with
/// the acknowledgements.
async fn sync_push(
    State(hub): State<Hub>,
    Extension(device): Extension<SyncDevice>,
    body: axum::body::Bytes,
) -> Response {
    sync_answer(hub, device, body, crate::replication::hub::push).await
}

/// One of `replication::hub`'s request handlers.
type SyncHandler = fn(
    &Store,
    piwardrive_sync::DeviceId,
    &[u8],
) -> Result<Vec<u8>, crate::replication::hub::SyncRequestError>;

/// Runs a sync request on the blocking pool (it reads or writes the store) and answers with
/// its messages, or with the status and message of its refusal.
async fn sync_answer(
    hub: Hub,
    device: SyncDevice,
    body: axum::body::Bytes,
    f: SyncHandler,
) -> Response {
    let id = piwardrive_sync::DeviceId(device.id);
    let store = hub.store().clone();
    let result = tokio::task::spawn_blocking(move || f(&store, id, &body)).await;
    match result {
        Ok(Ok(answer)) => (
            [(header::CONTENT_TYPE, crate::replication::CONTENT_TYPE)],
            answer,
        )
            .into_response(),
        Ok(Err(e)) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            tracing::warn!(device = %device.name, "sync: refused a request: {e}");
            (status, e.to_string()).into_response()
        }
        Err(e) => {
            tracing::error!("sync: a request's task failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Sync answers carry tokens and device data: never cached.
async fn no_store(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// `Authorization: Bearer <token>`.
fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn peer(req: &Request) -> String {
    req.extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or_else(|| "?".to_owned(), |c| c.0.to_string())
}

/// The gate of `/sync/v1/*` (but enrollment): the bearer token must be an enrolled device's
/// current token. Inserts the [`SyncDevice`] and notes the device as seen.
pub async fn require_device(State(hub): State<Hub>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let Some(token) = bearer(&req) else {
        hub.inner.refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(peer = %peer(&req), %path, "sync: refused a request without a device token");
        return error(
            StatusCode::UNAUTHORIZED,
            "no device token: enroll this device with `piwardrive sync enroll`",
        );
    };
    let hash = accounts::token_hash(token);
    let device = match hub.blocking(move |s| s.hub_device_by_token(&hash)).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let Some(device) = device else {
        hub.inner.refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(peer = %peer(&req), %path, "sync: refused an unknown or revoked device token");
        return error(
            StatusCode::UNAUTHORIZED,
            "unknown or revoked device token: enroll this device again",
        );
    };
    tracing::debug!(device = %accounts::to_hex(&device.id), %path, "sync: request");
    hub.note_seen(device.id, accounts::now_us());
    req.extensions_mut().insert(SyncDevice {
        id: device.id,
        name: device.name,
    });
    next.run(req).await
}

/// What `GET /sync/v1/whoami` answers: the device the token belongs to.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WhoAmI {
    pub device_id: String,
    pub name: String,
    pub hub_id: String,
}

async fn whoami(State(hub): State<Hub>, Extension(device): Extension<SyncDevice>) -> Response {
    Json(WhoAmI {
        device_id: accounts::to_hex(&device.id),
        name: device.name,
        hub_id: accounts::to_hex(&hub.store().device_id()),
    })
    .into_response()
}

/// `POST /sync/v1/enroll`'s body.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The secret part of the code (10 base32 characters).
    pub secret: String,
    /// The device's id, 32 hex digits.
    pub device_id: String,
    pub name: String,
}

/// Its answer.
#[derive(Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The device's token, shown this once.
    pub token: String,
    /// The hub's id (its store's id), 32 hex digits.
    pub hub_id: String,
    pub device_id: String,
    pub name: String,
}

impl std::fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("token", &"<redacted>")
            .field("hub_id", &self.hub_id)
            .field("device_id", &self.device_id)
            .field("name", &self.name)
            .finish()
    }
}

/// A device name: 1 to 64 characters, no control characters, not only spaces.
pub fn valid_device_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && !name.chars().any(char::is_control)
        && !name.trim().is_empty()
}

async fn enroll(State(hub): State<Hub>, req: Request) -> Response {
    let peer = peer(&req);
    let body = match axum::body::to_bytes(req.into_body(), MAX_ENROLL_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "enrollment request too large",
            );
        }
    };
    let r: EnrollRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("not an enrollment request: {e}"),
            );
        }
    };
    let Some(device_id) = accounts::from_hex::<16>(&r.device_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "device_id must be 32 hex digits (the device's store id)",
        );
    };
    if !valid_device_name(&r.name) {
        return error(
            StatusCode::BAD_REQUEST,
            "the device name must be 1 to 64 characters without control characters",
        );
    }
    if !hub.take_code(&r.secret) {
        hub.inner.refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, "hub: refused an enrollment: unknown, used or expired code");
        return error(
            StatusCode::FORBIDDEN,
            "the enrollment code is unknown, used or expired: make a new one on the hub's \
             Devices page",
        );
    }
    let (token, hash) = match accounts::random_bytes::<32>() {
        Ok(b) => {
            let t = format!("{DEVICE_TOKEN_PREFIX}{}", accounts::to_hex(&b));
            let h = accounts::token_hash(&t);
            (t, h)
        }
        Err(e) => {
            tracing::error!(error = %e, "hub: no randomness for a device token");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "the hub failed");
        }
    };
    let name = r.name.clone();
    let now = accounts::now_us();
    let stored = hub
        .blocking(move |s| s.enroll_hub_device(&device_id, &name, &hash, now))
        .await;
    if let Err(resp) = stored {
        return resp;
    }
    tracing::info!(
        %peer,
        device = %accounts::to_hex(&device_id),
        name = %r.name,
        "hub: device enrolled"
    );
    Json(EnrollResponse {
        token,
        hub_id: accounts::to_hex(&hub.store().device_id()),
        device_id: accounts::to_hex(&device_id),
        name: r.name,
    })
    .into_response()
}

/// How long a client may take to finish the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the web UI and the sync routes over HTTPS on `opts.listen` until `shutdown` is
/// cancelled: makes or loads the certificate, logs its fingerprint, writes the devices'
/// last-seen times every minute and once more at the end.
pub async fn serve(
    opts: HubOptions,
    store: Store,
    state: crate::web::AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let data_dir = store
        .path()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let names = tls::default_names(&opts.extra_names);
    let cert = tokio::task::spawn_blocking({
        let dir = data_dir.clone();
        move || tls::load_or_create(&dir, &names)
    })
    .await
    .context("the certificate task panicked")??;
    tracing::info!(
        "hub certificate {} ({}): SHA-256 fingerprint {}",
        cert.cert_path.display(),
        if cert.created { "made now" } else { "kept" },
        tls::fingerprint_text(&cert.fingerprint)
    );
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls::server_config(&cert)?));
    let hub = Hub::new(store, &cert, opts.code_ttl);
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {} for the hub: is another server using that port? \
                 Choose another address with --listen",
                opts.listen
            )
        })?;
    let local = listener
        .local_addr()
        .context("reading the hub's listening address")?;
    tracing::info!("hub listening on https://{local}/");
    crate::web::start_sampler(&state, &shutdown);
    let app = crate::web::router(state.with_hub(hub.clone())).merge(sync_routes(&hub));
    let flusher = tokio::spawn({
        let hub = hub.clone();
        let shutdown = shutdown.clone();
        async move {
            let mut every = tokio::time::interval(SEEN_FLUSH_EVERY);
            every.tick().await;
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    () = shutdown.cancelled() => break,
                }
                flush(&hub).await;
            }
        }
    });
    crate::web::serve_http1(listener, app, Some(acceptor), shutdown).await;
    let _ = flusher.await;
    flush(&hub).await;
    tracing::info!("hub stopped");
    Ok(())
}

async fn flush(hub: &Hub) {
    let h = hub.clone();
    match tokio::task::spawn_blocking(move || h.flush_seen()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "hub: could not note the devices' last-seen times")
        }
        Err(e) => tracing::warn!(error = %e, "hub: the last-seen task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    fn hub(ttl: Duration) -> (tempfile::TempDir, Hub) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let cert = tls::load_or_create(dir.path(), &tls::default_names(&[])).unwrap();
        let hub = Hub::new(store, &cert, ttl);
        (dir, hub)
    }

    async fn call(hub: &Hub, req: axum::http::Request<Body>) -> (StatusCode, serde_json::Value) {
        let resp = sync_routes(hub).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    fn enroll_req(secret: &str, id: [u8; 16], name: &str) -> axum::http::Request<Body> {
        let body = serde_json::json!({
            "secret": secret, "device_id": accounts::to_hex(&id), "name": name,
        });
        axum::http::Request::post("/sync/v1/enroll")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    fn whoami_req(token: &str) -> axum::http::Request<Body> {
        axum::http::Request::get("/sync/v1/whoami")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn codes_are_single_use_and_tokens_name_their_device() {
        let (_d, hub) = hub(DEFAULT_CODE_TTL);
        let c = code::Code::parse(&hub.new_code().unwrap().code).unwrap();
        assert!(c.names(&hub.fingerprint()));
        let (st, v) = call(&hub, enroll_req(c.secret(), [1; 16], "van")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let token = v["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with(DEVICE_TOKEN_PREFIX));
        // The same code again: refused.
        let (st, v) = call(&hub, enroll_req(c.secret(), [2; 16], "bike")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        let (st, v) = call(&hub, whoami_req(&token)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["device_id"], accounts::to_hex(&[1; 16]));
        assert_eq!(v["name"], "van");
        assert!(hub.last_seen(&[1; 16]).is_some());
        hub.flush_seen().unwrap();
        assert!(
            hub.store()
                .hub_device(&[1; 16])
                .unwrap()
                .unwrap()
                .last_seen_us
                .is_some()
        );
        let (st, v) = call(&hub, whoami_req("pwd_00")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert!(v["error"].as_str().unwrap().contains("revoked"));
        // Bad bodies are named.
        let (st, v) = call(&hub, enroll_req("x", [1; 16], "")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("name"));
    }

    #[tokio::test]
    async fn too_many_wrong_secrets_withdraw_every_open_code() {
        let (_d, hub) = hub(DEFAULT_CODE_TTL);
        let c = code::Code::parse(&hub.new_code().unwrap().code).unwrap();
        for _ in 0..=MAX_FAILED_ENROLLS {
            assert!(!hub.take_code("0000000000"));
        }
        assert_eq!(hub.open_codes(), 0);
        assert!(!hub.take_code(c.secret()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_code_expires() {
        let (_d, hub) = hub(Duration::from_secs(600));
        let c = code::Code::parse(&hub.new_code().unwrap().code).unwrap();
        tokio::time::advance(Duration::from_secs(601)).await;
        assert!(!hub.take_code(c.secret()));
    }
}
