//! 802.11 MAC headers and frame bodies for every frame type.
//!
//! [`parse`] takes one 802.11 frame without its FCS (the link layer strips it) and returns a
//! [`Frame`]: the frame control field, the duration and a [`FrameKind`] holding the parsed
//! header and fixed fields of that kind of frame, with element lists and payloads left as
//! borrowed slices. Lengths are checked once per frame; after that no accessor can fail or
//! panic. Codes this decoder does not name survive as numbers (`Unknown(n)` or a raw subtype).

use crate::{Error, MacAddr, Result};

/// The two-bit frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    Management,
    Control,
    Data,
    /// Type 3, used by 802.11ad (DMG beacon) and 802.11ah (S1G).
    Extension,
}

/// How the ToDS and FromDS bits place a data frame relative to the distribution system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DsMode {
    /// ToDS=0, FromDS=0: IBSS, or station to station inside a BSS (TDLS, mesh peering).
    Ibss,
    /// ToDS=1, FromDS=0: a client sending to its AP.
    ToAp,
    /// ToDS=0, FromDS=1: an AP sending to a client.
    FromAp,
    /// ToDS=1, FromDS=1: four-address frame between APs or mesh nodes.
    Wds,
}

/// The frame control field, kept raw (as read little-endian) with accessors for each part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameControl(pub u16);

impl FrameControl {
    pub fn from_bytes(b: [u8; 2]) -> FrameControl {
        FrameControl(u16::from_le_bytes(b))
    }

    pub fn raw(&self) -> u16 {
        self.0
    }

    pub fn version(&self) -> u8 {
        (self.0 & 0x03) as u8
    }

    pub fn frame_type(&self) -> FrameType {
        match (self.0 >> 2) & 0x03 {
            0 => FrameType::Management,
            1 => FrameType::Control,
            2 => FrameType::Data,
            _ => FrameType::Extension,
        }
    }

    pub fn subtype(&self) -> u8 {
        ((self.0 >> 4) & 0x0f) as u8
    }

    /// Type and subtype as tshark's `wlan.fc.type_subtype` numbers them (type * 16 + subtype).
    pub fn type_subtype(&self) -> u8 {
        (((self.0 >> 2) & 0x03) as u8) << 4 | self.subtype()
    }

    pub fn to_ds(&self) -> bool {
        self.0 & 0x0100 != 0
    }

    pub fn from_ds(&self) -> bool {
        self.0 & 0x0200 != 0
    }

    pub fn more_frag(&self) -> bool {
        self.0 & 0x0400 != 0
    }

    pub fn retry(&self) -> bool {
        self.0 & 0x0800 != 0
    }

    pub fn pwr_mgmt(&self) -> bool {
        self.0 & 0x1000 != 0
    }

    pub fn more_data(&self) -> bool {
        self.0 & 0x2000 != 0
    }

    /// The body is encrypted (WEP, TKIP, CCMP, GCMP) or, for management frames, protected
    /// by management frame protection.
    pub fn protected(&self) -> bool {
        self.0 & 0x4000 != 0
    }

    /// The Order bit, which on QoS data and management frames means "+HTC": a 4-byte HT
    /// Control field follows the header.
    pub fn order(&self) -> bool {
        self.0 & 0x8000 != 0
    }

    pub fn ds_mode(&self) -> DsMode {
        match (self.to_ds(), self.from_ds()) {
            (false, false) => DsMode::Ibss,
            (true, false) => DsMode::ToAp,
            (false, true) => DsMode::FromAp,
            (true, true) => DsMode::Wds,
        }
    }
}

/// The Capability Information field of beacons, probe responses and association frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapabilityInfo(pub u16);

impl CapabilityInfo {
    pub fn ess(&self) -> bool {
        self.0 & 0x0001 != 0
    }
    pub fn ibss(&self) -> bool {
        self.0 & 0x0002 != 0
    }
    /// The "Privacy" bit: the BSS requires encryption (alone, it means WEP).
    pub fn privacy(&self) -> bool {
        self.0 & 0x0010 != 0
    }
    pub fn short_preamble(&self) -> bool {
        self.0 & 0x0020 != 0
    }
    pub fn spectrum_mgmt(&self) -> bool {
        self.0 & 0x0100 != 0
    }
    pub fn qos(&self) -> bool {
        self.0 & 0x0200 != 0
    }
    pub fn short_slot_time(&self) -> bool {
        self.0 & 0x0400 != 0
    }
    pub fn radio_measurement(&self) -> bool {
        self.0 & 0x1000 != 0
    }
}

/// The three-address header shared by all management frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtHeader {
    /// Address 1: receiver, which is also the destination.
    pub receiver: MacAddr,
    /// Address 2: transmitter, which is also the source.
    pub transmitter: MacAddr,
    /// Address 3: the BSSID.
    pub bssid: MacAddr,
    pub seq_ctrl: u16,
    /// HT Control field, present when the Order bit is set.
    pub ht_control: Option<u32>,
}

impl MgmtHeader {
    pub fn destination(&self) -> MacAddr {
        self.receiver
    }
    pub fn source(&self) -> MacAddr {
        self.transmitter
    }
    pub fn sequence_number(&self) -> u16 {
        self.seq_ctrl >> 4
    }
    pub fn fragment_number(&self) -> u8 {
        (self.seq_ctrl & 0x0f) as u8
    }
}

/// Beacon or probe response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beacon<'a> {
    pub header: MgmtHeader,
    pub timestamp: u64,
    /// In time units of 1024 µs.
    pub beacon_interval: u16,
    pub capabilities: CapabilityInfo,
    /// The raw element list (see [`crate::ie`]).
    pub elements: &'a [u8],
}

impl Beacon<'_> {
    pub fn bssid(&self) -> MacAddr {
        self.header.bssid
    }
    pub fn source(&self) -> MacAddr {
        self.header.transmitter
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeRequest<'a> {
    pub header: MgmtHeader,
    pub elements: &'a [u8],
}

impl ProbeRequest<'_> {
    /// The probing client.
    pub fn transmitter(&self) -> MacAddr {
        self.header.transmitter
    }
    /// Broadcast for a wildcard probe, or one AP's address.
    pub fn destination(&self) -> MacAddr {
        self.header.receiver
    }
    pub fn bssid(&self) -> MacAddr {
        self.header.bssid
    }
}

/// Association or reassociation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssocRequest<'a> {
    pub header: MgmtHeader,
    pub capabilities: CapabilityInfo,
    pub listen_interval: u16,
    /// Reassociation only: the AP the station is leaving.
    pub current_ap: Option<MacAddr>,
    pub elements: &'a [u8],
}

impl AssocRequest<'_> {
    pub fn station(&self) -> MacAddr {
        self.header.transmitter
    }
    pub fn bssid(&self) -> MacAddr {
        self.header.bssid
    }
}

/// Association or reassociation response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssocResponse<'a> {
    pub header: MgmtHeader,
    pub capabilities: CapabilityInfo,
    pub status: u16,
    /// Association ID with its two top bits cleared.
    pub aid: u16,
    pub elements: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authentication<'a> {
    pub header: MgmtHeader,
    /// 0 open system, 1 shared key, 2 fast BSS transition, 3 SAE, ...
    pub algorithm: u16,
    pub seq: u16,
    pub status: u16,
    /// What follows the fixed fields (challenge text, SAE commit, elements).
    pub rest: &'a [u8],
}

/// Deauthentication or disassociation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonFrame {
    pub header: MgmtHeader,
    pub reason: u16,
}

/// Action or action-no-ack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action<'a> {
    pub header: MgmtHeader,
    pub category: u8,
    /// The body after the category byte.
    pub body: &'a [u8],
}

/// A management frame whose body is not decoded: unknown subtypes, ATIM, timing
/// advertisements, and every management frame with the Protected bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherMgmt<'a> {
    pub subtype: u8,
    pub header: MgmtHeader,
    pub body: &'a [u8],
}

/// Where a data frame's addresses point, decoded from ToDS/FromDS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataAddrs {
    pub mode: DsMode,
    /// The AP's BSSID; `None` for WDS, where no single BSS is named.
    pub bssid: Option<MacAddr>,
    /// The client (non-AP station) of an infrastructure frame; `None` for IBSS and WDS.
    /// It may be a group address for frames from an AP; callers that count clients skip those.
    pub station: Option<MacAddr>,
    pub source: MacAddr,
    pub destination: MacAddr,
}

impl DataAddrs {
    /// Decodes the addresses per IEEE 802.11 Table 9-26: ToDS=1/FromDS=0 gives addr1 =
    /// BSSID, addr2 = client; ToDS=0/FromDS=1 gives addr2 = BSSID, addr1 = client; 0/0 is
    /// IBSS (addr3 = BSSID, no AP/client split); 1/1 is WDS (no BSSID, no client).
    pub fn decode(
        mode: DsMode,
        a1: MacAddr,
        a2: MacAddr,
        a3: MacAddr,
        a4: Option<MacAddr>,
    ) -> DataAddrs {
        match mode {
            DsMode::Ibss => DataAddrs {
                mode,
                bssid: Some(a3),
                station: None,
                source: a2,
                destination: a1,
            },
            DsMode::ToAp => DataAddrs {
                mode,
                bssid: Some(a1),
                station: Some(a2),
                source: a2,
                destination: a3,
            },
            DsMode::FromAp => DataAddrs {
                mode,
                bssid: Some(a2),
                station: Some(a1),
                source: a3,
                destination: a1,
            },
            DsMode::Wds => DataAddrs {
                mode,
                bssid: None,
                station: None,
                source: a4.unwrap_or(a2),
                destination: a3,
            },
        }
    }
}

/// Any data frame, QoS or not, with or without payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    pub fc: FrameControl,
    pub addr1: MacAddr,
    pub addr2: MacAddr,
    pub addr3: MacAddr,
    /// Present in four-address (ToDS=1, FromDS=1) frames.
    pub addr4: Option<MacAddr>,
    pub seq_ctrl: u16,
    /// QoS Control, present for QoS subtypes (8-15).
    pub qos_control: Option<u16>,
    /// HT Control, present for QoS subtypes with the Order bit set (+HTC).
    pub ht_control: Option<u32>,
    /// The payload after the MAC header (encrypted when `protected()`).
    pub body: &'a [u8],
}

impl Data<'_> {
    pub fn subtype(&self) -> u8 {
        self.fc.subtype()
    }
    pub fn is_qos(&self) -> bool {
        self.subtype() & 0x08 != 0
    }
    /// Null-function subtypes (bit 2 of the subtype) carry no payload: power-save signalling.
    pub fn is_null(&self) -> bool {
        self.subtype() & 0x04 != 0
    }
    pub fn protected(&self) -> bool {
        self.fc.protected()
    }
    pub fn tid(&self) -> Option<u8> {
        self.qos_control.map(|q| (q & 0x0f) as u8)
    }
    pub fn receiver(&self) -> MacAddr {
        self.addr1
    }
    pub fn transmitter(&self) -> MacAddr {
        self.addr2
    }
    pub fn addrs(&self) -> DataAddrs {
        DataAddrs::decode(
            self.fc.ds_mode(),
            self.addr1,
            self.addr2,
            self.addr3,
            self.addr4,
        )
    }
    pub fn bssid(&self) -> Option<MacAddr> {
        self.addrs().bssid
    }
    pub fn station(&self) -> Option<MacAddr> {
        self.addrs().station
    }
}

/// Control frame subtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlSubtype {
    Trigger,
    Tack,
    BeamformingReportPoll,
    NdpAnnouncement,
    ControlFrameExtension,
    ControlWrapper,
    BlockAckReq,
    BlockAck,
    PsPoll,
    Rts,
    Cts,
    Ack,
    CfEnd,
    CfEndCfAck,
    Unknown(u8),
}

impl ControlSubtype {
    pub fn from_subtype(s: u8) -> ControlSubtype {
        match s {
            2 => Self::Trigger,
            3 => Self::Tack,
            4 => Self::BeamformingReportPoll,
            5 => Self::NdpAnnouncement,
            6 => Self::ControlFrameExtension,
            7 => Self::ControlWrapper,
            8 => Self::BlockAckReq,
            9 => Self::BlockAck,
            10 => Self::PsPoll,
            11 => Self::Rts,
            12 => Self::Cts,
            13 => Self::Ack,
            14 => Self::CfEnd,
            15 => Self::CfEndCfAck,
            n => Self::Unknown(n),
        }
    }

    /// Whether the frame carries a transmitter address in address 2.
    fn has_transmitter(&self) -> bool {
        matches!(
            self,
            Self::Trigger
                | Self::Tack
                | Self::BeamformingReportPoll
                | Self::NdpAnnouncement
                | Self::BlockAckReq
                | Self::BlockAck
                | Self::PsPoll
                | Self::Rts
                | Self::CfEnd
                | Self::CfEndCfAck
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control<'a> {
    pub subtype: ControlSubtype,
    /// Address 1 (for PS-Poll it is the BSSID; for CF-End the BSSID is address 2).
    pub receiver: MacAddr,
    pub transmitter: Option<MacAddr>,
    /// Whatever follows the addresses (BlockAck control and bitmap, carried frame, ...).
    pub rest: &'a [u8],
}

impl Control<'_> {
    /// The BSSID a control frame names: address 1 of a PS-Poll, address 2 of a CF-End.
    pub fn bssid(&self) -> Option<MacAddr> {
        match self.subtype {
            ControlSubtype::PsPoll => Some(self.receiver),
            ControlSubtype::CfEnd | ControlSubtype::CfEndCfAck => self.transmitter,
            _ => None,
        }
    }
}

/// A type-3 (extension) frame. Only the header is decoded; the body is left raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// 0 = DMG beacon, 1 = S1G beacon.
    pub subtype: u8,
    /// Address 1: the BSSID for a DMG beacon, the source for an S1G beacon.
    pub addr1: MacAddr,
    pub body: &'a [u8],
}

impl Extension<'_> {
    /// The BSSID of a DMG beacon (address 1). tshark names it so too, but the truth files
    /// count no BSS from DMG beacons, whose body this decoder does not read.
    pub fn bssid(&self) -> Option<MacAddr> {
        (self.subtype == 0).then_some(self.addr1)
    }
}

/// What kind of frame it is, with its parsed header and fixed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind<'a> {
    Beacon(Beacon<'a>),
    ProbeResponse(Beacon<'a>),
    ProbeRequest(ProbeRequest<'a>),
    AssocRequest(AssocRequest<'a>),
    ReassocRequest(AssocRequest<'a>),
    AssocResponse(AssocResponse<'a>),
    ReassocResponse(AssocResponse<'a>),
    Authentication(Authentication<'a>),
    Deauthentication(ReasonFrame),
    Disassociation(ReasonFrame),
    Action(Action<'a>),
    ActionNoAck(Action<'a>),
    /// A management frame with the Protected bit set: its body is encrypted.
    ProtectedManagement(OtherMgmt<'a>),
    OtherManagement(OtherMgmt<'a>),
    Data(Data<'a>),
    Control(Control<'a>),
    Extension(Extension<'a>),
}

/// One parsed 802.11 frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub fc: FrameControl,
    /// Duration/ID (for PS-Poll, the AID).
    pub duration: u16,
    pub kind: FrameKind<'a>,
}

impl<'a> Frame<'a> {
    /// The beacon or probe response fields, when this is one.
    pub fn as_beacon(&self) -> Option<&Beacon<'a>> {
        match &self.kind {
            FrameKind::Beacon(b) | FrameKind::ProbeResponse(b) => Some(b),
            _ => None,
        }
    }

    /// The management header, for every management frame.
    pub fn mgmt_header(&self) -> Option<&MgmtHeader> {
        Some(match &self.kind {
            FrameKind::Beacon(b) | FrameKind::ProbeResponse(b) => &b.header,
            FrameKind::ProbeRequest(p) => &p.header,
            FrameKind::AssocRequest(a) | FrameKind::ReassocRequest(a) => &a.header,
            FrameKind::AssocResponse(a) | FrameKind::ReassocResponse(a) => &a.header,
            FrameKind::Authentication(a) => &a.header,
            FrameKind::Deauthentication(r) | FrameKind::Disassociation(r) => &r.header,
            FrameKind::Action(a) | FrameKind::ActionNoAck(a) => &a.header,
            FrameKind::ProtectedManagement(o) | FrameKind::OtherManagement(o) => &o.header,
            _ => return None,
        })
    }
}

/// Management frame subtypes.
pub mod mgmt_subtype {
    pub const ASSOC_REQUEST: u8 = 0;
    pub const ASSOC_RESPONSE: u8 = 1;
    pub const REASSOC_REQUEST: u8 = 2;
    pub const REASSOC_RESPONSE: u8 = 3;
    pub const PROBE_REQUEST: u8 = 4;
    pub const PROBE_RESPONSE: u8 = 5;
    pub const TIMING_ADVERTISEMENT: u8 = 6;
    pub const BEACON: u8 = 8;
    pub const ATIM: u8 = 9;
    pub const DISASSOCIATION: u8 = 10;
    pub const AUTHENTICATION: u8 = 11;
    pub const DEAUTHENTICATION: u8 = 12;
    pub const ACTION: u8 = 13;
    pub const ACTION_NO_ACK: u8 = 14;
}

/// Parses one 802.11 frame, without its FCS.
///
/// Errors: `Truncated` when the frame ends inside its MAC header or a fixed field the
/// subtype requires; `Unsupported` for a protocol version other than 0 (such frames are not
/// 802.11 frames as this decoder knows them, and tshark does not dissect them either).
pub fn parse(frame: &[u8]) -> Result<Frame<'_>> {
    parse_padded(frame, false)
}

/// Like [`parse`], for captures whose radiotap header sets the "data pad" flag: the driver
/// inserted padding after the MAC header to align the body to 4 bytes, so a data frame's
/// body starts at the next multiple of 4. (Management headers are already aligned.)
pub fn parse_padded(frame: &[u8], data_pad: bool) -> Result<Frame<'_>> {
    let mut r = Cursor(frame);
    let fc = FrameControl::from_bytes(r.array::<2>()?);
    let duration = r.u16_le()?;
    if fc.version() != 0 {
        return Err(Error::Unsupported);
    }
    let kind = match fc.frame_type() {
        FrameType::Management => parse_mgmt(fc, r)?,
        FrameType::Control => parse_control(fc, r)?,
        FrameType::Data => parse_data(fc, r, data_pad.then_some(frame.len()))?,
        FrameType::Extension => FrameKind::Extension(Extension {
            subtype: fc.subtype(),
            addr1: r.mac()?,
            body: r.0,
        }),
    };
    Ok(Frame { fc, duration, kind })
}

fn parse_mgmt(fc: FrameControl, mut r: Cursor<'_>) -> Result<FrameKind<'_>> {
    use mgmt_subtype as st;
    let receiver = r.mac()?;
    let transmitter = r.mac()?;
    let bssid = r.mac()?;
    let seq_ctrl = r.u16_le()?;
    let ht_control = if fc.order() { Some(r.u32_le()?) } else { None };
    let header = MgmtHeader {
        receiver,
        transmitter,
        bssid,
        seq_ctrl,
        ht_control,
    };
    let subtype = fc.subtype();
    if fc.protected() {
        return Ok(FrameKind::ProtectedManagement(OtherMgmt {
            subtype,
            header,
            body: r.0,
        }));
    }
    Ok(match subtype {
        st::BEACON | st::PROBE_RESPONSE => {
            let b = Beacon {
                header,
                timestamp: r.u64_le()?,
                beacon_interval: r.u16_le()?,
                capabilities: CapabilityInfo(r.u16_le()?),
                elements: r.0,
            };
            if subtype == st::BEACON {
                FrameKind::Beacon(b)
            } else {
                FrameKind::ProbeResponse(b)
            }
        }
        st::PROBE_REQUEST => FrameKind::ProbeRequest(ProbeRequest {
            header,
            elements: r.0,
        }),
        st::ASSOC_REQUEST | st::REASSOC_REQUEST => {
            let capabilities = CapabilityInfo(r.u16_le()?);
            let listen_interval = r.u16_le()?;
            let current_ap = if subtype == st::REASSOC_REQUEST {
                Some(r.mac()?)
            } else {
                None
            };
            let a = AssocRequest {
                header,
                capabilities,
                listen_interval,
                current_ap,
                elements: r.0,
            };
            if subtype == st::ASSOC_REQUEST {
                FrameKind::AssocRequest(a)
            } else {
                FrameKind::ReassocRequest(a)
            }
        }
        st::ASSOC_RESPONSE | st::REASSOC_RESPONSE => {
            let a = AssocResponse {
                header,
                capabilities: CapabilityInfo(r.u16_le()?),
                status: r.u16_le()?,
                aid: r.u16_le()? & 0x3fff,
                elements: r.0,
            };
            if subtype == st::ASSOC_RESPONSE {
                FrameKind::AssocResponse(a)
            } else {
                FrameKind::ReassocResponse(a)
            }
        }
        st::AUTHENTICATION => FrameKind::Authentication(Authentication {
            header,
            algorithm: r.u16_le()?,
            seq: r.u16_le()?,
            status: r.u16_le()?,
            rest: r.0,
        }),
        st::DEAUTHENTICATION | st::DISASSOCIATION => {
            let f = ReasonFrame {
                header,
                reason: r.u16_le()?,
            };
            if subtype == st::DEAUTHENTICATION {
                FrameKind::Deauthentication(f)
            } else {
                FrameKind::Disassociation(f)
            }
        }
        st::ACTION | st::ACTION_NO_ACK => {
            let a = Action {
                header,
                category: r.u8()?,
                body: r.0,
            };
            if subtype == st::ACTION {
                FrameKind::Action(a)
            } else {
                FrameKind::ActionNoAck(a)
            }
        }
        _ => FrameKind::OtherManagement(OtherMgmt {
            subtype,
            header,
            body: r.0,
        }),
    })
}

fn parse_control(fc: FrameControl, mut r: Cursor<'_>) -> Result<FrameKind<'_>> {
    let subtype = ControlSubtype::from_subtype(fc.subtype());
    let receiver = r.mac()?;
    let transmitter = if subtype.has_transmitter() {
        Some(r.mac()?)
    } else {
        None
    };
    Ok(FrameKind::Control(Control {
        subtype,
        receiver,
        transmitter,
        rest: r.0,
    }))
}

/// `pad_from` is the whole frame's length when the body is padded to a 4-byte boundary.
fn parse_data(
    fc: FrameControl,
    mut r: Cursor<'_>,
    pad_from: Option<usize>,
) -> Result<FrameKind<'_>> {
    let addr1 = r.mac()?;
    let addr2 = r.mac()?;
    let addr3 = r.mac()?;
    let seq_ctrl = r.u16_le()?;
    let addr4 = if fc.to_ds() && fc.from_ds() {
        Some(r.mac()?)
    } else {
        None
    };
    let qos = fc.subtype() & 0x08 != 0;
    let qos_control = if qos { Some(r.u16_le()?) } else { None };
    // Only QoS data frames reuse the Order bit as "+HTC"; on non-QoS data it keeps its old
    // meaning (strictly ordered service class) and adds nothing to the header.
    let ht_control = if qos && fc.order() {
        Some(r.u32_le()?)
    } else {
        None
    };
    if let Some(total) = pad_from {
        let header_len = total - r.0.len();
        let pad = (4 - header_len % 4) % 4;
        // Padding that the frame does not hold is a truncated frame, not an empty body.
        r.0 = r.0.get(pad..).ok_or(Error::Truncated)?;
    }
    Ok(FrameKind::Data(Data {
        fc,
        addr1,
        addr2,
        addr3,
        addr4,
        seq_ctrl,
        qos_control,
        ht_control,
        body: r.0,
    }))
}

/// Reads fixed-size little-endian fields off the front of a slice, failing with `Truncated`.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (head, tail) = self.0.split_first_chunk::<N>().ok_or(Error::Truncated)?;
        self.0 = tail;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    fn u16_le(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32_le(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn mac(&mut self) -> Result<MacAddr> {
        Ok(MacAddr(self.array()?))
    }
}
