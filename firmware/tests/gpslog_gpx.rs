//! The GPX reader on a phone app's export, on hostile files, and on every prefix and random mutation of a good one: clear errors or skipped points, never a panic.

use std::path::Path;

use piwardrive::gps::log::{
    ASSUMED_ACCURACY_M, GpsLog, GpsLogError, HDOP_TO_METRES, LogFormat, ReadOptions, SkipReason,
    parse_log, read_log_with,
};
use proptest::prelude::*;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/gps")
        .join(name)
}

fn parse(bytes: &[u8]) -> Result<GpsLog, GpsLogError> {
    parse_log(bytes, Path::new("test.gpx"), &ReadOptions::default())
}

/// 2024-05-01T00:00:00Z in Unix microseconds (1704067200 for 2024-01-01 plus 121 days).
const MAY_1_2024_US: i64 = (1_704_067_200 + 121 * 86_400) * 1_000_000;

fn may1(h: i64, m: i64, s_ms: i64) -> i64 {
    MAY_1_2024_US + (h * 3600 + m * 60) * 1_000_000 + s_ms * 1_000
}

#[test]
fn phone_export() {
    let log = read_log_with(&data("gpslog_phone_export.gpx"), &ReadOptions::default()).unwrap();
    let r = &log.report;
    assert_eq!(r.format, LogFormat::Gpx);
    assert!(r.stopped_early.is_none(), "{r}");
    let got: Vec<(f64, f64, Option<f64>, f64, i64)> = log
        .fixes
        .iter()
        .map(|f| (f.lat, f.lon, f.alt_m, f.accuracy_m, f.time_us))
        .collect();
    let want = vec![
        // HDOP 0.8 × HDOP_TO_METRES; the ele inside <extensions> is not the point's.
        (
            52.3789,
            4.9001,
            Some(2.5),
            0.8 * HDOP_TO_METRES,
            may1(18, 0, 0),
        ),
        (
            52.3788,
            4.9000,
            Some(2.7),
            1.2 * HDOP_TO_METRES,
            may1(18, 0, 1_500),
        ),
        // 20:00:03+02:00 is 18:00:03Z; no HDOP, so the assumed accuracy.
        (
            52.3787,
            4.8999,
            Some(3.0),
            ASSUMED_ACCURACY_M,
            may1(18, 0, 3_000),
        ),
        // Time in CDATA.
        (
            52.3786,
            4.8998,
            None,
            1.0 * HDOP_TO_METRES,
            may1(18, 0, 4_000),
        ),
        // A prefixed point in a second segment.
        (
            52.372,
            4.893,
            Some(1.0),
            ASSUMED_ACCURACY_M,
            may1(18, 10, 0),
        ),
        // A route point.
        (52.3721, 4.8931, None, 2.0 * HDOP_TO_METRES, may1(18, 11, 0)),
    ];
    assert_eq!(got, want);
    assert_eq!(r.skipped_for(SkipReason::Waypoint), 1);
    assert_eq!(r.skipped_total(), 1);
    assert_eq!(r.assumed_accuracy, 2);
    assert_eq!(r.span, Some((may1(18, 0, 0), may1(18, 11, 0))));
}

#[test]
fn hostile_points_are_skipped_with_reasons() {
    let log = read_log_with(&data("gpslog_hostile.gpx"), &ReadOptions::default()).unwrap();
    let r = &log.report;
    let pos: Vec<(f64, f64)> = log.fixes.iter().map(|f| (f.lat, f.lon)).collect();
    // The good point, the one written with character references, the last good one before
    // the broken structure; the points after it are not read.
    assert_eq!(pos, [(10.0, 20.0), (10.5, 20.5), (10.0, 20.0)]);
    // Missing lat, duplicate lat, two <time>s, and the point cut off by the broken end tag.
    assert_eq!(r.skipped_for(SkipReason::Malformed), 4, "{r}");
    // 1e999, NaN, 91, -180.5, 0x10, &xxe;, month 13, a 50-digit altitude, hdop -inf.
    assert_eq!(r.skipped_for(SkipReason::BadValue), 9, "{r}");
    assert_eq!(r.skipped_for(SkipReason::NoTime), 1, "{r}");
    let stop = r.stopped_early.as_ref().unwrap();
    assert_eq!(stop.at.line, 25, "{stop}");
    assert!(
        stop.detail
            .contains("</trkseg> where </trkpt> was expected"),
        "{stop}"
    );
    // Every skip is explained with its place in the file.
    let lines: Vec<u64> = r.examples.iter().map(|p| p.at.line).collect();
    assert_eq!(lines, [8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    assert!(
        r.examples[0].detail.contains("no lat attribute"),
        "{}",
        r.examples[0]
    );
    assert!(
        r.examples[7].detail.contains("unknown entity &xxe;"),
        "{}",
        r.examples[7]
    );
    let printed = r.to_string();
    assert!(printed.contains("stopped reading at line 25"), "{printed}");
}

/// The error message of a file that gives no fix.
fn no_fix(bytes: &[u8]) -> String {
    match parse(bytes) {
        Err(e @ GpsLogError::NoFix { .. }) => e.to_string(),
        other => panic!("expected NoFix, got {other:?}"),
    }
}

#[test]
fn hostile_documents_give_clear_errors() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE gpx [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
]>
<gpx><trk><trkseg><trkpt lat="1" lon="1"><time>&b;</time></trkpt></trkseg></trk></gpx>"#;
    let msg = no_fix(laughs);
    assert!(
        msg.contains("DOCTYPE") && msg.contains("line 2 (byte 22)"),
        "{msg}"
    );

    let xxe = br#"<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]><gpx/>"#;
    assert!(no_fix(xxe).contains("DOCTYPE"));

    let kml = br#"<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"/>"#;
    assert!(no_fix(kml).contains("the root element is <kml>, not <gpx>"));

    let deep = format!("<gpx>{}", "<a>".repeat(100_000));
    assert!(no_fix(deep.as_bytes()).contains("nested deeper than 64"));

    let lt = br#"<gpx><trkpt lat="<1" lon="2"><time>2024-01-01T00:00:00Z</time></trkpt></gpx>"#;
    assert!(no_fix(lt).contains("'<' inside a tag"));

    assert!(no_fix(b"<gpx></gpx>").contains("nothing skipped"));
    assert!(no_fix(b"<gpx>").contains("the file ends inside <gpx>"));
    assert!(no_fix(b"<gpx/><gpx/>").contains("a second root element"));
    assert!(no_fix(b"<gpx/>trailing").contains("text outside the <gpx> element"));
    assert!(no_fix(b"<gpx></trk>").contains("</trk> where </gpx> was expected"));
    assert!(no_fix(b"<").contains("'<' that starts no tag"));

    // After a good point, a comment that never ends: the point is kept, the stop reported.
    let cut =
        br#"<gpx><trk><trkseg><trkpt lat="1" lon="2"><time>2024-01-01T00:00:00Z</time></trkpt>
<!-- never closed"#;
    let log = parse(cut).unwrap();
    assert_eq!(log.fixes.len(), 1);
    let stop = log.report.stopped_early.unwrap();
    assert_eq!(stop.at.line, 2);
    assert!(stop.detail.contains("comment never closed"));

    // 300 characters of digits in a value are refused, not parsed.
    let long = format!(
        r#"<gpx><trkpt lat="1" lon="2"><time>2024-01-01T00:00:00Z</time><ele>{}</ele></trkpt></gpx>"#,
        "1".repeat(300)
    );
    assert!(no_fix(long.as_bytes()).contains("too long"));
}

#[test]
fn every_prefix_of_a_good_file_reads_or_errs_cleanly() {
    let full = std::fs::read(data("gpslog_phone_export.gpx")).unwrap();
    let whole = parse(&full).unwrap().fixes;
    for n in 0..full.len() {
        match parse(&full[..n]) {
            Ok(log) => {
                // A cut file gives the points before the cut, each exactly as in the whole
                // file, and says where it stopped (unless only the final newline is gone).
                assert!(log.fixes.len() <= whole.len());
                assert_eq!(log.fixes[..], whole[..log.fixes.len()], "prefix {n}");
                let complete = full[n..].trim_ascii().is_empty();
                assert_eq!(log.report.stopped_early.is_none(), complete, "prefix {n}");
            }
            Err(e) => assert!(
                matches!(e, GpsLogError::NoFix { .. } | GpsLogError::Empty { .. }),
                "prefix {n}: {e}"
            ),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random byte flips in a good file: any result but a panic, and every fix in range.
    #[test]
    fn mutations_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = std::fs::read(data("gpslog_phone_export.gpx")).unwrap();
        for (i, b) in edits {
            let k = i.index(bytes.len());
            bytes[k] = b;
        }
        if let Ok(log) = parse(&bytes) {
            for f in log.fixes {
                prop_assert!(f.lat.abs() <= 90.0 && f.lon.abs() <= 180.0);
                prop_assert!(f.accuracy_m > 0.0 && f.accuracy_m.is_finite());
            }
        }
    }

    /// Arbitrary bytes after a '<' (so that the GPX reader is the one that runs), and arbitrary
    /// lines (JSON or NMEA): never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(tail in prop::collection::vec(any::<u8>(), 0..400), first in prop::sample::select(vec![b'<', b'{', b'$', b'#'])) {
        let mut bytes = vec![first];
        bytes.extend(tail);
        let _ = parse(&bytes);
    }

    /// Tags, entities and quotes in random order exercise the tokenizer's branches.
    #[test]
    fn xml_soup_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "<gpx>", "</gpx>", "<trkpt lat=\"1\" lon=\"2\">", "</trkpt>", "<time>", "</time>",
        "2024-01-01T00:00:00Z", "<ele>", "</ele>", "&amp;", "&#x41;", "&bad;", "&", "<!--",
        "-->", "<![CDATA[", "]]>", "<?x ?>", "<!DOCTYPE gpx>", "'", "\"", "<", ">", "/>",
        "<a:b c='d'/>", "\n", " ",
    ]), 0..60)) {
        let s: String = parts.concat();
        let _ = parse(s.as_bytes());
    }
}
