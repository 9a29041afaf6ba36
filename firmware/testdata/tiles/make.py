#!/usr/bin/env python3
"""Makes the tile-archive fixtures of PiWardrive's map tests with third-party tools, and the
manifest of what those tools read back from them.

Needs: Python 3, its sqlite3 module, and from PyPI `pillow==13.0.0` (draws the PNG and JPEG
tiles) and `pmtiles==3.8.1` (its `pmtiles-convert` turns each MBTiles into a PMTiles; its
Writer makes the archive with leaf directories; its Reader reads every archive back).

    pip install pillow==13.0.0 pmtiles==3.8.1
    python3 firmware/testdata/tiles/make.py

The script rewrites every fixture in this folder and manifest.json. Nothing in it comes from
PiWardrive: the expected tiles in the manifest are what sqlite3 and the pmtiles package
return, so the Rust readers are checked against them, not against themselves.
"""

import gzip
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys

from PIL import Image, ImageDraw

import pmtiles.writer
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType, zxy_to_tileid

HERE = os.path.dirname(os.path.abspath(__file__))


def png_tile(z, x, y):
    """A 256-pixel tile: a colour of its own, a frame, and its XYZ address written on it, so
    that a flipped row shows on a screenshot too. Four colours, so it stays a few hundred
    bytes."""
    colour = ((z * 70 + x * 40) % 200 + 40, (y * 60 + z * 20) % 200 + 40, 180)
    img = Image.new("RGB", (256, 256), colour)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 255, 255], outline=(40, 40, 40), width=2)
    d.text((12, 12), f"{z}/{x}/{y}", fill=(0, 0, 0))
    out = io.BytesIO()
    img.quantize(colors=4).save(out, format="PNG", optimize=True)
    return out.getvalue()


def ice_tile():
    """One tile repeated along a row: consecutive tile ids with the same bytes, which the
    PMTiles writer stores as a single run."""
    img = Image.new("RGB", (256, 256), (235, 240, 245))
    out = io.BytesIO()
    img.quantize(colors=2).save(out, format="PNG", optimize=True)
    return out.getvalue()


def jpeg_tile():
    img = Image.new("RGB", (256, 256), (90, 140, 90))
    ImageDraw.Draw(img).ellipse([64, 64, 192, 192], fill=(200, 180, 60))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=30)
    return out.getvalue()


def raster_tiles():
    """XYZ address -> PNG bytes. Sparse on purpose: zoom 1 has only its northern row, so a
    reader that forgets to flip MBTiles rows finds the wrong (missing) tiles."""
    tiles = {(0, 0, 0): png_tile(0, 0, 0)}
    for x in range(2):
        tiles[(1, x, 0)] = png_tile(1, x, 0)
    ice = ice_tile()
    for x in range(4):
        for y in range(4):
            tiles[(2, x, y)] = ice if y == 3 else png_tile(2, x, y)
    for x in (4, 5):
        for y in (2, 3):
            tiles[(3, x, y)] = png_tile(3, x, y)
    return tiles


def write_mbtiles(path, metadata, tiles):
    """An MBTiles 1.3 file as the spec lays it out: metadata(name, value), tiles with TMS
    rows, the unique index."""
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    # Small pages keep these few-tile files small; real archives use SQLite's default.
    db.execute("PRAGMA page_size = 1024")
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    db.execute("CREATE UNIQUE INDEX tile_index on tiles (zoom_level, tile_column, tile_row)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
    for (z, x, y), data in sorted(tiles.items()):
        db.execute(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data)
        )
    db.commit()
    db.execute("VACUUM")
    db.close()


def convert(src, dst):
    """The pmtiles package's own converter, as a user would run it."""
    if os.path.exists(dst):
        os.remove(dst)
    subprocess.run(["pmtiles-convert", src, dst], check=True)


def write_pmtiles_with_leaves(src, dst, leaf_size):
    """The same tiles through the pmtiles package's Writer, with its directory builder told
    to put `leaf_size` entries in each leaf directory (its default only makes leaves once
    the root passes 16 KiB, i.e. for tens of thousands of tiles)."""
    db = sqlite3.connect(src)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    db.close()
    tiles = sorted(
        (zxy_to_tileid(z, x, (1 << z) - 1 - r), data) for z, x, r, data in rows
    )
    original = pmtiles.writer.optimize_directories
    pmtiles.writer.optimize_directories = lambda entries, _target: (
        pmtiles.writer.build_roots_leaves(entries, leaf_size)
    )
    try:
        with pmtiles.writer.write(dst) as w:
            for tile_id, data in tiles:
                w.write_tile(tile_id, data)
            w.finalize(
                {
                    "tile_type": TileType.PNG,
                    "tile_compression": Compression.NONE,
                    "min_lon_e7": -1800000000,
                    "min_lat_e7": -850511287,
                    "max_lon_e7": 1800000000,
                    "max_lat_e7": 850511287,
                    "center_zoom": 0,
                    "center_lon_e7": 0,
                    "center_lat_e7": 0,
                },
                meta,
            )
    finally:
        pmtiles.writer.optimize_directories = original


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_mbtiles(path):
    """What sqlite3 reads back: metadata and the tiles under their XYZ address."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    tiles = {}
    for z, x, row, data in db.execute(
        "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
    ):
        tiles[f"{z}/{x}/{(1 << z) - 1 - row}"] = sha(data)
    db.close()
    return meta, tiles


def read_pmtiles(path):
    """What the pmtiles package's Reader reads back: header, metadata, every tile (found by
    walking the directories), and each tile again by its address through Reader.get."""
    with open(path, "rb") as f:
        get = MmapSource(f)
        reader = Reader(get)
        header = reader.header()
        meta = reader.metadata()
        tiles = {f"{z}/{x}/{y}": sha(data) for (z, x, y), data in all_tiles(get)}
        for key, digest in tiles.items():
            z, x, y = map(int, key.split("/"))
            assert sha(reader.get(z, x, y)) == digest, key
    return header, meta, tiles


def absent(tiles, max_zoom):
    """Every address from zoom 0 to max_zoom + 1 that is not in the archive."""
    out = []
    for z in range(max_zoom + 2):
        for x in range(1 << z):
            for y in range(1 << z):
                if f"{z}/{x}/{y}" not in tiles:
                    out.append(f"{z}/{x}/{y}")
    return out


def main():
    os.chdir(HERE)
    attribution = '<a href="https://example.invalid/tiles">&copy; Test tiles &amp; Co</a>'
    raster_meta = {
        "name": "PiWardrive test tiles",
        "format": "png",
        "type": "baselayer",
        "version": "1",
        "description": "Coloured squares labelled with their z/x/y address",
        "minzoom": "0",
        "maxzoom": "3",
        "bounds": "-180.0,-85.05112878,180.0,85.05112878",
        "center": "0,0,1",
        "attribution": attribution,
    }
    write_mbtiles("raster.mbtiles", raster_meta, raster_tiles())
    convert("raster.mbtiles", "raster.pmtiles")
    write_pmtiles_with_leaves("raster.mbtiles", "raster-leaves.pmtiles", 4)

    # A JPEG archive as the MBTiles spec names the format ("jpg"); pmtiles-convert 3.8.1 only
    # knows "jpeg", so its PMTiles has tile type 0 (unknown) and "format": "jpg" in its
    # metadata: a reader must cope with that.
    photo_meta = {
        "name": "Photo",
        "format": "jpg",
        "minzoom": "0",
        "maxzoom": "0",
        "bounds": "5.5,45.5,10.5,48.0",
        "attribution": "Test imagery",
    }
    write_mbtiles("photo.mbtiles", photo_meta, {(0, 0, 0): jpeg_tile()})
    convert("photo.mbtiles", "photo.pmtiles")

    # A vector archive: one (gzipped, as vector MBTiles keep them) protobuf-ish tile.
    vector_meta = {
        "name": "Vector",
        "format": "pbf",
        "minzoom": "0",
        "maxzoom": "0",
        "json": json.dumps({"vector_layers": [{"id": "water", "fields": {}}]}),
    }
    pbf = gzip.compress(b"\x1a\x07\x0a\x05water\x28\x02\x78\x02", mtime=0)
    write_mbtiles("vector.mbtiles", vector_meta, {(0, 0, 0): pbf})
    convert("vector.mbtiles", "vector.pmtiles")

    manifest = {"generator": f"make.py; pmtiles {version('pmtiles')}, pillow "
                f"{version('pillow')}, SQLite {sqlite3.sqlite_version}", "archives": {}}
    for name in ("raster", "photo", "vector"):
        meta, mb_tiles = read_mbtiles(f"{name}.mbtiles")
        manifest["archives"][f"{name}.mbtiles"] = {
            "metadata": meta,
            "tiles": mb_tiles,
            "absent": absent(mb_tiles, int(meta["maxzoom"])),
        }
        pm_files = [f"{name}.pmtiles"] + (["raster-leaves.pmtiles"] if name == "raster" else [])
        for pm in pm_files:
            header, pm_meta, pm_tiles = read_pmtiles(pm)
            # The converter copies the MBTiles tiles unchanged, except that it gzips vector
            # tiles that are not gzipped yet; ours already are.
            assert pm_tiles == mb_tiles, (pm, pm_tiles, mb_tiles)
            manifest["archives"][pm] = {
                "header": {
                    k: (v.value if hasattr(v, "value") else v)
                    for k, v in header.items()
                },
                "metadata": pm_meta,
                "tiles": pm_tiles,
                "absent": absent(pm_tiles, header["max_zoom"]),
            }
    assert manifest["archives"]["raster-leaves.pmtiles"]["header"]["leaf_directory_length"] > 0
    assert manifest["archives"]["raster.pmtiles"]["header"]["leaf_directory_length"] == 0
    with open("manifest.json", "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


def version(dist):
    from importlib.metadata import version as v

    return v(dist)


if __name__ == "__main__":
    sys.exit(main())
