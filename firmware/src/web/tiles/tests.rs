//! Tests of the tile archives: the readers against archives and answers made by third-party
//! tools (firmware/testdata/tiles, see its README), damaged archives, and the route and map
//! page through the router.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::{StatusCode, header};
use sha2::Digest as _;

use super::pmtiles::{self, Entry};
use super::*;
use crate::web::tests::{body, fixture, get, get_ok};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tiles")
}

/// manifest.json, written by make.py from what sqlite3 and the pmtiles package read back.
struct Expected {
    metadata: serde_json::Map<String, serde_json::Value>,
    header: Option<serde_json::Map<String, serde_json::Value>>,
    /// "z/x/y" -> SHA-256 of the tile's bytes.
    tiles: BTreeMap<String, String>,
    absent: Vec<String>,
}

fn manifest() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(testdata().join("manifest.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let obj = |v: &serde_json::Value| v.as_object().cloned();
    v["archives"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, a)| {
            let tiles = a["tiles"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let absent = a["absent"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            (
                name.clone(),
                Expected {
                    metadata: obj(&a["metadata"]).unwrap(),
                    header: obj(&a["header"]),
                    tiles,
                    absent,
                },
            )
        })
        .collect()
}

fn coord(key: &str) -> TileCoord {
    let p: Vec<&str> = key.split('/').collect();
    TileCoord::parse(p[0], p[1], p[2]).unwrap()
}

fn sha(data: &[u8]) -> String {
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_vector(e: &Expected) -> bool {
    e.metadata.get("format").and_then(|v| v.as_str()) == Some("pbf")
}

#[test]
fn tile_ids_are_those_of_the_pmtiles_package() {
    // From pmtiles 3.8.1's zxy_to_tileid (the first five are the specification's examples).
    for ((z, x, y), id) in [
        ((0, 0, 0), 0),
        ((1, 0, 0), 1),
        ((1, 0, 1), 2),
        ((1, 1, 1), 3),
        ((1, 1, 0), 4),
        ((2, 0, 0), 5),
        ((3, 4, 2), 75),
        ((12, 3423, 1763), 19_078_479),
        ((31, 0, 0), 1_537_228_672_809_129_301),
        (
            (31, (1 << 31) - 1, (1 << 31) - 1),
            4_611_686_018_427_387_903,
        ),
    ] {
        assert_eq!(pmtiles::tile_id(z, x, y), id, "{z}/{x}/{y}");
    }
}

#[test]
fn every_fixture_tile_is_what_the_python_readers_return() {
    let manifest = manifest();
    assert_eq!(manifest.len(), 7, "{:?}", manifest.keys());
    for (name, want) in &manifest {
        let path = testdata().join(name);
        let opened = Archive::open(&path);
        if is_vector(want) {
            let e = opened.expect_err(name);
            assert_eq!(e.kind, ErrorKind::Vector, "{name}: {e}");
            assert!(
                e.to_string()
                    .contains("vector tiles are not supported; use a raster archive"),
                "{e}"
            );
            assert!(e.to_string().contains(name.as_str()), "{e}");
            continue;
        }
        let a = opened.unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = a.metadata();
        let meta = |k: &str| want.metadata.get(k).and_then(|v| v.as_str());
        assert_eq!(m.name.as_deref(), meta("name"), "{name}");
        assert_eq!(m.attribution.as_deref(), meta("attribution"), "{name}");
        assert_eq!(
            m.min_zoom.to_string(),
            meta("minzoom").unwrap(),
            "{name} minzoom"
        );
        assert_eq!(
            m.max_zoom.to_string(),
            meta("maxzoom").unwrap(),
            "{name} maxzoom"
        );
        if let Some(h) = &want.header {
            assert_eq!(u64::from(m.min_zoom), h["min_zoom"].as_u64().unwrap());
            assert_eq!(u64::from(m.max_zoom), h["max_zoom"].as_u64().unwrap());
            let b = m.bounds.unwrap();
            let e7 = |k: &str| h[k].as_i64().unwrap() as f64 / 1e7;
            assert_eq!(
                (b.west, b.south, b.east, b.north),
                (
                    e7("min_lon_e7"),
                    e7("min_lat_e7"),
                    e7("max_lon_e7"),
                    e7("max_lat_e7")
                )
            );
        } else {
            let bounds: Vec<f64> = meta("bounds")
                .unwrap()
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect();
            let b = m.bounds.unwrap();
            assert_eq!(vec![b.west, b.south, b.east, b.north], bounds, "{name}");
        }
        let jpeg = meta("format") == Some("jpg");
        assert_eq!(
            m.format,
            if jpeg { Format::Jpeg } else { Format::Png },
            "{name}"
        );
        assert!(!want.tiles.is_empty());
        for (key, digest) in &want.tiles {
            let t = a
                .tile(coord(key))
                .unwrap_or_else(|e| panic!("{name} {key}: {e}"))
                .unwrap_or_else(|| panic!("{name}: no tile {key}"));
            assert!(!t.gzip);
            assert_eq!(&sha(&t.data), digest, "{name} {key}");
        }
        assert!(!want.absent.is_empty());
        for key in &want.absent {
            assert!(
                a.tile(coord(key)).unwrap().is_none(),
                "{name}: {key} should be absent"
            );
        }
    }
    // Both formats hold the same tiles, so MBTiles' flipped rows landed where PMTiles' XYZ
    // ones are; and zoom 1 has its northern row only, so a reader that did not flip would
    // find its tiles missing.
    for other in ["raster.pmtiles", "raster-leaves.pmtiles"] {
        assert_eq!(manifest["raster.mbtiles"].tiles, manifest[other].tiles);
    }
    let raster = &manifest["raster.mbtiles"];
    assert!(raster.tiles.contains_key("1/0/0") && raster.tiles.contains_key("1/1/0"));
    assert!(raster.absent.contains(&"1/0/1".to_owned()));
}

#[test]
fn coordinates_are_checked() {
    assert_eq!(
        TileCoord::parse("3", "7", "0"),
        Ok(TileCoord { z: 3, x: 7, y: 0 })
    );
    assert!(TileCoord::parse("31", "2147483647", "0").is_ok());
    for (z, x, y, says) in [
        ("a", "0", "0", "not a whole number"),
        ("-1", "0", "0", "not a whole number"),
        ("+1", "0", "0", "not a whole number"),
        ("1", "0", "0.png", "not a whole number"),
        ("1", "", "0", "not a whole number"),
        ("1", "0", "99999999999999999999", "not a whole number"),
        ("32", "0", "0", "past the deepest level"),
        ("1", "2", "0", "outside zoom 1's grid"),
        ("0", "0", "1", "outside zoom 0's grid"),
    ] {
        let e = TileCoord::parse(z, x, y).unwrap_err();
        assert!(e.contains(says), "{z}/{x}/{y}: {e}");
    }
}

#[test]
fn attribution_becomes_plain_text() {
    assert_eq!(
        plain_text(
            r#"<a href="https://example.invalid/">&copy; Test &amp; Co</a> <b>x</b>"#,
            100
        ),
        "© Test & Co x"
    );
    assert_eq!(plain_text("a\n\tb", 100), "a b");
    assert_eq!(plain_text("abcdef", 4), "abc…");
    // A decoded "<" is text, not the start of a tag that swallows the rest.
    assert_eq!(plain_text("&lt;script&gt;", 100), "<script>");
}

// ---- Damaged archives ----------------------------------------------------------------------

/// A file in its own temporary folder, named `name`.
fn write_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A directory as the specification encodes it (uncompressed), every offset explicit.
fn directory(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, entries.len() as u64);
    let mut last = 0;
    for e in entries {
        varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        varint(&mut out, u64::from(e.length));
    }
    for e in entries {
        varint(&mut out, e.offset + 1);
    }
    out
}

/// An uncompressed PMTiles v3 file: header, root, metadata, leaves, tile data, in that
/// order; `patch` may then change the header.
fn pmtiles_file(root: &[u8], metadata: &[u8], leaves: &[u8], data: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 127];
    h[..7].copy_from_slice(b"PMTiles");
    h[7] = 3;
    let mut at = 127u64;
    for (i, part) in [root, metadata, leaves, data].iter().enumerate() {
        h[8 + i * 16..16 + i * 16].copy_from_slice(&at.to_le_bytes());
        h[16 + i * 16..24 + i * 16].copy_from_slice(&(part.len() as u64).to_le_bytes());
        at += part.len() as u64;
    }
    h[97] = 1; // directories: no compression
    h[98] = 1; // tiles: no compression
    h[99] = 2; // PNG
    h[100] = 0;
    h[101] = 2;
    for (i, v) in [-1_800_000_000i32, -850_000_000, 1_800_000_000, 850_000_000]
        .iter()
        .enumerate()
    {
        h[102 + i * 4..106 + i * 4].copy_from_slice(&v.to_le_bytes());
    }
    [h.as_slice(), root, metadata, leaves, data].concat()
}

fn entry(tile_id: u64, offset: u64, length: u32, run_length: u32) -> Entry {
    Entry {
        tile_id,
        offset,
        length,
        run_length,
    }
}

/// Opens `bytes` as a .pmtiles and returns the error, which must name the file.
fn open_err(bytes: &[u8]) -> ArchiveError {
    let (_dir, path) = write_file("damaged.pmtiles", bytes);
    let e = Archive::open(&path).expect_err("a damaged archive must not open");
    assert!(e.to_string().contains("damaged.pmtiles"), "{e}");
    e
}

/// Opens `bytes` and reads `c`: the error of the read.
fn tile_err(bytes: &[u8], c: TileCoord) -> ArchiveError {
    let (_dir, path) = write_file("damaged.pmtiles", bytes);
    let a = Archive::open(&path).unwrap_or_else(|e| panic!("should open: {e}"));
    let e = a.tile(c).expect_err("reading a damaged tile must fail");
    assert!(e.to_string().contains("damaged.pmtiles"), "{e}");
    e
}

#[test]
fn a_hand_made_archive_with_a_leaf_reads() {
    // The builder itself is right (so the damage tests below damage a valid file): a root
    // pointing at one leaf, which holds tile 0/0/0 and a run of 1/0/0 and 1/0/1.
    let leaf = directory(&[entry(0, 0, 3, 1), entry(1, 3, 2, 2)]);
    let root = directory(&[entry(0, 0, leaf.len() as u32, 0)]);
    let file = pmtiles_file(&root, b"{}", &leaf, b"abcde");
    let (_dir, path) = write_file("ok.pmtiles", &file);
    let a = Archive::open(&path).unwrap();
    let t = |z, x, y| a.tile(TileCoord { z, x, y }).unwrap().map(|t| t.data);
    assert_eq!(t(0, 0, 0).as_deref(), Some(&b"abc"[..]));
    assert_eq!(t(1, 0, 0).as_deref(), Some(&b"de"[..]));
    assert_eq!(t(1, 0, 1).as_deref(), Some(&b"de"[..]));
    assert_eq!(t(1, 1, 1), None);
}

#[test]
fn truncated_or_damaged_headers_are_named_with_their_offset() {
    let good = pmtiles_file(&directory(&[entry(0, 0, 3, 1)]), b"{}", b"", b"abc");
    let e = open_err(&good[..50]);
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(
        e.what.contains("at byte 0") && e.what.contains("truncated"),
        "{e}"
    );

    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(open_err(&bad).what.contains("not a PMTiles archive"));

    let mut v2 = good.clone();
    v2[7] = 2;
    assert!(open_err(&v2).what.contains("version 2 is not supported"));

    // Cut inside the tile data: the header's tile data section runs past the end.
    let e = open_err(&good[..good.len() - 1]);
    assert!(
        e.what.contains("at byte 56")
            && e.what.contains("tile data")
            && e.what.contains("truncated"),
        "{e}"
    );

    // A root directory of absurd length, and one whose end overflows 64 bits.
    for len in [1u64 << 40, u64::MAX] {
        let mut huge = good.clone();
        huge[16..24].copy_from_slice(&len.to_le_bytes());
        let e = open_err(&huge);
        assert!(
            e.what.contains("at byte 8") && e.what.contains("root directory"),
            "{e}"
        );
    }

    let mut brotli = good.clone();
    brotli[97] = 3;
    assert!(open_err(&brotli).what.contains("brotli"));

    let mut zoom = good.clone();
    zoom[101] = 40;
    assert!(open_err(&zoom).what.contains("at byte 100"));

    let mut vector = good.clone();
    vector[99] = 1;
    assert_eq!(open_err(&vector).kind, ErrorKind::Vector);
}

#[test]
fn directories_that_lie_are_refused() {
    let meta = b"{}";
    // An entry pointing past the end of the tile data.
    let root = directory(&[entry(0, 2, 3, 1)]);
    let e = open_err(&pmtiles_file(&root, meta, b"", b"abc"));
    assert!(
        e.what.contains("in the directory at byte 127") && e.what.contains("past the end"),
        "{e}"
    );

    // A leaf pointer past the end of the leaf section.
    let root = directory(&[entry(0, 0, 100, 0)]);
    let e = open_err(&pmtiles_file(&root, meta, b"xx", b"abc"));
    assert!(
        e.what.contains("leaf directory") && e.what.contains("past the end"),
        "{e}"
    );

    // An absurd entry count in a short directory.
    let mut root = Vec::new();
    varint(&mut root, 1 << 40);
    root.extend_from_slice(&[0; 8]);
    let e = open_err(&pmtiles_file(&root, meta, b"", b"abc"));
    assert!(e.what.contains("claims 1099511627776 entries"), "{e}");

    // A number of more than 64 bits, and a directory that stops in the middle of one.
    let e = open_err(&pmtiles_file(&[0xff; 11], meta, b"", b"abc"));
    assert!(e.what.contains("over 64 bits"), "{e}");
    let e = open_err(&pmtiles_file(
        &[0x01, 0x00, 0x01, 0x03, 0x80],
        meta,
        b"",
        b"abc",
    ));
    assert!(e.what.contains("ends in the middle of a number"), "{e}");

    // A tile that claims to be huge (inside a file that is not).
    let root = directory(&[entry(0, 0, u32::MAX, 1)]);
    let e = open_err(&pmtiles_file(&root, meta, b"", b"abc"));
    assert!(e.what.contains("past the end"), "{e}");

    // Repeated tile ids.
    let mut root = directory(&[entry(0, 0, 1, 1), entry(1, 1, 1, 1)]);
    root[2] = 0; // the second delta
    let e = open_err(&pmtiles_file(&root, meta, b"", b"abc"));
    assert!(e.what.contains("ids must increase"), "{e}");

    // Gzip that is not: directories compressed with gzip per the header.
    let mut file = pmtiles_file(&directory(&[entry(0, 0, 3, 1)]), meta, b"", b"abc");
    file[97] = 2;
    let e = open_err(&file);
    assert!(e.what.contains("does not decompress"), "{e}");

    // Metadata that is not JSON.
    let e = open_err(&pmtiles_file(
        &directory(&[entry(0, 0, 3, 1)]),
        b"{not json",
        b"",
        b"abc",
    ));
    assert!(e.what.contains("metadata is not valid JSON"), "{e}");
}

#[test]
fn a_leaf_that_points_at_itself_is_a_loop_not_a_hang() {
    // The root sends tile ids from 0 to a leaf, and that leaf sends them to itself.
    let leaf = directory(&[entry(0, 0, 5, 0)]);
    assert_eq!(leaf.len(), 5);
    let root = directory(&[entry(0, 0, 5, 0)]);
    let file = pmtiles_file(&root, b"{}", &leaf, b"abc");
    let e = tile_err(&file, TileCoord { z: 0, x: 0, y: 0 });
    assert!(e.what.contains("nested deeper than"), "{e}");
}

#[test]
fn no_truncation_or_flipped_byte_of_a_real_archive_panics() {
    // Every prefix of the leaf-directory fixture, and every byte of its header, directories
    // and metadata flipped (the tile bytes after them are only copied, never parsed): opening
    // and reading every tile must end in tiles or an error naming the file, never a panic.
    let original = std::fs::read(testdata().join("raster-leaves.pmtiles")).unwrap();
    let want = manifest().remove("raster-leaves.pmtiles").unwrap();
    let header = want.header.as_ref().unwrap();
    let parsed_part = header["tile_data_offset"].as_u64().unwrap() as usize;
    assert!(parsed_part > 127 && parsed_part < original.len());
    let coords: Vec<TileCoord> = want
        .tiles
        .keys()
        .chain(&want.absent)
        .map(|k| coord(k))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (mut opened, mut refused, mut tile_errors) = (0, 0, 0);
    let mut check = |bytes: &[u8]| {
        // A new file each time: rewriting one file in place makes ext4 flush it to disk on
        // every close (auto_da_alloc), which takes this test from seconds to minutes.
        let path = dir.path().join("fuzzed.pmtiles");
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, bytes).unwrap();
        match Archive::open(&path) {
            Ok(a) => {
                opened += 1;
                for c in &coords {
                    if let Err(e) = a.tile(*c) {
                        tile_errors += 1;
                        assert!(e.to_string().contains("fuzzed.pmtiles"), "{e}");
                    }
                }
            }
            Err(e) => {
                refused += 1;
                assert!(e.to_string().contains("fuzzed.pmtiles"), "{e}");
            }
        }
    };
    for len in 0..original.len() {
        check(&original[..len]);
    }
    for i in 0..parsed_part {
        let mut b = original.clone();
        b[i] ^= 0xff;
        check(&b);
    }
    // Every truncation is refused at open: the header's sections reach the last byte. Some
    // flips are harmless (a bound, a metadata letter), others are found only when a leaf is
    // read.
    assert!(
        refused >= original.len(),
        "{refused} refused, {opened} opened"
    );
    assert!(
        opened > 0 && tile_errors > 0,
        "{opened} opened, {tile_errors} tile errors"
    );
}

#[test]
fn damaged_or_foreign_mbtiles_are_refused_by_name() {
    let (_d, path) = write_file("garbage.mbtiles", &[0x42; 4096]);
    let e = Archive::open(&path).unwrap_err();
    assert!(e.to_string().contains("garbage.mbtiles"), "{e}");
    assert!(e.what.contains("not a database"), "{e}");

    // A real SQLite database, but not an MBTiles.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.mbtiles");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch("CREATE TABLE t (a)").unwrap();
    drop(db);
    let e = Archive::open(&path).unwrap_err();
    assert!(e.what.contains("is it an MBTiles archive?"), "{e}");

    // A truncated copy of the fixture.
    let bytes = std::fs::read(testdata().join("raster.mbtiles")).unwrap();
    let (_d, path) = write_file("cut.mbtiles", &bytes[..2000]);
    match Archive::open(&path) {
        Err(e) => assert!(e.to_string().contains("cut.mbtiles"), "{e}"),
        Ok(a) => {
            // SQLite may read the first pages fine; the tiles past the cut must then fail.
            let all: Vec<_> = manifest()["raster.mbtiles"]
                .tiles
                .keys()
                .map(|k| a.tile(coord(k)))
                .collect();
            assert!(
                all.iter().any(|r| r.is_err()),
                "a truncated file read whole"
            );
        }
    }
}

#[test]
fn mbtiles_without_format_or_zooms_in_its_metadata_is_read_from_its_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.mbtiles");
    std::fs::copy(testdata().join("raster.mbtiles"), &path).unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "DELETE FROM metadata WHERE name IN ('format', 'minzoom', 'maxzoom', 'bounds')",
        [],
    )
    .unwrap();
    drop(db);
    let a = Archive::open(&path).unwrap();
    let m = a.metadata();
    assert_eq!((m.format, m.min_zoom, m.max_zoom), (Format::Png, 0, 3));
    assert_eq!(m.bounds, None);
}

// ---- Through the router ----------------------------------------------------------------------

/// A web fixture whose data directory's tiles/ holds copies of `archives`.
fn with_archives(archives: &[&str]) -> crate::web::tests::Fixture {
    let f = fixture(vec![], vec![]);
    let dir = data_dir(&f).join(TILES_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    for a in archives {
        std::fs::copy(testdata().join(a), dir.join(a)).unwrap();
    }
    f
}

fn data_dir(f: &crate::web::tests::Fixture) -> PathBuf {
    f.state.store.path().parent().unwrap().to_owned()
}

#[tokio::test]
async fn the_route_serves_every_tile_of_each_archive_as_the_python_readers_read_it() {
    let manifest = manifest();
    for name in [
        "raster.mbtiles",
        "raster.pmtiles",
        "raster-leaves.pmtiles",
        "photo.mbtiles",
        "photo.pmtiles",
    ] {
        let want = &manifest[name];
        let content_type = if name.starts_with("photo") {
            "image/jpeg"
        } else {
            "image/png"
        };
        let f = with_archives(&[name]);
        for (key, digest) in &want.tiles {
            let resp = get(&f, &format!("/tiles/{key}?v=anything")).await;
            assert_eq!(resp.status(), StatusCode::OK, "{name} {key}");
            assert_eq!(resp.headers()[header::CONTENT_TYPE], content_type);
            assert_eq!(resp.headers()[header::CACHE_CONTROL], TILE_CACHE);
            assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(&sha(&bytes), digest, "{name} {key}");
        }
        for key in &want.absent {
            let resp = get(&f, &format!("/tiles/{key}")).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{name} {key}");
            assert!(body(resp).await.contains(&format!("no tile {key} in")));
        }
        for (bad, says) in [
            ("/tiles/x/0/0", "tile zoom \"x\" is not a whole number"),
            ("/tiles/1/2/0", "tile 2/0 is outside zoom 1's grid"),
            ("/tiles/32/0/0", "zoom 32 is past the deepest level, 31"),
            ("/tiles/1/0/0.png", "tile y \"0.png\" is not a whole number"),
        ] {
            let resp = get(&f, bad).await;
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
            let text = body(resp).await;
            assert!(text.contains(says), "{bad}: {text}");
        }
    }
}

#[tokio::test]
async fn without_a_usable_archive_the_map_page_shows_the_grid_and_says_why() {
    let f = fixture(vec![], vec![]);
    let html = get_ok(&f, "/map").await;
    assert!(!html.contains("data-tiles"), "{html}");
    assert!(html.contains("No map tiles"));
    assert!(html.contains(&format!("{}", data_dir(&f).join(TILES_DIR).display())));
    let resp = get(&f, "/tiles/0/0/0").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(body(resp).await.contains("no map tiles: put a raster"));

    for (name, says) in [
        (
            "vector.mbtiles",
            "vector tiles are not supported; use a raster archive",
        ),
        (
            "vector.pmtiles",
            "vector tiles are not supported; use a raster archive",
        ),
    ] {
        let f = with_archives(&[name]);
        let html = get_ok(&f, "/map").await;
        assert!(!html.contains("data-tiles"), "{name}");
        assert!(
            html.contains("map-tiles-problem") && html.contains(says),
            "{name}: {html}"
        );
        assert!(html.contains(name));
        let resp = get(&f, "/tiles/0/0/0").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{name}");
        assert!(body(resp).await.contains(says));
    }

    let f = fixture(vec![], vec![]);
    let dir = data_dir(&f).join(TILES_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.pmtiles"), b"PMTiles\x03 and then nothing").unwrap();
    let html = get_ok(&f, "/map").await;
    assert!(!html.contains("data-tiles"));
    assert!(html.contains("broken.pmtiles: at byte 0"), "{html}");
}

#[tokio::test]
async fn with_an_archive_the_map_page_hands_its_layer_to_map_js() {
    let f = with_archives(&["raster.pmtiles"]);
    // A macOS companion file sorts first but is no archive: skipped.
    std::fs::write(
        data_dir(&f).join(TILES_DIR).join("._raster.pmtiles"),
        b"\x00\x05\x16\x07 AppleDouble",
    )
    .unwrap();
    let html = get_ok(&f, "/map").await;
    assert!(
        !html.contains("._raster") && !html.contains("map-tiles-ignored"),
        "{html}"
    );
    let v = {
        let before = "data-tiles=\"/tiles/{z}/{x}/{y}?v=";
        let at = html.find(before).expect(&html) + before.len();
        html[at..at + 12].to_owned()
    };
    assert!(v.bytes().all(|b| b.is_ascii_hexdigit()), "{v}");
    assert!(
        html.contains(r#"data-minzoom="0" data-maxzoom="3""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-bounds="-180,-85.0511287,180,85.0511287""#),
        "{html}"
    );
    // The archive's HTML attribution arrives as text: no link off the device.
    assert!(!html.contains("example.invalid"), "{html}");
    assert!(
        html.contains(r#"data-attribution="© Test tiles &#38; Co""#)
            || html.contains(r#"data-attribution="© Test tiles &amp; Co""#),
        "{html}"
    );
    assert!(
        html.contains("PiWardrive test tiles from tiles/raster.pmtiles: PNG tiles, zoom 0 to 3")
    );

    // A second archive: the first by name is used, the page says so.
    std::fs::copy(
        testdata().join("raster.mbtiles"),
        data_dir(&f).join(TILES_DIR).join("z-other.mbtiles"),
    )
    .unwrap();
    let html = get_ok(&f, "/map").await;
    assert!(html.contains("using raster.pmtiles, the first by name; ignoring z-other.mbtiles"));

    // Replaced by another archive while running: the next page load uses it, under a new
    // version in the tile URLs.
    let tiles = data_dir(&f).join(TILES_DIR);
    std::fs::remove_file(tiles.join("raster.pmtiles")).unwrap();
    let html = get_ok(&f, "/map").await;
    assert!(html.contains("tiles/z-other.mbtiles: PNG tiles"), "{html}");
    assert!(!html.contains(&format!("?v={v}")));
    assert_eq!(get(&f, "/tiles/1/0/0").await.status(), StatusCode::OK);
    assert_eq!(
        get(&f, "/tiles/1/0/1").await.status(),
        StatusCode::NOT_FOUND
    );
}
