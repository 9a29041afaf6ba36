//! The channels page: how many access points advertise each channel, per band, as server-rendered SVG bar charts (and as JSON).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::ControlFlow;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::auth::Ctx;
use super::chart::xml_escape;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::model::Band;

/// APs per channel in one band.
#[derive(Debug, Serialize)]
pub struct BandCounts {
    /// "2.4", "5", "6" or "60".
    pub band: &'static str,
    pub label: &'static str,
    pub total: u64,
    /// (channel, APs), by channel.
    pub channels: Vec<(u16, u64)>,
}

fn band_key(b: Band) -> &'static str {
    match b {
        Band::B2_4 => "2.4",
        Band::B5 => "5",
        Band::B6 => "6",
        Band::B60 => "60",
    }
}

const BANDS: [Band; 4] = [Band::B2_4, Band::B5, Band::B6, Band::B60];

/// Counts every stored AP with a known band and channel.
async fn counts(state: &AppState) -> Result<Vec<BandCounts>, WebError> {
    let map = state
        .read(|s| {
            let mut m: BTreeMap<(u8, u16), u64> = BTreeMap::new();
            let _ = s.snapshot()?.for_each_ap(|ap| {
                if let (Some(b), Some(c)) = (ap.band, ap.channel) {
                    let i = BANDS.iter().position(|x| *x == b).unwrap_or(0) as u8;
                    *m.entry((i, c)).or_default() += 1;
                }
                ControlFlow::<()>::Continue(())
            })?;
            Ok(m)
        })
        .await?;
    Ok(BANDS
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| {
            let channels: Vec<(u16, u64)> = map
                .range((i as u8, 0)..=(i as u8, u16::MAX))
                .map(|(&(_, c), &n)| (c, n))
                .collect();
            (!channels.is_empty() || b != Band::B60).then(|| BandCounts {
                band: band_key(b),
                label: b.label(),
                total: channels.iter().map(|c| c.1).sum(),
                channels,
            })
        })
        .collect())
}

/// A bar per channel, labelled with the channel and the count.
pub fn bars_svg(b: &BandCounts) -> String {
    const H: f64 = 180.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 22.0;
    const BAR: f64 = 22.0;
    const GAP: f64 = 6.0;
    let n = b.channels.len().max(1) as f64;
    let w = (n * (BAR + GAP) + GAP).max(200.0);
    let max = b.channels.iter().map(|c| c.1).max().unwrap_or(1).max(1) as f64;
    let plot = H - TOP - BOTTOM;
    let mut s = String::with_capacity(2048);
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {H}" width="{w}" height="{H}" font-family="sans-serif" font-size="11" role="img"><title>{}</title><rect width="100%" height="100%" fill="#fff"/>"##,
        xml_escape(&format!("Access points per channel, {}", b.label))
    );
    if b.channels.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">no access point in this band</text></svg>"##,
            w / 2.0,
            H / 2.0
        );
        return s;
    }
    for (i, (ch, count)) in b.channels.iter().enumerate() {
        let x = GAP + i as f64 * (BAR + GAP);
        let h = plot * (*count as f64 / max);
        let y = TOP + plot - h;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{BAR}" height="{h:.1}" fill="#0366d6"><title>channel {ch}: {count}</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#222">{count}</text><text x="{:.1}" y="{}" text-anchor="middle" fill="#555">{ch}</text>"##,
            x + BAR / 2.0,
            y - 4.0,
            x + BAR / 2.0,
            H - 6.0
        );
    }
    s.push_str("</svg>");
    s
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    layout: Layout,
    bands: Vec<BandCounts>,
}

/// `GET /channels`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let page = ChannelsPage {
        layout: Layout::new("/channels", &ctx),
        bands: counts(&state).await?,
    };
    Ok(Html(page.render()?).into_response())
}

/// `GET /channels/{band}.svg` (band: 2.4, 5, 6 or 60).
pub async fn svg(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(file): Path<String>,
) -> Result<Response, WebError> {
    let band = file.strip_suffix(".svg").unwrap_or("");
    let bands = counts(&state).await?;
    let Some(b) = bands.iter().find(|b| b.band == band) else {
        return super::pages::not_found(ctx).await;
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        bars_svg(b),
    )
        .into_response())
}

/// `GET /api/v1/channels`.
pub async fn api(State(state): State<AppState>) -> Result<Json<Vec<BandCounts>>, WebError> {
    Ok(Json(counts(&state).await?))
}
