//! Link-layer dispatch: turns one captured record (by its pcap link type) into radio metadata and a bare 802.11 frame.

use crate::{Error, Result};

/// The pcap link types the decoder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// DLT 105: a bare 802.11 frame, no radio header.
    Ieee80211,
    /// DLT 127: radiotap header, then the 802.11 frame.
    Radiotap,
    /// DLT 119: Prism (AVS-less wlan-ng) header, then the 802.11 frame.
    Prism,
    /// DLT 192: Per-Packet Information header, then (usually) an 802.11 frame.
    Ppi,
}

impl LinkType {
    pub fn from_dlt(dlt: u32) -> Option<LinkType> {
        match dlt {
            105 => Some(LinkType::Ieee80211),
            127 => Some(LinkType::Radiotap),
            119 => Some(LinkType::Prism),
            192 => Some(LinkType::Ppi),
            _ => None,
        }
    }

    pub fn dlt(self) -> u32 {
        match self {
            LinkType::Ieee80211 => 105,
            LinkType::Radiotap => 127,
            LinkType::Prism => 119,
            LinkType::Ppi => 192,
        }
    }
}

/// Up to this many per-antenna signal readings are kept.
pub const MAX_ANTENNAS: usize = 4;

/// What the radio header said about a frame. Every field is optional: a bare 802.11 capture has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RadioInfo {
    /// Centre frequency the frame was received on, in MHz.
    pub freq_mhz: Option<u16>,
    /// Channel number when the header states it directly (Prism), else derived from `freq_mhz`.
    pub channel: Option<u16>,
    /// Combined signal in dBm (the value tshark reports as `wlan_radio.signal_dbm`).
    pub signal_dbm: Option<i8>,
    /// Noise in dBm.
    pub noise_dbm: Option<i8>,
    /// Per-antenna signals: (antenna index, dBm), in header order; `antenna_count` are valid.
    pub antenna_signals: [(u8, i8); MAX_ANTENNAS],
    pub antenna_count: u8,
    /// Legacy data rate in 500 kb/s units.
    pub rate_500kbps: Option<u8>,
    /// MAC timestamp (TSFT), microseconds.
    pub tsft: Option<u64>,
    /// The header says the 802.11 frame ends with a 4-byte FCS.
    pub fcs_at_end: bool,
    /// The header says the driver saw a bad FCS.
    pub bad_fcs_flag: bool,
}

/// Whether the frame's FCS was present and, if so, whether it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcsStatus {
    Absent,
    Good,
    Bad,
}

/// One record, split into radio metadata and the 802.11 frame (FCS removed when present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Captured<'a> {
    pub radio: RadioInfo,
    pub frame: &'a [u8],
    pub fcs: FcsStatus,
}

/// Decodes the link header of one record.
pub fn decode_link(link: LinkType, data: &[u8]) -> Result<Captured<'_>> {
    match link {
        LinkType::Ieee80211 => Ok(Captured {
            radio: RadioInfo::default(),
            frame: data,
            fcs: FcsStatus::Absent,
        }),
        _ => Err(Error::Unsupported),
    }
}
