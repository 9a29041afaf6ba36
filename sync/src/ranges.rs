//! A set of sequence numbers as sorted, disjoint, non-adjacent inclusive ranges.

use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// A set of `u64` as inclusive ranges, kept canonical: sorted, disjoint and never adjacent
/// (`[1,3]` and `[4,6]` are stored as `[1,6]`). Two sets are equal exactly when their ranges
/// are, so the derived `PartialEq` is set equality.
///
/// On the wire each range is two varints, the gap since the previous range and the length,
/// so a set of a few ranges high up in the sequence space costs a few bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    pub fn new() -> RangeSet {
        RangeSet::default()
    }

    /// The set of every value in `range` (empty when `range` is).
    pub fn from_range(range: RangeInclusive<u64>) -> RangeSet {
        let mut s = RangeSet::new();
        s.insert_range(*range.start(), *range.end());
        s
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many values the set holds.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(a, b)| b - a + 1).sum()
    }

    /// The ranges, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = RangeInclusive<u64>> + '_ {
        self.ranges.iter().map(|&(a, b)| a..=b)
    }

    /// The smallest value.
    pub fn first(&self) -> Option<u64> {
        self.ranges.first().map(|r| r.0)
    }

    pub fn contains(&self, v: u64) -> bool {
        // The first range whose end is >= v is the only one that can hold it.
        let i = self.ranges.partition_point(|&(_, b)| b < v);
        self.ranges.get(i).is_some_and(|&(a, _)| a <= v)
    }

    pub fn insert(&mut self, v: u64) {
        self.insert_range(v, v);
    }

    /// Adds every value in `a..=b` (nothing when `a > b`).
    pub fn insert_range(&mut self, a: u64, b: u64) {
        if a > b {
            return;
        }
        // Ranges that overlap or touch [a, b] are merged into it: from the first whose end
        // reaches a - 1 to the last whose start is at most b + 1.
        let lo = self
            .ranges
            .partition_point(|&(_, e)| e.saturating_add(1) < a);
        let hi = self
            .ranges
            .partition_point(|&(s, _)| s <= b.saturating_add(1));
        let (mut na, mut nb) = (a, b);
        if lo < hi {
            na = na.min(self.ranges[lo].0);
            nb = nb.max(self.ranges[hi - 1].1);
        }
        self.ranges.splice(lo..hi, [(na, nb)]);
    }

    /// Adds every value of `other`.
    pub fn union(&mut self, other: &RangeSet) {
        for &(a, b) in &other.ranges {
            self.insert_range(a, b);
        }
    }

    /// Removes every value up to and including `v`.
    pub fn remove_through(&mut self, v: u64) {
        let i = self.ranges.partition_point(|&(_, b)| b <= v);
        self.ranges.drain(..i);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(v.saturating_add(1));
        }
    }

    /// Removes and returns the first range when it starts at `start`.
    pub fn take_first_if_starts_at(&mut self, start: u64) -> Option<RangeInclusive<u64>> {
        match self.ranges.first() {
            Some(&(a, b)) if a == start => {
                self.ranges.remove(0);
                Some(a..=b)
            }
            _ => None,
        }
    }

    /// The values of `lo..=hi` that are not in the set, as ranges, ascending.
    pub fn gaps(&self, lo: u64, hi: u64) -> Vec<RangeInclusive<u64>> {
        let mut out = Vec::new();
        let mut next = lo;
        for &(a, b) in &self.ranges {
            if next > hi {
                break;
            }
            if b < next {
                continue;
            }
            if a > next {
                out.push(next..=(a - 1).min(hi));
            }
            match b.checked_add(1) {
                Some(n) => next = next.max(n),
                None => return out,
            }
        }
        if next <= hi {
            out.push(next..=hi);
        }
        out
    }
}

impl From<RangeSet> for Vec<(u64, u64)> {
    /// The wire form: (gap, length - 1) per range, the first gap counted from 0.
    fn from(s: RangeSet) -> Vec<(u64, u64)> {
        let mut prev_end: Option<u64> = None;
        s.ranges
            .iter()
            .map(|&(a, b)| {
                // Canonical ranges are at least 2 apart, so the gap after the first is >= 0.
                let gap = match prev_end {
                    None => a,
                    Some(e) => a - e - 2,
                };
                prev_end = Some(b);
                (gap, b - a)
            })
            .collect()
    }
}

/// A range set on the wire ran past the largest sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a range set runs past 2^64 - 1 (range {0} of its list)")]
pub struct RangeOverflow(pub usize);

impl TryFrom<Vec<(u64, u64)>> for RangeSet {
    type Error = RangeOverflow;

    fn try_from(wire: Vec<(u64, u64)>) -> Result<RangeSet, RangeOverflow> {
        let mut ranges = Vec::with_capacity(wire.len());
        let mut prev_end: Option<u64> = None;
        for (i, (gap, len)) in wire.into_iter().enumerate() {
            let a = match prev_end {
                None => Some(gap),
                Some(e) => e.checked_add(2).and_then(|x| x.checked_add(gap)),
            };
            let a = a.ok_or(RangeOverflow(i))?;
            let b = a.checked_add(len).ok_or(RangeOverflow(i))?;
            ranges.push((a, b));
            prev_end = Some(b);
        }
        Ok(RangeSet { ranges })
    }
}

impl FromIterator<u64> for RangeSet {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> RangeSet {
        let mut s = RangeSet::new();
        for v in iter {
            s.insert(v);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn merges_adjacent_and_overlapping() {
        let mut s = RangeSet::new();
        s.insert_range(5, 7);
        s.insert_range(1, 2);
        s.insert(4);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![1..=2, 4..=7]);
        s.insert(3);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![1..=7]);
        s.insert_range(10, u64::MAX);
        s.insert_range(0, 9);
        assert_eq!(s.ranges().collect::<Vec<_>>(), vec![0..=u64::MAX]);
    }

    #[test]
    fn gaps_and_remove_through() {
        let s: RangeSet = [2, 3, 7, 9].into_iter().collect();
        assert_eq!(s.gaps(1, 10), vec![1..=1, 4..=6, 8..=8, 10..=10]);
        assert_eq!(s.gaps(3, 3), vec![]);
        assert_eq!(s.gaps(4, 6), vec![4..=6]);
        let mut t = s.clone();
        t.remove_through(2);
        assert_eq!(t.ranges().collect::<Vec<_>>(), vec![3..=3, 7..=7, 9..=9]);
        t.remove_through(8);
        assert_eq!(t.ranges().collect::<Vec<_>>(), vec![9..=9]);
        let full = RangeSet::from_range(0..=u64::MAX);
        assert_eq!(full.gaps(0, u64::MAX), vec![]);
        assert_eq!(RangeSet::new().gaps(5, 4), vec![]);
    }

    #[test]
    fn wire_form_round_trips_and_rejects_overflow() {
        let s: RangeSet = [1, 2, 3, 10, 12, u64::MAX].into_iter().collect();
        let bytes = postcard::to_stdvec(&s).unwrap();
        assert_eq!(postcard::from_bytes::<RangeSet>(&bytes).unwrap(), s);
        // The wire form of {1..=3}: gap 1, length - 1 = 2.
        assert_eq!(
            postcard::to_stdvec(&RangeSet::from_range(1..=3)).unwrap(),
            [1, 1, 2]
        );
        let bad = postcard::to_stdvec(&vec![(u64::MAX, 0u64), (0, 0)]).unwrap();
        assert!(postcard::from_bytes::<RangeSet>(&bad).is_err());
    }

    proptest::proptest! {
        #[test]
        fn behaves_like_a_set(ops in proptest::collection::vec((0u64..200, 0u64..6), 0..60),
                              probe in 0u64..220) {
            let mut s = RangeSet::new();
            let mut model = BTreeSet::new();
            for (a, len) in ops {
                s.insert_range(a, a + len);
                model.extend(a..=a + len);
            }
            proptest::prop_assert_eq!(s.contains(probe), model.contains(&probe));
            proptest::prop_assert_eq!(s.len(), model.len() as u64);
            let back: BTreeSet<u64> = s.ranges().flatten().collect();
            proptest::prop_assert_eq!(&back, &model);
            let gaps: BTreeSet<u64> = s.gaps(10, 150).into_iter().flatten().collect();
            let model_gaps: BTreeSet<u64> = (10..=150).filter(|v| !model.contains(v)).collect();
            proptest::prop_assert_eq!(gaps, model_gaps);
            // Canonical: never two ranges that touch.
            let rs: Vec<_> = s.ranges().collect();
            for w in rs.windows(2) {
                proptest::prop_assert!(*w[0].end() + 1 < *w[1].start());
            }
        }
    }
}
