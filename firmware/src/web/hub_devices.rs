//! The hub's Devices page (admin only): make an enrollment code, list the enrolled devices, revoke one; and the admin API route that makes a code for scripts.
//!
//! Only `piwardrive hub` has a hub behind its UI ([`AppState::with_hub`]); elsewhere the page
//! says so and the API route answers 404. The gate makes every `/hub/` path and
//! `/api/v1/hub/` path admin only (`auth::is_admin_only`) and checks the CSRF token of the
//! forms.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{self, Ctx};
use super::format;
use super::pages::Layout;
use super::{AppState, WebError};
use crate::accounts;
use crate::hub::{Hub, NewCode};

struct DeviceRow {
    id: String,
    name: String,
    enrolled: String,
    last_seen: String,
    /// Observations of this device the hub holds.
    held: u64,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "hub_devices.html")]
struct DevicesPage {
    layout: Layout,
    /// False when this process is not `piwardrive hub`.
    is_hub: bool,
    fingerprint: String,
    cert_path: String,
    open_codes: usize,
    devices: Vec<DeviceRow>,
    new_code: Option<NewCode>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    new_code: Option<NewCode>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let Some(hub) = &state.hub else {
        let page = DevicesPage {
            layout: Layout::new("/hub/devices", ctx),
            is_hub: false,
            fingerprint: String::new(),
            cert_path: String::new(),
            open_codes: 0,
            devices: Vec::new(),
            new_code: None,
            error,
        };
        return Ok((status, Html(page.render()?)).into_response());
    };
    let (devices, held) = state
        .read(|s| Ok((s.hub_devices()?, s.hub_devices_held()?)))
        .await?;
    let held: std::collections::HashMap<[u8; 16], u64> =
        held.into_iter().map(|(d, n)| (d.0, n)).collect();
    let devices = devices
        .iter()
        .map(|d| {
            // Every sync request authenticates, so the last authenticated request is the
            // last sync.
            let seen = hub.last_seen(&d.id).max(d.last_seen_us);
            DeviceRow {
                id: accounts::to_hex(&d.id),
                name: d.name.clone(),
                enrolled: format::time_short(d.enrolled_us),
                last_seen: seen.map_or_else(|| "never".to_owned(), format::time_short),
                held: held.get(&d.id).copied().unwrap_or(0),
                revoked: d.revoked_us.map(format::time_short),
            }
        })
        .collect();
    let page = DevicesPage {
        layout: Layout::new("/hub/devices", ctx),
        is_hub: true,
        fingerprint: crate::hub::tls::fingerprint_text(&hub.fingerprint()),
        cert_path: hub.cert_path().display().to_string(),
        open_codes: hub.open_codes(),
        devices,
        new_code,
        error,
    };
    let mut resp = (status, Html(page.render()?)).into_response();
    // A code on the page is a secret for ten minutes: keep it out of every cache.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `GET /hub/devices`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    render(&state, &ctx, StatusCode::OK, None, None).await
}

fn new_code(hub: &Hub) -> Result<NewCode, WebError> {
    let code = hub
        .new_code()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    tracing::info!("hub: an enrollment code was made");
    Ok(code)
}

/// `POST /hub/devices/code`: makes a code and shows it.
pub async fn make_code(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    let Some(hub) = &state.hub else {
        return render(
            &state,
            &ctx,
            StatusCode::NOT_FOUND,
            None,
            Some("This PiWardrive is not a hub.".into()),
        )
        .await;
    };
    let code = new_code(hub)?;
    render(&state, &ctx, StatusCode::OK, Some(code), None).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    id: String,
}

/// `POST /hub/devices/revoke`: the device's token stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<RevokeForm>,
) -> Result<Response, WebError> {
    let Some(id) = accounts::from_hex::<16>(&f.id) else {
        return render(
            &state,
            &ctx,
            StatusCode::BAD_REQUEST,
            None,
            Some("That is not a device id.".into()),
        )
        .await;
    };
    let now = accounts::now_us();
    if state.read(move |s| s.revoke_hub_device(&id, now)).await? {
        tracing::info!(device = %f.id, "hub: device token revoked");
        Ok(Redirect::to("/hub/devices").into_response())
    } else {
        render(
            &state,
            &ctx,
            StatusCode::NOT_FOUND,
            None,
            Some("No enrolled device has that id, or it is revoked already.".into()),
        )
        .await
    }
}

/// `POST /api/v1/hub/enroll-codes` (admin API token or session): a new enrollment code as
/// JSON (`code`, `expires_in_s`, `fingerprint`), 201.
pub async fn api_make_code(State(state): State<AppState>) -> Result<Response, WebError> {
    let Some(hub) = &state.hub else {
        return Ok(auth::json_error(
            StatusCode::NOT_FOUND,
            "this PiWardrive is not a hub (start it with `piwardrive hub`)",
        ));
    };
    let code = new_code(hub)?;
    let mut resp = (StatusCode::CREATED, axum::Json(code)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
