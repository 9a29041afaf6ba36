//! Store reads for the UI's summaries and lists: counts over the indexes, and the in-memory rows the network list filters and sorts.
//!
//! [`ApRows`] holds, per AP, only what the list's search, filters and orders look at (about
//! 80 bytes each). It is built from one snapshot the first time a list needs it, and from
//! then on the writer upserts the APs of every commit into it right after the commit, so it
//! follows the store without ever being rebuilt. A filtered or re-sorted page then costs a
//! pass over these rows and a point lookup per shown network, instead of decoding every
//! record in the store for every request. A command that never lists networks never builds it.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, RwLock};

use piwardrive_dot11::MacAddr;
use piwardrive_dot11::security::{EncClass, classify};

use super::Store;
use super::StoreError;
use super::schema::APS_BY_FIRST_SEEN;
use crate::model::{ApRecord, Band, TimeUs};

impl Store {
    /// How many APs were first seen at or after `since` (a range of the first-seen index).
    pub fn aps_first_seen_since(&self, since: TimeUs) -> Result<u64, StoreError> {
        self.read(|txn| {
            let idx = txn.open_table(APS_BY_FIRST_SEEN)?;
            let mut n = 0u64;
            for entry in idx.range((since, 0u64)..)? {
                entry?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Runs `f` on the list rows of every AP, building them from a snapshot on first use.
    ///
    /// The rows are as of the last commit the writer has applied to them; a snapshot taken
    /// around this call may be one commit apart, which a list shows as a count that is a
    /// moment stale, as the unfiltered list already may.
    pub fn with_ap_rows<T>(&self, f: impl FnOnce(&ApRows) -> T) -> Result<T, StoreError> {
        let cache = &self.inner.ap_rows;
        {
            let rows = cache.read().unwrap_or_else(|p| p.into_inner());
            if let Some(rows) = rows.as_ref() {
                return Ok(f(rows));
            }
        }
        let mut slot = cache.write().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            // Built under the write lock: a commit that lands meanwhile waits in
            // `ap_rows_committed` and is applied after, and applying a commit the snapshot
            // already holds changes nothing (rows are upserts).
            let mut rows = ApRows::default();
            let _: ControlFlow<()> = self.snapshot()?.for_each_ap(|ap| {
                rows.upsert(ap);
                ControlFlow::Continue(())
            })?;
            *slot = Some(rows);
        }
        Ok(f(slot.as_ref().expect("filled above")))
    }

    /// Applies the APs of a commit that has just succeeded to the rows, if they are built.
    pub(crate) fn ap_rows_committed<'a>(&self, aps: impl Iterator<Item = &'a ApRecord>) {
        let mut slot = self
            .inner
            .ap_rows
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(rows) = slot.as_mut() {
            for ap in aps {
                rows.upsert(ap);
            }
        }
    }
}

/// The writer's and the readers' shared handle on the rows (`None` until first used).
pub(crate) type ApRowsCache = RwLock<Option<ApRows>>;

/// One AP as the network list sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApRow {
    pub bssid: MacAddr,
    pub first_seen: TimeUs,
    pub last_seen: TimeUs,
    pub best_signal_dbm: Option<i8>,
    pub band: Option<Band>,
    pub hidden: bool,
    /// The security class, as [`classify`] derives it from the record.
    pub security: EncClass,
    /// The SSID's raw bytes, as in the record.
    pub ssid: Option<Box<[u8]>>,
    /// The SSID ASCII-lowercased, when it is all printable ASCII other than `\\` (then its
    /// display text is itself, and a search needs no decoding); `None` otherwise.
    pub ssid_lower: Option<Box<[u8]>>,
    /// Shared between the APs of one vendor.
    pub vendor: Option<Arc<str>>,
}

/// The list rows of every AP, in no particular order.
#[derive(Debug, Default)]
pub struct ApRows {
    rows: Vec<ApRow>,
    /// BSSID to its index in `rows`.
    slots: HashMap<u64, usize>,
    /// One copy of each vendor name.
    vendors: HashSet<Arc<str>>,
}

impl ApRows {
    /// Adds `ap`'s row, or replaces the row of the same BSSID.
    pub fn upsert(&mut self, ap: &ApRecord) {
        let vendor = ap.vendor.as_deref().map(|v| match self.vendors.get(v) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<str> = Arc::from(v);
                self.vendors.insert(shared.clone());
                shared
            }
        });
        let s = &ap.security;
        let row = ApRow {
            bssid: ap.bssid,
            first_seen: ap.first_seen,
            last_seen: ap.last_seen,
            best_signal_dbm: ap.best_signal_dbm,
            band: ap.band,
            hidden: ap.hidden,
            security: classify(s.privacy, s.wpa, s.rsn_akms),
            ssid: ap.ssid.as_deref().map(Box::from),
            ssid_lower: ap
                .ssid
                .as_deref()
                .filter(|raw| raw.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'\\'))
                .map(|raw| raw.to_ascii_lowercase().into_boxed_slice()),
            vendor,
        };
        match self.slots.get(&ap.bssid.to_u64()) {
            Some(&i) => self.rows[i] = row,
            None => {
                self.slots.insert(ap.bssid.to_u64(), self.rows.len());
                self.rows.push(row);
            }
        }
    }

    pub fn rows(&self) -> &[ApRow] {
        &self.rows
    }

    /// Every vendor name the rows share (one copy each).
    pub fn vendors(&self) -> impl Iterator<Item = &Arc<str>> {
        self.vendors.iter()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Sorts the `(key, bssid)` pairs of a list newest/strongest first (descending, ties by BSSID
/// descending, as the time indexes order them) just far enough to return the `limit` that
/// follow `offset`: a selection around the page, then a sort of the page only, so a page
/// costs O(matches) whatever its number.
pub fn page_of(keys: &mut [(i64, u64)], offset: u64, limit: usize) -> &[(i64, u64)] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(keys.len());
    let end = start.saturating_add(limit).min(keys.len());
    if start == end {
        return &[];
    }
    let desc = |a: &(i64, u64), b: &(i64, u64)| b.cmp(a);
    if start > 0 {
        // Everything before `start` now sorts before keys[start], everything after it after.
        keys.select_nth_unstable_by(start, desc);
    }
    let rest = &mut keys[start..];
    let n = end - start;
    if n < rest.len() {
        rest.select_nth_unstable_by(n - 1, desc);
    }
    rest[..n].sort_unstable_by(desc);
    &keys[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Phy, Security};
    use crate::store::{Batch, StoreWriter};
    use proptest::prelude::*;

    fn ap(i: u64, ssid: &str, first_seen: i64, vendor: Option<&str>) -> ApRecord {
        ApRecord {
            bssid: MacAddr::from_u64(0x0011_2233_0000 + i),
            ssid: Some(ssid.as_bytes().to_vec()),
            ssid_history: vec![],
            hidden: false,
            channel: Some(36),
            freq_mhz: Some(5180),
            band: Some(Band::B5),
            width_mhz: None,
            phy: Phy::Ac,
            heard_channels: vec![],
            security: Security {
                privacy: true,
                rsn_akms: 1 << 2,
                ..Default::default()
            },
            vendor: vendor.map(str::to_owned),
            country: None,
            mesh_id: None,
            ibss: false,
            first_seen,
            last_seen: first_seen + 10,
            beacons: 1,
            probe_responses: 0,
            data_frames: 0,
            best_signal_dbm: Some(-50),
            best_fix: None,
            best_fix_signal_dbm: None,
            position: None,
            last_signal_dbm: None,
            client_count: 0,
        }
    }

    /// The rows as a fresh build from the store's records would make them, by BSSID.
    fn rows_from_records(store: &Store) -> Vec<ApRow> {
        let mut fresh = ApRows::default();
        for a in store.all_aps().unwrap() {
            fresh.upsert(&a);
        }
        let mut v = fresh.rows().to_vec();
        v.sort_by_key(|r| r.bssid.to_u64());
        v
    }

    fn cached_rows(store: &Store) -> Vec<ApRow> {
        let mut v = store.with_ap_rows(|r| r.rows().to_vec()).unwrap();
        v.sort_by_key(|r| r.bssid.to_u64());
        v
    }

    #[test]
    fn rows_follow_every_commit_after_they_are_built() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let w = StoreWriter::spawn(store.clone());
        let send = |aps: Vec<ApRecord>| {
            w.send(Batch {
                aps,
                ..Default::default()
            })
            .unwrap();
            w.flush().unwrap();
        };
        // Built on first use from what is stored.
        send(
            (0..50)
                .map(|i| ap(i, "first", 100 + i as i64, Some("Acme")))
                .collect(),
        );
        assert_eq!(cached_rows(&store).len(), 50);
        assert_eq!(cached_rows(&store), rows_from_records(&store));
        // Then updated by the writer: changed networks replace their rows, new ones are added,
        // nothing is listed twice.
        let mut changed: Vec<ApRecord> = (0..50)
            .step_by(5)
            .map(|i| {
                let mut a = ap(i, "renamed <b>", 9_000 + i as i64, Some("Other Vendor"));
                a.hidden = true;
                a.band = Some(Band::B6);
                a.best_signal_dbm = None;
                a.security = Security::default();
                a
            })
            .collect();
        changed.extend((50..60).map(|i| ap(i, "new", 5, None)));
        send(changed);
        let rows = cached_rows(&store);
        assert_eq!(rows.len(), 60);
        assert_eq!(rows, rows_from_records(&store));
        let renamed = rows
            .iter()
            .find(|r| r.bssid.to_u64() == 0x0011_2233_0005)
            .unwrap();
        assert_eq!(renamed.ssid.as_deref(), Some(&b"renamed <b>"[..]));
        assert_eq!(renamed.first_seen, 9_005);
        assert_eq!(renamed.security, EncClass::OPEN);
        assert_eq!(renamed.vendor.as_deref(), Some("Other Vendor"));
        // One shared copy per vendor name.
        store
            .with_ap_rows(|r| {
                let acme: Vec<&Arc<str>> = r
                    .rows()
                    .iter()
                    .filter_map(|r| r.vendor.as_ref())
                    .filter(|v| &***v == "Acme")
                    .collect();
                assert!(acme.len() > 1);
                assert!(acme.windows(2).all(|p| Arc::ptr_eq(p[0], p[1])));
            })
            .unwrap();
        // A batch without APs leaves them as they are.
        send(vec![]);
        w.finish().unwrap();
        assert_eq!(cached_rows(&store), rows_from_records(&store));
    }

    #[test]
    fn rows_not_built_are_not_kept_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let w = StoreWriter::spawn(store.clone());
        w.send(Batch {
            aps: vec![ap(1, "x", 1, None)],
            ..Default::default()
        })
        .unwrap();
        w.flush().unwrap();
        assert!(store.inner.ap_rows.read().unwrap().is_none());
        w.finish().unwrap();
        assert_eq!(cached_rows(&store).len(), 1);
    }

    proptest! {
        /// A page selected around its place is the same slice a full sort gives.
        #[test]
        fn page_of_equals_a_full_sort(
            keys in prop::collection::vec((-5i64..5, 0u64..8), 0..300),
            offset in 0u64..320,
            limit in 0usize..60,
        ) {
            let mut sorted = keys.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let start = (offset as usize).min(sorted.len());
            let end = (start + limit).min(sorted.len());
            let mut work = keys.clone();
            prop_assert_eq!(page_of(&mut work, offset, limit), &sorted[start..end]);
        }
    }
}
