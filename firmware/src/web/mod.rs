//! The web UI: axum routes, askama pages and htmx fragments.
