//! An MBTiles reader: the SQLite file opened read-only through rusqlite (SQLite compiled in),
//! its `metadata` table, and one tile at a time from `tiles`, whose rows count from the south
//! (TMS), so XYZ rows are flipped on the way in.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::pmtiles::MAX_TILE_BYTES;
use super::{ArchiveError, Bounds, ErrorKind, Format, Metadata, Tile, TileCoord};

/// An open archive. SQLite connections are not shareable between threads, so the one
/// connection sits behind a lock; a tile query takes well under a millisecond.
pub struct MbTiles {
    path: PathBuf,
    db: Mutex<Connection>,
    metadata: Metadata,
}

impl std::fmt::Debug for MbTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MbTiles").field("path", &self.path).finish()
    }
}

/// A metadata or tile value as text, whatever SQLite type the writer gave it (some store
/// `minzoom` as an integer, some text as a blob).
fn as_text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

impl MbTiles {
    /// Opens `path` read-only and reads its metadata; zoom levels missing from the metadata
    /// come from the tiles themselves.
    pub fn open(path: &Path) -> Result<MbTiles, ArchiveError> {
        let sql = |what: &str| {
            let what = what.to_owned();
            move |e: rusqlite::Error| {
                ArchiveError::new(path, ErrorKind::Corrupt, format!("{what}: {e}"))
            }
        };
        // Read-only, and never created: a missing file is an error, not an empty database.
        let db = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| ArchiveError::new(path, ErrorKind::Io, format!("cannot open: {e}")))?;
        // SQLite reads a file's header only at the first statement: a file that is not a
        // database, or has no metadata table, fails here.
        let mut meta = std::collections::HashMap::new();
        {
            let mut stmt = db
                .prepare(
                    "SELECT name, value FROM metadata WHERE name IN \
                     ('name', 'format', 'bounds', 'minzoom', 'maxzoom', 'attribution')",
                )
                .map_err(sql(
                    "reading its metadata table (is it an MBTiles archive?)",
                ))?;
            let rows = stmt
                .query_map([], |r| Ok((as_text(r.get_ref(0)?), as_text(r.get_ref(1)?))))
                .map_err(sql("reading its metadata table"))?;
            for row in rows {
                if let (Some(k), Some(v)) = row.map_err(sql("reading its metadata table"))? {
                    meta.insert(k, v.trim().to_owned());
                }
            }
        }
        let format = match meta.get("format") {
            Some(name) => super::format_from_name(path, name)?,
            None => sniff_first_tile(path, &db)?,
        };
        let zoom = |key: &str| {
            meta.get(key)
                .and_then(|v| v.parse::<u8>().ok())
                .filter(|z| *z <= super::MAX_ZOOM)
        };
        let (min_zoom, max_zoom) = match (zoom("minzoom"), zoom("maxzoom")) {
            (Some(a), Some(b)) if a <= b => (a, b),
            // Missing or unusable in the metadata: the tiles table knows (the unique index
            // on zoom_level makes this two lookups).
            _ => {
                let (a, b): (Option<i64>, Option<i64>) = db
                    .query_row(
                        "SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .map_err(sql("reading the zoom levels of its tiles"))?;
                let level = |z: Option<i64>| {
                    z.and_then(|z| u8::try_from(z).ok())
                        .filter(|z| *z <= super::MAX_ZOOM)
                };
                match (level(a), level(b)) {
                    (Some(a), Some(b)) => (a, b),
                    (None, None) if a.is_none() => {
                        return Err(ArchiveError::new(
                            path,
                            ErrorKind::Unsupported,
                            "it holds no tiles".into(),
                        ));
                    }
                    _ => {
                        return Err(ArchiveError::new(
                            path,
                            ErrorKind::Corrupt,
                            format!(
                                "its tiles have zoom levels {a:?} to {b:?}, outside 0 to {}",
                                super::MAX_ZOOM
                            ),
                        ));
                    }
                }
            }
        };
        let bounds = meta.get("bounds").and_then(|b| {
            let v: Vec<f64> = b
                .split(',')
                .map(|p| p.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .ok()?;
            match v[..] {
                [w, s, e, n] => Bounds::new(w, s, e, n),
                _ => None,
            }
        });
        Ok(MbTiles {
            path: path.to_owned(),
            db: Mutex::new(db),
            metadata: Metadata {
                name: meta.remove("name"),
                attribution: meta.remove("attribution"),
                format,
                min_zoom,
                max_zoom,
                bounds,
            },
        })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The tile at `c` (XYZ), or `None` when the archive has none there.
    pub fn tile(&self, c: TileCoord) -> Result<Option<Tile>, ArchiveError> {
        let row = (1i64 << c.z) - 1 - i64::from(c.y);
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        // The blob only comes out of SQLite when it is of a sane size, so a damaged length
        // cannot make the appliance allocate gigabytes.
        let got = db
            .query_row(
                "SELECT length(tile_data), \
                 CASE WHEN length(tile_data) <= ?4 THEN tile_data END \
                 FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                rusqlite::params![c.z, c.x, row, MAX_TILE_BYTES as i64],
                |r| {
                    let len: Option<i64> = r.get(0)?;
                    let data = match r.get_ref(1)? {
                        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
                        _ => None,
                    };
                    Ok((len, data))
                },
            )
            .optional()
            .map_err(|e| {
                ArchiveError::new(
                    &self.path,
                    ErrorKind::Corrupt,
                    format!("reading tile {c} (TMS row {row}): {e}"),
                )
            })?;
        match got {
            None | Some((None | Some(0), _)) => Ok(None),
            Some((Some(_), Some(data))) => Ok(Some(Tile {
                gzip: data.starts_with(&[0x1f, 0x8b]),
                data,
            })),
            Some((Some(len), None)) => Err(ArchiveError::new(
                &self.path,
                ErrorKind::Corrupt,
                format!(
                    "tile {c} (TMS row {row}) is {len} bytes, more than a map tile can sensibly \
                     be ({} MiB)",
                    MAX_TILE_BYTES >> 20
                ),
            )),
        }
    }
}

/// The format of the first tile, for an archive whose metadata does not say.
fn sniff_first_tile(path: &Path, db: &Connection) -> Result<Format, ArchiveError> {
    let head: Option<Vec<u8>> = db
        .query_row(
            "SELECT substr(tile_data, 1, 16) FROM tiles LIMIT 1",
            [],
            |r| {
                Ok(match r.get_ref(0)? {
                    ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
                    _ => None,
                })
            },
        )
        .optional()
        .map_err(|e| {
            ArchiveError::new(
                path,
                ErrorKind::Corrupt,
                format!("reading its first tile: {e}"),
            )
        })?
        .flatten();
    let head = head.unwrap_or_default();
    if head.starts_with(&[0x1f, 0x8b]) {
        // Vector tiles are kept gzipped; raster images never are.
        return Err(ArchiveError::new(
            path,
            ErrorKind::Vector,
            super::VECTOR_MESSAGE.into(),
        ));
    }
    super::sniff(&head).ok_or_else(|| {
        ArchiveError::new(
            path,
            ErrorKind::Unsupported,
            "its metadata names no format and its first tile is not a PNG, JPEG, WebP or AVIF \
             image"
                .into(),
        )
    })
}
