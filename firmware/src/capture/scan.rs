//! The managed-mode fallback for adapters without monitor mode: nl80211 triggered scans turned into tracker input.
//!
//! A scan reports access points only: what the driver kept of their beacons and probe
//! responses (BSSID, frequency, signal, capability, elements). Clients are never seen this
//! way, and the UI says so. The conversion to tracker events ([`scan_events`]) is a plain
//! function over [`ScanBss`] values; [`Scanner`] is the I/O around it, exercised against
//! mac80211_hwsim in the virtual device (hil-tests/).

use crate::capture::nl80211::{Adapter, IfType, Netlink, Nl80211Error, map_wl};
use crate::model::{Band, TimeUs};
use crate::tracker::{Event, Heard};
use futures::{StreamExt, TryStreamExt};
use piwardrive_dot11::MacAddr;
use piwardrive_dot11::channel::{self, freq_to_channel};
use piwardrive_dot11::ie::{BssElements, parse_bss};
use std::time::{Duration, Instant};
use wl_nl80211::{Nl80211Attr, Nl80211BssInfo, Nl80211Command, Nl80211Handle, Nl80211Message};

/// Capability Information bits (IEEE 802.11-2020 9.4.1.4).
const CAP_IBSS: u16 = 1 << 1;
const CAP_PRIVACY: u16 = 1 << 4;

/// How long a scan may take before it is given up: a full 2.4 + 5 + 6 GHz passive scan
/// with DFS channels takes several seconds on common USB adapters.
pub const DEFAULT_SCAN_TIMEOUT: Duration = Duration::from_secs(20);

/// One BSS from a scan dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanBss {
    pub bssid: MacAddr,
    pub freq_mhz: u32,
    /// Signal in mBm (100 × dBm), when the driver reports dBm.
    pub signal_mbm: Option<i32>,
    /// The Capability Information field.
    pub capability: u16,
    /// The elements of the most recent frame (NL80211_BSS_INFORMATION_ELEMENTS).
    pub ies: Option<Vec<u8>>,
    /// Whether `ies` came from a probe response (NL80211_BSS_PRESP_DATA).
    pub ies_from_probe_response: bool,
    /// The elements of the last beacon (NL80211_BSS_BEACON_IES).
    pub beacon_ies: Option<Vec<u8>>,
    /// How long ago the kernel last updated this entry.
    pub seen_ms_ago: Option<u32>,
}

impl ScanBss {
    /// Reads one BSS's attributes (NL80211_ATTR_BSS); `None` without a BSSID or frequency.
    pub fn from_info(info: &[Nl80211BssInfo]) -> Option<ScanBss> {
        let (mut bssid, mut freq) = (None, None);
        let mut b = ScanBss {
            bssid: MacAddr::ZERO,
            freq_mhz: 0,
            signal_mbm: None,
            capability: 0,
            ies: None,
            ies_from_probe_response: false,
            beacon_ies: None,
            seen_ms_ago: None,
        };
        for i in info {
            match i {
                Nl80211BssInfo::Bssid(m) => bssid = Some(MacAddr(*m)),
                Nl80211BssInfo::Frequency(f) => freq = Some(*f),
                Nl80211BssInfo::SignalMbm(s) => b.signal_mbm = Some(*s),
                Nl80211BssInfo::Capability(c) => b.capability = c.bits(),
                Nl80211BssInfo::RawInformationElements(v) => b.ies = Some(v.clone()),
                Nl80211BssInfo::RawBeaconInformationElements(v) => b.beacon_ies = Some(v.clone()),
                // wl-nl80211 reads the NL80211_BSS_PRESP_DATA flag into this (empty) variant.
                Nl80211BssInfo::RawProbeResponseInformationElements(_) => {
                    b.ies_from_probe_response = true
                }
                Nl80211BssInfo::SeenMsAgo(ms) => b.seen_ms_ago = Some(*ms),
                _ => {}
            }
        }
        b.bssid = bssid?;
        b.freq_mhz = freq?;
        Some(b)
    }

    /// Signal in dBm, rounded.
    pub fn signal_dbm(&self) -> Option<i8> {
        let mbm = self.signal_mbm?;
        let dbm = (f64::from(mbm) / 100.0).round();
        Some(dbm.clamp(f64::from(i8::MIN), f64::from(i8::MAX)) as i8)
    }

    pub fn privacy(&self) -> bool {
        self.capability & CAP_PRIVACY != 0
    }

    pub fn ibss(&self) -> bool {
        self.capability & CAP_IBSS != 0
    }

    /// The channel the scan heard it on, from the frequency.
    pub fn heard(&self) -> Heard {
        heard_from_freq(self.freq_mhz)
    }
}

/// Band, channel and frequency of a centre frequency; unknown frequencies keep only the MHz.
pub fn heard_from_freq(freq_mhz: u32) -> Heard {
    let Ok(mhz) = u16::try_from(freq_mhz) else {
        return Heard::default();
    };
    match freq_to_channel(mhz) {
        Some((band, ch)) => Heard {
            band: Some(model_band(band)),
            channel: Some(ch),
            freq_mhz: Some(mhz),
        },
        None => Heard {
            freq_mhz: Some(mhz),
            ..Heard::default()
        },
    }
}

fn model_band(b: channel::Band) -> Band {
    match b {
        channel::Band::Ghz2_4 => Band::B2_4,
        channel::Band::Ghz5 => Band::B5,
        channel::Band::Ghz6 => Band::B6,
        channel::Band::Ghz60 => Band::B60,
    }
}

/// Feeds `f` the tracker events of one BSS: a beacon advert from the beacon elements, and a
/// probe-response advert when the latest elements came from a probe response (which is
/// where a hidden network's name shows). Both are what a monitor capture would have seen.
/// `now` is when the dump was read; each event is dated `now - seen_ms_ago`.
pub fn scan_events<F>(bss: &ScanBss, now: TimeUs, mut f: F)
where
    F: for<'a> FnMut(Event<'a>),
{
    let time = now - i64::from(bss.seen_ms_ago.unwrap_or(0)) * 1000;
    let mut advert = |ies: &[u8], probe_response: bool| {
        let elements: BssElements<'_> = parse_bss(ies);
        f(Event::BssAdvert {
            time,
            bssid: bss.bssid,
            probe_response,
            signal_dbm: bss.signal_dbm(),
            heard: bss.heard(),
            privacy: bss.privacy(),
            ibss: bss.ibss(),
            elements: &elements,
        });
    };
    let mut sent = false;
    if let Some(b) = &bss.beacon_ies {
        advert(b, false);
        sent = true;
    }
    if let Some(i) = &bss.ies
        && (bss.ies_from_probe_response || bss.beacon_ies.as_ref() != Some(i))
    {
        advert(i, bss.ies_from_probe_response);
        sent = true;
    }
    if !sent {
        // The driver kept no elements: the BSS still exists.
        advert(&[], bss.ies_from_probe_response);
    }
}

/// [`scan_events`] for every BSS of a scan.
pub fn events_for_scan<F>(results: &[ScanBss], now: TimeUs, mut f: F)
where
    F: for<'a> FnMut(Event<'a>),
{
    for b in results {
        scan_events(b, now, &mut f);
    }
}

/// A scan-completion notice from the nl80211 "scan" multicast group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanNotice {
    Done,
    Aborted,
}

/// Reads a multicast message: a NEW_SCAN_RESULTS or SCAN_ABORTED for `ifindex`.
pub fn scan_notice(msg: &Nl80211Message, ifindex: u32) -> Option<ScanNotice> {
    let ours = msg
        .attributes
        .iter()
        .any(|a| matches!(a, Nl80211Attr::IfIndex(i) if *i == ifindex));
    if !ours {
        return None;
    }
    match msg.cmd {
        Nl80211Command::NewScanResults => Some(ScanNotice::Done),
        Nl80211Command::ScanAborted => Some(ScanNotice::Aborted),
        _ => None,
    }
}

/// Triggered scans on one managed interface.
pub struct Scanner {
    iface: String,
    ifindex: u32,
    nl: Nl80211Handle,
    notices: tokio::sync::mpsc::UnboundedReceiver<ScanNotice>,
    /// Passive scans only listen; active ones (the default, as `iw scan` and phones do)
    /// also send wildcard probe requests, except where the regulatory domain forbids it.
    pub passive: bool,
    pub timeout: Duration,
}

impl Scanner {
    /// Opens a scanner on the adapter's managed interface, bringing it up if it is down.
    pub async fn open(adapter: &Adapter) -> Result<Scanner, Nl80211Error> {
        let (Some(ifindex), Some(name)) = (adapter.ifindex, adapter.name.clone()) else {
            return Err(Nl80211Error::Scan {
                iface: adapter.phy_name.clone(),
                what: "the adapter has no network interface to scan on".into(),
            });
        };
        if adapter.iftype == Some(IfType::Monitor) {
            return Err(Nl80211Error::Scan {
                iface: name,
                what: "scans need a managed interface, and this one is in monitor mode".into(),
            });
        }
        let link = Netlink::connect().await?;
        if !link.link_is_up(ifindex).await? {
            link.set_link_up(ifindex, true).await?;
        }
        Scanner::for_interface(&name, ifindex)
    }

    /// A scanner on an interface known by index and name (which must be managed and up).
    pub fn for_interface(name: &str, ifindex: u32) -> Result<Scanner, Nl80211Error> {
        let (conn, nl, mut raw) = match wl_nl80211::new_multicast_connection(&[
            wl_nl80211::Nl80211MulticastGroup::Scan,
        ]) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Nl80211Error::NoAdapter {
                    detail: "the kernel has no nl80211 family (cfg80211 is not loaded)".into(),
                });
            }
            Err(e) => return Err(Nl80211Error::from_io("open nl80211 scan socket", e)),
        };
        tokio::spawn(conn);
        let (tx, notices) = tokio::sync::mpsc::unbounded_channel();
        // Multicast messages arrive as raw generic netlink; keep only our interface's
        // scan notices. The task ends when the connection does (all handles dropped).
        tokio::spawn(async move {
            while let Some((msg, _)) = raw.next().await {
                let wl_nl80211::packet_core::NetlinkPayload::InnerMessage(raw) = msg.payload else {
                    continue;
                };
                let Ok(g) = raw.parse_into_genlmsg::<Nl80211Message>() else {
                    continue;
                };
                if let Some(n) = scan_notice(&g.payload, ifindex)
                    && tx.send(n).is_err()
                {
                    break;
                }
            }
        });
        Ok(Scanner {
            iface: name.to_string(),
            ifindex,
            nl,
            notices,
            passive: false,
            timeout: DEFAULT_SCAN_TIMEOUT,
        })
    }

    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Triggers a scan, waits for its results, and returns the BSSs heard during it (the
    /// kernel's cache also holds entries from earlier scans, up to 30 s old; those are
    /// left out so that one sighting is not reported twice).
    pub async fn scan_once(&mut self) -> Result<Vec<ScanBss>, Nl80211Error> {
        const OP: &str = "start a scan (nl80211 TRIGGER_SCAN)";
        while self.notices.try_recv().is_ok() {}
        let started = Instant::now();
        let attrs = wl_nl80211::Nl80211Scan::new(self.ifindex)
            .passive(self.passive)
            .build();
        let h = self.nl.clone();
        let stream = h.scan().trigger(attrs).execute().await;
        futures::pin_mut!(stream);
        loop {
            match stream.try_next().await.map_err(|e| map_wl(OP, e)) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                // Someone else's scan (wpa_supplicant, NetworkManager) is running: its
                // results serve as well as ours.
                Err(Nl80211Error::Busy { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        match tokio::time::timeout(self.timeout, self.notices.recv()).await {
            Ok(Some(ScanNotice::Done)) => {}
            Ok(Some(ScanNotice::Aborted)) => {
                return Err(Nl80211Error::Scan {
                    iface: self.iface.clone(),
                    what: "the kernel aborted the scan".into(),
                });
            }
            Ok(None) => {
                return Err(Nl80211Error::Scan {
                    iface: self.iface.clone(),
                    what: "the nl80211 event socket closed".into(),
                });
            }
            Err(_) => {
                return Err(Nl80211Error::Scan {
                    iface: self.iface.clone(),
                    what: format!("no results within {} s", self.timeout.as_secs()),
                });
            }
        }
        let window_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let mut all = self.dump().await?;
        all.retain(|b| {
            b.seen_ms_ago
                .is_none_or(|ago| ago <= window_ms.saturating_add(200))
        });
        Ok(all)
    }

    /// Reads the kernel's scan cache for this interface (NL80211_CMD_GET_SCAN dump).
    pub async fn dump(&self) -> Result<Vec<ScanBss>, Nl80211Error> {
        const OP: &str = "read scan results (nl80211 GET_SCAN)";
        let h = self.nl.clone();
        let stream = h.scan().dump(self.ifindex).execute().await;
        futures::pin_mut!(stream);
        let mut out = Vec::new();
        while let Some(m) = stream.try_next().await.map_err(|e| map_wl(OP, e))? {
            for a in &m.payload.attributes {
                if let Nl80211Attr::Bss(info) = a
                    && let Some(b) = ScanBss::from_info(info)
                {
                    out.push(b);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    //! Byte-level tests: a NL80211_ATTR_BSS payload built here, parsed by wl-nl80211, turned
    //! into tracker events. Real scans run against mac80211_hwsim in the virtual device
    //! (hil-tests/).
    use super::*;
    use wl_nl80211::packet_core::{NlasIterator, Parseable};

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let len = 4 + value.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    // nl80211.h: NL80211_ATTR_BSS and the NL80211_BSS_* numbers.
    const ATTR_BSS: u16 = 47;
    const BSS_BSSID: u16 = 1;
    const BSS_FREQUENCY: u16 = 2;
    const BSS_CAPABILITY: u16 = 5;
    const BSS_INFORMATION_ELEMENTS: u16 = 6;
    const BSS_SIGNAL_MBM: u16 = 7;
    const BSS_SEEN_MS_AGO: u16 = 10;
    const BSS_BEACON_IES: u16 = 11;
    const BSS_PRESP_DATA: u16 = 14;

    const HIDDEN_BEACON: &[u8] = &[0, 0, 1, 1, 0x82, 3, 1, 6];
    /// SSID "Caf\u{e9}<\"x\">" then an RSN element (CCMP, PSK).
    fn presp_ies() -> Vec<u8> {
        let ssid = "Caf\u{e9}<\"x\">".as_bytes();
        let mut v = vec![0, ssid.len() as u8];
        v.extend_from_slice(ssid);
        v.extend_from_slice(&[3, 1, 6]);
        v.extend_from_slice(&[
            48, 20, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 2, 0, 0,
        ]);
        v
    }

    fn bss_bytes(presp: bool) -> Vec<u8> {
        let mut b = nla(BSS_BSSID, &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
        b.extend(nla(BSS_FREQUENCY, &2437u32.to_ne_bytes()));
        b.extend(nla(BSS_CAPABILITY, &(0x0011u16).to_ne_bytes()));
        b.extend(nla(BSS_SIGNAL_MBM, &(-6150i32).to_ne_bytes()));
        b.extend(nla(BSS_SEEN_MS_AGO, &250u32.to_ne_bytes()));
        b.extend(nla(BSS_BEACON_IES, HIDDEN_BEACON));
        if presp {
            b.extend(nla(BSS_INFORMATION_ELEMENTS, &presp_ies()));
            b.extend(nla(BSS_PRESP_DATA, &[]));
        } else {
            b.extend(nla(BSS_INFORMATION_ELEMENTS, HIDDEN_BEACON));
        }
        nla(ATTR_BSS, &b)
    }

    fn parse_bss_attr(bytes: &[u8]) -> ScanBss {
        let attr = NlasIterator::new(bytes)
            .map(|n| Nl80211Attr::parse(&n.unwrap()).unwrap())
            .next()
            .unwrap();
        let Nl80211Attr::Bss(info) = attr else {
            panic!("not a BSS attribute: {attr:?}")
        };
        ScanBss::from_info(&info).expect("bssid and frequency present")
    }

    struct Seen {
        time: TimeUs,
        probe_response: bool,
        ssid: Option<Vec<u8>>,
        signal: Option<i8>,
        heard: Heard,
        privacy: bool,
        ibss: bool,
        rsn: bool,
    }

    fn collect(b: &ScanBss, now: TimeUs) -> Vec<Seen> {
        let mut out = Vec::new();
        scan_events(b, now, |e| {
            let Event::BssAdvert {
                time,
                bssid,
                probe_response,
                signal_dbm,
                heard,
                privacy,
                ibss,
                elements,
            } = e
            else {
                panic!("scans give only BSS adverts")
            };
            assert_eq!(bssid, MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]));
            out.push(Seen {
                time,
                probe_response,
                ssid: elements.ssid.map(|s| s.to_vec()),
                signal: signal_dbm,
                heard,
                privacy,
                ibss,
                rsn: elements.rsn.is_some(),
            });
        });
        out
    }

    #[test]
    fn beacon_and_probe_response_of_a_hidden_network_give_two_adverts() {
        let b = parse_bss_attr(&bss_bytes(true));
        assert!(b.ies_from_probe_response);
        assert_eq!(b.signal_dbm(), Some(-62));
        let ev = collect(&b, 10_000_000);
        assert_eq!(ev.len(), 2);
        let (beacon, presp) = (&ev[0], &ev[1]);
        assert!(!beacon.probe_response && presp.probe_response);
        assert_eq!(beacon.ssid.as_deref(), Some(&[][..]));
        assert_eq!(presp.ssid.as_deref(), Some("Caf\u{e9}<\"x\">".as_bytes()));
        assert!(presp.rsn && !beacon.rsn);
        for e in &ev {
            assert_eq!(e.time, 10_000_000 - 250_000);
            assert_eq!(e.signal, Some(-62));
            assert_eq!(
                e.heard,
                Heard {
                    band: Some(Band::B2_4),
                    channel: Some(6),
                    freq_mhz: Some(2437)
                }
            );
            assert!(e.privacy && !e.ibss);
        }
    }

    #[test]
    fn beacon_only_bss_gives_one_advert() {
        let b = parse_bss_attr(&bss_bytes(false));
        assert!(!b.ies_from_probe_response);
        let ev = collect(&b, 1_000_000);
        assert_eq!(ev.len(), 1);
        assert!(!ev[0].probe_response);
    }

    #[test]
    fn bss_without_elements_still_counts_and_without_bssid_is_skipped() {
        let mut b = parse_bss_attr(&bss_bytes(false));
        b.ies = None;
        b.beacon_ies = None;
        b.capability = CAP_IBSS;
        let ev = collect(&b, 0);
        assert_eq!(ev.len(), 1);
        assert!(ev[0].ibss && !ev[0].privacy);
        assert!(ScanBss::from_info(&[Nl80211BssInfo::Frequency(2412)]).is_none());
    }

    #[test]
    fn six_ghz_and_unknown_frequencies() {
        let h = heard_from_freq(5975);
        assert_eq!((h.band, h.channel), (Some(Band::B6), Some(5)));
        let odd = heard_from_freq(2414);
        assert_eq!(
            (odd.band, odd.channel, odd.freq_mhz),
            (None, None, Some(2414))
        );
    }

    #[test]
    fn scan_notices_are_read_for_our_interface_only() {
        let msg = |cmd, idx| Nl80211Message {
            cmd,
            attributes: vec![Nl80211Attr::IfIndex(idx)],
        };
        assert_eq!(
            scan_notice(&msg(Nl80211Command::NewScanResults, 5), 5),
            Some(ScanNotice::Done)
        );
        assert_eq!(
            scan_notice(&msg(Nl80211Command::ScanAborted, 5), 5),
            Some(ScanNotice::Aborted)
        );
        assert_eq!(
            scan_notice(&msg(Nl80211Command::NewScanResults, 6), 5),
            None
        );
        assert_eq!(scan_notice(&msg(Nl80211Command::TriggerScan, 5), 5), None);
    }
}
