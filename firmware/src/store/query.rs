//! Store reads for the UI's summaries and lists: counts over the indexes, and the in-memory rows the network list filters and sorts.
//!
//! [`ApRows`] holds, per AP, only what the list's search, filters and orders look at (about
//! 80 bytes each). It is built from one snapshot the first time a list needs it, and from
//! then on the writer upserts the APs of every commit into it right after the commit, so it
//! follows the store without ever being rebuilt. A filtered or re-sorted page then costs a
//! pass over these rows and a point lookup per shown network, instead of decoding every
//! record in the store for every request. A command that never lists networks never builds it.
//!
//! On a hub each row also carries the devices that saw the network (a 64-bit mask over the
//! rows' own device table, with an overflow map past 64 devices), from the hub's joined
//! summaries (`hub_nets`): read when the rows are built and set again after every
//! `hub_apply` commit, so the device filter is a bit test per row.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, RwLock};

use piwardrive_dot11::MacAddr;
use piwardrive_dot11::security::{EncClass, classify};
use piwardrive_sync::DeviceId;

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
            // On a hub, the devices that saw each network (empty elsewhere). Read after the
            // records: a row is there to take them.
            self.for_each_hub_network_devices(|bssid, devices| {
                rows.set_devices(bssid, devices);
            })?;
            *slot = Some(rows);
        }
        Ok(f(slot.as_ref().expect("filled above")))
    }

    /// Sets the devices that saw each network, after a hub's commit that has just succeeded
    /// (its records first, through [`Store::ap_rows_committed`]), if the rows are built.
    pub(crate) fn ap_row_devices_committed<'a>(
        &self,
        nets: impl Iterator<Item = (MacAddr, &'a [DeviceId])>,
    ) {
        let mut slot = self
            .inner
            .ap_rows
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(rows) = slot.as_mut() {
            for (bssid, devices) in nets {
                rows.set_devices(bssid, devices);
            }
        }
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
    /// Where the row's search text lies in [`ApRows`]' text buffer: `(start, len)`.
    text: Option<(u32, u32)>,
    /// The vendor's index in [`ApRows::vendors`].
    pub vendor: Option<u32>,
    /// On a hub: bit `i` set when device `i` of [`ApRows::devices`] saw the network (devices
    /// from 64 on are in [`ApRows`]' overflow map).
    devices: u64,
}

/// The list rows of every AP, in no particular order.
#[derive(Debug, Default)]
pub struct ApRows {
    rows: Vec<ApRow>,
    /// BSSID to its index in `rows`.
    slots: HashMap<u64, usize>,
    /// Each vendor name once, indexed by [`ApRow::vendor`], so a search tests each name once
    /// per query and each row by index.
    vendors: Vec<Arc<str>>,
    vendor_ids: HashMap<Arc<str>, u32>,
    /// Every row's search text, in one buffer.
    text: SearchText,
    /// On a hub: every device that saw a listed network, once, indexed as the rows' bits.
    devices: Vec<DeviceId>,
    device_ids: HashMap<DeviceId, u32>,
    /// Row to its device indexes from 64 on (a fleet of more than 64 devices only).
    more_devices: HashMap<u32, Vec<u32>>,
}

/// The search text of every row (its SSID as the list shows it, `web::escape::display_ssid`:
/// invalid UTF-8, controls and `\\` escaped; lowercased) in one buffer, so that a search is
/// one pass of a vectorised substring search over contiguous memory rather than a pointer
/// chase and a short search per row (measured on 100,000 rows: the per-row search spent half
/// its time in the substring search's set-up, the rest mostly waiting for memory).
///
/// Texts are appended, each followed by `\n` (no display text holds a control character);
/// a row whose SSID changes gets its new text appended and its old one left as garbage,
/// which is dropped by a compaction once it is half the buffer.
#[derive(Debug, Default)]
struct SearchText {
    buf: Vec<u8>,
    /// `(start, row)` of every text in the buffer, in start order (appends only grow it).
    owners: Vec<(u32, u32)>,
    /// Bytes of replaced texts still in the buffer.
    garbage: usize,
}

impl SearchText {
    /// Makes `text` row `row`'s text (which was at `old`) and returns where it now lies.
    fn set(
        &mut self,
        row: u32,
        old: Option<(u32, u32)>,
        text: Option<&[u8]>,
    ) -> Option<(u32, u32)> {
        if let Some((s, len)) = old {
            if text == Some(&self.buf[s as usize..(s + len) as usize]) {
                return old;
            }
            self.garbage += len as usize + 1;
        }
        let text = text?;
        let start = u32::try_from(self.buf.len()).expect("search text under 4 GiB");
        self.buf.extend_from_slice(text);
        self.buf.push(b'\n');
        self.owners.push((start, row));
        Some((start, text.len() as u32))
    }
}

impl ApRows {
    /// Adds `ap`'s row, or replaces the row of the same BSSID.
    pub fn upsert(&mut self, ap: &ApRecord) {
        let vendor = ap.vendor.as_deref().map(|v| match self.vendor_ids.get(v) {
            Some(&id) => id,
            None => {
                let shared: Arc<str> = Arc::from(v);
                let id = u32::try_from(self.vendors.len()).expect("fewer than 2^32 vendors");
                self.vendors.push(shared.clone());
                self.vendor_ids.insert(shared, id);
                id
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
            text: None,
            vendor,
            devices: 0,
        };
        let text = ap.ssid.as_deref().map(|raw| {
            crate::web::escape::display_ssid(raw)
                .to_lowercase()
                .into_bytes()
        });
        let i = match self.slots.get(&ap.bssid.to_u64()) {
            Some(&i) => {
                // The record says nothing about devices: they stay until set again.
                let (old, devices) = (self.rows[i].text, self.rows[i].devices);
                self.rows[i] = row;
                self.rows[i].text = old;
                self.rows[i].devices = devices;
                i
            }
            None => {
                self.slots.insert(ap.bssid.to_u64(), self.rows.len());
                self.rows.push(row);
                self.rows.len() - 1
            }
        };
        let row = u32::try_from(i).expect("fewer than 2^32 rows");
        let span = self.text.set(row, self.rows[i].text, text.as_deref());
        self.rows[i].text = span;
        if self.text.garbage > 64 * 1024 && self.text.garbage * 2 > self.text.buf.len() {
            self.compact_text();
        }
    }

    /// Makes `devices` the devices that saw `bssid` (nothing when it has no row).
    pub fn set_devices(&mut self, bssid: MacAddr, devices: &[DeviceId]) {
        let Some(&i) = self.slots.get(&bssid.to_u64()) else {
            return;
        };
        let row = u32::try_from(i).expect("fewer than 2^32 rows");
        let mut mask = 0u64;
        let mut more = Vec::new();
        for d in devices {
            let idx = match self.device_ids.get(d) {
                Some(&idx) => idx,
                None => {
                    let idx = u32::try_from(self.devices.len()).expect("fewer than 2^32 devices");
                    self.devices.push(*d);
                    self.device_ids.insert(*d, idx);
                    idx
                }
            };
            if idx < 64 {
                mask |= 1 << idx;
            } else {
                more.push(idx);
            }
        }
        self.rows[i].devices = mask;
        if more.is_empty() {
            self.more_devices.remove(&row);
        } else {
            self.more_devices.insert(row, more);
        }
    }

    /// The index of `device` among the devices the rows know, `None` when no row has it.
    pub fn device_index(&self, device: &DeviceId) -> Option<u32> {
        self.device_ids.get(device).copied()
    }

    /// Whether device `idx` ([`ApRows::device_index`]) saw row `i`'s network.
    pub fn row_has_device(&self, i: usize, idx: u32) -> bool {
        if idx < 64 {
            self.rows
                .get(i)
                .is_some_and(|r| r.devices & (1 << idx) != 0)
        } else {
            u32::try_from(i)
                .ok()
                .and_then(|row| self.more_devices.get(&row))
                .is_some_and(|v| v.contains(&idx))
        }
    }

    /// Rebuilds the text buffer from the rows' live texts, dropping replaced ones.
    fn compact_text(&mut self) {
        let old = std::mem::take(&mut self.text);
        for (i, r) in self.rows.iter_mut().enumerate() {
            if let Some((s, len)) = r.text {
                let text = &old.buf[s as usize..(s + len) as usize];
                r.text = self.text.set(i as u32, None, Some(text));
            }
        }
    }

    /// The indexes (in [`ApRows::rows`], ascending) of the rows whose search text contains
    /// `needle` (already lowercased): one vectorised substring search over every row's text
    /// at once.
    pub fn text_hits(&self, needle: &[u8]) -> Vec<u32> {
        if needle.is_empty() {
            return (0..self.rows.len() as u32)
                .filter(|&i| self.rows[i as usize].text.is_some())
                .collect();
        }
        let owners = &self.text.owners;
        let mut hits = Vec::new();
        let mut o = 0;
        for pos in memchr::memmem::find_iter(&self.text.buf, needle) {
            let pos = pos as u32;
            // The last text starting at or before the match (matches come in order).
            o += owners[o..].partition_point(|&(start, _)| start <= pos);
            o = o.saturating_sub(1);
            let Some(&(start, row)) = owners.get(o) else {
                break;
            };
            // A match inside a replaced text, or running past the end of this one, is none.
            if let Some((s, len)) = self.rows[row as usize].text
                && s == start
                && pos + needle.len() as u32 <= s + len
            {
                hits.push(row);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    pub fn rows(&self) -> &[ApRow] {
        &self.rows
    }

    /// Row `i`'s search text (its SSID as displayed, lowercased).
    pub fn text(&self, i: usize) -> Option<&[u8]> {
        let (s, len) = self.rows.get(i)?.text?;
        Some(&self.text.buf[s as usize..(s + len) as usize])
    }

    /// Bytes of the text buffer, replaced texts included (for tests of the compaction).
    pub fn text_buffer_len(&self) -> usize {
        self.text.buf.len()
    }

    /// Every vendor name the rows refer to, indexed by [`ApRow::vendor`].
    pub fn vendors(&self) -> &[Arc<str>] {
        &self.vendors
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

    /// A row with its text and vendor resolved (indexes and buffer positions differ between
    /// two builds of the same rows).
    #[derive(Debug, PartialEq)]
    struct View {
        bssid: u64,
        first_seen: i64,
        last_seen: i64,
        best_signal_dbm: Option<i8>,
        band: Option<Band>,
        hidden: bool,
        security: EncClass,
        text: Option<String>,
        vendor: Option<String>,
    }

    fn views(rows: &ApRows) -> Vec<View> {
        let mut v: Vec<View> = rows
            .rows()
            .iter()
            .enumerate()
            .map(|(i, r)| View {
                bssid: r.bssid.to_u64(),
                first_seen: r.first_seen,
                last_seen: r.last_seen,
                best_signal_dbm: r.best_signal_dbm,
                band: r.band,
                hidden: r.hidden,
                security: r.security,
                text: rows.text(i).map(|t| String::from_utf8(t.to_vec()).unwrap()),
                vendor: r.vendor.map(|v| rows.vendors()[v as usize].to_string()),
            })
            .collect();
        v.sort_by_key(|r| r.bssid);
        v
    }

    /// The rows as a fresh build from the store's records would make them, by BSSID.
    fn rows_from_records(store: &Store) -> Vec<View> {
        let mut fresh = ApRows::default();
        for a in store.all_aps().unwrap() {
            fresh.upsert(&a);
        }
        views(&fresh)
    }

    fn cached_rows(store: &Store) -> Vec<View> {
        store.with_ap_rows(views).unwrap()
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
        let renamed = rows.iter().find(|r| r.bssid == 0x0011_2233_0005).unwrap();
        assert_eq!(renamed.text.as_deref(), Some("renamed <b>"));
        assert_eq!(renamed.first_seen, 9_005);
        assert_eq!(renamed.security, EncClass::OPEN);
        assert_eq!(renamed.vendor.as_deref(), Some("Other Vendor"));
        // One copy per vendor name.
        store
            .with_ap_rows(|r| {
                let names: Vec<&str> = r.vendors().iter().map(|v| &**v).collect();
                assert_eq!(
                    names.iter().filter(|v| **v == "Acme").count(),
                    1,
                    "{names:?}"
                );
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

    /// Device sets survive record upserts, are replaced when set again, and work past the
    /// mask's 64 devices; a device no row has is not in the table.
    #[test]
    fn device_sets_follow_set_devices_past_64_devices() {
        let dev = |i: u8| DeviceId([i; 16]);
        let mut rows = ApRows::default();
        for i in 0..5 {
            rows.upsert(&ap(i, "x", 1, None));
        }
        let b = |i: u64| MacAddr::from_u64(0x0011_2233_0000 + i);
        // 70 devices saw network 0, the odd ones network 1.
        let all: Vec<DeviceId> = (0..70).map(dev).collect();
        let odd: Vec<DeviceId> = (0..70).filter(|i| i % 2 == 1).map(dev).collect();
        rows.set_devices(b(0), &all);
        rows.set_devices(b(1), &odd);
        rows.set_devices(MacAddr::from_u64(0xdead), &[dev(200)]);
        assert_eq!(rows.device_index(&dev(200)), None);
        let (s0, s1, s2) = {
            let slot = |i: u64| rows.rows().iter().position(|r| r.bssid == b(i)).unwrap();
            (slot(0), slot(1), slot(2))
        };
        for d in 0..70u8 {
            let idx = rows.device_index(&dev(d)).unwrap();
            assert!(rows.row_has_device(s0, idx), "{d}");
            assert_eq!(rows.row_has_device(s1, idx), d % 2 == 1, "{d}");
            assert!(!rows.row_has_device(s2, idx), "{d}");
        }
        // A new record for the network keeps its devices; setting them again replaces them.
        rows.upsert(&ap(0, "renamed", 2, None));
        let idx68 = rows.device_index(&dev(68)).unwrap();
        assert!(idx68 >= 64 && rows.row_has_device(s0, idx68));
        rows.set_devices(b(0), &[dev(1)]);
        assert!(!rows.row_has_device(s0, idx68));
        assert!(rows.row_has_device(s0, rows.device_index(&dev(1)).unwrap()));
        assert!(!rows.row_has_device(s0, rows.device_index(&dev(0)).unwrap()));
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

    proptest! {
        /// The text buffer answers every search as a per-row search would, through renames
        /// (which leave garbage) and the compactions they cause, and its garbage stays bounded.
        #[test]
        fn text_hits_equal_a_search_per_row(
            ops in proptest::collection::vec((0u64..300, 0usize..6, 0usize..40), 1..2500),
            needle in 0usize..7,
        ) {
            let words = ["fritz", "FRITZ!Box", "<script>", "caf\u{e9}", "a\nb", "x"];
            let needles = ["fritz", "box", "<scr", "caf\u{e9}", "\n", "a", ""];
            let mut rows = ApRows::default();
            for (bssid, word, pad) in &ops {
                let ssid = format!("{}{}", words[*word], "-".repeat(*pad));
                let mut a = ap(*bssid, &ssid, 1, None);
                if pad % 7 == 0 {
                    a.ssid = None;
                }
                rows.upsert(&a);
            }
            let q = needles[needle].as_bytes();
            let hits = rows.text_hits(q);
            let want: Vec<u32> = (0..rows.len())
                .filter(|&i| {
                    rows.text(i)
                        .is_some_and(|t| q.is_empty() || t.windows(q.len()).any(|w| w == q))
                })
                .map(|i| i as u32)
                .collect();
            prop_assert_eq!(hits, want);
            let live: usize = (0..rows.len()).filter_map(|i| rows.text(i)).map(|t| t.len() + 1).sum();
            prop_assert!(rows.text_buffer_len() <= 2 * live + 64 * 1024 + 64);
        }
    }
}
