//! A batch of one device's observations and its compact wire form (columnar, delta, deflate).

use crate::ids::{DeviceId, Mac};
use crate::obs::{Fix, Kind, Observation};
use crate::ranges::RangeSet;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::collections::HashMap;
use std::io::{Read, Write};

/// At most this many observations in one batch: a sender splits, a receiver refuses more.
pub const MAX_BATCH_OBS: usize = 4096;
/// The largest inflated batch a receiver accepts. A row takes at most 66 bytes of columns
/// (10-byte varints for seq, session and time, 5-byte ones for the rest) plus 6 bytes of
/// dictionary, so 4096 rows fit in 296 KiB; anything larger is a decompression bomb.
const MAX_INFLATED: u64 = 512 * 1024;
/// The version of the columnar layout, first byte of the inflated stream.
const FORMAT: u8 = 1;

// Per-row flags.
const F_CLIENT: u8 = 1;
const F_SIGNAL: u8 = 1 << 1;
const F_CHANNEL: u8 = 1 << 2;
const F_FREQ: u8 = 1 << 3;
const F_FIX: u8 = 1 << 4;
const F_ALT: u8 = 1 << 5;
const F_ALL: u8 = (1 << 6) - 1;

/// Observations of one device, sorted by seq, no seq twice. Applying a batch is idempotent
/// and independent of the order batches arrive in: it adds `(device, seq)` keys to a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    device: DeviceId,
    observations: Vec<Observation>,
}

/// A batch that cannot be built or decoded; each names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("a batch holds at most {MAX_BATCH_OBS} observations, not {0}")]
    TooMany(u64),
    #[error("seq {0} appears twice in one batch")]
    DuplicateSeq(u64),
    #[error("seq 0 is not a sequence number (they start at 1)")]
    SeqZero,
    #[error(
        "observation seq {seq}: its fix is out of range (latitude ±90°, longitude ±180°, accuracy > 0)"
    )]
    BadFix { seq: u64 },
    #[error("the batch does not inflate: {0}")]
    Inflate(String),
    #[error("the batch inflates to more than {MAX_INFLATED} bytes")]
    Bomb,
    #[error("unknown batch format {0} (this build reads format {FORMAT})")]
    Format(u8),
    #[error("the batch ends inside the {0} column")]
    Truncated(&'static str),
    #[error("a varint in the {0} column is longer than 10 bytes or overflows")]
    Varint(&'static str),
    #[error("the {0} column holds a value out of range")]
    Range(&'static str),
    #[error("row {row}: unknown flag bits {flags:#04x}")]
    Flags { row: usize, flags: u8 },
    #[error("row {row}: MAC index {index} is past the dictionary of {size}")]
    MacIndex { row: usize, index: u64, size: usize },
    #[error("{0} bytes after the last column")]
    Trailing(usize),
}

impl Batch {
    /// A batch of `device`'s observations (sorted here by seq).
    pub fn new(device: DeviceId, mut observations: Vec<Observation>) -> Result<Batch, BatchError> {
        if observations.len() > MAX_BATCH_OBS {
            return Err(BatchError::TooMany(observations.len() as u64));
        }
        observations.sort_by_key(|o| o.seq);
        for (i, o) in observations.iter().enumerate() {
            if o.seq == 0 {
                return Err(BatchError::SeqZero);
            }
            if i > 0 && observations[i - 1].seq == o.seq {
                return Err(BatchError::DuplicateSeq(o.seq));
            }
            if o.fix.is_some_and(|f| !f.is_valid()) {
                return Err(BatchError::BadFix { seq: o.seq });
            }
        }
        Ok(Batch {
            device,
            observations,
        })
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    pub fn len(&self) -> usize {
        self.observations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
    }

    /// The seqs this batch carries.
    pub fn seqs(&self) -> RangeSet {
        self.observations.iter().map(|o| o.seq).collect()
    }

    /// The wire form: the columns below, deflated (raw DEFLATE, RFC 1951).
    ///
    /// ```text
    /// format u8 = 1 | device [16] | n varint | dictionary: m varint, m × 6-byte MAC
    /// columns, each n entries (or one per row that has the field):
    ///   seq        first, then gap - 1          session    zigzag delta
    ///   flags      one byte per row             mac        dictionary index
    ///   time       zigzag delta (µs)            signal     i8 (rows with a signal)
    ///   channel    zigzag delta from the same MAC's previous channel in the batch
    ///   freq       zigzag delta from the same MAC's previous frequency
    ///   lat, lon   zigzag delta from the previous fix (1e-7°)
    ///   alt        zigzag delta from the previous altitude (cm, rows with one)
    ///   accuracy   zigzag delta (cm)            fix time   zigzag delta from the previous fix's
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let obs = &self.observations;
        let n = obs.len();
        let mut dict: Vec<Mac> = Vec::new();
        let mut index: HashMap<Mac, usize> = HashMap::new();
        let mut cols: [Vec<u8>; 15] = Default::default();
        let [
            seq_c,
            sess_c,
            flag_c,
            mac_c,
            time_c,
            sig_c,
            ch_c,
            fq_c,
            lat_c,
            lon_c,
            alt_c,
            acc_c,
            ft_c,
            ..,
        ] = &mut cols;
        let (mut prev_seq, mut prev_sess, mut prev_time) = (0u64, 0u64, 0i64);
        let mut per_mac: Vec<(u16, u16)> = Vec::new(); // (channel, freq) last seen per MAC
        let mut prev_fix = Fix {
            lat_e7: 0,
            lon_e7: 0,
            alt_cm: None,
            accuracy_cm: 0,
            time_us: 0,
        };
        let mut prev_alt = 0i32;
        for (row, o) in obs.iter().enumerate() {
            put_varint(
                seq_c,
                if row == 0 {
                    o.seq
                } else {
                    o.seq - prev_seq - 1
                },
            );
            prev_seq = o.seq;
            put_zigzag(sess_c, o.session_id.wrapping_sub(prev_sess) as i64);
            prev_sess = o.session_id;
            let mi = *index.entry(o.mac).or_insert_with(|| {
                dict.push(o.mac);
                per_mac.push((0, 0));
                dict.len() - 1
            });
            let mut flags = 0u8;
            if o.kind == Kind::Client {
                flags |= F_CLIENT;
            }
            put_varint(mac_c, mi as u64);
            put_zigzag(time_c, o.time.wrapping_sub(prev_time));
            prev_time = o.time;
            if let Some(s) = o.signal_dbm {
                flags |= F_SIGNAL;
                sig_c.push(s as u8);
            }
            if let Some(c) = o.channel {
                flags |= F_CHANNEL;
                put_zigzag(ch_c, i64::from(c) - i64::from(per_mac[mi].0));
                per_mac[mi].0 = c;
            }
            if let Some(f) = o.freq_mhz {
                flags |= F_FREQ;
                put_zigzag(fq_c, i64::from(f) - i64::from(per_mac[mi].1));
                per_mac[mi].1 = f;
            }
            if let Some(f) = o.fix {
                flags |= F_FIX;
                put_zigzag(lat_c, i64::from(f.lat_e7) - i64::from(prev_fix.lat_e7));
                put_zigzag(lon_c, i64::from(f.lon_e7) - i64::from(prev_fix.lon_e7));
                if let Some(a) = f.alt_cm {
                    flags |= F_ALT;
                    put_zigzag(alt_c, i64::from(a) - i64::from(prev_alt));
                    prev_alt = a;
                }
                put_zigzag(
                    acc_c,
                    i64::from(f.accuracy_cm) - i64::from(prev_fix.accuracy_cm),
                );
                put_zigzag(ft_c, f.time_us.wrapping_sub(prev_fix.time_us));
                prev_fix = f;
            }
            flag_c.push(flags);
        }
        let mut raw =
            Vec::with_capacity(32 + dict.len() * 6 + cols.iter().map(Vec::len).sum::<usize>());
        raw.push(FORMAT);
        raw.extend_from_slice(&self.device.0);
        put_varint(&mut raw, n as u64);
        put_varint(&mut raw, dict.len() as u64);
        for m in &dict {
            raw.extend_from_slice(&m.0);
        }
        for c in &cols {
            raw.extend_from_slice(c);
        }
        let mut z = DeflateEncoder::new(Vec::with_capacity(raw.len() / 2), Compression::best());
        z.write_all(&raw).expect("writing to a Vec cannot fail");
        z.finish().expect("writing to a Vec cannot fail")
    }

    /// Decodes the wire form, checking every field; never panics on any input.
    pub fn decode(bytes: &[u8]) -> Result<Batch, BatchError> {
        let mut raw = Vec::new();
        DeflateDecoder::new(bytes)
            .take(MAX_INFLATED + 1)
            .read_to_end(&mut raw)
            .map_err(|e| BatchError::Inflate(e.to_string()))?;
        if raw.len() as u64 > MAX_INFLATED {
            return Err(BatchError::Bomb);
        }
        let mut r = Reader { buf: &raw, pos: 0 };
        let format = r.bytes(1, "format")?[0];
        if format != FORMAT {
            return Err(BatchError::Format(format));
        }
        let device = DeviceId(r.bytes(16, "device")?.try_into().expect("16 bytes"));
        let n = r.varint("count")?;
        if n > MAX_BATCH_OBS as u64 {
            return Err(BatchError::TooMany(n));
        }
        let n = n as usize;
        let m = r.varint("dictionary")?;
        if m > n as u64 {
            return Err(BatchError::Range("dictionary"));
        }
        let dict: Vec<Mac> = (0..m)
            .map(|_| Ok(Mac(r.bytes(6, "dictionary")?.try_into().expect("6 bytes"))))
            .collect::<Result<_, BatchError>>()?;

        let mut seqs = Vec::with_capacity(n);
        let mut prev = 0u64;
        for row in 0..n {
            let v = r.varint("seq")?;
            let seq = if row == 0 {
                v
            } else {
                prev.checked_add(v)
                    .and_then(|s| s.checked_add(1))
                    .ok_or(BatchError::Range("seq"))?
            };
            if seq == 0 {
                return Err(BatchError::SeqZero);
            }
            seqs.push(seq);
            prev = seq;
        }
        let mut sessions = Vec::with_capacity(n);
        let mut prev = 0u64;
        for _ in 0..n {
            prev = prev.wrapping_add(r.zigzag("session")? as u64);
            sessions.push(prev);
        }
        let flags = r.bytes(n, "flags")?.to_vec();
        if let Some((row, &f)) = flags.iter().enumerate().find(|(_, f)| **f & !F_ALL != 0) {
            return Err(BatchError::Flags { row, flags: f });
        }
        let mut macs = Vec::with_capacity(n);
        for row in 0..n {
            let i = r.varint("mac")?;
            let mac = *dict.get(i as usize).ok_or(BatchError::MacIndex {
                row,
                index: i,
                size: dict.len(),
            })?;
            macs.push((i as usize, mac));
        }
        let mut times = Vec::with_capacity(n);
        let mut prev = 0i64;
        for _ in 0..n {
            prev = prev.wrapping_add(r.zigzag("time")?);
            times.push(prev);
        }
        let has = |f: u8| flags.iter().filter(|x| *x & f != 0).count();
        let signals = r.bytes(has(F_SIGNAL), "signal")?.to_vec();
        let channels = r.zigzags(has(F_CHANNEL), "channel")?;
        let freqs = r.zigzags(has(F_FREQ), "freq")?;
        let fixes = has(F_FIX);
        let lats = r.zigzags(fixes, "lat")?;
        let lons = r.zigzags(fixes, "lon")?;
        let alts = r.zigzags(has(F_ALT), "alt")?;
        let accs = r.zigzags(fixes, "accuracy")?;
        let fix_times = r.zigzags(fixes, "fix time")?;
        if r.pos != raw.len() {
            return Err(BatchError::Trailing(raw.len() - r.pos));
        }

        let (mut sig, mut ch, mut fq, mut fx, mut al) = (0, 0, 0, 0, 0);
        let mut per_mac = vec![(0i64, 0i64); dict.len()];
        let mut prev_fix = (0i64, 0i64, 0i64, 0i64);
        let mut prev_alt = 0i64;
        let mut observations = Vec::with_capacity(n);
        for row in 0..n {
            let f = flags[row];
            let (mi, mac) = macs[row];
            let signal_dbm = (f & F_SIGNAL != 0).then(|| {
                sig += 1;
                signals[sig - 1] as i8
            });
            let channel = if f & F_CHANNEL != 0 {
                per_mac[mi].0 += channels[ch];
                ch += 1;
                Some(u16::try_from(per_mac[mi].0).map_err(|_| BatchError::Range("channel"))?)
            } else {
                None
            };
            let freq_mhz = if f & F_FREQ != 0 {
                per_mac[mi].1 += freqs[fq];
                fq += 1;
                Some(u16::try_from(per_mac[mi].1).map_err(|_| BatchError::Range("freq"))?)
            } else {
                None
            };
            if f & F_ALT != 0 && f & F_FIX == 0 {
                return Err(BatchError::Flags { row, flags: f });
            }
            let fix = if f & F_FIX != 0 {
                prev_fix.0 += lats[fx];
                prev_fix.1 += lons[fx];
                prev_fix.2 += accs[fx];
                prev_fix.3 = prev_fix.3.wrapping_add(fix_times[fx]);
                fx += 1;
                let alt_cm = if f & F_ALT != 0 {
                    prev_alt += alts[al];
                    al += 1;
                    Some(i32::try_from(prev_alt).map_err(|_| BatchError::Range("alt"))?)
                } else {
                    None
                };
                let fix = Fix {
                    lat_e7: i32::try_from(prev_fix.0).map_err(|_| BatchError::Range("lat"))?,
                    lon_e7: i32::try_from(prev_fix.1).map_err(|_| BatchError::Range("lon"))?,
                    alt_cm,
                    accuracy_cm: u32::try_from(prev_fix.2)
                        .map_err(|_| BatchError::Range("accuracy"))?,
                    time_us: prev_fix.3,
                };
                if !fix.is_valid() {
                    return Err(BatchError::BadFix { seq: seqs[row] });
                }
                Some(fix)
            } else {
                None
            };
            observations.push(Observation {
                seq: seqs[row],
                session_id: sessions[row],
                kind: if f & F_CLIENT != 0 {
                    Kind::Client
                } else {
                    Kind::Ap
                },
                mac,
                time: times[row],
                signal_dbm,
                channel,
                freq_mhz,
                fix,
            });
        }
        Ok(Batch {
            device,
            observations,
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, len: usize, column: &'static str) -> Result<&'a [u8], BatchError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|e| *e <= self.buf.len())
            .ok_or(BatchError::Truncated(column))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self, column: &'static str) -> Result<u64, BatchError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.bytes(1, column)?[0];
            // The tenth byte may only carry the top bit of a u64.
            if i == 9 && b > 1 {
                return Err(BatchError::Varint(column));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(BatchError::Varint(column))
    }

    fn zigzag(&mut self, column: &'static str) -> Result<i64, BatchError> {
        let v = self.varint(column)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// `count` zigzag deltas, each small enough that summing up to 4096 of them cannot
    /// overflow an i64 (deltas of 32-bit and 16-bit fields stay within ±2^33).
    fn zigzags(&mut self, count: usize, column: &'static str) -> Result<Vec<i64>, BatchError> {
        (0..count)
            .map(|_| {
                let d = self.zigzag(column)?;
                if column != "fix time" && d.unsigned_abs() > 1 << 33 {
                    return Err(BatchError::Range(column));
                }
                Ok(d)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(seq: u64) -> Observation {
        Observation {
            seq,
            session_id: 3,
            kind: Kind::Ap,
            mac: Mac([2, 0, 0, 0, 0, seq as u8]),
            time: 1_700_000_000_000_000 + seq as i64,
            signal_dbm: Some(-60),
            channel: Some(6),
            freq_mhz: Some(2437),
            fix: Some(Fix {
                lat_e7: 515_000_000,
                lon_e7: -1_000_000,
                alt_cm: Some(3_000),
                accuracy_cm: 350,
                time_us: 1_700_000_000_000_000,
            }),
        }
    }

    #[test]
    fn round_trips_extremes() {
        let mut a = obs(1);
        a.time = i64::MIN;
        a.session_id = u64::MAX;
        a.signal_dbm = Some(i8::MIN);
        a.channel = Some(u16::MAX);
        a.freq_mhz = Some(0);
        a.fix = Some(Fix {
            lat_e7: -900_000_000,
            lon_e7: 1_800_000_000,
            alt_cm: Some(i32::MIN),
            accuracy_cm: u32::MAX,
            time_us: i64::MAX,
        });
        let mut b = obs(u64::MAX);
        b.time = i64::MAX;
        b.kind = Kind::Client;
        b.fix = None;
        b.channel = None;
        let mut c = obs(2);
        c.mac = a.mac;
        c.fix.as_mut().unwrap().alt_cm = None;
        c.signal_dbm = None;
        let batch = Batch::new(DeviceId([9; 16]), vec![b, a, c]).unwrap();
        let back = Batch::decode(&batch.encode()).unwrap();
        assert_eq!(back, batch);
        assert_eq!(back.observations()[0].seq, 1, "sorted by seq");
    }

    #[test]
    fn refuses_bad_batches() {
        let d = DeviceId([1; 16]);
        assert_eq!(
            Batch::new(d, vec![obs(2), obs(2)]),
            Err(BatchError::DuplicateSeq(2))
        );
        assert_eq!(Batch::new(d, vec![obs(0)]), Err(BatchError::SeqZero));
        let mut bad = obs(1);
        bad.fix.as_mut().unwrap().lat_e7 = 900_000_001;
        assert_eq!(Batch::new(d, vec![bad]), Err(BatchError::BadFix { seq: 1 }));
        let many: Vec<Observation> = (1..=MAX_BATCH_OBS as u64 + 1).map(obs).collect();
        assert_eq!(
            Batch::new(d, many),
            Err(BatchError::TooMany(MAX_BATCH_OBS as u64 + 1))
        );
    }

    fn deflate(raw: &[u8]) -> Vec<u8> {
        let mut z = DeflateEncoder::new(Vec::new(), Compression::fast());
        z.write_all(raw).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn hostile_input_gets_a_named_error() {
        assert!(matches!(
            Batch::decode(b"not deflate at all"),
            Err(BatchError::Inflate(_))
        ));
        assert_eq!(Batch::decode(&deflate(&[2])), Err(BatchError::Format(2)));
        assert_eq!(
            Batch::decode(&deflate(&[1, 0, 0])),
            Err(BatchError::Truncated("device"))
        );
        let bomb = deflate(&vec![0u8; MAX_INFLATED as usize + 10]);
        assert_eq!(Batch::decode(&bomb), Err(BatchError::Bomb));
        let mut raw = vec![1];
        raw.extend([0; 16]);
        raw.extend([0x80, 0x40]); // n = 8192
        assert_eq!(
            Batch::decode(&deflate(&raw)),
            Err(BatchError::TooMany(8192))
        );
        // One row whose MAC index points past a one-entry dictionary.
        let mut raw = vec![1];
        raw.extend([0; 16]);
        raw.extend([1, 1, 1, 2, 3, 4, 5, 6]); // n = 1, m = 1, the MAC
        raw.extend([5, 0, 0, 7]); // seq 5, session 0, flags 0, mac index 7
        assert_eq!(
            Batch::decode(&deflate(&raw)),
            Err(BatchError::MacIndex {
                row: 0,
                index: 7,
                size: 1
            })
        );
        raw.truncate(raw.len() - 1);
        raw.extend([0, 0, 9]); // index 0, time 0, then a stray byte
        assert_eq!(Batch::decode(&deflate(&raw)), Err(BatchError::Trailing(1)));
        let flags_at = raw.len() - 4;
        raw[flags_at] = 0x40; // a flag bit no version defines
        raw.pop();
        assert_eq!(
            Batch::decode(&deflate(&raw)),
            Err(BatchError::Flags {
                row: 0,
                flags: 0x40
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = Batch::decode(&bytes);
            let _ = Batch::decode(&deflate(&bytes));
        }
    }
}
