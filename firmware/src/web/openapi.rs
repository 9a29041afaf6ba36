//! The OpenAPI 3.1 description of `/api/v1`, served at `GET /api/v1/openapi.json`.
//!
//! The document is written by hand in `openapi.json` beside this file and compiled in. It
//! is kept true by the tests below, not by discipline: they validate it against the official
//! OpenAPI 3.1 schema, request every documented path and hold each real answer (on a store
//! full of hostile SSIDs) to the documented response schema, and check that every
//! `/api/v1` route of [`super::router`] is documented.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT,
    )
        .into_response()
}
