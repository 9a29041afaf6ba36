//! Capture files: a streaming reader of pcap and pcapng that yields records with their byte offsets.
//!
//! The reader works over any [`std::io::Read`] and reuses one buffer, so reading a file costs no
//! allocation per record. A file that breaks (cut short mid-record, a length that cannot be
//! right) yields one [`CapError`] carrying the byte offset of the record that broke, after every
//! good record before it; then the reader stops.

use core::fmt;
use std::io::{self, Read};

/// A record larger than this is treated as corruption: no 802.11 frame comes near it, and
/// trusting a corrupt length would make us allocate gigabytes.
pub const MAX_RECORD: u32 = 256 * 1024;

/// A pcapng block larger than this is treated as corruption, for the same reason.
const MAX_BLOCK: u32 = MAX_RECORD + 4096;

/// One captured record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The pcap link type (DLT) of the interface that captured it.
    pub link: u32,
    /// Capture time, Unix microseconds; `None` for pcapng simple packet blocks, which carry none.
    pub ts_us: Option<i64>,
    /// The captured bytes (possibly fewer than `orig_len` when the capture was sliced).
    pub data: &'a [u8],
    /// Length of the packet on the air.
    pub orig_len: u32,
    /// Byte offset of the record (pcap) or block (pcapng) in the file.
    pub offset: u64,
}

/// What went wrong, and where.
#[derive(Debug)]
pub struct CapError {
    /// Byte offset of the record, block or header that could not be read.
    pub offset: u64,
    pub kind: CapErrorKind,
}

#[derive(Debug)]
pub enum CapErrorKind {
    /// Not a pcap or pcapng file (the first four bytes are given).
    UnknownFormat([u8; 4]),
    /// The file ends inside a header or record.
    Truncated,
    /// A length or field that cannot be right; reading cannot go on past it.
    Corrupt(&'static str),
    /// A record names an interface the file never described.
    UnknownInterface(u32),
    /// The underlying reader failed.
    Io(io::Error),
}

impl fmt::Display for CapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CapErrorKind::UnknownFormat(m) => write!(
                f,
                "not a pcap or pcapng file (starts with {:02x} {:02x} {:02x} {:02x})",
                m[0], m[1], m[2], m[3]
            ),
            CapErrorKind::Truncated => {
                write!(
                    f,
                    "file ends inside the record at byte offset {}",
                    self.offset
                )
            }
            CapErrorKind::Corrupt(what) => {
                write!(f, "corrupt {} at byte offset {}", what, self.offset)
            }
            CapErrorKind::UnknownInterface(i) => write!(
                f,
                "record at byte offset {} names interface {} that the file never described",
                self.offset, i
            ),
            CapErrorKind::Io(e) => write!(f, "read error at byte offset {}: {}", self.offset, e),
        }
    }
}

impl std::error::Error for CapError {}

/// The file's container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: u32,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    /// Seconds added to every timestamp (if_tsoffset).
    offset_sec: i64,
}

/// Streaming pcap / pcapng reader.
pub struct CapReader<R> {
    inner: R,
    format: Format,
    big_endian: bool,
    /// pcap only: link type, snaplen and timestamp units of the single interface.
    pcap_if: Interface,
    /// pcapng only: interfaces of the current section.
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
    pos: u64,
    done: bool,
}

/// Reads exactly `buf.len()` bytes, or reports how many were there (`Ok(n)` with n < len at EOF).
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn u16_at(b: &[u8], at: usize, be: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if be {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if be {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

impl<R: Read> CapReader<R> {
    /// Reads the file header and prepares to yield records.
    pub fn new(mut inner: R) -> Result<CapReader<R>, CapError> {
        let err = |kind| CapError { offset: 0, kind };
        let mut head = [0u8; 24];
        let n = read_full(&mut inner, &mut head[..4]).map_err(|e| err(CapErrorKind::Io(e)))?;
        if n < 4 {
            return Err(err(CapErrorKind::Truncated));
        }
        let magic4 = [head[0], head[1], head[2], head[3]];
        let le = u32::from_le_bytes(magic4);
        let be = u32::from_be_bytes(magic4);
        let mut reader = CapReader {
            inner,
            format: Format::Pcap,
            big_endian: false,
            pcap_if: Interface {
                link: 0,
                snaplen: MAX_RECORD,
                units_per_sec: 1_000_000,
                offset_sec: 0,
            },
            interfaces: Vec::new(),
            buf: Vec::with_capacity(4096),
            pos: 0,
            done: false,
        };
        if le == PCAPNG_SHB {
            reader.format = Format::PcapNg;
            // The section header is parsed like any other block, by the first next_record().
            reader.buf.extend_from_slice(&magic4);
            return Ok(reader);
        }
        let (big, nanos) = match (le, be) {
            (PCAP_MAGIC_US, _) => (false, false),
            (PCAP_MAGIC_NS, _) => (false, true),
            (_, PCAP_MAGIC_US) => (true, false),
            (_, PCAP_MAGIC_NS) => (true, true),
            _ => return Err(err(CapErrorKind::UnknownFormat(magic4))),
        };
        let n =
            read_full(&mut reader.inner, &mut head[4..]).map_err(|e| err(CapErrorKind::Io(e)))?;
        if n < 20 {
            return Err(err(CapErrorKind::Truncated));
        }
        reader.big_endian = big;
        reader.pos = 24;
        let snaplen = u32_at(&head, 16, big);
        // The upper bits of the link-type field carry FCS-length information (pcap spec,
        // "LinkType and additional information"); the link type itself is the low 16 bits.
        reader.pcap_if.link = u32_at(&head, 20, big) & 0xffff;
        reader.pcap_if.snaplen = if snaplen == 0 { MAX_RECORD } else { snaplen };
        reader.pcap_if.units_per_sec = if nanos { 1_000_000_000 } else { 1_000_000 };
        Ok(reader)
    }

    /// The container format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes consumed so far: the offset of the next record.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next record, `None` at the end of the file, or one error after which it stays `None`.
    #[allow(clippy::should_implement_trait)] // a lending iterator: the record borrows the reader
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, CapError>> {
        if self.done {
            return None;
        }
        let r = match self.format {
            Format::Pcap => self.next_pcap(),
            Format::PcapNg => self.next_pcapng(),
        };
        match r {
            Ok(Some((iface, ts_us, orig_len, start, end, offset))) => Some(Ok(Record {
                link: iface,
                ts_us,
                data: &self.buf[start..end],
                orig_len,
                offset,
            })),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn fail<T>(&self, offset: u64, kind: CapErrorKind) -> Result<T, CapError> {
        Err(CapError { offset, kind })
    }

    /// Reads `len` bytes into `buf[at..at+len]`; Truncated when the file ends first.
    fn fill(&mut self, at: usize, len: usize, offset: u64) -> Result<(), CapError> {
        self.buf.resize(at + len, 0);
        let n = read_full(&mut self.inner, &mut self.buf[at..at + len]).map_err(|e| CapError {
            offset,
            kind: CapErrorKind::Io(e),
        })?;
        self.pos += n as u64;
        if n < len {
            return self.fail(offset, CapErrorKind::Truncated);
        }
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn next_pcap(
        &mut self,
    ) -> Result<Option<(u32, Option<i64>, u32, usize, usize, u64)>, CapError> {
        let offset = self.pos;
        self.buf.resize(16, 0);
        let n = read_full(&mut self.inner, &mut self.buf[..16]).map_err(|e| CapError {
            offset,
            kind: CapErrorKind::Io(e),
        })?;
        self.pos += n as u64;
        if n == 0 {
            return Ok(None);
        }
        if n < 16 {
            return self.fail(offset, CapErrorKind::Truncated);
        }
        let be = self.big_endian;
        let sec = u32_at(&self.buf, 0, be);
        let frac = u32_at(&self.buf, 4, be);
        let incl = u32_at(&self.buf, 8, be);
        let orig = u32_at(&self.buf, 12, be);
        if incl > MAX_RECORD.max(self.pcap_if.snaplen.min(16 * MAX_RECORD)) {
            return self.fail(offset, CapErrorKind::Corrupt("record length"));
        }
        let ts = ts_from_parts(sec as u64, frac as u64, self.pcap_if.units_per_sec, 0);
        self.fill(16, incl as usize, offset)?;
        Ok(Some((
            self.pcap_if.link,
            Some(ts),
            orig,
            16,
            16 + incl as usize,
            offset,
        )))
    }

    #[allow(clippy::type_complexity)]
    fn next_pcapng(
        &mut self,
    ) -> Result<Option<(u32, Option<i64>, u32, usize, usize, u64)>, CapError> {
        loop {
            let offset = self.pos;
            // The first block's type was consumed by new(); it waits in buf.
            let have = if offset == 0 { 4 } else { 0 };
            self.buf.resize(8, 0);
            let n = read_full(&mut self.inner, &mut self.buf[have..8]).map_err(|e| CapError {
                offset,
                kind: CapErrorKind::Io(e),
            })?;
            self.pos += (have + n) as u64;
            if have + n == 0 {
                return Ok(None);
            }
            if have + n < 8 {
                return self.fail(offset, CapErrorKind::Truncated);
            }
            let raw_type = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
            if raw_type == PCAPNG_SHB {
                // The byte-order magic follows the length; read it to learn the section's
                // byte order before trusting the length.
                self.fill(8, 4, offset)?;
                let bom = &self.buf[8..12];
                self.big_endian = match u32::from_le_bytes([bom[0], bom[1], bom[2], bom[3]]) {
                    PCAPNG_BOM => false,
                    x if x.swap_bytes() == PCAPNG_BOM => true,
                    _ => {
                        return self
                            .fail(offset, CapErrorKind::Corrupt("section byte-order magic"));
                    }
                };
                let total = u32_at(&self.buf, 4, self.big_endian);
                if !(28..=MAX_BLOCK).contains(&total) || !total.is_multiple_of(4) {
                    return self.fail(offset, CapErrorKind::Corrupt("section header length"));
                }
                self.fill(12, total as usize - 12, offset)?;
                self.interfaces.clear();
                continue;
            }
            let be = self.big_endian;
            let btype = u32_at(&self.buf, 0, be);
            let total = u32_at(&self.buf, 4, be);
            if !(12..=MAX_BLOCK).contains(&total) || !total.is_multiple_of(4) {
                return self.fail(offset, CapErrorKind::Corrupt("block length"));
            }
            self.fill(8, total as usize - 8, offset)?;
            let body_end = total as usize - 4;
            if u32_at(&self.buf, body_end, be) != total {
                return self.fail(offset, CapErrorKind::Corrupt("block trailing length"));
            }
            match btype {
                1 => self.interface_block(body_end, offset)?,
                // Enhanced packet block (6), and the obsolete packet block (2) that old tools
                // still write: the same layout but for a 16-bit interface id and a drop count.
                6 | 2 => {
                    if body_end < 28 {
                        return self.fail(offset, CapErrorKind::Corrupt("packet block"));
                    }
                    let ifid = if btype == 6 {
                        u32_at(&self.buf, 8, be)
                    } else {
                        u16_at(&self.buf, 8, be) as u32
                    };
                    let hi = u32_at(&self.buf, 12, be) as u64;
                    let lo = u32_at(&self.buf, 16, be) as u64;
                    let cap = u32_at(&self.buf, 20, be);
                    let orig = u32_at(&self.buf, 24, be);
                    if 28 + cap as usize > body_end {
                        return self.fail(offset, CapErrorKind::Corrupt("packet length"));
                    }
                    let iface = self.iface(ifid, offset)?;
                    let ts = ts_from_units((hi << 32) | lo, iface.units_per_sec, iface.offset_sec);
                    return Ok(Some((
                        iface.link,
                        Some(ts),
                        orig,
                        28,
                        28 + cap as usize,
                        offset,
                    )));
                }
                3 => {
                    // Simple packet block: interface 0, no timestamp, captured length implied.
                    if body_end < 12 {
                        return self.fail(offset, CapErrorKind::Corrupt("simple packet block"));
                    }
                    let orig = u32_at(&self.buf, 8, be);
                    let iface = self.iface(0, offset)?;
                    let cap = (orig.min(iface.snaplen) as usize).min(body_end - 12);
                    return Ok(Some((iface.link, None, orig, 12, 12 + cap, offset)));
                }
                // Name resolution, statistics, custom and unknown blocks carry no packets.
                _ => continue,
            }
        }
    }

    fn iface(&self, id: u32, offset: u64) -> Result<Interface, CapError> {
        match self.interfaces.get(id as usize) {
            Some(i) => Ok(*i),
            None => self.fail(offset, CapErrorKind::UnknownInterface(id)),
        }
    }

    fn interface_block(&mut self, body_end: usize, offset: u64) -> Result<(), CapError> {
        let be = self.big_endian;
        if body_end < 16 {
            return self.fail(offset, CapErrorKind::Corrupt("interface description block"));
        }
        let link = u16_at(&self.buf, 8, be) as u32;
        let snaplen = u32_at(&self.buf, 12, be);
        let mut iface = Interface {
            link,
            snaplen: if snaplen == 0 { MAX_RECORD } else { snaplen },
            units_per_sec: 1_000_000,
            offset_sec: 0,
        };
        // Options: code u16, length u16, value padded to 4 bytes; opt_endofopt (0) ends them.
        let mut at = 16;
        while at + 4 <= body_end {
            let code = u16_at(&self.buf, at, be);
            let len = u16_at(&self.buf, at + 2, be) as usize;
            let val = at + 4;
            if code == 0 || val + len > body_end {
                break;
            }
            match (code, len) {
                (9, 1) => {
                    let r = self.buf[val];
                    let exp = (r & 0x7f) as u32;
                    // Resolutions beyond 10^-18 or 2^-63 cannot be represented; keep µs.
                    iface.units_per_sec = if r & 0x80 == 0 {
                        10u64.checked_pow(exp).unwrap_or(1_000_000)
                    } else {
                        1u64.checked_shl(exp)
                            .filter(|_| exp < 64)
                            .unwrap_or(1_000_000)
                    };
                }
                (14, 8) => {
                    let hi = u32_at(&self.buf, val, be) as u64;
                    let lo = u32_at(&self.buf, val + 4, be) as u64;
                    let v = if be { (hi << 32) | lo } else { (lo << 32) | hi };
                    iface.offset_sec = v as i64;
                }
                _ => {}
            }
            at = val + len.div_ceil(4) * 4;
        }
        self.interfaces.push(iface);
        Ok(())
    }
}

fn ts_from_units(units: u64, per_sec: u64, offset_sec: i64) -> i64 {
    let per_sec = per_sec.max(1);
    ts_from_parts(units / per_sec, units % per_sec, per_sec, offset_sec)
}

fn ts_from_parts(sec: u64, frac: u64, per_sec: u64, offset_sec: i64) -> i64 {
    let per_sec = per_sec.max(1) as u128;
    let us = (frac as u128 * 1_000_000 / per_sec) as i64;
    (sec as i64)
        .saturating_add(offset_sec)
        .saturating_mul(1_000_000)
        .saturating_add(us)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header(link: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&PCAP_MAGIC_US.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&0i32.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&link.to_le_bytes());
        v
    }

    fn pcap_record(v: &mut Vec<u8>, sec: u32, usec: u32, data: &[u8]) {
        v.extend_from_slice(&sec.to_le_bytes());
        v.extend_from_slice(&usec.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
    }

    #[test]
    fn pcap_records_and_truncation_offset() {
        let mut f = pcap_header(127);
        pcap_record(&mut f, 10, 5, &[1, 2, 3]);
        pcap_record(&mut f, 11, 6, &[4, 5]);
        let cut_at = f.len() as u64;
        pcap_record(&mut f, 12, 7, &[6, 7, 8, 9]);
        f.truncate(f.len() - 2);
        let mut r = CapReader::new(&f[..]).unwrap();
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.link, a.ts_us, a.data, a.offset),
            (127, Some(10_000_005), &[1u8, 2, 3][..], 24)
        );
        let b = r.next_record().unwrap().unwrap();
        assert_eq!(b.data, &[4, 5]);
        let e = r.next_record().unwrap().unwrap_err();
        assert_eq!(e.offset, cut_at);
        assert!(matches!(e.kind, CapErrorKind::Truncated));
        assert!(r.next_record().is_none());
    }

    #[test]
    fn pcap_big_endian_nanoseconds() {
        let mut f = Vec::new();
        f.extend_from_slice(&PCAP_MAGIC_NS.to_be_bytes());
        f.extend_from_slice(&[
            0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 105,
        ]);
        f.extend_from_slice(&7u32.to_be_bytes());
        f.extend_from_slice(&1_500u32.to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        f.push(0xaa);
        let mut r = CapReader::new(&f[..]).unwrap();
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.link, a.ts_us, a.data),
            (105, Some(7_000_001), &[0xaa][..])
        );
        assert!(r.next_record().is_none());
    }

    #[test]
    fn corrupt_length_is_reported_not_allocated() {
        let mut f = pcap_header(105);
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut r = CapReader::new(&f[..]).unwrap();
        let e = r.next_record().unwrap().unwrap_err();
        assert_eq!(e.offset, 24);
        assert!(matches!(e.kind, CapErrorKind::Corrupt(_)));
    }

    #[test]
    fn unknown_format() {
        let e = CapReader::new(&b"hello world, not a capture"[..])
            .err()
            .unwrap();
        assert!(matches!(e.kind, CapErrorKind::UnknownFormat(_)));
        assert!(e.to_string().contains("not a pcap"));
    }

    fn block(v: &mut Vec<u8>, btype: u32, body: &[u8]) {
        let total = 12 + body.len().div_ceil(4) * 4;
        v.extend_from_slice(&btype.to_le_bytes());
        v.extend_from_slice(&(total as u32).to_le_bytes());
        v.extend_from_slice(body);
        v.resize(v.len() + (body.len().div_ceil(4) * 4 - body.len()), 0);
        v.extend_from_slice(&(total as u32).to_le_bytes());
    }

    #[test]
    fn pcapng_obsolete_and_simple_packet_blocks() {
        let mut f = Vec::new();
        let mut shb = Vec::new();
        shb.extend_from_slice(&PCAPNG_BOM.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(&mut f, PCAPNG_SHB, &shb);
        block(&mut f, 1, &[105, 0, 0, 0, 2, 0, 0, 0]); // snaplen 2
        // Obsolete packet block: 16-bit interface id, drops, timestamp, lengths, data.
        let mut opb = vec![0, 0, 0, 0];
        opb.extend_from_slice(&0u32.to_le_bytes());
        opb.extend_from_slice(&7_000_000u32.to_le_bytes());
        opb.extend_from_slice(&1u32.to_le_bytes());
        opb.extend_from_slice(&1u32.to_le_bytes());
        opb.push(0xab);
        block(&mut f, 2, &opb);
        // Simple packet block: original length 3, but the snaplen cuts it to 2.
        block(&mut f, 3, &[3, 0, 0, 0, 1, 2, 3]);
        let mut r = CapReader::new(&f[..]).unwrap();
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.link, a.ts_us, a.data),
            (105, Some(7_000_000), &[0xab][..])
        );
        let b = r.next_record().unwrap().unwrap();
        assert_eq!((b.ts_us, b.data, b.orig_len), (None, &[1u8, 2][..], 3));
        assert!(r.next_record().is_none());
    }

    #[test]
    fn pcapng_with_tsresol_and_two_interfaces() {
        let mut f = Vec::new();
        let mut shb = Vec::new();
        shb.extend_from_slice(&PCAPNG_BOM.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        block(&mut f, PCAPNG_SHB, &shb);
        // Interface 0: radiotap, default microseconds.
        block(&mut f, 1, &[127, 0, 0, 0, 0, 0, 0, 0]);
        // Interface 1: plain 802.11, nanoseconds (if_tsresol = 9).
        block(
            &mut f,
            1,
            &[105, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0],
        );
        let epb = |ifid: u32, ts: u64, data: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(&ifid.to_le_bytes());
            b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(ts as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
            b
        };
        block(&mut f, 6, &epb(1, 3_000_000_123_456, &[9, 9, 9]));
        let second = f.len() as u64;
        block(&mut f, 6, &epb(0, 42, &[1]));
        block(&mut f, 6, &epb(5, 42, &[1]));
        let mut r = CapReader::new(&f[..]).unwrap();
        assert_eq!(r.format(), Format::PcapNg);
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(
            (a.link, a.ts_us, a.data),
            (105, Some(3_000_000_123), &[9u8, 9, 9][..])
        );
        let b = r.next_record().unwrap().unwrap();
        assert_eq!((b.link, b.ts_us, b.offset), (127, Some(42), second));
        let e = r.next_record().unwrap().unwrap_err();
        assert!(matches!(e.kind, CapErrorKind::UnknownInterface(5)));
    }
}
