//! Every replicated type's merge is commutative, associative and idempotent (proptest).

use crdts::CvRDT;
use piwardrive_sync::network::MAX_SSIDS;
use piwardrive_sync::{
    Batch, BestSighting, DeviceId, Edits, Fix, Have, Kind, Latest, Limits, Mac, NetworkSummary,
    Observation, RangeSet, Replica, Zone,
};
use proptest::prelude::*;
use std::fmt::Debug;

fn dev(i: u8) -> DeviceId {
    DeviceId([i; 16])
}

fn mac(i: u8) -> Mac {
    Mac([0x02, 0, 0, 0, 0, i])
}

/// The three laws, on values of any state-based CRDT.
fn laws<T: CvRDT + Clone + PartialEq + Debug>(a: &T, b: &T, c: &T) -> Result<(), TestCaseError> {
    let join = |x: &T, y: &T| {
        let mut z = x.clone();
        z.merge(y.clone());
        z
    };
    prop_assert_eq!(join(a, b), join(b, a), "commutative");
    prop_assert_eq!(join(&join(a, b), c), join(a, &join(b, c)), "associative");
    prop_assert_eq!(join(a, a), a.clone(), "idempotent");
    // And an upper bound: joining the result with either input changes nothing.
    let ab = join(a, b);
    prop_assert_eq!(join(&ab, a), ab.clone(), "upper bound of a");
    prop_assert_eq!(join(&ab, b), ab, "upper bound of b");
    Ok(())
}

fn have() -> impl Strategy<Value = Have> {
    proptest::collection::vec((0u8..3, 0u64..40, 0u64..4), 0..20).prop_map(|v| {
        let mut h = Have::new();
        for (d, a, len) in v {
            h.insert_set(dev(d), &RangeSet::from_range(a..=a + len));
        }
        h
    })
}

fn fix() -> impl Strategy<Value = Fix> {
    // A small domain, so that ties on signal and accuracy happen and the tie-break is tested.
    (
        0i32..3,
        0i32..3,
        proptest::option::of(0i32..2),
        1u32..3,
        0i64..3,
    )
        .prop_map(|(la, lo, alt, acc, t)| Fix {
            lat_e7: 500_000_000 + la,
            lon_e7: lo,
            alt_cm: alt,
            accuracy_cm: acc,
            time_us: t,
        })
}

fn summary() -> impl Strategy<Value = NetworkSummary> {
    (
        0u8..4,
        -5i64..5,
        0i64..5,
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..3), 0..40),
        proptest::collection::vec(1u16..15, 0..4),
        proptest::collection::vec(0u8..5, 0..3),
        proptest::option::of((-62i8..-59, fix(), 0u8..3)),
        proptest::collection::vec(
            (-3i64..3, 0u8..3, proptest::collection::vec(0u8..3, 0..3)),
            0..3,
        ),
    )
        .prop_map(|(d, first, dur, ssids, channels, devices, best, latest)| {
            let mut s = NetworkSummary::new(dev(d), first, first + dur);
            for x in &ssids {
                s.add_ssid(x);
            }
            for c in channels {
                s.add_channel(c);
            }
            for d in devices {
                s.add_device(dev(d));
            }
            if let Some((signal_dbm, fix, d)) = best {
                s.offer_best(BestSighting {
                    signal_dbm,
                    fix,
                    device: dev(d),
                });
            }
            for (at, d, attrs) in latest {
                s.offer_latest(Latest {
                    at,
                    device: dev(d),
                    attrs,
                });
            }
            s
        })
}

/// One step of a small history of three actors' edits.
#[derive(Debug, Clone)]
enum Op {
    Label(u8, u8),
    Note(u8, u8),
    Ignore(u8),
    Unignore(u8),
    AddZone(u8),
    RemoveZone(u8),
    /// Merge another actor's whole state in.
    Merge(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..3, 0u8..3).prop_map(|(m, t)| Op::Label(m, t)),
        (0u8..3, 0u8..3).prop_map(|(m, t)| Op::Note(m, t)),
        (0u8..3).prop_map(Op::Ignore),
        (0u8..3).prop_map(Op::Unignore),
        (0u8..3).prop_map(Op::AddZone),
        (0u8..3).prop_map(Op::RemoveZone),
        (0usize..3).prop_map(Op::Merge),
    ]
}

fn zone(i: u8) -> Zone {
    Zone {
        lat_e7: 514_000_000 + i32::from(i),
        lon_e7: -1_000_000,
        radius_m: 200,
    }
}

/// Applies one op as actor `who` at `time` (times repeat, so ties are exercised).
fn apply(states: &mut [Edits], who: usize, op: &Op, time: i64) {
    let actor = dev(who as u8);
    let texts = ["", "home", "café ☕"];
    match *op {
        Op::Label(m, t) => states[who]
            .set_label(actor, mac(m), texts[t as usize], time)
            .unwrap(),
        Op::Note(m, t) => states[who]
            .set_note(actor, mac(m), texts[t as usize], time)
            .unwrap(),
        Op::Ignore(m) => states[who].ignore(actor, mac(m)),
        Op::Unignore(m) => states[who].unignore(actor, mac(m)),
        Op::AddZone(z) => states[who].add_zone(actor, zone(z)).unwrap(),
        Op::RemoveZone(z) => states[who].remove_zone(actor, zone(z)),
        Op::Merge(from) => {
            let other = states[from].clone();
            states[who].merge(other);
        }
    }
}

/// Three actors' edit states after a random history (states any real run could reach).
fn edits_triple() -> impl Strategy<Value = [Edits; 3]> {
    proptest::collection::vec((0usize..3, op()), 0..30).prop_map(|history| {
        let mut states = [Edits::new(), Edits::new(), Edits::new()];
        for (i, (who, op)) in history.iter().enumerate() {
            apply(&mut states, *who, op, i as i64 / 3);
        }
        states
    })
}

fn observation(seq: u64, variant: u8) -> Observation {
    Observation {
        seq,
        session_id: 1,
        kind: if variant == 2 { Kind::Client } else { Kind::Ap },
        mac: mac(seq as u8 % 4),
        time: 1_000 + seq as i64,
        signal_dbm: Some(-50 - variant as i8),
        channel: Some(6),
        freq_mhz: Some(2437),
        fix: None,
    }
}

/// A replica that holds observations of three devices, network summaries and labels.
///
/// An observation's values are a function of its key: a device never reuses a seq (the
/// summaries are of keys, so two values under one key would stay apart on two nodes that
/// each hold one; `Replica::conflicts` counts them where they meet).
fn replica(id: u8) -> impl Strategy<Value = Replica> {
    (
        proptest::collection::vec((0u8..3, 1u64..12), 0..12),
        proptest::collection::vec((0u8..4, summary()), 0..4),
        proptest::collection::vec((0u8..3, 0u8..3), 0..3),
    )
        .prop_map(move |(obs, nets, labels)| {
            let mut r = Replica::new(dev(id));
            for (d, seq) in obs {
                let o = observation(seq, (d + seq as u8) % 3);
                r.apply_batch(&Batch::new(dev(d), vec![o]).unwrap());
            }
            for (m, s) in nets {
                r.update_network(mac(m), &s);
            }
            for (i, (m, t)) in labels.into_iter().enumerate() {
                r.set_label(mac(m), ["a", "b", "c"][t as usize], i as i64)
                    .unwrap();
            }
            r
        })
}

/// Merges everything `b` has that `a` lacks into `a`, through the protocol's own calls.
fn join(a: &Replica, b: &Replica) -> Replica {
    let mut a = a.clone();
    let unlimited = Limits {
        batches: usize::MAX,
        ..Limits::default()
    };
    for batch in b.batches_for(a.have(), unlimited) {
        a.apply_batch(&batch);
    }
    for nb in b.network_batches_for(&a.hello().networks, unlimited) {
        a.apply_network_batch(&nb);
    }
    if let Some(d) = b.edits_for(&a.hello().edits) {
        a.merge_edits(d).unwrap();
    }
    a
}

proptest! {
    #[test]
    fn have_merge_laws(a in have(), b in have(), c in have()) {
        laws(&a, &b, &c)?;
        // And it is set union.
        let mut ab = a.clone();
        ab.merge(b.clone());
        for d in 0..3 {
            let mut expect = a.seqs(&dev(d));
            expect.union(&b.seqs(&dev(d)));
            prop_assert_eq!(ab.seqs(&dev(d)), expect);
        }
    }

    #[test]
    fn network_summary_merge_laws(a in summary(), b in summary(), c in summary()) {
        laws(&a, &b, &c)?;
        let mut ab = a.clone();
        ab.merge(b.clone());
        prop_assert_eq!(ab.first_seen(), a.first_seen().min(b.first_seen()));
        prop_assert_eq!(ab.last_seen(), a.last_seen().max(b.last_seen()));
        prop_assert!(ab.ssids().len() <= MAX_SSIDS);
        // `join` reports a change exactly when there was one (a node restamps on it).
        let mut x = a.clone();
        let changed = x.join(&b);
        prop_assert_eq!(changed, x != a);
        let best_signal = a.best().max(b.best()).map(|x| x.signal_dbm);
        prop_assert_eq!(ab.best().map(|x| x.signal_dbm), best_signal);
    }

    #[test]
    fn edits_merge_laws([a, b, c] in edits_triple()) {
        laws(&a, &b, &c)?;
        prop_assert_eq!(a.canonical_bytes(), {
            let mut x = a.clone();
            x.merge(a.clone());
            x.canonical_bytes()
        });
    }

    /// The delta a peer sends for a clock has the effect of merging the whole state, and
    /// merging it again, or an older one later, changes nothing.
    #[test]
    fn edits_delta_equals_full_merge([a, b, c] in edits_triple()) {
        let mut full = a.clone();
        full.merge(b.clone());
        let mut via_delta = a.clone();
        let delta = b.delta_for(a.clock());
        if let Some(delta) = delta.clone() {
            via_delta.merge_delta(delta);
        }
        prop_assert_eq!(&via_delta, &full);
        if let Some(delta) = delta {
            via_delta.merge_delta(delta);
            prop_assert_eq!(&via_delta, &full);
        }
        // A delta computed against some other node's clock is still safe to merge.
        if let Some(stale) = b.delta_for(c.clock()) {
            via_delta.merge_delta(stale);
            prop_assert_eq!(&via_delta, &full);
        }
        // Nothing is sent to a peer that has everything.
        prop_assert!(full.delta_for(full.clock()).is_none());
    }

    #[test]
    fn replica_join_laws(a in replica(100), b in replica(101), c in replica(102)) {
        let d = |r: &Replica| r.digest();
        prop_assert_eq!(d(&join(&a, &b)), d(&join(&b, &a)), "commutative");
        prop_assert_eq!(d(&join(&join(&a, &b), &c)), d(&join(&a, &join(&b, &c))), "associative");
        prop_assert_eq!(d(&join(&a, &a)), d(&a), "idempotent");
        let ab = join(&a, &b);
        prop_assert_eq!(ab.observation_count(), {
            let mut keys: Vec<(DeviceId, u64)> = Vec::new();
            for r in [&a, &b] {
                for dv in r.devices() {
                    keys.extend(r.observations(dv).map(|o| (*dv, o.seq)));
                }
            }
            keys.sort();
            keys.dedup();
            keys.len()
        });
        // The summary kept alongside the observations is exactly their keys.
        for dv in ab.devices() {
            let keys: RangeSet = ab.observations(dv).map(|o| o.seq).collect();
            prop_assert_eq!(ab.have().seqs(dv), keys);
        }
    }
}
