//! The sessions and exports pages, and export downloads streamed straight from a store snapshot to the browser.
//!
//! `GET /exports/{format}?session=N` runs the same writer as `piwardrive export` on the
//! blocking pool and streams its output through a bounded channel in 64 KiB chunks, so a
//! download of a million sightings costs the device no more memory than the command does. A
//! session that does not exist is a 404 before any byte is sent; a failure half-way (the store
//! read fails, the phone goes away) ends the transfer, which the browser shows as failed.

use std::io::Write;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::auth::Ctx;
use super::format;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::export::{self, ExportError, ExportOptions, Format, WigleDevice};
use crate::model::{SessionRecord, SessionStatus, TimeSource};

/// Every format, in the order the pages offer them: (URL name, label, what it holds).
pub const FORMATS: [(Format, &str, &str, &str); 5] = [
    (
        Format::Wigle,
        "wigle",
        "WiGLE CSV",
        "every sighting with a position, ready to upload to wigle.net",
    ),
    (
        Format::Kml,
        "kml",
        "KML",
        "a placemark per network, for Google Earth",
    ),
    (
        Format::Geojson,
        "geojson",
        "GeoJSON",
        "a point per network, for QGIS and web maps",
    ),
    (
        Format::Csv,
        "csv",
        "CSV",
        "every column of every network, for spreadsheets",
    ),
    (Format::Gpx, "gpx", "GPX", "the GPS track"),
];

/// The `Content-Type` of a download.
pub(super) fn content_type(f: Format) -> &'static str {
    match f {
        Format::Wigle | Format::Csv => "text/csv; charset=utf-8",
        Format::Kml => "application/vnd.google-earth.kml+xml",
        Format::Geojson => "application/geo+json",
        Format::Gpx => "application/gpx+xml",
    }
}

/// One download link.
pub struct FormatLink {
    pub label: &'static str,
    pub about: &'static str,
    pub href: String,
}

/// Where the download of format `name` (of one session, or of everything) is.
pub(super) fn href(name: &str, session: Option<u64>) -> String {
    match session {
        Some(id) => format!("/exports/{name}?session={id}"),
        None => format!("/exports/{name}"),
    }
}

fn links(session: Option<u64>) -> Vec<FormatLink> {
    FORMATS
        .iter()
        .map(|&(_, name, label, about)| FormatLink {
            label,
            about,
            href: href(name, session),
        })
        .collect()
}

/// How a session's state reads on the page and in the API.
pub(super) fn status_label(s: SessionStatus) -> &'static str {
    match s {
        SessionStatus::Running => "running",
        SessionStatus::Ended => "ended",
        SessionStatus::Interrupted => "interrupted",
    }
}

/// Where a session's timestamps came from, as the page and the API say it.
pub(super) fn clock_label(t: &TimeSource) -> &'static str {
    match t {
        TimeSource::CaptureFile => "capture file",
        TimeSource::SystemClock => "system clock",
        TimeSource::Gps => "GPS",
        TimeSource::GpsCorrected { .. } => "GPS-corrected",
    }
}

/// Every session, newest first: what `/sessions` and `/api/v1/sessions` list.
pub(super) async fn read_sessions(state: &AppState) -> Result<Vec<SessionRecord>, WebError> {
    let mut sessions = state.read(|s| s.sessions()).await?;
    sessions.sort_by_key(|s| std::cmp::Reverse(s.id));
    Ok(sessions)
}

/// One session as the sessions page lists it.
pub struct SessionRow {
    pub id: u64,
    pub started: String,
    pub ended: String,
    pub duration: String,
    pub status: &'static str,
    pub frames: u64,
    pub sources: String,
    pub clock: &'static str,
    pub links: Vec<FormatLink>,
}

fn duration_text(us: i64) -> String {
    let s = us.max(0) / 1_000_000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

impl SessionRow {
    fn new(s: &SessionRecord) -> SessionRow {
        SessionRow {
            id: s.id,
            started: format::time_short(s.started_at),
            ended: s
                .ended_at
                .map_or_else(|| "–".to_owned(), format::time_short),
            duration: s
                .ended_at
                .map_or_else(|| "–".to_owned(), |e| duration_text(e - s.started_at)),
            status: status_label(s.status),
            frames: s.frames,
            sources: s.sources.join(", "),
            clock: clock_label(&s.time_source),
            links: links(Some(s.id)),
        }
    }
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    sessions: Vec<SessionRow>,
}

/// `GET /sessions`: newest first.
pub async fn sessions_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let sessions = read_sessions(&state).await?;
    let page = SessionsPage {
        layout: Layout::new("/sessions", &ctx),
        sessions: sessions.iter().map(SessionRow::new).collect(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    layout: Layout,
    links: Vec<FormatLink>,
    w: super::wigle::WigleView,
}

/// `GET /exports`: the downloads, and the WiGLE uploads (`web/wigle.rs`).
pub async fn exports_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let page = ExportsPage {
        layout: Layout::new("/exports", &ctx),
        links: links(None),
        w: super::wigle::view(&state, &ctx).await?,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DownloadParams {
    pub session: Option<u64>,
}

/// A `Write` that hands 64 KiB chunks to the response body; fails once the client is gone.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// `GET /exports/{format}?session=N`.
pub async fn download(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<DownloadParams>,
) -> Result<Response, WebError> {
    let Some(&(fmt, _, _, _)) = FORMATS.iter().find(|f| f.1 == name) else {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "No such export format; the Exports page lists them.",
        ));
    };
    let Some(mut resp) = stream(&state, fmt, params.session).await? else {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            &no_session(params.session.unwrap_or_default()),
        ));
    };
    let file = match params.session {
        Some(id) => format!("piwardrive-session-{id}.{}", fmt.extension()),
        None => format!("piwardrive.{}", fmt.extension()),
    };
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
            .expect("the file name is ASCII we made"),
    );
    Ok(resp)
}

/// What a 404 for a missing session says.
pub(super) fn no_session(id: u64) -> String {
    format!("There is no session {id} in this store.")
}

/// The export `fmt` (of `session`, or of everything) as a streamed response with its
/// `Content-Type`; `None` when that session does not exist (checked before any byte is sent).
pub(super) async fn stream(
    state: &AppState,
    fmt: Format,
    session: Option<u64>,
) -> Result<Option<Response>, WebError> {
    if let Some(id) = session
        && state
            .read(move |s| s.snapshot()?.session(id))
            .await?
            .is_none()
    {
        return Ok(None);
    }
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let options = ExportOptions {
            session,
            wigle_device: WigleDevice::detect(),
        };
        let result = export::export_with(&store, fmt, &options, &mut w).and_then(|_| {
            w.flush()?;
            Ok(())
        });
        if let Err(e) = result {
            if !matches!(&e, ExportError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe) {
                tracing::error!(format = ?fmt, error = %e, "export download failed");
            }
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(fmt)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(Some(resp))
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}
