//! The network list's search, filters and sort orders: parsing the query string, matching a record, and reading one page of the matches from a store snapshot.
//!
//! Without a search or filter, and sorted by first or last sighting, a page is read straight
//! off the store's time indexes. Anything else scans the APs once in a snapshot, keeping only
//! a (sort key, BSSID) pair per match, sorts those, and decodes just the page's records, so
//! memory stays at 16 bytes per matching network.

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde::Deserialize;

use super::escape::display_ssid;
use super::format;
use crate::dot11::MacAddr;
use crate::model::{ApRecord, Band};
use crate::store::{Store, StoreError};

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

    fn matches(self, class: &str) -> bool {
        let want = self.as_str().to_ascii_uppercase();
        class.split('/').any(|c| c == want)
    }
}

/// `?page=N&sort=first|last|signal&q=TEXT&band=2.4|5|6&sec=open|wep|wpa|wpa2|wpa3|owe&hidden=yes|no&session=current`;
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
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether `ap` passes every filter but the session one (checked against a set).
    pub fn matches(&self, ap: &ApRecord) -> bool {
        if let Some(b) = self.band
            && ap.band != Some(b.band())
        {
            return false;
        }
        if let Some(h) = self.hidden
            && ap.hidden != (h == YesNo::Yes)
        {
            return false;
        }
        if let Some(s) = self.sec
            && !s.matches(&format::security_class(&ap.security))
        {
            return false;
        }
        if let Some(q) = &self.q {
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
                    .is_some_and(|v| v.to_lowercase().contains(q.as_str()));
            if !hit {
                return false;
            }
        }
        true
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
        parts.join("&")
    }
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

/// Reads one page of the APs that pass `filter`, in `sort` order (ties by BSSID, descending,
/// as the indexes order them).
pub fn read_page(
    store: &Store,
    filter: &Filter,
    sort: Sort,
    offset: u64,
    limit: usize,
) -> Result<Page, StoreError> {
    if filter.is_empty() && sort != Sort::Signal {
        let total = store.ap_count()?;
        let aps = match sort {
            Sort::Last => store.aps_by_last_seen(offset, limit)?,
            _ => store.aps_by_first_seen(offset, limit)?,
        };
        return Ok(Page { total, aps });
    }
    let snap = store.snapshot()?;
    let session: Option<HashSet<u64>> = match filter.session {
        Some(SessionFilter::Current) => {
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
    let mut keys: Vec<(i64, u64)> = Vec::new();
    let _ = snap.for_each_ap(|ap| {
        let in_session = session
            .as_ref()
            .is_none_or(|s| s.contains(&ap.bssid.to_u64()));
        if in_session && filter.matches(ap) {
            let key = match sort {
                Sort::First => ap.first_seen,
                Sort::Last => ap.last_seen,
                Sort::Signal => ap.best_signal_dbm.map_or(i64::MIN, i64::from),
            };
            keys.push((key, ap.bssid.to_u64()));
        }
        ControlFlow::<()>::Continue(())
    })?;
    keys.sort_unstable_by(|a, b| b.cmp(a));
    let total = keys.len() as u64;
    let lookup = snap.aps()?;
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(keys.len());
    let mut aps = Vec::with_capacity(limit.min(keys.len() - start));
    for &(_, bssid) in keys[start..].iter().take(limit) {
        if let Some(ap) = lookup.get(MacAddr::from_u64(bssid))? {
            aps.push(ap);
        }
    }
    Ok(Page { total, aps })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(SecFilter::Wpa2.matches("WPA2/WPA3"));
        assert!(SecFilter::Wpa3.matches("WPA2/WPA3"));
        assert!(!SecFilter::Wpa.matches("WPA2/WPA3"));
        assert!(SecFilter::Wpa.matches("WPA/WPA2"));
        assert!(SecFilter::Open.matches("OPEN"));
        assert!(!SecFilter::Owe.matches("OPEN"));
    }

    #[test]
    fn search_text_is_encoded_in_links() {
        assert_eq!(url_encode("a b&c=<\"'>"), "a%20b%26c%3D%3C%22%27%3E");
        assert_eq!(url_encode("é"), "%C3%A9");
    }
}
