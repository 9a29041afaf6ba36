//! KML 2.2: one placemark per network at its estimated position, styled by security class
//! through shared `Style` elements, one `Folder` per session.
//!
//! All text goes through [`push_xml_text`], and SSIDs are first made printable by
//! [`ssid_escaped`], so no SSID (`]]>`, `<`, `&`, quotes, control bytes, invalid UTF-8) can
//! make the file unparseable. No CDATA is used, so `]]>` needs no special case.

use std::fmt::Write as _;
use std::io::Write;

use super::text::{
    display_name, iso_time, position, push_xml_text, security_summary, ssid_escaped, style_id,
};
use super::{ExportError, ExportOptions, ExportStats, HomeZones, finish, step};
use crate::model::{ApRecord, SessionRecord};
use crate::store::Snapshot;

/// Style ids and their icon colours (KML colours are aabbggrr).
const STYLES: [(&str, &str); 6] = [
    ("open", "ff00c000"),
    ("owe", "ffc0c000"),
    ("wep", "ff0000ff"),
    ("wpa", "ff0080ff"),
    ("wpa2", "ff00ffff"),
    ("wpa3", "ffff8000"),
];

pub(super) fn write(
    snap: &Snapshot,
    options: &ExportOptions,
    zones: &HomeZones,
    out: &mut dyn Write,
    stats: &mut ExportStats,
) -> Result<(), ExportError> {
    let mut head = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>PiWardrive</name>\n",
    );
    for (id, colour) in STYLES {
        let _ = writeln!(
            head,
            "<Style id=\"{id}\"><IconStyle><color>{colour}</color></IconStyle></Style>"
        );
    }
    out.write_all(head.as_bytes())?;

    let sessions = match options.session {
        Some(id) => snap.session(id)?.into_iter().collect(),
        None => snap.sessions()?,
    };
    let mut buf = String::with_capacity(1024);
    for s in &sessions {
        buf.clear();
        folder_open(&mut buf, s);
        out.write_all(buf.as_bytes())?;
        finish(snap.for_each_ap_in_session(s.id, |ap| {
            step(placemark(ap, zones, &mut buf, stats).and_then(|written| {
                if written {
                    out.write_all(buf.as_bytes())?;
                }
                Ok(())
            }))
        }))?;
        out.write_all(b"</Folder>\n")?;
    }
    if options.session.is_none() {
        // Networks that no observation places in a session (records written without
        // observations) still belong on the map of the whole store.
        let mut opened = false;
        finish(snap.for_each_ap(|ap| {
            step((|| {
                if snap.has_observations(ap.bssid)? {
                    return Ok(());
                }
                if !placemark(ap, zones, &mut buf, stats)? {
                    return Ok(());
                }
                if !opened {
                    out.write_all(b"<Folder>\n<name>Not in a session</name>\n")?;
                    opened = true;
                }
                out.write_all(buf.as_bytes())?;
                Ok(())
            })())
        }))?;
        if opened {
            out.write_all(b"</Folder>\n")?;
        }
    }
    out.write_all(b"</Document>\n</kml>\n")?;
    Ok(())
}

fn folder_open(buf: &mut String, s: &SessionRecord) {
    let _ = write!(
        buf,
        "<Folder>\n<name>Session {}</name>\n<description>",
        s.id
    );
    let mut d = format!("started {}", iso_time(s.started_at));
    if let Some(end) = s.ended_at {
        let _ = write!(d, ", ended {}", iso_time(end));
    }
    push_xml_text(buf, &d);
    buf.push_str("</description>\n");
}

/// Builds one placemark into `buf`; `false` (and nothing built) without a position or
/// inside a home zone.
fn placemark(
    ap: &ApRecord,
    zones: &HomeZones,
    buf: &mut String,
    stats: &mut ExportStats,
) -> Result<bool, ExportError> {
    if zones.contains_network(ap) {
        stats.skipped_home_zone += 1;
        return Ok(false);
    }
    let Some(fix) = position(ap) else {
        if ap.best_fix.is_some() {
            stats.skipped_bad_fix += 1;
        } else {
            stats.skipped_no_fix += 1;
        }
        return Ok(false);
    };
    let summary = security_summary(&ap.security, ap.ibss);
    let class = summary.enc_class();
    buf.clear();
    buf.push_str("<Placemark>\n<name>");
    push_xml_text(buf, &display_name(ap));
    buf.push_str("</name>\n<description>");
    let mut d = format!("BSSID {}\nsecurity {class}", ap.bssid);
    if let Some(c) = ap.channel {
        let _ = write!(d, "\nchannel {c}");
    }
    if let Some(f) = ap.freq_mhz {
        let _ = write!(d, " ({f} MHz)");
    }
    if let Some(sig) = ap.best_signal_dbm {
        let _ = write!(d, "\nbest signal {sig} dBm");
    }
    let _ = write!(
        d,
        "\nfirst seen {}\nlast seen {}",
        iso_time(ap.first_seen),
        iso_time(ap.last_seen)
    );
    push_xml_text(buf, &d);
    let _ = write!(
        buf,
        "</description>\n<styleUrl>#{}</styleUrl>\n<ExtendedData>\n",
        style_id(class)
    );
    let mut data = |name: &str, value: &str| {
        let _ = write!(buf, "<Data name=\"{name}\"><value>");
        push_xml_text(buf, value);
        buf.push_str("</value></Data>\n");
    };
    data("bssid", &ap.bssid.to_string());
    data(
        "ssid",
        &ap.ssid.as_deref().map(ssid_escaped).unwrap_or_default(),
    );
    data("security", &class.to_string());
    data("auth_mode", &summary.wigle_auth_mode().to_string());
    let _ = write!(
        buf,
        "</ExtendedData>\n<Point><coordinates>{:.7},{:.7}</coordinates></Point>\n</Placemark>\n",
        fix.lon, fix.lat
    );
    stats.written += 1;
    Ok(true)
}
