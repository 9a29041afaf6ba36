//! GPX 1.1 of the GPS track: one `trk`, a new `trkseg` wherever the receiver went quiet for
//! longer than [`SEGMENT_GAP_US`] (so a map does not draw a straight line across a tunnel or
//! a stop with the appliance off) and wherever a point in a home zone was left out, `trkpt`
//! with `ele` and `time`.

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Bound;

use super::text::{iso_time, push_xml_text};
use super::{ExportError, ExportOptions, ExportStats, HomeZones, finish, step};
use crate::store::{Snapshot, TimeRange};

/// A gap in the track longer than this starts a new segment.
pub(crate) const SEGMENT_GAP_US: i64 = 60_000_000;

pub(super) fn write(
    snap: &Snapshot,
    options: &ExportOptions,
    zones: &HomeZones,
    out: &mut dyn Write,
    stats: &mut ExportStats,
) -> Result<(), ExportError> {
    let (range, name): (TimeRange, String) = match options.session {
        Some(id) => (
            snap.session_time_range(id)?
                .ok_or(ExportError::NoSuchSession(id))?,
            format!("PiWardrive session {id}"),
        ),
        None => (
            (Bound::Unbounded, Bound::Unbounded),
            "PiWardrive track".to_string(),
        ),
    };
    let mut head = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <gpx version=\"1.1\" creator=\"PiWardrive {}\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\">\n<trk>\n<name>",
        env!("CARGO_PKG_VERSION")
    );
    push_xml_text(&mut head, &name);
    head.push_str("</name>\n");
    out.write_all(head.as_bytes())?;

    let mut last: Option<i64> = None;
    let mut in_zone = false;
    let mut buf = String::with_capacity(160);
    finish(snap.for_each_track_point(range, |p| {
        if !p.is_plausible() {
            stats.skipped_bad_fix += 1;
            return std::ops::ControlFlow::Continue(());
        }
        if zones.contains_fix(p) {
            // Left out, and the segment ends here: a line drawn across the zone would
            // still lead to it.
            stats.skipped_home_zone += 1;
            in_zone = true;
            return std::ops::ControlFlow::Continue(());
        }
        buf.clear();
        match last {
            None => buf.push_str("<trkseg>\n"),
            Some(t) if in_zone || p.time_us - t > SEGMENT_GAP_US => {
                buf.push_str("</trkseg>\n<trkseg>\n")
            }
            Some(_) => {}
        }
        in_zone = false;
        last = Some(p.time_us);
        let _ = write!(buf, "<trkpt lat=\"{:.8}\" lon=\"{:.8}\">", p.lat, p.lon);
        if let Some(alt) = p.alt_m {
            let _ = write!(buf, "<ele>{alt:.1}</ele>");
        }
        let _ = writeln!(buf, "<time>{}</time></trkpt>", iso_time(p.time_us));
        stats.written += 1;
        step(out.write_all(buf.as_bytes()).map_err(ExportError::from))
    }))?;
    if last.is_some() {
        out.write_all(b"</trkseg>\n")?;
    }
    out.write_all(b"</trk>\n</gpx>\n")?;
    Ok(())
}
