//! Prism (DLT 119) capture headers.
//!
//! The wlan-ng "Prism II" monitor header is 144 bytes: a message code (u32), the message length
//! (u32, 144), a 16-byte NUL-padded device name, then ten 12-byte DID items (host time, MAC time,
//! channel, RSSI, signal quality, signal, noise, rate, is-TX, frame length), each a DID (u32),
//! a status (u16, 0 = supplied), a length (u16) and a value (u32). The words are in the
//! capturing host's byte order, which is detected from the message length. Drivers leave items
//! they do not fill with a DID of 0, so items are recognised by DID, not by position.
//!
//! What tshark 4.0 reports, and so what [`Prism::fill_radio_info`] reports: `wlan_radio.channel`
//! from the channel item, `wlan_radio.signal_dbm` from the RSSI item (not the "signal" item),
//! the data rate from the rate item (500 kb/s units) and the TSF timestamp from the MAC time.

use crate::link::RadioInfo;
use crate::{Error, Result};

/// Length of the whole Prism header; the 802.11 frame follows it.
pub const HEADER_LEN: usize = 144;

/// Byte offsets of the header.
mod field {
    pub const MSGCODE: usize = 0;
    pub const MSGLEN: usize = 4;
    pub const DEVNAME: core::ops::Range<usize> = 8..24;
    pub const ITEMS: usize = 24;
    pub const ITEM_LEN: usize = 12;
    pub const ITEM_COUNT: usize = 10;
}

/// The byte order of the header's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// What a DID item carries. wlan-ng used two numberings: "type 1" DIDs are `item << 16 | 0x44`
/// and "type 2" DIDs are `item << 12 | 0x41`; both number the items 1 to 10 in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Did {
    HostTime,
    MacTime,
    Channel,
    Rssi,
    SignalQuality,
    Signal,
    Noise,
    Rate,
    IsTx,
    FrameLength,
    Unknown(u32),
}

impl Did {
    pub fn from_raw(did: u32) -> Did {
        let item = if did & 0xFFFF == 0x0044 {
            did >> 16
        } else if did & 0xFFFF_0FFF == 0x0041 {
            did >> 12
        } else {
            0
        };
        match item {
            1 => Did::HostTime,
            2 => Did::MacTime,
            3 => Did::Channel,
            4 => Did::Rssi,
            5 => Did::SignalQuality,
            6 => Did::Signal,
            7 => Did::Noise,
            8 => Did::Rate,
            9 => Did::IsTx,
            10 => Did::FrameLength,
            _ => Did::Unknown(did),
        }
    }
}

/// One 12-byte DID item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub did: u32,
    pub status: u16,
    pub len: u16,
    pub data: u32,
}

impl Item {
    /// Status 0 means the driver supplied the value; anything else means the value is not there.
    pub fn supplied(&self) -> bool {
        self.status == 0
    }
}

/// A view over a buffer that starts with a Prism header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer after proving it holds the 144-byte header.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let header = Header::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// Checks the buffer holds the header. An AVS header (which some drivers also write under
    /// DLT 119, recognisable by its big-endian magic 0x8021100x) is not a Prism header.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if let Some(magic) = data.first_chunk::<4>()
            && u32::from_be_bytes(*magic) & 0xFFFF_FFF0 == 0x8021_1000
        {
            return Err(Error::Unsupported);
        }
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The header's byte order: the message length is 144, a small number, so whichever
    /// reading of it fits in 16 bits is the right one.
    pub fn byte_order(&self) -> ByteOrder {
        let raw = raw_u32(self.buffer.as_ref(), field::MSGLEN);
        if u32::from_le_bytes(raw) <= 0xFFFF {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        let raw = raw_u32(self.buffer.as_ref(), at);
        match self.byte_order() {
            ByteOrder::Little => u32::from_le_bytes(raw),
            ByteOrder::Big => u32::from_be_bytes(raw),
        }
    }

    fn u16_at(&self, at: usize) -> u16 {
        let data = self.buffer.as_ref();
        let raw = [byte(data, at), byte(data, at + 1)];
        match self.byte_order() {
            ByteOrder::Little => u16::from_le_bytes(raw),
            ByteOrder::Big => u16::from_be_bytes(raw),
        }
    }

    pub fn msgcode(&self) -> u32 {
        self.u32_at(field::MSGCODE)
    }

    pub fn msglen(&self) -> u32 {
        self.u32_at(field::MSGLEN)
    }

    /// The capturing interface's name, without its NUL padding.
    pub fn devname(&self) -> &[u8] {
        let name = self.buffer.as_ref().get(field::DEVNAME).unwrap_or(&[]);
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.get(..end).unwrap_or(&[])
    }

    /// The `index`th DID item (0-9), or `None` past the last.
    pub fn item(&self, index: usize) -> Option<Item> {
        if index >= field::ITEM_COUNT {
            return None;
        }
        let at = field::ITEMS + index * field::ITEM_LEN;
        Some(Item {
            did: self.u32_at(at),
            status: self.u16_at(at + 4),
            len: self.u16_at(at + 6),
            data: self.u32_at(at + 8),
        })
    }

    /// The 802.11 frame after the header.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// The parsed values of a Prism header; items the driver did not supply are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prism {
    pub msgcode: u32,
    pub devname: [u8; 16],
    pub host_time: Option<u32>,
    pub mac_time: Option<u32>,
    pub channel: Option<u32>,
    pub rssi: Option<u32>,
    pub signal_quality: Option<u32>,
    pub signal: Option<u32>,
    pub noise: Option<u32>,
    /// Data rate in 500 kb/s units.
    pub rate: Option<u32>,
    pub is_tx: Option<u32>,
    pub frame_len: Option<u32>,
}

impl Prism {
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Prism> {
        header.check_len()?;
        let mut prism = Prism {
            msgcode: header.msgcode(),
            ..Prism::default()
        };
        for (slot, &b) in prism.devname.iter_mut().zip(header.devname()) {
            *slot = b;
        }
        for index in 0..field::ITEM_COUNT {
            let Some(item) = header.item(index) else {
                break;
            };
            if !item.supplied() {
                continue;
            }
            let value = Some(item.data);
            match Did::from_raw(item.did) {
                Did::HostTime => prism.host_time = value,
                Did::MacTime => prism.mac_time = value,
                Did::Channel => prism.channel = value,
                Did::Rssi => prism.rssi = value,
                Did::SignalQuality => prism.signal_quality = value,
                Did::Signal => prism.signal = value,
                Did::Noise => prism.noise = value,
                Did::Rate => prism.rate = value,
                Did::IsTx => prism.is_tx = value,
                Did::FrameLength => prism.frame_len = value,
                Did::Unknown(_) => {}
            }
        }
        Ok(prism)
    }

    /// Copies what the header says into `info`, the way tshark 4.0 reads it: the RSSI item is
    /// the signal in dBm (its low byte, as a signed value) and the noise item the noise.
    pub fn fill_radio_info(&self, info: &mut RadioInfo) {
        info.channel = self
            .channel
            .and_then(|c| u16::try_from(c).ok())
            .filter(|&c| c != 0);
        info.signal_dbm = self.rssi.map(low_byte_signed);
        info.combined_signal_dbm = info.signal_dbm;
        info.noise_dbm = self.noise.map(low_byte_signed);
        info.rate_500kbps = self
            .rate
            .and_then(|r| u8::try_from(r).ok())
            .filter(|&r| r != 0);
        info.tsft = self.mac_time.map(u64::from);
    }
}

/// Parses the Prism header at the start of `data`, returning its values and the 802.11 frame.
pub fn parse(data: &[u8]) -> Result<(Prism, &[u8])> {
    let header = Header::new_checked(data)?;
    let prism = Prism::parse(&header)?;
    let payload = data.get(HEADER_LEN..).unwrap_or(&[]);
    Ok((prism, payload))
}

/// The value's low byte read as a signed dBm figure (drivers store small negative numbers).
fn low_byte_signed(value: u32) -> i8 {
    i8::from_le_bytes([value.to_le_bytes()[0]])
}

fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn raw_u32(b: &[u8], at: usize) -> [u8; 4] {
    [
        byte(b, at),
        byte(b, at + 1),
        byte(b, at + 2),
        byte(b, at + 3),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// aircrack_wpa_prism.cap frame 1: the 144-byte Prism header and the first 24 bytes of the
    /// beacon after it. Little-endian (msgcode 0x44, msglen 144), device "ath0"; the SQ and noise
    /// items have DID 0 (not filled by the driver). tshark 4.0: `wlan_radio.channel` 7,
    /// `wlan_radio.signal_dbm` 0 (from the RSSI item), 1 Mb/s, TSF 2039931272.
    pub(crate) const PRISM_FRAME1: [u8; 168] = [
        0x44, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x61, 0x74, 0x68, 0x30, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x04, 0x00, 0xd5, 0x36, 0x64, 0x00, 0x44, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x88,
        0xe1, 0x96, 0x79, 0x44, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00, 0x00,
        0x44, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x04, 0x00, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x44, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x44, 0x00, 0x09, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x0a,
        0x00, 0x00, 0x00, 0x04, 0x00, 0x76, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0x00, 0x0d, 0x93, 0xeb, 0xb0, 0x8c, 0x00, 0x0d, 0x93, 0xeb, 0xb0,
        0x8c, 0x50, 0x0f,
    ];

    #[test]
    fn header_of_a_real_capture() {
        let header = Header::new_checked(&PRISM_FRAME1[..]).unwrap();
        assert_eq!(header.byte_order(), ByteOrder::Little);
        assert_eq!(header.msgcode(), 0x44);
        assert_eq!(header.msglen(), 144);
        assert_eq!(header.devname(), b"ath0");
        assert_eq!(
            header.item(2),
            Some(Item {
                did: 0x0003_0044,
                status: 0,
                len: 4,
                data: 7
            })
        );
        assert_eq!(header.item(10), None);
        let (prism, frame) = parse(&PRISM_FRAME1).unwrap();
        assert_eq!(frame.len(), 24);
        assert_eq!(frame[0], 0x80);
        assert_eq!(prism.host_time, Some(6_567_637));
        assert_eq!(prism.mac_time, Some(2_039_931_272));
        assert_eq!(prism.channel, Some(7));
        assert_eq!(prism.rssi, Some(0));
        assert_eq!(prism.signal_quality, None);
        assert_eq!(prism.signal, Some(57));
        assert_eq!(prism.noise, None);
        assert_eq!(prism.rate, Some(2));
        assert_eq!(prism.is_tx, Some(0));
        assert_eq!(prism.frame_len, Some(118));
        assert_eq!(&prism.devname[..5], b"ath0\0");
    }

    #[test]
    fn radio_info_matches_tshark() {
        let (prism, _) = parse(&PRISM_FRAME1).unwrap();
        let mut info = RadioInfo::default();
        prism.fill_radio_info(&mut info);
        assert_eq!(info.channel, Some(7));
        assert_eq!(info.freq_mhz, None);
        assert_eq!(info.signal_dbm, Some(0));
        assert_eq!(info.noise_dbm, None);
        assert_eq!(info.rate_500kbps, Some(2));
        assert_eq!(info.tsft, Some(2_039_931_272));
        assert!(!info.fcs_at_end);
    }

    #[test]
    fn big_endian_header_and_type_2_dids() {
        // The same header as written by a big-endian host, with the older "type 2" DIDs
        // (item << 12 | 0x41) and a noise item filled in.
        let mut be = PRISM_FRAME1;
        for word in be[..8].chunks_exact_mut(4) {
            word.reverse();
        }
        for item in 0..10 {
            let at = 24 + item * 12;
            let did = u32::from_le_bytes(be[at..at + 4].try_into().unwrap());
            let did = if did == 0 {
                0
            } else {
                ((did >> 16) << 12) | 0x41
            };
            be[at..at + 4].copy_from_slice(&did.to_be_bytes());
            be[at + 4..at + 6].reverse();
            be[at + 6..at + 8].reverse();
            be[at + 8..at + 12].reverse();
        }
        // Item 6 (index 6) becomes a supplied noise item of -95 dBm.
        let at = 24 + 6 * 12;
        be[at..at + 4].copy_from_slice(&0x7041u32.to_be_bytes());
        be[at + 6..at + 8].copy_from_slice(&4u16.to_be_bytes());
        be[at + 8..at + 12].copy_from_slice(&(-95i32 as u32).to_be_bytes());
        let header = Header::new_checked(&be[..]).unwrap();
        assert_eq!(header.byte_order(), ByteOrder::Big);
        assert_eq!(header.msglen(), 144);
        let (prism, _) = parse(&be).unwrap();
        assert_eq!(prism.channel, Some(7));
        assert_eq!(prism.mac_time, Some(2_039_931_272));
        assert_eq!(prism.rate, Some(2));
        let mut info = RadioInfo::default();
        prism.fill_radio_info(&mut info);
        assert_eq!(info.noise_dbm, Some(-95));
    }

    #[test]
    fn unsupplied_items_are_ignored() {
        let mut h = PRISM_FRAME1;
        // Mark the channel item (index 2) "not supplied".
        h[24 + 2 * 12 + 4] = 1;
        let (prism, _) = parse(&h).unwrap();
        assert_eq!(prism.channel, None);
    }

    #[test]
    fn short_buffers_and_avs_headers_are_errors() {
        assert_eq!(parse(&PRISM_FRAME1[..143]).unwrap_err(), Error::Truncated);
        assert_eq!(parse(&[]).unwrap_err(), Error::Truncated);
        let mut avs = PRISM_FRAME1;
        avs[..4].copy_from_slice(&0x8021_1001u32.to_be_bytes());
        assert_eq!(parse(&avs).unwrap_err(), Error::Unsupported);
        // Exactly the header, no frame: fine, and the frame is empty.
        let (_, frame) = parse(&PRISM_FRAME1[..144]).unwrap();
        assert!(frame.is_empty());
    }
}
