//! The WiGLE part of the Exports page: the last uploads, what is pending, and the admin's "Upload to WiGLE" button, which runs the upload in the background.
//!
//! - `POST /exports/wigle-upload` (admin; the gate checked the CSRF token and the role): reads
//!   `[wigle]` afresh (file plus settings overlay), starts `wigle::upload` on a task of its own
//!   unless one is running, and sends the browser back to `/exports#wigle`.
//! - `GET /exports/wigle-upload`: the section alone, which the page polls (htmx, every 2 s) while an
//!   upload runs, so its result appears without a reload.
//!
//! Viewers see the history and the result, never the button. The API token never reaches a
//! page: only whether one is set.

use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::auth::Ctx;
use super::format;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::accounts::Role;
use crate::store::WigleUpload;

/// Uploads listed on the page.
const HISTORY: usize = 10;

/// The background upload of this process: running, and how the last one ended.
#[derive(Clone, Default)]
pub struct UploadJob {
    inner: Arc<Mutex<JobState>>,
}

#[derive(Default)]
struct JobState {
    running_since: Option<i64>,
    last: Option<Finished>,
}

#[derive(Clone)]
struct Finished {
    at_us: i64,
    ok: bool,
    message: String,
}

impl UploadJob {
    fn state(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One upload as the page lists it.
pub struct UploadRow {
    pub time: String,
    pub rows: u64,
    pub size: String,
    pub file_name: String,
    pub trans_id: String,
    pub donated: bool,
}

impl UploadRow {
    fn new(u: &WigleUpload) -> UploadRow {
        UploadRow {
            time: format::time_short(u.time_us),
            rows: u.rows,
            size: format::bytes(u.bytes),
            file_name: u.file_name.clone(),
            trans_id: u.trans_id.clone().unwrap_or_else(|| "–".into()),
            donated: u.donated,
        }
    }
}

/// What the section shows.
pub struct WigleView {
    pub uploads: Vec<UploadRow>,
    /// Observations stored above the watermark (not all are WiGLE rows).
    pub pending: u64,
    /// The API name, when an account is set.
    pub account: Option<String>,
    pub donate: bool,
    /// Set when the configuration cannot be read (then nothing can be uploaded).
    pub config_error: Option<String>,
    pub running_since: Option<String>,
    /// The last upload of this process: (ok, when, message).
    pub last: Option<(bool, String, String)>,
    /// An admin with a session: the button is shown.
    pub can_upload: bool,
}

pub(super) async fn view(state: &AppState, ctx: &Ctx) -> Result<WigleView, WebError> {
    let (uploads, pending) = state
        .read(|s| {
            let uploads = s.wigle_uploads(HISTORY)?;
            let watermark = uploads.first().map_or(0, |u| u.last_seq);
            Ok((uploads, s.observations_after(watermark)?))
        })
        .await?;
    let settings = state.settings.clone();
    let config = tokio::task::spawn_blocking(move || settings.current())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let (account, donate, config_error) = match &config {
        Ok(c) => (
            c.wigle.api_token.as_ref().and(c.wigle.api_name.clone()),
            c.wigle.donate,
            None,
        ),
        Err(e) => (None, false, Some(e.clone())),
    };
    let job = state.wigle.state();
    Ok(WigleView {
        uploads: uploads.iter().map(UploadRow::new).collect(),
        pending,
        account,
        donate,
        config_error,
        running_since: job.running_since.map(format::time_short),
        last: job
            .last
            .as_ref()
            .map(|f| (f.ok, format::time_short(f.at_us), f.message.clone())),
        can_upload: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.role == Role::Admin && !ctx.csrf.is_empty()),
    })
}

#[derive(Template)]
#[template(path = "wigle.html")]
struct Section {
    layout: Layout,
    w: WigleView,
}

/// `GET /exports/wigle-upload`: the section alone (htmx polls it while an upload runs).
pub async fn section(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let w = view(&state, &ctx).await?;
    let page = Section {
        layout: Layout::new("/exports", &ctx),
        w,
    };
    Ok(Html(page.render()?).into_response())
}

/// `POST /exports/wigle-upload` (admin).
pub async fn start(State(state): State<AppState>) -> Result<Response, WebError> {
    let settings = state.settings.clone();
    let config = tokio::task::spawn_blocking(move || settings.current())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let options = config
        .map_err(|e| format!("the configuration cannot be read: {e}"))
        .and_then(|c| {
            crate::wigle::UploadOptions::from_config(&c.wigle).map_err(|e| e.to_string())
        });
    let now = crate::accounts::now_us();
    let options = match options {
        Ok(o) => o,
        Err(message) => {
            state.wigle.state().last = Some(Finished {
                at_us: now,
                ok: false,
                message,
            });
            return Ok(Redirect::to("/exports#wigle").into_response());
        }
    };
    {
        let mut job = state.wigle.state();
        if job.running_since.is_some() {
            return Ok(Redirect::to("/exports#wigle").into_response());
        }
        job.running_since = Some(now);
    }
    let job = state.wigle.clone();
    let store = state.store.clone();
    tokio::spawn(async move {
        let result = crate::wigle::upload(&store, &options).await;
        let (ok, message) = match result {
            Ok(o) if o.nothing_to_send => (
                true,
                "Nothing to upload: no sighting with a position since the last upload; no \
                 request was made."
                    .to_owned(),
            ),
            Ok(o) => (
                true,
                format!(
                    "Uploaded {} rows in {} file(s).",
                    o.sent.iter().map(|s| s.rows).sum::<u64>(),
                    o.sent.len()
                ),
            ),
            Err(f) => {
                tracing::warn!(error = %f, "WiGLE upload failed");
                (false, f.to_string())
            }
        };
        let mut s = job.state();
        s.running_since = None;
        s.last = Some(Finished {
            at_us: crate::accounts::now_us(),
            ok,
            message,
        });
    });
    Ok(Redirect::to("/exports#wigle").into_response())
}

#[cfg(test)]
mod tests {
    //! The button's round trip against a local stand-in for WiGLE (no internet here; the
    //! request itself is checked in detail by `tests/wigle_upload.rs`): an axum app on
    //! 127.0.0.1 that answers as WiGLE's upload endpoint does.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};

    use super::super::tests::{Fixture, ap, body, fixture, get_ok, send};
    use crate::model::{Fix, Observation, ObservationKind};

    fn observations(n: u64) -> Vec<Observation> {
        (0..n)
            .map(|i| Observation {
                seq: i + 1,
                session_id: 1,
                kind: ObservationKind::Ap,
                mac: ap(i, b"x").bssid,
                time: 1_795_737_600_000_000 + i as i64 * 1_000_000,
                signal_dbm: Some(-60),
                channel: Some(6),
                freq_mhz: Some(2437),
                fix: Some(Fix {
                    lat: 52.5,
                    lon: 13.4,
                    alt_m: Some(40.0),
                    accuracy_m: 5.0,
                    time_us: 1_795_737_600_000_000,
                }),
            })
            .collect()
    }

    /// Starts the stand-in; returns its address and the count of requests it took.
    async fn fake_wigle() -> (std::net::SocketAddr, std::sync::Arc<AtomicUsize>) {
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = axum::Router::new().route(
            crate::wigle::UPLOAD_PATH,
            axum::routing::post(
                move |headers: axum::http::HeaderMap, _body: axum::body::Bytes| {
                    let h = h.clone();
                    async move {
                        h.fetch_add(1, Ordering::SeqCst);
                        let auth = headers
                            .get(header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok());
                        // "AIDweb:secret-token" in base64.
                        if auth != Some("Basic QUlEd2ViOnNlY3JldC10b2tlbg==") {
                            return (StatusCode::UNAUTHORIZED, "{\"success\":false}".to_owned());
                        }
                        (
                        StatusCode::OK,
                        r#"{"success":true,"results":{"transids":[{"transId":"20260101-00007"}]}}"#
                            .to_owned(),
                    )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, hits)
    }

    fn csrf_of(html: &str) -> String {
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    }

    fn overlay_dir(f: &Fixture) -> std::path::PathBuf {
        f.state.store.path().parent().unwrap().to_path_buf()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_admin_uploads_from_the_exports_page_and_a_viewer_only_reads() {
        let f = fixture((0..3).map(|i| ap(i, b"x")).collect(), observations(3));
        // No account yet: no button, a pointer to the settings page.
        let html = get_ok(&f, "/exports").await;
        assert!(html.contains("No WiGLE account is set"), "{html}");
        assert!(!html.contains("action=\"/exports/wigle-upload\""));
        assert!(html.contains("3 observations recorded since the last upload"));

        let (addr, hits) = fake_wigle().await;
        std::fs::write(
            overlay_dir(&f).join(crate::config::OVERLAY_FILE),
            format!(
                "[wigle]\napi_name = \"AIDweb\"\napi_token = \"secret-token\"\n\
                 base_url = \"http://{addr}\"\n"
            ),
        )
        .unwrap();
        let html = get_ok(&f, "/exports").await;
        assert!(
            html.contains("Account <span class=\"mono\">AIDweb</span>"),
            "{html}"
        );
        assert!(
            !html.contains("secret-token"),
            "the token never reaches a page"
        );
        assert!(html.contains("action=\"/exports/wigle-upload\""));
        let csrf = csrf_of(&html);

        // A viewer sees the section but no button, and cannot start one.
        let viewer = f.login_as("vera", crate::accounts::Role::Viewer);
        let req = Request::get("/exports")
            .header(header::COOKIE, &viewer)
            .body(Body::empty())
            .unwrap();
        let html = body(send(&f, req).await).await;
        assert!(html.contains("Upload to WiGLE</h2>"));
        assert!(!html.contains("action=\"/exports/wigle-upload\""));
        let viewer_csrf = csrf_of(&html);
        let req = Request::post("/exports/wigle-upload")
            .header(header::COOKIE, &viewer)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={viewer_csrf}")))
            .unwrap();
        assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
        // The admin without the CSRF token is refused too.
        let req = Request::post("/exports/wigle-upload")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(hits.load(Ordering::SeqCst), 0);

        let req = Request::post("/exports/wigle-upload")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}")))
            .unwrap();
        let resp = send(&f, req).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[header::LOCATION], "/exports#wigle");
        // The section (what htmx polls) shows the result once the task is done.
        let mut section = String::new();
        for _ in 0..200 {
            section = get_ok(&f, "/exports/wigle-upload").await;
            if !section.contains("hx-trigger") && section.contains("Uploaded") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(
            section.contains("Uploaded 3 rows in 1 file(s)."),
            "{section}"
        );
        assert!(section.contains("20260101-00007"), "{section}");
        assert!(section.contains("0 observations recorded since the last upload"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(f.state.store.wigle_watermark().unwrap(), 3);

        // Again: nothing to send, no request.
        let req = Request::post("/exports/wigle-upload")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}")))
            .unwrap();
        assert_eq!(send(&f, req).await.status(), StatusCode::SEE_OTHER);
        for _ in 0..200 {
            section = get_ok(&f, "/exports/wigle-upload").await;
            if section.contains("Nothing to upload") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(section.contains("no request was made"), "{section}");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
