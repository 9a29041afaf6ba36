//! From captured records to tracker events: link header, FCS check, 802.11 parse, elements.
//!
//! This is the one place that knows both the decoder's types and the tracker's events, so the
//! tracker itself stays independent of frame formats. Frames are counted by fate: decoded,
//! dropped for a bad FCS (before anything else looks at them), malformed, or on a link type we
//! do not read.

use super::{Event, Heard};
use crate::model::{Band, TimeUs};
use piwardrive_dot11::capfile::Record;
use piwardrive_dot11::channel;
use piwardrive_dot11::frame::{self, DsMode, FrameKind};
use piwardrive_dot11::ie::{self, BssElements};
use piwardrive_dot11::link::{self, FcsStatus, LinkType, RadioInfo};

/// Per-source counters, shown in the ingest summary and the UI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Records seen.
    pub frames: u64,
    /// Records decoded into an 802.11 frame.
    pub decoded: u64,
    /// Dropped because the FCS was present and wrong.
    pub bad_fcs: u64,
    /// Dropped because a header could not be parsed (radiotap, 802.11).
    pub malformed: u64,
    /// Decoded, but the element list ran past the end of the frame or an RSN, WPA or WPS
    /// element was cut short; what came before the damage was used.
    pub damaged_elements: u64,
    /// Dropped because of a link type, or a header version within one (radiotap version 1,
    /// an AVS header under DLT 119), that the decoder does not read.
    pub unsupported: u64,
}

/// Why a record produced no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    BadFcs,
    Malformed,
    Unsupported,
}

/// Turns records into events, counting what it drops.
#[derive(Debug, Default)]
pub struct Decoder {
    stats: DecodeStats,
    /// Time of the last record that had one, for records that carry none (pcapng SPB).
    last_time: TimeUs,
}

impl Decoder {
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Decodes one record and passes the events it yields to `sink`.
    pub fn feed(&mut self, rec: &Record<'_>, sink: impl FnMut(Event<'_>)) {
        let time = match rec.ts_us {
            Some(t) => {
                self.last_time = t;
                t
            }
            None => self.last_time,
        };
        let _ = self.decode(rec.link, rec.data, time, sink);
    }

    fn count_damage(&mut self, e: &BssElements<'_>) {
        let cut = |r: Option<ie::Rsn>| r.is_some_and(|r| r.truncated);
        if e.malformed || cut(e.rsn) || cut(e.wpa) || e.wps.is_some_and(|w| w.truncated) {
            self.stats.damaged_elements += 1;
        }
    }

    /// Decodes one link-layer frame heard at `time`.
    pub fn decode(
        &mut self,
        dlt: u32,
        data: &[u8],
        time: TimeUs,
        mut sink: impl FnMut(Event<'_>),
    ) -> Result<(), Dropped> {
        self.stats.frames += 1;
        let Some(lt) = LinkType::from_dlt(dlt) else {
            self.stats.unsupported += 1;
            return Err(Dropped::Unsupported);
        };
        let cap = match link::decode_link(lt, data) {
            Ok(c) => c,
            Err(piwardrive_dot11::Error::Unsupported) => {
                self.stats.unsupported += 1;
                return Err(Dropped::Unsupported);
            }
            Err(_) => {
                self.stats.malformed += 1;
                return Err(Dropped::Malformed);
            }
        };
        // Architecture Invariant: a frame whose FCS is present and wrong is dropped before
        // anything looks at its contents; its bytes cannot be trusted.
        if cap.fcs == FcsStatus::Bad {
            self.stats.bad_fcs += 1;
            return Err(Dropped::BadFcs);
        }
        let Ok(f) = frame::parse_padded(cap.frame, cap.radio.data_pad) else {
            self.stats.malformed += 1;
            return Err(Dropped::Malformed);
        };
        self.stats.decoded += 1;
        let heard = heard(&cap.radio);
        let signal_dbm = cap.radio.signal_dbm;
        match f.kind {
            FrameKind::Beacon(b) | FrameKind::ProbeResponse(b) => {
                let elements = ie::parse_bss(b.elements);
                self.count_damage(&elements);
                sink(Event::BssAdvert {
                    time,
                    bssid: b.header.bssid,
                    probe_response: matches!(f.kind, FrameKind::ProbeResponse(_)),
                    signal_dbm,
                    heard,
                    privacy: b.capabilities.privacy(),
                    ibss: b.capabilities.ibss(),
                    elements: &elements,
                });
            }
            FrameKind::ProbeRequest(p) => {
                let elements = ie::parse_bss(p.elements);
                self.count_damage(&elements);
                sink(Event::ProbeRequest {
                    time,
                    client: p.header.transmitter,
                    ssid: elements.ssid,
                    signal_dbm,
                    heard,
                });
            }
            FrameKind::AssocRequest(a) | FrameKind::ReassocRequest(a) => sink(Event::Link {
                time,
                bssid: a.header.bssid,
                client: a.header.transmitter,
                from_ap: false,
                signal_dbm,
                heard,
                data: false,
            }),
            FrameKind::AssocResponse(a) | FrameKind::ReassocResponse(a) => sink(Event::Link {
                time,
                bssid: a.header.bssid,
                client: a.header.receiver,
                from_ap: true,
                signal_dbm,
                heard,
                data: false,
            }),
            FrameKind::Authentication(a) => {
                let h = a.header;
                let from_ap = h.transmitter == h.bssid;
                let client = if from_ap { h.receiver } else { h.transmitter };
                sink(Event::Link {
                    time,
                    bssid: h.bssid,
                    client,
                    from_ap,
                    signal_dbm,
                    heard,
                    data: false,
                });
            }
            FrameKind::Data(d) => {
                let a = d.addrs();
                if let (Some(bssid), Some(client), DsMode::ToAp | DsMode::FromAp) =
                    (a.bssid, a.station, a.mode)
                {
                    sink(Event::Link {
                        time,
                        bssid,
                        client,
                        from_ap: a.mode == DsMode::FromAp,
                        signal_dbm,
                        heard,
                        data: true,
                    });
                } else {
                    sink(Event::Other { time });
                }
            }
            _ => sink(Event::Other { time }),
        }
        Ok(())
    }
}

fn band_of(b: channel::Band) -> Band {
    match b {
        channel::Band::Ghz2_4 => Band::B2_4,
        channel::Band::Ghz5 => Band::B5,
        channel::Band::Ghz6 => Band::B6,
        channel::Band::Ghz60 => Band::B60,
    }
}

fn dot11_band(b: Band) -> channel::Band {
    match b {
        Band::B2_4 => channel::Band::Ghz2_4,
        Band::B5 => channel::Band::Ghz5,
        Band::B6 => channel::Band::Ghz6,
        Band::B60 => channel::Band::Ghz60,
    }
}

/// Where the radio header says the frame was heard.
fn heard(r: &RadioInfo) -> Heard {
    if let Some(f) = r.freq_mhz
        && let Some((band, ch)) = channel::freq_to_channel(f)
    {
        return Heard {
            band: Some(band_of(band)),
            channel: Some(ch),
            freq_mhz: Some(f),
        };
    }
    match r.channel {
        Some(ch) => {
            let band = band_for_channel(ch, None);
            Heard {
                band,
                channel: Some(ch),
                freq_mhz: band.and_then(|b| channel_freq(b, ch)),
            }
        }
        None => Heard::default(),
    }
}

/// The band of a channel number advertised in a DS Parameter Set or HT Operation element.
/// Those elements are not sent in 6 GHz, so a number alone decides between 2.4 and 5 GHz.
pub fn band_for_channel(ch: u16, heard: Option<Band>) -> Option<Band> {
    match ch {
        1..=14 => Some(Band::B2_4),
        32..=177 => Some(Band::B5),
        _ => heard,
    }
}

/// Centre frequency of a channel in a band.
pub fn channel_freq(band: Band, ch: u16) -> Option<u16> {
    channel::channel_to_freq(dot11_band(band), ch)
}

/// Channel width in MHz from the operation elements.
pub fn width_mhz(e: &BssElements<'_>) -> Option<u16> {
    let w = channel::channel_width_mhz(e);
    (w > 0).then_some(w)
}
