//! Who may do what: sessions, API tokens, CSRF tokens, the login limiter, and the one middleware that decides every request's access.
//!
//! Architecture Invariant: [`gate`] wraps the whole router, fallback included, and lets a
//! request through without a session or token only when [`is_public`] (an allowlist) says so.
//! A route added later is therefore protected without anyone remembering to.
//!
//! - Sessions live in memory: a random 256-bit id in the `pw_session` cookie (HttpOnly,
//!   SameSite=Strict, Path=/), forgotten after [`SESSION_IDLE`] without a request. Restarting
//!   the appliance logs everyone out, which is acceptable for a device that restarts rarely
//!   and saves writing sessions to the SD card. The cookie is not `Secure`: the hotspot
//!   serves plain HTTP (there is no certificate a phone could trust offline), and a `Secure`
//!   cookie would never come back over it.
//! - CSRF: every request that is not GET, HEAD or OPTIONS must carry the session's token
//!   (form field `csrf` or header `X-CSRF-Token`; `base.html` puts it in both places), and
//!   must not come with a cross-origin `Origin` or `Sec-Fetch-Site: cross-site`. Without a
//!   session (the login and setup forms) the token is a random one in the `pw_csrf` cookie
//!   (double submit). Requests with an API token are exempt from the token check: a browser
//!   never adds an `Authorization: Bearer` header by itself, so they cannot be forged.
//! - Logins are limited per client address ([`Limiter`]).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tokio::time::Instant;

use super::AppState;
use crate::accounts::{self, Role};

/// A session unused this long is gone (the next request goes to the login page).
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most; past it, the longest idle one is dropped. A phone or two use the
/// device at a time, so this only bounds memory against a client that logs in in a loop.
const MAX_SESSIONS: usize = 256;

pub const SESSION_COOKIE: &str = "pw_session";
pub const PRE_SESSION_COOKIE: &str = "pw_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";
/// A form body larger than this is refused before its CSRF field is looked for.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// A token's last use is written at most this often.
const TOKEN_TOUCH_EVERY_US: i64 = 60_000_000;

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
}

/// The account (or token) behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub via: Via,
}

/// What the gate learnt about a request, for the handlers: who (if anyone) and the CSRF
/// token the page must put in its forms. Extract it as a handler argument.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub principal: Option<Principal>,
    pub csrf: String,
    /// The session's id when the request came with one; a long-lived response (an SSE
    /// stream) checks it to end when the session does.
    pub session_id: Option<[u8; 32]>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ctx, Self::Rejection> {
        Ok(parts.extensions.get::<Ctx>().cloned().unwrap_or_default())
    }
}

/// The client's address as the server saw it (`ConnectInfo`); 0.0.0.0 when unknown (a
/// router driven without a socket, as in tests), which then is one client for the limiter.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
        ))
    }
}

struct Session {
    user: String,
    role: Role,
    csrf: [u8; 32],
    last_seen: Instant,
}

/// Accounts state of a running web UI. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<AuthInner>,
}

struct AuthInner {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    limiter: Mutex<Limiter>,
    /// When each token's last use was last written (Unix µs), so that a burst of requests
    /// writes it once, not once per request in flight.
    touched: Mutex<HashMap<[u8; 32], i64>>,
    /// The argon2id hash of `[web] admin_password`, made at start-up; when set it is the
    /// admin's password, whatever the store holds.
    configured_admin: Option<String>,
    /// Set once an admin is known to exist, so that the setup check stops reading the store.
    admin_known: AtomicBool,
    /// argon2 at 19 MiB a hash: at most two at a time, so a burst of logins cannot exhaust
    /// a Pi Zero's memory.
    hashing: tokio::sync::Semaphore,
    /// Serialises `/setup`, so two first visits cannot both create the admin.
    setup: tokio::sync::Mutex<()>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth::new(None)
    }
}

impl Auth {
    /// `configured_admin`: the PHC hash of a configured admin password.
    pub fn new(configured_admin: Option<String>) -> Auth {
        Auth {
            inner: Arc::new(AuthInner {
                sessions: Mutex::new(HashMap::new()),
                limiter: Mutex::new(Limiter::default()),
                touched: Mutex::new(HashMap::new()),
                admin_known: AtomicBool::new(configured_admin.is_some()),
                configured_admin,
                hashing: tokio::sync::Semaphore::new(2),
                setup: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn configured_admin(&self) -> Option<&str> {
        self.inner.configured_admin.as_deref()
    }

    /// Held while `/setup` creates the admin.
    pub(super) async fn setup_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.setup.lock().await
    }

    pub(super) fn note_admin_exists(&self) {
        self.inner.admin_known.store(true, Ordering::Relaxed);
    }

    /// Runs a password hash or check on the blocking pool, two at a time.
    pub(super) async fn hash_work<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, super::WebError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|e| super::WebError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| super::WebError::Internal(format!("password hashing failed: {e}")))
    }

    /// Starts a session; returns its id (for the cookie).
    pub(super) fn start_session(
        &self,
        user: &str,
        role: Role,
    ) -> Result<[u8; 32], super::WebError> {
        let rand = |_| {
            accounts::random_bytes::<32>().map_err(|e| super::WebError::Internal(e.to_string()))
        };
        let id = rand(())?;
        let csrf = rand(())?;
        let now = Instant::now();
        let mut sessions = lock(&self.inner.sessions);
        sessions.retain(|_, s| now.duration_since(s.last_seen) < SESSION_IDLE);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            id,
            Session {
                user: user.to_owned(),
                role,
                csrf,
                last_seen: now,
            },
        );
        Ok(id)
    }

    /// Whether session `id` still exists (not logged out, not expired); counts as use.
    pub(super) fn session_alive(&self, id: &[u8; 32]) -> bool {
        self.session(id).is_some()
    }

    /// The live session `id`, refreshed; `None` when unknown or idle too long.
    fn session(&self, id: &[u8; 32]) -> Option<(Principal, [u8; 32])> {
        let now = Instant::now();
        let mut sessions = lock(&self.inner.sessions);
        let s = sessions.get_mut(id)?;
        if now.duration_since(s.last_seen) >= SESSION_IDLE {
            sessions.remove(id);
            return None;
        }
        s.last_seen = now;
        Some((
            Principal {
                name: s.user.clone(),
                role: s.role,
                via: Via::Session,
            },
            s.csrf,
        ))
    }

    pub(super) fn end_session(&self, id: &[u8; 32]) {
        lock(&self.inner.sessions).remove(id);
    }

    /// Ends every session of `user` (its password changed or it was removed).
    pub(super) fn end_sessions_of(&self, user: &str) {
        lock(&self.inner.sessions).retain(|_, s| s.user != user);
    }

    pub(super) fn limiter_check(&self, ip: IpAddr) -> Result<(), Duration> {
        lock(&self.inner.limiter).check(ip, Instant::now())
    }

    pub(super) fn limiter_failed(&self, ip: IpAddr) {
        lock(&self.inner.limiter).failed(ip, Instant::now());
    }

    pub(super) fn limiter_succeeded(&self, ip: IpAddr) {
        lock(&self.inner.limiter).succeeded(ip);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent even if a holder panicked (each change is one call).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Failed logins per client address.
///
/// Five failures within a minute lock the client out for a second; every further failure
/// (until a success, or a quarter of an hour without one) doubles the lock, up to five
/// minutes. While locked, a login attempt is answered 429 with `Retry-After` and the password
/// is not even checked. A success resets the client.
#[derive(Default)]
struct Limiter {
    clients: HashMap<IpAddr, Client>,
}

struct Client {
    /// Failures of the last [`Limiter::WINDOW`].
    recent: VecDeque<Instant>,
    /// Failures that locked the client, since it was last reset.
    strikes: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

impl Limiter {
    const WINDOW: Duration = Duration::from_secs(60);
    const FREE_FAILURES: usize = 5;
    const FIRST_LOCK: Duration = Duration::from_secs(1);
    const MAX_LOCK: Duration = Duration::from_secs(300);
    const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
    const MAX_CLIENTS: usize = 4096;

    fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        match self.clients.get(&ip).and_then(|c| c.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    fn failed(&mut self, ip: IpAddr, now: Instant) {
        if self.clients.len() >= Self::MAX_CLIENTS {
            self.clients
                .retain(|_, c| now.duration_since(c.last_failure) < Self::FORGET_AFTER);
        }
        let c = self.clients.entry(ip).or_insert_with(|| Client {
            recent: VecDeque::new(),
            strikes: 0,
            last_failure: now,
            locked_until: None,
        });
        if now.duration_since(c.last_failure) >= Self::FORGET_AFTER {
            c.strikes = 0;
        }
        c.last_failure = now;
        while c
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Self::WINDOW)
        {
            c.recent.pop_front();
        }
        c.recent.push_back(now);
        if c.recent.len() > Self::FREE_FAILURES {
            c.recent.pop_front();
        }
        if c.strikes > 0 || c.recent.len() >= Self::FREE_FAILURES {
            let lock = Self::FIRST_LOCK
                .saturating_mul(1 << c.strikes.min(16))
                .min(Self::MAX_LOCK);
            c.strikes += 1;
            c.locked_until = Some(now + lock);
        }
    }

    fn succeeded(&mut self, ip: IpAddr) {
        self.clients.remove(&ip);
    }
}

/// Paths anyone may reach. Everything else needs a session or a token.
pub fn is_public(path: &str, setup_open: bool) -> bool {
    matches!(path, "/login" | "/api/v1/system/health")
        || path.starts_with("/static/")
        || (path == "/setup" && setup_open)
}

/// Paths only an admin may reach, even to read.
pub fn is_admin_only(path: &str) -> bool {
    path == "/accounts"
        || path.starts_with("/accounts/")
        || path.starts_with("/api/v1/accounts")
        || path == "/hub"
        || path.starts_with("/hub/")
        || path.starts_with("/api/v1/hub/")
        || path == "/settings/enroll"
}

/// `next` if it is a path on this server, else `/`: a login link must never send the user
/// elsewhere (`//evil.example`, `/\evil.example` and `https://...` are all refused).
pub fn local_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/" }
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// `Set-Cookie` for a session or pre-session cookie: HttpOnly so scripts cannot read it,
/// SameSite=Strict so no other site's page can make the browser send it, Path=/ for the
/// whole UI. Not Secure (plain HTTP on the hotspot; see the module documentation).
pub fn set_cookie(name: &str, value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/"
    ))
    .expect("cookie names and hex values are valid header text")
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    ))
    .expect("valid header text")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A refusal with a plain-text reason.
pub fn plain(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

/// `{"error": msg}` with `status`.
pub fn json_error(status: StatusCode, msg: &str) -> Response {
    let mut resp = (status, axum::Json(serde_json::json!({ "error": msg }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"piwardrive\""),
        );
    }
    resp
}

/// True unless the request says it comes from another site: an `Origin` whose host is not
/// this `Host`, or `Sec-Fetch-Site: cross-site`. A request with neither header (curl, a
/// script) passes this check; the CSRF token is what protects browsers.
///
/// `Origin: null` says nothing: browsers send it for a form posted from a page served with
/// `Referrer-Policy: no-referrer`, which every page here is. Then `Sec-Fetch-Site` (and the
/// token) decide.
fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return false;
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null")
    else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
    });
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Sends a visitor without a login to `to`. A browser follows a 303 by itself; htmx's
/// requests would follow it too and swap the login page into a fragment (the capture page
/// polls every 2 s), so they get `HX-Redirect`, which htmx turns into a page load.
fn login_redirect(headers: &HeaderMap, to: &str) -> Response {
    let htmx = headers
        .get("hx-request")
        .is_some_and(|v| v.as_bytes() == b"true");
    if !htmx {
        return Redirect::to(to).into_response();
    }
    let mut resp = plain(StatusCode::UNAUTHORIZED, "Log in first.");
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert("hx-redirect", v);
    }
    resp
}

/// Whether `/setup` is open: no admin password configured and no admin account stored.
pub(super) async fn setup_open(state: &AppState) -> Result<bool, super::WebError> {
    if state.auth.inner.admin_known.load(Ordering::Relaxed) {
        return Ok(false);
    }
    let exists = state.read(|s| s.has_admin()).await?;
    if exists {
        state.auth.note_admin_exists();
    }
    Ok(!exists)
}

/// Looks a bearer token up in the store, noting its use.
async fn token_principal(
    state: &AppState,
    token: &str,
) -> Result<Option<Principal>, super::WebError> {
    let hash = accounts::token_hash(token);
    let Some(record) = state.read(move |s| s.token_by_hash(&hash)).await? else {
        return Ok(None);
    };
    let now = accounts::now_us();
    let due = |t: i64| now.saturating_sub(t) >= TOKEN_TOUCH_EVERY_US;
    let touch = record.last_used_us.is_none_or(due) && {
        let mut touched = lock(&state.auth.inner.touched);
        let due_here = touched.get(&hash).is_none_or(|t| due(*t));
        if due_here {
            // Bounded by the number of tokens in use; forget old notes now and then.
            if touched.len() > 1024 {
                touched.retain(|_, t| !due(*t));
            }
            touched.insert(hash, now);
        }
        due_here
    };
    if touch {
        // Not awaited: the request need not wait for the fsync, and a lost note of the last
        // use is harmless.
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.touch_token(&hash, now) {
                tracing::warn!(error = %e, "could not note an API token's last use");
            }
        });
    }
    Ok(Some(Principal {
        name: record.name,
        role: record.role,
        via: Via::Token,
    }))
}

/// The CSRF token a form body carries, if the body is a urlencoded form. Returns the request
/// rebuilt around the buffered body.
async fn form_csrf(req: Request) -> Result<(Request, Option<String>), Response> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| plain(StatusCode::PAYLOAD_TOO_LARGE, "Form too large."))?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v)
        });
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// The one access decision, in front of every route (see the module documentation).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match decide(&state, req, next).await {
        Ok(resp) => resp,
        Err(resp) => resp,
    }
}

async fn decide(state: &AppState, req: Request, next: Next) -> Result<Response, Response> {
    let path = req.uri().path().to_owned();
    let api = path.starts_with("/api/");
    let safe = is_safe(req.method());
    let headers = req.headers();
    let refuse = |status: StatusCode, msg: &str| {
        if api {
            json_error(status, msg)
        } else {
            plain(status, msg)
        }
    };

    if !safe && !same_origin(headers) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "Refused: this request came from another site.",
        ));
    }

    // Who is asking.
    let mut principal = None;
    let mut session_csrf = None;
    let mut session_id = None;
    if let Some(token) = bearer(headers) {
        match token_principal(state, token).await {
            Ok(Some(p)) => principal = Some(p),
            Ok(None) => {
                return Err(json_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid or revoked API token",
                ));
            }
            Err(e) => return Err(e.into_response()),
        }
    } else if let Some(id) = cookie(headers, SESSION_COOKIE).and_then(accounts::from_hex::<32>)
        && let Some((p, csrf)) = state.auth.session(&id)
    {
        principal = Some(p);
        session_csrf = Some(csrf);
        session_id = Some(id);
    }

    // May they come in at all.
    if principal.is_none() {
        let setup = match setup_open(state).await {
            Ok(open) => open,
            Err(e) => return Err(e.into_response()),
        };
        if !is_public(&path, setup) {
            if api {
                return Err(json_error(
                    StatusCode::UNAUTHORIZED,
                    "log in first: send a session cookie or an API token (Authorization: Bearer)",
                ));
            }
            let to = if setup {
                "/setup".to_owned()
            } else {
                let pq = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
                let q = serde_urlencoded::to_string([("next", local_next(pq))]).unwrap_or_default();
                format!("/login?{q}")
            };
            return Err(login_redirect(headers, &to));
        }
    }

    // What may they do.
    if let Some(p) = &principal
        && p.role != Role::Admin
    {
        // Logging out changes nothing on the device, so a viewer may.
        if !safe && path != "/logout" {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "Refused: a viewer account can look but not change anything.",
            ));
        }
        if is_admin_only(&path) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "Refused: this page is for the admin account only.",
            ));
        }
    }

    // CSRF: the token of the session, or of the pre-session cookie.
    let pre_session = cookie(headers, PRE_SESSION_COOKIE).and_then(accounts::from_hex::<32>);
    let expected = session_csrf.or(pre_session);
    let mut req = req;
    let via_token = principal.as_ref().is_some_and(|p| p.via == Via::Token);
    if !safe && !via_token {
        let header_token = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let provided = match header_token {
            Some(t) => Some(t),
            None => {
                let (r, t) = form_csrf(req).await?;
                req = r;
                t
            }
        };
        let ok = match (expected, provided) {
            (Some(e), Some(p)) => {
                accounts::constant_time_eq(accounts::to_hex(&e).as_bytes(), p.as_bytes())
            }
            _ => false,
        };
        if !ok {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                "Refused: the CSRF token is missing or wrong. Reload the page and try again.",
            ));
        }
    }

    // A visitor without a session gets a pre-session token for the login and setup forms;
    // only from those pages, so that the page's styles and scripts, loaded at the same time,
    // do not each set another one and leave the form's token stale.
    let mut new_pre_session = None;
    let csrf = match expected {
        Some(e) => accounts::to_hex(&e),
        None if principal.is_none() && matches!(path.as_str(), "/login" | "/setup") => {
            let t = match accounts::random_bytes::<32>() {
                Ok(t) => accounts::to_hex(&t),
                Err(e) => return Err(super::WebError::Internal(e.to_string()).into_response()),
            };
            new_pre_session = Some(t.clone());
            t
        }
        None => String::new(),
    };
    req.extensions_mut().insert(Ctx {
        principal,
        csrf,
        session_id,
    });
    let mut resp = next.run(req).await;
    if let Some(t) = new_pre_session {
        resp.headers_mut()
            .append(header::SET_COOKIE, set_cookie(PRE_SESSION_COOKIE, &t));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_only_local_paths() {
        assert_eq!(local_next("/networks?page=2"), "/networks?page=2");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(local_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn origin_checks() {
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            m
        };
        assert!(same_origin(&h(&[])));
        assert!(same_origin(&h(&[
            ("host", "192.168.4.1"),
            ("origin", "http://192.168.4.1")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "192.168.4.1"),
            ("origin", "http://evil.example")
        ])));
        // A form posted from one of our pages (Referrer-Policy: no-referrer).
        assert!(same_origin(&h(&[
            ("host", "192.168.4.1"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&h(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ])));
    }

    #[test]
    fn limiter_locks_after_five_failures_and_grows() {
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        let other: IpAddr = "10.0.0.3".parse().unwrap();
        let t0 = Instant::now();
        let mut l = Limiter::default();
        for i in 0..4 {
            l.failed(ip, t0 + Duration::from_secs(i));
            assert!(l.check(ip, t0 + Duration::from_secs(i)).is_ok());
        }
        l.failed(ip, t0 + Duration::from_secs(4));
        assert_eq!(
            l.check(ip, t0 + Duration::from_secs(4)),
            Err(Duration::from_secs(1))
        );
        assert!(l.check(other, t0).is_ok());
        l.failed(ip, t0 + Duration::from_secs(6));
        assert_eq!(
            l.check(ip, t0 + Duration::from_secs(6)),
            Err(Duration::from_secs(2))
        );
        l.failed(ip, t0 + Duration::from_secs(9));
        assert_eq!(
            l.check(ip, t0 + Duration::from_secs(9)),
            Err(Duration::from_secs(4))
        );
        l.succeeded(ip);
        assert!(l.check(ip, t0 + Duration::from_secs(9)).is_ok());
        // Five failures spread over more than a minute do not lock.
        for i in 0..5 {
            l.failed(other, t0 + Duration::from_secs(20 * i));
        }
        assert!(l.check(other, t0 + Duration::from_secs(80)).is_ok());
    }
}
