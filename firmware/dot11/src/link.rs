//! Link-layer dispatch: turns one captured record (by its pcap link type) into radio metadata and a bare 802.11 frame.

use crate::{Error, Result, fcs, ppi, prism, radiotap};

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
    /// Channel number when the header states it directly (Prism's channel item, radiotap's
    /// XChannel); `None` otherwise. `decode_link` never derives it from `freq_mhz`.
    pub channel: Option<u16>,
    /// Signal in dBm, the value tshark 4.0 reports as `wlan_radio.signal_dbm` and the truth
    /// files use: with several radiotap namespaces that is the last dBm antenna signal in the
    /// header (usually the last antenna's), not the combined one.
    pub signal_dbm: Option<i8>,
    /// The combined signal in dBm: the dBm antenna signal of the first radiotap namespace (for
    /// Prism and PPI, the same as `signal_dbm`).
    pub combined_signal_dbm: Option<i8>,
    /// Noise in dBm (like `signal_dbm`, the last one in a radiotap header).
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
    /// Radiotap's "data pad" flag: padding to a 4-byte boundary sits between the 802.11 header
    /// and its body.
    pub data_pad: bool,
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

/// Decodes the link header of one record: parses the radio header, fills [`RadioInfo`], and
/// splits off the 802.11 frame. When the header says the frame ends with its FCS, the FCS is
/// checked and removed from `frame`; a frame too short to hold one is `Err(Truncated)`.
/// A bare 802.11 record (DLT 105) is taken to have no FCS.
pub fn decode_link(link: LinkType, data: &[u8]) -> Result<Captured<'_>> {
    let mut radio = RadioInfo::default();
    let frame = match link {
        LinkType::Ieee80211 => data,
        LinkType::Radiotap => {
            let (rt, frame) = radiotap::parse(data)?;
            rt.fill_radio_info(&mut radio);
            frame
        }
        LinkType::Prism => {
            let (header, frame) = prism::parse(data)?;
            header.fill_radio_info(&mut radio);
            frame
        }
        LinkType::Ppi => {
            let (header, payload) = ppi::parse(data)?;
            match header.dlt {
                105 => {
                    header.fill_radio_info(&mut radio);
                    payload
                }
                // Radiotap inside PPI describes the frame itself; the PPI fields, if any, are
                // about the same frame but radiotap's are the more detailed, so they win.
                127 => {
                    let (rt, frame) = radiotap::parse(payload)?;
                    header.fill_radio_info(&mut radio);
                    rt.fill_radio_info(&mut radio);
                    radio.fcs_at_end |= header.fcs_at_end();
                    frame
                }
                _ => return Err(Error::Unsupported),
            }
        }
    };
    split_fcs(radio, frame)
}

/// Removes and checks the FCS when the radio header says there is one.
fn split_fcs(radio: RadioInfo, frame: &[u8]) -> Result<Captured<'_>> {
    if !radio.fcs_at_end {
        return Ok(Captured {
            radio,
            frame,
            fcs: FcsStatus::Absent,
        });
    }
    let (body, fcs_bytes) = frame.split_last_chunk::<4>().ok_or(Error::Truncated)?;
    let fcs = if fcs::crc32(body) == u32::from_le_bytes(*fcs_bytes) {
        FcsStatus::Good
    } else {
        FcsStatus::Bad
    };
    Ok(Captured {
        radio,
        frame: body,
        fcs,
    })
}
