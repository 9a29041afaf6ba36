//! Static assets compiled into the binary and served from memory under content-hashed names.
//!
//! Each asset is reachable as `/static/<stem>.<hash>.<ext>` (cached immutably: a new build
//! with different bytes gets a new name) and under its plain name (revalidated each time, for
//! people and tools that guess URLs). The hash is computed at compile time, so the names are
//! fixed for a build and cost nothing at start-up.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

/// One file under `web-templates/static/`.
pub struct Asset {
    /// Path under `/static/`, unhashed (e.g. `vendor/htmx.min.js`).
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
    /// The same bytes gzipped, when a precompressed copy is vendored next to the file.
    pub gzip: Option<&'static [u8]>,
    /// FNV-1a of `body`, computed by the compiler.
    pub hash: u64,
}

impl Asset {
    /// The cache-busting URL pages link to.
    pub fn url(&self) -> String {
        let (stem, ext) = self.path.rsplit_once('.').unwrap_or((self.path, ""));
        // 40 bits of hash are plenty to tell builds apart and keep URLs short.
        format!("/static/{stem}.{:010x}.{ext}", self.hash >> 24)
    }
}

/// 64-bit FNV-1a, usable in constants so that the hash is part of the build.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        asset!($path, $ct, None)
    };
    ($path:literal, $ct:expr, $gz:expr) => {{
        const BODY: &[u8] = include_bytes!(concat!("../../../web-templates/static/", $path));
        Asset {
            path: $path,
            content_type: $ct,
            body: BODY,
            gzip: $gz,
            hash: fnv1a(BODY),
        }
    }};
}

const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every asset the server knows. Licence files are served too, so the vendored code's terms
/// travel with it.
pub static ASSETS: [Asset; 11] = [
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!(
        "vendor/htmx.min.js",
        JS,
        Some(include_bytes!(
            "../../../web-templates/static/vendor/htmx.min.js.gz"
        ))
    ),
    asset!("vendor/htmx-ext-sse.min.js", JS),
    asset!("vendor/htmx.LICENSE", TEXT),
    asset!("vendor/htmx-ext-sse.LICENSE", TEXT),
    asset!("vendor/README.md", "text/markdown; charset=utf-8"),
    asset!("map.js", JS),
    asset!(
        "vendor/leaflet/leaflet.js",
        JS,
        Some(include_bytes!(
            "../../../web-templates/static/vendor/leaflet/leaflet.js.gz"
        ))
    ),
    asset!("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
    asset!("vendor/leaflet/LICENSE", TEXT),
];

/// The URLs pages link to, built once.
pub struct Urls {
    pub css: String,
    pub htmx: String,
    pub htmx_sse: String,
    pub icon: String,
    pub map_js: String,
    pub leaflet_js: String,
    pub leaflet_css: String,
}

pub static URLS: LazyLock<Urls> = LazyLock::new(|| Urls {
    css: by_path("app.css").url(),
    htmx: by_path("vendor/htmx.min.js").url(),
    htmx_sse: by_path("vendor/htmx-ext-sse.min.js").url(),
    icon: by_path("icon.svg").url(),
    map_js: by_path("map.js").url(),
    leaflet_js: by_path("vendor/leaflet/leaflet.js").url(),
    leaflet_css: by_path("vendor/leaflet/leaflet.css").url(),
});

fn by_path(path: &str) -> &'static Asset {
    ASSETS
        .iter()
        .find(|a| a.path == path)
        .expect("every asset named in the code is in ASSETS")
}

/// Looks up `/static/<path>`: the hashed name (immutable) or the plain one (revalidate).
/// A hashed name with a stale hash is not found, rather than served with the wrong bytes
/// under a name the browser would then cache for a year.
fn lookup(path: &str) -> Option<(&'static Asset, bool)> {
    ASSETS.iter().find_map(|a| {
        if a.path == path {
            Some((a, false))
        } else if a.url().strip_prefix("/static/") == Some(path) {
            Some((a, true))
        } else {
            None
        }
    })
}

/// True when the client's `Accept-Encoding` allows gzip (`gzip` or `*` with a non-zero q).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

/// Serves one asset, or 404.
pub fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some((asset, hashed)) = lookup(path) else {
        return (StatusCode::NOT_FOUND, "no such static file").into_response();
    };
    let cache = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut resp = Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::CACHE_CONTROL, cache)
        .header(
            header::ETAG,
            HeaderValue::from_str(&format!("\"{:016x}\"", asset.hash))
                .unwrap_or(HeaderValue::from_static("\"0\"")),
        );
    if asset.gzip.is_some() {
        // The body depends on Accept-Encoding; caches must keep the two apart.
        resp = resp.header(header::VARY, "Accept-Encoding");
    }
    let etag_matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == format!("\"{:016x}\"", asset.hash))
        });
    let built = if etag_matches {
        resp.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        match asset.gzip {
            Some(gz) if accepts_gzip(headers) => resp
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from(gz)),
            _ => resp.body(Body::from(asset.body)),
        }
    };
    built.unwrap_or_else(|e| {
        tracing::error!("building the response for /static/{path}: {e}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_urls_differ_by_content_and_resolve() {
        let css = by_path("app.css");
        let url = css.url();
        assert!(
            url.starts_with("/static/app.") && url.ends_with(".css"),
            "{url}"
        );
        let (found, hashed) = lookup(url.strip_prefix("/static/").unwrap()).unwrap();
        assert!(hashed && std::ptr::eq(found, css));
        assert_ne!(url, by_path("vendor/htmx.min.js").url());
        assert!(lookup("app.0000000000.css").is_none());
        assert!(lookup("../Cargo.toml").is_none());
    }

    #[test]
    fn gzip_negotiation() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(accepts_gzip(&h("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn vendored_gzip_matches_the_plain_file() {
        // The .gz is served in place of the .js, so it must be the same bytes, compressed.
        // Checking the gzip trailer (CRC-free: ISIZE, the uncompressed length) is enough to
        // catch a .gz left over from another version without a decompressor dependency.
        let a = by_path("vendor/htmx.min.js");
        let gz = a.gzip.unwrap();
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
        assert_eq!(isize as usize, a.body.len());
    }
}
