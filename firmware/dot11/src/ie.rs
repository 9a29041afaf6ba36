//! Information elements of management frames, and the per-frame summary of a BSS's elements.
//!
//! [`Elements`] walks the raw (id, length, data) list; [`parse_bss`] folds one frame's list into
//! a fixed-capacity [`BssElements`] in a single pass, without allocating. Every field that the
//! truth files take from tshark (SSID, DS channel, HT primary channel, HE 6 GHz primary channel,
//! RSN AKMs and pairwise ciphers, WPA presence) follows tshark's reading of the element, so the
//! decoder and the truth agree on odd and broken inputs too.

use crate::{Error, Result};

/// Element IDs used by this module (IEEE 802.11-2020 Table 9-92).
pub mod id {
    pub const SSID: u8 = 0;
    pub const SUPPORTED_RATES: u8 = 1;
    pub const DS_PARAMETER_SET: u8 = 3;
    pub const TIM: u8 = 5;
    pub const COUNTRY: u8 = 7;
    pub const HT_CAPABILITIES: u8 = 45;
    pub const RSN: u8 = 48;
    pub const EXTENDED_SUPPORTED_RATES: u8 = 50;
    pub const HT_OPERATION: u8 = 61;
    pub const MESH_ID: u8 = 114;
    pub const VHT_CAPABILITIES: u8 = 191;
    pub const VHT_OPERATION: u8 = 192;
    pub const VENDOR_SPECIFIC: u8 = 221;
    /// The element's real identity is the "element ID extension", the first data byte.
    pub const EXTENSION: u8 = 255;
}

/// Element ID extensions (the first data byte of element 255).
pub mod ext_id {
    pub const HE_CAPABILITIES: u8 = 35;
    pub const HE_OPERATION: u8 = 36;
    pub const EHT_OPERATION: u8 = 106;
    pub const EHT_CAPABILITIES: u8 = 108;
}

/// The IEEE 802.11 suite OUI (00-0F-AC) used by RSN ciphers and AKMs.
pub const OUI_IEEE80211: [u8; 3] = [0x00, 0x0f, 0xac];
/// Microsoft's OUI, under which WPA (type 1) and WPS (type 4) live.
pub const OUI_MICROSOFT: [u8; 3] = [0x00, 0x50, 0xf2];

/// One information element: its ID and its data (the length byte is implied by `data.len()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub id: u8,
    pub data: &'a [u8],
}

impl<'a> Element<'a> {
    /// The element ID extension when `id` is 255 and the element carries one.
    pub fn ext_id(&self) -> Option<u8> {
        if self.id == id::EXTENSION {
            self.data.first().copied()
        } else {
            None
        }
    }

    /// For an extension element, the data after the extension ID; otherwise all the data.
    pub fn ext_data(&self) -> &'a [u8] {
        if self.id == id::EXTENSION {
            self.data.get(1..).unwrap_or(&[])
        } else {
            self.data
        }
    }
}

/// Iterator over an element list. It yields `Err(Error::Truncated)` once for an element that
/// runs past the end of the buffer (or a lone trailing byte) and then stops, as smoltcp's
/// option iterators do, so a caller keeps everything read before the damage.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Elements<'a> {
    pub fn new(elements: &'a [u8]) -> Elements<'a> {
        Elements {
            rest: elements,
            done: false,
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<Element<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let (id, len) = match self.rest {
            [id, len, ..] => (*id, usize::from(*len)),
            _ => {
                self.done = true;
                return Some(Err(Error::Truncated));
            }
        };
        match self.rest.get(2..2 + len) {
            Some(data) => {
                self.rest = &self.rest[2 + len..];
                Some(Ok(Element { id, data }))
            }
            None => {
                self.done = true;
                Some(Err(Error::Truncated))
            }
        }
    }
}

/// HT Operation element (id 61), the fields that locate the BSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtOperation {
    pub primary_channel: u8,
    /// 0 = no secondary channel, 1 = above, 3 = below (2 is reserved).
    pub secondary_offset: u8,
    /// False: 20 MHz only; true: any width the capabilities allow (40 MHz with an offset).
    pub sta_channel_width_any: bool,
}

/// VHT Operation element (id 192): channel width code and centre frequency segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VhtOperation {
    /// 0 = 20/40 MHz (see HT), 1 = 80/160/80+80 MHz, 2 = 160 MHz (deprecated), 3 = 80+80 (deprecated).
    pub channel_width: u8,
    pub center_seg0: u8,
    pub center_seg1: u8,
}

/// The 6 GHz Operation Information of an HE Operation element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct He6GhzOperation {
    pub primary_channel: u8,
    /// The Control field: bits 0-1 channel width (0 = 20, 1 = 40, 2 = 80, 3 = 160 or 80+80 MHz),
    /// bit 2 duplicate beacon, bits 3-5 regulatory info.
    pub control: u8,
    pub center_seg0: u8,
    pub center_seg1: u8,
    pub min_rate: u8,
}

impl He6GhzOperation {
    pub fn channel_width_code(&self) -> u8 {
        self.control & 0x03
    }
}

/// HE Operation element (extension id 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeOperation {
    /// HE Operation Parameters, 24 bits little-endian.
    pub params: u32,
    pub bss_color_info: u8,
    /// The VHT Operation Information carried inside, when bit 14 of `params` is set.
    pub vht: Option<VhtOperation>,
    /// Max Co-Hosted BSSID Indicator, when bit 15 of `params` is set.
    pub max_cohosted_bssid: Option<u8>,
    /// 6 GHz Operation Information, when bit 17 of `params` is set.
    pub six_ghz: Option<He6GhzOperation>,
}

impl HeOperation {
    pub const VHT_INFO_PRESENT: u32 = 1 << 14;
    pub const COHOSTED_BSS: u32 = 1 << 15;
    pub const SIX_GHZ_INFO_PRESENT: u32 = 1 << 17;

    /// Parses the element data after the extension ID. Optional parts that the parameters
    /// announce but the element does not hold are left out and reported as `Truncated`
    /// alongside what could be read.
    pub fn parse(d: &[u8]) -> core::result::Result<HeOperation, Option<HeOperation>> {
        if d.len() < 6 {
            return Err(None);
        }
        let params = u32::from(d[0]) | u32::from(d[1]) << 8 | u32::from(d[2]) << 16;
        let mut op = HeOperation {
            params,
            bss_color_info: d[3],
            vht: None,
            max_cohosted_bssid: None,
            six_ghz: None,
        };
        // The Basic HE-MCS and NSS Set occupies bytes 4..6; the optional parts follow in
        // the order VHT info, co-hosted BSSID indicator, 6 GHz info.
        let mut at = 6;
        if params & Self::VHT_INFO_PRESENT != 0 {
            match d.get(at..at + 3) {
                Some(v) => {
                    op.vht = Some(VhtOperation {
                        channel_width: v[0],
                        center_seg0: v[1],
                        center_seg1: v[2],
                    })
                }
                None => return Err(Some(op)),
            }
            at += 3;
        }
        if params & Self::COHOSTED_BSS != 0 {
            match d.get(at) {
                Some(v) => op.max_cohosted_bssid = Some(*v),
                None => return Err(Some(op)),
            }
            at += 1;
        }
        if params & Self::SIX_GHZ_INFO_PRESENT != 0 {
            match d.get(at..at + 5) {
                Some(v) => {
                    op.six_ghz = Some(He6GhzOperation {
                        primary_channel: v[0],
                        control: v[1],
                        center_seg0: v[2],
                        center_seg1: v[3],
                        min_rate: v[4],
                    })
                }
                None => return Err(Some(op)),
            }
        }
        Ok(op)
    }
}

/// RSN element (id 48), or the same fields read from a WPA vendor element.
///
/// Suites are kept two ways. `pairwise` and `akms` are bitsets over the suite type (bit n =
/// type n, n < 32) of suites with the standard OUI only; other suites set `other_*`. The
/// `*_types` bitsets instead hold the type byte of every suite whatever its OUI, because that
/// is what tshark's `wlan.rsn.akms.type` / `wlan.rsn.pcs.type` fields list and so what the
/// truth files classify from; a type of 32 or more is folded into bit 0 there (type 0 is
/// reserved, and any unlisted type classifies the same way).
///
/// Fields after a damaged point stay at their defaults and `truncated` is set: nothing read
/// before the damage is thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rsn {
    pub version: u16,
    /// The group data cipher suite (OUI and type), when the element holds one.
    pub group_suite: Option<[u8; 4]>,
    pub pairwise: u32,
    pub other_pairwise: bool,
    pub akms: u32,
    pub other_akms: bool,
    /// Pairwise cipher types regardless of OUI (tshark's view).
    pub pairwise_types: u32,
    /// AKM types regardless of OUI (tshark's view).
    pub akm_types: u32,
    /// RSN Capabilities, when present.
    pub capabilities: Option<u16>,
    /// The element ended inside a field, or a count promised more suites than it holds.
    pub truncated: bool,
}

impl Rsn {
    /// Group cipher type when its OUI is the standard one for this element (00-0F-AC for
    /// RSN, 00-50-F2 for WPA).
    pub fn group_cipher(&self, suite_oui: [u8; 3]) -> Option<u8> {
        self.group_suite
            .filter(|s| s[..3] == suite_oui)
            .map(|s| s[3])
    }

    /// Management frame protection capable (RSN capabilities bit 7).
    pub fn mfp_capable(&self) -> bool {
        self.capabilities.is_some_and(|c| c & 0x0080 != 0)
    }

    /// Management frame protection required (RSN capabilities bit 6).
    pub fn mfp_required(&self) -> bool {
        self.capabilities.is_some_and(|c| c & 0x0040 != 0)
    }

    /// Folds another element's suites into this one (a frame with two RSN elements lists
    /// both elements' suites in tshark's fields).
    pub fn union_suites(&mut self, o: &Rsn) {
        self.pairwise |= o.pairwise;
        self.akms |= o.akms;
        self.other_pairwise |= o.other_pairwise;
        self.other_akms |= o.other_akms;
        self.pairwise_types |= o.pairwise_types;
        self.akm_types |= o.akm_types;
    }

    /// Parses an RSN element's data, or a WPA element's data after its OUI and type (the
    /// layouts agree up to the capabilities field; `suite_oui` is 00-0F-AC for RSN and
    /// 00-50-F2 for WPA).
    ///
    /// Like tshark, a suite count that promises more suites than the element holds adds no
    /// suites from that list; unlike tshark, parsing stops there instead of reading the next
    /// count from the middle of the list.
    pub fn parse(d: &[u8], suite_oui: [u8; 3]) -> Rsn {
        let mut r = Rsn::default();
        let mut p = Reader(d);
        match p.u16_le() {
            Some(v) => r.version = v,
            None => {
                r.truncated = !d.is_empty();
                return r;
            }
        }
        if p.is_empty() {
            return r;
        }
        match p.take(4) {
            Some(s) => r.group_suite = Some([s[0], s[1], s[2], s[3]]),
            None => {
                r.truncated = true;
                return r;
            }
        }
        let lists: [(&mut u32, &mut u32, &mut bool); 2] = [
            (
                &mut r.pairwise,
                &mut r.pairwise_types,
                &mut r.other_pairwise,
            ),
            (&mut r.akms, &mut r.akm_types, &mut r.other_akms),
        ];
        let mut truncated = false;
        for (bits, any_oui, other) in lists {
            if p.is_empty() {
                break;
            }
            let Some(count) = p.u16_le() else {
                truncated = true;
                break;
            };
            let Some(list) = p.take(usize::from(count) * 4) else {
                truncated = true;
                break;
            };
            for s in list.chunks_exact(4) {
                let t = s[3];
                *any_oui |= if t < 32 { 1 << t } else { 1 };
                if s[..3] == suite_oui && t < 32 {
                    *bits |= 1 << t;
                } else {
                    *other = true;
                }
            }
        }
        r.truncated = truncated;
        if truncated || p.is_empty() {
            return r;
        }
        match p.u16_le() {
            Some(c) => r.capabilities = Some(c),
            None => r.truncated = true,
        }
        r
    }
}

/// Wi-Fi Protected Setup attributes from a WPS vendor element (00-50-F2 type 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wps<'a> {
    /// Version attribute (0x104A), e.g. 0x10.
    pub version: Option<u8>,
    /// Wi-Fi Protected Setup State (0x1044): 1 = not configured, 2 = configured.
    pub state: Option<u8>,
    /// AP Setup Locked (0x1057). Some parsers mistake this attribute for the state.
    pub ap_setup_locked: Option<bool>,
    /// Device Name (0x1011), raw bytes.
    pub device_name: Option<&'a [u8]>,
    /// Manufacturer (0x1021).
    pub manufacturer: Option<&'a [u8]>,
    /// Model Name (0x1023).
    pub model_name: Option<&'a [u8]>,
    /// Model Number (0x1024).
    pub model_number: Option<&'a [u8]>,
    /// An attribute ran past the end of the element.
    pub truncated: bool,
}

impl<'a> Wps<'a> {
    /// Parses the WPS attributes (big-endian 16-bit type and length, then the value) that
    /// follow the OUI and type of the vendor element.
    pub fn parse(mut d: &'a [u8]) -> Wps<'a> {
        let mut w = Wps::default();
        while !d.is_empty() {
            let Some(hdr) = d.get(..4) else {
                w.truncated = true;
                break;
            };
            let ty = u16::from_be_bytes([hdr[0], hdr[1]]);
            let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
            let Some(v) = d.get(4..4 + len) else {
                w.truncated = true;
                break;
            };
            d = &d[4 + len..];
            match ty {
                0x104a => w.version = v.first().copied(),
                0x1044 => w.state = v.first().copied(),
                0x1057 => w.ap_setup_locked = v.first().map(|b| *b != 0),
                0x1011 => w.device_name = Some(v),
                0x1021 => w.manufacturer = Some(v),
                0x1023 => w.model_name = Some(v),
                0x1024 => w.model_number = Some(v),
                _ => {}
            }
        }
        w
    }

    /// True when the WPS state says the AP is configured.
    pub fn configured(&self) -> bool {
        self.state == Some(2)
    }
}

/// How many distinct vendor OUIs [`BssElements`] remembers.
pub const MAX_VENDOR_OUIS: usize = 8;

/// One frame's elements, summarised for the tracker: fixed capacity, borrowed slices, no heap.
///
/// When the list is damaged, everything before the damage is kept and `malformed` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BssElements<'a> {
    /// The first SSID element's raw bytes (may be empty or NUL-filled for a hidden network).
    pub ssid: Option<&'a [u8]>,
    pub rates: Option<&'a [u8]>,
    pub ext_rates: Option<&'a [u8]>,
    /// DS Parameter Set current channel (only from an element of length 1, as tshark reads it).
    pub ds_channel: Option<u8>,
    pub country: Option<[u8; 3]>,
    pub ht_cap: bool,
    pub ht_op: Option<HtOperation>,
    pub vht_cap: bool,
    pub vht_op: Option<VhtOperation>,
    pub he_cap: bool,
    pub he_op: Option<HeOperation>,
    pub eht_cap: bool,
    pub eht_op: bool,
    /// EHT Operation Information channel width (0 = 20, 1 = 40, 2 = 80, 3 = 160, 4 = 320 MHz),
    /// when the EHT Operation element carries that part.
    pub eht_width_code: Option<u8>,
    /// RSN from the first RSN element; AKM and pairwise bitsets are the union over all RSN
    /// elements of the frame, as tshark's field lists are.
    pub rsn: Option<Rsn>,
    /// WPA (00-50-F2 type 1) element with at least its version field.
    pub wpa: Option<Rsn>,
    pub wps: Option<Wps<'a>>,
    pub mesh_id: Option<&'a [u8]>,
    vendor_ouis: [[u8; 3]; MAX_VENDOR_OUIS],
    n_vendor_ouis: u8,
    /// More distinct vendor OUIs were present than fit.
    pub vendor_ouis_overflow: bool,
    /// The element list ran past the end of the frame (everything before it is kept).
    pub malformed: bool,
}

impl<'a> BssElements<'a> {
    /// Hidden network: the SSID element is zero-length or all NUL bytes (no SSID element at
    /// all is not hidden; the truth files count that separately).
    pub fn hidden(&self) -> bool {
        self.ssid.is_some_and(|s| s.iter().all(|b| *b == 0))
    }

    /// The distinct OUIs of vendor-specific elements, in order of first appearance.
    pub fn vendor_ouis(&self) -> &[[u8; 3]] {
        &self.vendor_ouis[..usize::from(self.n_vendor_ouis)]
    }

    /// Highest basic or extended rate, in units of 500 kbit/s, ignoring the basic-rate bit
    /// and the BSS membership selectors (values 127 and above).
    pub fn max_rate_500k(&self) -> Option<u8> {
        let a = self.rates.unwrap_or(&[]);
        let b = self.ext_rates.unwrap_or(&[]);
        a.iter()
            .chain(b)
            .map(|r| r & 0x7f)
            .filter(|r| *r != 0 && *r < 127)
            .max()
    }

    fn add_vendor_oui(&mut self, oui: [u8; 3]) {
        let n = usize::from(self.n_vendor_ouis);
        if self.vendor_ouis[..n].contains(&oui) {
            return;
        }
        if n < MAX_VENDOR_OUIS {
            self.vendor_ouis[n] = oui;
            self.n_vendor_ouis += 1;
        } else {
            self.vendor_ouis_overflow = true;
        }
    }

    fn take(&mut self, e: Element<'a>) {
        let d = e.data;
        match e.id {
            id::SSID if self.ssid.is_none() => self.ssid = Some(d),
            id::SUPPORTED_RATES => {
                self.rates.get_or_insert(d);
            }
            id::EXTENDED_SUPPORTED_RATES => {
                self.ext_rates.get_or_insert(d);
            }
            // tshark only reads the channel from an element of exactly one byte.
            id::DS_PARAMETER_SET if self.ds_channel.is_none() && d.len() == 1 => {
                self.ds_channel = Some(d[0]);
            }
            id::COUNTRY if self.country.is_none() && d.len() >= 3 => {
                self.country = Some([d[0], d[1], d[2]]);
            }
            id::HT_CAPABILITIES => self.ht_cap = true,
            // tshark rejects HT Operation elements shorter than 22 bytes outright, so the
            // primary channel of such an element never reaches the truth files.
            id::HT_OPERATION if self.ht_op.is_none() && d.len() >= 22 => {
                self.ht_op = Some(HtOperation {
                    primary_channel: d[0],
                    secondary_offset: d[1] & 0x03,
                    sta_channel_width_any: d[1] & 0x04 != 0,
                });
            }
            id::VHT_CAPABILITIES => self.vht_cap = true,
            id::VHT_OPERATION if self.vht_op.is_none() && d.len() >= 3 => {
                self.vht_op = Some(VhtOperation {
                    channel_width: d[0],
                    center_seg0: d[1],
                    center_seg1: d[2],
                });
            }
            id::RSN => {
                let r = Rsn::parse(d, OUI_IEEE80211);
                match &mut self.rsn {
                    None => self.rsn = Some(r),
                    Some(first) => first.union_suites(&r),
                }
            }
            id::MESH_ID => {
                self.mesh_id.get_or_insert(d);
            }
            id::VENDOR_SPECIFIC => {
                let Some(h) = d.get(..3) else {
                    return;
                };
                let oui = [h[0], h[1], h[2]];
                self.add_vendor_oui(oui);
                if oui != OUI_MICROSOFT {
                    return;
                }
                match d.get(3) {
                    // tshark reports a WPA element only once it has read its version.
                    Some(1) if d.len() >= 6 => {
                        let w = Rsn::parse(&d[4..], OUI_MICROSOFT);
                        match &mut self.wpa {
                            None => self.wpa = Some(w),
                            Some(first) => first.union_suites(&w),
                        }
                    }
                    Some(4) if self.wps.is_none() => self.wps = Some(Wps::parse(&d[4..])),
                    _ => {}
                }
            }
            id::EXTENSION => match d.first() {
                Some(&ext_id::HE_CAPABILITIES) => self.he_cap = true,
                Some(&ext_id::HE_OPERATION) if self.he_op.is_none() => {
                    match HeOperation::parse(&d[1..]) {
                        Ok(op) => self.he_op = Some(op),
                        Err(partial) => {
                            self.he_op = partial;
                            self.malformed = true;
                        }
                    }
                }
                Some(&ext_id::EHT_CAPABILITIES) => self.eht_cap = true,
                Some(&ext_id::EHT_OPERATION) => {
                    self.eht_op = true;
                    // Data after the extension ID: EHT Operation Parameters (bit 0 says the
                    // operation information is present), the 4-byte Basic EHT-MCS And Nss
                    // Set, then the information whose first byte's low 3 bits are the width.
                    if let (Some(p), Some(c)) = (d.get(1), d.get(6))
                        && p & 0x01 != 0
                    {
                        self.eht_width_code.get_or_insert(c & 0x07);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}

/// Summarises one frame's element list in a single pass. Never fails: damage sets
/// `malformed` and keeps what came before it.
pub fn parse_bss(elements: &[u8]) -> BssElements<'_> {
    let mut out = BssElements::default();
    for e in Elements::new(elements) {
        match e {
            Ok(e) => out.take(e),
            Err(_) => {
                out.malformed = true;
                break;
            }
        }
    }
    out
}

/// A tiny cursor over a byte slice; every read checks the length.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }

    fn u16_le(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
}
