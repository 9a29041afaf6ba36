//! Channels, bands and frequencies (2.4, 5, 6 and 60 GHz).
//!
//! Channel numbers follow IEEE 802.11 Annex E and the WiGLE Android app's
//! `channelForWiFiFrequencyMhz`, so the numbers written to WiGLE CSV match the app's.

use crate::ie::BssElements;

/// A Wi-Fi band. The 4.9 GHz public-safety band counts as 5 GHz, as its channel numbers
/// (182-196 on the 4000 MHz base) are part of the 5 GHz numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    Ghz2_4,
    Ghz5,
    Ghz6,
    Ghz60,
}

impl Band {
    pub fn as_str(&self) -> &'static str {
        match self {
            Band::Ghz2_4 => "2.4 GHz",
            Band::Ghz5 => "5 GHz",
            Band::Ghz6 => "6 GHz",
            Band::Ghz60 => "60 GHz",
        }
    }

    /// The band a frequency lies in, even between channel centres.
    pub fn of_freq(mhz: u16) -> Option<Band> {
        match mhz {
            2400..=2500 => Some(Band::Ghz2_4),
            4900..=5925 => Some(Band::Ghz5),
            5926..=7125 => Some(Band::Ghz6),
            57000..=u16::MAX => Some(Band::Ghz60),
            _ => None,
        }
    }
}

impl core::fmt::Display for Band {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maps a centre frequency in MHz to its band and channel number; `None` for frequencies
/// that are not a channel centre. 60 GHz channels above 4 (66960 MHz) do not fit a `u16`.
pub fn freq_to_channel(mhz: u16) -> Option<(Band, u16)> {
    match mhz {
        2412..=2472 if (mhz - 2407).is_multiple_of(5) => Some((Band::Ghz2_4, (mhz - 2407) / 5)),
        2484 => Some((Band::Ghz2_4, 14)),
        4910..=4980 if mhz.is_multiple_of(5) => Some((Band::Ghz5, (mhz - 4000) / 5)),
        5005..=5925 if mhz.is_multiple_of(5) => Some((Band::Ghz5, (mhz - 5000) / 5)),
        // 6 GHz channel 2 sits below channel 1 (5955 MHz) on its own centre.
        5935 => Some((Band::Ghz6, 2)),
        5955..=7115 if mhz.is_multiple_of(5) => Some((Band::Ghz6, (mhz - 5950) / 5)),
        58320..=u16::MAX if (mhz - 58320).is_multiple_of(2160) => {
            Some((Band::Ghz60, (mhz - 58320) / 2160 + 1))
        }
        _ => None,
    }
}

/// The centre frequency of a channel in a band; `None` when the band has no such channel.
pub fn channel_to_freq(band: Band, ch: u16) -> Option<u16> {
    match (band, ch) {
        (Band::Ghz2_4, 1..=13) => Some(2407 + 5 * ch),
        (Band::Ghz2_4, 14) => Some(2484),
        (Band::Ghz5, 182..=196) => Some(4000 + 5 * ch),
        (Band::Ghz5, 1..=185) => Some(5000 + 5 * ch),
        (Band::Ghz6, 2) => Some(5935),
        (Band::Ghz6, 1..=233) => Some(5950 + 5 * ch),
        (Band::Ghz60, 1..=4) => Some(58320 + 2160 * (ch - 1)),
        _ => None,
    }
}

/// The channel a BSS advertises in its own elements, as the truth files' `channel_ie`
/// defines it: the DS Parameter Set, else the HT Operation primary channel, else the HE
/// Operation's 6 GHz primary channel.
///
/// DS and HT channels carry no band, so `heard_mhz` (the frequency the frame was captured
/// on, when the radio header says) settles it: a frame heard in 5 or 6 GHz takes that band
/// when the channel exists there; otherwise channels 1-14 are 2.4 GHz and higher ones 5 GHz.
pub fn advertised_channel(e: &BssElements<'_>, heard_mhz: Option<u16>) -> Option<(Band, u16)> {
    if let Some(ch) = e.ds_channel.or(e.ht_op.map(|h| h.primary_channel)) {
        let ch = u16::from(ch);
        let heard = heard_mhz.and_then(Band::of_freq);
        return match heard {
            Some(b @ Band::Ghz6) if channel_to_freq(b, ch).is_some() => Some((b, ch)),
            Some(b @ Band::Ghz5) if ch > 14 && channel_to_freq(b, ch).is_some() => Some((b, ch)),
            _ if (1..=14).contains(&ch) => Some((Band::Ghz2_4, ch)),
            _ if channel_to_freq(Band::Ghz5, ch).is_some() => Some((Band::Ghz5, ch)),
            // A channel number valid in no band is still what the AP said; report it with
            // the band it was heard in, or 2.4 GHz when nothing is known.
            _ => Some((heard.unwrap_or(Band::Ghz2_4), ch)),
        };
    }
    let six = e.he_op.and_then(|h| h.six_ghz)?;
    Some((Band::Ghz6, u16::from(six.primary_channel)))
}

/// The BSS's operating channel width in MHz, from the widest operation element that
/// says: EHT, then HE 6 GHz information, then VHT (or the VHT information inside HE
/// Operation), then HT; 20 MHz when none does.
pub fn channel_width_mhz(e: &BssElements<'_>) -> u16 {
    if let Some(code) = e.eht_width_code {
        match code {
            0 => return 20,
            1 => return 40,
            2 => return 80,
            3 => return 160,
            4 => return 320,
            _ => {}
        }
    }
    if let Some(six) = e.he_op.and_then(|h| h.six_ghz) {
        return match six.channel_width_code() {
            0 => 20,
            1 => 40,
            2 => 80,
            _ => 160,
        };
    }
    let ht40 = e
        .ht_op
        .is_some_and(|h| h.sta_channel_width_any && matches!(h.secondary_offset, 1 | 3));
    if let Some(v) = e.vht_op.or(e.he_op.and_then(|h| h.vht)) {
        match v.channel_width {
            // Since 802.11-2016 a 160 MHz BSS says width 1 and puts the 160 MHz centre in
            // segment 1, 8 channels from the 80 MHz centre in segment 0 (80+80 is further).
            1 if v.center_seg1 != 0 => return 160,
            1 => return 80,
            2 | 3 => return 160,
            _ => {}
        }
    }
    if ht40 { 40 } else { 20 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ie::parse_bss;

    #[test]
    fn frequencies_and_channels() {
        let cases = [
            (2412, Band::Ghz2_4, 1),
            (2437, Band::Ghz2_4, 6),
            (2472, Band::Ghz2_4, 13),
            (2484, Band::Ghz2_4, 14),
            (4940, Band::Ghz5, 188),
            (5180, Band::Ghz5, 36),
            (5320, Band::Ghz5, 64),
            (5745, Band::Ghz5, 149),
            (5885, Band::Ghz5, 177),
            (5935, Band::Ghz6, 2),
            (5955, Band::Ghz6, 1),
            (6135, Band::Ghz6, 37),
            (7115, Band::Ghz6, 233),
            (58320, Band::Ghz60, 1),
            (64800, Band::Ghz60, 4),
        ];
        for (f, b, c) in cases {
            assert_eq!(freq_to_channel(f), Some((b, c)), "{f} MHz");
            assert_eq!(channel_to_freq(b, c), Some(f), "{b} ch {c}");
        }
        for f in [0, 2411, 2413, 2474, 5181, 5940, 7120, 60000] {
            assert_eq!(freq_to_channel(f), None, "{f} MHz");
        }
        assert_eq!(channel_to_freq(Band::Ghz2_4, 15), None);
        assert_eq!(channel_to_freq(Band::Ghz6, 234), None);
        assert_eq!(channel_to_freq(Band::Ghz60, 0), None);
    }

    #[test]
    fn advertised_channel_order_and_band() {
        let ds = [3, 1, 6];
        let mut ht = vec![61, 22, 11, 0];
        ht.extend_from_slice(&[0; 20]);
        // DS wins over HT.
        let both: Vec<u8> = ds.iter().chain(ht.iter()).copied().collect();
        assert_eq!(
            advertised_channel(&parse_bss(&both), None),
            Some((Band::Ghz2_4, 6))
        );
        // HT alone.
        assert_eq!(
            advertised_channel(&parse_bss(&ht), Some(2462)),
            Some((Band::Ghz2_4, 11))
        );
        // A low channel number heard in 6 GHz is a 6 GHz channel.
        assert_eq!(
            advertised_channel(&parse_bss(&ds), Some(6015)),
            Some((Band::Ghz6, 6))
        );
        assert_eq!(advertised_channel(&parse_bss(&[]), None), None);
    }

    #[test]
    fn widths() {
        let mut ht40 = vec![61, 22, 36, 0x05];
        ht40.extend_from_slice(&[0; 20]);
        assert_eq!(channel_width_mhz(&parse_bss(&ht40)), 40);
        let mut vht160 = ht40.clone();
        vht160.extend_from_slice(&[192, 5, 1, 42, 50, 0, 0]);
        assert_eq!(channel_width_mhz(&parse_bss(&vht160)), 160);
        let mut vht80 = ht40.clone();
        vht80.extend_from_slice(&[192, 5, 1, 42, 0, 0, 0]);
        assert_eq!(channel_width_mhz(&parse_bss(&vht80)), 80);
        // EHT Operation with its information present, width code 4: 320 MHz.
        let eht = [255, 9, 106, 0x01, 0, 0, 0, 0, 0x04, 31, 63];
        assert_eq!(channel_width_mhz(&parse_bss(&eht)), 320);
        assert_eq!(channel_width_mhz(&parse_bss(&[])), 20);
    }
}
