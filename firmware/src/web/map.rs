//! The map page (vendored Leaflet, offline: networks and the GPS track over the user's raster tiles, or over a plain projected grid with a scale bar) and the track as GeoJSON.
//!
//! The tiles come from the archive in `<data_dir>/tiles/` (see [`super::tiles`]); the page
//! hands map.js the tile URL, zoom range, bounds and attribution in data attributes, and says
//! in words which archive is drawn, or why none is.
//!
//! The networks come from the GeoJSON export (`/exports/geojson`), the track from
//! `/api/v1/track`, thinned to at most [`TRACK_POINTS`] points by keeping every n-th one so a
//! long drive stays a light download for the phone.

use std::ops::ControlFlow;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::assets::URLS;
use super::auth::Ctx;
use super::pages::Layout;
use super::tiles::TilesView;
use super::{AppState, WebError};

/// Most points `/api/v1/track` returns.
pub const TRACK_POINTS: usize = 5000;

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    layout: Layout,
    leaflet_js: &'static str,
    leaflet_css: &'static str,
    map_js: &'static str,
    tiles: TilesView,
}

/// `GET /map`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    // Listing the tile folder and opening an archive read the card: off the async workers.
    let tiles = state.tiles.clone();
    let tiles = tokio::task::spawn_blocking(move || TilesView::read(&tiles))
        .await
        .map_err(|e| WebError::Internal(format!("tile folder task failed: {e}")))?;
    let page = MapPage {
        layout: Layout::new("/map", &ctx),
        leaflet_js: &URLS.leaflet_js,
        leaflet_css: &URLS.leaflet_css,
        map_js: &URLS.map_js,
        tiles,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct TrackParams {
    /// Only this session's time span.
    pub session: Option<u64>,
}

/// `GET /api/v1/track?session=N`: a GeoJSON Feature with a LineString (`[lon, lat]`, RFC 7946).
pub async fn track(
    State(state): State<AppState>,
    super::api::ApiQuery(p): super::api::ApiQuery<TrackParams>,
) -> Result<Json<serde_json::Value>, WebError> {
    let coords = state
        .read(move |s| {
            let snap = s.snapshot()?;
            use std::ops::Bound;
            let range: (Bound<i64>, Bound<i64>) = match p.session {
                Some(id) => match snap.session_time_range(id)? {
                    Some(r) => r,
                    None => return Ok(Vec::new()),
                },
                None => (Bound::Unbounded, Bound::Unbounded),
            };
            let mut all: Vec<[f64; 2]> = Vec::new();
            let _ = snap.for_each_track_point(range, |f| {
                all.push([(f.lon * 1e6).round() / 1e6, (f.lat * 1e6).round() / 1e6]);
                ControlFlow::<()>::Continue(())
            })?;
            if all.len() > TRACK_POINTS {
                let every = all.len().div_ceil(TRACK_POINTS);
                let last = *all.last().expect("not empty");
                all = all.into_iter().step_by(every).collect();
                if all.last() != Some(&last) {
                    all.push(last);
                }
            }
            Ok(all)
        })
        .await?;
    Ok(Json(serde_json::json!({
        "type": "Feature",
        "properties": { "points": coords.len() },
        "geometry": { "type": "LineString", "coordinates": coords },
    })))
}
