//! The data model shared by the tracker, the store and the web UI (DESIGN.md section 4).
//!
//! These are plain values: the tracker builds them, the store serialises them (postcard), the
//! web UI and the exports read them. Times are Unix microseconds (UTC) as `i64`.

use piwardrive_dot11::MacAddr;
use serde::{Deserialize, Serialize};

/// Unix time in microseconds, UTC.
pub type TimeUs = i64;

/// Serialises a [`MacAddr`] as its six octets.
pub mod mac_serde {
    use piwardrive_dot11::MacAddr;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &MacAddr, s: S) -> Result<S::Ok, S::Error> {
        m.0.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MacAddr, D::Error> {
        Ok(MacAddr(<[u8; 6]>::deserialize(d)?))
    }

    /// The same for `Option<MacAddr>`.
    pub mod option {
        use piwardrive_dot11::MacAddr;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(m: &Option<MacAddr>, s: S) -> Result<S::Ok, S::Error> {
            m.map(|m| m.0).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MacAddr>, D::Error> {
            Ok(Option::<[u8; 6]>::deserialize(d)?.map(MacAddr))
        }
    }
}

/// A position fix attached to a sighting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    pub alt_m: Option<f64>,
    /// Horizontal accuracy in metres (from gpsd's eph); never 0 when a fix exists.
    pub accuracy_m: f64,
    pub time_us: TimeUs,
}

/// A running signal-weighted mean of the positions an AP was heard from.
///
/// Positions are summed as unit vectors on the sphere (so that the mean is right across the
/// antimeridian and near the poles), each weighted by the received amplitude
/// `10^((dBm + 100) / 20)`: a sighting 20 dB stronger counts ten times as much. Sightings
/// without a signal reading count with weight 1, that of -100 dBm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PositionEstimate {
    pub sum_w: f64,
    pub sum_x: f64,
    pub sum_y: f64,
    pub sum_z: f64,
    /// Sightings that went into the estimate.
    pub samples: u32,
    /// The largest accuracy radius among them (metres), a floor for the estimate's own.
    pub worst_accuracy_m: f64,
}

impl PositionEstimate {
    /// The weight of a sighting at `signal_dbm`.
    pub fn weight(signal_dbm: Option<i8>) -> f64 {
        match signal_dbm {
            // Clamp so that a bogus reading cannot dominate or vanish.
            Some(s) => 10f64.powf((f64::from(s.clamp(-100, 0)) + 100.0) / 20.0),
            None => 1.0,
        }
    }

    /// Adds a sighting.
    pub fn add(this: &mut Option<PositionEstimate>, fix: &Fix, signal_dbm: Option<i8>) {
        let w = Self::weight(signal_dbm);
        let (la, lo) = (fix.lat.to_radians(), fix.lon.to_radians());
        let e = this.get_or_insert(PositionEstimate {
            sum_w: 0.0,
            sum_x: 0.0,
            sum_y: 0.0,
            sum_z: 0.0,
            samples: 0,
            worst_accuracy_m: 0.0,
        });
        e.sum_w += w;
        e.sum_x += w * la.cos() * lo.cos();
        e.sum_y += w * la.cos() * lo.sin();
        e.sum_z += w * la.sin();
        e.samples = e.samples.saturating_add(1);
        e.worst_accuracy_m = e.worst_accuracy_m.max(fix.accuracy_m);
    }

    /// The estimated (lat, lon) in degrees; `None` when the sightings cancel out (antipodal).
    pub fn lat_lon(&self) -> Option<(f64, f64)> {
        let (x, y, z) = (self.sum_x, self.sum_y, self.sum_z);
        let h = (x * x + y * y).sqrt();
        if self.sum_w <= 0.0 || (h == 0.0 && z == 0.0) {
            return None;
        }
        Some((z.atan2(h).to_degrees(), y.atan2(x).to_degrees()))
    }
}

impl Fix {
    /// A fix that can be a position at all: finite coordinates on the globe and a positive,
    /// finite accuracy. Anything else is garbage from a receiver or a log.
    pub fn is_plausible(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_finite()
            && self.accuracy_m > 0.0
            && self.alt_m.is_none_or(f64::is_finite)
    }
}

/// Frequency band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Band {
    B2_4,
    B5,
    B6,
    B60,
}

impl Band {
    pub fn label(self) -> &'static str {
        match self {
            Band::B2_4 => "2.4 GHz",
            Band::B5 => "5 GHz",
            Band::B6 => "6 GHz",
            Band::B60 => "60 GHz",
        }
    }
}

/// The newest PHY generation an AP advertises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Phy {
    #[default]
    Legacy,
    /// 802.11n (HT).
    N,
    /// 802.11ac (VHT).
    Ac,
    /// 802.11ax (HE).
    Ax,
    /// 802.11be (EHT).
    Be,
}

/// Protected management frames, from the RSN capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Pmf {
    #[default]
    Disabled,
    Capable,
    Required,
}

/// Wi-Fi Protected Setup facts from the WPS vendor element.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WpsInfo {
    /// 1 = not configured, 2 = configured.
    pub state: Option<u8>,
    pub device_name: Option<Vec<u8>>,
    pub model: Option<Vec<u8>>,
    pub manufacturer: Option<Vec<u8>>,
}

/// Security of a BSS: the union over all its frames of the raw ingredients, and the class
/// derived from that union (as the truth files define it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Security {
    /// Capability "privacy" bit seen set in any frame.
    pub privacy: bool,
    /// A WPA (vendor 00:50:f2 type 1) element was seen.
    pub wpa: bool,
    /// RSN AKM suite types (00-0f-ac:N) seen, as a bit set over N < 32.
    pub rsn_akms: u32,
    /// RSN pairwise cipher suite types seen, as a bit set.
    pub rsn_pairwise: u32,
    /// RSN group cipher suite types seen, as a bit set.
    pub rsn_group: u32,
    /// WPA (vendor element) AKM suite types seen, as a bit set.
    pub wpa_akms: u32,
    /// WPA (vendor element) cipher suite types seen, as a bit set.
    pub wpa_ciphers: u32,
    pub pmf: Pmf,
    pub wps: Option<WpsInfo>,
}

/// One SSID an AP was heard advertising.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsidSeen {
    pub ssid: Vec<u8>,
    pub count: u64,
    pub first_seen: TimeUs,
    pub last_seen: TimeUs,
}

/// An access point, keyed by BSSID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApRecord {
    #[serde(with = "mac_serde")]
    pub bssid: MacAddr,
    /// The SSID shown for this AP: the most frequently advertised non-hidden one (raw bytes).
    pub ssid: Option<Vec<u8>>,
    /// Every SSID seen, bounded (see the tracker for the bound).
    pub ssid_history: Vec<SsidSeen>,
    /// A beacon or probe response carried a zero-length or all-NUL SSID.
    pub hidden: bool,
    /// The channel the AP advertises (DS parameter set, else HT primary, else HE 6 GHz primary).
    pub channel: Option<u16>,
    /// Frequency of the advertised channel, in MHz.
    pub freq_mhz: Option<u16>,
    pub band: Option<Band>,
    /// Channel width in MHz, from HT/VHT/HE operation.
    pub width_mhz: Option<u16>,
    pub phy: Phy,
    /// Channels the AP's frames were heard on (a bit set over channel numbers is not enough
    /// for 6 GHz, so a small sorted list).
    pub heard_channels: Vec<u16>,
    pub security: Security,
    /// Vendor from the BSSID's OUI (IEEE registry), when the OUI is registered.
    pub vendor: Option<String>,
    /// Country code from the country element (two letters, plus the environment byte).
    pub country: Option<[u8; 3]>,
    /// Mesh ID, when the AP is a mesh station.
    pub mesh_id: Option<Vec<u8>>,
    /// The BSS is independent (ad hoc).
    pub ibss: bool,
    pub first_seen: TimeUs,
    pub last_seen: TimeUs,
    pub beacons: u64,
    pub probe_responses: u64,
    pub data_frames: u64,
    pub best_signal_dbm: Option<i8>,
    /// Where the strongest sighting that had a fix was heard (as Kismet's peak location and
    /// WiGLE's best-signal location), and that sighting's signal.
    pub best_fix: Option<Fix>,
    pub best_fix_signal_dbm: Option<i8>,
    /// Signal-weighted estimate of where the AP is, from every sighting with a fix.
    pub position: Option<PositionEstimate>,
    pub last_signal_dbm: Option<i8>,
    /// Number of distinct clients seen talking to this AP.
    pub client_count: u32,
}

/// A client station, keyed by MAC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    #[serde(with = "mac_serde")]
    pub mac: MacAddr,
    /// Locally administered address: most likely a randomised MAC.
    pub randomized: bool,
    /// SSIDs this client probed for (bounded).
    pub probed_ssids: Vec<Vec<u8>>,
    /// The AP this client was last seen exchanging data or association frames with.
    #[serde(with = "mac_serde::option")]
    pub associated_bssid: Option<MacAddr>,
    pub vendor: Option<String>,
    pub first_seen: TimeUs,
    pub last_seen: TimeUs,
    pub frames: u64,
    pub best_signal_dbm: Option<i8>,
    pub best_fix: Option<Fix>,
}

/// Whether an observation is of an AP or of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObservationKind {
    Ap,
    Client,
}

/// One throttled sighting (one WiGLE CSV row when it has a fix), keyed by (device, seq).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub seq: u64,
    pub session_id: u64,
    pub kind: ObservationKind,
    #[serde(with = "mac_serde")]
    pub mac: MacAddr,
    pub time: TimeUs,
    pub signal_dbm: Option<i8>,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
    pub fix: Option<Fix>,
}

/// Lifecycle of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionStatus {
    Running,
    Ended,
    /// The process stopped without ending the session (power cut, kill).
    Interrupted,
}

/// Where a session's timestamps came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeSource {
    /// Timestamps from the capture file's records.
    CaptureFile,
    /// The system clock, not yet confirmed by GPS.
    SystemClock,
    /// The system clock, checked against GPS time and found right (within the tolerance of
    /// `clock::TOLERANCE_US`).
    Gps,
    /// The system clock was `offset_us` behind GPS time (GPS minus system) when GPS time
    /// first arrived; the session's earlier timestamps were corrected by it, and later ones
    /// are either from a clock set to GPS time or corrected the same way.
    GpsCorrected { offset_us: i64 },
}

/// One capture run (the seed's "scan").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: u64,
    pub device_id: [u8; 16],
    pub started_at: TimeUs,
    pub ended_at: Option<TimeUs>,
    /// Human-readable names of the sources (file paths, interface names).
    pub sources: Vec<String>,
    pub status: SessionStatus,
    pub time_source: TimeSource,
    pub frames: u64,
}

impl SessionRecord {
    /// A session that starts now: running, no frames yet.
    pub fn new(
        id: u64,
        device_id: [u8; 16],
        started_at: TimeUs,
        sources: Vec<String>,
        time_source: TimeSource,
    ) -> SessionRecord {
        SessionRecord {
            id,
            device_id,
            started_at,
            ended_at: None,
            sources,
            status: SessionStatus::Running,
            time_source,
            frames: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(lat: f64, lon: f64) -> Fix {
        Fix {
            lat,
            lon,
            alt_m: None,
            accuracy_m: 3.0,
            time_us: 0,
        }
    }

    #[test]
    fn position_estimate_across_the_antimeridian() {
        let mut e = None;
        PositionEstimate::add(&mut e, &fix(10.0, 179.999), Some(-70));
        PositionEstimate::add(&mut e, &fix(10.0, -179.999), Some(-70));
        let (lat, lon) = e.unwrap().lat_lon().unwrap();
        assert!((lon.abs() - 180.0).abs() < 1e-6, "{lon}");
        assert!((lat - 10.0).abs() < 1e-6, "{lat}");
        assert_eq!(e.unwrap().samples, 2);
    }

    #[test]
    fn weights_follow_amplitude() {
        let w = |s| PositionEstimate::weight(Some(s));
        assert!((w(-60) / w(-80) - 10.0).abs() < 1e-9);
        assert_eq!(PositionEstimate::weight(None), 1.0);
        assert_eq!(w(-120), 1.0, "clamped");
    }
}
