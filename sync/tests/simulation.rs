//! Three devices and a hub with random histories over a faulty network converge, and the hub holds every observation exactly once.
//!
//! Devices record observations (and update network summaries) and make edits; the hub makes
//! edits; sync rounds run between a random device and the hub over a link that drops,
//! duplicates and reorders messages and cuts the round at a random point; devices are
//! partitioned off for a while; old messages are replayed late. Every message goes through
//! its wire encoding. After a final round of full sync with every device (twice, so that
//! edits made on one device reach the others through the hub), all four nodes must have the
//! same edits, the hub must hold exactly the observations the devices recorded, once each
//! and unchanged, and its network summaries must be the join of the devices'.
//!
//! The negative tests run the same simulation against a hub with one rule deliberately
//! broken, and require that it finds a divergence: so the checks can fail.
//!
//! `PROPTEST_CASES=2000 cargo test -p piwardrive-sync --release --test simulation` for a long
//! run.

mod common;

use common::Rng;
use piwardrive_sync::{
    DeviceId, Fix, Have, Hello, Kind, Latest, Limits, Mac, Message, NetworkSummary, Observation,
    RangeSet, Replica, Zone,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::BTreeMap;

const DEVICES: usize = 3;
const HUB: usize = DEVICES;

#[derive(Debug, Clone)]
enum EditOp {
    Label(u8, u8),
    Note(u8, u8),
    Ignore(u8),
    Unignore(u8),
    AddZone(u8),
    RemoveZone(u8),
}

/// What can go wrong on the link during one round.
#[derive(Debug, Clone)]
struct Faults {
    /// Message i is dropped when bit i % 64 is set (duplicated when `dup`'s is).
    drop: u64,
    dup: u64,
    /// Seeds the order in which each flight of messages arrives.
    shuffle: u64,
    /// The round is cut (every later message lost) at this message.
    cut_at: Option<u8>,
    limits: Limits,
}

impl Faults {
    fn none() -> Faults {
        Faults {
            drop: 0,
            dup: 0,
            shuffle: 0,
            cut_at: None,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Record {
        dev: usize,
        count: u8,
        seed: u64,
    },
    Edit {
        node: usize,
        op: EditOp,
    },
    Sync {
        dev: usize,
        faults: Faults,
    },
    Partition {
        dev: usize,
        off: bool,
    },
    /// Old messages delivered again, long after they were sent.
    Replay {
        seed: u64,
        count: u8,
    },
}

fn edit_op() -> impl Strategy<Value = EditOp> {
    prop_oneof![
        (0u8..4, 0u8..4).prop_map(|(m, t)| EditOp::Label(m, t)),
        (0u8..4, 0u8..4).prop_map(|(m, t)| EditOp::Note(m, t)),
        (0u8..4).prop_map(EditOp::Ignore),
        (0u8..4).prop_map(EditOp::Unignore),
        (0u8..3).prop_map(EditOp::AddZone),
        (0u8..3).prop_map(EditOp::RemoveZone),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    (
        // About one message in six dropped, one in eight duplicated.
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(a, b, c)| a & b & (c | (c >> 1))),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(a, b, c)| a & b & c),
        any::<u64>(),
        proptest::option::weighted(0.4, 0u8..30),
        (1usize..6, 1usize..4, 1usize..4),
    )
        .prop_map(|(drop, dup, shuffle, cut_at, (o, n, b))| Faults {
            drop,
            dup,
            shuffle,
            cut_at,
            limits: Limits {
                observations_per_batch: o,
                networks_per_batch: n,
                batches: b,
            },
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..DEVICES, 1u8..16, any::<u64>()).prop_map(|(dev, count, seed)| Step::Record { dev, count, seed }),
        3 => (0..=HUB, edit_op()).prop_map(|(node, op)| Step::Edit { node, op }),
        5 => (0..DEVICES, faults()).prop_map(|(dev, faults)| Step::Sync { dev, faults }),
        1 => (0..DEVICES, any::<bool>()).prop_map(|(dev, off)| Step::Partition { dev, off }),
        1 => (any::<u64>(), 1u8..6).prop_map(|(seed, count)| Step::Replay { seed, count }),
    ]
}

fn history() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..45)
}

/// A hub rule broken on purpose, to show the checks catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    None,
    /// Merging labels, the hub keeps its own whenever it has one (not a join: not commutative).
    LabelsLocalWins,
    /// The hub summarises what it has as a plain version vector, the highest seq per device,
    /// as `VClock::apply` would after batches arrive out of order.
    MaxOnlyHave,
    /// Merging network summaries, the hub keeps the first it got (not a join).
    NetworksFirstWins,
}

fn node_id(i: usize) -> DeviceId {
    let mut id = [0u8; 16];
    id[0] = 0x10 + i as u8;
    id[15] = 0xee;
    DeviceId(id)
}

fn ap_mac(i: u8) -> Mac {
    Mac([0x3c, 0x84, 0x6a, 0, 0, i])
}

fn zone(i: u8) -> Zone {
    Zone {
        lat_e7: 514_000_000 + i32::from(i) * 1000,
        lon_e7: -1_200_000,
        radius_m: 150,
    }
}

/// Where a message was going, for replays.
#[derive(Clone, Copy)]
enum To {
    Hub,
    Device(usize),
}

struct World {
    nodes: Vec<Replica>,
    /// What each device recorded, in order: the truth the hub is held to.
    truth: Vec<Vec<Observation>>,
    next_seq: Vec<u64>,
    partitioned: Vec<bool>,
    /// Every message ever put on the wire, encoded.
    sent: Vec<(To, Vec<u8>)>,
    now: i64,
    broken: Broken,
}

/// The link of one round: numbers messages, applies the faults, and round-trips each
/// message through its encoding.
struct Link<'a> {
    faults: &'a Faults,
    index: u32,
    cut: bool,
    rng: Rng,
}

impl Link<'_> {
    fn send(&mut self, sent: &mut Vec<(To, Vec<u8>)>, to: To, msg: &Message) -> Vec<Message> {
        let i = self.index;
        self.index += 1;
        if self.cut || self.faults.cut_at.is_some_and(|c| u32::from(c) == i) {
            self.cut = true;
            return vec![];
        }
        let bytes = msg.encode();
        let back = Message::decode(&bytes).expect("every message decodes");
        assert_eq!(&back, msg, "a message survives its encoding");
        sent.push((to, bytes));
        let copies = if self.faults.drop >> (i % 64) & 1 == 1 {
            0
        } else if self.faults.dup >> (i % 64) & 1 == 1 {
            2
        } else {
            1
        };
        vec![back; copies]
    }

    fn shuffle(&mut self, v: &mut [Message]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.rng.below(i as u64 + 1) as usize);
        }
    }
}

impl World {
    fn new(broken: Broken) -> World {
        World {
            nodes: (0..=HUB).map(|i| Replica::new(node_id(i))).collect(),
            truth: vec![Vec::new(); DEVICES],
            next_seq: vec![1; DEVICES],
            partitioned: vec![false; DEVICES],
            sent: Vec::new(),
            now: 1_760_000_000_000_000,
            broken,
        }
    }

    /// A node's clock: the world's time with a skew of its own (seconds to minutes), so
    /// that last-writer-wins meets clocks that disagree.
    fn clock(&self, node: usize) -> i64 {
        self.now + [0, 5_000_000, -300_000_000, 2_000_000][node]
    }

    fn record(&mut self, dev: usize, count: u8, seed: u64) {
        let mut rng = Rng(seed);
        let id = node_id(dev);
        for _ in 0..count {
            let client = rng.chance(0.2);
            let mac = if client {
                Mac([0x02, 0xaa, 0, 0, dev as u8, rng.below(8) as u8])
            } else {
                ap_mac(rng.below(12) as u8)
            };
            let fix = rng.chance(0.8).then(|| Fix {
                lat_e7: 514_000_000 + rng.below(20_000) as i32,
                lon_e7: -1_200_000 + rng.below(20_000) as i32,
                alt_cm: rng.chance(0.7).then(|| rng.below(5000) as i32),
                accuracy_cm: 200 + rng.below(800) as u32,
                time_us: self.clock(dev) - rng.below(1_000_000) as i64,
            });
            let obs = Observation {
                seq: self.next_seq[dev],
                session_id: 1 + u64::from(rng.chance(0.1)),
                kind: if client { Kind::Client } else { Kind::Ap },
                mac,
                time: self.clock(dev) + rng.below(1_000_000) as i64,
                signal_dbm: rng.chance(0.95).then(|| -30 - rng.below(66) as i8),
                channel: Some([1, 6, 11, 36][rng.below(4) as usize]),
                freq_mhz: rng.chance(0.9).then_some(2437),
                fix,
            };
            self.next_seq[dev] += 1;
            assert_eq!(self.nodes[dev].record(obs.clone()), Ok(true));
            if let Some(mut s) = NetworkSummary::from_observation(id, &obs) {
                s.add_ssid(format!("ssid-{}", rng.below(3)).as_bytes());
                s.offer_latest(Latest {
                    at: obs.time,
                    device: id,
                    attrs: vec![rng.below(4) as u8; 3],
                });
                self.nodes[dev].update_network(mac, &s);
            }
            self.truth[dev].push(obs);
            self.now += 1_000;
        }
    }

    fn edit(&mut self, node: usize, op: &EditOp) {
        let now = self.clock(node);
        let texts = ["", "home", "office", "café ☕ <b>"];
        let r = &mut self.nodes[node];
        match *op {
            EditOp::Label(m, t) => r.set_label(ap_mac(m), texts[t as usize], now).unwrap(),
            EditOp::Note(m, t) => r.set_note(ap_mac(m), texts[t as usize], now).unwrap(),
            EditOp::Ignore(m) => r.ignore(ap_mac(m)),
            EditOp::Unignore(m) => r.unignore(ap_mac(m)),
            EditOp::AddZone(z) => r.add_zone(zone(z)).unwrap(),
            EditOp::RemoveZone(z) => r.remove_zone(zone(z)),
        }
    }

    /// The hub's `Hello`, as the broken variant would send it.
    fn hub_hello(&self) -> Hello {
        let mut h = self.nodes[HUB].hello();
        if self.broken == Broken::MaxOnlyHave {
            let mut max_only = Have::new();
            for src in h.observations.sources() {
                let top = h
                    .observations
                    .seqs(src)
                    .ranges()
                    .last()
                    .map_or(0, |r| *r.end());
                max_only.insert_set(*src, &RangeSet::from_range(1..=top));
            }
            h.observations = max_only;
        }
        h
    }

    /// A message arrives at the hub; the reply, if any.
    fn at_hub(&mut self, msg: Message) -> Option<Message> {
        let broken = self.broken;
        let hub = &mut self.nodes[HUB];
        match msg {
            Message::Batch(b) => Some(Message::Ack(hub.apply_batch(&b))),
            Message::Networks(mut n) => {
                if broken == Broken::NetworksFirstWins {
                    n.entries.retain(|(m, _)| hub.network(m).is_none());
                }
                Some(Message::Ack(hub.apply_network_batch(&n)))
            }
            Message::Edits(mut e) => {
                if broken == Broken::LabelsLocalWins {
                    e.labels.retain(|(m, _)| hub.edits().label(m).is_none());
                }
                hub.merge_edits(*e).unwrap();
                None
            }
            Message::Hello(_) | Message::Ack(_) => None,
        }
    }

    /// A message arrives at a device (outside a round's own bookkeeping).
    fn at_device(&mut self, dev: usize, msg: Message) {
        if let Message::Edits(e) = msg {
            self.nodes[dev].merge_edits(*e).unwrap();
        }
    }

    /// One sync round between a device and the hub. Returns false if the flights did not
    /// finish within `max_flights` (only a faulty link may cause that).
    fn round(&mut self, dev: usize, faults: &Faults, max_flights: usize) -> bool {
        let mut link = Link {
            faults,
            index: 0,
            cut: false,
            rng: Rng(faults.shuffle),
        };
        // 1. The device says what it has; the hub answers with what it has and the edits
        //    the device lacks.
        let hello = Message::Hello(self.nodes[dev].hello());
        let Some(Message::Hello(dev_hello)) = link.send(&mut self.sent, To::Hub, &hello).pop()
        else {
            return true;
        };
        let mut replies = vec![Message::Hello(self.hub_hello())];
        if let Some(e) = self.nodes[HUB].edits_for(&dev_hello.edits) {
            replies.push(Message::Edits(Box::new(e)));
        }
        let mut arrived: Vec<Message> = replies
            .iter()
            .flat_map(|m| link.send(&mut self.sent, To::Device(dev), m))
            .collect();
        link.shuffle(&mut arrived);
        let mut view: Option<Hello> = None;
        for m in arrived {
            match m {
                Message::Hello(h) => view = Some(h),
                other => self.at_device(dev, other),
            }
        }
        let Some(mut view) = view else {
            return true;
        };
        // 2. Flights of batches, each answered by acknowledgements.
        let mut finished = false;
        for _ in 0..max_flights {
            let d = &self.nodes[dev];
            let msgs: Vec<Message> = d
                .batches_for(&view.observations, faults.limits)
                .into_iter()
                .map(Message::Batch)
                .chain(
                    d.network_batches_for(&view.networks, faults.limits)
                        .into_iter()
                        .map(Message::Networks),
                )
                .collect();
            if msgs.is_empty() {
                finished = true;
                break;
            }
            let mut arrived: Vec<Message> = msgs
                .iter()
                .flat_map(|m| link.send(&mut self.sent, To::Hub, m))
                .collect();
            link.shuffle(&mut arrived);
            let acks: Vec<Message> = arrived.into_iter().filter_map(|m| self.at_hub(m)).collect();
            let mut back: Vec<Message> = acks
                .iter()
                .flat_map(|m| link.send(&mut self.sent, To::Device(dev), m))
                .collect();
            link.shuffle(&mut back);
            for m in back {
                if let Message::Ack(a) = m {
                    view.absorb(&a);
                }
            }
            if link.cut {
                return true;
            }
        }
        // 3. The device's edits that the hub lacks.
        if let Some(e) = self.nodes[dev].edits_for(&view.edits) {
            for m in link.send(&mut self.sent, To::Hub, &Message::Edits(Box::new(e))) {
                self.at_hub(m);
            }
        }
        finished || link.cut
    }

    fn replay(&mut self, seed: u64, count: u8) {
        let mut rng = Rng(seed);
        for _ in 0..count {
            if self.sent.is_empty() {
                return;
            }
            let (to, bytes) = self.sent[rng.below(self.sent.len() as u64) as usize].clone();
            let msg = Message::decode(&bytes).unwrap();
            match to {
                To::Hub => {
                    self.at_hub(msg);
                }
                To::Device(d) => self.at_device(d, msg),
            }
        }
    }

    fn run(&mut self, history: &[Step]) {
        for step in history {
            self.now += 1_000_000;
            match step {
                Step::Record { dev, count, seed } => self.record(*dev, *count, *seed),
                Step::Edit { node, op } => self.edit(*node, op),
                Step::Sync { dev, faults } => {
                    if !self.partitioned[*dev] {
                        self.round(*dev, faults, 16);
                    }
                }
                Step::Partition { dev, off } => self.partitioned[*dev] = *off,
                Step::Replay { seed, count } => self.replay(*seed, *count),
            }
        }
    }

    /// The network heals and every device syncs fully, twice.
    fn final_sync(&mut self) -> Result<(), String> {
        for pass in 0..2 {
            for dev in 0..DEVICES {
                if !self.round(dev, &Faults::none(), 10_000) {
                    return Err(format!("pass {pass}: device {dev}'s round never finished"));
                }
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), String> {
        let hub = &self.nodes[HUB];
        for (i, n) in self.nodes.iter().enumerate() {
            if n.edits() != hub.edits()
                || n.edits().canonical_bytes() != hub.edits().canonical_bytes()
            {
                return Err(format!(
                    "node {i}'s edits differ from the hub's:\n{:?}\nhub:\n{:?}",
                    n.edits(),
                    hub.edits()
                ));
            }
        }
        let mut total = 0;
        for dev in 0..DEVICES {
            let id = node_id(dev);
            let held: Vec<&Observation> = hub.observations(&id).collect();
            let truth: Vec<&Observation> = self.truth[dev].iter().collect();
            if held != truth {
                let missing: Vec<u64> = truth
                    .iter()
                    .filter(|o| !held.contains(o))
                    .map(|o| o.seq)
                    .collect();
                return Err(format!(
                    "the hub holds {} of device {dev}'s {} observations; missing or changed: {missing:?}",
                    held.len(),
                    truth.len()
                ));
            }
            let own: Vec<&Observation> = self.nodes[dev].observations(&id).collect();
            if own != truth {
                return Err(format!("device {dev} lost or changed its own observations"));
            }
            total += truth.len();
        }
        if hub.observation_count() != total
            || hub.have().len() != total as u64
            || hub.conflicts() != 0
        {
            return Err(format!(
                "the hub holds {} observations (summary says {}, {} conflicts); the devices recorded {total}",
                hub.observation_count(),
                hub.have().len(),
                hub.conflicts()
            ));
        }
        let mut joined: BTreeMap<Mac, NetworkSummary> = BTreeMap::new();
        for dev in 0..DEVICES {
            for (m, s) in self.nodes[dev].networks() {
                joined
                    .entry(*m)
                    .and_modify(|j| {
                        j.join(s);
                    })
                    .or_insert_with(|| s.clone());
            }
        }
        let at_hub: BTreeMap<Mac, NetworkSummary> =
            hub.networks().map(|(m, s)| (*m, s.clone())).collect();
        if at_hub != joined {
            return Err(format!(
                "the hub's network summaries are not the join of the devices':\nhub {at_hub:?}\njoin {joined:?}"
            ));
        }
        // And nothing is left to send either way.
        let hello = self.hub_hello();
        for dev in 0..DEVICES {
            let d = &self.nodes[dev];
            if !d
                .batches_for(&hello.observations, Limits::default())
                .is_empty()
                || !d
                    .network_batches_for(&hello.networks, Limits::default())
                    .is_empty()
                || d.edits_for(&hello.edits).is_some()
                || hub.edits_for(&d.hello().edits).is_some()
            {
                return Err(format!(
                    "device {dev} and the hub still have something to send"
                ));
            }
        }
        Ok(())
    }
}

fn simulate(history: &[Step], broken: Broken) -> Result<(), String> {
    let mut w = World::new(broken);
    w.run(history);
    w.final_sync()?;
    w.check()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(96)))]

    #[test]
    fn everyone_converges_and_nothing_is_lost_or_doubled(history in history()) {
        if let Err(e) = simulate(&history, Broken::None) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// Runs the simulation with a broken hub over deterministic random histories until one
/// diverges; returns how many histories it took.
fn detects(broken: Broken) -> Option<usize> {
    let mut runner = TestRunner::deterministic();
    (1..=256).find(|_| {
        let h = history().new_tree(&mut runner).unwrap().current();
        simulate(&h, broken).is_err()
    })
}

#[test]
fn a_last_writer_wins_broken_at_the_hub_is_caught() {
    assert!(detects(Broken::LabelsLocalWins).is_some());
}

#[test]
fn a_summary_without_exceptions_loses_observations_and_is_caught() {
    assert!(detects(Broken::MaxOnlyHave).is_some());
}

#[test]
fn a_network_merge_that_is_not_a_join_is_caught() {
    assert!(detects(Broken::NetworksFirstWins).is_some());
}
