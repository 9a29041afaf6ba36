//! The system page: the host's load, memory, storage and temperature now and over the last hours (sampled in memory, drawn as SVG charts), uptime, versions and the store.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::auth::Ctx;
use super::chart::LineChart;
use super::format;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::ingest::now_us;
use crate::model::TimeUs;
use crate::system::HostMetrics;

/// How often the sampler reads the host.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);
/// Samples kept: 24 hours at [`SAMPLE_EVERY`] (about 600 KB).
pub const SAMPLES_KEPT: usize = 24 * 3600 / 15;

/// The host's recent readings, newest last. Lives in memory: a restart starts it afresh.
#[derive(Clone, Default)]
pub struct History {
    samples: Arc<Mutex<VecDeque<(TimeUs, HostMetrics)>>>,
}

impl History {
    pub fn push(&self, t: TimeUs, m: HostMetrics) {
        let mut s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if s.len() >= SAMPLES_KEPT {
            s.pop_front();
        }
        s.push_back((t, m));
    }

    /// How many readings are kept.
    pub fn len(&self) -> usize {
        self.samples.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// (time, value) of every sample that has `f`.
    pub fn series(&self, f: impl Fn(&HostMetrics) -> Option<f64>) -> Vec<(TimeUs, f64)> {
        let s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        s.iter().filter_map(|(t, m)| Some((*t, f(m)?))).collect()
    }

    /// Reads the host every [`SAMPLE_EVERY`] until `shutdown`; the file system of `data_dir`
    /// is the one whose space is recorded.
    pub async fn sample(self, data_dir: std::path::PathBuf, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let dir = data_dir.clone();
            if let Ok(m) = tokio::task::spawn_blocking(move || HostMetrics::read(&dir)).await {
                self.push(now_us(), m);
            }
        }
    }
}

fn used_pct(used_of: Option<(u64, u64)>) -> Option<f64> {
    match used_of {
        Some((free, total)) if total > 0 => {
            Some(100.0 * (total.saturating_sub(free)) as f64 / total as f64)
        }
        _ => None,
    }
}

fn mem_used_pct(m: &HostMetrics) -> Option<f64> {
    used_pct(m.mem_available_bytes.zip(m.mem_total_bytes))
}

fn disk_used_pct(m: &HostMetrics) -> Option<f64> {
    used_pct(m.disk_free_bytes.zip(m.disk_total_bytes))
}

/// The charts the page shows: (file name, title, value, y range, step, unit).
type Metric = (
    &'static str,
    &'static str,
    fn(&HostMetrics) -> Option<f64>,
    f64,
    f64,
    f64,
    &'static str,
);
const CHARTS: [Metric; 4] = [
    (
        "load",
        "CPU load (1 min)",
        |m| m.load.map(|l| l[0]),
        0.0,
        4.0,
        1.0,
        "",
    ),
    ("memory", "Memory used", mem_used_pct, 0.0, 100.0, 25.0, "%"),
    (
        "disk",
        "Data partition used",
        disk_used_pct,
        0.0,
        100.0,
        25.0,
        "%",
    ),
    (
        "temperature",
        "CPU temperature",
        |m| m.cpu_temp_c,
        20.0,
        90.0,
        10.0,
        "°",
    ),
];

/// The readings behind one of the page's charts, for `/api/v1/system/history`.
#[derive(Debug, Serialize)]
pub struct Series {
    /// load, memory, disk or temperature (the chart's file name).
    pub metric: &'static str,
    pub title: &'static str,
    /// (Unix microseconds, value), oldest first.
    pub points: Vec<(TimeUs, f64)>,
}

/// Every chart's readings, as the page draws them.
pub(super) fn history_series(state: &AppState) -> Vec<Series> {
    CHARTS
        .iter()
        .map(|&(metric, title, f, ..)| Series {
            metric,
            title,
            points: state.history.series(f),
        })
        .collect()
}

/// `/api/v1/system`.
#[derive(Debug, Serialize)]
pub struct SystemView {
    pub version: &'static str,
    pub kernel: Option<String>,
    pub model: Option<String>,
    pub now: HostMetrics,
    pub store_path: String,
    pub store_bytes: Option<u64>,
    pub samples: usize,
}

fn read_trimmed(path: &str) -> Option<String> {
    let b = std::fs::read(path).ok()?;
    let s = String::from_utf8_lossy(&b)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned();
    (!s.is_empty()).then_some(s)
}

async fn view(state: &AppState) -> Result<SystemView, WebError> {
    let path = state.store.path().to_path_buf();
    let samples = state.history.len();
    state
        .read(move |_| {
            let dir = path
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default();
            Ok(SystemView {
                version: env!("CARGO_PKG_VERSION"),
                kernel: read_trimmed("/proc/sys/kernel/osrelease"),
                model: read_trimmed("/proc/device-tree/model"),
                now: HostMetrics::read(&dir),
                store_bytes: std::fs::metadata(&path).ok().map(|m| m.len()),
                store_path: path.display().to_string(),
                samples,
            })
        })
        .await
}

#[derive(Template)]
#[template(path = "system.html")]
struct SystemPage {
    layout: Layout,
    s: SystemView,
    /// (chart URL, title)
    charts: Vec<(String, &'static str)>,
    uptime: String,
    load: String,
    memory: String,
    disk: String,
    temp: String,
    store_size: String,
}

fn uptime_text(s: f64) -> String {
    let s = s as u64;
    format!(
        "{} d {} h {} min",
        s / 86_400,
        s % 86_400 / 3600,
        s % 3600 / 60
    )
}

/// `GET /system`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let s = view(&state).await?;
    let m = &s.now;
    let of = |a: Option<u64>, t: Option<u64>, what: &str| match (a, t) {
        (Some(a), Some(t)) => format!("{} {what} of {}", format::bytes(a), format::bytes(t)),
        _ => "–".to_owned(),
    };
    let page = SystemPage {
        layout: Layout::new("/system", &ctx),
        charts: CHARTS
            .iter()
            .map(|c| (format!("/system/{}.svg", c.0), c.1))
            .collect(),
        uptime: m.uptime_s.map_or_else(|| "–".to_owned(), uptime_text),
        load: m.load.map_or_else(
            || "–".to_owned(),
            |[a, b, c]| format!("{a:.2} {b:.2} {c:.2} ({} CPUs)", m.cpus),
        ),
        memory: of(m.mem_available_bytes, m.mem_total_bytes, "free"),
        disk: of(m.disk_free_bytes, m.disk_total_bytes, "free"),
        temp: m
            .cpu_temp_c
            .map_or_else(|| "no sensor".to_owned(), |t| format!("{t:.1} °C")),
        store_size: s.store_bytes.map_or_else(|| "–".to_owned(), format::bytes),
        s,
    };
    Ok(Html(page.render()?).into_response())
}

/// `GET /system/{metric}.svg`.
pub async fn chart(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let name = file.strip_suffix(".svg").unwrap_or("");
    let Some(&(_, title, f, lo, hi, step, unit)) = CHARTS.iter().find(|c| c.0 == name) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "No such chart.\n",
        )
            .into_response();
    };
    let points = state.history.series(f);
    // Load can exceed the axis; widen it to the highest reading.
    let hi = points.iter().map(|p| p.1).fold(hi, f64::max).ceil();
    let svg = LineChart {
        points: &points,
        y_min: lo,
        y_max: hi,
        y_step: step.max((hi - lo) / 8.0).ceil(),
        unit,
        empty_text: "no readings yet (one every 15 s)",
        title,
    }
    .render();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        svg,
    )
        .into_response()
}

/// `GET /api/v1/system`.
pub async fn api(State(state): State<AppState>) -> Result<Json<SystemView>, WebError> {
    Ok(Json(view(&state).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_keeps_the_newest() {
        let h = History::default();
        for i in 0..(SAMPLES_KEPT + 5) {
            h.push(
                i as TimeUs,
                HostMetrics {
                    load: Some([i as f64, 0.0, 0.0]),
                    ..Default::default()
                },
            );
        }
        let s = h.series(|m| m.load.map(|l| l[0]));
        assert_eq!(s.len(), SAMPLES_KEPT);
        assert_eq!(s[0].1, 5.0);
        assert_eq!(s.last().unwrap().1, (SAMPLES_KEPT + 4) as f64);
        assert_eq!(h.series(|m| m.cpu_temp_c).len(), 0);
    }

    #[test]
    fn percentages() {
        let m = HostMetrics {
            mem_total_bytes: Some(1000),
            mem_available_bytes: Some(250),
            disk_total_bytes: Some(0),
            disk_free_bytes: Some(0),
            ..Default::default()
        };
        assert_eq!(mem_used_pct(&m), Some(75.0));
        assert_eq!(disk_used_pct(&m), None);
    }
}
