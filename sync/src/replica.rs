//! The replicated state of one node (device or hub) and the operations a sync round needs.

use crate::batch::{Batch, MAX_BATCH_OBS};
use crate::edits::{EditError, Edits, EditsClock, EditsDelta, Zone};
use crate::have::Have;
use crate::ids::{DeviceId, Mac};
use crate::network::NetworkSummary;
use crate::obs::{Observation, TimeUs};
use crate::protocol::{Ack, Hello, MAX_NET_ENTRIES, NetBatch};
use crate::ranges::RangeSet;
use std::collections::BTreeMap;

/// How much one call may produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Observations per batch (at most [`MAX_BATCH_OBS`]).
    pub observations_per_batch: usize,
    /// Network summaries per batch (at most [`MAX_NET_ENTRIES`]).
    pub networks_per_batch: usize,
    /// Batches per call; the caller asks again after the acknowledgements.
    pub batches: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            observations_per_batch: 2048,
            networks_per_batch: 512,
            batches: 8,
        }
    }
}

impl Limits {
    fn clamped(self) -> Limits {
        Limits {
            observations_per_batch: self.observations_per_batch.clamp(1, MAX_BATCH_OBS),
            networks_per_batch: self.networks_per_batch.clamp(1, MAX_NET_ENTRIES),
            batches: self.batches.max(1),
        }
    }
}

/// An observation this node cannot record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("seq 0 is not a sequence number (they start at 1)")]
    SeqZero,
    #[error("seq {0} is already recorded with other values: a seq is never reused")]
    Conflict(u64),
    #[error("observation seq {0}: its fix is out of range")]
    BadFix(u64),
}

/// A network's summary and the stamp of its last change in this node's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NetEntry {
    summary: NetworkSummary,
    stamp: u64,
}

/// The replicated state of one node.
///
/// - observations: a grow-only set keyed by `(device, seq)`, with its exact [`Have`];
/// - network summaries: a map of lattices keyed by BSSID, each change stamped in this node's
///   stream of summary updates, and a [`Have`] of the streams merged from others;
/// - user edits ([`Edits`]).
///
/// Nothing here does I/O or reads a clock: time comes in as a value.
#[derive(Debug, Clone)]
pub struct Replica {
    id: DeviceId,
    observations: BTreeMap<DeviceId, BTreeMap<u64, Observation>>,
    /// The keys of `observations`, kept alongside so that a `Hello` costs nothing to build
    /// (deriving it is a walk over every observation held).
    have: Have,
    /// Observations that arrived under a key already held with other values (a device that
    /// reused a seq after losing its store); the smaller value is kept on every node.
    conflicts: u64,
    networks: BTreeMap<Mac, NetEntry>,
    /// Live stamps of this node's stream: stamp → network.
    stamps: BTreeMap<u64, Mac>,
    next_stamp: u64,
    /// The stream entries merged from other nodes.
    networks_have: Have,
    edits: Edits,
}

impl Replica {
    pub fn new(id: DeviceId) -> Replica {
        Replica {
            id,
            observations: BTreeMap::new(),
            have: Have::new(),
            conflicts: 0,
            networks: BTreeMap::new(),
            stamps: BTreeMap::new(),
            next_stamp: 1,
            networks_have: Have::new(),
            edits: Edits::new(),
        }
    }

    pub fn id(&self) -> DeviceId {
        self.id
    }

    /// Records one of this node's own observations (from the tracker). Recording the same
    /// observation again is a no-op that returns `Ok(false)`.
    pub fn record(&mut self, obs: Observation) -> Result<bool, RecordError> {
        if obs.seq == 0 {
            return Err(RecordError::SeqZero);
        }
        if obs.fix.is_some_and(|f| !f.is_valid()) {
            return Err(RecordError::BadFix(obs.seq));
        }
        let own = self.observations.entry(self.id).or_default();
        match own.get(&obs.seq) {
            Some(held) if *held == obs => Ok(false),
            Some(_) => Err(RecordError::Conflict(obs.seq)),
            None => {
                self.have.insert(self.id, obs.seq);
                own.insert(obs.seq, obs);
                Ok(true)
            }
        }
    }

    /// Merges what this node learnt about a network; returns whether its summary changed.
    pub fn update_network(&mut self, bssid: Mac, summary: &NetworkSummary) -> bool {
        let stamp = self.next_stamp;
        match self.networks.get_mut(&bssid) {
            Some(e) => {
                if !e.summary.join(summary) {
                    return false;
                }
                self.stamps.remove(&e.stamp);
                e.stamp = stamp;
            }
            None => {
                let summary = summary.clone();
                self.networks.insert(bssid, NetEntry { summary, stamp });
            }
        }
        self.stamps.insert(stamp, bssid);
        self.next_stamp += 1;
        true
    }

    /// What this node has: the first message of a sync round.
    pub fn hello(&self) -> Hello {
        Hello {
            node: self.id,
            observations: self.have.clone(),
            networks: self.networks_have.clone(),
            edits: self.edits.clock().clone(),
        }
    }

    /// The observation batches a peer that has `peer` lacks, oldest first, within `limits`.
    /// Each batch holds one device's observations; they need not be contiguous.
    pub fn batches_for(&self, peer: &Have, limits: Limits) -> Vec<Batch> {
        let limits = limits.clamped();
        let mut out = Vec::new();
        for (dev, obs) in &self.observations {
            let Some((&last, _)) = obs.last_key_value() else {
                continue;
            };
            let mut cur: Vec<Observation> = Vec::new();
            for gap in peer.missing(dev, last) {
                for o in obs.range(gap).map(|(_, o)| o) {
                    cur.push(o.clone());
                    if cur.len() == limits.observations_per_batch {
                        out.push(
                            Batch::new(*dev, std::mem::take(&mut cur))
                                .expect("held observations are valid"),
                        );
                        if out.len() == limits.batches {
                            return out;
                        }
                    }
                }
            }
            if !cur.is_empty() {
                out.push(Batch::new(*dev, cur).expect("held observations are valid"));
                if out.len() == limits.batches {
                    return out;
                }
            }
        }
        out
    }

    /// Adds a batch's observations (idempotent, in any order) and says what is now held.
    pub fn apply_batch(&mut self, batch: &Batch) -> Ack {
        let dev = batch.device();
        let held = self.observations.entry(dev).or_default();
        for o in batch.observations() {
            match held.get_mut(&o.seq) {
                None => {
                    held.insert(o.seq, o.clone());
                }
                Some(h) if h == o => {}
                Some(h) => {
                    // A key with two values: keep the smaller on every node, whatever the
                    // order of arrival, so replicas still agree; count it for the operator.
                    self.conflicts += 1;
                    if o < h {
                        *h = o.clone();
                    }
                }
            }
        }
        let seqs = batch.seqs();
        self.have.insert_set(dev, &seqs);
        Ack {
            source: dev,
            observations: seqs,
            networks: RangeSet::new(),
        }
    }

    /// The network batches of this node's stream that a peer that has `peer` lacks.
    pub fn network_batches_for(&self, peer: &Have, limits: Limits) -> Vec<NetBatch> {
        let limits = limits.clamped();
        let mut out = Vec::new();
        let mut covers = RangeSet::new();
        let mut entries = Vec::new();
        for gap in peer.missing(&self.id, self.next_stamp - 1) {
            let (mut from, to) = (*gap.start(), *gap.end());
            for (&stamp, mac) in self.stamps.range(gap) {
                entries.push((*mac, self.networks[mac].summary.clone()));
                if entries.len() == limits.networks_per_batch {
                    covers.insert_range(from, stamp);
                    out.push(NetBatch {
                        source: self.id,
                        covers: std::mem::take(&mut covers),
                        entries: std::mem::take(&mut entries),
                    });
                    if out.len() == limits.batches {
                        return out;
                    }
                    from = stamp + 1;
                }
            }
            // The rest of the gap: the stamps in it were replaced by later ones.
            covers.insert_range(from, to);
        }
        if !covers.is_empty() {
            out.push(NetBatch {
                source: self.id,
                covers,
                entries,
            });
        }
        out
    }

    /// Merges a network batch (idempotent, in any order) and says what is now held.
    pub fn apply_network_batch(&mut self, batch: &NetBatch) -> Ack {
        for (mac, s) in &batch.entries {
            self.update_network(*mac, s);
        }
        self.networks_have.insert_set(batch.source, &batch.covers);
        Ack {
            source: batch.source,
            observations: RangeSet::new(),
            networks: batch.covers.clone(),
        }
    }

    /// The edits a peer whose clocks are `peer` lacks.
    pub fn edits_for(&self, peer: &EditsClock) -> Option<EditsDelta> {
        self.edits.delta_for(peer)
    }

    /// Merges edits from a peer, after checking them.
    pub fn merge_edits(&mut self, delta: EditsDelta) -> Result<(), EditError> {
        delta.validate()?;
        self.edits.merge_delta(delta);
        Ok(())
    }

    pub fn set_label(&mut self, bssid: Mac, text: &str, now_us: TimeUs) -> Result<(), EditError> {
        self.edits.set_label(self.id, bssid, text, now_us)
    }

    pub fn set_note(&mut self, bssid: Mac, text: &str, now_us: TimeUs) -> Result<(), EditError> {
        self.edits.set_note(self.id, bssid, text, now_us)
    }

    pub fn ignore(&mut self, bssid: Mac) {
        self.edits.ignore(self.id, bssid);
    }

    pub fn unignore(&mut self, bssid: Mac) {
        self.edits.unignore(self.id, bssid);
    }

    pub fn add_zone(&mut self, zone: Zone) -> Result<(), EditError> {
        self.edits.add_zone(self.id, zone)
    }

    pub fn remove_zone(&mut self, zone: Zone) {
        self.edits.remove_zone(self.id, zone);
    }

    pub fn edits(&self) -> &Edits {
        &self.edits
    }

    /// The observations held of one device, by seq.
    pub fn observations(&self, device: &DeviceId) -> impl Iterator<Item = &Observation> {
        self.observations
            .get(device)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// The devices this node holds observations of.
    pub fn devices(&self) -> impl Iterator<Item = &DeviceId> {
        self.observations.keys()
    }

    /// How many observations are held, over all devices.
    pub fn observation_count(&self) -> usize {
        self.observations.values().map(BTreeMap::len).sum()
    }

    /// What this node holds of the observations (as its `Hello` says).
    pub fn have(&self) -> &Have {
        &self.have
    }

    /// Observations that arrived with a key already held and different values.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    pub fn network(&self, bssid: &Mac) -> Option<&NetworkSummary> {
        self.networks.get(bssid).map(|e| &e.summary)
    }

    pub fn networks(&self) -> impl Iterator<Item = (&Mac, &NetworkSummary)> {
        self.networks.iter().map(|(m, e)| (m, &e.summary))
    }

    /// A 64-bit FNV-1a digest of the replicated state (observations, network summaries,
    /// edits; not the stream stamps, which are this node's own bookkeeping). Two replicas
    /// with the same state have the same digest on every platform; it is for tests and
    /// diagnostics, not security.
    pub fn digest(&self) -> u64 {
        let summaries: Vec<(&Mac, &NetworkSummary)> = self.networks().collect();
        let mut bytes = postcard::to_stdvec(&(&self.observations, summaries))
            .expect("serialising to a Vec cannot fail");
        bytes.extend(self.edits.canonical_bytes());
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obs::Kind;

    fn obs(seq: u64, signal: i8) -> Observation {
        Observation {
            seq,
            session_id: 1,
            kind: Kind::Ap,
            mac: Mac([2, 0, 0, 0, 0, 1]),
            time: 10,
            signal_dbm: Some(signal),
            channel: None,
            freq_mhz: None,
            fix: None,
        }
    }

    /// Two values under one key (a device that reused a seq): wherever both meet, the same
    /// one is kept whatever the order, and the conflict is counted.
    #[test]
    fn a_reused_seq_is_counted_and_resolved_the_same_everywhere() {
        let d = DeviceId([1; 16]);
        let x = Batch::new(d, vec![obs(1, -40), obs(2, -41)]).unwrap();
        let y = Batch::new(d, vec![obs(2, -70)]).unwrap();
        let mut p = Replica::new(DeviceId([8; 16]));
        let mut q = Replica::new(DeviceId([9; 16]));
        p.apply_batch(&x);
        p.apply_batch(&y);
        q.apply_batch(&y);
        q.apply_batch(&x);
        assert_eq!(p.digest(), q.digest());
        assert_eq!((p.conflicts(), q.conflicts()), (1, 1));
        assert_eq!(p.observations(&d).nth(1).unwrap().signal_dbm, Some(-70));
        let mut own = Replica::new(d);
        own.record(obs(1, -40)).unwrap();
        assert_eq!(own.record(obs(1, -40)), Ok(false));
        assert_eq!(own.record(obs(1, -50)), Err(RecordError::Conflict(1)));
        assert_eq!(own.record(obs(0, -50)), Err(RecordError::SeqZero));
    }

    /// A network batch covers the stamps that later changes replaced, so the receiver's
    /// summary of the stream has no holes, and a replayed old batch changes nothing.
    #[test]
    fn network_stream_coverage_has_no_holes() {
        let d = DeviceId([1; 16]);
        let mut dev = Replica::new(d);
        let m = Mac([2, 0, 0, 0, 0, 1]);
        let n = Mac([2, 0, 0, 0, 0, 2]);
        dev.update_network(m, &NetworkSummary::new(d, 10, 10));
        dev.update_network(n, &NetworkSummary::new(d, 11, 11));
        let mut hub = Replica::new(DeviceId([9; 16]));
        let first = dev.network_batches_for(&hub.hello().networks, Limits::default());
        assert_eq!(first.len(), 1);
        hub.apply_network_batch(&first[0]);
        assert!(
            !dev.update_network(m, &NetworkSummary::new(d, 10, 10)),
            "no change"
        );
        dev.update_network(m, &NetworkSummary::new(d, 5, 20)); // stamp 3 replaces stamp 1
        let tiny = Limits {
            networks_per_batch: 1,
            ..Limits::default()
        };
        let second = dev.network_batches_for(&hub.hello().networks, tiny);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].covers, RangeSet::from_range(3..=3));
        hub.apply_network_batch(&second[0]);
        hub.apply_network_batch(&first[0]); // an old batch, replayed
        assert_eq!(hub.hello().networks.prefix(&d), 3);
        assert_eq!(hub.network(&m).unwrap().first_seen(), 5);
        assert_eq!(hub.network(&m).unwrap().last_seen(), 20);
        assert!(
            dev.network_batches_for(&hub.hello().networks, tiny)
                .is_empty()
        );
    }
}
