//! Per-network summaries (one per BSSID) and their merge, a join-semilattice.

use crate::ids::DeviceId;
use crate::obs::{Fix, Kind, Observation, TimeUs};
use crdts::CvRDT;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BTreeSet;
use std::convert::Infallible;

/// At most this many SSIDs are kept per network: the smallest, byte-wise. A BSSID that
/// beacons thousands of random SSIDs (a flooder) must not grow a summary without end, and
/// "the k smallest of the union" is still a lattice join.
pub const MAX_SSIDS: usize = 32;
/// At most this many channels per network (the smallest numbers).
pub const MAX_CHANNELS: usize = 32;
/// At most this many devices per network (the smallest ids).
pub const MAX_DEVICES: usize = 64;
/// An SSID is at most 32 bytes (IEEE 802.11).
pub const MAX_SSID_LEN: usize = 32;
/// The attributes of [`Latest`] are at most this many bytes.
pub const MAX_ATTRS_LEN: usize = 2048;

/// The network's other attributes (security, PHY, advertised channel, counters...) as the
/// device with the most recent sighting last described them: bytes this crate does not read
/// (the firmware defines them), kept by the largest `(at, device, attrs)`, a max-register, so
/// every node keeps the same ones whatever the order of arrival.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Latest {
    /// The sighting the attributes are as of (the describing device's `last_seen`).
    pub at: TimeUs,
    pub device: DeviceId,
    pub attrs: Vec<u8>,
}

/// The strongest sighting of a network that had a fix, and who made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BestSighting {
    pub signal_dbm: i8,
    pub fix: Fix,
    pub device: DeviceId,
}

impl BestSighting {
    /// The order that picks the best: the strongest signal; on a tie the more accurate fix,
    /// then the earlier one, then the rest of the fix and the device id, so that any two
    /// different sightings are ordered and every node picks the same one.
    fn key(&self) -> impl Ord + '_ {
        (
            self.signal_dbm,
            Reverse(self.fix.accuracy_cm),
            Reverse(self.fix.time_us),
            &self.fix,
            self.device,
        )
    }
}

impl Ord for BestSighting {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for BestSighting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What the fleet knows about one network (BSSID), merged as a lattice: the earliest first
/// sighting, the latest last sighting, the best sighting with a fix, the (bounded) unions
/// of SSIDs, channels and devices, and the latest description of its attributes. Merging is commutative, associative and idempotent, so
/// the order in which summaries arrive never matters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkSummary {
    first_seen: TimeUs,
    last_seen: TimeUs,
    best: Option<BestSighting>,
    ssids: BTreeSet<Vec<u8>>,
    channels: BTreeSet<u16>,
    devices: BTreeSet<DeviceId>,
    latest: Option<Latest>,
}

/// A network summary from a peer that breaks one of the bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    #[error("first_seen {first} is after last_seen {last}")]
    Times { first: TimeUs, last: TimeUs },
    #[error("{field}: {count} entries, more than the limit of {limit}")]
    TooMany {
        field: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("an SSID of {0} bytes (802.11 allows 32)")]
    SsidTooLong(usize),
    #[error("the best sighting's fix is out of range")]
    BadFix,
    #[error("attributes of {0} bytes (the limit is {MAX_ATTRS_LEN})")]
    AttrsTooLong(usize),
}

/// Adds `x` to a set that keeps its `k` smallest elements; says whether the set changed.
fn insert_bounded<T: Ord + Clone>(set: &mut BTreeSet<T>, x: &T, k: usize) -> bool {
    if set.contains(x) || (set.len() >= k && set.last().is_some_and(|largest| x > largest)) {
        return false;
    }
    set.insert(x.clone());
    if set.len() > k {
        set.pop_last();
    }
    true
}

impl NetworkSummary {
    /// A network seen from `first_seen` to `last_seen` (swapped if given the wrong way round)
    /// by `device`.
    pub fn new(device: DeviceId, first_seen: TimeUs, last_seen: TimeUs) -> NetworkSummary {
        NetworkSummary {
            first_seen: first_seen.min(last_seen),
            last_seen: first_seen.max(last_seen),
            best: None,
            ssids: BTreeSet::new(),
            channels: BTreeSet::new(),
            devices: BTreeSet::from([device]),
            latest: None,
        }
    }

    /// What one observation of an access point says about its network (`None` for clients).
    pub fn from_observation(device: DeviceId, obs: &Observation) -> Option<NetworkSummary> {
        if obs.kind != Kind::Ap {
            return None;
        }
        let mut s = NetworkSummary::new(device, obs.time, obs.time);
        if let Some(c) = obs.channel {
            s.add_channel(c);
        }
        if let (Some(signal_dbm), Some(fix)) = (obs.signal_dbm, obs.fix) {
            s.offer_best(BestSighting {
                signal_dbm,
                fix,
                device,
            });
        }
        Some(s)
    }

    pub fn first_seen(&self) -> TimeUs {
        self.first_seen
    }
    pub fn last_seen(&self) -> TimeUs {
        self.last_seen
    }
    pub fn best(&self) -> Option<&BestSighting> {
        self.best.as_ref()
    }
    pub fn ssids(&self) -> &BTreeSet<Vec<u8>> {
        &self.ssids
    }
    pub fn channels(&self) -> &BTreeSet<u16> {
        &self.channels
    }
    pub fn devices(&self) -> &BTreeSet<DeviceId> {
        &self.devices
    }
    pub fn latest(&self) -> Option<&Latest> {
        self.latest.as_ref()
    }

    /// Keeps `l` if it is later than the attributes so far (and says so). Attributes over
    /// [`MAX_ATTRS_LEN`] are refused.
    pub fn offer_latest(&mut self, l: Latest) -> bool {
        let later =
            l.attrs.len() <= MAX_ATTRS_LEN && self.latest.as_ref().is_none_or(|cur| &l > cur);
        if later {
            self.latest = Some(l);
        }
        later
    }

    /// Adds an SSID (cut to 32 bytes, as no 802.11 SSID is longer).
    pub fn add_ssid(&mut self, ssid: &[u8]) {
        let ssid = ssid[..ssid.len().min(MAX_SSID_LEN)].to_vec();
        insert_bounded(&mut self.ssids, &ssid, MAX_SSIDS);
    }

    pub fn add_channel(&mut self, channel: u16) {
        insert_bounded(&mut self.channels, &channel, MAX_CHANNELS);
    }

    pub fn add_device(&mut self, device: DeviceId) {
        insert_bounded(&mut self.devices, &device, MAX_DEVICES);
    }

    /// Keeps `b` if it beats the best sighting so far (and says so). Fixes out of range are
    /// refused.
    pub fn offer_best(&mut self, b: BestSighting) -> bool {
        let better = b.fix.is_valid() && self.best.is_none_or(|cur| b > cur);
        if better {
            self.best = Some(b);
        }
        better
    }

    /// Replaces the SSIDs without the bound, as only a hostile peer would.
    #[cfg(test)]
    pub(crate) fn with_unchecked_ssids(mut self, ssids: BTreeSet<Vec<u8>>) -> NetworkSummary {
        self.ssids = ssids;
        self
    }

    /// Checks a summary from a peer against the bounds every summary made here keeps.
    pub fn validate(&self) -> Result<(), SummaryError> {
        if self.first_seen > self.last_seen {
            return Err(SummaryError::Times {
                first: self.first_seen,
                last: self.last_seen,
            });
        }
        let too_many = |field, count, limit| SummaryError::TooMany {
            field,
            count,
            limit,
        };
        if self.ssids.len() > MAX_SSIDS {
            return Err(too_many("ssids", self.ssids.len(), MAX_SSIDS));
        }
        if self.channels.len() > MAX_CHANNELS {
            return Err(too_many("channels", self.channels.len(), MAX_CHANNELS));
        }
        if self.devices.len() > MAX_DEVICES {
            return Err(too_many("devices", self.devices.len(), MAX_DEVICES));
        }
        if let Some(s) = self.ssids.iter().find(|s| s.len() > MAX_SSID_LEN) {
            return Err(SummaryError::SsidTooLong(s.len()));
        }
        if self.best.is_some_and(|b| !b.fix.is_valid()) {
            return Err(SummaryError::BadFix);
        }
        if let Some(l) = &self.latest
            && l.attrs.len() > MAX_ATTRS_LEN
        {
            return Err(SummaryError::AttrsTooLong(l.attrs.len()));
        }
        Ok(())
    }

    /// Merges `other` in and says whether anything changed.
    pub fn join(&mut self, other: &NetworkSummary) -> bool {
        let mut changed = false;
        if other.first_seen < self.first_seen {
            self.first_seen = other.first_seen;
            changed = true;
        }
        if other.last_seen > self.last_seen {
            self.last_seen = other.last_seen;
            changed = true;
        }
        if let Some(b) = other.best {
            changed |= self.offer_best(b);
        }
        for s in &other.ssids {
            changed |= insert_bounded(&mut self.ssids, s, MAX_SSIDS);
        }
        for c in &other.channels {
            changed |= insert_bounded(&mut self.channels, c, MAX_CHANNELS);
        }
        for d in &other.devices {
            changed |= insert_bounded(&mut self.devices, d, MAX_DEVICES);
        }
        if let Some(l) = &other.latest {
            changed |= self.offer_latest(l.clone());
        }
        changed
    }
}

impl CvRDT for NetworkSummary {
    type Validation = Infallible;

    fn validate_merge(&self, _: &Self) -> Result<(), Infallible> {
        Ok(())
    }

    fn merge(&mut self, other: NetworkSummary) {
        self.join(&other);
    }
}
