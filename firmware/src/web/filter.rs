//! The network list's search, filters and sort orders: parsing the query string, matching a record, and reading one page of the matches from a store snapshot.
//!
//! Without a search or filter, sorted by first or last sighting, the first pages are read
//! straight off the store's time indexes. Anything else (a search, a filter, the signal
//! order, a deep page) passes over the store's in-memory list rows ([`ApRows`], a few dozen
//! bytes per network, kept current by the writer), keeping a (sort key, BSSID) pair per
//! match, selects the page among those without sorting them all, and decodes just the
//! page's records. No request decodes the whole store.

use std::collections::HashSet;
use std::ops::ControlFlow;

use piwardrive_sync::{DeviceId, Edits};
use serde::Deserialize;

use crate::dot11::MacAddr;
use crate::dot11::security::EncClass;
use crate::model::{ApRecord, Band};
use crate::store::{ApRow, ApRows, Store, StoreError, page_of};

/// List order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest first by first sighting.
    #[default]
    First,
    /// Most recently heard first.
    Last,
    /// Strongest best signal first (networks without a reading last).
    Signal,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::First => "first",
            Sort::Last => "last",
            Sort::Signal => "signal",
        }
    }
}

/// A security class to filter on; matches when the network's class (`WPA2/WPA3`, ...)
/// includes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecFilter {
    Open,
    Wep,
    Wpa,
    Wpa2,
    Wpa3,
    Owe,
}

impl SecFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            SecFilter::Open => "open",
            SecFilter::Wep => "wep",
            SecFilter::Wpa => "wpa",
            SecFilter::Wpa2 => "wpa2",
            SecFilter::Wpa3 => "wpa3",
            SecFilter::Owe => "owe",
        }
    }

    fn class(self) -> EncClass {
        match self {
            SecFilter::Open => EncClass::OPEN,
            SecFilter::Wep => EncClass::WEP,
            SecFilter::Wpa => EncClass::WPA,
            SecFilter::Wpa2 => EncClass::WPA2,
            SecFilter::Wpa3 => EncClass::WPA3,
            SecFilter::Owe => EncClass::OWE,
        }
    }

    /// Whether a network of security class `class` (`WPA2/WPA3`, ...) includes this one.
    fn matches(self, class: EncClass) -> bool {
        class.contains(self.class())
    }
}

/// `?page=N&sort=first|last|signal&q=TEXT&band=2.4|5|6&sec=open|wep|wpa|wpa2|wpa3|owe&hidden=yes|no&session=current&ignored=hide|only&device=HEX`;
/// pages count from 1. Empty values mean "any" (an HTML form sends them).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    pub page: Option<u64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sort: Option<Sort>,
    /// Case-insensitive text in the SSID (as displayed), the BSSID or the vendor.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub band: Option<BandFilter>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sec: Option<SecFilter>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub hidden: Option<YesNo>,
    /// `current`: only networks heard in the newest session.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub session: Option<SessionFilter>,
    /// `hide`: leave out the networks the user ignores; `only`: only those. Absent: all,
    /// ignored ones marked.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub ignored: Option<IgnoredFilter>,
    /// On a hub: only the networks this device (32 hex digits, its id) saw.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub device: Option<DeviceFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IgnoredFilter {
    Hide,
    Only,
}

impl IgnoredFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoredFilter::Hide => "hide",
            IgnoredFilter::Only => "only",
        }
    }
}

/// A device id as the hub's pages write it: 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceFilter(pub DeviceId);

impl<'de> Deserialize<'de> for DeviceFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DeviceFilter, D::Error> {
        let s = String::deserialize(d)?;
        crate::accounts::from_hex::<16>(s.trim())
            .map(|id| DeviceFilter(DeviceId(id)))
            .ok_or_else(|| {
                serde::de::Error::custom("device: expected a device id of 32 hex digits")
            })
    }
}

impl DeviceFilter {
    pub fn hex(self) -> String {
        crate::accounts::to_hex(&self.0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum BandFilter {
    #[serde(rename = "2.4")]
    B2_4,
    #[serde(rename = "5")]
    B5,
    #[serde(rename = "6")]
    B6,
}

impl BandFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            BandFilter::B2_4 => "2.4",
            BandFilter::B5 => "5",
            BandFilter::B6 => "6",
        }
    }

    fn band(self) -> Band {
        match self {
            BandFilter::B2_4 => Band::B2_4,
            BandFilter::B5 => Band::B5,
            BandFilter::B6 => Band::B6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum YesNo {
    Yes,
    No,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionFilter {
    Current,
}

/// Treats `key=` (an empty form field) as absent rather than as an invalid value.
fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => T::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(v)).map(Some),
    }
}

/// The filters, validated: what a record must satisfy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Lowercased search text; `None` when empty.
    pub q: Option<String>,
    pub band: Option<BandFilter>,
    pub sec: Option<SecFilter>,
    pub hidden: Option<YesNo>,
    pub session: Option<SessionFilter>,
    pub ignored: Option<IgnoredFilter>,
    pub device: Option<DeviceFilter>,
}

/// Longest search text kept; the rest is ignored.
const MAX_QUERY_CHARS: usize = 64;

impl Filter {
    pub fn new(p: &ListParams) -> Filter {
        Filter {
            q: p.q
                .as_deref()
                .map(|q| {
                    q.trim()
                        .chars()
                        .take(MAX_QUERY_CHARS)
                        .collect::<String>()
                        .to_lowercase()
                })
                .filter(|q| !q.is_empty()),
            band: p.band,
            sec: p.sec,
            hidden: p.hidden,
            session: p.session,
            ignored: p.ignored,
            device: p.device,
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The test of every filter but the session one (checked against a set), prepared for
    /// one pass over `rows`: the search text's finder is built once and each vendor name is
    /// searched once, not once per network. The search is case-insensitive over the SSID as
    /// displayed ([`display_ssid`](super::escape::display_ssid)), the BSSID (with or without colons), the vendor
    /// and the user's label.
    fn matcher<'a>(&'a self, rows: &'a ApRows, edits: &Edits) -> Matcher<'a> {
        let search = self.q.as_deref().map(|q| {
            let bssid_like = q.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
            let vendors: Vec<bool> = rows.vendors().iter().map(|v| text_contains(v, q)).collect();
            let labels: HashSet<u64> = edits
                .labels()
                .filter(|(_, l)| text_contains(l, q))
                .map(|(m, _)| MacAddr(m.0).to_u64())
                .collect();
            let text_rows = rows.text_hits(q.as_bytes());
            if bssid_like || vendors.contains(&true) || !labels.is_empty() {
                let mut text_hits = vec![false; rows.len()];
                for &i in &text_rows {
                    text_hits[i as usize] = true;
                }
                Search {
                    q,
                    bssid_like,
                    vendors,
                    text_hits,
                    labels,
                    only: None,
                }
            } else {
                Search {
                    q,
                    bssid_like,
                    vendors,
                    text_hits: Vec::new(),
                    labels,
                    only: Some(text_rows),
                }
            }
        });
        Matcher {
            filter: self,
            search,
            ignored: self.ignored.map(|_| {
                edits
                    .ignored()
                    .iter()
                    .map(|m| MacAddr(m.0).to_u64())
                    .collect()
            }),
            device: self.device.map(|d| rows.device_index(&d.0)),
            rows,
        }
    }

    /// The query string of these filters and `sort` (without the page), `&`-joined and
    /// URL-encoded, for links that keep them.
    pub fn query(&self, sort: Sort) -> String {
        let mut parts = Vec::new();
        if sort != Sort::default() {
            parts.push(format!("sort={}", sort.as_str()));
        }
        if let Some(q) = &self.q {
            parts.push(format!("q={}", url_encode(q)));
        }
        if let Some(b) = self.band {
            parts.push(format!("band={}", b.as_str()));
        }
        if let Some(s) = self.sec {
            parts.push(format!("sec={}", s.as_str()));
        }
        if let Some(h) = self.hidden {
            parts.push(format!(
                "hidden={}",
                if h == YesNo::Yes { "yes" } else { "no" }
            ));
        }
        if self.session.is_some() {
            parts.push("session=current".to_owned());
        }
        if let Some(i) = self.ignored {
            parts.push(format!("ignored={}", i.as_str()));
        }
        if let Some(d) = self.device {
            parts.push(format!("device={}", d.hex()));
        }
        parts.join("&")
    }
}

/// A [`Filter`] ready for one pass over the list rows.
struct Matcher<'a> {
    filter: &'a Filter,
    search: Option<Search<'a>>,
    /// The ignored networks, when the filter asks about them.
    ignored: Option<HashSet<u64>>,
    /// The device's index in the rows, when the filter names one (`Some(None)`: no row
    /// has it, so nothing matches).
    device: Option<Option<u32>>,
    rows: &'a ApRows,
}

/// The search text, prepared.
struct Search<'a> {
    /// Lowercased, as [`Filter::new`] keeps it.
    q: &'a str,
    /// Only hex digits and colons: the query can match a BSSID.
    bssid_like: bool,
    /// Per vendor index of the rows: whether its name contains `q`.
    vendors: Vec<bool>,
    /// Per row: whether its SSID's search text contains `q` ([`ApRows::text_hits`]); empty
    /// when `only` is set.
    text_hits: Vec<bool>,
    /// The networks whose label contains `q`.
    labels: HashSet<u64>,
    /// When only an SSID can match (no vendor name or label contains `q` and it cannot be
    /// part of a BSSID): the rows whose SSID does, the only ones a pass needs to look at.
    only: Option<Vec<u32>>,
}

impl Matcher<'_> {
    /// The rows worth testing, by index: all of them, or only those whose SSID matched.
    fn candidates<'r>(
        &'r self,
        rows: &'r [ApRow],
    ) -> Box<dyn Iterator<Item = (usize, &'r ApRow)> + 'r> {
        match self.search.as_ref().and_then(|s| s.only.as_deref()) {
            Some(only) => Box::new(only.iter().map(|&i| (i as usize, &rows[i as usize]))),
            None => Box::new(rows.iter().enumerate()),
        }
    }
}

impl Matcher<'_> {
    /// Whether `ap` passes (`pages_match_a_full_decode_before_and_after_writes` holds this
    /// to a plain reimplementation over the decoded records).
    /// `i` is the row's index in the rows.
    fn matches(&self, i: usize, ap: &ApRow) -> bool {
        let f = self.filter;
        if let Some(b) = f.band
            && ap.band != Some(b.band())
        {
            return false;
        }
        if let Some(h) = f.hidden
            && ap.hidden != (h == YesNo::Yes)
        {
            return false;
        }
        if let Some(s) = f.sec
            && !s.matches(ap.security)
        {
            return false;
        }
        if let (Some(want), Some(ignored)) = (f.ignored, &self.ignored)
            && ignored.contains(&ap.bssid.to_u64()) != (want == IgnoredFilter::Only)
        {
            return false;
        }
        if let Some(device) = self.device
            && !device.is_some_and(|idx| self.rows.row_has_device(i, idx))
        {
            return false;
        }
        if let Some(search) = &self.search {
            // With `only`, the caller passes only rows whose SSID matched.
            let hit = search.only.is_some()
                || search.text_hits.get(i) == Some(&true)
                || search.labels.contains(&ap.bssid.to_u64())
                || ap
                    .vendor
                    .is_some_and(|v| search.vendors.get(v as usize) == Some(&true))
                || (search.bssid_like && bssid_contains(ap.bssid, search.q));
            if !hit {
                return false;
            }
        }
        true
    }
}

/// Whether `hay`, ASCII-lowercased, contains `needle`. Used with a lowercased query on ASCII
/// text, where it is exactly `to_lowercase().contains()`: a query with anything outside ASCII
/// cannot occur in ASCII text, and its bytes never equal an ASCII byte.
fn ascii_contains_lower(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay.windows(needle.len()).any(|w| {
            w.iter()
                .zip(needle)
                .all(|(h, n)| h.to_ascii_lowercase() == *n)
        })
}

/// Whether `text`, lowercased, contains `q`.
fn text_contains(text: &str, q: &str) -> bool {
    if text.is_ascii() {
        ascii_contains_lower(text.as_bytes(), q.as_bytes())
    } else {
        text.to_lowercase().contains(q)
    }
}

/// Whether the BSSID as shown (`aa:bb:cc:dd:ee:ff`, lowercase) or without its colons contains
/// `q`, formatted on the stack.
fn bssid_contains(bssid: MacAddr, q: &str) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut colons = [b':'; 17];
    let mut plain = [0u8; 12];
    for (i, o) in bssid.octets().iter().enumerate() {
        let (hi, lo) = (HEX[usize::from(o >> 4)], HEX[usize::from(o & 15)]);
        colons[3 * i] = hi;
        colons[3 * i + 1] = lo;
        plain[2 * i] = hi;
        plain[2 * i + 1] = lo;
    }
    let q = q.as_bytes();
    let has = |hay: &[u8]| q.len() <= hay.len() && hay.windows(q.len()).any(|w| w == q);
    has(&colons) || has(&plain)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One page of matches and how many there are in all.
pub struct Page {
    pub total: u64,
    pub aps: Vec<ApRecord>,
}

/// Unfiltered pages that start before this many networks are read off the time indexes,
/// which costs per entry skipped; deeper ones from the list rows, which costs the same for
/// every page.
const INDEX_OFFSET_MAX: u64 = 1_000;

/// Reads one page of the APs that pass `filter`, in `sort` order (ties by BSSID, descending,
/// as the indexes order them); `edits` are the user's (labels for the search, the ignored
/// networks for that filter).
pub fn read_page(
    store: &Store,
    filter: &Filter,
    edits: &Edits,
    sort: Sort,
    offset: u64,
    limit: usize,
) -> Result<Page, StoreError> {
    if filter.is_empty() && sort != Sort::Signal && offset < INDEX_OFFSET_MAX {
        let total = store.ap_count()?;
        let aps = match sort {
            Sort::Last => store.aps_by_last_seen(offset, limit)?,
            _ => store.aps_by_first_seen(offset, limit)?,
        };
        return Ok(Page { total, aps });
    }
    let session: Option<HashSet<u64>> = match filter.session {
        Some(SessionFilter::Current) => {
            let snap = store.snapshot()?;
            let newest = snap.sessions()?.iter().map(|s| s.id).max();
            let mut macs = HashSet::new();
            if let Some(id) = newest {
                let _ = snap.for_each_mac_in_session(id, |m| {
                    macs.insert(m.to_u64());
                    ControlFlow::<()>::Continue(())
                })?;
            }
            Some(macs)
        }
        None => None,
    };
    let (total, page) = store.with_ap_rows(|rows| {
        let matcher = filter.matcher(rows, edits);
        let mut keys: Vec<(i64, u64)> = matcher
            .candidates(rows.rows())
            .filter(|&(i, ap)| {
                session
                    .as_ref()
                    .is_none_or(|s| s.contains(&ap.bssid.to_u64()))
                    && matcher.matches(i, ap)
            })
            .map(|(_, ap)| {
                let key = match sort {
                    Sort::First => ap.first_seen,
                    Sort::Last => ap.last_seen,
                    Sort::Signal => ap.best_signal_dbm.map_or(i64::MIN, i64::from),
                };
                (key, ap.bssid.to_u64())
            })
            .collect();
        let total = keys.len() as u64;
        (total, page_of(&mut keys, offset, limit).to_vec())
    })?;
    // Taken after the rows were read, the snapshot holds at least the commits they do.
    let lookup = store.snapshot()?.aps()?;
    let mut aps = Vec::with_capacity(page.len());
    for (_, bssid) in page {
        if let Some(ap) = lookup.get(MacAddr::from_u64(bssid))? {
            aps.push(ap);
        }
    }
    Ok(Page { total, aps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::escape::display_ssid;

    fn params(q: &str) -> ListParams {
        serde_urlencoded_like(q)
    }

    /// Parses a query string the way axum's `Query` does.
    fn serde_urlencoded_like(q: &str) -> ListParams {
        let uri: axum::http::Uri = format!("/networks?{q}").parse().unwrap();
        axum::extract::Query::<ListParams>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn empty_form_fields_mean_any() {
        let p = params("q=&band=&sec=&hidden=&session=&sort=");
        assert!(Filter::new(&p).is_empty());
        assert_eq!(p.sort, None);
        let p = params("q=%20Home%20&band=5&sec=wpa3&hidden=no&session=current&sort=signal");
        let f = Filter::new(&p);
        assert_eq!(f.q.as_deref(), Some("home"));
        assert_eq!(f.band, Some(BandFilter::B5));
        assert_eq!(f.sec, Some(SecFilter::Wpa3));
        assert_eq!(f.hidden, Some(YesNo::No));
        assert_eq!(p.sort, Some(Sort::Signal));
        assert_eq!(
            f.query(Sort::Signal),
            "sort=signal&q=home&band=5&sec=wpa3&hidden=no&session=current"
        );
    }

    #[test]
    fn security_classes_match_by_component() {
        let c = EncClass::WPA2 | EncClass::WPA3;
        assert_eq!(c.to_string(), "WPA2/WPA3");
        assert!(SecFilter::Wpa2.matches(c));
        assert!(SecFilter::Wpa3.matches(c));
        assert!(!SecFilter::Wpa.matches(c));
        assert!(SecFilter::Wpa.matches(EncClass::WPA | EncClass::WPA2));
        assert!(SecFilter::Open.matches(EncClass::OPEN));
        assert!(!SecFilter::Owe.matches(EncClass::OPEN));
    }

    /// The list as it was read before the rows existed: every record decoded, the search
    /// over `display_ssid(..).to_lowercase()`, `to_string()` of the BSSID and the vendor, the
    /// security class as the text the page shows, everything sorted. The rows must give
    /// exactly this.
    fn reference(
        store: &Store,
        aps: &[ApRecord],
        edits: &Edits,
        filter: &Filter,
        sort: Sort,
        offset: u64,
        limit: usize,
    ) -> (u64, Vec<MacAddr>) {
        let session: Option<HashSet<u64>> = filter.session.map(|_| {
            let snap = store.snapshot().unwrap();
            let newest = snap.sessions().unwrap().iter().map(|s| s.id).max();
            let mut macs = HashSet::new();
            if let Some(id) = newest {
                let _ = snap
                    .for_each_mac_in_session(id, |m| {
                        macs.insert(m.to_u64());
                        ControlFlow::<()>::Continue(())
                    })
                    .unwrap();
            }
            macs
        });
        let matches = |ap: &ApRecord| {
            if let Some(b) = filter.band
                && ap.band != Some(b.band())
            {
                return false;
            }
            if let Some(h) = filter.hidden
                && ap.hidden != (h == YesNo::Yes)
            {
                return false;
            }
            if let Some(s) = filter.sec {
                let class = super::super::format::security_class(&ap.security);
                let want = s.as_str().to_ascii_uppercase();
                if !class.split('/').any(|c| c == want) {
                    return false;
                }
            }
            if let Some(q) = &filter.q {
                let bssid = ap.bssid.to_string();
                let hit = bssid.contains(q.as_str())
                    || bssid.replace(':', "").contains(q.as_str())
                    || ap
                        .ssid
                        .as_deref()
                        .is_some_and(|s| display_ssid(s).to_lowercase().contains(q.as_str()))
                    || ap
                        .vendor
                        .as_deref()
                        .is_some_and(|v| v.to_lowercase().contains(q.as_str()))
                    || edits
                        .label(&piwardrive_sync::Mac(ap.bssid.octets()))
                        .is_some_and(|l| l.to_lowercase().contains(q.as_str()));
                if !hit {
                    return false;
                }
            }
            let ignored = edits.is_ignored(&piwardrive_sync::Mac(ap.bssid.octets()));
            match filter.ignored {
                Some(IgnoredFilter::Hide) if ignored => return false,
                Some(IgnoredFilter::Only) if !ignored => return false,
                _ => {}
            }
            session
                .as_ref()
                .is_none_or(|s| s.contains(&ap.bssid.to_u64()))
        };
        let mut keys: Vec<(i64, u64)> = aps
            .iter()
            .filter(|ap| matches(ap))
            .map(|ap| {
                let key = match sort {
                    Sort::First => ap.first_seen,
                    Sort::Last => ap.last_seen,
                    Sort::Signal => ap.best_signal_dbm.map_or(i64::MIN, i64::from),
                };
                (key, ap.bssid.to_u64())
            })
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let page = keys
            .iter()
            .skip(offset as usize)
            .take(limit)
            .map(|&(_, m)| MacAddr::from_u64(m))
            .collect();
        (keys.len() as u64, page)
    }

    /// SSIDs that take every path of the search: plain ASCII, case, escapes, invalid UTF-8,
    /// markup, accents, emoji, control characters, backslashes.
    const SSIDS: &[&[u8]] = &[
        b"FRITZ!Box 7590 AB",
        b"Vodafone-0200",
        b"net-ab",
        b"<script>alert(1)</script>",
        b"\"><svg onload=x>",
        b"back\\slash",
        b"\\xff literally",
        &[0xff, 0xfe, b'a', b'b'],
        b"tab\there",
        b"nul\0x",
        "Café Gäste".as_bytes(),
        "CAFÉ GÄSTE".as_bytes(),
        "🏠 Home".as_bytes(),
        "\u{202e}gnp.exe".as_bytes(),
        b"",
        b"AbCdEf",
        &[0xe6, 0x97, 0xa0, 0xe7, 0xba, 0xbf],
    ];
    const VENDORS: &[Option<&str>] = &[
        Some("Acme Radio Ltd"),
        Some("AVM Audiovisuelles Marketing und Computersysteme GmbH"),
        Some("Société Électronique ÄÖÜ"),
        None,
        Some("ABCDEF Networks"),
    ];

    fn varied_ap(i: u64, round: u64) -> ApRecord {
        use crate::model::{Phy, Security, SsidSeen};
        let ssid = SSIDS[((i + round) % SSIDS.len() as u64) as usize].to_vec();
        let hidden = (i + round).is_multiple_of(11);
        let t0 = 1_795_737_600_000_000i64;
        ApRecord {
            // A spread of BSSIDs, some with letters in every octet.
            bssid: MacAddr::from_u64(0x02ab_cd00_0000 + i * 0x0001_0203),
            ssid: (!hidden || i.is_multiple_of(2)).then(|| ssid.clone()),
            ssid_history: vec![SsidSeen {
                ssid,
                count: 1,
                first_seen: t0,
                last_seen: t0,
            }],
            hidden,
            channel: Some(6),
            freq_mhz: Some(2437),
            band: [Some(Band::B2_4), Some(Band::B5), Some(Band::B6), None]
                [((i * 7 + round) % 4) as usize],
            width_mhz: None,
            phy: Phy::N,
            heard_channels: vec![6],
            security: Security {
                privacy: !i.is_multiple_of(5),
                wpa: i % 6 == 1,
                rsn_akms: [0, 1 << 2, (1 << 2) | (1 << 8), 1 << 8, 1 << 18, 1 << 1]
                    [((i + round) % 6) as usize],
                ..Default::default()
            },
            vendor: VENDORS[((i * 3 + round) % VENDORS.len() as u64) as usize].map(str::to_owned),
            country: None,
            mesh_id: None,
            ibss: false,
            // Ties on purpose: several networks share each time and each signal.
            first_seen: t0 + ((i * 13 + round) % 40) as i64 * 1_000_000,
            last_seen: t0 + ((i * 29 + round * 3) % 50) as i64 * 1_000_000,
            beacons: 1,
            probe_responses: 0,
            data_frames: 0,
            best_signal_dbm: (!i.is_multiple_of(9)).then(|| -30 - ((i + round) % 20) as i8),
            best_fix: None,
            best_fix_signal_dbm: None,
            position: None,
            last_signal_dbm: None,
            client_count: 0,
        }
    }

    fn write(w: &crate::store::StoreWriter, aps: Vec<ApRecord>, session: u64) {
        use crate::model::{Observation, ObservationKind, SessionRecord, TimeSource};
        let observations = aps
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 3 != 0)
            .map(|(k, ap)| Observation {
                seq: session * 100_000 + k as u64,
                session_id: session,
                kind: ObservationKind::Ap,
                mac: ap.bssid,
                time: ap.last_seen,
                signal_dbm: None,
                channel: None,
                freq_mhz: None,
                fix: None,
            })
            .collect();
        let s = SessionRecord::new(session, [0; 16], 0, vec![], TimeSource::SystemClock);
        w.send(crate::store::Batch {
            aps,
            observations,
            sessions: vec![s],
            ..Default::default()
        })
        .unwrap();
        w.flush().unwrap();
    }

    fn compare(store: &Store, label: &str) -> usize {
        let queries = [
            "",
            "net",
            "NET",
            "fritz",
            "ü",
            "Ä",
            "é",
            "\\x",
            "\\xff",
            "xff",
            "<script",
            "02:",
            "02:ab",
            "02ab",
            "ab",
            "cd:0",
            ":",
            "acme",
            "société",
            "🏠",
            "\\\\",
            "\u{202e}",
            "zz-none",
            "a",
            "t\\x09",
            "gäste",
            "home",
            "büro",
        ];
        let bands = ["", "2.4", "5", "6"];
        let secs = ["", "open", "wep", "wpa", "wpa2", "wpa3", "owe"];
        let hiddens = ["", "yes", "no"];
        let sessions = ["", "current"];
        let ignoreds = ["", "hide", "only"];
        let aps = store.all_aps().unwrap();
        let edits = store.edits().unwrap();
        let mut checked = 0;
        let mut k = 0usize;
        let mut check = |query: String, offset: u64, limit: usize| {
            let p = params(&query);
            let filter = Filter::new(&p);
            let sort = p.sort.unwrap_or_default();
            let got = read_page(store, &filter, &edits, sort, offset, limit).unwrap();
            let want = reference(store, &aps, &edits, &filter, sort, offset, limit);
            let got_macs: Vec<MacAddr> = got.aps.iter().map(|a| a.bssid).collect();
            assert_eq!(
                (got.total, got_macs),
                want,
                "{label}: ?{query} offset {offset} limit {limit}"
            );
            checked += 1;
        };
        for q in queries {
            for sort in ["first", "last", "signal"] {
                for (offset, limit) in [(0, 50), (7, 5), (1_000, 50), (1_030, 9)] {
                    k += 1;
                    let query = format!(
                        "q={}&sort={sort}&band={}&sec={}&hidden={}&session={}&ignored={}",
                        url_encode(q),
                        bands[k % bands.len()],
                        secs[k % secs.len()],
                        hiddens[(k / 2) % hiddens.len()],
                        sessions[(k / 3) % sessions.len()],
                        ignoreds[(k / 5) % ignoreds.len()],
                    );
                    check(query, offset, limit);
                }
            }
        }
        for band in bands {
            for sec in secs {
                for hidden in hiddens {
                    for session in sessions {
                        let query = format!(
                            "sort=signal&band={band}&sec={sec}&hidden={hidden}&session={session}"
                        );
                        check(query, 0, 50);
                    }
                }
            }
        }
        checked
    }

    /// The rows give exactly the pages the old full decode gave, for every search, filter,
    /// order and depth, and still do after commits that change, move and add networks.
    #[test]
    fn pages_match_a_full_decode_before_and_after_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let w = crate::store::StoreWriter::spawn(store.clone());
        write(&w, (0..1_100).map(|i| varied_ap(i, 0)).collect(), 1);
        // The user's labels (user text, searched like the SSID) and ignored networks.
        let me = store.sync_id();
        let labels = ["Büro", "home <b>", "Gäste-Netz", "x"];
        store
            .update_edits(|e| {
                for i in (0..1_100u64).step_by(7) {
                    let m = piwardrive_sync::Mac(varied_ap(i, 0).bssid.octets());
                    e.set_label(me, m, labels[(i % 4) as usize], 1).unwrap();
                }
                for i in (0..1_100u64).step_by(5) {
                    e.ignore(me, piwardrive_sync::Mac(varied_ap(i, 0).bssid.octets()));
                }
            })
            .unwrap();
        assert_eq!(compare(&store, "first write"), 28 * 3 * 4 + 4 * 7 * 3 * 2);
        // Rewrite a third of the networks (new SSIDs, times, bands, security) and add new
        // ones, in a new session, while the rows are built.
        let changed: Vec<ApRecord> = (0..1_300)
            .filter(|i| i % 3 == 0 || *i >= 1_100)
            .map(|i| varied_ap(i, 1))
            .collect();
        write(&w, changed, 2);
        compare(&store, "after the second write");
        w.finish().unwrap();
    }

    #[test]
    fn search_text_is_encoded_in_links() {
        assert_eq!(url_encode("a b&c=<\"'>"), "a%20b%26c%3D%3C%22%27%3E");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}
