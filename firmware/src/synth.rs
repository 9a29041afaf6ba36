//! Synthetic large captures for benchmarks and crash tests: the bundled real frames, repeated with varied addresses.
//!
//! Every copy of a real frame gets the last two octets of its unicast addresses XORed with the
//! copy number, so the tracker sees many distinct networks and clients, and gets its FCS
//! recomputed when the original carried a good one (a wrong FCS would make the decoder drop
//! it). Records captured without a radio header (DLT 105) are given a radiotap header of the
//! kind a monitor-mode adapter writes (TSF, flags with "FCS at end", rate, channel, signal,
//! antenna) and a correct FCS, because that is what the appliance decodes all day; signals
//! vary by copy. The output is pcapng with one interface per link type.

use crate::demo::BUNDLED;
use piwardrive_dot11::capfile::CapReader;
use piwardrive_dot11::fcs;
use piwardrive_dot11::link::{self, FcsStatus, LinkType};
use std::io::{self, Write};

/// One source record, ready to be varied.
struct Source {
    iface: u32,
    data: Vec<u8>,
    /// Offset of the 802.11 frame inside `data`.
    frame_at: usize,
    /// The frame ends with an FCS that was good in the original.
    fcs_good: bool,
    /// `data` starts with our own radiotap header (see [`wrap_radiotap`]).
    wrapped: bool,
}

/// What [`synthesize`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthStats {
    pub records: u64,
    pub bytes: u64,
    /// How many times the bundled records were repeated (the last copy may be partial).
    pub copies: u64,
}

/// Where the bundled captures without a radio header were recorded (from their APs' DS
/// Parameter Set), for the radiotap header given to their frames.
fn freq_of(name: &str) -> u16 {
    match name {
        "aircrack_n-02.cap" => 5320,
        "aircrack_pmkid-not-recognized.cap" => 2457,
        _ => 2437,
    }
}

/// Radiotap header length written by [`wrap_radiotap`].
const RT_LEN: usize = 24;

/// Prepends a radiotap header and appends the frame's FCS.
fn wrap_radiotap(frame: &[u8], freq: u16) -> Vec<u8> {
    let mut v = Vec::with_capacity(RT_LEN + frame.len() + 4);
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&(RT_LEN as u16).to_le_bytes());
    // TSFT, Flags, Rate, Channel, dBm antenna signal, Antenna.
    v.extend_from_slice(&0x0000_082fu32.to_le_bytes());
    v.extend_from_slice(&0u64.to_le_bytes()); // TSFT, rewritten per record
    v.push(0x10); // Flags: FCS at end
    v.push(12); // Rate: 6 Mb/s
    v.extend_from_slice(&freq.to_le_bytes());
    let chan_flags: u16 = if freq < 3000 { 0x00c0 } else { 0x0140 };
    v.extend_from_slice(&chan_flags.to_le_bytes());
    v.push(-60i8 as u8); // dBm antenna signal, rewritten per record
    v.push(0); // Antenna
    debug_assert_eq!(v.len(), RT_LEN);
    v.extend_from_slice(frame);
    v.extend_from_slice(&fcs::crc32(frame).to_le_bytes());
    v
}

fn sources() -> (Vec<u32>, Vec<Source>) {
    let mut links: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for (name, bytes) in BUNDLED {
        let Ok(mut r) = CapReader::new(*bytes) else {
            continue;
        };
        while let Some(Ok(rec)) = r.next_record() {
            let Some(lt) = LinkType::from_dlt(rec.link) else {
                continue;
            };
            let Ok(cap) = link::decode_link(lt, rec.data) else {
                continue;
            };
            let (link, data, frame_at, fcs_good) = if lt == LinkType::Ieee80211 {
                (127, wrap_radiotap(cap.frame, freq_of(name)), RT_LEN, true)
            } else {
                let at = (cap.frame.as_ptr() as usize).wrapping_sub(rec.data.as_ptr() as usize);
                (rec.link, rec.data.to_vec(), at, cap.fcs == FcsStatus::Good)
            };
            let iface = match links.iter().position(|l| *l == link) {
                Some(i) => i,
                None => {
                    links.push(link);
                    links.len() - 1
                }
            } as u32;
            out.push(Source {
                iface,
                data,
                frame_at,
                fcs_good,
                wrapped: lt == LinkType::Ieee80211,
            });
        }
    }
    (links, out)
}

fn block(out: &mut impl Write, btype: u32, body: &[u8]) -> io::Result<u64> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.write_all(&btype.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&[0u8; 3][..padded - body.len()])?;
    out.write_all(&total.to_le_bytes())?;
    Ok(u64::from(total))
}

/// Writes a pcapng capture of `records` records, starting at Unix time `start_us` and one
/// millisecond apart.
pub fn synthesize(records: u64, start_us: i64, out: &mut impl Write) -> io::Result<SynthStats> {
    let (links, sources) = sources();
    if sources.is_empty() {
        return Err(io::Error::other("no bundled records to synthesise from"));
    }
    let mut stats = SynthStats::default();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    stats.bytes += block(out, 0x0a0d_0d0a, &shb)?;
    for l in &links {
        let mut idb = Vec::new();
        idb.extend_from_slice(&(*l as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        stats.bytes += block(out, 1, &idb)?;
    }
    let mut body = Vec::with_capacity(4096);
    let mut data = Vec::with_capacity(4096);
    for i in 0..records {
        let copy = i / sources.len() as u64;
        let src = &sources[(i % sources.len() as u64) as usize];
        data.clear();
        data.extend_from_slice(&src.data);
        vary(&mut data[src.frame_at..], copy as u16, src.fcs_good);
        let ts = (start_us + i as i64 * 1000) as u64;
        if src.wrapped {
            data[8..16].copy_from_slice(&ts.to_le_bytes());
            data[22] = (-30 - (copy % 60) as i8 - (i % 7) as i8) as u8;
        }
        body.clear();
        body.extend_from_slice(&src.iface.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&data);
        stats.bytes += block(out, 6, &body)?;
        stats.records += 1;
        stats.copies = copy + 1;
    }
    Ok(stats)
}

/// XORs the last two octets of each unicast address in a frame's header with `copy`, and
/// rewrites the FCS if the frame had a good one.
fn vary(frame: &mut [u8], copy: u16, fcs_good: bool) {
    if copy == 0 {
        return;
    }
    let body_end = if fcs_good {
        frame.len().saturating_sub(4)
    } else {
        frame.len()
    };
    let [hi, lo] = copy.to_be_bytes();
    // Addresses 1-3 sit at bytes 4, 10 and 16 in every frame long enough to hold them.
    for at in [4usize, 10, 16] {
        if at + 6 > body_end {
            break;
        }
        let addr = &mut frame[at..at + 6];
        if addr[0] & 1 == 0 {
            addr[4] ^= hi;
            addr[5] ^= lo;
        }
    }
    if fcs_good && frame.len() >= 4 {
        let crc = fcs::crc32(&frame[..body_end]);
        frame[body_end..].copy_from_slice(&crc.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Decoder;

    #[test]
    fn synthetic_capture_decodes_without_fcs_losses() {
        let mut buf = Vec::new();
        let n = 3 * sources().1.len() as u64;
        let st = synthesize(n, 1_700_000_000_000_000, &mut buf).unwrap();
        assert_eq!(st.records, n);
        assert_eq!(st.bytes, buf.len() as u64);
        let mut r = CapReader::new(&buf[..]).unwrap();
        let mut dec = Decoder::default();
        let mut bssids = std::collections::HashSet::new();
        while let Some(rec) = r.next_record() {
            dec.feed(&rec.unwrap(), |ev| {
                if let crate::tracker::Event::BssAdvert { bssid, .. } = ev {
                    bssids.insert(bssid);
                }
            });
        }
        let s = dec.stats();
        assert_eq!(s.frames, n);
        // Three whole copies: the originals' bad-FCS frames stay bad, and no good frame may
        // turn bad by varying it.
        let mut orig = Decoder::default();
        for (_, bytes) in BUNDLED {
            let mut r = CapReader::new(*bytes).unwrap();
            while let Some(Ok(rec)) = r.next_record() {
                orig.feed(&rec, |_| {});
            }
        }
        let o = orig.stats();
        assert_eq!(s.bad_fcs, 3 * o.bad_fcs, "{s:?} vs {o:?}");
        assert_eq!(s.decoded, 3 * o.decoded, "{s:?} vs {o:?}");
        assert!(
            bssids.len() > 40 * 2,
            "copies give distinct networks: {}",
            bssids.len()
        );
    }
}
