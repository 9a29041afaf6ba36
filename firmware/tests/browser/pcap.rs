//! Writes small test captures: classic pcap, link type 127 (radiotap), one beacon frame per
//! access point, with the SSID bytes the test chooses.

/// An access point to beacon as.
pub struct Beacon<'a> {
    pub bssid: [u8; 6],
    pub ssid: &'a [u8],
    pub channel: u8,
}

/// The radiotap header: version 0, present = Flags | Channel | dBm antenna signal.
fn radiotap(channel: u8, signal_dbm: i8) -> Vec<u8> {
    let freq: u16 = 2407 + 5 * u16::from(channel);
    let mut v = vec![0u8, 0, 0, 0];
    v.extend_from_slice(&((1u32 << 1) | (1 << 3) | (1 << 5)).to_le_bytes());
    v.push(0); // Flags: no FCS at the end
    v.push(0); // padding: Channel is 2-aligned
    v.extend_from_slice(&freq.to_le_bytes());
    v.extend_from_slice(&0x00a0u16.to_le_bytes()); // 2 GHz, CCK
    v.push(signal_dbm as u8);
    let len = v.len() as u16;
    v[2..4].copy_from_slice(&len.to_le_bytes());
    v
}

/// A beacon: management header, fixed fields, SSID, supported rates and DS parameter set.
fn beacon(b: &Beacon, seq: u16) -> Vec<u8> {
    assert!(
        b.ssid.len() <= 32,
        "an SSID is at most 32 bytes: {:?}",
        b.ssid
    );
    let mut f = vec![0x80, 0x00, 0x00, 0x00];
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&b.bssid);
    f.extend_from_slice(&b.bssid);
    f.extend_from_slice(&(seq << 4).to_le_bytes());
    f.extend_from_slice(&u64::from(seq).to_le_bytes()); // timestamp
    f.extend_from_slice(&100u16.to_le_bytes()); // beacon interval
    f.extend_from_slice(&0x0001u16.to_le_bytes()); // capability: ESS, open
    f.push(0);
    f.push(b.ssid.len() as u8);
    f.extend_from_slice(b.ssid);
    f.extend_from_slice(&[1, 4, 0x82, 0x84, 0x8b, 0x96]);
    f.extend_from_slice(&[3, 1, b.channel]);
    f
}

/// A pcap file with `rounds` beacons of each AP, `gap_us` apart, from `start_us` (Unix µs).
pub fn beacons_pcap(aps: &[Beacon], rounds: u16, start_us: i64, gap_us: i64) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&127u32.to_le_bytes());
    let mut t = start_us;
    for round in 0..rounds {
        for (i, ap) in aps.iter().enumerate() {
            let mut rec = radiotap(ap.channel, -40 - (i % 50) as i8);
            rec.extend_from_slice(&beacon(ap, round));
            out.extend_from_slice(&((t / 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&((t % 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&(rec.len() as u32).to_le_bytes());
            out.extend_from_slice(&(rec.len() as u32).to_le_bytes());
            out.extend_from_slice(&rec);
            t += gap_us;
        }
    }
    out
}
