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
