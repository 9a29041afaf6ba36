//! Radiotap headers: a bounds-checked parser of every defined field 0-28, extended presence bitmaps and namespaces.
//!
//! The layout follows the radiotap standard (radiotap.org): an 8-byte fixed part (version 0,
//! a pad byte, the little-endian header length and the first presence word), more presence words
//! while bit 31 is set, then the fields in bit order, each aligned to its natural alignment
//! relative to the start of the header. Bit 29 of a presence word starts a new radiotap
//! namespace (bit numbering restarts at 0 in the next word), bit 30 a vendor namespace whose
//! 6-byte header (OUI, sub-namespace, skip length) says how much vendor data to skip.
//!
//! [`Header`] is a view that proves the header length once; [`Radiotap`] holds the parsed values.
//! A field bit this parser does not know means the offsets of everything after it are unknown,
//! so parsing stops there and keeps what was read ([`Radiotap::complete`] is then false).

use crate::link::{MAX_ANTENNAS, RadioInfo};
use crate::{Error, Result};

/// Byte offsets of the fixed part of the header.
mod field {
    pub const VERSION: usize = 0;
    pub const LENGTH: usize = 2;
    pub const PRESENT: usize = 4;
    /// Version, pad, length and the first presence word.
    pub const FIXED_LEN: usize = 8;
}

/// Bit numbers of the presence words.
pub mod bit {
    pub const TSFT: u32 = 0;
    pub const FLAGS: u32 = 1;
    pub const RATE: u32 = 2;
    pub const CHANNEL: u32 = 3;
    pub const FHSS: u32 = 4;
    pub const DBM_ANTSIGNAL: u32 = 5;
    pub const DBM_ANTNOISE: u32 = 6;
    pub const LOCK_QUALITY: u32 = 7;
    pub const TX_ATTENUATION: u32 = 8;
    pub const DB_TX_ATTENUATION: u32 = 9;
    pub const DBM_TX_POWER: u32 = 10;
    pub const ANTENNA: u32 = 11;
    pub const DB_ANTSIGNAL: u32 = 12;
    pub const DB_ANTNOISE: u32 = 13;
    pub const RX_FLAGS: u32 = 14;
    pub const TX_FLAGS: u32 = 15;
    pub const RTS_RETRIES: u32 = 16;
    pub const DATA_RETRIES: u32 = 17;
    pub const XCHANNEL: u32 = 18;
    pub const MCS: u32 = 19;
    pub const AMPDU_STATUS: u32 = 20;
    pub const VHT: u32 = 21;
    pub const TIMESTAMP: u32 = 22;
    pub const HE: u32 = 23;
    pub const HE_MU: u32 = 24;
    pub const HE_MU_OTHER_USER: u32 = 25;
    pub const ZERO_LENGTH_PSDU: u32 = 26;
    pub const LSIG: u32 = 27;
    pub const TLV: u32 = 28;
    pub const RADIOTAP_NAMESPACE: u32 = 29;
    pub const VENDOR_NAMESPACE: u32 = 30;
    pub const EXT: u32 = 31;
}

/// Bits of the Flags field (bit 1).
pub mod flags {
    pub const CFP: u8 = 0x01;
    pub const SHORT_PREAMBLE: u8 = 0x02;
    pub const WEP: u8 = 0x04;
    pub const FRAGMENTED: u8 = 0x08;
    /// The 802.11 frame ends with its 4-byte FCS.
    pub const FCS_AT_END: u8 = 0x10;
    /// Padding sits between the 802.11 header and its payload, to a 32-bit boundary.
    pub const DATA_PAD: u8 = 0x20;
    /// The driver saw a bad FCS.
    pub const BAD_FCS: u8 = 0x40;
    pub const SHORT_GI: u8 = 0x80;
}

/// Presence bits 0-28 that carry a field (29-31 are control bits).
const FIELD_BITS: u32 = 0x1FFF_FFFF;

/// (alignment, size) in bytes of the fields 0-28, indexed by bit number. The TLV list (28)
/// has no fixed size: parsing of fixed fields stops there.
const LAYOUT: [(usize, usize); 29] = [
    (8, 8),  // 0 TSFT: u64 microseconds
    (1, 1),  // 1 Flags
    (1, 1),  // 2 Rate: 500 kb/s units
    (2, 4),  // 3 Channel: u16 frequency, u16 flags
    (2, 2),  // 4 FHSS: u8 hop set, u8 hop pattern
    (1, 1),  // 5 dBm antenna signal: s8
    (1, 1),  // 6 dBm antenna noise: s8
    (2, 2),  // 7 Lock quality: u16
    (2, 2),  // 8 TX attenuation: u16
    (2, 2),  // 9 dB TX attenuation: u16
    (1, 1),  // 10 dBm TX power: s8
    (1, 1),  // 11 Antenna: u8
    (1, 1),  // 12 dB antenna signal: u8
    (1, 1),  // 13 dB antenna noise: u8
    (2, 2),  // 14 RX flags: u16
    (2, 2),  // 15 TX flags: u16
    (1, 1),  // 16 RTS retries: u8
    (1, 1),  // 17 data retries: u8
    (4, 8),  // 18 XChannel: u32 flags, u16 frequency, u8 channel, u8 max power
    (1, 3),  // 19 MCS: u8 known, u8 flags, u8 mcs
    (4, 8),  // 20 A-MPDU status: u32 reference, u16 flags, u8 delimiter CRC, u8 reserved
    (2, 12), // 21 VHT
    (8, 12), // 22 timestamp: u64, u16 accuracy, u8 unit/position, u8 flags
    (2, 12), // 23 HE: six u16
    (2, 12), // 24 HE-MU: u16 flags1, u16 flags2, u8 RU channel1[4], u8 RU channel2[4]
    (2, 6),  // 25 HE-MU-other-user: u16, u16, u8 position, u8 known
    (1, 1),  // 26 0-length-PSDU: u8 type
    (2, 4),  // 27 L-SIG: u16 data1, u16 data2
    (4, 0),  // 28 TLV list
];

/// A view over a buffer that starts with a radiotap header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking it; call [`Header::check_len`] before the accessors.
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer after proving that it holds the whole header it announces.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let header = Header::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks the version, and that the stated length covers the fixed part and fits the buffer.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < field::FIXED_LEN {
            return Err(Error::Truncated);
        }
        if data[field::VERSION] != 0 {
            return Err(Error::Unsupported);
        }
        let len = self.header_len();
        if len < field::FIXED_LEN {
            return Err(Error::Malformed);
        }
        if len > data.len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The radiotap version (always 0 once checked).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// The length of the whole radiotap header, the offset of the 802.11 frame.
    pub fn header_len(&self) -> usize {
        usize::from(le16(self.buffer.as_ref(), field::LENGTH))
    }

    /// The first presence word.
    pub fn present(&self) -> u32 {
        le32(self.buffer.as_ref(), field::PRESENT)
    }

    /// The header bytes, fixed part, presence words and fields.
    pub fn header_bytes(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        data.get(..self.header_len()).unwrap_or(data)
    }

    /// What follows the header: the 802.11 frame.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        data.get(self.header_len()..).unwrap_or(&[])
    }
}

/// Channel (bit 3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channel {
    pub freq_mhz: u16,
    pub flags: u16,
}

/// FHSS (bit 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fhss {
    pub hop_set: u8,
    pub hop_pattern: u8,
}

/// XChannel (bit 18), Atheros' extended channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XChannel {
    pub flags: u32,
    pub freq_mhz: u16,
    pub channel: u8,
    pub max_power: u8,
}

/// MCS (bit 19), 802.11n.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mcs {
    pub known: u8,
    pub flags: u8,
    pub index: u8,
}

/// A-MPDU status (bit 20).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AmpduStatus {
    pub reference: u32,
    pub flags: u16,
    pub delimiter_crc: u8,
    pub reserved: u8,
}

/// VHT (bit 21), 802.11ac.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vht {
    pub known: u16,
    pub flags: u8,
    pub bandwidth: u8,
    pub mcs_nss: [u8; 4],
    pub coding: u8,
    pub group_id: u8,
    pub partial_aid: u16,
}

/// Timestamp (bit 22).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timestamp {
    pub timestamp: u64,
    pub accuracy: u16,
    pub unit_position: u8,
    pub flags: u8,
}

/// HE (bit 23), 802.11ax: the six data words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct He {
    pub data: [u16; 6],
}

/// HE-MU (bit 24).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeMu {
    pub flags1: u16,
    pub flags2: u16,
    pub ru_channel1: [u8; 4],
    pub ru_channel2: [u8; 4],
}

/// HE-MU-other-user (bit 25).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeMuOtherUser {
    pub per_user_1: u16,
    pub per_user_2: u16,
    pub per_user_position: u8,
    pub per_user_known: u8,
}

/// L-SIG (bit 27).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LSig {
    pub data1: u16,
    pub data2: u16,
}

/// The parsed values of one radiotap header.
///
/// The plain fields hold what the first radiotap namespace says (the one that describes the
/// frame as a whole). Later radiotap namespaces usually describe one antenna each; their dBm
/// signals are kept in `antenna_signals`, tagged with the namespace's Antenna field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Radiotap {
    /// Length of the whole header; the 802.11 frame starts here.
    pub header_len: u16,
    /// Number of presence words.
    pub present_words: u8,
    /// The first presence word, as tshark shows it first in `radiotap.present.word`.
    pub present: u32,
    pub tsft: Option<u64>,
    pub flags: Option<u8>,
    /// Legacy rate in 500 kb/s units.
    pub rate: Option<u8>,
    pub channel: Option<Channel>,
    pub fhss: Option<Fhss>,
    /// The combined signal: the dBm antenna signal of the first namespace.
    pub dbm_antsignal: Option<i8>,
    pub dbm_antnoise: Option<i8>,
    pub lock_quality: Option<u16>,
    pub tx_attenuation: Option<u16>,
    pub db_tx_attenuation: Option<u16>,
    pub dbm_tx_power: Option<i8>,
    /// The Antenna field of the first namespace.
    pub antenna: Option<u8>,
    pub db_antsignal: Option<u8>,
    pub db_antnoise: Option<u8>,
    pub rx_flags: Option<u16>,
    pub tx_flags: Option<u16>,
    pub rts_retries: Option<u8>,
    pub data_retries: Option<u8>,
    pub xchannel: Option<XChannel>,
    pub mcs: Option<Mcs>,
    pub ampdu_status: Option<AmpduStatus>,
    pub vht: Option<Vht>,
    pub timestamp: Option<Timestamp>,
    pub he: Option<He>,
    pub he_mu: Option<HeMu>,
    pub he_mu_other_user: Option<HeMuOtherUser>,
    pub zero_length_psdu: Option<u8>,
    pub lsig: Option<LSig>,
    /// The header announces a TLV list (bit 28); fixed-field parsing stopped there.
    pub has_tlvs: bool,
    /// The last dBm antenna signal in header order, in any radiotap namespace. tshark 4.0
    /// reports this one as `wlan_radio.signal_dbm`, and the truth files follow tshark.
    pub last_dbm_antsignal: Option<i8>,
    /// The last dBm antenna noise in header order, like `last_dbm_antsignal`.
    pub last_dbm_antnoise: Option<i8>,
    /// Per-antenna dBm signals (antenna, dBm) from the namespaces after the first, in header
    /// order; `antenna_count` entries are valid.
    pub antenna_signals: [(u8, i8); MAX_ANTENNAS],
    pub antenna_count: u8,
    /// Number of vendor namespaces skipped.
    pub vendor_namespaces: u8,
    /// False when parsing stopped at a field this parser cannot size (an unknown bit, or a
    /// presence word with both namespace bits): what follows it was not read.
    pub complete: bool,
}

/// What is being read: a radiotap namespace (with the bit number of its current word's bit 0)
/// or a vendor namespace whose data has already been skipped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Radiotap { bit_base: u32 },
    Vendor,
}

/// The per-namespace values that become one antenna reading when the namespace ends.
#[derive(Clone, Copy, Default)]
struct AntennaReading {
    signal: Option<i8>,
    antenna: Option<u8>,
}

impl Radiotap {
    /// Parses a checked header.
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Radiotap> {
        header.check_len()?;
        let hdr = header.header_bytes();
        let len = hdr.len();
        let mut rt = Radiotap {
            header_len: u16::try_from(len).unwrap_or(u16::MAX),
            present: header.present(),
            complete: true,
            ..Radiotap::default()
        };

        // First pass: find where the presence words end and the fields begin. Each step moves
        // four bytes forward inside a header of at most 65535 bytes, so the loop is bounded.
        let mut data_start = field::PRESENT;
        loop {
            let word = read_u32(hdr, data_start).ok_or(Error::Malformed)?;
            data_start += 4;
            rt.present_words = rt.present_words.saturating_add(1);
            if word & (1 << bit::EXT) == 0 {
                break;
            }
        }

        // Second pass: walk the presence words again, reading each word's fields.
        let mut cursor = data_start;
        let mut word_at = field::PRESENT;
        let mut ns = Namespace::Radiotap { bit_base: 0 };
        let mut ns_index: u32 = 0;
        let mut reading = AntennaReading::default();
        while word_at < data_start {
            let word = read_u32(hdr, word_at).ok_or(Error::Malformed)?;
            word_at += 4;

            if let Namespace::Radiotap { bit_base } = ns {
                let bits = word & FIELD_BITS;
                if bit_base != 0 && bits != 0 {
                    // Bits 32 and up of a radiotap namespace are not defined: their sizes are
                    // unknown, so nothing after them can be located.
                    rt.complete = false;
                    break;
                }
                match rt.read_fields(hdr, bits, &mut cursor, ns_index, &mut reading)? {
                    Flow::Continue => {}
                    Flow::Stop => break,
                }
            }

            if word & (1 << bit::EXT) == 0 {
                break;
            }
            let to_radiotap = word & (1 << bit::RADIOTAP_NAMESPACE) != 0;
            let to_vendor = word & (1 << bit::VENDOR_NAMESPACE) != 0;
            match (to_radiotap, to_vendor) {
                (true, true) => {
                    rt.complete = false;
                    break;
                }
                (true, false) => {
                    rt.close_namespace(ns_index, &mut reading);
                    ns = Namespace::Radiotap { bit_base: 0 };
                    ns_index = ns_index.saturating_add(1);
                }
                (false, true) => {
                    rt.close_namespace(ns_index, &mut reading);
                    // The vendor namespace header sits where a field of bit 30 would: aligned
                    // to 2, six bytes. Its skip length covers all of the namespace's data.
                    cursor = align(cursor, 2);
                    let skip = read_u16(hdr, cursor + 4).ok_or(Error::Malformed)?;
                    cursor += 6 + usize::from(skip);
                    if cursor > len {
                        return Err(Error::Malformed);
                    }
                    rt.vendor_namespaces = rt.vendor_namespaces.saturating_add(1);
                    ns = Namespace::Vendor;
                    // Antenna readings are numbered by radiotap namespace; a vendor namespace
                    // in between does not belong to either side.
                    ns_index = ns_index.saturating_add(1);
                }
                (false, false) => {
                    if let Namespace::Radiotap { bit_base } = ns {
                        ns = Namespace::Radiotap {
                            bit_base: bit_base.saturating_add(32),
                        };
                    }
                }
            }
        }
        rt.close_namespace(ns_index, &mut reading);
        Ok(rt)
    }

    /// Reads the fields of one presence word (bits 0-28 of a radiotap namespace).
    fn read_fields(
        &mut self,
        hdr: &[u8],
        bits: u32,
        cursor: &mut usize,
        ns_index: u32,
        reading: &mut AntennaReading,
    ) -> Result<Flow> {
        for (n, &(alignment, size)) in (0u32..).zip(LAYOUT.iter()) {
            if bits & (1 << n) == 0 {
                continue;
            }
            if n == bit::TLV {
                self.has_tlvs = true;
                return Ok(Flow::Stop);
            }
            let at = align(*cursor, alignment);
            let bytes = hdr.get(at..at + size).ok_or(Error::Malformed)?;
            *cursor = at + size;
            if ns_index == 0 {
                self.store(n, bytes);
            }
            match n {
                bit::DBM_ANTSIGNAL => {
                    let dbm = read_i8(bytes, 0);
                    self.last_dbm_antsignal = Some(dbm);
                    reading.signal = Some(dbm);
                }
                bit::DBM_ANTNOISE => self.last_dbm_antnoise = Some(read_i8(bytes, 0)),
                bit::ANTENNA => reading.antenna = Some(byte(bytes, 0)),
                _ => {}
            }
        }
        Ok(Flow::Continue)
    }

    /// Ends a radiotap namespace: one after the first with both a signal and an antenna number
    /// is one antenna's reading.
    fn close_namespace(&mut self, ns_index: u32, reading: &mut AntennaReading) {
        if ns_index > 0
            && let (Some(signal), Some(antenna)) = (reading.signal, reading.antenna)
            && let Some(slot) = self
                .antenna_signals
                .get_mut(usize::from(self.antenna_count))
        {
            *slot = (antenna, signal);
            self.antenna_count += 1;
        }
        *reading = AntennaReading::default();
    }

    /// Stores one field of the first namespace; `b` holds exactly the field's bytes.
    fn store(&mut self, n: u32, b: &[u8]) {
        match n {
            bit::TSFT => self.tsft = Some(read_u64(b, 0).unwrap_or(0)),
            bit::FLAGS => self.flags = Some(byte(b, 0)),
            bit::RATE => self.rate = Some(byte(b, 0)),
            bit::CHANNEL => {
                self.channel = Some(Channel {
                    freq_mhz: u16_or0(b, 0),
                    flags: u16_or0(b, 2),
                })
            }
            bit::FHSS => {
                self.fhss = Some(Fhss {
                    hop_set: byte(b, 0),
                    hop_pattern: byte(b, 1),
                })
            }
            bit::DBM_ANTSIGNAL => self.dbm_antsignal = Some(read_i8(b, 0)),
            bit::DBM_ANTNOISE => self.dbm_antnoise = Some(read_i8(b, 0)),
            bit::LOCK_QUALITY => self.lock_quality = Some(u16_or0(b, 0)),
            bit::TX_ATTENUATION => self.tx_attenuation = Some(u16_or0(b, 0)),
            bit::DB_TX_ATTENUATION => self.db_tx_attenuation = Some(u16_or0(b, 0)),
            bit::DBM_TX_POWER => self.dbm_tx_power = Some(read_i8(b, 0)),
            bit::ANTENNA => self.antenna = Some(byte(b, 0)),
            bit::DB_ANTSIGNAL => self.db_antsignal = Some(byte(b, 0)),
            bit::DB_ANTNOISE => self.db_antnoise = Some(byte(b, 0)),
            bit::RX_FLAGS => self.rx_flags = Some(u16_or0(b, 0)),
            bit::TX_FLAGS => self.tx_flags = Some(u16_or0(b, 0)),
            bit::RTS_RETRIES => self.rts_retries = Some(byte(b, 0)),
            bit::DATA_RETRIES => self.data_retries = Some(byte(b, 0)),
            bit::XCHANNEL => {
                self.xchannel = Some(XChannel {
                    flags: read_u32(b, 0).unwrap_or(0),
                    freq_mhz: u16_or0(b, 4),
                    channel: byte(b, 6),
                    max_power: byte(b, 7),
                })
            }
            bit::MCS => {
                self.mcs = Some(Mcs {
                    known: byte(b, 0),
                    flags: byte(b, 1),
                    index: byte(b, 2),
                })
            }
            bit::AMPDU_STATUS => {
                self.ampdu_status = Some(AmpduStatus {
                    reference: read_u32(b, 0).unwrap_or(0),
                    flags: u16_or0(b, 4),
                    delimiter_crc: byte(b, 6),
                    reserved: byte(b, 7),
                })
            }
            bit::VHT => {
                self.vht = Some(Vht {
                    known: u16_or0(b, 0),
                    flags: byte(b, 2),
                    bandwidth: byte(b, 3),
                    mcs_nss: [byte(b, 4), byte(b, 5), byte(b, 6), byte(b, 7)],
                    coding: byte(b, 8),
                    group_id: byte(b, 9),
                    partial_aid: u16_or0(b, 10),
                })
            }
            bit::TIMESTAMP => {
                self.timestamp = Some(Timestamp {
                    timestamp: read_u64(b, 0).unwrap_or(0),
                    accuracy: u16_or0(b, 8),
                    unit_position: byte(b, 10),
                    flags: byte(b, 11),
                })
            }
            bit::HE => {
                self.he = Some(He {
                    data: [
                        u16_or0(b, 0),
                        u16_or0(b, 2),
                        u16_or0(b, 4),
                        u16_or0(b, 6),
                        u16_or0(b, 8),
                        u16_or0(b, 10),
                    ],
                })
            }
            bit::HE_MU => {
                self.he_mu = Some(HeMu {
                    flags1: u16_or0(b, 0),
                    flags2: u16_or0(b, 2),
                    ru_channel1: [byte(b, 4), byte(b, 5), byte(b, 6), byte(b, 7)],
                    ru_channel2: [byte(b, 8), byte(b, 9), byte(b, 10), byte(b, 11)],
                })
            }
            bit::HE_MU_OTHER_USER => {
                self.he_mu_other_user = Some(HeMuOtherUser {
                    per_user_1: u16_or0(b, 0),
                    per_user_2: u16_or0(b, 2),
                    per_user_position: byte(b, 4),
                    per_user_known: byte(b, 5),
                })
            }
            bit::ZERO_LENGTH_PSDU => self.zero_length_psdu = Some(byte(b, 0)),
            bit::LSIG => {
                self.lsig = Some(LSig {
                    data1: u16_or0(b, 0),
                    data2: u16_or0(b, 2),
                })
            }
            _ => {}
        }
    }

    /// The header says the 802.11 frame ends with its FCS.
    pub fn fcs_at_end(&self) -> bool {
        self.flags.is_some_and(|f| f & flags::FCS_AT_END != 0)
    }

    /// The centre frequency: the Channel field's, else the XChannel field's (0 means unknown).
    pub fn freq_mhz(&self) -> Option<u16> {
        let channel = self.channel.map(|c| c.freq_mhz).filter(|&f| f != 0);
        channel.or_else(|| self.xchannel.map(|x| x.freq_mhz).filter(|&f| f != 0))
    }

    /// Copies what the header says into `info`.
    pub fn fill_radio_info(&self, info: &mut RadioInfo) {
        let flag_bits = self.flags.unwrap_or(0);
        info.freq_mhz = self.freq_mhz();
        // XChannel states a channel number directly; Channel only has a frequency, and
        // turning frequencies into channel numbers is `channel.rs`'s job.
        info.channel = self
            .xchannel
            .map(|x| u16::from(x.channel))
            .filter(|&c| c != 0);
        info.signal_dbm = self.last_dbm_antsignal;
        info.combined_signal_dbm = self.dbm_antsignal;
        info.noise_dbm = self.last_dbm_antnoise;
        info.antenna_signals = self.antenna_signals;
        info.antenna_count = self.antenna_count;
        info.rate_500kbps = self.rate.filter(|&r| r != 0);
        info.tsft = self.tsft;
        info.fcs_at_end = flag_bits & flags::FCS_AT_END != 0;
        info.bad_fcs_flag = flag_bits & flags::BAD_FCS != 0;
        info.data_pad = flag_bits & flags::DATA_PAD != 0;
    }
}

/// Whether to keep reading presence words after one word's fields.
enum Flow {
    Continue,
    Stop,
}

/// Parses the radiotap header at the start of `data`, returning its values and the 802.11
/// frame that follows it.
pub fn parse(data: &[u8]) -> Result<(Radiotap, &[u8])> {
    let header = Header::new_checked(data)?;
    let rt = Radiotap::parse(&header)?;
    let payload = data.get(header.header_len()..).unwrap_or(&[]);
    Ok((rt, payload))
}

/// Rounds `at` up to a multiple of `alignment` (a power of two). Offsets are below 65536 plus
/// a few bytes, so this cannot overflow.
fn align(at: usize, alignment: usize) -> usize {
    let mask = alignment.saturating_sub(1);
    (at + mask) & !mask
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn read_i8(b: &[u8], at: usize) -> i8 {
    i8::from_le_bytes([byte(b, at)])
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u16_or0(b: &[u8], at: usize) -> u16 {
    read_u16(b, at).unwrap_or(0)
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16_or0(b, at)
}

fn le32(b: &[u8], at: usize) -> u32 {
    read_u32(b, at).unwrap_or(0)
}
