//! Offline map tiles: finds the raster MBTiles or PMTiles archive the user put in
//! `<data_dir>/tiles/`, reads its metadata, and serves its tiles at `GET /tiles/{z}/{x}/{y}`.
//!
//! The folder is looked at again on every map page and tile request (one directory listing
//! and a `stat`), so an archive copied in, replaced or removed while the appliance runs is
//! used from the next page load on; an archive is opened again only when its name, size or
//! modification time changes. With several archives, the first by file name is used and the
//! map page says which. Archives are only ever read, a tile at a time.
//!
//! Architecture invariant: nothing here reaches outside the device. Tiles come from the one
//! file; the map page's attribution is plain text (HTML in an archive's metadata is dropped).

mod mbtiles;
mod pmtiles;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// The folder under the data directory that holds the archive.
pub const TILES_DIR: &str = "tiles";
/// The deepest zoom level served: the last one whose PMTiles tile ids fit in 64 bits.
pub const MAX_ZOOM: u8 = 31;
/// How long a browser may keep a tile. The map page adds the archive's version to the tile
/// URLs, so a replaced archive's tiles are fetched anew at once.
const TILE_CACHE: &str = "private, max-age=86400";

pub(crate) const VECTOR_MESSAGE: &str = "it holds vector tiles: vector tiles are not supported; use a raster archive (PNG, JPEG, \
     WebP or AVIF tiles)";

/// The image format of an archive's tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Avif,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Webp => "WebP",
            Format::Avif => "AVIF",
        }
    }
}

/// The format an MBTiles `format` value (or the same key in PMTiles metadata) names.
fn format_from_name(path: &Path, name: &str) -> Result<Format, ArchiveError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "png" => Ok(Format::Png),
        "jpg" | "jpeg" => Ok(Format::Jpeg),
        "webp" => Ok(Format::Webp),
        "avif" => Ok(Format::Avif),
        "pbf" | "mvt" => Err(ArchiveError::new(
            path,
            ErrorKind::Vector,
            VECTOR_MESSAGE.into(),
        )),
        other => Err(ArchiveError::new(
            path,
            ErrorKind::Unsupported,
            format!(
                "tiles of format {:?} are not supported: use PNG, JPEG, WebP or AVIF tiles",
                plain_text(other, 40)
            ),
        )),
    }
}

/// The image format of a tile from its first bytes.
fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(Format::Jpeg)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if head.len() >= 12 && &head[4..12] == b"ftypavif" {
        Some(Format::Avif)
    } else {
        None
    }
}

/// The area an archive covers, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub west: f64,
    pub south: f64,
    pub east: f64,
    pub north: f64,
}

impl Bounds {
    /// `None` unless the numbers make a box on the globe (a writer that leaves the bounds
    /// out writes zeros).
    pub fn new(west: f64, south: f64, east: f64, north: f64) -> Option<Bounds> {
        let ok = (-180.0..=180.0).contains(&west)
            && (-180.0..=180.0).contains(&east)
            && (-90.0..=90.0).contains(&south)
            && (-90.0..=90.0).contains(&north)
            && west < east
            && south < north;
        ok.then_some(Bounds {
            west,
            south,
            east,
            north,
        })
    }
}

/// What the map page needs to know of an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub name: Option<String>,
    pub attribution: Option<String>,
    pub format: Format,
    pub min_zoom: u8,
    pub max_zoom: u8,
    pub bounds: Option<Bounds>,
}

/// One tile's bytes, as stored. `gzip` when they are gzip-compressed (sent with
/// `Content-Encoding: gzip`, which every browser takes).
#[derive(Debug)]
pub struct Tile {
    pub data: Vec<u8>,
    pub gzip: bool,
}

/// A checked tile address, XYZ scheme (row 0 at the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl std::fmt::Display for TileCoord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

impl TileCoord {
    /// Parses the three path segments: whole numbers, z from 0 to [`MAX_ZOOM`], x and y
    /// inside the 2^z × 2^z grid.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<TileCoord, String> {
        let number = |what: &str, s: &str| -> Result<u64, String> {
            if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "tile {what} {:?} is not a whole number (tiles are /tiles/Z/X/Y, e.g. \
                     /tiles/3/4/2)",
                    plain_text(s, 20)
                ));
            }
            s.parse::<u64>().map_err(|e| format!("tile {what}: {e}"))
        };
        let z = number("zoom", z)?;
        if z > u64::from(MAX_ZOOM) {
            return Err(format!("zoom {z} is past the deepest level, {MAX_ZOOM}"));
        }
        let (x, y) = (number("x", x)?, number("y", y)?);
        let side = 1u64 << z;
        if x >= side || y >= side {
            return Err(format!(
                "tile {x}/{y} is outside zoom {z}'s grid (x and y from 0 to {})",
                side - 1
            ));
        }
        Ok(TileCoord {
            z: z as u8,
            x: x as u32,
            y: y as u32,
        })
    }
}

/// What went wrong with an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// It could not be read (permissions, I/O).
    Io,
    /// Its bytes contradict its format (truncated, damaged, not an archive at all).
    Corrupt,
    /// It holds vector tiles.
    Vector,
    /// A valid archive of a kind not served here (tile format, compression).
    Unsupported,
}

/// An archive problem, for the log and the map page: the file, and what is wrong (with the
/// byte offset where one applies).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {what}", path.display())]
pub struct ArchiveError {
    pub path: PathBuf,
    pub kind: ErrorKind,
    pub what: String,
}

impl ArchiveError {
    fn new(path: &Path, kind: ErrorKind, what: String) -> ArchiveError {
        ArchiveError {
            path: path.to_owned(),
            kind,
            what,
        }
    }
}

/// An open archive of either kind.
#[derive(Debug)]
pub enum Archive {
    Mb(mbtiles::MbTiles),
    Pm(pmtiles::PmTiles),
}

impl Archive {
    /// Opens `path` by its extension (`.mbtiles` or `.pmtiles`, any case) and reads its
    /// metadata; a vector archive is an error of kind [`ErrorKind::Vector`].
    pub fn open(path: &Path) -> Result<Archive, ArchiveError> {
        match archive_kind(path) {
            Some(Kind::Mb) => mbtiles::MbTiles::open(path).map(Archive::Mb),
            Some(Kind::Pm) => pmtiles::PmTiles::open(path).map(Archive::Pm),
            None => Err(ArchiveError::new(
                path,
                ErrorKind::Unsupported,
                "not an .mbtiles or .pmtiles file".into(),
            )),
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Archive::Mb(a) => a.metadata(),
            Archive::Pm(a) => a.metadata(),
        }
    }

    /// The tile at `c`, or `None` when the archive has none there.
    pub fn tile(&self, c: TileCoord) -> Result<Option<Tile>, ArchiveError> {
        let m = self.metadata();
        if c.z < m.min_zoom || c.z > m.max_zoom {
            return Ok(None);
        }
        match self {
            Archive::Mb(a) => a.tile(c),
            Archive::Pm(a) => a.tile(c),
        }
    }
}

enum Kind {
    Mb,
    Pm,
}

fn archive_kind(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?;
    if ext.eq_ignore_ascii_case("mbtiles") {
        Some(Kind::Mb)
    } else if ext.eq_ignore_ascii_case("pmtiles") {
        Some(Kind::Pm)
    } else {
        None
    }
}

/// At most `max` characters of `s` as plain text: tags dropped, the common entities decoded,
/// white space folded. Archive metadata is outside data; this keeps links and markup out of
/// the page (askama escapes what is left).
pub fn plain_text(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    let mut text = out.trim().to_owned();
    for (entity, c) in [
        ("&copy;", "©"),
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ] {
        text = text.replace(entity, c);
    }
    if text.chars().count() > max {
        text = text.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    text
}

/// The archive the folder held at the last look, opened (or the reason it could not be).
#[derive(Debug)]
pub struct Found {
    /// The archive's path.
    pub path: PathBuf,
    /// Other archives in the folder, by file name, left unused.
    pub ignored: Vec<String>,
    /// Changes with the file's size or modification time: the map page puts it in the tile
    /// URLs so that browsers drop the tiles of a replaced archive.
    pub version: String,
    pub archive: Result<Arc<Archive>, ArchiveError>,
    key: FileKey,
}

/// What identifies one version of an archive file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

/// The folder's state at a look.
#[derive(Debug, Clone)]
pub enum Status {
    /// No archive (the folder may not exist).
    Nothing,
    /// The folder could not be listed.
    Unreadable(String),
    Found(Arc<Found>),
}

/// The tile folder and the archive last opened from it. Cheap to clone.
#[derive(Clone)]
pub struct Tiles {
    dir: Arc<PathBuf>,
    current: Arc<Mutex<Option<Arc<Found>>>>,
}

impl Tiles {
    /// The tiles of the data directory `data_dir` (its `tiles/` folder).
    pub fn new(data_dir: &Path) -> Tiles {
        Tiles {
            dir: Arc::new(data_dir.join(TILES_DIR)),
            current: Arc::new(Mutex::new(None)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Looks at the folder and returns its archive, opening it if it is new or changed.
    /// Blocking (directory listing, file reads): call it on the blocking pool.
    pub fn status(&self) -> Status {
        let mut names = Vec::new();
        match std::fs::read_dir(&*self.dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let path = self.dir.join(&name);
                    // Dot files are left alone: macOS writes "._name.mbtiles" companions
                    // onto FAT-formatted cards, and they are not archives.
                    let hidden = name.as_encoded_bytes().first() == Some(&b'.');
                    if !hidden
                        && archive_kind(&path).is_some()
                        && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
                    {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Status::Unreadable(format!("cannot list {}: {e}", self.dir.display()));
            }
        }
        names.sort();
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let Some(first) = names.first() else {
            *current = None;
            return Status::Nothing;
        };
        let path = self.dir.join(first);
        let key = match std::fs::metadata(&path) {
            Ok(m) => {
                use std::os::unix::fs::MetadataExt as _;
                FileKey {
                    path: path.clone(),
                    len: m.len(),
                    modified: m.modified().ok(),
                    inode: m.ino(),
                }
            }
            // Removed between the listing and now: as if it had not been there.
            Err(_) => {
                *current = None;
                return Status::Nothing;
            }
        };
        let ignored: Vec<String> = names[1..]
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        // The same file as at the last look: keep it open (with the new list of neighbours,
        // should that have changed).
        let archive = match current.as_ref().filter(|f| f.key == key) {
            Some(found) if found.ignored == ignored => return Status::Found(Arc::clone(found)),
            Some(found) => found.archive.clone(),
            None => {
                let archive = Archive::open(&path).map(Arc::new);
                match &archive {
                    Ok(a) => {
                        let m = a.metadata();
                        tracing::info!(
                            "map tiles: using {} ({}, zoom {} to {})",
                            path.display(),
                            m.format.label(),
                            m.min_zoom,
                            m.max_zoom
                        );
                    }
                    Err(e) => tracing::warn!("map tiles: cannot use {e}"),
                }
                archive
            }
        };
        let version = {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(format!("{key:?}").as_bytes());
            digest[..6].iter().map(|b| format!("{b:02x}")).collect()
        };
        let found = Arc::new(Found {
            path,
            ignored,
            version,
            archive,
            key,
        });
        *current = Some(Arc::clone(&found));
        Status::Found(found)
    }

    /// The tile at `c` from the folder's archive. Blocking, like [`Tiles::status`].
    pub fn tile(&self, c: TileCoord) -> TileAnswer {
        match self.status() {
            Status::Nothing => TileAnswer::Missing(format!(
                "no map tiles: put a raster .mbtiles or .pmtiles archive in {}",
                self.dir.display()
            )),
            Status::Unreadable(e) => TileAnswer::Missing(format!("no map tiles: {e}")),
            Status::Found(found) => match &found.archive {
                Err(e) => TileAnswer::Missing(format!("the tile archive cannot be used: {e}")),
                Ok(a) => match a.tile(c) {
                    Ok(Some(t)) => TileAnswer::Tile(t, a.metadata().format),
                    Ok(None) => {
                        TileAnswer::Missing(format!("no tile {c} in {}", found.path.display()))
                    }
                    Err(e) => TileAnswer::Failed(e),
                },
            },
        }
    }
}

/// The outcome of a tile request.
#[derive(Debug)]
pub enum TileAnswer {
    Tile(Tile, Format),
    /// Not there, and why (no archive, an unusable one, or no tile at that address).
    Missing(String),
    /// The archive failed while the tile was read (damage past the header, I/O).
    Failed(ArchiveError),
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body + "\n",
    )
        .into_response()
}

/// `GET /tiles/{z}/{x}/{y}`: one tile of the archive, XYZ scheme.
pub async fn tile(
    State(state): State<AppState>,
    UrlPath((z, x, y)): UrlPath<(String, String, String)>,
) -> Response {
    let c = match TileCoord::parse(&z, &x, &y) {
        Ok(c) => c,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let tiles = state.tiles.clone();
    let answer = match tokio::task::spawn_blocking(move || tiles.tile(c)).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("tile {c}: the read task failed: {e}");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("PiWardrive could not read tile {c}; the details are in the log."),
            );
        }
    };
    match answer {
        TileAnswer::Tile(t, format) => {
            let mut resp = (
                [
                    (header::CONTENT_TYPE, format.content_type()),
                    (header::CACHE_CONTROL, TILE_CACHE),
                ],
                t.data,
            )
                .into_response();
            if t.gzip {
                resp.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            resp
        }
        TileAnswer::Missing(why) => text(StatusCode::NOT_FOUND, why),
        TileAnswer::Failed(e) => {
            tracing::warn!("map tiles: {e}");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("PiWardrive could not read tile {c}: {e}"),
            )
        }
    }
}

/// What the map page shows of the tile folder.
#[derive(Debug, Default)]
pub struct TilesView {
    /// Set when tiles are drawn.
    pub layer: Option<Layer>,
    /// Why the grid is drawn instead, when an archive is there but cannot be used.
    pub problem: Option<String>,
    /// "Several archives ..." when the folder holds more than one.
    pub ignored: Option<String>,
    /// The folder, for the page's hint.
    pub dir: String,
}

/// The tile layer's settings for map.js.
#[derive(Debug)]
pub struct Layer {
    /// Leaflet's URL template.
    pub url: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// "west,south,east,north", or empty for the whole world.
    pub bounds: String,
    /// Plain text, or empty.
    pub attribution: String,
    /// What the page says is drawn: the archive's name, its file, format and zooms.
    pub label: String,
}

impl TilesView {
    /// Looks at the folder (blocking, like [`Tiles::status`]).
    pub fn read(tiles: &Tiles) -> TilesView {
        let mut view = TilesView {
            dir: tiles.dir().display().to_string(),
            ..TilesView::default()
        };
        let found = match tiles.status() {
            Status::Nothing => return view,
            Status::Unreadable(e) => {
                view.problem = Some(e);
                return view;
            }
            Status::Found(f) => f,
        };
        let file = found
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !found.ignored.is_empty() {
            view.ignored = Some(format!(
                "{} holds several archives: using {file}, the first by name; ignoring {}.",
                view.dir,
                found.ignored.join(", ")
            ));
        }
        match &found.archive {
            Err(e) => view.problem = Some(e.to_string()),
            Ok(a) => {
                let m = a.metadata();
                let name = m
                    .name
                    .as_deref()
                    .map(|n| plain_text(n, 80))
                    .filter(|n| !n.is_empty());
                view.layer = Some(Layer {
                    url: format!("/tiles/{{z}}/{{x}}/{{y}}?v={}", found.version),
                    min_zoom: m.min_zoom,
                    max_zoom: m.max_zoom,
                    bounds: m
                        .bounds
                        .map(|b| format!("{},{},{},{}", b.west, b.south, b.east, b.north))
                        .unwrap_or_default(),
                    attribution: m
                        .attribution
                        .as_deref()
                        .map(|a| plain_text(a, 200))
                        .unwrap_or_default(),
                    label: format!(
                        "{}{TILES_DIR}/{file}: {} tiles, zoom {} to {}",
                        name.map(|n| format!("{n} from ")).unwrap_or_default(),
                        m.format.label(),
                        m.min_zoom,
                        m.max_zoom
                    ),
                });
            }
        }
        view
    }
}

#[cfg(test)]
mod tests;
