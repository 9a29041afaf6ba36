//! Interface control over nl80211: find adapters and what they support, monitor mode, up/down, tuning; put things back on exit.
//!
//! Every OS effect of this module goes through [`Netlink`], one struct holding the nl80211
//! (generic netlink) and rtnetlink (link up/down) connections. What comes back from the
//! kernel is turned into values by plain functions over attribute lists
//! ([`adapters_from_dumps`], [`channels_from_bands`]), which the tests feed with attribute
//! bytes they build themselves; the real radio path runs in the virtual device (hil-tests/).

use crate::capture::hopper::{Channel, TuneError, Tuner};
use futures::TryStreamExt;
use piwardrive_dot11::channel::freq_to_channel;
use rtnetlink::LinkUnspec;
use std::collections::BTreeMap;
use std::future::Future;
use wl_nl80211::{
    Nl80211Attr, Nl80211Band, Nl80211BandInfo, Nl80211FrequencyInfo, Nl80211Handle,
    Nl80211HtWiphyChannelType, Nl80211IfMode, Nl80211InterfaceType,
};

/// The message every permission failure carries, so the operator knows exactly what to grant.
pub const CAPABILITY_HINT: &str = "needs CAP_NET_ADMIN (and CAP_NET_RAW to capture): run as root or grant them with setcap/AmbientCapabilities";

const EPERM: i32 = libc::EPERM;
const EACCES: i32 = libc::EACCES;
const ENODEV: i32 = libc::ENODEV;
const EBUSY: i32 = libc::EBUSY;
const ERFKILL: i32 = libc::ERFKILL;
const EOPNOTSUPP: i32 = libc::EOPNOTSUPP;
const EINVAL: i32 = libc::EINVAL;
const ENFILE: i32 = libc::ENFILE;

/// Why an nl80211 or link operation failed, phrased so the operator knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum Nl80211Error {
    /// The kernel refused for lack of privileges (EPERM/EACCES).
    #[error("{op}: permission denied; piwardrive {CAPABILITY_HINT}")]
    Permission { op: &'static str },
    /// The nl80211 family does not exist (no cfg80211 loaded) or it lists no wiphy.
    #[error("no Wi-Fi adapter found ({detail}); plug in a USB Wi-Fi adapter or load its driver")]
    NoAdapter { detail: String },
    /// The interface cannot be put into monitor mode by this driver.
    #[error(
        "{iface} (driver {driver}) cannot enter monitor mode; use mode = \"scan\" (the managed-mode fallback)"
    )]
    MonitorUnsupported { iface: String, driver: String },
    /// The device went away (ENODEV): the adapter was unplugged or its radio deleted.
    /// The supervisor treats this as an outage and waits for the adapter to come back.
    #[error("{op}: the Wi-Fi device is gone (unplugged or removed)")]
    DeviceGone { op: &'static str },
    /// The radio is blocked by rfkill (a hardware switch or `rfkill block`).
    #[error("{op}: the radio is blocked by rfkill; unblock it (rfkill unblock wifi)")]
    Rfkill { op: &'static str },
    /// The device is busy, usually because another program (NetworkManager, wpa_supplicant)
    /// holds the interface or is scanning on it.
    #[error(
        "{op}: device or resource busy; stop NetworkManager/wpa_supplicant on this adapter or mark it unmanaged"
    )]
    Busy { op: &'static str },
    /// Any other refusal from the kernel, with its own words.
    #[error("{op}: {message} (errno {errno})")]
    Kernel {
        op: &'static str,
        errno: i32,
        message: String,
    },
    /// A scan did not complete in time, or the kernel aborted it.
    #[error("scan on {iface}: {what}")]
    Scan { iface: String, what: String },
    /// A netlink socket could not be opened or used.
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The kernel answered something this code cannot read.
    #[error("{op}: unexpected netlink answer: {detail}")]
    Protocol { op: &'static str, detail: String },
}

impl Nl80211Error {
    /// The adapter disappeared: the supervisor should show an outage and wait for it.
    pub fn is_device_gone(&self) -> bool {
        matches!(self, Nl80211Error::DeviceGone { .. })
    }

    /// The process lacks CAP_NET_ADMIN: retrying will not help.
    pub fn is_permission(&self) -> bool {
        matches!(self, Nl80211Error::Permission { .. })
    }

    /// Maps a kernel errno (positive) from operation `op` to the variant that says what to do.
    pub fn from_errno(op: &'static str, errno: i32) -> Nl80211Error {
        match errno {
            EPERM | EACCES => Nl80211Error::Permission { op },
            ENODEV => Nl80211Error::DeviceGone { op },
            EBUSY => Nl80211Error::Busy { op },
            ERFKILL => Nl80211Error::Rfkill { op },
            _ => Nl80211Error::Kernel {
                op,
                errno,
                message: std::io::Error::from_raw_os_error(errno).to_string(),
            },
        }
    }

    /// Maps an I/O error (socket creation, the nl80211 family lookup) from operation `op`.
    pub fn from_io(op: &'static str, e: std::io::Error) -> Nl80211Error {
        if let Some(errno) = e.raw_os_error() {
            return Nl80211Error::from_errno(op, errno);
        }
        match e.kind() {
            std::io::ErrorKind::PermissionDenied => Nl80211Error::Permission { op },
            _ => Nl80211Error::Io { op, source: e },
        }
    }

    /// The errno behind this error, when the kernel gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Nl80211Error::Permission { .. } => Some(EPERM),
            Nl80211Error::DeviceGone { .. } => Some(ENODEV),
            Nl80211Error::Busy { .. } => Some(EBUSY),
            Nl80211Error::Rfkill { .. } => Some(ERFKILL),
            Nl80211Error::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// Maps an error of the wl-nl80211 crate. Netlink error messages carry a negative errno;
/// the crate reports a failed family lookup only as text, so that one case is read from it.
pub(crate) fn map_wl(op: &'static str, e: wl_nl80211::Nl80211Error) -> Nl80211Error {
    match e {
        wl_nl80211::Nl80211Error::NetlinkError(msg) => {
            Nl80211Error::from_errno(op, msg.raw_code().saturating_neg())
        }
        wl_nl80211::Nl80211Error::RequestFailed(text) if text.contains("os error 2)") => {
            Nl80211Error::NoAdapter {
                detail: "the kernel has no nl80211 (cfg80211 is not loaded)".into(),
            }
        }
        other => Nl80211Error::Protocol {
            op,
            detail: other.to_string(),
        },
    }
}

fn map_rt(op: &'static str, e: rtnetlink::Error) -> Nl80211Error {
    match e {
        rtnetlink::Error::NetlinkError(msg) => {
            Nl80211Error::from_errno(op, msg.raw_code().saturating_neg())
        }
        other => Nl80211Error::Protocol {
            op,
            detail: other.to_string(),
        },
    }
}

/// An interface's type, as nl80211 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfType {
    /// Managed (a client of an access point): where scans run.
    Station,
    Monitor,
    Ap,
    Adhoc,
    MeshPoint,
    P2pClient,
    P2pGo,
    P2pDevice,
    Other(u32),
}

impl From<&Nl80211InterfaceType> for IfType {
    fn from(t: &Nl80211InterfaceType) -> IfType {
        match t {
            Nl80211InterfaceType::Station => IfType::Station,
            Nl80211InterfaceType::Monitor => IfType::Monitor,
            Nl80211InterfaceType::Ap => IfType::Ap,
            Nl80211InterfaceType::Adhoc => IfType::Adhoc,
            Nl80211InterfaceType::MeshPoint => IfType::MeshPoint,
            Nl80211InterfaceType::P2pClient => IfType::P2pClient,
            Nl80211InterfaceType::P2pGo => IfType::P2pGo,
            Nl80211InterfaceType::P2pDevice => IfType::P2pDevice,
            other => IfType::Other(u32::from(*other)),
        }
    }
}

/// One Wi-Fi adapter (a wiphy) and the network interface chosen to represent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// The wiphy index (`phyN` has index N unless renamed).
    pub phy: u32,
    pub phy_name: String,
    /// The representative interface: the first managed one, else the first with a netdev;
    /// `None` when the wiphy has no interface at all.
    pub ifindex: Option<u32>,
    pub name: Option<String>,
    /// The kernel driver, from sysfs (`mac80211_hwsim`, `rtl8xxxu`, `mt76x2u`...).
    pub driver: Option<String>,
    pub iftype: Option<IfType>,
    /// Whether the wiphy lists monitor among its supported interface types.
    pub supports_monitor: bool,
    /// Channels a passive receiver may tune to: every 20 MHz channel the regulatory domain
    /// does not disable. No-IR (passive-only) and radar channels are included, since a
    /// monitor interface never transmits on them; the kernel still refuses to transmit there.
    pub channels: Vec<Channel>,
    /// Every interface on this wiphy (ifindex, name, type), the representative included.
    pub interfaces: Vec<(u32, String, IfType)>,
}

impl Adapter {
    /// The interface name for messages, falling back to the phy name.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.phy_name)
    }
}

/// The connections every OS effect of this module goes through.
#[derive(Clone)]
pub struct Netlink {
    nl: Nl80211Handle,
    link: Link,
}

/// Link (network interface) control over rtnetlink, usable without any Wi-Fi in the kernel.
#[derive(Clone)]
pub struct Link {
    rt: rtnetlink::Handle,
}

impl Link {
    /// Opens an rtnetlink connection on the current tokio runtime.
    pub fn connect() -> Result<Link, Nl80211Error> {
        let (rconn, rt, _) = rtnetlink::new_connection()
            .map_err(|e| Nl80211Error::from_io("open rtnetlink socket", e))?;
        tokio::spawn(rconn);
        Ok(Link { rt })
    }

    /// Whether the link is administratively up (IFF_UP).
    pub async fn link_is_up(&self, ifindex: u32) -> Result<bool, Nl80211Error> {
        const OP: &str = "read link state (rtnetlink GETLINK)";
        let stream = self.rt.link().get().match_index(ifindex).execute();
        futures::pin_mut!(stream);
        match stream.try_next().await.map_err(|e| map_rt(OP, e))? {
            Some(msg) => Ok(msg
                .header
                .flags
                .contains(rtnetlink::packet_route::link::LinkFlags::Up)),
            None => Err(Nl80211Error::DeviceGone { op: OP }),
        }
    }

    /// Brings a link up or down (what `ip link set dev X up|down` does).
    pub async fn set_link_up(&self, ifindex: u32, up: bool) -> Result<(), Nl80211Error> {
        let op = if up {
            "bring the interface up (rtnetlink SETLINK)"
        } else {
            "bring the interface down (rtnetlink SETLINK)"
        };
        let b = LinkUnspec::new_with_index(ifindex);
        let msg = if up { b.up() } else { b.down() }.build();
        self.rt
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(|e| map_rt(op, e))
    }
}

impl Netlink {
    /// Opens the nl80211 and rtnetlink connections on the current tokio runtime.
    ///
    /// The nl80211 family is looked up first: a kernel without cfg80211 (a container, a
    /// board without Wi-Fi) has no such family, which is reported as "no Wi-Fi adapter".
    pub async fn connect() -> Result<Netlink, Nl80211Error> {
        // `new_multicast_connection` resolves the family synchronously and fails with
        // NotFound when it does not exist; joining no group keeps it a plain connection.
        let (conn, nl, _events) = match wl_nl80211::new_multicast_connection(&[]) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Nl80211Error::NoAdapter {
                    detail: "the kernel has no nl80211 family (cfg80211 is not loaded)".into(),
                });
            }
            Err(e) => return Err(Nl80211Error::from_io("open nl80211 socket", e)),
        };
        tokio::spawn(conn);
        Ok(Netlink {
            nl,
            link: Link::connect()?,
        })
    }

    pub(crate) fn nl(&self) -> &Nl80211Handle {
        &self.nl
    }

    /// Dumps wiphys and interfaces and joins them into adapters, ordered by wiphy index.
    pub async fn list_adapters(&self) -> Result<Vec<Adapter>, Nl80211Error> {
        let wiphys = self.dump_wiphys().await?;
        let ifaces = self.dump_interfaces().await?;
        let mut adapters = adapters_from_dumps(&wiphys, &ifaces);
        for a in &mut adapters {
            a.driver = driver_of(&a.phy_name);
        }
        Ok(adapters)
    }

    async fn dump_wiphys(&self) -> Result<Vec<Vec<Nl80211Attr>>, Nl80211Error> {
        const OP: &str = "list Wi-Fi devices (nl80211 GET_WIPHY)";
        let h = self.nl.clone();
        let stream = h.wireless_physic().get().execute().await;
        futures::pin_mut!(stream);
        let mut out = Vec::new();
        while let Some(m) = stream.try_next().await.map_err(|e| map_wl(OP, e))? {
            out.push(m.payload.attributes);
        }
        Ok(out)
    }

    async fn dump_interfaces(&self) -> Result<Vec<Vec<Nl80211Attr>>, Nl80211Error> {
        const OP: &str = "list Wi-Fi interfaces (nl80211 GET_INTERFACE)";
        let h = self.nl.clone();
        let stream = h.interface().get(Vec::new()).execute().await;
        futures::pin_mut!(stream);
        let mut out = Vec::new();
        while let Some(m) = stream.try_next().await.map_err(|e| map_wl(OP, e))? {
            out.push(m.payload.attributes);
        }
        Ok(out)
    }

    /// Whether the link is administratively up (IFF_UP).
    pub async fn link_is_up(&self, ifindex: u32) -> Result<bool, Nl80211Error> {
        self.link.link_is_up(ifindex).await
    }

    /// Brings a link up or down.
    pub async fn set_link_up(&self, ifindex: u32, up: bool) -> Result<(), Nl80211Error> {
        self.link.set_link_up(ifindex, up).await
    }

    async fn new_monitor_vif(&self, phy: u32, name: &str) -> Result<u32, Nl80211Error> {
        const OP: &str = "create a monitor interface (nl80211 NEW_INTERFACE)";
        let attrs = wl_nl80211::Nl80211NewInterface::new(
            phy,
            Nl80211InterfaceType::Monitor,
            name.to_string(),
        )
        .build();
        let h = self.nl.clone();
        let stream = h.interface().add(attrs).execute().await;
        futures::pin_mut!(stream);
        let mut ifindex = None;
        while let Some(m) = stream.try_next().await.map_err(|e| map_wl(OP, e))? {
            for a in &m.payload.attributes {
                if let Nl80211Attr::IfIndex(i) = a {
                    ifindex = Some(*i);
                }
            }
        }
        ifindex.ok_or(Nl80211Error::Protocol {
            op: OP,
            detail: "the answer named no interface index".into(),
        })
    }

    async fn del_interface(&self, ifindex: u32) -> Result<(), Nl80211Error> {
        const OP: &str = "delete the monitor interface (nl80211 DEL_INTERFACE)";
        let h = self.nl.clone();
        let attrs = wl_nl80211::Nl80211Interface::new(ifindex).build();
        let stream = h.interface().delete(attrs).execute().await;
        futures::pin_mut!(stream);
        while stream
            .try_next()
            .await
            .map_err(|e| map_wl(OP, e))?
            .is_some()
        {}
        Ok(())
    }

    async fn set_iftype(&self, ifindex: u32, t: Nl80211InterfaceType) -> Result<(), Nl80211Error> {
        const OP: &str = "change the interface type (nl80211 SET_INTERFACE)";
        let h = self.nl.clone();
        let attrs = wl_nl80211::Nl80211Interface::new(ifindex)
            .interface_type(t)
            .build();
        let stream = h.interface().set(attrs).execute().await;
        futures::pin_mut!(stream);
        while stream
            .try_next()
            .await
            .map_err(|e| map_wl(OP, e))?
            .is_some()
        {}
        Ok(())
    }
}

/// Tunes an interface to one 20 MHz channel without HT (NL80211_CMD_SET_WIPHY with the
/// interface index, the control frequency and channel type NO_HT, as `iw dev X set freq F`
/// does). A monitor interface hears HT/VHT/HE frames on its primary channel all the same.
pub async fn set_channel(
    nl: &Nl80211Handle,
    ifindex: u32,
    freq_mhz: u16,
) -> Result<(), Nl80211Error> {
    const OP: &str = "tune (nl80211 SET_WIPHY)";
    let attrs = wl_nl80211::Nl80211Channel::new(ifindex)
        .frequency(u32::from(freq_mhz))
        .channel_type(Nl80211HtWiphyChannelType::NoHt)
        .build();
    let h = nl.clone();
    let stream = h.wireless_physic().set(attrs).execute().await;
    futures::pin_mut!(stream);
    while stream
        .try_next()
        .await
        .map_err(|e| map_wl(OP, e))?
        .is_some()
    {}
    Ok(())
}

/// Lists the Wi-Fi adapters (wiphy dump + interface dump). No wiphy, or no nl80211 at all,
/// is [`Nl80211Error::NoAdapter`]; an empty list is never returned.
pub async fn list_adapters() -> Result<Vec<Adapter>, Nl80211Error> {
    let nl = Netlink::connect().await?;
    let adapters = nl.list_adapters().await?;
    if adapters.is_empty() {
        return Err(Nl80211Error::NoAdapter {
            detail: "nl80211 lists no wireless device".into(),
        });
    }
    Ok(adapters)
}

/// Reads the driver name of a wiphy from sysfs (`/sys/class/ieee80211/<phy>/device/driver`).
fn driver_of(phy_name: &str) -> Option<String> {
    let link = std::fs::read_link(format!("/sys/class/ieee80211/{phy_name}/device/driver")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// What one wiphy's split dump said, merged over its messages.
#[derive(Debug, Default)]
struct WiphyParts {
    name: String,
    supports_monitor: bool,
    freqs: BTreeMap<u32, bool>,
}

/// Joins a wiphy dump and an interface dump (each message's attribute list) into adapters.
///
/// The wiphy dump is split: the kernel sends one wiphy over many messages, each naming the
/// wiphy index and carrying a part (in the band part, often a single frequency), so the
/// parts are merged by index before anything is decided.
pub fn adapters_from_dumps(
    wiphys: &[Vec<Nl80211Attr>],
    ifaces: &[Vec<Nl80211Attr>],
) -> Vec<Adapter> {
    let mut parts: BTreeMap<u32, WiphyParts> = BTreeMap::new();
    for msg in wiphys {
        let Some(idx) = msg.iter().find_map(|a| match a {
            Nl80211Attr::Wiphy(i) => Some(*i),
            _ => None,
        }) else {
            continue;
        };
        let p = parts.entry(idx).or_default();
        for a in msg {
            match a {
                Nl80211Attr::WiphyName(n) => p.name = n.clone(),
                Nl80211Attr::SupportedIftypes(modes) => {
                    p.supports_monitor |= modes.contains(&Nl80211IfMode::Monitor);
                }
                Nl80211Attr::WiphyBands(bands) => merge_band_freqs(&mut p.freqs, bands),
                _ => {}
            }
        }
    }

    let mut by_phy: BTreeMap<u32, Vec<(u32, String, IfType)>> = BTreeMap::new();
    for msg in ifaces {
        let (mut phy, mut idx, mut name, mut t) = (None, None, None, None);
        for a in msg {
            match a {
                Nl80211Attr::Wiphy(i) => phy = Some(*i),
                Nl80211Attr::IfIndex(i) => idx = Some(*i),
                Nl80211Attr::IfName(n) => name = Some(n.clone()),
                Nl80211Attr::IfType(x) => t = Some(IfType::from(x)),
                _ => {}
            }
        }
        // A P2P device or NAN interface has no netdev (no ifindex): nothing to capture on.
        if let (Some(phy), Some(idx), Some(name)) = (phy, idx, name) {
            by_phy
                .entry(phy)
                .or_default()
                .push((idx, name, t.unwrap_or(IfType::Other(0))));
        }
    }

    parts
        .into_iter()
        .map(|(phy, p)| {
            let mut interfaces = by_phy.remove(&phy).unwrap_or_default();
            interfaces.sort_by_key(|(i, _, _)| *i);
            let primary = interfaces
                .iter()
                .find(|(_, _, t)| *t == IfType::Station)
                .or_else(|| interfaces.first())
                .cloned();
            Adapter {
                phy,
                phy_name: if p.name.is_empty() {
                    format!("phy{phy}")
                } else {
                    p.name
                },
                ifindex: primary.as_ref().map(|(i, _, _)| *i),
                name: primary.as_ref().map(|(_, n, _)| n.clone()),
                driver: None,
                iftype: primary.as_ref().map(|(_, _, t)| *t),
                supports_monitor: p.supports_monitor,
                channels: channels_from_freqs(&p.freqs),
                interfaces,
            }
        })
        .collect()
}

/// Records each frequency of the bands and whether it is disabled; a frequency seen twice
/// keeps "disabled" if any part said so.
fn merge_band_freqs(freqs: &mut BTreeMap<u32, bool>, bands: &[Nl80211Band]) {
    for band in bands {
        for info in &band.info {
            let Nl80211BandInfo::Freqs(list) = info else {
                continue;
            };
            for f in list {
                let mut mhz = None;
                let mut disabled = false;
                for i in &f.info {
                    match i {
                        Nl80211FrequencyInfo::Freq(m) => mhz = Some(*m),
                        Nl80211FrequencyInfo::Disabled => disabled = true,
                        _ => {}
                    }
                }
                if let Some(m) = mhz {
                    *freqs.entry(m).or_insert(false) |= disabled;
                }
            }
        }
    }
}

/// The receivable channels of a list of bands (see [`Adapter::channels`]).
pub fn channels_from_bands(bands: &[Nl80211Band]) -> Vec<Channel> {
    let mut freqs = BTreeMap::new();
    merge_band_freqs(&mut freqs, bands);
    channels_from_freqs(&freqs)
}

fn channels_from_freqs(freqs: &BTreeMap<u32, bool>) -> Vec<Channel> {
    freqs
        .iter()
        .filter(|(_, disabled)| !**disabled)
        .filter_map(|(mhz, _)| {
            let mhz = u16::try_from(*mhz).ok()?;
            let (band, number) = freq_to_channel(mhz)?;
            Some(Channel {
                band,
                number,
                freq_mhz: mhz,
            })
        })
        .collect()
}

/// The name of the monitor interface created for `base`: `<base>mon`, cut to the 15 bytes
/// an interface name may have.
pub fn monitor_name(base: &str) -> String {
    let mut b = base.to_string();
    while b.len() + 3 > 15 {
        b.pop();
    }
    format!("{b}mon")
}

/// How to undo what [`enter_monitor`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Restore {
    /// We created this vif: delete it, and bring the primary interface back up if we took it down.
    DeleteVif { primary_was_up: Option<u32> },
    /// We changed the type of an existing interface: set it back, and its up/down state.
    SetType { original: IfType, was_up: bool },
    /// It already was a monitor interface: only its up/down state changed.
    Leave { was_up: bool },
}

/// Choices for [`enter_monitor_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorOptions {
    /// Take the adapter's managed interface down while the monitor vif runs, so that
    /// NetworkManager or wpa_supplicant cannot scan or roam on it and pull the radio off
    /// the channel the hopper set (Kismet does the same). Restored on [`MonitorInterface::restore`].
    pub down_primary: bool,
    /// Try a separate monitor vif before switching the interface's own type.
    pub prefer_vif: bool,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            down_primary: true,
            prefer_vif: true,
        }
    }
}

/// A monitor-mode interface that is up, proved by having been set up by [`enter_monitor`].
pub struct MonitorInterface {
    pub name: String,
    pub ifindex: u32,
    pub phy: u32,
    /// Whether this interface was created for the capture (and will be deleted on restore).
    pub created: bool,
    restore: Restore,
    nl: Netlink,
}

impl std::fmt::Debug for MonitorInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorInterface")
            .field("name", &self.name)
            .field("ifindex", &self.ifindex)
            .field("phy", &self.phy)
            .field("created", &self.created)
            .field("restore", &self.restore)
            .finish()
    }
}

/// Puts the adapter into monitor mode with the default [`MonitorOptions`].
pub async fn enter_monitor(adapter: &Adapter) -> Result<MonitorInterface, Nl80211Error> {
    enter_monitor_with(adapter, MonitorOptions::default()).await
}

/// Puts the adapter into monitor mode: a new `<name>mon` vif where the driver allows one,
/// else the interface itself switched to monitor (down, set type, up). The result is up.
pub async fn enter_monitor_with(
    adapter: &Adapter,
    opts: MonitorOptions,
) -> Result<MonitorInterface, Nl80211Error> {
    let nl = Netlink::connect().await?;
    let unsupported = || Nl80211Error::MonitorUnsupported {
        iface: adapter.label().to_string(),
        driver: adapter
            .driver
            .clone()
            .unwrap_or_else(|| "unknown".to_string()),
    };

    // Already a monitor interface (set up by hand, or left by an earlier run): use it.
    if let (Some(idx), Some(name), Some(IfType::Monitor)) =
        (adapter.ifindex, &adapter.name, adapter.iftype)
    {
        let was_up = nl.link_is_up(idx).await?;
        nl.set_link_up(idx, true).await?;
        return Ok(MonitorInterface {
            name: name.clone(),
            ifindex: idx,
            phy: adapter.phy,
            created: false,
            restore: Restore::Leave { was_up },
            nl,
        });
    }
    if !adapter.supports_monitor {
        return Err(unsupported());
    }

    if opts.prefer_vif {
        let name = monitor_name(adapter.label());
        // A vif of that name on this phy left by an earlier run that died is reused and
        // deleted at the end like one we created.
        let existing = adapter
            .interfaces
            .iter()
            .find(|(_, n, t)| *n == name && *t == IfType::Monitor)
            .map(|(i, _, _)| *i);
        let created = match existing {
            Some(i) => Ok(i),
            None => nl.new_monitor_vif(adapter.phy, &name).await,
        };
        match created {
            Ok(vif) => {
                let mut primary_was_up = None;
                if opts.down_primary
                    && let Some(p) = adapter.ifindex
                    && nl.link_is_up(p).await.unwrap_or(false)
                {
                    nl.set_link_up(p, false).await?;
                    primary_was_up = Some(p);
                }
                let mon = MonitorInterface {
                    name,
                    ifindex: vif,
                    phy: adapter.phy,
                    created: true,
                    restore: Restore::DeleteVif { primary_was_up },
                    nl: nl.clone(),
                };
                if let Err(e) = nl.set_link_up(vif, true).await {
                    let _ = mon.restore().await;
                    return Err(e);
                }
                return Ok(mon);
            }
            // These are the fatal ones; anything else (EOPNOTSUPP, EBUSY, EINVAL from an
            // interface combination the driver does not allow, ENFILE) falls back to
            // switching the interface's own type.
            Err(e @ (Nl80211Error::Permission { .. } | Nl80211Error::DeviceGone { .. })) => {
                return Err(e);
            }
            Err(e) => {
                tracing::info!(
                    adapter = adapter.label(),
                    error = %e,
                    "no monitor vif; switching the interface itself to monitor"
                );
            }
        }
    }

    let (Some(idx), Some(name)) = (adapter.ifindex, adapter.name.clone()) else {
        return Err(unsupported());
    };
    let original = adapter.iftype.unwrap_or(IfType::Station);
    let was_up = nl.link_is_up(idx).await?;
    if was_up {
        nl.set_link_up(idx, false).await?;
    }
    if let Err(e) = nl.set_iftype(idx, Nl80211InterfaceType::Monitor).await {
        if was_up {
            let _ = nl.set_link_up(idx, true).await;
        }
        return Err(match e.errno() {
            Some(EOPNOTSUPP | EINVAL | ENFILE) => unsupported(),
            _ => e,
        });
    }
    let mon = MonitorInterface {
        name,
        ifindex: idx,
        phy: adapter.phy,
        created: false,
        restore: Restore::SetType { original, was_up },
        nl: nl.clone(),
    };
    if let Err(e) = nl.set_link_up(idx, true).await {
        let _ = mon.restore().await;
        return Err(e);
    }
    Ok(mon)
}

fn to_nl_type(t: IfType) -> Nl80211InterfaceType {
    match t {
        IfType::Station => Nl80211InterfaceType::Station,
        IfType::Monitor => Nl80211InterfaceType::Monitor,
        IfType::Ap => Nl80211InterfaceType::Ap,
        IfType::Adhoc => Nl80211InterfaceType::Adhoc,
        IfType::MeshPoint => Nl80211InterfaceType::MeshPoint,
        IfType::P2pClient => Nl80211InterfaceType::P2pClient,
        IfType::P2pGo => Nl80211InterfaceType::P2pGo,
        IfType::P2pDevice => Nl80211InterfaceType::P2pDevice,
        IfType::Other(n) => Nl80211InterfaceType::from(n),
    }
}

impl MonitorInterface {
    /// A tuner for the hopper, sharing this interface's nl80211 connection.
    pub fn tuner(&self) -> Nl80211Tuner {
        Nl80211Tuner {
            nl: self.nl.nl().clone(),
            ifindex: self.ifindex,
        }
    }

    /// Puts things back: deletes the vif we created (and brings the managed interface
    /// back up if we took it down), or restores the original type and up/down state.
    /// A device that is already gone (unplugged) has nothing left to restore: that is Ok.
    pub async fn restore(self) -> Result<(), Nl80211Error> {
        let nl = &self.nl;
        let r = match &self.restore {
            Restore::DeleteVif { primary_was_up } => {
                let deleted = nl.del_interface(self.ifindex).await;
                let primary = match primary_was_up {
                    Some(p) => nl.set_link_up(*p, true).await,
                    None => Ok(()),
                };
                deleted.and(primary)
            }
            Restore::SetType { original, was_up } => {
                let down = nl.set_link_up(self.ifindex, false).await;
                let t = nl.set_iftype(self.ifindex, to_nl_type(*original)).await;
                let up = if *was_up {
                    nl.set_link_up(self.ifindex, true).await
                } else {
                    Ok(())
                };
                down.and(t).and(up)
            }
            Restore::Leave { was_up } => {
                if *was_up {
                    Ok(())
                } else {
                    nl.set_link_up(self.ifindex, false).await
                }
            }
        };
        match r {
            Err(e) if e.is_device_gone() => Ok(()),
            r => r,
        }
    }
}

/// Tunes a monitor interface over nl80211; the hopper's [`Tuner`].
#[derive(Clone)]
pub struct Nl80211Tuner {
    nl: Nl80211Handle,
    ifindex: u32,
}

impl Nl80211Tuner {
    /// A tuner for an interface index (for a monitor interface set up elsewhere).
    pub async fn for_ifindex(ifindex: u32) -> Result<Nl80211Tuner, Nl80211Error> {
        let nl = Netlink::connect().await?;
        Ok(Nl80211Tuner { nl: nl.nl, ifindex })
    }
}

impl Tuner for Nl80211Tuner {
    fn tune(&mut self, channel: Channel) -> impl Future<Output = Result<(), TuneError>> + Send {
        let nl = self.nl.clone();
        let ifindex = self.ifindex;
        async move {
            set_channel(&nl, ifindex, channel.freq_mhz)
                .await
                .map_err(|e| TuneError(format!("{} MHz: {e}", channel.freq_mhz)))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Byte-level tests: attribute payloads built here the way the kernel lays them out,
    //! parsed by wl-nl80211, then turned into adapters. The real radio path runs in the
    //! virtual device (hil-tests/).
    use super::*;
    use wl_nl80211::packet_core::{NlasIterator, Parseable};

    /// One netlink attribute: length, type, value, padded to 4 bytes.
    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let len = 4 + value.len();
        let mut v = Vec::with_capacity(len + 3);
        v.extend_from_slice(&(len as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn u32v(x: u32) -> Vec<u8> {
        x.to_ne_bytes().to_vec()
    }

    // nl80211.h attribute numbers.
    const ATTR_WIPHY: u16 = 1;
    const ATTR_WIPHY_NAME: u16 = 2;
    const ATTR_IFINDEX: u16 = 3;
    const ATTR_IFNAME: u16 = 4;
    const ATTR_IFTYPE: u16 = 5;
    const ATTR_SUPPORTED_IFTYPES: u16 = 32;
    const ATTR_WIPHY_BANDS: u16 = 22;
    const BAND_ATTR_FREQS: u16 = 1;
    const FREQ_ATTR_FREQ: u16 = 1;
    const FREQ_ATTR_DISABLED: u16 = 2;
    const FREQ_ATTR_NO_IR: u16 = 3;
    const IFTYPE_STATION: u16 = 2;
    const IFTYPE_MONITOR: u16 = 6;

    /// A split-dump message carrying one frequency of one band, as the kernel sends them.
    fn band_msg(phy: u32, band: u16, idx: u16, mhz: u32, flags: &[u16]) -> Vec<u8> {
        let mut freq = nla(FREQ_ATTR_FREQ, &u32v(mhz));
        for f in flags {
            freq.extend(nla(*f, &[]));
        }
        let freqs = nla(BAND_ATTR_FREQS, &nla(idx, &freq));
        let bands = nla(ATTR_WIPHY_BANDS, &nla(band, &freqs));
        let mut m = nla(ATTR_WIPHY, &u32v(phy));
        m.extend(nla(ATTR_WIPHY_NAME, b"phy0\0"));
        m.extend(bands);
        m
    }

    fn parse_msg(bytes: &[u8]) -> Vec<Nl80211Attr> {
        NlasIterator::new(bytes)
            .map(|n| Nl80211Attr::parse(&n.unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn split_wiphy_dump_merges_into_one_adapter_with_receivable_channels() {
        let mut head = nla(ATTR_WIPHY, &u32v(0));
        head.extend(nla(ATTR_WIPHY_NAME, b"phy0\0"));
        let mut modes = nla(IFTYPE_STATION, &[]);
        modes.extend(nla(IFTYPE_MONITOR, &[]));
        head.extend(nla(ATTR_SUPPORTED_IFTYPES, &modes));
        let wiphys = vec![
            parse_msg(&head),
            parse_msg(&band_msg(0, 0, 0, 2412, &[])),
            parse_msg(&band_msg(0, 0, 12, 2472, &[FREQ_ATTR_NO_IR])),
            parse_msg(&band_msg(0, 0, 13, 2484, &[FREQ_ATTR_DISABLED])),
            parse_msg(&band_msg(0, 1, 0, 5180, &[])),
            parse_msg(&band_msg(0, 3, 0, 5955, &[FREQ_ATTR_NO_IR])),
        ];
        let mut iface = nla(ATTR_IFINDEX, &u32v(7));
        iface.extend(nla(ATTR_IFNAME, b"wlan1\0"));
        iface.extend(nla(ATTR_WIPHY, &u32v(0)));
        iface.extend(nla(ATTR_IFTYPE, &u32v(u32::from(IFTYPE_STATION))));
        let adapters = adapters_from_dumps(&wiphys, &[parse_msg(&iface)]);
        assert_eq!(adapters.len(), 1);
        let a = &adapters[0];
        assert_eq!((a.phy, a.phy_name.as_str()), (0, "phy0"));
        assert_eq!((a.ifindex, a.name.as_deref()), (Some(7), Some("wlan1")));
        assert_eq!(a.iftype, Some(IfType::Station));
        assert!(a.supports_monitor);
        let freqs: Vec<u16> = a.channels.iter().map(|c| c.freq_mhz).collect();
        // Disabled channel 14 is left out; no-IR channels 13 and 6 GHz 1 are kept (passive).
        assert_eq!(freqs, [2412, 2472, 5180, 5955]);
        let nums: Vec<u16> = a.channels.iter().map(|c| c.number).collect();
        assert_eq!(nums, [1, 13, 36, 1]);
    }

    #[test]
    fn wiphy_without_monitor_and_without_interface() {
        let mut head = nla(ATTR_WIPHY, &u32v(3));
        head.extend(nla(ATTR_SUPPORTED_IFTYPES, &nla(IFTYPE_STATION, &[])));
        let adapters = adapters_from_dumps(&[parse_msg(&head)], &[]);
        assert_eq!(adapters[0].phy_name, "phy3");
        assert!(!adapters[0].supports_monitor);
        assert_eq!(adapters[0].ifindex, None);
        assert!(adapters[0].channels.is_empty());
    }

    #[test]
    fn managed_interface_is_preferred_over_a_leftover_monitor() {
        let head = nla(ATTR_WIPHY, &u32v(0));
        let mk = |idx: u32, name: &[u8], t: u16| {
            let mut i = nla(ATTR_IFINDEX, &u32v(idx));
            i.extend(nla(ATTR_IFNAME, name));
            i.extend(nla(ATTR_WIPHY, &u32v(0)));
            i.extend(nla(ATTR_IFTYPE, &u32v(u32::from(t))));
            parse_msg(&i)
        };
        let ifaces = [
            mk(9, b"wlan0mon\0", IFTYPE_MONITOR),
            mk(4, b"wlan0\0", IFTYPE_STATION),
        ];
        let a = &adapters_from_dumps(&[parse_msg(&head)], &ifaces)[0];
        assert_eq!(a.name.as_deref(), Some("wlan0"));
        assert_eq!(a.interfaces.len(), 2);
    }

    #[test]
    fn errno_mapping_says_what_to_do() {
        let e = Nl80211Error::from_errno("x", libc::EPERM);
        assert!(e.is_permission());
        assert!(e.to_string().contains("CAP_NET_ADMIN"));
        assert!(e.to_string().contains("CAP_NET_RAW"));
        assert!(Nl80211Error::from_errno("x", libc::EACCES).is_permission());
        assert!(Nl80211Error::from_errno("x", libc::ENODEV).is_device_gone());
        assert!(matches!(
            Nl80211Error::from_errno("x", libc::ERFKILL),
            Nl80211Error::Rfkill { .. }
        ));
        let k = Nl80211Error::from_errno("tune", libc::EINVAL);
        assert!(k.to_string().contains("Invalid argument"), "{k}");
        let io = std::io::Error::from_raw_os_error(libc::EPERM);
        assert!(Nl80211Error::from_io("open", io).is_permission());
        let m = Nl80211Error::MonitorUnsupported {
            iface: "wlan0".into(),
            driver: "brcmfmac".into(),
        };
        assert_eq!(
            m.to_string(),
            "wlan0 (driver brcmfmac) cannot enter monitor mode; use mode = \"scan\" (the managed-mode fallback)"
        );
    }

    #[test]
    fn monitor_names_fit_ifnamsiz() {
        assert_eq!(monitor_name("wlan1"), "wlan1mon");
        let long = monitor_name("wlx00c0ca123456");
        assert_eq!(long, "wlx00c0ca123mon");
        assert!(long.len() <= 15);
    }
}
