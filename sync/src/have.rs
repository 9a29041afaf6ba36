//! What a node holds of a numbered stream: a version vector for the prefix plus exceptions.

use crate::ids::DeviceId;
use crate::ranges::RangeSet;
use crdts::{CvRDT, VClock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// The exact set of `(source, seq)` pairs a node holds of some numbered stream (observations,
/// or a device's network-summary updates), compact enough to send in every `Hello`.
///
/// Sequence numbers start at 1. For each source, `prefix` (a crdts `VClock`) holds n when
/// seqs 1..=n are all held, and `beyond` holds the seqs above n + 1 that arrived ahead of a
/// gap. A VClock alone cannot say this: applying a dot takes the maximum, so a batch that
/// arrives before an earlier one (or an earlier one that is lost) would make it claim seqs it
/// never got. The exceptions are sorted ranges, so a cut batch costs two varints, not a list.
///
/// Canonical form: no source has prefix 0 in the clock, no `beyond` set is empty, and no
/// `beyond` set touches its prefix (such a range is folded into the prefix). So the derived
/// equality is equality of the sets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "HaveWire", into = "HaveWire")]
pub struct Have {
    prefix: VClock<DeviceId>,
    beyond: BTreeMap<DeviceId, RangeSet>,
}

#[derive(Clone, Serialize, Deserialize)]
struct HaveWire {
    prefix: VClock<DeviceId>,
    beyond: BTreeMap<DeviceId, RangeSet>,
}

impl From<HaveWire> for Have {
    /// Whatever a peer sent, the summary is made canonical before use.
    fn from(w: HaveWire) -> Have {
        let mut h = Have {
            prefix: VClock::new(),
            beyond: w.beyond,
        };
        for (dev, n) in w.prefix.dots {
            h.prefix.dots.insert(dev, n);
        }
        let devices: Vec<DeviceId> = h.beyond.keys().copied().collect();
        for d in devices {
            h.normalize(d);
        }
        h.prefix.dots.retain(|_, n| *n > 0);
        h
    }
}

impl From<Have> for HaveWire {
    fn from(h: Have) -> HaveWire {
        HaveWire {
            prefix: h.prefix,
            beyond: h.beyond,
        }
    }
}

impl Have {
    pub fn new() -> Have {
        Have::default()
    }

    /// The version vector of contiguous prefixes (n for a source means seqs 1..=n are held).
    pub fn prefix_clock(&self) -> &VClock<DeviceId> {
        &self.prefix
    }

    /// The contiguous prefix held of `source`.
    pub fn prefix(&self, source: &DeviceId) -> u64 {
        self.prefix.get(source)
    }

    /// The seqs of `source` held above the prefix, beyond a gap.
    pub fn beyond(&self, source: &DeviceId) -> Option<&RangeSet> {
        self.beyond.get(source)
    }

    /// Every source with at least one seq held.
    pub fn sources(&self) -> impl Iterator<Item = &DeviceId> {
        let mut all: Vec<&DeviceId> = self.prefix.dots.keys().chain(self.beyond.keys()).collect();
        all.sort();
        all.dedup();
        all.into_iter()
    }

    pub fn contains(&self, source: &DeviceId, seq: u64) -> bool {
        (seq >= 1 && seq <= self.prefix(source))
            || self.beyond.get(source).is_some_and(|b| b.contains(seq))
    }

    /// Adds one seq; returns whether it was new. Seq 0 is not a sequence number and is ignored.
    pub fn insert(&mut self, source: DeviceId, seq: u64) -> bool {
        if seq == 0 || self.contains(&source, seq) {
            return false;
        }
        self.insert_set(source, &RangeSet::from_range(seq..=seq));
        true
    }

    /// Adds every seq of `seqs`.
    pub fn insert_set(&mut self, source: DeviceId, seqs: &RangeSet) {
        if seqs.is_empty() {
            return;
        }
        self.beyond.entry(source).or_default().union(seqs);
        self.normalize(source);
    }

    /// Every seq held of `source`.
    pub fn seqs(&self, source: &DeviceId) -> RangeSet {
        let mut s = match self.prefix(source) {
            0 => RangeSet::new(),
            n => RangeSet::from_range(1..=n),
        };
        if let Some(b) = self.beyond.get(source) {
            s.union(b);
        }
        s
    }

    /// How many seqs are held over all sources.
    pub fn len(&self) -> u64 {
        let p: u64 = self.prefix.dots.values().sum();
        p + self.beyond.values().map(RangeSet::len).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        self.prefix.is_empty() && self.beyond.is_empty()
    }

    /// The seqs of `source` in `1..=upto` that are not held, as ranges.
    pub fn missing(&self, source: &DeviceId, upto: u64) -> Vec<std::ops::RangeInclusive<u64>> {
        let from = self.prefix(source).saturating_add(1);
        match self.beyond.get(source) {
            Some(b) => b.gaps(from, upto),
            None if from <= upto => vec![from..=upto],
            None => vec![],
        }
    }

    /// Folds ranges that reach the prefix into it and drops what the prefix already covers.
    fn normalize(&mut self, source: DeviceId) {
        let Some(b) = self.beyond.get_mut(&source) else {
            return;
        };
        let mut p = self.prefix.get(&source);
        b.remove_through(p);
        while let Some(r) = p
            .checked_add(1)
            .and_then(|next| b.take_first_if_starts_at(next))
        {
            p = *r.end();
        }
        if b.is_empty() {
            self.beyond.remove(&source);
        }
        if p > 0 {
            self.prefix.dots.insert(source, p);
        }
    }
}

impl CvRDT for Have {
    type Validation = Infallible;

    fn validate_merge(&self, _: &Self) -> Result<(), Infallible> {
        Ok(())
    }

    /// Set union.
    fn merge(&mut self, other: Have) {
        self.prefix.merge(other.prefix);
        let mut touched: Vec<DeviceId> = self.beyond.keys().copied().collect();
        for (dev, b) in other.beyond {
            self.beyond.entry(dev).or_default().union(&b);
            touched.push(dev);
        }
        for d in touched {
            self.normalize(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: DeviceId = DeviceId([7; 16]);

    #[test]
    fn out_of_order_seqs_stay_exact() {
        let mut h = Have::new();
        assert!(h.insert(D, 3));
        assert!(h.insert(D, 5));
        assert_eq!(h.prefix(&D), 0);
        assert!(!h.contains(&D, 1) && h.contains(&D, 3) && !h.contains(&D, 4));
        assert_eq!(h.missing(&D, 6), vec![1..=2, 4..=4, 6..=6]);
        assert!(h.insert(D, 1));
        assert!(h.insert(D, 2));
        assert_eq!(h.prefix(&D), 3);
        assert!(!h.insert(D, 2), "a duplicate is not new");
        assert!(h.insert(D, 4));
        assert_eq!(h.prefix(&D), 5);
        assert!(
            h.beyond(&D).is_none(),
            "the exceptions are gone once the gap closes"
        );
        assert!(!h.insert(D, 0));
        assert_eq!(h.len(), 5);
    }

    #[test]
    fn a_peer_summary_is_made_canonical() {
        // A hostile or older peer may send ranges that the prefix already covers, or touch it.
        let mut prefix = VClock::new();
        prefix.dots.insert(D, 4);
        prefix.dots.insert(DeviceId([1; 16]), 0);
        let mut beyond = BTreeMap::new();
        beyond.insert(D, [0, 2, 5, 6, 9].into_iter().collect::<RangeSet>());
        let wire = postcard::to_stdvec(&HaveWire { prefix, beyond }).unwrap();
        let h: Have = postcard::from_bytes(&wire).unwrap();
        assert_eq!(h.prefix(&D), 6);
        assert_eq!(
            h.beyond(&D).unwrap().ranges().collect::<Vec<_>>(),
            vec![9..=9]
        );
        assert_eq!(h.sources().count(), 1);
        let mut expect = Have::new();
        for s in [1, 2, 3, 4, 5, 6, 9] {
            expect.insert(D, s);
        }
        assert_eq!(h, expect);
    }
}
