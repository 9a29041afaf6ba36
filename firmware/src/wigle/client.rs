//! The one HTTP request of a WiGLE upload: multipart POST with HTTP Basic auth over rustls (ring, compiled-in roots), and what WiGLE's answer means.
//!
//! The request is the one the WiGLE Android app makes (`WiGLEApiManager.upload`, in
//! github.com/wiglenet/wigle-wifi-wardriving): `POST https://api.wigle.net/api/v2/file/upload`,
//! `multipart/form-data` with the file in a part named `file` sent as
//! `application/octet-stream` (what the app declares for its `.csv.gz`), plus `donate=on` when
//! the user donates; HTTP Basic with the account's API name and API token. Its timeouts follow
//! the app's too (connect 45 s, read 230 s).
//!
//! The answer is JSON. Its shape is the app's `model/api/UploadReseponse.java`:
//! `{"success": true, "warning": ..., "observer": ..., "results": {"timeTaken": ...,
//! "filesize": ..., "filename": ..., "transids": [{"file": ..., "size": ..., "transId": ...}]}}`;
//! a refusal is `{"success": false, "message": "..."}` (the v2 API's error shape, documented in
//! its Swagger page at api.wigle.net/swagger). Only `success` decides; anything else is shown.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{UPLOAD_PATH, UploadOptions};
use crate::export::ExportError;
use crate::store::StoreError;

/// How long the request may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// Between two reads of the answer (WiGLE parses a large file before answering).
    pub read: Duration,
    /// The whole request, sending the file included.
    pub total: Duration,
}

impl Default for Timeouts {
    /// The WiGLE app's connect and read timeouts; 30 minutes in all, enough for a 40 MB file
    /// over a slow uplink.
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(45),
            read: Duration::from_secs(230),
            total: Duration::from_secs(30 * 60),
        }
    }
}

/// Why an upload failed. Every message says what to do; none quotes the API token.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "no WiGLE account is set: set [wigle] api_name and api_token (the \"API Name\" and \
         \"API Token\" on wigle.net, Account) in the configuration file or on the settings page"
    )]
    NoCredentials,
    #[error(
        "WiGLE refused the API name {api_name:?} and its token (HTTP {status}): check [wigle] \
         api_name and api_token; they are the \"API Name\" and \"API Token\" wigle.net shows \
         under Account, not the login name and password"
    )]
    Unauthorized { api_name: String, status: u16 },
    #[error(
        "WiGLE refused the file as too large (HTTP 413, {bytes} bytes gzipped): lower [wigle] \
         max_rows_per_file so that each file is smaller"
    )]
    TooLarge { bytes: u64 },
    #[error(
        "WiGLE's server failed (HTTP {status}{message}); nothing was recorded as uploaded: try \
         again later"
    )]
    Server { status: u16, message: String },
    #[error("WiGLE answered HTTP {status}{message}; nothing was recorded as uploaded")]
    Status { status: u16, message: String },
    #[error("WiGLE did not accept the file: {message}; nothing was recorded as uploaded")]
    Refused { message: String },
    #[error(
        "WiGLE's answer was not the JSON its API documents ({detail}); nothing was recorded as \
         uploaded: try again later"
    )]
    BadAnswer { detail: String },
    #[error(
        "could not reach {url}: {detail}; check this device's internet connection (and \
         [wigle] base_url)"
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "the upload to {url} took too long and was given up ({detail}); nothing was recorded \
         as uploaded: try again on a better connection"
    )]
    TimedOut { url: String, detail: String },
    #[error(
        "the connection to {url} broke before WiGLE answered ({detail}); nothing was recorded \
         as uploaded: the next upload sends the same rows again"
    )]
    Interrupted { url: String, detail: String },
    #[error(
        "another upload to WiGLE recorded its files meanwhile; this one's file was sent but not \
         recorded, and WiGLE drops the rows it already has: run the upload again"
    )]
    Concurrent,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Export(ExportError),
    #[error("building the HTTPS client: {0}")]
    Tls(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// WiGLE's answer, as far as we use it (see the module documentation for the shape).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Answer {
    success: Option<bool>,
    message: Option<String>,
    warning: Option<String>,
    results: Option<Results>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Results {
    transids: Vec<Transaction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Transaction {
    #[serde(rename = "transId")]
    trans_id: Option<String>,
}

/// What a successful upload told us.
#[derive(Debug, Default)]
pub(super) struct Accepted {
    pub trans_id: Option<String>,
}

/// The most of an answer read: WiGLE's are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Text from WiGLE's answer as we show it: control characters dropped, at most 300
/// characters (it is someone else's text in our messages and pages).
fn shown(text: &str) -> String {
    let mut s: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

/// The HTTPS client: rustls with the ring provider and Mozilla's roots compiled in
/// (webpki-root-certs), so an image without a CA bundle verifies api.wigle.net too.
fn tls_config() -> Result<rustls::ClientConfig, UploadError> {
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) =
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if added == 0 {
        return Err(UploadError::Tls("no usable root certificate".into()));
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| UploadError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

pub(super) struct Api {
    client: reqwest::Client,
    url: String,
    api_name: String,
    api_token: crate::config::Secret,
}

impl Api {
    pub(super) fn new(o: &UploadOptions) -> Result<Api, UploadError> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .connect_timeout(o.timeouts.connect)
            .read_timeout(o.timeouts.read)
            .timeout(o.timeouts.total)
            .user_agent(concat!("PiWardrive/", env!("CARGO_PKG_VERSION")))
            // An upload is never redirected: a redirect would resend the credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| UploadError::Tls(e.to_string()))?;
        Ok(Api {
            client,
            url: format!("{}{UPLOAD_PATH}", o.base_url.trim_end_matches('/')),
            api_name: o.credentials.api_name.clone(),
            api_token: o.credentials.api_token.clone(),
        })
    }

    /// Sends one gzipped file; `Ok` only when WiGLE answered `success: true`.
    pub(super) async fn send(
        &self,
        file_name: &str,
        gz: Vec<u8>,
        donate: bool,
    ) -> Result<Accepted, UploadError> {
        let bytes = gz.len() as u64;
        let part = reqwest::multipart::Part::bytes(gz)
            .file_name(file_name.to_owned())
            .mime_str("application/octet-stream")
            .map_err(|e| UploadError::Internal(e.to_string()))?;
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if donate {
            form = form.text("donate", "on");
        }
        let resp = self
            .client
            .post(&self.url)
            .basic_auth(&self.api_name, Some(self.api_token.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .multipart(form)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let text = read_answer(resp).await.map_err(|e| self.transport(e))?;
        let answer: Result<Answer, _> = serde_json::from_str(&text);
        let message = |a: &Result<Answer, serde_json::Error>| {
            a.as_ref()
                .ok()
                .and_then(|a| a.message.as_deref().or(a.warning.as_deref()))
                .map(|m| format!(": {}", shown(m)))
                .unwrap_or_default()
        };
        match status {
            200..=299 => {}
            401 | 403 => {
                return Err(UploadError::Unauthorized {
                    api_name: self.api_name.clone(),
                    status,
                });
            }
            413 => return Err(UploadError::TooLarge { bytes }),
            500..=599 => {
                return Err(UploadError::Server {
                    status,
                    message: message(&answer),
                });
            }
            _ => {
                return Err(UploadError::Status {
                    status,
                    message: message(&answer),
                });
            }
        }
        let answer = answer.map_err(|e| UploadError::BadAnswer {
            detail: format!("{e}: {}", shown(&text)),
        })?;
        if answer.success != Some(true) {
            return Err(UploadError::Refused {
                message: answer
                    .message
                    .or(answer.warning)
                    .map(|m| shown(&m))
                    .unwrap_or_else(|| "its answer gave no reason".into()),
            });
        }
        Ok(Accepted {
            trans_id: answer
                .results
                .and_then(|r| r.transids.into_iter().find_map(|t| t.trans_id))
                .map(|t| shown(&t)),
        })
    }

    fn transport(&self, e: reqwest::Error) -> UploadError {
        let url = self.url.clone();
        // The error chain names the cause (refused, reset, certificate); the URL holds no
        // credentials (they travel in the Authorization header).
        let detail = error_chain(&e);
        if e.is_timeout() {
            UploadError::TimedOut { url, detail }
        } else if e.is_connect() {
            UploadError::Unreachable { url, detail }
        } else {
            UploadError::Interrupted { url, detail }
        }
    }
}

/// The answer's body, at most [`MAX_ANSWER_BYTES`] of it.
async fn read_answer(mut resp: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}
