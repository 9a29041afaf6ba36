//! Fuzzes `frame::parse` on bare 802.11 frames, then the element walk, `ie::parse_bss`, and the channel and security helpers on what they return.

#![no_main]

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;
use piwardrive_dot11::channel::{self, Band};
use piwardrive_dot11::frame::{self, CapabilityInfo, DsMode, Frame, FrameKind, FrameType};
use piwardrive_dot11::ie::{self, BssElements, Elements, HeOperation, MAX_VENDOR_OUIS, Rsn};
use piwardrive_dot11::security::{self, EncClass, SecuritySummary};
use piwardrive_fuzz::{assert_suffix, range_in};

fuzz_target!(|data: &[u8]| {
    let plain = frame::parse(data);
    // `parse` is `parse_padded` without padding; both entry points must agree.
    assert_eq!(plain, frame::parse_padded(data, false));
    let padded = frame::parse_padded(data, true);
    if let Ok(f) = &plain {
        check_frame(data, f, false);
        // Padding only moves a data frame's body; every other kind parses the same way.
        if f.fc.frame_type() != FrameType::Data {
            assert_eq!(padded, plain, "data padding changed a non-data frame");
        }
    }
    if let Ok(f) = &padded {
        check_frame(data, f, true);
    }
});

/// Checks one parsed frame against its bytes, then everything derived from its elements.
fn check_frame(data: &[u8], f: &Frame<'_>, padded: bool) {
    assert_eq!(f.fc.raw(), u16::from_le_bytes([data[0], data[1]]));
    assert_eq!(f.duration, u16::from_le_bytes([data[2], data[3]]));
    assert_eq!(f.fc.version(), 0, "only protocol version 0 parses");
    assert_eq!(
        f.mgmt_header().is_some(),
        f.fc.frame_type() == FrameType::Management,
        "mgmt_header() must exist exactly for management frames"
    );
    // A management header is 24 bytes, plus 4 of HT Control when the Order bit is set.
    let mgmt_len = 24 + if f.fc.order() { 4 } else { 0 };
    if let Some(h) = f.mgmt_header() {
        assert_eq!(h.ht_control.is_some(), f.fc.order());
        assert_eq!(&h.receiver.octets()[..], &data[4..10]);
        assert_eq!(&h.transmitter.octets()[..], &data[10..16]);
        assert_eq!(&h.bssid.octets()[..], &data[16..22]);
    }
    // Where each kind's variable part must start, when it is at a fixed offset.
    let (tail, fixed_start): (&[u8], Option<usize>) = match &f.kind {
        FrameKind::Beacon(b) | FrameKind::ProbeResponse(b) => {
            assert!(f.as_beacon().is_some());
            (b.elements, Some(mgmt_len + 12))
        }
        FrameKind::ProbeRequest(p) => (p.elements, Some(mgmt_len)),
        FrameKind::AssocRequest(a) => (a.elements, Some(mgmt_len + 4)),
        FrameKind::ReassocRequest(a) => {
            assert!(a.current_ap.is_some());
            (a.elements, Some(mgmt_len + 10))
        }
        FrameKind::AssocResponse(a) | FrameKind::ReassocResponse(a) => {
            assert!(a.aid <= 0x3fff, "AID keeps only 14 bits");
            (a.elements, Some(mgmt_len + 6))
        }
        FrameKind::Authentication(a) => (a.rest, Some(mgmt_len + 6)),
        FrameKind::Deauthentication(_) | FrameKind::Disassociation(_) => {
            (&data[data.len()..], None)
        }
        FrameKind::Action(a) | FrameKind::ActionNoAck(a) => (a.body, Some(mgmt_len + 1)),
        FrameKind::ProtectedManagement(o) => {
            assert!(f.fc.protected());
            (o.body, Some(mgmt_len))
        }
        FrameKind::OtherManagement(o) => (o.body, Some(mgmt_len)),
        FrameKind::Data(d) => {
            check_data(d);
            // 24 bytes, addr4 in 4-address frames, QoS Control, then HT Control (+HTC);
            // with the radiotap data-pad flag the body starts at the next multiple of 4.
            let header: usize = 24
                + if d.addr4.is_some() { 6 } else { 0 }
                + if d.qos_control.is_some() { 2 } else { 0 }
                + if d.ht_control.is_some() { 4 } else { 0 };
            let expect = if padded {
                header.next_multiple_of(4)
            } else {
                header
            };
            (d.body, Some(expect))
        }
        FrameKind::Control(c) => {
            let _ = c.bssid();
            let len = if c.transmitter.is_some() { 16 } else { 10 };
            (c.rest, Some(len))
        }
        FrameKind::Extension(e) => {
            let _ = e.bssid();
            (e.body, Some(10))
        }
    };
    // An empty tail counts as starting at the end of the frame, which is where a parser
    // that consumed exactly the fixed fields leaves it.
    let start = assert_suffix(data, tail, "frame body");
    if let Some(expect) = fixed_start {
        assert_eq!(start, expect, "frame body starts at the wrong offset");
    }

    let (elements, caps) = match &f.kind {
        FrameKind::Beacon(b) | FrameKind::ProbeResponse(b) => (b.elements, b.capabilities),
        FrameKind::ProbeRequest(p) => (p.elements, CapabilityInfo(0)),
        FrameKind::AssocRequest(a) | FrameKind::ReassocRequest(a) => (a.elements, a.capabilities),
        FrameKind::AssocResponse(a) | FrameKind::ReassocResponse(a) => (a.elements, a.capabilities),
        _ => return,
    };
    let walk = walk_elements(elements);
    let bss = ie::parse_bss(elements);
    check_bss(elements, &walk, &bss);
    check_channel(&bss, f.duration);
    check_security(caps, &bss);
}

/// Data frames: the address decoding follows the ToDS/FromDS table.
fn check_data(d: &frame::Data<'_>) {
    let a = d.addrs();
    assert_eq!(a.mode, d.fc.ds_mode());
    assert_eq!(
        d.addr4.is_some(),
        a.mode == DsMode::Wds,
        "addr4 only in 4-address frames"
    );
    assert_eq!(d.qos_control.is_some(), d.is_qos());
    assert_eq!(d.tid().is_some(), d.is_qos());
    if d.ht_control.is_some() {
        assert!(
            d.is_qos() && d.fc.order(),
            "+HTC only on QoS data with Order set"
        );
    }
    match a.mode {
        DsMode::ToAp => assert_eq!((a.bssid, a.station), (Some(d.addr1), Some(d.addr2))),
        DsMode::FromAp => assert_eq!((a.bssid, a.station), (Some(d.addr2), Some(d.addr1))),
        DsMode::Ibss => assert_eq!((a.bssid, a.station), (Some(d.addr3), None)),
        DsMode::Wds => assert_eq!((a.bssid, a.station), (None, None)),
    }
}

/// What an independent walk of the element list found, to check `parse_bss` against.
struct Walk<'a> {
    elements: Vec<ie::Element<'a>>,
    damaged: bool,
}

/// Walks the list to its end, checking that elements are contiguous, lie inside the buffer,
/// and that the iterator stops for good after reporting damage.
fn walk_elements(buf: &[u8]) -> Walk<'_> {
    let mut it = Elements::new(buf);
    let mut out = Walk {
        elements: Vec::new(),
        damaged: false,
    };
    let mut at = 0usize;
    // Every element takes at least two bytes, so a list cannot hold more than this.
    let bound = buf.len() / 2 + 1;
    for item in it.by_ref() {
        assert!(
            out.elements.len() <= bound,
            "element iterator does not advance"
        );
        match item {
            Ok(e) => {
                let r = range_in(buf, e.data).expect("element data outside the list");
                if !e.data.is_empty() {
                    assert_eq!(r.start, at + 2, "elements are not contiguous");
                }
                assert_eq!(buf[at], e.id);
                assert_eq!(usize::from(buf[at + 1]), e.data.len());
                at += 2 + e.data.len();
                assert_eq!(
                    e.ext_id().is_some(),
                    e.id == ie::id::EXTENSION && !e.data.is_empty()
                );
                let ext = e.ext_data();
                if !ext.is_empty() {
                    assert_suffix(e.data, ext, "extension data");
                }
                out.elements.push(e);
            }
            Err(_) => {
                assert!(
                    at < buf.len(),
                    "damage reported after the whole list was read"
                );
                out.damaged = true;
                break;
            }
        }
    }
    assert!(
        it.next().is_none(),
        "element iterator resumed after it ended"
    );
    if !out.damaged {
        assert_eq!(at, buf.len(), "a clean walk must consume the whole list");
    }
    out
}

/// `parse_bss` against the independent walk: first-wins fields, damage, vendor OUIs.
fn check_bss(buf: &[u8], walk: &Walk<'_>, bss: &BssElements<'_>) {
    let first = |id: u8| walk.elements.iter().find(|e| e.id == id).map(|e| e.data);
    assert_eq!(
        bss.ssid,
        first(ie::id::SSID),
        "ssid is not the first SSID element"
    );
    assert_eq!(bss.rates, first(ie::id::SUPPORTED_RATES));
    assert_eq!(bss.ext_rates, first(ie::id::EXTENDED_SUPPORTED_RATES));
    assert_eq!(bss.mesh_id, first(ie::id::MESH_ID));
    assert_eq!(bss.ht_cap, first(ie::id::HT_CAPABILITIES).is_some());
    assert_eq!(bss.vht_cap, first(ie::id::VHT_CAPABILITIES).is_some());
    assert_eq!(bss.rsn.is_some(), first(ie::id::RSN).is_some());
    for s in [bss.ssid, bss.rates, bss.ext_rates, bss.mesh_id]
        .into_iter()
        .flatten()
    {
        assert!(range_in(buf, s).is_some(), "element slice outside the list");
    }
    if walk.damaged {
        assert!(bss.malformed, "a damaged list must be flagged malformed");
    }
    if bss.malformed && !walk.damaged {
        // The only other source of damage is a short HE Operation element.
        let he_op = walk
            .elements
            .iter()
            .any(|e| e.ext_id() == Some(ie::ext_id::HE_OPERATION));
        assert!(he_op, "malformed without damage or an HE Operation element");
    }
    let ouis = bss.vendor_ouis();
    assert!(ouis.len() <= MAX_VENDOR_OUIS);
    for (i, o) in ouis.iter().enumerate() {
        assert!(!ouis[..i].contains(o), "vendor OUI listed twice");
    }
    let mut distinct: Vec<[u8; 3]> = Vec::new();
    for e in &walk.elements {
        if e.id == ie::id::VENDOR_SPECIFIC && e.data.len() >= 3 {
            let o = [e.data[0], e.data[1], e.data[2]];
            if !distinct.contains(&o) {
                distinct.push(o);
            }
        }
    }
    assert_eq!(ouis, &distinct[..distinct.len().min(MAX_VENDOR_OUIS)]);
    assert_eq!(bss.vendor_ouis_overflow, distinct.len() > MAX_VENDOR_OUIS);
    for r in [bss.rsn, bss.wpa].into_iter().flatten() {
        check_rsn(&r);
    }
    if let Some(w) = bss.wps {
        for s in [w.device_name, w.manufacturer, w.model_name, w.model_number]
            .into_iter()
            .flatten()
        {
            assert!(range_in(buf, s).is_some(), "WPS attribute outside the list");
        }
    }
    if let Some(he) = bss.he_op {
        // Optional HE Operation parts exist only when their parameter bit announces them.
        let p = he.params;
        assert!(he.vht.is_none() || p & HeOperation::VHT_INFO_PRESENT != 0);
        assert!(he.max_cohosted_bssid.is_none() || p & HeOperation::COHOSTED_BSS != 0);
        assert!(he.six_ghz.is_none() || p & HeOperation::SIX_GHZ_INFO_PRESENT != 0);
    }
    let _ = bss.hidden();
    if let Some(m) = bss.max_rate_500k() {
        assert!(m > 0 && m < 127);
    }
}

/// Suites with the standard OUI are a subset of the any-OUI type lists.
fn check_rsn(r: &Rsn) {
    assert_eq!(r.pairwise & r.pairwise_types, r.pairwise);
    assert_eq!(r.akms & r.akm_types, r.akms);
    if r.capabilities.is_none() {
        // Without an RSN Capabilities field there are no PMF bits to report.
        assert!(!r.mfp_capable() && !r.mfp_required());
    }
}

/// Channel helpers: results name a real band, and channel/frequency conversions agree.
fn check_channel(bss: &BssElements<'_>, fuzz_freq: u16) {
    for heard in [None, Some(2437), Some(5180), Some(5955), Some(fuzz_freq)] {
        let Some((band, ch)) = channel::advertised_channel(bss, heard) else {
            assert!(bss.ds_channel.is_none() && bss.ht_op.is_none());
            continue;
        };
        if let Some(ds) = bss.ds_channel.or(bss.ht_op.map(|h| h.primary_channel)) {
            assert_eq!(ch, u16::from(ds), "advertised channel is not the element's");
        }
        if let Some(f) = channel::channel_to_freq(band, ch) {
            assert_eq!(
                channel::freq_to_channel(f),
                Some((band, ch)),
                "channel {ch} in {band} does not round-trip through {f} MHz"
            );
            assert_eq!(Band::of_freq(f), Some(band));
        }
    }
    if let Some((band, ch)) = channel::freq_to_channel(fuzz_freq) {
        assert_eq!(
            Band::of_freq(fuzz_freq),
            Some(band),
            "{fuzz_freq} MHz band mismatch"
        );
        assert!(ch > 0);
    }
    let w = channel::channel_width_mhz(bss);
    assert!(matches!(w, 20 | 40 | 80 | 160 | 320), "width {w} MHz");
}

/// Security helpers: the class is never empty, and OPEN/WEP exclude the others.
fn check_security(caps: CapabilityInfo, bss: &BssElements<'_>) {
    let s = SecuritySummary::from_frame(caps, bss);
    let class = s.enc_class();
    assert_eq!(class, security::classify(s.privacy, s.wpa, s.rsn_akms));
    assert_ne!(class.bits(), 0, "no security class");
    let basic = class.contains(EncClass::OPEN) || class.contains(EncClass::WEP);
    if basic {
        assert_eq!(
            class.bits().count_ones(),
            1,
            "OPEN/WEP combined with another class"
        );
    }
    assert_eq!(class.contains(EncClass::WEP), basic && s.privacy);
    let mut merged = s;
    merged.merge(&s);
    assert_eq!(
        merged, s,
        "merging a summary with itself must change nothing"
    );
    // The Display impls walk every suite bit; render them so they are exercised too.
    let mut out = String::new();
    let _ = write!(
        out,
        "{class} {} {} {}",
        s.wigle_auth_mode(),
        security::akm_list(s.rsn_akms),
        security::cipher_list(s.rsn_pairwise)
    );
    assert!(!out.is_empty());
}
