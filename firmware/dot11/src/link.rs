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
                // Radiotap inside PPI: both describe the same frame. Radiotap's values are the
                // more detailed, so they win; PPI's fill in what radiotap leaves out.
                127 => {
                    let (rt, frame) = radiotap::parse(payload)?;
                    let mut from_ppi = RadioInfo::default();
                    header.fill_radio_info(&mut from_ppi);
                    rt.fill_radio_info(&mut radio);
                    radio.freq_mhz = radio.freq_mhz.or(from_ppi.freq_mhz);
                    radio.signal_dbm = radio.signal_dbm.or(from_ppi.signal_dbm);
                    radio.combined_signal_dbm =
                        radio.combined_signal_dbm.or(from_ppi.combined_signal_dbm);
                    radio.noise_dbm = radio.noise_dbm.or(from_ppi.noise_dbm);
                    radio.rate_500kbps = radio.rate_500kbps.or(from_ppi.rate_500kbps);
                    radio.tsft = radio.tsft.or(from_ppi.tsft);
                    radio.fcs_at_end |= from_ppi.fcs_at_end;
                    radio.bad_fcs_flag |= from_ppi.bad_fcs_flag;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capfile::CapReader;
    use crate::radiotap::tests::{HTC_FRAME1, TEST1_FRAME102};

    #[test]
    fn radiotap_with_fcs_at_end_is_checked_and_stripped() {
        let c = decode_link(LinkType::Radiotap, &TEST1_FRAME102).unwrap();
        assert_eq!(c.fcs, FcsStatus::Good);
        assert_eq!(c.frame.len(), 72 - 38 - 4);
        assert_eq!(c.frame[0], 0xb0);
        assert_eq!(c.radio.freq_mhz, Some(2437));
        assert_eq!(c.radio.signal_dbm, Some(-77));
        assert_eq!(c.radio.combined_signal_dbm, Some(-76));
        assert_eq!(c.radio.antenna_count, 2);
        assert_eq!(c.radio.tsft, Some(48_391_001));
        assert!(c.radio.fcs_at_end);
    }

    #[test]
    fn a_damaged_frame_has_a_bad_fcs() {
        let mut data = TEST1_FRAME102;
        data[50] ^= 0x01;
        let c = decode_link(LinkType::Radiotap, &data).unwrap();
        assert_eq!(c.fcs, FcsStatus::Bad);
        assert_eq!(c.frame.len(), 30);
        // A damaged FCS itself, too.
        let mut data = TEST1_FRAME102;
        data[71] ^= 0x80;
        assert_eq!(
            decode_link(LinkType::Radiotap, &data).unwrap().fcs,
            FcsStatus::Bad
        );
    }

    #[test]
    fn fcs_flag_on_a_frame_shorter_than_the_fcs_is_truncated() {
        for len in 38..42 {
            assert_eq!(
                decode_link(LinkType::Radiotap, &TEST1_FRAME102[..len]).unwrap_err(),
                Error::Truncated
            );
        }
        // Four bytes: an empty frame whose FCS cannot match its (empty) body's CRC of 0.
        let c = decode_link(LinkType::Radiotap, &TEST1_FRAME102[..42]).unwrap();
        assert!(c.frame.is_empty());
        assert_eq!(c.fcs, FcsStatus::Bad);
    }

    #[test]
    fn without_fcs_flag_the_frame_is_left_whole() {
        let mut data = HTC_FRAME1.to_vec();
        data.extend_from_slice(&[0x88, 0x41, 0, 0]);
        let c = decode_link(LinkType::Radiotap, &data).unwrap();
        assert_eq!(c.fcs, FcsStatus::Absent);
        assert_eq!(c.frame, &[0x88, 0x41, 0, 0]);
        assert_eq!(c.radio.signal_dbm, Some(-45));
        assert_eq!(c.radio.freq_mhz, Some(5180));
    }

    #[test]
    fn bare_80211_has_no_radio_info_and_no_fcs() {
        let c = decode_link(LinkType::Ieee80211, &[0x80, 0, 1, 2]).unwrap();
        assert_eq!(c.radio, RadioInfo::default());
        assert_eq!(c.frame, &[0x80, 0, 1, 2]);
        assert_eq!(c.fcs, FcsStatus::Absent);
    }

    #[test]
    fn ppi_with_80211_payload_and_fcs() {
        let body = [0x80u8, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut data = ppi::tests::common_header(ppi::common_flags::FCS_PRESENT, -60, 105);
        data.extend_from_slice(&body);
        data.extend_from_slice(&fcs::crc32(&body).to_le_bytes());
        let c = decode_link(LinkType::Ppi, &data).unwrap();
        assert_eq!(c.fcs, FcsStatus::Good);
        assert_eq!(c.frame, &body);
        assert_eq!(c.radio.freq_mhz, Some(2437));
        assert_eq!(c.radio.signal_dbm, Some(-60));
        // Without the FCS flag the last four bytes belong to the frame.
        let mut data = ppi::tests::common_header(0, -60, 105);
        data.extend_from_slice(&body);
        let c = decode_link(LinkType::Ppi, &data).unwrap();
        assert_eq!(c.fcs, FcsStatus::Absent);
        assert_eq!(c.frame, &body);
    }

    #[test]
    fn ppi_with_radiotap_inside() {
        let mut data = ppi::tests::common_header(0, -60, 127);
        data.extend_from_slice(&TEST1_FRAME102);
        let c = decode_link(LinkType::Ppi, &data).unwrap();
        assert_eq!(c.fcs, FcsStatus::Good);
        assert_eq!(c.radio.signal_dbm, Some(-77));
        assert_eq!(c.frame.len(), 30);
        // Radiotap has no noise here, so PPI's fills in.
        assert_eq!(c.radio.noise_dbm, Some(-95));
        assert_eq!(c.radio.tsft, Some(48_391_001));
    }

    #[test]
    fn ppi_with_another_payload_is_unsupported() {
        let data = ppi::tests::common_header(0, -60, 1);
        assert_eq!(
            decode_link(LinkType::Ppi, &data).unwrap_err(),
            Error::Unsupported
        );
    }

    /// Per capture, what tshark 4.0.17 reports over all its records (`tshark -n -o
    /// wlan.check_checksum:TRUE -T fields -e wlan_radio.signal_dbm -e wlan_radio.frequency
    /// -e wlan_radio.channel -e wlan.fcs.status`): how many records carry a signal and the sum
    /// of those signals, the same for the frequency, and how many FCS were good, bad or absent.
    /// Records tshark cannot dissect as radio at all are counted as decode errors here.
    struct Expected {
        file: &'static str,
        signals: (usize, i64),
        freqs: (usize, i64),
        fcs: (usize, usize, usize),
        errors: usize,
    }

    const EXPECTED: &[Expected] = &[
        Expected {
            file: "aircrack_test1.pcap",
            signals: (180, -13438),
            freqs: (180, 438_660),
            fcs: (180, 0, 12),
            errors: 0,
        },
        Expected {
            file: "aircrack_wpa3-psk.pcap",
            signals: (0, 0),
            freqs: (24, 57_888),
            fcs: (0, 0, 24),
            errors: 0,
        },
        Expected {
            file: "edge/aircrack_80211ad_beacon.pcap",
            signals: (0, 0),
            freqs: (1, 60_480),
            fcs: (0, 0, 1),
            errors: 0,
        },
        Expected {
            // The record is cut short, so the "FCS" is not the frame's last four bytes.
            file: "edge/scapy_bad_rsn_parsing_overrides_ssid.pcap",
            signals: (1, -50),
            freqs: (1, 2412),
            fcs: (0, 1, 0),
            errors: 0,
        },
        Expected {
            file: "edge/tcpdump_ieee802.11_exthdr.pcap",
            signals: (18, -708),
            freqs: (18, 43_416),
            fcs: (18, 0, 8),
            errors: 0,
        },
        Expected {
            file: "edge/tcpdump_ieee802.11_htc.pcap",
            signals: (1, -45),
            freqs: (1, 5180),
            fcs: (0, 0, 1),
            errors: 0,
        },
        Expected {
            file: "edge/tcpdump_ieee802.11_meshid.pcap",
            signals: (3, -112),
            freqs: (3, 17_235),
            fcs: (3, 0, 0),
            errors: 0,
        },
        Expected {
            file: "edge/zeek_radiotap.pcap",
            signals: (3, -191),
            freqs: (3, 16_620),
            fcs: (3, 0, 0),
            errors: 0,
        },
        Expected {
            file: "edge/tcpdump_radiotap-heapoverflow.pcap",
            signals: (0, 0),
            freqs: (0, 0),
            fcs: (0, 0, 0),
            errors: 1,
        },
        Expected {
            // Prism: tshark reports channel 7 and signal 0 dBm for all 13 records.
            file: "aircrack_wpa_prism.cap",
            signals: (13, 0),
            freqs: (0, 0),
            fcs: (0, 0, 13),
            errors: 0,
        },
    ];

    #[test]
    fn captures_agree_with_tshark() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/pcap/");
        for expected in EXPECTED {
            let path = format!("{dir}{}", expected.file);
            let file = std::fs::File::open(&path).unwrap();
            let mut reader = CapReader::new(std::io::BufReader::new(file)).unwrap();
            let (mut signals, mut freqs) = ((0, 0i64), (0, 0i64));
            let (mut good, mut bad, mut absent, mut errors) = (0, 0, 0, 0);
            while let Some(record) = reader.next_record() {
                // A capture cut short mid-record ends the file, as in tshark.
                let Ok(record) = record else { break };
                let link = LinkType::from_dlt(record.link).unwrap();
                match decode_link(link, record.data) {
                    Ok(c) => {
                        if let Some(s) = c.radio.signal_dbm {
                            signals = (signals.0 + 1, signals.1 + i64::from(s));
                        }
                        if let Some(f) = c.radio.freq_mhz {
                            freqs = (freqs.0 + 1, freqs.1 + i64::from(f));
                        }
                        if link == LinkType::Prism {
                            assert_eq!(c.radio.channel, Some(7));
                        }
                        match c.fcs {
                            FcsStatus::Good => good += 1,
                            FcsStatus::Bad => bad += 1,
                            FcsStatus::Absent => absent += 1,
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            let file = expected.file;
            assert_eq!(signals, expected.signals, "{file}: signals");
            assert_eq!(freqs, expected.freqs, "{file}: frequencies");
            assert_eq!((good, bad, absent), expected.fcs, "{file}: FCS");
            assert_eq!(errors, expected.errors, "{file}: errors");
        }
    }

    #[test]
    fn mutated_records_never_panic() {
        // A small deterministic generator, so the test needs no dependency.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let body = [0x80u8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut ppi_record = ppi::tests::common_header(ppi::common_flags::FCS_PRESENT, -60, 105);
        ppi_record.extend_from_slice(&body);
        let mut ppi_radiotap = ppi::tests::common_header(0, -60, 127);
        ppi_radiotap.extend_from_slice(&TEST1_FRAME102);
        let prism_record = crate::prism::tests::PRISM_FRAME1;
        let seeds: [(LinkType, &[u8]); 5] = [
            (LinkType::Radiotap, &TEST1_FRAME102),
            (LinkType::Radiotap, &HTC_FRAME1),
            (LinkType::Ppi, &ppi_record),
            (LinkType::Ppi, &ppi_radiotap),
            (LinkType::Prism, &prism_record),
        ];
        for _ in 0..30_000 {
            let (link, seed) = seeds[(next() % seeds.len() as u64) as usize];
            let mut buf = seed.to_vec();
            for _ in 0..(next() % 6) {
                let at = (next() % buf.len() as u64) as usize;
                buf[at] = next() as u8;
            }
            let cut = (next() % (buf.len() as u64 + 1)) as usize;
            if let Ok(c) = decode_link(link, &buf[..cut]) {
                assert!(c.frame.len() <= cut);
                assert!(usize::from(c.radio.antenna_count) <= MAX_ANTENNAS);
                assert_eq!(c.fcs == FcsStatus::Absent, !c.radio.fcs_at_end);
            }
        }
    }
}
