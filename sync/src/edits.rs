//! User edits as CRDTs: labels and notes (last-writer-wins), ignored networks and home zones (OR-sets).

use crate::ids::{DeviceId, Mac};
use crate::obs::TimeUs;
use crdts::{CmRDT, CvRDT, LWWReg, Orswot, VClock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// A label is at most this many bytes of UTF-8.
pub const MAX_LABEL_LEN: usize = 256;
/// A note is at most this many bytes of UTF-8.
pub const MAX_NOTE_LEN: usize = 4096;
/// A home zone's radius is at most 100 km.
pub const MAX_ZONE_RADIUS_M: u32 = 100_000;

/// The marker of a register write: a total order over all writes ever made.
///
/// Ordered by time first, so the latest edit wins as the user expects; then by actor and the
/// actor's edit counter, so two writes with the same time are still ordered the same way on
/// every node. `(actor, counter)` is unique per write, which crdts' `LWWReg` requires (two
/// different values under one marker would make its merge depend on order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Stamp {
    pub time_us: TimeUs,
    pub actor: DeviceId,
    pub counter: u64,
}

/// A label or note: crdts' last-writer-wins register. An empty string is "no label".
pub type Register = LWWReg<String, Stamp>;

/// A home exclusion zone: a circle whose observations are kept off maps and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Zone {
    pub lat_e7: i32,
    pub lon_e7: i32,
    pub radius_m: u32,
}

impl Zone {
    pub fn is_valid(&self) -> bool {
        (-900_000_000..=900_000_000).contains(&self.lat_e7)
            && (-1_800_000_000..=1_800_000_000).contains(&self.lon_e7)
            && (1..=MAX_ZONE_RADIUS_M).contains(&self.radius_m)
    }
}

/// An edit that cannot be made or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("a {what} of {len} bytes is longer than the limit of {limit}")]
    TooLong {
        what: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("zone {0:?} is out of range (latitude ±90°, longitude ±180°, radius 1 m to 100 km)")]
    BadZone(Zone),
}

/// Which edits a node has the effect of: per actor, the highest edit counter (every edit,
/// label, note, ignore, unignore, zone added or removed, takes the actor's next counter).
/// Sent in every `Hello`.
pub type EditsClock = VClock<DeviceId>;

/// All user edits one node knows.
///
/// Labels and notes are last-writer-wins registers rather than multi-value registers: the UI
/// has one text box per network and no place to show conflicting versions, and a note edited
/// on the phone a minute after another is meant to replace it. Ignored networks and home
/// zones are add-wins observed-remove sets (crdts' `Orswot`): an "unignore" removes only the
/// "ignore"s it has seen, so a concurrent "ignore" elsewhere survives.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Edits {
    labels: BTreeMap<Mac, Register>,
    notes: BTreeMap<Mac, Register>,
    ignored: Orswot<Mac, DeviceId>,
    /// The edits (dots of `clock`) that went into `ignored`. The OR-set's own clock is not
    /// enough to tell a peer it lacks something: a remove takes no dot in it.
    ignored_ops: VClock<DeviceId>,
    zones: Orswot<Zone, DeviceId>,
    /// The edits that went into `zones`.
    zones_ops: VClock<DeviceId>,
    /// Every edit this node has the effect of.
    clock: EditsClock,
}

/// The edits a peer lacks, given the [`EditsClock`] it last sent.
///
/// Registers are sent one by one (only those whose write the peer's clock does not cover);
/// each OR-set is sent whole, with the edits that went into it, when one of those edits is
/// not covered: the sets hold a few entries, and crdts' `Orswot` merges whole states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditsDelta {
    /// The clock of the receiver that this delta was computed against.
    pub basis: EditsClock,
    /// The sender's clock.
    pub clock: EditsClock,
    pub labels: Vec<(Mac, Register)>,
    pub notes: Vec<(Mac, Register)>,
    pub ignored: Option<(Orswot<Mac, DeviceId>, VClock<DeviceId>)>,
    pub zones: Option<(Orswot<Zone, DeviceId>, VClock<DeviceId>)>,
}

impl EditsDelta {
    /// Checks what a peer sent against the limits an edit made here must meet.
    pub fn validate(&self) -> Result<(), EditError> {
        for (_, r) in &self.labels {
            check_len("label", &r.val, MAX_LABEL_LEN)?;
        }
        for (_, r) in &self.notes {
            check_len("note", &r.val, MAX_NOTE_LEN)?;
        }
        if let Some((z, _)) = &self.zones
            && let Some(bad) = z.read().val.into_iter().find(|z| !z.is_valid())
        {
            return Err(EditError::BadZone(bad));
        }
        Ok(())
    }
}

/// Whether every edit `a` counts is counted by `b` too.
fn covered(a: &VClock<DeviceId>, b: &VClock<DeviceId>) -> bool {
    a.dots.iter().all(|(actor, n)| b.get(actor) >= *n)
}

fn check_len(what: &'static str, s: &str, limit: usize) -> Result<(), EditError> {
    if s.len() > limit {
        return Err(EditError::TooLong {
            what,
            len: s.len(),
            limit,
        });
    }
    Ok(())
}

fn merge_registers(
    into: &mut BTreeMap<Mac, Register>,
    from: impl IntoIterator<Item = (Mac, Register)>,
) {
    for (mac, reg) in from {
        match into.get_mut(&mac) {
            Some(cur) => cur.merge(reg),
            None => {
                into.insert(mac, reg);
            }
        }
    }
}

fn read_register<'a>(map: &'a BTreeMap<Mac, Register>, mac: &Mac) -> Option<&'a str> {
    map.get(mac)
        .map(|r| r.val.as_str())
        .filter(|s| !s.is_empty())
}

impl Edits {
    pub fn new() -> Edits {
        Edits::default()
    }

    /// The label of a network, if it has one.
    pub fn label(&self, mac: &Mac) -> Option<&str> {
        read_register(&self.labels, mac)
    }

    /// Every network that has a label, with its label, in BSSID order.
    pub fn labels(&self) -> impl Iterator<Item = (&Mac, &str)> + '_ {
        self.labels
            .iter()
            .map(|(m, r)| (m, r.val.as_str()))
            .filter(|(_, s)| !s.is_empty())
    }

    /// The note on a network, if it has one.
    pub fn note(&self, mac: &Mac) -> Option<&str> {
        read_register(&self.notes, mac)
    }

    pub fn is_ignored(&self, mac: &Mac) -> bool {
        self.ignored.contains(mac).val
    }

    /// The ignored networks, sorted.
    pub fn ignored(&self) -> Vec<Mac> {
        let mut v: Vec<Mac> = self.ignored.read().val.into_iter().collect();
        v.sort();
        v
    }

    /// The home zones, sorted.
    pub fn zones(&self) -> Vec<Zone> {
        let mut v: Vec<Zone> = self.zones.read().val.into_iter().collect();
        v.sort();
        v
    }

    pub fn clock(&self) -> &EditsClock {
        &self.clock
    }

    /// Writes `text` as `actor` at `now_us`. The write's time is at least one microsecond
    /// after the value it replaces, so an edit made after seeing another wins over it even
    /// when this node's clock is behind the other's.
    fn write(
        map: &mut BTreeMap<Mac, Register>,
        clock: &mut VClock<DeviceId>,
        actor: DeviceId,
        mac: Mac,
        text: &str,
        now_us: TimeUs,
    ) {
        let dot = clock.inc(actor);
        let reg = map.entry(mac).or_default();
        let time_us = now_us.max(reg.marker.time_us.saturating_add(1));
        reg.update(
            text.to_owned(),
            Stamp {
                time_us,
                actor,
                counter: dot.counter,
            },
        );
        clock.apply(dot);
    }

    /// Sets (or, with "", clears) the label of a network.
    pub fn set_label(
        &mut self,
        actor: DeviceId,
        mac: Mac,
        text: &str,
        now_us: TimeUs,
    ) -> Result<(), EditError> {
        check_len("label", text, MAX_LABEL_LEN)?;
        Self::write(&mut self.labels, &mut self.clock, actor, mac, text, now_us);
        Ok(())
    }

    /// Sets (or, with "", clears) the note on a network.
    pub fn set_note(
        &mut self,
        actor: DeviceId,
        mac: Mac,
        text: &str,
        now_us: TimeUs,
    ) -> Result<(), EditError> {
        check_len("note", text, MAX_NOTE_LEN)?;
        Self::write(&mut self.notes, &mut self.clock, actor, mac, text, now_us);
        Ok(())
    }

    /// Counts one edit by `actor` into the clock and into `ops`.
    fn tick(clock: &mut EditsClock, ops: &mut VClock<DeviceId>, actor: DeviceId) {
        let dot = clock.inc(actor);
        ops.apply(dot);
        clock.apply(dot);
    }

    pub fn ignore(&mut self, actor: DeviceId, mac: Mac) {
        let ctx = self.ignored.read_ctx().derive_add_ctx(actor);
        self.ignored.apply(self.ignored.add(mac, ctx));
        Self::tick(&mut self.clock, &mut self.ignored_ops, actor);
    }

    /// Stops ignoring a network (every "ignore" of it this node has seen).
    pub fn unignore(&mut self, actor: DeviceId, mac: Mac) {
        let ctx = self.ignored.contains(&mac).derive_rm_ctx();
        self.ignored.apply(self.ignored.rm(mac, ctx));
        Self::tick(&mut self.clock, &mut self.ignored_ops, actor);
    }

    pub fn add_zone(&mut self, actor: DeviceId, zone: Zone) -> Result<(), EditError> {
        if !zone.is_valid() {
            return Err(EditError::BadZone(zone));
        }
        let ctx = self.zones.read_ctx().derive_add_ctx(actor);
        self.zones.apply(self.zones.add(zone, ctx));
        Self::tick(&mut self.clock, &mut self.zones_ops, actor);
        Ok(())
    }

    /// Removes a home zone (every addition of it this node has seen).
    pub fn remove_zone(&mut self, actor: DeviceId, zone: Zone) {
        let ctx = self.zones.contains(&zone).derive_rm_ctx();
        self.zones.apply(self.zones.rm(zone, ctx));
        Self::tick(&mut self.clock, &mut self.zones_ops, actor);
    }

    /// What a peer whose clock is `peer` lacks; `None` when it lacks nothing.
    pub fn delta_for(&self, peer: &EditsClock) -> Option<EditsDelta> {
        let missing = |map: &BTreeMap<Mac, Register>| -> Vec<(Mac, Register)> {
            map.iter()
                .filter(|(_, r)| peer.get(&r.marker.actor) < r.marker.counter)
                .map(|(m, r)| (*m, r.clone()))
                .collect()
        };
        let delta = EditsDelta {
            basis: peer.clone(),
            clock: self.clock.clone(),
            labels: missing(&self.labels),
            notes: missing(&self.notes),
            ignored: (!covered(&self.ignored_ops, peer))
                .then(|| (self.ignored.clone(), self.ignored_ops.clone())),
            zones: (!covered(&self.zones_ops, peer))
                .then(|| (self.zones.clone(), self.zones_ops.clone())),
        };
        let clock_news = !covered(&self.clock, peer);
        let empty = delta.labels.is_empty()
            && delta.notes.is_empty()
            && delta.ignored.is_none()
            && delta.zones.is_none()
            && !clock_news;
        (!empty).then_some(delta)
    }

    /// Merges what a peer sent (any number of times, in any order).
    ///
    /// The sender's clock is taken over only when this node's clock has reached the delta's
    /// basis: then the delta held every edit the sender had that this node lacked, so after
    /// merging, this node has the effect of every edit the sender's clock covers. Otherwise
    /// (a delta computed against some other clock) the edits are merged and the clock is left
    /// alone, which only means they may be sent again.
    pub fn merge_delta(&mut self, delta: EditsDelta) {
        merge_registers(&mut self.labels, delta.labels);
        merge_registers(&mut self.notes, delta.notes);
        if let Some((set, ops)) = delta.ignored {
            self.ignored.merge(set);
            self.ignored_ops.merge(ops);
        }
        if let Some((set, ops)) = delta.zones {
            self.zones.merge(set);
            self.zones_ops.merge(ops);
        }
        if covered(&delta.basis, &self.clock) {
            self.clock.merge(delta.clock);
        }
    }

    /// A canonical byte form (sets sorted), equal on two nodes exactly when their edits are.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        fn orswot<M: Ord + Clone + std::hash::Hash + Serialize>(
            s: &Orswot<M, DeviceId>,
        ) -> Vec<u8> {
            let mut members: Vec<M> = s.read().val.into_iter().collect();
            members.sort();
            // The clocks that witness each member decide what a later remove removes, so
            // they are part of the state.
            let witnesses: Vec<(M, VClock<DeviceId>)> = members
                .iter()
                .map(|m| (m.clone(), s.contains(m).rm_clock))
                .collect();
            postcard::to_stdvec(&(s.clock(), witnesses)).expect("serialising to a Vec cannot fail")
        }
        let ops = (&self.clock, &self.ignored_ops, &self.zones_ops);
        let mut out = postcard::to_stdvec(&(&self.labels, &self.notes, ops))
            .expect("serialising to a Vec cannot fail");
        out.extend(orswot(&self.ignored));
        out.extend(orswot(&self.zones));
        out
    }
}

impl CvRDT for Edits {
    type Validation = Infallible;

    fn validate_merge(&self, _: &Self) -> Result<(), Infallible> {
        Ok(())
    }

    /// The join of two whole states.
    fn merge(&mut self, other: Edits) {
        merge_registers(&mut self.labels, other.labels);
        merge_registers(&mut self.notes, other.notes);
        self.ignored.merge(other.ignored);
        self.ignored_ops.merge(other.ignored_ops);
        self.zones.merge(other.zones);
        self.zones_ops.merge(other.zones_ops);
        self.clock.merge(other.clock);
    }
}
