//! The device's side of the link to its hub: enrollment, the saved enrollment (`<data_dir>/upstream.toml`), and the pinned HTTPS client the sync rounds use.
//!
//! - [`enroll`] exchanges an enrollment code for a device token. It connects to the URL with
//!   a verifier that accepts only the certificate the code names (see `hub::code`), so the
//!   code's secret goes to nobody else; the certificate it accepted becomes the pin.
//! - [`Upstream`] is what enrollment saved: the hub's URL, the pin (SHA-256 of the hub
//!   certificate's DER), the device token, the hub's id. [`Upstream::save`] writes it
//!   atomically with mode 0600 (it holds the token).
//! - [`Client`] talks to the hub with the token, over a rustls connection that accepts
//!   exactly the pinned certificate (and checks the handshake signatures with ring). A
//!   certificate that is not the pinned one fails the handshake, so the request, and the
//!   token in it, is never sent: [`UpstreamError::PinMismatch`]. Redirects are not
//!   followed and no proxy is used.

mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::hub::code::Code;
use verify::HubVerifier;

/// The file enrollment writes in the data directory.
pub const FILE: &str = "upstream.toml";
/// How long a connection to the hub may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole request may take by default (see [`Client::with_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer accepted from the hub.
pub const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Why a request to the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The hub could not be reached (DNS, connect, timeout, connection reset): try later.
    #[error("the hub is unreachable: {0}")]
    Unreachable(String),
    /// The server's certificate is not the pinned one (or, at enrollment, not the one the
    /// code names). Nothing was sent to it.
    #[error(
        "the server at {url} presented certificate SHA-256 {presented}, not the hub's \
         {expected}: refused, nothing was sent. {hint}"
    )]
    PinMismatch {
        url: String,
        expected: String,
        presented: String,
        hint: &'static str,
    },
    /// 401 or 403: the token (or enrollment code) was refused.
    #[error("the hub refused this device ({status}): {reason}")]
    Refused { status: u16, reason: String },
    /// Any other status that is not success; the body is cut short.
    #[error("the hub answered {status}: {body}")]
    Http { status: u16, body: String },
    /// The answer (or the request, by the hub's 413) was larger than allowed.
    #[error("too large: {0}")]
    TooLarge(String),
    /// An answer that does not say what it should.
    #[error("the hub's answer is not valid: {0}")]
    Invalid(String),
    /// `upstream.toml` or the client setup is wrong.
    #[error("{0}")]
    Setup(String),
}

/// What enrollment saved: the hub this device syncs to.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// `https://host:port` (and any path the hub is under), without a trailing slash.
    pub hub_url: String,
    /// SHA-256 of the hub certificate's DER, 64 hex digits.
    pub pin_sha256: String,
    /// The device token (`pwd_` and 64 hex digits).
    token: String,
    /// The hub's id, 32 hex digits.
    pub hub_id: String,
    /// This device's id as enrolled, 32 hex digits.
    pub device_id: String,
    pub device_name: String,
    /// RFC 3339 UTC.
    pub enrolled_at: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("hub_url", &self.hub_url)
            .field("pin_sha256", &self.pin_sha256)
            .field("token", &"<redacted>")
            .field("hub_id", &self.hub_id)
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name)
            .field("enrolled_at", &self.enrolled_at)
            .finish()
    }
}

impl Upstream {
    /// `<data_dir>/upstream.toml`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE)
    }

    /// The saved enrollment; `None` when the device is not enrolled.
    pub fn load(data_dir: &Path) -> Result<Option<Upstream>, UpstreamError> {
        let path = Upstream::path(data_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(UpstreamError::Setup(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        let up: Upstream = toml::from_str(&text).map_err(|e| {
            UpstreamError::Setup(format!(
                "{} is not a valid enrollment ({}); enroll again with `piwardrive sync enroll`",
                path.display(),
                e.message()
            ))
        })?;
        up.pin().ok_or_else(|| {
            UpstreamError::Setup(format!(
                "{}: pin_sha256 must be 64 hex digits",
                path.display()
            ))
        })?;
        Ok(Some(up))
    }

    /// Writes `<data_dir>/upstream.toml` whole or not at all, mode 0600.
    pub fn save(&self, data_dir: &Path) -> Result<(), UpstreamError> {
        let text = format!(
            "# The hub this device syncs to, written by `piwardrive sync enroll`. It holds the\n\
             # device's token: keep it private (mode 0600).\n{}",
            toml::to_string(self).map_err(|e| UpstreamError::Setup(e.to_string()))?
        );
        crate::hub::tls::write_atomically(&Upstream::path(data_dir), text.as_bytes(), 0o600)
            .map_err(|e| UpstreamError::Setup(format!("{e:#}")))
    }

    /// The pin as bytes.
    pub fn pin(&self) -> Option<[u8; 32]> {
        accounts::from_hex::<32>(&self.pin_sha256)
    }

    /// The pin as `AB:CD:...`.
    pub fn pin_text(&self) -> String {
        self.pin()
            .map_or_else(String::new, |p| crate::hub::tls::fingerprint_text(&p))
    }
}

/// A client for the enrolled hub. Cheap to clone; reuses connections.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    bearer: String,
    pin: [u8; 32],
    verifier: Arc<HubVerifier>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

/// A reqwest client over `verifier`, without proxies or redirects.
fn http_client(
    verifier: Arc<HubVerifier>,
    timeout: Duration,
) -> Result<reqwest::Client, UpstreamError> {
    let provider = crate::hub::tls::provider();
    let tls = verify::client_config(verifier, provider)
        .map_err(|e| UpstreamError::Setup(format!("TLS setup: {e}")))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .user_agent(concat!("piwardrive/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| UpstreamError::Setup(format!("HTTP client setup: {e}")))
}

impl Client {
    /// A client for `up`, with [`DEFAULT_TIMEOUT`] per request.
    pub fn new(up: &Upstream) -> Result<Client, UpstreamError> {
        Client::with_timeout(up, DEFAULT_TIMEOUT)
    }

    /// The same, with `timeout` for each whole request (connect, send, answer).
    pub fn with_timeout(up: &Upstream, timeout: Duration) -> Result<Client, UpstreamError> {
        let pin = up
            .pin()
            .ok_or_else(|| UpstreamError::Setup("pin_sha256 must be 64 hex digits".into()))?;
        let verifier = Arc::new(HubVerifier::pinned(pin, crate::hub::tls::provider()));
        Ok(Client {
            http: http_client(verifier.clone(), timeout)?,
            base: up.hub_url.trim_end_matches('/').to_owned(),
            bearer: format!("Bearer {}", up.token),
            pin,
            verifier,
        })
    }

    /// POSTs `body` (`application/octet-stream`) to `path` (e.g. `/sync/v1/whoami`) with the
    /// device token; the answer's body on success.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, UpstreamError> {
        let req = self
            .http
            .post(self.url(path)?)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(req).await
    }

    /// GETs `path` with the device token.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, UpstreamError> {
        let req = self.http.get(self.url(path)?);
        self.send(req).await
    }

    /// `GET /sync/v1/whoami`: the device the hub takes this token for.
    pub async fn whoami(&self) -> Result<crate::hub::WhoAmI, UpstreamError> {
        let body = self.get("/sync/v1/whoami").await?;
        serde_json::from_slice(&body).map_err(|e| UpstreamError::Invalid(e.to_string()))
    }

    fn url(&self, path: &str) -> Result<String, UpstreamError> {
        if !path.starts_with('/') {
            return Err(UpstreamError::Setup(format!(
                "{path:?}: a hub path starts with /"
            )));
        }
        Ok(format!("{}{path}", self.base))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, UpstreamError> {
        let refused_before = self.verifier.refused();
        let req = req.header(reqwest::header::AUTHORIZATION, &self.bearer);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(self.transport_error(e, refused_before));
            }
        };
        read_answer(resp).await
    }

    fn transport_error(&self, e: reqwest::Error, refused_before: u64) -> UpstreamError {
        if self.verifier.refused() > refused_before {
            return UpstreamError::PinMismatch {
                url: self.base.clone(),
                expected: crate::hub::tls::fingerprint_text(&self.pin),
                presented: self
                    .verifier
                    .presented()
                    .map_or_else(|| "?".into(), |p| crate::hub::tls::fingerprint_text(&p)),
                hint: "If the hub's certificate was remade on purpose, enroll this device \
                       again; otherwise something else answers at the hub's address.",
            };
        }
        UpstreamError::Unreachable(error_chain(&e))
    }
}

/// The error and its causes on one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s += ": ";
            s += &t;
        }
        cur = c.source();
    }
    s
}

/// The body of a successful answer, at most [`MAX_RESPONSE`] bytes; otherwise the error the
/// status means.
async fn read_answer(mut resp: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
    let status = resp.status();
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE as u64)
    {
        return Err(UpstreamError::TooLarge(format!(
            "the hub's answer is {} bytes, more than {MAX_RESPONSE}",
            resp.content_length().unwrap_or_default()
        )));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > MAX_RESPONSE {
                    return Err(UpstreamError::TooLarge(format!(
                        "the hub's answer is more than {MAX_RESPONSE} bytes"
                    )));
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return Err(UpstreamError::Unreachable(error_chain(&e))),
        }
    }
    if status.is_success() {
        return Ok(body);
    }
    let reason = short_reason(&body);
    Err(match status.as_u16() {
        401 | 403 => UpstreamError::Refused {
            status: status.as_u16(),
            reason,
        },
        413 => UpstreamError::TooLarge(format!("the hub refused the request's size: {reason}")),
        s => UpstreamError::Http {
            status: s,
            body: reason,
        },
    })
}

/// The `error` of a JSON answer, else the start of the text, one line, at most 200 chars.
fn short_reason(body: &[u8]) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    one_line.trim().to_owned()
}

/// Enrolls this device (`device_id`, `name`) with the hub at `url` using the enrollment code
/// `code`: the code's secret is sent only once the server's certificate is the one the code
/// names, and that certificate becomes the pin. Returns what to save.
pub async fn enroll(
    url: &str,
    code: &str,
    device_id: [u8; 16],
    name: &str,
) -> Result<Upstream, UpstreamError> {
    crate::config::check_hub_url(url)
        .map_err(|m| UpstreamError::Setup(format!("the hub URL {m}")))?;
    let code = Code::parse(code).map_err(UpstreamError::Setup)?;
    if !crate::hub::valid_device_name(name) {
        return Err(UpstreamError::Setup(
            "the device name must be 1 to 64 characters without control characters".into(),
        ));
    }
    let base = url.trim_end_matches('/').to_owned();
    let verifier = Arc::new(HubVerifier::for_code(
        code.clone(),
        crate::hub::tls::provider(),
    ));
    let http = http_client(verifier.clone(), Duration::from_secs(30))?;
    let request = crate::hub::EnrollRequest {
        secret: code.secret().to_owned(),
        device_id: accounts::to_hex(&device_id),
        name: name.to_owned(),
    };
    let resp = http
        .post(format!("{base}/sync/v1/enroll"))
        .json(&request)
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) if verifier.refused() > 0 => {
            let _ = e;
            return Err(UpstreamError::PinMismatch {
                url: base,
                expected: "the certificate the code names".into(),
                presented: verifier
                    .presented()
                    .map_or_else(|| "?".into(), |p| crate::hub::tls::fingerprint_text(&p)),
                hint: "Check the code and the address: the code belongs to the hub whose \
                       Devices page shows it. If both are right, something else answers at \
                       that address.",
            });
        }
        Err(e) => return Err(UpstreamError::Unreachable(error_chain(&e))),
    };
    let body = read_answer(resp).await?;
    let answer: crate::hub::EnrollResponse =
        serde_json::from_slice(&body).map_err(|e| UpstreamError::Invalid(e.to_string()))?;
    let pin = verifier
        .presented()
        .ok_or_else(|| UpstreamError::Invalid("no certificate was presented".into()))?;
    if answer.device_id != accounts::to_hex(&device_id)
        || accounts::from_hex::<16>(&answer.hub_id).is_none()
        || !answer.token.starts_with(crate::hub::DEVICE_TOKEN_PREFIX)
    {
        return Err(UpstreamError::Invalid(
            "the enrollment answer does not match the request".into(),
        ));
    }
    Ok(Upstream {
        hub_url: base,
        pin_sha256: accounts::to_hex(&pin),
        token: answer.token,
        hub_id: answer.hub_id,
        device_id: answer.device_id,
        device_name: answer.name,
        enrolled_at: crate::web::time_iso(accounts::now_us()),
    })
}

/// A default device name: the host name, else "piwardrive".
pub fn default_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| crate::hub::valid_device_name(h))
        .unwrap_or_else(|| "piwardrive".to_owned())
}

/// The appliance's transport for sync rounds: HTTPS to the pinned hub with the device token.
impl crate::replication::device::Transport for Client {
    async fn post(
        &self,
        path: &'static str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, crate::replication::device::TransportError> {
        use crate::replication::device::TransportError as T;
        Client::post(self, path, body).await.map_err(|e| match e {
            UpstreamError::Unreachable(m) => T::Unreachable(m),
            UpstreamError::Refused { status, reason } => T::Refused(format!("{status}: {reason}")),
            e @ UpstreamError::PinMismatch { .. } => T::NotTheHub(e.to_string()),
            e => T::Other(e.to_string()),
        })
    }
}
