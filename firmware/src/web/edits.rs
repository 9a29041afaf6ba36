//! The user's edits from the UI and the API: a network's label, note and "ignore", and the home exclusion zones; each one durable transaction through `Store::update_edits`.
//!
//! Every edit is made as this node (`Store::sync_id`, the actor the edits' CRDTs need) at the
//! current time, and flows to the hub and the other devices with the next sync. The gate
//! makes every route here admin only (state-changing methods: CSRF token or API token,
//! viewers refused). Labels and notes are user text but are treated as hostile all the
//! same: askama escapes them on pages, serde_json in the API.
//!
//! Forms (the network page, the settings page) answer with a redirect back; the API
//! (`PUT /api/v1/networks/{bssid}/label|note|ignored`, `GET|POST /api/v1/zones`,
//! `DELETE /api/v1/zones/{zone}`) answers with JSON, refusals with `{"error": ...}`.

use std::str::FromStr;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use piwardrive_sync::edits::{MAX_LABEL_LEN, MAX_NOTE_LEN, MAX_ZONE_RADIUS_M};
use piwardrive_sync::{Edits, Mac, Zone};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::auth::{Ctx, json_error};
use super::{AppState, WebError};
use crate::dot11::MacAddr;

/// What the user has said about one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NetEdits {
    pub label: Option<String>,
    pub note: Option<String>,
    pub ignored: bool,
}

impl NetEdits {
    pub fn of(edits: &Edits, bssid: MacAddr) -> NetEdits {
        let m = Mac(bssid.octets());
        NetEdits {
            label: edits.label(&m).map(str::to_owned),
            note: edits.note(&m).map(str::to_owned),
            ignored: edits.is_ignored(&m),
        }
    }
}

/// A label as typed: trimmed, one line, at most [`MAX_LABEL_LEN`] bytes; "" clears it.
pub fn clean_label(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.chars().any(char::is_control) {
        return Err("label: one line only, without control characters".into());
    }
    if t.len() > MAX_LABEL_LEN {
        return Err(format!(
            "label: {} bytes, longer than the limit of {MAX_LABEL_LEN}",
            t.len()
        ));
    }
    Ok(t.to_owned())
}

/// A note as typed: line ends made LF, trailing blanks trimmed, no other control
/// characters but tabs, at most [`MAX_NOTE_LEN`] bytes; "" clears it.
pub fn clean_note(text: &str) -> Result<String, String> {
    let t = text.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim_end();
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("note: control characters other than line ends and tabs".into());
    }
    if t.len() > MAX_NOTE_LEN {
        return Err(format!(
            "note: {} bytes, longer than the limit of {MAX_NOTE_LEN}",
            t.len()
        ));
    }
    Ok(t.to_owned())
}

/// A zone from degrees and metres, checked.
pub fn zone_of(lat: f64, lon: f64, radius_m: f64) -> Result<Zone, String> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err("latitude: a number of degrees from -90 to 90".into());
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err("longitude: a number of degrees from -180 to 180".into());
    }
    if !radius_m.is_finite() || !(1.0..=f64::from(MAX_ZONE_RADIUS_M)).contains(&radius_m) {
        return Err(format!(
            "radius: a number of metres from 1 to {MAX_ZONE_RADIUS_M}"
        ));
    }
    // In range, so the casts cannot saturate.
    Ok(Zone {
        lat_e7: (lat * 1e7).round() as i32,
        lon_e7: (lon * 1e7).round() as i32,
        radius_m: radius_m.round() as u32,
    })
}

/// A zone's id in the API and the remove form: `lat_e7_lon_e7_radius` (exact, unlike the
/// degrees).
pub fn zone_id(z: &Zone) -> String {
    format!("{}_{}_{}", z.lat_e7, z.lon_e7, z.radius_m)
}

pub fn parse_zone_id(s: &str) -> Option<Zone> {
    let mut it = s.split('_');
    let z = Zone {
        lat_e7: it.next()?.parse().ok()?,
        lon_e7: it.next()?.parse().ok()?,
        radius_m: it.next()?.parse().ok()?,
    };
    (it.next().is_none()).then_some(z)
}

/// One edit to make.
enum Edit {
    Label(String),
    Note(String),
    Ignore(bool),
}

/// Makes `edit` on the network `bssid`, which must be recorded here; `Ok(None)` when it is not.
async fn edit_network(
    state: &AppState,
    bssid: MacAddr,
    edit: Edit,
) -> Result<Option<NetEdits>, WebError> {
    state
        .read(move |s| {
            if s.ap(bssid)?.is_none() {
                return Ok(None);
            }
            let me = s.sync_id();
            let now = crate::accounts::now_us();
            let m = Mac(bssid.octets());
            let edits = s.update_edits(|e| {
                // The texts were checked against the limits above; the crate checks again.
                let _ = match &edit {
                    Edit::Label(t) => e.set_label(me, m, t, now),
                    Edit::Note(t) => e.set_note(me, m, t, now),
                    Edit::Ignore(true) => {
                        e.ignore(me, m);
                        Ok(())
                    }
                    Edit::Ignore(false) => {
                        e.unignore(me, m);
                        Ok(())
                    }
                };
                NetEdits::of(e, bssid)
            })?;
            Ok(Some(edits))
        })
        .await
}

// ---- forms ------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct LabelForm {
    #[serde(default)]
    label: String,
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct IgnoreForm {
    /// `yes` to ignore, `no` to stop ignoring.
    ignored: String,
}

async fn form_edit(
    state: &AppState,
    ctx: &Ctx,
    bssid: &str,
    edit: Result<Edit, String>,
) -> Result<Response, WebError> {
    let Ok(mac) = MacAddr::from_str(bssid) else {
        return super::pages::message_page(
            ctx,
            StatusCode::NOT_FOUND,
            "That is not a BSSID (expected six hex octets, like 00:11:22:aa:bb:cc).",
        );
    };
    let edit = match edit {
        Ok(e) => e,
        Err(msg) => return super::pages::message_page(ctx, StatusCode::BAD_REQUEST, &msg),
    };
    match edit_network(state, mac, edit).await? {
        Some(_) => Ok(Redirect::to(&format!("/networks/{mac}#edits")).into_response()),
        None => super::pages::message_page(
            ctx,
            StatusCode::NOT_FOUND,
            &format!("No network with BSSID {mac} has been recorded."),
        ),
    }
}

/// `POST /networks/{bssid}/label`.
pub async fn post_label(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(bssid): Path<String>,
    Form(f): Form<LabelForm>,
) -> Result<Response, WebError> {
    let edit = clean_label(&f.label).map(Edit::Label);
    form_edit(&state, &ctx, &bssid, edit).await
}

/// `POST /networks/{bssid}/note`.
pub async fn post_note(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(bssid): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, WebError> {
    let edit = clean_note(&f.note).map(Edit::Note);
    form_edit(&state, &ctx, &bssid, edit).await
}

/// `POST /networks/{bssid}/ignore` (`ignored=yes|no`).
pub async fn post_ignore(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(bssid): Path<String>,
    Form(f): Form<IgnoreForm>,
) -> Result<Response, WebError> {
    let edit = match f.ignored.as_str() {
        "yes" => Ok(Edit::Ignore(true)),
        "no" => Ok(Edit::Ignore(false)),
        _ => Err("ignored: yes or no".to_owned()),
    };
    form_edit(&state, &ctx, &bssid, edit).await
}

#[derive(Deserialize)]
pub struct ZoneForm {
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    radius_m: String,
}

fn number(what: &str, s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| {
        format!(
            "{what}: not a number ({:?})",
            s.chars().take(40).collect::<String>()
        )
    })
}

/// `POST /settings/zones`: adds a home zone.
pub async fn post_zone(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ZoneForm>,
) -> Result<Response, WebError> {
    let zone = number("latitude", &f.lat).and_then(|lat| {
        let lon = number("longitude", &f.lon)?;
        let r = number("radius", &f.radius_m)?;
        zone_of(lat, lon, r)
    });
    match zone {
        Ok(z) => {
            add_zone(&state, z).await?;
            Ok(Redirect::to("/settings#zones").into_response())
        }
        Err(msg) => super::settings::zone_refused(&state, &ctx, msg).await,
    }
}

#[derive(Deserialize)]
pub struct ZoneRemoveForm {
    zone: String,
}

/// `POST /settings/zones/remove`.
pub async fn post_zone_remove(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<ZoneRemoveForm>,
) -> Result<Response, WebError> {
    let Some(z) = parse_zone_id(&f.zone) else {
        return super::settings::zone_refused(&state, &ctx, "That is not a zone.".into()).await;
    };
    if remove_zone(&state, z).await? {
        Ok(Redirect::to("/settings#zones").into_response())
    } else {
        super::settings::zone_refused(&state, &ctx, "There is no such zone (any more).".into())
            .await
    }
}

async fn add_zone(state: &AppState, z: Zone) -> Result<(), WebError> {
    state
        .read(move |s| {
            let me = s.sync_id();
            // Checked by `zone_of`; the crate checks again.
            s.update_edits(|e| e.add_zone(me, z)).map(|_| ())
        })
        .await
}

/// Removes `z`; false when it is not a zone now.
async fn remove_zone(state: &AppState, z: Zone) -> Result<bool, WebError> {
    state
        .read(move |s| {
            let me = s.sync_id();
            s.update_edits(|e| {
                if !e.zones().contains(&z) {
                    return false;
                }
                e.remove_zone(me, z);
                true
            })
        })
        .await
}

// ---- API ----------------------------------------------------------------------------------

/// A JSON body, or what was wrong with it (for a JSON 400).
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body)
        .map_err(|e| format!("the body is not the JSON this endpoint takes: {e}"))
}

/// `PUT /api/v1/networks/{bssid}/label` and `/note`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
}

/// `PUT /api/v1/networks/{bssid}/ignored`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoredBody {
    ignored: bool,
}

/// The network's edits after a change, as the API answers.
#[derive(Debug, Serialize)]
pub struct NetEditsJson {
    pub bssid: String,
    #[serde(flatten)]
    pub edits: NetEdits,
}

async fn api_edit(
    state: &AppState,
    bssid: &str,
    edit: Result<Edit, String>,
) -> Result<Response, WebError> {
    let Ok(mac) = MacAddr::from_str(bssid) else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "not a BSSID: expected six hex octets, like 00:11:22:aa:bb:cc",
        ));
    };
    let edit = match edit {
        Ok(e) => e,
        Err(msg) => return Ok(bad(msg)),
    };
    Ok(match edit_network(state, mac, edit).await? {
        Some(edits) => axum::Json(NetEditsJson {
            bssid: mac.to_string(),
            edits,
        })
        .into_response(),
        None => json_error(
            StatusCode::NOT_FOUND,
            &format!("no network with BSSID {mac} has been recorded"),
        ),
    })
}

fn bad(msg: String) -> Response {
    json_error(StatusCode::BAD_REQUEST, &msg)
}

/// `PUT /api/v1/networks/{bssid}/label` `{"text": "..."}` ("" clears it).
pub async fn put_label(
    State(state): State<AppState>,
    Path(bssid): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let edit = json_body::<TextBody>(&body)
        .and_then(|b| clean_label(&b.text))
        .map(Edit::Label);
    api_edit(&state, &bssid, edit).await
}

/// `PUT /api/v1/networks/{bssid}/note` `{"text": "..."}` ("" clears it).
pub async fn put_note(
    State(state): State<AppState>,
    Path(bssid): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let edit = json_body::<TextBody>(&body)
        .and_then(|b| clean_note(&b.text))
        .map(Edit::Note);
    api_edit(&state, &bssid, edit).await
}

/// `PUT /api/v1/networks/{bssid}/ignored` `{"ignored": true|false}`.
pub async fn put_ignored(
    State(state): State<AppState>,
    Path(bssid): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let edit = json_body::<IgnoredBody>(&body).map(|b| Edit::Ignore(b.ignored));
    api_edit(&state, &bssid, edit).await
}

/// One home zone in the API.
#[derive(Debug, Serialize)]
pub struct ZoneJson {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: u32,
}

impl ZoneJson {
    pub fn new(z: &Zone) -> ZoneJson {
        ZoneJson {
            id: zone_id(z),
            lat: f64::from(z.lat_e7) / 1e7,
            lon: f64::from(z.lon_e7) / 1e7,
            radius_m: z.radius_m,
        }
    }
}

/// `GET /api/v1/zones`.
pub async fn get_zones(State(state): State<AppState>) -> Result<Response, WebError> {
    let edits = state.read(|s| s.edits()).await?;
    let zones: Vec<ZoneJson> = edits.zones().iter().map(ZoneJson::new).collect();
    Ok(axum::Json(zones).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneBody {
    lat: f64,
    lon: f64,
    radius_m: f64,
}

/// `POST /api/v1/zones` `{"lat", "lon", "radius_m"}`: 201 with the zone.
pub async fn post_zone_api(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, WebError> {
    let zone = match json_body::<ZoneBody>(&body).and_then(|b| zone_of(b.lat, b.lon, b.radius_m)) {
        Ok(z) => z,
        Err(msg) => return Ok(bad(msg)),
    };
    add_zone(&state, zone).await?;
    Ok((StatusCode::CREATED, axum::Json(ZoneJson::new(&zone))).into_response())
}

/// `DELETE /api/v1/zones/{zone}`: 204, or 404 when there is no such zone.
pub async fn delete_zone_api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let Some(z) = parse_zone_id(&id) else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "not a zone id: expected LAT_E7_LON_E7_RADIUS as GET /api/v1/zones lists them",
        ));
    };
    Ok(if remove_zone(&state, z).await? {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_error(StatusCode::NOT_FOUND, "there is no such zone")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_line_and_bounded() {
        assert_eq!(clean_label("  Home router \t").unwrap(), "Home router");
        assert!(clean_label("a\nb").is_err());
        assert!(clean_label("a\u{7}b").is_err());
        assert!(clean_label(&"x".repeat(MAX_LABEL_LEN)).is_ok());
        assert!(clean_label(&"x".repeat(MAX_LABEL_LEN + 1)).is_err());
        assert_eq!(clean_label("<b>&</b>").unwrap(), "<b>&</b>");
    }

    #[test]
    fn notes_keep_lines_and_tabs() {
        assert_eq!(clean_note("a\r\nb\r\tc  \n").unwrap(), "a\nb\n\tc");
        assert!(clean_note("a\u{0}b").is_err());
        assert!(clean_note(&"x".repeat(MAX_NOTE_LEN + 1)).is_err());
    }

    #[test]
    fn zones_round_trip_their_ids_and_refuse_bad_values() {
        let z = zone_of(-33.8688, 151.2093, 150.0).unwrap();
        assert_eq!(
            z,
            Zone {
                lat_e7: -338_688_000,
                lon_e7: 1_512_093_000,
                radius_m: 150
            }
        );
        assert_eq!(parse_zone_id(&zone_id(&z)), Some(z));
        assert_eq!(parse_zone_id("1_2"), None);
        assert_eq!(parse_zone_id("1_2_3_4"), None);
        assert!(zone_of(91.0, 0.0, 10.0).is_err());
        assert!(zone_of(0.0, f64::NAN, 10.0).is_err());
        assert!(zone_of(0.0, 0.0, 0.0).is_err());
        assert!(zone_of(0.0, 0.0, 100_001.0).is_err());
    }
}
