//! Per-Packet Information (PPI, DLT 192) headers.
//!
//! A PPI header (CACE Technologies' PPI specification, version 1.0.10) is an 8-byte fixed part,
//! little-endian: version (u8, 0), flags (u8, bit 0 = fields 32-bit aligned), the length of the
//! whole header (u16) and the link type of the payload (u32). Fields follow, each a type (u16),
//! a data length (u16) and that many bytes. The 802.11-common field (type 2, 20 bytes) carries
//! what a wardriver needs: TSF timer, flags (FCS present, FCS invalid), rate, channel frequency
//! and flags, FHSS, and the dBm signal and noise.
//!
//! The payload is an 802.11 frame when the header's link type is 105; a radiotap header inside
//! PPI (127) is also accepted by [`crate::link::decode_link`].

use crate::link::RadioInfo;
use crate::{Error, Result};

/// Byte offsets of the fixed part.
mod field {
    pub const VERSION: usize = 0;
    pub const FLAGS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const DLT: usize = 4;
    pub const FIXED_LEN: usize = 8;
    /// A field's type and length.
    pub const FIELD_HEADER_LEN: usize = 4;
}

/// PPI field types this decoder reads.
pub mod field_type {
    pub const IEEE80211_COMMON: u16 = 2;
    pub const IEEE80211N_MAC: u16 = 3;
    pub const IEEE80211N_MAC_PHY: u16 = 4;
}

/// Bits of the 802.11-common flags.
pub mod common_flags {
    /// The 802.11 frame ends with its FCS.
    pub const FCS_PRESENT: u16 = 0x0001;
    /// The TSF timer is in milliseconds, not microseconds.
    pub const TSFT_IN_MS: u16 = 0x0002;
    /// The FCS was invalid.
    pub const FCS_INVALID: u16 = 0x0004;
    /// The PHY reported an error.
    pub const PHY_ERROR: u16 = 0x0008;
}

/// Length of the 802.11-common field's data.
pub const COMMON_LEN: usize = 20;

/// A view over a buffer that starts with a PPI header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer after proving it holds the whole header it announces.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let header = Header::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

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

    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), field::VERSION)
    }

    pub fn flags(&self) -> u8 {
        byte(self.buffer.as_ref(), field::FLAGS)
    }

    /// The length of the whole PPI header, fields included.
    pub fn header_len(&self) -> usize {
        usize::from(u16_or0(self.buffer.as_ref(), field::LENGTH))
    }

    /// The link type of the payload.
    pub fn dlt(&self) -> u32 {
        u32_or0(self.buffer.as_ref(), field::DLT)
    }

    /// The fields, in order. The iterator yields an error and stops at a field that runs past
    /// the header.
    pub fn fields(&self) -> Fields<'_> {
        let data = self.buffer.as_ref();
        let header = data.get(..self.header_len()).unwrap_or(&[]);
        Fields {
            data: header,
            at: field::FIXED_LEN,
        }
    }

    /// What follows the header.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

/// Iterator over the (type, data) fields of a PPI header.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u16, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.data.len() {
            return None;
        }
        let kind = read_u16(self.data, self.at);
        let len = read_u16(self.data, self.at + 2);
        let start = self.at + field::FIELD_HEADER_LEN;
        let body = match (kind, len) {
            (Some(kind), Some(len)) => self
                .data
                .get(start..start + usize::from(len))
                .map(|body| (kind, body)),
            _ => None,
        };
        match body {
            Some((kind, body)) => {
                // Each step moves at least four bytes forward, so the walk ends.
                self.at = start + body.len();
                Some(Ok((kind, body)))
            }
            None => {
                self.at = self.data.len();
                Some(Err(Error::Malformed))
            }
        }
    }
}

/// The 802.11-common field (type 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Common {
    pub tsft: u64,
    pub flags: u16,
    /// Rate in 500 kb/s units; 0 means unknown.
    pub rate: u16,
    /// Channel frequency in MHz; 0 means unknown.
    pub freq_mhz: u16,
    pub channel_flags: u16,
    pub fhss_hopset: u8,
    pub fhss_pattern: u8,
    /// dBm signal; -128 means unknown (and tshark also treats 0 so).
    pub dbm_antsignal: i8,
    pub dbm_antnoise: i8,
}

impl Common {
    /// Parses the 20 data bytes of an 802.11-common field.
    pub fn parse(data: &[u8]) -> Result<Common> {
        if data.len() < COMMON_LEN {
            return Err(Error::Malformed);
        }
        Ok(Common {
            tsft: u64::from(u32_or0(data, 0)) | (u64::from(u32_or0(data, 4)) << 32),
            flags: u16_or0(data, 8),
            rate: u16_or0(data, 10),
            freq_mhz: u16_or0(data, 12),
            channel_flags: u16_or0(data, 14),
            fhss_hopset: byte(data, 16),
            fhss_pattern: byte(data, 17),
            dbm_antsignal: i8::from_le_bytes([byte(data, 18)]),
            dbm_antnoise: i8::from_le_bytes([byte(data, 19)]),
        })
    }
}

/// The parsed values of a PPI header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ppi {
    pub version: u8,
    pub flags: u8,
    pub header_len: u16,
    /// Link type of the payload.
    pub dlt: u32,
    pub common: Option<Common>,
}

impl Ppi {
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Ppi> {
        header.check_len()?;
        let mut ppi = Ppi {
            version: header.version(),
            flags: header.flags(),
            header_len: u16::try_from(header.header_len()).unwrap_or(u16::MAX),
            dlt: header.dlt(),
            common: None,
        };
        for item in header.fields() {
            let (kind, data) = item?;
            if kind == field_type::IEEE80211_COMMON && ppi.common.is_none() {
                ppi.common = Some(Common::parse(data)?);
            }
        }
        Ok(ppi)
    }

    /// The 802.11-common field says the frame ends with its FCS.
    pub fn fcs_at_end(&self) -> bool {
        self.common
            .is_some_and(|c| c.flags & common_flags::FCS_PRESENT != 0)
    }

    /// Copies what the header says into `info`, with tshark's notion of "unknown": a zero
    /// rate or frequency, and a signal or noise of -128 or 0, are left out.
    pub fn fill_radio_info(&self, info: &mut RadioInfo) {
        let Some(common) = self.common else {
            return;
        };
        let known_dbm = |dbm: i8| (dbm != -128 && dbm != 0).then_some(dbm);
        info.freq_mhz = (common.freq_mhz != 0).then_some(common.freq_mhz);
        info.signal_dbm = known_dbm(common.dbm_antsignal);
        info.combined_signal_dbm = info.signal_dbm;
        info.noise_dbm = known_dbm(common.dbm_antnoise);
        info.rate_500kbps = u8::try_from(common.rate).ok().filter(|&r| r != 0);
        info.tsft = (common.tsft != 0).then(|| {
            if common.flags & common_flags::TSFT_IN_MS != 0 {
                common.tsft.saturating_mul(1000)
            } else {
                common.tsft
            }
        });
        info.fcs_at_end = common.flags & common_flags::FCS_PRESENT != 0;
        info.bad_fcs_flag = common.flags & common_flags::FCS_INVALID != 0;
    }
}

/// Parses the PPI header at the start of `data`, returning its values and the payload.
pub fn parse(data: &[u8]) -> Result<(Ppi, &[u8])> {
    let header = Header::new_checked(data)?;
    let ppi = Ppi::parse(&header)?;
    let payload = data.get(header.header_len()..).unwrap_or(&[]);
    Ok((ppi, payload))
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u16_or0(b: &[u8], at: usize) -> u16 {
    read_u16(b, at).unwrap_or(0)
}

fn u32_or0(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([
        byte(b, at),
        byte(b, at + 1),
        byte(b, at + 2),
        byte(b, at + 3),
    ])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PPI header built per the PPI 1.0.10 specification (no test capture uses PPI): version
    /// 0, flags 0, length 32, DLT 105, one 802.11-common field of 20 bytes saying TSF 123456,
    /// FCS present, 1 Mb/s, 2437 MHz (CCK, 2 GHz), signal -60 dBm, noise -95 dBm.
    pub(crate) fn common_header(flags: u16, signal: i8, dlt: u32) -> Vec<u8> {
        let mut h = vec![0u8, 0];
        h.extend_from_slice(&32u16.to_le_bytes());
        h.extend_from_slice(&dlt.to_le_bytes());
        h.extend_from_slice(&field_type::IEEE80211_COMMON.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(&123_456u64.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&2437u16.to_le_bytes());
        h.extend_from_slice(&0x00a0u16.to_le_bytes());
        h.extend_from_slice(&[0, 0, signal as u8, (-95i8) as u8]);
        assert_eq!(h.len(), 32);
        h
    }

    #[test]
    fn header_and_common_field() {
        let mut data = common_header(common_flags::FCS_PRESENT, -60, 105);
        data.extend_from_slice(&[0x80, 0x00]);
        let header = Header::new_checked(&data[..]).unwrap();
        assert_eq!(header.version(), 0);
        assert_eq!(header.header_len(), 32);
        assert_eq!(header.dlt(), 105);
        assert_eq!(header.fields().count(), 1);
        let (ppi, payload) = parse(&data).unwrap();
        assert_eq!(payload, &[0x80, 0x00]);
        assert!(ppi.fcs_at_end());
        assert_eq!(
            ppi.common,
            Some(Common {
                tsft: 123_456,
                flags: common_flags::FCS_PRESENT,
                rate: 2,
                freq_mhz: 2437,
                channel_flags: 0x00a0,
                fhss_hopset: 0,
                fhss_pattern: 0,
                dbm_antsignal: -60,
                dbm_antnoise: -95,
            })
        );
        let mut info = RadioInfo::default();
        ppi.fill_radio_info(&mut info);
        assert_eq!(info.freq_mhz, Some(2437));
        assert_eq!(info.channel, None);
        assert_eq!(info.signal_dbm, Some(-60));
        assert_eq!(info.noise_dbm, Some(-95));
        assert_eq!(info.rate_500kbps, Some(2));
        assert_eq!(info.tsft, Some(123_456));
        assert!(info.fcs_at_end);
        assert!(!info.bad_fcs_flag);
    }

    #[test]
    fn unknown_values_are_left_out_like_tshark_does() {
        for signal in [0i8, -128] {
            let mut data = common_header(common_flags::FCS_INVALID, signal, 105);
            data[24..26].copy_from_slice(&0u16.to_le_bytes()); // no frequency
            let (ppi, _) = parse(&data).unwrap();
            let mut info = RadioInfo::default();
            ppi.fill_radio_info(&mut info);
            assert_eq!(info.signal_dbm, None);
            assert_eq!(info.freq_mhz, None);
            assert!(!info.fcs_at_end);
            assert!(info.bad_fcs_flag);
        }
    }

    #[test]
    fn other_fields_are_skipped() {
        // A 4-byte unknown field (type 30000) before the common field.
        let base = common_header(0, -70, 105);
        let mut data = base[..8].to_vec();
        data[2..4].copy_from_slice(&40u16.to_le_bytes());
        data.extend_from_slice(&30_000u16.to_le_bytes());
        data.extend_from_slice(&4u16.to_le_bytes());
        data.extend_from_slice(&[1, 2, 3, 4]);
        data.extend_from_slice(&base[8..]);
        let (ppi, payload) = parse(&data).unwrap();
        assert!(payload.is_empty());
        assert_eq!(ppi.common.map(|c| c.dbm_antsignal), Some(-70));
    }

    #[test]
    fn broken_headers_are_errors() {
        let good = common_header(0, -60, 105);
        assert_eq!(parse(&good[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(parse(&good[..31]).unwrap_err(), Error::Truncated);
        let mut version = good.clone();
        version[0] = 1;
        assert_eq!(parse(&version).unwrap_err(), Error::Unsupported);
        let mut short = good.clone();
        short[2] = 4;
        assert_eq!(parse(&short).unwrap_err(), Error::Malformed);
        // A field length running past the header.
        let mut long_field = good.clone();
        long_field[10] = 21;
        assert_eq!(parse(&long_field).unwrap_err(), Error::Malformed);
        // A common field too short to hold its values.
        let mut small = good[..28].to_vec();
        small[2] = 28;
        small[10] = 16;
        assert_eq!(parse(&small).unwrap_err(), Error::Malformed);
    }
}
