//! WiGLE CSV 1.6 (https://api.wigle.net/csvFormat.html, as the WiGLE Android app writes it):
//! a pre-header line, the 14-column header, then one row per AP observation with a fix.
//!
//! The rules, each with a conformance test in `tests.rs` (Kismet's writer breaks several):
//! 14 fields on every row; MAC lowercase; FirstSeen is the observation's own time in UTC as
//! `yyyy-MM-dd HH:mm:ss` (not the network's first sighting); Channel and Frequency in MHz
//! terms, 6 GHz channels as (f − 5950)/5; RSSI an integer; '.' decimals without grouping;
//! AccuracyMeters never 0; AuthMode in Android's `[WPA2-PSK-CCMP][ESS]` style; Type `WIFI`;
//! every field RFC 4180-quoted when needed, so no SSID can move a column. Lines end in LF, as
//! the app's Apache Commons CSV printer writes them.

use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

use piwardrive_dot11::channel::{Band as DotBand, channel_to_freq, freq_to_channel};

use super::text::{push_csv_field, security_summary, ssid_wigle, wigle_time};
use super::{ExportError, ExportOptions, ExportStats, HomeZones, finish, step};
use crate::model::{ApRecord, Band, Observation, ObservationKind};
use crate::store::{ApLookup, Snapshot};

/// The header line, exactly as the WiGLE app writes it.
pub(crate) const HEADER: &str = "MAC,SSID,AuthMode,FirstSeen,Channel,Frequency,RSSI,\
CurrentLatitude,CurrentLongitude,AltitudeMeters,AccuracyMeters,RCOIs,MfgrId,Type";

/// The RSSI written when the capture gave no signal for an observation (no radio header, or
/// one without a signal field). WiGLE needs a number and uses it to pick the strongest
/// sighting; -100 dBm is at or below the weakest reading a receiver reports, so such a row
/// keeps its position for WiGLE without ever winning "best signal". Counted in
/// [`ExportStats::signal_floored`].
pub const MISSING_SIGNAL_DBM: i8 = -100;

/// The smallest AccuracyMeters written: one decimal is printed, and a sub-decimetre accuracy
/// (RTK) must not round to the 0 that WiGLE reads as "no accuracy".
const MIN_ACCURACY_M: f64 = 0.1;

/// At most this many networks' prepared fields are cached while streaming; the cache is
/// cleared when full, so memory stays bounded whatever the store holds.
const AP_CACHE_MAX: usize = 4096;

/// What a row needs from its AP, prepared once per network.
pub(crate) struct ApFields {
    /// The SSID, already as a (possibly quoted) CSV field.
    ssid: String,
    auth_mode: String,
    channel: Option<u16>,
    freq_mhz: Option<u16>,
    band: Option<Band>,
}

impl ApFields {
    pub(crate) fn new(ap: &ApRecord) -> ApFields {
        let mut ssid = String::new();
        if let Some(s) = &ap.ssid {
            push_csv_field(&mut ssid, &ssid_wigle(s));
        }
        ApFields {
            ssid,
            auth_mode: security_summary(&ap.security, ap.ibss)
                .wigle_auth_mode()
                .to_string(),
            channel: ap.channel,
            freq_mhz: ap.freq_mhz,
            band: ap.band,
        }
    }
}

/// The pre-header line: one RFC 4180 record, so a value with a comma (`brand=Moog, LLC`) is
/// quoted as a whole field, as the WiGLE spec's example shows.
pub(crate) fn pre_header(o: &ExportOptions) -> String {
    let d = &o.wigle_device;
    let fields = [
        "WigleWifi-1.6".to_string(),
        format!("appRelease={}", d.app_release),
        format!("model={}", d.model),
        format!("release={}", d.release),
        format!("device={}", d.device),
        format!("display={}", d.display),
        format!("board={}", d.board),
        format!("brand={}", d.brand),
        "star=Sol".to_string(),
        "body=3".to_string(),
        "subBody=0".to_string(),
    ];
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_csv_field(&mut line, f);
    }
    line
}

/// Channel and frequency for a row. The frequency the frame was heard on decides; when the
/// observation has none, the AP's advertised one is used if the channels agree. The channel
/// is computed from the frequency (so 6 GHz channels are (f − 5950)/5 whatever was stored),
/// else taken as stored. A frequency we cannot derive is left blank, as the app does for 0.
pub(crate) fn channel_and_freq(o: &Observation, ap: &ApFields) -> (Option<u16>, Option<u16>) {
    let same_channel = o.channel.is_none() || o.channel == ap.channel;
    let freq = o
        .freq_mhz
        .filter(|&f| f != 0)
        .or_else(|| ap.freq_mhz.filter(|&f| f != 0 && same_channel))
        .or_else(|| {
            // A channel number alone is ambiguous (1 exists in 2.4 and 6 GHz); the AP's band
            // settles it.
            let band = match ap.band? {
                Band::B2_4 => DotBand::Ghz2_4,
                Band::B5 => DotBand::Ghz5,
                Band::B6 => DotBand::Ghz6,
                Band::B60 => DotBand::Ghz60,
            };
            channel_to_freq(band, o.channel.or(ap.channel)?)
        });
    let channel = freq
        .and_then(freq_to_channel)
        .map(|(_, c)| c)
        .or(o.channel)
        .or(if same_channel { ap.channel } else { None });
    (channel, freq)
}

pub(super) fn write(
    snap: &Snapshot,
    options: &ExportOptions,
    zones: &HomeZones,
    out: &mut dyn Write,
    stats: &mut ExportStats,
) -> Result<(), ExportError> {
    write_head(options, out)?;
    let mut rows = Rows::new(snap, zones.clone())?;
    finish(snap.for_each_observation(options.session, |o| {
        step(rows.row(o, stats).and_then(|line| {
            if let Some(line) = line {
                out.write_all(line.as_bytes())?;
            }
            Ok(())
        }))
    }))
}

/// The pre-header line and the header line, each ending in LF.
pub(crate) fn write_head(options: &ExportOptions, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(pre_header(options).as_bytes())?;
    out.write_all(b"\n")?;
    out.write_all(HEADER.as_bytes())?;
    out.write_all(b"\n")
}

/// Turns observations into WiGLE rows, one at a time, with the AP lookups of one snapshot:
/// the export and the WiGLE upload write their rows through this, so both send the same bytes.
pub(crate) struct Rows {
    aps: ApLookup,
    /// Observations whose fix lies in one of these are not rows.
    zones: HomeZones,
    cache: HashMap<u64, Rc<ApFields>>,
    line: String,
}

impl Rows {
    pub(crate) fn new(snap: &Snapshot, zones: HomeZones) -> Result<Rows, ExportError> {
        Ok(Rows {
            aps: snap.aps()?,
            zones,
            cache: HashMap::new(),
            line: String::with_capacity(256),
        })
    }

    /// The row (ending in LF) for `o`, or `None` when `o` is not a WiGLE row (counted in
    /// `stats` by reason).
    pub(crate) fn row(
        &mut self,
        o: &Observation,
        stats: &mut ExportStats,
    ) -> Result<Option<&str>, ExportError> {
        if o.fix.as_ref().is_some_and(|f| self.zones.contains_fix(f)) {
            stats.skipped_home_zone += 1;
            return Ok(None);
        }
        let written = row(o, &self.aps, &mut self.cache, &mut self.line, stats)?;
        Ok(written.then_some(self.line.as_str()))
    }
}

/// Builds the row for `o` into `line`; `false` when the observation is not a WiGLE row.
fn row(
    o: &Observation,
    aps: &ApLookup,
    cache: &mut HashMap<u64, Rc<ApFields>>,
    line: &mut String,
    stats: &mut ExportStats,
) -> Result<bool, ExportError> {
    if o.kind == ObservationKind::Client {
        stats.skipped_client += 1;
        return Ok(false);
    }
    let Some(fix) = o.fix else {
        stats.skipped_no_fix += 1;
        return Ok(false);
    };
    // WiGLE rejects rows with time 0 and the format has four-digit years.
    if !fix.is_plausible() || o.time <= 0 || !super::text::Utc::from_us(o.time).is_four_digit_year()
    {
        stats.skipped_bad_fix += 1;
        return Ok(false);
    }
    let key = o.mac.to_u64();
    let ap = match cache.get(&key) {
        Some(ap) => ap.clone(),
        None => {
            let Some(record) = aps.get(o.mac)? else {
                stats.skipped_no_record += 1;
                return Ok(false);
            };
            if cache.len() >= AP_CACHE_MAX {
                cache.clear();
            }
            let fields = Rc::new(ApFields::new(&record));
            cache.insert(key, fields.clone());
            fields
        }
    };
    let (channel, freq) = channel_and_freq(o, &ap);
    let rssi = o.signal_dbm.unwrap_or_else(|| {
        stats.signal_floored += 1;
        MISSING_SIGNAL_DBM
    });

    use std::fmt::Write as _;
    line.clear();
    // MAC: `MacAddr`'s Display is lowercase and colon-separated.
    let _ = write!(line, "{},", o.mac);
    line.push_str(&ap.ssid);
    line.push(',');
    // AuthMode never holds a comma or quote, but it goes through the same quoting anyway.
    push_csv_field(line, &ap.auth_mode);
    line.push(',');
    line.push_str(&wigle_time(o.time));
    line.push(',');
    if let Some(c) = channel {
        let _ = write!(line, "{c}");
    }
    line.push(',');
    if let Some(f) = freq {
        let _ = write!(line, "{f}");
    }
    // Rust's float formatting never groups digits and always uses '.', whatever the locale.
    let _ = write!(
        line,
        ",{rssi},{:.8},{:.8},{:.1},{:.1},,,WIFI",
        // Without an altitude the Android app writes 0 (`Location.getAltitude()`); WiGLE
        // rejects only 0 altitude together with 0 accuracy, and accuracy is never 0 here.
        fix.lat,
        fix.lon,
        fix.alt_m.unwrap_or(0.0),
        fix.accuracy_m.max(MIN_ACCURACY_M),
    );
    line.push('\n');
    stats.written += 1;
    Ok(true)
}
