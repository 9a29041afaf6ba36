//! A PMTiles v3 reader written from the specification: the 127-byte header, varint
//! directories (root and leaves, gzip or uncompressed), Hilbert tile ids, and tiles read at
//! their offset, so the file is never loaded whole.
//!
//! Every length and offset in the file is checked against the file's size and against the
//! limits below before anything is allocated or read, so a truncated or damaged archive gives
//! an error naming the file and the byte where the trouble is, never a panic or a huge
//! allocation.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{ArchiveError, Bounds, ErrorKind, Format, Metadata, Tile, TileCoord};

const MAGIC: &[u8; 7] = b"PMTiles";
const HEADER_LEN: u64 = 127;
/// Most bytes one directory may take, compressed or not. A writer fills leaves with a few
/// thousand entries (some tens of KiB); this leaves room for very large archives while
/// capping what one request can make the appliance allocate.
const MAX_DIRECTORY_BYTES: u64 = 16 << 20;
/// Most entries one directory may hold: 24 bytes each in memory.
const MAX_ENTRIES: u64 = 1 << 19;
/// Most directory entries kept in the leaf cache, all leaves together (about 6 MiB).
const LEAF_CACHE_ENTRIES: usize = 1 << 18;
/// Largest metadata (JSON) read; raster archives carry a few hundred bytes.
const MAX_METADATA_BYTES: u64 = 1 << 20;
/// Largest tile served. Raster tiles are tens of KiB; anything near this is damage.
pub const MAX_TILE_BYTES: u64 = 8 << 20;
/// Root plus leaves: the specification's writers use at most three levels.
const MAX_DEPTH: usize = 4;

/// Compression of directories, metadata or tiles (header bytes 97 and 98).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
}

/// A byte range of the file, as the header gives it.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    length: u64,
}

/// What the reader keeps of the header.
#[derive(Debug)]
struct Header {
    root: Span,
    metadata: Span,
    leaves: Span,
    data: Span,
    internal: Compression,
    tiles_gzip: bool,
    tile_type: u8,
    min_zoom: u8,
    max_zoom: u8,
    /// min lon, min lat, max lon, max lat, in 1e-7 degrees.
    bounds_e7: [i32; 4],
}

/// One directory entry: `run_length` tiles from `tile_id` on, or (run length 0) a leaf
/// directory. Offsets are relative to the tile data or the leaf section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub tile_id: u64,
    pub offset: u64,
    pub length: u32,
    pub run_length: u32,
}

/// An open archive: the file, its header, its root directory, and a small cache of leaves.
pub struct PmTiles {
    path: PathBuf,
    file: File,
    header: Header,
    root: Arc<Vec<Entry>>,
    metadata: Metadata,
    leaves: Mutex<LeafCache>,
}

impl std::fmt::Debug for PmTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PmTiles").field("path", &self.path).finish()
    }
}

impl PmTiles {
    /// Opens `path`: reads and checks the header, the root directory and the metadata.
    pub fn open(path: &Path) -> Result<PmTiles, ArchiveError> {
        let err = |kind, what: String| ArchiveError::new(path, kind, what);
        let file = File::open(path).map_err(|e| err(ErrorKind::Io, format!("cannot open: {e}")))?;
        let size = file
            .metadata()
            .map_err(|e| err(ErrorKind::Io, format!("cannot read its size: {e}")))?
            .len();
        if size < HEADER_LEN {
            return Err(err(
                ErrorKind::Corrupt,
                format!(
                    "at byte 0: {size} bytes is too short for a PMTiles header ({HEADER_LEN} \
                     bytes): the file is truncated or not a PMTiles archive"
                ),
            ));
        }
        let mut raw = [0u8; HEADER_LEN as usize];
        read_at(path, &file, &mut raw, 0)?;
        let header = parse_header(&raw, size)
            .map_err(|(at, what)| err(ErrorKind::Corrupt, format!("at byte {at}: {what}")))?;
        // A vector archive is refused as such before anything else is read (planet-sized
        // vector archives carry large metadata).
        if header.tile_type == 1 {
            return Err(err(ErrorKind::Vector, super::VECTOR_MESSAGE.into()));
        }
        let section =
            |span, limit, what| read_section(path, &file, header.internal, span, limit, what);
        let json = if header.metadata.length == 0 {
            serde_json::Map::new()
        } else {
            let bytes = section(header.metadata, MAX_METADATA_BYTES, "metadata")?;
            let at = header.metadata.offset;
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(_) => {
                    return Err(err(
                        ErrorKind::Corrupt,
                        format!("at byte {at}: the metadata is not a JSON object"),
                    ));
                }
                Err(e) => {
                    return Err(err(
                        ErrorKind::Corrupt,
                        format!("at byte {at}: the metadata is not valid JSON: {e}"),
                    ));
                }
            }
        };
        let format = match header.tile_type {
            2 => Format::Png,
            3 => Format::Jpeg,
            4 => Format::Webp,
            5 => Format::Avif,
            // pmtiles-convert writes 0 for an MBTiles whose format is "jpg" (the MBTiles
            // spelling); the metadata keeps the MBTiles format then.
            0 => match json.get("format").and_then(|v| v.as_str()) {
                Some(name) => super::format_from_name(path, name)?,
                None => {
                    return Err(err(
                        ErrorKind::Unsupported,
                        "the header gives no tile type (0) and the metadata no format: \
                         cannot tell what the tiles are"
                            .into(),
                    ));
                }
            },
            t => {
                return Err(err(
                    ErrorKind::Unsupported,
                    format!("at byte 99: unknown tile type {t}"),
                ));
            }
        };
        let [w, s, e, n] = header.bounds_e7.map(|v| f64::from(v) / 1e7);
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let metadata = Metadata {
            name: text("name"),
            attribution: text("attribution"),
            format,
            min_zoom: header.min_zoom,
            max_zoom: header.max_zoom,
            bounds: Bounds::new(w, s, e, n),
        };
        let root = section(header.root, MAX_DIRECTORY_BYTES, "root directory")?;
        let root = check_directory(path, &header, header.root, &root)?;
        Ok(PmTiles {
            path: path.to_owned(),
            file,
            header,
            root: Arc::new(root),
            metadata,
            leaves: Mutex::new(LeafCache::default()),
        })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The tile at `c` (XYZ), or `None` when the archive has none there.
    pub fn tile(&self, c: TileCoord) -> Result<Option<Tile>, ArchiveError> {
        let id = tile_id(c.z, c.x, c.y);
        let mut dir = Arc::clone(&self.root);
        for _ in 0..MAX_DEPTH {
            let Some(e) = find(&dir, id) else {
                return Ok(None);
            };
            if e.run_length > 0 {
                let at = self.header.data.offset + e.offset;
                let mut data = vec![0u8; e.length as usize];
                read_at(&self.path, &self.file, &mut data, at)?;
                return Ok(Some(Tile {
                    data,
                    gzip: self.header.tiles_gzip,
                }));
            }
            dir = self.leaf(e)?;
        }
        Err(ArchiveError::new(
            &self.path,
            ErrorKind::Corrupt,
            format!(
                "at byte {}: leaf directories nested deeper than {MAX_DEPTH} levels (a loop?)",
                self.header.leaves.offset
            ),
        ))
    }

    /// The leaf directory `e` points at, from the cache or the file.
    fn leaf(&self, e: Entry) -> Result<Arc<Vec<Entry>>, ArchiveError> {
        if let Some(d) = self.cache().get(e.offset) {
            return Ok(d);
        }
        let span = Span {
            offset: self.header.leaves.offset + e.offset,
            length: u64::from(e.length),
        };
        let bytes = read_section(
            &self.path,
            &self.file,
            self.header.internal,
            span,
            MAX_DIRECTORY_BYTES,
            "leaf directory",
        )?;
        let d = Arc::new(check_directory(&self.path, &self.header, span, &bytes)?);
        self.cache().put(e.offset, Arc::clone(&d));
        Ok(d)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LeafCache> {
        // A panic elsewhere while holding the lock leaves a cache that is still consistent.
        self.leaves.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Parses the decompressed directory `bytes` read from `span`, checking every entry against
/// the section it points into.
fn check_directory(
    path: &Path,
    h: &Header,
    span: Span,
    bytes: &[u8],
) -> Result<Vec<Entry>, ArchiveError> {
    let corrupt = |what: String| {
        ArchiveError::new(
            path,
            ErrorKind::Corrupt,
            format!("in the directory at byte {}: {what}", span.offset),
        )
    };
    let entries = parse_directory(bytes).map_err(corrupt)?;
    for e in &entries {
        let (section, name) = if e.run_length == 0 {
            (h.leaves, "leaf directory")
        } else {
            (h.data, "tile")
        };
        let end = e.offset.checked_add(u64::from(e.length));
        if end.is_none_or(|end| end > section.length) {
            return Err(corrupt(format!(
                "the {name} of tile id {} ({} bytes at {}) lies past the end of its section \
                 ({} bytes)",
                e.tile_id, e.length, e.offset, section.length
            )));
        }
        if e.run_length > 0 && u64::from(e.length) > MAX_TILE_BYTES {
            return Err(corrupt(format!(
                "tile id {} claims {} bytes, more than a map tile can sensibly be ({} MiB)",
                e.tile_id,
                e.length,
                MAX_TILE_BYTES >> 20
            )));
        }
    }
    Ok(entries)
}

/// Reads `span` and undoes the internal compression, refusing anything over `limit` bytes
/// before or after.
fn read_section(
    path: &Path,
    file: &File,
    compression: Compression,
    span: Span,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let corrupt = |msg: String| {
        ArchiveError::new(
            path,
            ErrorKind::Corrupt,
            format!("at byte {}: {msg}", span.offset),
        )
    };
    if span.length > limit {
        return Err(corrupt(format!(
            "the {what} claims {} bytes, more than the {} MiB this reader accepts",
            span.length,
            limit >> 20
        )));
    }
    let mut raw = vec![0u8; span.length as usize];
    read_at(path, file, &mut raw, span.offset)?;
    match compression {
        Compression::None => Ok(raw),
        Compression::Gzip => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(format!("the {what} does not decompress (gzip): {e}")))?;
            if out.len() as u64 > limit {
                return Err(corrupt(format!(
                    "the {what} decompresses to more than the {} MiB this reader accepts",
                    limit >> 20
                )));
            }
            Ok(out)
        }
    }
}

/// `pread` of exactly `buf.len()` bytes at `offset`; a short file is named as truncated.
fn read_at(path: &Path, file: &File, buf: &mut [u8], offset: u64) -> Result<(), ArchiveError> {
    file.read_exact_at(buf, offset).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ArchiveError::new(
                path,
                ErrorKind::Corrupt,
                format!(
                    "at byte {offset}: {} bytes run past the end of the file: it is truncated \
                     (or was replaced while open)",
                    buf.len()
                ),
            )
        } else {
            ArchiveError::new(
                path,
                ErrorKind::Io,
                format!("reading at byte {offset}: {e}"),
            )
        }
    })
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    i32::from_le_bytes(a)
}

/// Parses and checks the header of a file of `size` bytes. Errors carry the byte offset of
/// the field at fault.
fn parse_header(b: &[u8; HEADER_LEN as usize], size: u64) -> Result<Header, (u64, String)> {
    if &b[..7] != MAGIC {
        return Err((0, "no PMTiles magic number: not a PMTiles archive".into()));
    }
    match b[7] {
        3 => {}
        v @ (1 | 2) => {
            return Err((
                7,
                format!(
                    "PMTiles version {v} is not supported: convert it to version 3 (`pmtiles \
                     convert` of go-pmtiles does)"
                ),
            ));
        }
        v => return Err((7, format!("unknown PMTiles version {v}"))),
    }
    let span = |at: usize, name: &str| -> Result<Span, (u64, String)> {
        let s = Span {
            offset: u64_at(b, at),
            length: u64_at(b, at + 8),
        };
        match s.offset.checked_add(s.length) {
            Some(end) if end <= size => Ok(s),
            _ => Err((
                at as u64,
                format!(
                    "the {name} (byte {} plus {} bytes) runs past the end of the file ({size} \
                     bytes): the file is truncated or damaged",
                    s.offset, s.length
                ),
            )),
        }
    };
    let root = span(8, "root directory")?;
    let metadata = span(24, "metadata")?;
    let leaves = span(40, "leaf directories")?;
    let data = span(56, "tile data")?;
    if root.length == 0 {
        return Err((16, "the root directory is empty".into()));
    }
    let internal = match b[97] {
        1 => Compression::None,
        2 => Compression::Gzip,
        c => {
            return Err((
                97,
                format!(
                    "directories compressed with {} are not supported (only gzip or none)",
                    compression_name(c)
                ),
            ));
        }
    };
    let tiles_gzip = match b[98] {
        0 | 1 => false,
        2 => true,
        c => {
            return Err((
                98,
                format!(
                    "tiles compressed with {} are not supported (only gzip or none)",
                    compression_name(c)
                ),
            ));
        }
    };
    let (min_zoom, max_zoom) = (b[100], b[101]);
    if min_zoom > max_zoom || max_zoom > super::MAX_ZOOM {
        return Err((
            100,
            format!(
                "zoom levels {min_zoom} to {max_zoom}: not a range from 0 to {}",
                super::MAX_ZOOM
            ),
        ));
    }
    Ok(Header {
        root,
        metadata,
        leaves,
        data,
        internal,
        tiles_gzip,
        tile_type: b[99],
        min_zoom,
        max_zoom,
        bounds_e7: [
            i32_at(b, 102),
            i32_at(b, 106),
            i32_at(b, 110),
            i32_at(b, 114),
        ],
    })
}

fn compression_name(c: u8) -> String {
    match c {
        0 => "an unknown method (0)".into(),
        3 => "brotli".into(),
        4 => "zstd".into(),
        c => format!("method {c}"),
    }
}

/// A reader of the directories' unsigned LEB128 varints.
struct Varints<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Varints<'_> {
    fn next(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.buf.get(self.pos) else {
                return Err(format!(
                    "it ends in the middle of a number at byte {} of {}",
                    self.pos,
                    self.buf.len()
                ));
            };
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(format!("a number over 64 bits at byte {}", self.pos - 1));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("a number over 64 bits at byte {}", self.pos - 1))
    }
}

/// Parses a decompressed directory: the entry count, then the tile-id deltas, run lengths,
/// lengths and offsets, each as a column of varints.
pub fn parse_directory(buf: &[u8]) -> Result<Vec<Entry>, String> {
    let mut r = Varints { buf, pos: 0 };
    let n = r.next()?;
    // Each entry takes at least four bytes (one varint per column), so a count larger than
    // that is a lie, caught here before it sizes an allocation.
    if n > MAX_ENTRIES || n > (buf.len() as u64) / 4 {
        return Err(format!(
            "it claims {n} entries in {} bytes (at most {} fit, and this reader takes at most \
             {MAX_ENTRIES})",
            buf.len(),
            buf.len() / 4
        ));
    }
    let n = n as usize;
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0,
        };
        n
    ];
    let mut last = 0u64;
    for (i, e) in entries.iter_mut().enumerate() {
        let delta = r.next()?;
        if i > 0 && delta == 0 {
            return Err(format!(
                "entry {i} repeats the tile id {last}: ids must increase"
            ));
        }
        last = last
            .checked_add(delta)
            .ok_or_else(|| format!("entry {i}: the tile id overflows 64 bits"))?;
        e.tile_id = last;
    }
    for (i, e) in entries.iter_mut().enumerate() {
        e.run_length = u32::try_from(r.next()?)
            .map_err(|_| format!("entry {i}: a run length over 32 bits"))?;
    }
    for (i, e) in entries.iter_mut().enumerate() {
        e.length =
            u32::try_from(r.next()?).map_err(|_| format!("entry {i}: a length over 32 bits"))?;
        if e.length == 0 {
            return Err(format!("entry {i} (tile id {}) has length 0", e.tile_id));
        }
    }
    for i in 0..n {
        let v = r.next()?;
        entries[i].offset = if v == 0 {
            // 0 means "right after the previous entry's bytes"; the first has none.
            let Some(prev) = i.checked_sub(1).map(|p| entries[p]) else {
                return Err("the first entry's offset is given as 'after the previous'".into());
            };
            prev.offset
                .checked_add(u64::from(prev.length))
                .ok_or_else(|| format!("entry {i}: the offset overflows 64 bits"))?
        } else {
            v - 1
        };
    }
    Ok(entries)
}

/// The entry that holds `id`: a run of tiles containing it, or the leaf directory whose range
/// it falls in. `None` when no tile has that id.
pub fn find(entries: &[Entry], id: u64) -> Option<Entry> {
    let i = entries.partition_point(|e| e.tile_id <= id);
    let e = *entries.get(i.checked_sub(1)?)?;
    if e.run_length == 0 || id - e.tile_id < u64::from(e.run_length) {
        Some(e)
    } else {
        None
    }
}

/// The PMTiles tile id of z/x/y: the tiles of all lower zooms come first, then the position
/// of (x, y) along the Hilbert curve that fills the 2^z × 2^z grid.
pub fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    // (4^z - 1) / 3 tiles at zooms 0..z.
    let before = ((1u64 << (2 * u32::from(z))) - 1) / 3;
    let n = 1u64 << z;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s != 0);
        let ry = u64::from(y & s != 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the curve's sub-square starts where the next level expects.
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    before + d
}

/// Recently used leaf directories, by their offset in the leaf section; the oldest go first
/// once the entries kept pass [`LEAF_CACHE_ENTRIES`].
#[derive(Default)]
struct LeafCache {
    /// Oldest first.
    items: Vec<(u64, Arc<Vec<Entry>>)>,
    entries: usize,
}

impl LeafCache {
    fn get(&mut self, offset: u64) -> Option<Arc<Vec<Entry>>> {
        let i = self.items.iter().position(|(o, _)| *o == offset)?;
        let item = self.items.remove(i);
        let d = Arc::clone(&item.1);
        self.items.push(item);
        Some(d)
    }

    fn put(&mut self, offset: u64, d: Arc<Vec<Entry>>) {
        if self.items.iter().any(|(o, _)| *o == offset) {
            return;
        }
        self.entries += d.len();
        self.items.push((offset, d));
        while self.entries > LEAF_CACHE_ENTRIES && self.items.len() > 1 {
            let (_, old) = self.items.remove(0);
            self.entries -= old.len();
        }
    }
}
