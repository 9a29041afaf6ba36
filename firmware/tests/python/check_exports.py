#!/usr/bin/env python3
"""Independent checks of PiWardrive's WiGLE CSV and GeoJSON exports.

Run by firmware/tests/export_external.rs, which writes the exports and an expectations file:

    check_exports.py --wigle FILE --geojson FILE --expect FILE

The WiGLE file is read back with the standard library's csv module (an RFC 4180 reader that
is not ours) and every field of every row is checked where it belongs; the GeoJSON file is
checked with geojson-validator (pip install geojson-validator==0.7.0), which checks the RFC
7946 structure and the geometries. Exits non-zero with one line per problem.
"""

import argparse
import csv
import json
import re
import sys
from datetime import datetime

HEADER = [
    "MAC", "SSID", "AuthMode", "FirstSeen", "Channel", "Frequency", "RSSI",
    "CurrentLatitude", "CurrentLongitude", "AltitudeMeters", "AccuracyMeters", "RCOIs",
    "MfgrId", "Type",
]
PRE_HEADER_KEYS = ["appRelease", "model", "release", "device", "display", "board", "brand"]
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# Plain decimal numbers only: no exponent, no grouping, '.' as the decimal point.
DECIMAL_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
FIRST_SEEN_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")
AUTH_RE = re.compile(r"^(\[[A-Za-z0-9_+/?-]+\])+$")

problems = []


def problem(msg):
    problems.append(msg)


def check_wigle(path, expect):
    # Strict UTF-8: a byte sequence that is not UTF-8 fails here, as it would at WiGLE.
    with open(path, encoding="utf-8", errors="strict", newline="") as f:
        rows = list(csv.reader(f, strict=True))
    if len(rows) < 2:
        problem("wigle: fewer than two lines")
        return
    pre = rows[0]
    if pre[0] != "WigleWifi-1.6":
        problem(f"wigle: pre-header starts with {pre[0]!r}")
    keys = [p.split("=", 1)[0] for p in pre[1:8]]
    if keys != PRE_HEADER_KEYS:
        problem(f"wigle: pre-header keys {keys}")
    if pre[8:] != ["star=Sol", "body=3", "subBody=0"]:
        problem(f"wigle: pre-header ends with {pre[8:]}")
    if rows[1] != HEADER:
        problem(f"wigle: header is {rows[1]}")

    by_mac = {}
    for n, row in enumerate(rows[2:], start=3):
        where = f"wigle record {n}"
        if len(row) != 14:
            problem(f"{where}: {len(row)} fields, expected 14: {row!r}")
            continue
        mac, ssid, auth, first, chan, freq, rssi, lat, lon, alt, acc, rcois, mfgr, typ = row
        by_mac.setdefault(mac, []).append(row)
        if not MAC_RE.match(mac):
            problem(f"{where}: MAC {mac!r} is not lowercase colon hex")
        if not AUTH_RE.match(auth):
            problem(f"{where}: AuthMode {auth!r}")
        # strptime alone accepts "2026-1-2 3:04:05"; WiGLE needs the zero padding
        # (Marauder#346), so the shape is checked first.
        if not FIRST_SEEN_RE.match(first):
            problem(f"{where}: FirstSeen {first!r} is not zero-padded yyyy-MM-dd HH:mm:ss")
        else:
            try:
                datetime.strptime(first, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                problem(f"{where}: FirstSeen {first!r} is not a valid date and time")
        if chan and not chan.isdigit():
            problem(f"{where}: Channel {chan!r}")
        if freq:
            if not freq.isdigit():
                problem(f"{where}: Frequency {freq!r}")
            elif not 2400 <= int(freq) <= 71000:
                problem(f"{where}: Frequency {freq} is not in MHz")
            elif chan and 5925 < int(freq) < 7200 and int(chan) != (int(freq) - 5950) // 5:
                problem(f"{where}: 6 GHz channel {chan} for {freq} MHz")
        if not re.match(r"^-?[0-9]+$", rssi):
            problem(f"{where}: RSSI {rssi!r} is not an integer")
        for name, value in (("lat", lat), ("lon", lon), ("alt", alt), ("acc", acc)):
            if not DECIMAL_RE.match(value):
                problem(f"{where}: {name} {value!r} is not a plain decimal")
        try:
            if not -90 <= float(lat) <= 90 or not -180 <= float(lon) <= 180:
                problem(f"{where}: position {lat},{lon} off the globe")
            if not float(acc) > 0:
                problem(f"{where}: AccuracyMeters {acc} is not positive")
        except ValueError:
            pass
        if rcois or mfgr:
            problem(f"{where}: RCOIs/MfgrId {rcois!r}/{mfgr!r} should be empty for Wi-Fi")
        if typ != "WIFI":
            problem(f"{where}: Type {typ!r}")

    total = len(rows) - 2
    if total != expect["wigle_rows"]:
        problem(f"wigle: {total} rows, expected {expect['wigle_rows']}")
    for mac, want in expect["wigle_ssids"].items():
        got = by_mac.get(mac)
        if not got:
            problem(f"wigle: no row for {mac}")
            continue
        for row in got:
            if row[1] != want:
                problem(f"wigle: {mac} SSID {row[1]!r}, expected {want!r}")
    return total


def check_geojson(path, expect):
    try:
        import geojson_validator
    except ImportError:
        print(
            "geojson-validator is not installed: run "
            "`python3 -m pip install geojson-validator==0.7.0`",
            file=sys.stderr,
        )
        sys.exit(3)
    with open(path, encoding="utf-8", errors="strict") as f:
        data = json.load(f)
    structure = geojson_validator.validate_structure(data, check_crs=True)
    if structure:
        problem(f"geojson: structure: {structure}")
    geometries = geojson_validator.validate_geometries(data)
    if geometries["invalid"] or geometries["problematic"]:
        problem(
            f"geojson: geometries: invalid {geometries['invalid']}, "
            f"problematic {geometries['problematic']}"
        )
    features = data["features"]
    if len(features) != expect["geojson_features"]:
        problem(f"geojson: {len(features)} features, expected {expect['geojson_features']}")
    for feat in features:
        props = feat["properties"]
        lon, lat = feat["geometry"]["coordinates"]
        want = expect["positions"].get(props["bssid"])
        if want and (abs(lon - want[0]) > 1e-6 or abs(lat - want[1]) > 1e-6):
            problem(f"geojson: {props['bssid']} at {lon},{lat}, expected lon,lat {want}")
        want_hex = expect["ssid_hex"].get(props["bssid"])
        if want_hex is not None and props["ssid_hex"] != want_hex:
            problem(f"geojson: {props['bssid']} ssid_hex {props['ssid_hex']}")
        for key in ("first_seen", "last_seen"):
            try:
                datetime.strptime(props[key], "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                problem(f"geojson: {key} {props[key]!r} is not ISO 8601 UTC")
    return len(features)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wigle", required=True)
    ap.add_argument("--geojson", required=True)
    ap.add_argument("--expect", required=True)
    args = ap.parse_args()
    with open(args.expect, encoding="utf-8") as f:
        expect = json.load(f)
    rows = check_wigle(args.wigle, expect)
    features = check_geojson(args.geojson, expect)
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        sys.exit(1)
    print(f"OK: {rows} WiGLE rows, {features} GeoJSON features")


if __name__ == "__main__":
    main()
