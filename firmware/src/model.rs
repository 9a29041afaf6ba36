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
    /// Where the best signal was heard, when a fix was known then.
    pub best_fix: Option<Fix>,
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
    /// The system clock, checked against GPS time.
    Gps,
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
