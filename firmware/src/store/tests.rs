//! Unit tests of the store: round trips, paging order, index maintenance, schema refusal,
//! snapshot isolation under a committing writer, flush semantics, and a model-based proptest.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use proptest::prelude::*;
use redb::{ReadableDatabase, ReadableTableMetadata};

use super::schema::{APS, APS_BY_FIRST_SEEN, APS_BY_LAST_SEEN, CURSORS, META};
use super::*;
use crate::model::{
    Band, Fix, ObservationKind, Phy, Pmf, Security, SessionStatus, SsidSeen, TimeSource, WpsInfo,
};

fn mac(n: u64) -> MacAddr {
    MacAddr::from_u64(n)
}

pub(crate) fn ap(bssid: u64, first_seen: i64, last_seen: i64) -> ApRecord {
    ApRecord {
        bssid: mac(bssid),
        ssid: Some(format!("net{bssid}").into_bytes()),
        ssid_history: vec![SsidSeen {
            ssid: format!("net{bssid}").into_bytes(),
            count: 3,
            first_seen,
            last_seen,
        }],
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![5, 6, 7],
        security: Security::default(),
        vendor: None,
        country: None,
        mesh_id: None,
        ibss: false,
        first_seen,
        last_seen,
        beacons: 1,
        probe_responses: 0,
        data_frames: 0,
        best_signal_dbm: Some(-50),
        best_fix: None,
        best_fix_signal_dbm: None,
        position: None,
        last_signal_dbm: Some(-60),
        client_count: 0,
    }
}

fn fix() -> Fix {
    Fix {
        lat: 52.5,
        lon: 13.4,
        alt_m: Some(34.0),
        accuracy_m: 4.5,
        time_us: 1_700_000_000_000_000,
    }
}

fn client(m: u64, last_seen: i64) -> ClientRecord {
    ClientRecord {
        mac: mac(m),
        randomized: true,
        probed_ssids: vec![b"home".to_vec(), vec![0xff, 0x00]],
        associated_bssid: Some(mac(7)),
        vendor: Some("Acme".into()),
        first_seen: 1,
        last_seen,
        frames: 9,
        best_signal_dbm: Some(-40),
        best_fix: Some(fix()),
    }
}

fn obs(seq: u64, m: u64) -> Observation {
    Observation {
        seq,
        session_id: 1,
        kind: ObservationKind::Ap,
        mac: mac(m),
        time: seq as i64 * 1000,
        signal_dbm: Some(-70),
        channel: Some(11),
        freq_mhz: Some(2462),
        fix: Some(fix()),
    }
}

fn session(id: u64) -> SessionRecord {
    SessionRecord {
        id,
        device_id: [3; 16],
        started_at: 10,
        ended_at: Some(20),
        sources: vec!["wlan1".into()],
        status: SessionStatus::Ended,
        time_source: TimeSource::Gps,
        frames: 100,
    }
}

fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data/store.redb")).unwrap();
    (dir, store)
}

/// Applies batches through a writer and waits for them.
fn write(store: &Store, batches: Vec<Batch>) -> WriterStats {
    let w = StoreWriter::spawn(store.clone());
    for b in batches {
        w.send(b).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn opens_and_counts_empty() {
    let (_d, store) = open_temp();
    assert_eq!(store.ap_count().unwrap(), 0);
    assert_eq!(store.client_count().unwrap(), 0);
    assert_eq!(store.observation_count().unwrap(), 0);
    assert_eq!(store.next_observation_seq().unwrap(), 1);
    assert_eq!(store.next_session_id().unwrap(), 1);
    assert!(store.sessions().unwrap().is_empty());
    assert!(store.cursor("x").unwrap().is_none());
    assert!(store.stats().unwrap().file_bytes > 0);
}

#[test]
fn device_id_is_created_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let id = Store::open(&path).unwrap().device_id();
    assert_ne!(id, [0; 16]);
    assert_eq!(Store::open(&path).unwrap().device_id(), id);
    let other = Store::open(&dir.path().join("t.redb")).unwrap().device_id();
    assert_ne!(other, id);
}

#[test]
fn every_record_kind_round_trips() {
    let (_d, store) = open_temp();
    let mut rich = ap(0x0011_2233_4455, 100, 200);
    rich.ssid = None;
    rich.hidden = true;
    rich.security = Security {
        privacy: true,
        wpa: true,
        rsn_akms: 1 << 8 | 1 << 2,
        rsn_pairwise: 1 << 4,
        rsn_group: 1 << 4,
        wpa_akms: 1 << 2,
        wpa_ciphers: 1 << 2,
        pmf: Pmf::Capable,
        wps: Some(WpsInfo {
            state: Some(2),
            device_name: Some(b"router".to_vec()),
            model: None,
            manufacturer: Some(vec![0xe4, 0xb8, 0xad]),
        }),
    };
    rich.vendor = Some("Raspberry Pi (Trading) Ltd".into());
    rich.country = Some(*b"DE ");
    rich.mesh_id = Some(b"mesh".to_vec());
    rich.best_fix = Some(fix());
    rich.band = Some(Band::B6);
    rich.phy = Phy::Be;
    let c = client(0x0a0b_0c0d_0e0f, 55);
    let o = obs(1, 0x0011_2233_4455);
    let s = session(1);
    let cur = SourceCursor {
        records: 12,
        byte_offset: 3456,
        complete: true,
    };
    let stats = write(
        &store,
        vec![Batch {
            aps: vec![rich.clone()],
            clients: vec![c.clone()],
            observations: vec![o.clone()],
            sessions: vec![s.clone()],
            cursors: vec![("cap/a.pcap".into(), cur)],
            track: vec![fix()],
            ..Batch::default()
        }],
    );
    assert_eq!(stats.commits, 1);
    assert_eq!(stats.batches, 1);
    assert_eq!(stats.aps_written, 1);
    assert_eq!(stats.observations_written, 1);

    assert_eq!(store.ap(rich.bssid).unwrap(), Some(rich.clone()));
    assert_eq!(store.ap(mac(1)).unwrap(), None);
    assert_eq!(store.all_aps().unwrap(), vec![rich]);
    assert_eq!(store.client(c.mac).unwrap(), Some(c.clone()));
    assert_eq!(store.all_clients().unwrap(), vec![c]);
    assert_eq!(store.observations_for(o.mac, 10).unwrap(), vec![o]);
    assert_eq!(store.sessions().unwrap(), vec![s]);
    assert_eq!(store.cursor("cap/a.pcap").unwrap(), Some(cur));
    assert_eq!(store.next_observation_seq().unwrap(), 2);
    assert_eq!(store.next_session_id().unwrap(), 2);
    let st = store.stats().unwrap();
    assert_eq!(
        (st.aps, st.clients, st.observations, st.sessions),
        (1, 1, 1, 1)
    );
}

#[test]
fn paging_is_newest_first_with_ties_by_bssid() {
    let (_d, store) = open_temp();
    // Three APs share first_seen 50; the order among them is by BSSID, descending (the
    // reverse of the index's key order).
    let aps = vec![
        ap(5, 50, 500),
        ap(1, 10, 900),
        ap(3, 50, 300),
        ap(9, 70, 100),
        ap(4, 50, 300),
    ];
    write(
        &store,
        vec![Batch {
            aps,
            ..Batch::default()
        }],
    );
    let bssids = |v: Vec<ApRecord>| v.iter().map(|a| a.bssid.to_u64()).collect::<Vec<_>>();
    assert_eq!(
        bssids(store.aps_by_first_seen(0, 100).unwrap()),
        [9, 5, 4, 3, 1]
    );
    assert_eq!(bssids(store.aps_by_first_seen(1, 2).unwrap()), [5, 4]);
    assert_eq!(bssids(store.aps_by_first_seen(4, 2).unwrap()), [1]);
    assert!(store.aps_by_first_seen(5, 2).unwrap().is_empty());
    assert!(store.aps_by_first_seen(u64::MAX, 2).unwrap().is_empty());
    assert!(store.aps_by_first_seen(0, 0).unwrap().is_empty());
    assert_eq!(
        bssids(store.aps_by_last_seen(0, 100).unwrap()),
        [1, 5, 4, 3, 9]
    );
    assert_eq!(bssids(store.all_aps().unwrap()), [1, 3, 4, 5, 9]);
}

fn index_len(store: &Store) -> (u64, u64) {
    let txn = store.db().begin_read().unwrap();
    (
        txn.open_table(APS_BY_FIRST_SEEN).unwrap().len().unwrap(),
        txn.open_table(APS_BY_LAST_SEEN).unwrap().len().unwrap(),
    )
}

#[test]
fn index_follows_changed_times() {
    let (_d, store) = open_temp();
    write(
        &store,
        vec![
            Batch {
                aps: vec![ap(1, 10, 10), ap(2, 20, 20)],
                ..Batch::default()
            },
            // AP 1 is heard again: last_seen moves past AP 2.
            Batch {
                aps: vec![ap(1, 10, 30)],
                ..Batch::default()
            },
        ],
    );
    let order = |v: Vec<ApRecord>| v.iter().map(|a| a.bssid.to_u64()).collect::<Vec<_>>();
    assert_eq!(order(store.aps_by_last_seen(0, 10).unwrap()), [1, 2]);
    assert_eq!(index_len(&store), (2, 2));

    // Within one batch, several updates of one AP, including first_seen moving back (a
    // merge from another device), leave exactly one index entry each.
    write(
        &store,
        vec![Batch {
            aps: vec![ap(2, 20, 40), ap(2, 5, 45), ap(2, 5, 50)],
            ..Batch::default()
        }],
    );
    assert_eq!(index_len(&store), (2, 2));
    assert_eq!(order(store.aps_by_last_seen(0, 10).unwrap()), [2, 1]);
    assert_eq!(order(store.aps_by_first_seen(0, 10).unwrap()), [1, 2]);
    assert_eq!(store.ap(mac(2)).unwrap().unwrap().last_seen, 50);
    assert_eq!(store.ap_count().unwrap(), 2);
}

#[test]
fn observations_for_is_newest_first_and_limited() {
    let (_d, store) = open_temp();
    let batch = Batch {
        observations: (1..=10)
            .map(|s| obs(s, if s % 2 == 0 { 7 } else { 8 }))
            .collect(),
        ..Batch::default()
    };
    write(&store, vec![batch]);
    let seqs = |v: Vec<Observation>| v.iter().map(|o| o.seq).collect::<Vec<_>>();
    assert_eq!(seqs(store.observations_for(mac(7), 3).unwrap()), [10, 8, 6]);
    assert_eq!(
        seqs(store.observations_for(mac(8), 100).unwrap()),
        [9, 7, 5, 3, 1]
    );
    assert!(store.observations_for(mac(9), 100).unwrap().is_empty());
    // Rewriting seq 10 for another MAC moves it between MACs (idempotent re-sends).
    write(
        &store,
        vec![Batch {
            observations: vec![obs(10, 9)],
            ..Batch::default()
        }],
    );
    assert_eq!(seqs(store.observations_for(mac(7), 3).unwrap()), [8, 6, 4]);
    assert_eq!(seqs(store.observations_for(mac(9), 3).unwrap()), [10]);
    assert_eq!(store.observation_count().unwrap(), 10);
    assert_eq!(store.next_observation_seq().unwrap(), 11);
}

#[test]
fn sessions_are_newest_first() {
    let (_d, store) = open_temp();
    write(
        &store,
        vec![Batch {
            sessions: vec![session(2), session(1), session(3)],
            ..Batch::default()
        }],
    );
    let ids: Vec<u64> = store.sessions().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, [3, 2, 1]);
    assert_eq!(store.next_session_id().unwrap(), 4);
}

#[test]
fn newer_schema_version_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let store = Store::open(&path).unwrap();
        write(
            &store,
            vec![Batch {
                aps: vec![ap(1, 1, 1)],
                ..Batch::default()
            }],
        );
        let txn = store.db().begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 2u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&path).expect_err("a newer schema must be refused");
    match &err {
        StoreError::SchemaVersion {
            found, expected, ..
        } => assert_eq!((*found, *expected), (2, SCHEMA_VERSION)),
        other => panic!("wrong error: {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(path.to_str().unwrap()), "{msg}");
    assert!(msg.contains("newer PiWardrive"), "{msg}");

    // Refusing did not touch the file: putting the version back opens it with its data.
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 1u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    assert_eq!(Store::open(&path).unwrap().ap_count().unwrap(), 1);
}

#[test]
fn older_unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 0u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaVersion { found: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no migration"), "{err}");
}

#[test]
fn a_file_that_is_not_a_store_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    std::fs::write(&path, vec![0x5a; 10_000]).unwrap();
    let err = Store::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(path.to_str().unwrap()), "{msg}");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_second_open_of_the_same_file_says_already_open() {
    let (_d, store) = open_temp();
    let err = Store::open(store.path()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyOpen { .. }), "{err:?}");
}

#[test]
fn undecodable_values_name_table_and_key() {
    let (_d, store) = open_temp();
    write(
        &store,
        vec![Batch {
            aps: vec![ap(0xaabb_ccdd_eeff, 1, 2)],
            cursors: vec![(
                "c".into(),
                SourceCursor {
                    records: 1,
                    byte_offset: 1,
                    complete: false,
                },
            )],
            ..Batch::default()
        }],
    );
    let txn = store.db().begin_write().unwrap();
    txn.open_table(APS)
        .unwrap()
        .insert(0xaabb_ccdd_eeff, [0xffu8; 3].as_slice())
        .unwrap();
    txn.open_table(CURSORS)
        .unwrap()
        .insert("c", [].as_slice())
        .unwrap();
    txn.commit().unwrap();

    let err = store.ap(mac(0xaabb_ccdd_eeff)).unwrap_err();
    match &err {
        StoreError::Decode { table, key, .. } => {
            assert_eq!((*table, key.as_str()), ("aps", "aa:bb:cc:dd:ee:ff"))
        }
        other => panic!("wrong error: {other:?}"),
    }
    assert!(store.all_aps().is_err());
    assert!(store.aps_by_last_seen(0, 10).is_err());
    let err = store.cursor("c").unwrap_err();
    assert!(err.to_string().contains("`cursors`"), "{err}");

    // The writer heals it by overwriting, and the index stays single.
    write(
        &store,
        vec![Batch {
            aps: vec![ap(0xaabb_ccdd_eeff, 1, 3)],
            ..Batch::default()
        }],
    );
    assert_eq!(store.aps_by_last_seen(0, 10).unwrap().len(), 1);
}

#[test]
fn flush_waits_for_the_commit_and_empty_batches_cost_nothing() {
    let (_d, store) = open_temp();
    let w = StoreWriter::spawn(store.clone());
    w.flush().unwrap();
    w.send(Batch::default()).unwrap();
    w.flush().unwrap();
    assert_eq!(w.status().commits(), 0);
    for i in 1..=20 {
        w.send(Batch {
            aps: vec![ap(i, i as i64, i as i64)],
            ..Batch::default()
        })
        .unwrap();
    }
    w.flush().unwrap();
    // Everything sent before the flush is visible to a new reader as soon as it returns.
    assert_eq!(store.ap_count().unwrap(), 20);
    let snap = w.status().snapshot();
    assert!(snap.running);
    assert_eq!(snap.batches, 21);
    assert_eq!(snap.queued, 0);
    assert!(snap.commits >= 1 && snap.commits <= 20, "{snap:?}");
    assert!(snap.last_commit_us.is_some());
    assert!(snap.error.is_none());
    let status = w.status();
    let stats = w.finish().unwrap();
    assert_eq!(stats.aps_written, 20);
    assert!(!status.is_running());
}

#[test]
fn dropping_the_writer_commits_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let store = Store::open(&path).unwrap();
        let w = StoreWriter::spawn(store);
        for i in 0..50 {
            w.send(Batch {
                aps: vec![ap(i, 0, 0)],
                ..Batch::default()
            })
            .unwrap();
        }
    }
    assert_eq!(Store::open(&path).unwrap().ap_count().unwrap(), 50);
}

/// A batch writing N APs plus a cursor with `records = N` (cumulative): in any snapshot the AP
/// count equals the cursor, or a reader saw half a batch.
#[test]
fn readers_never_see_half_a_batch() {
    let (_d, store) = open_temp();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut checks = 0u64;
                let mut last = 0;
                while !done.load(Ordering::Relaxed) {
                    // One snapshot for both reads.
                    let txn = store.db().begin_read().unwrap();
                    let n = txn.open_table(APS).unwrap().len().unwrap();
                    let cursor: Option<SourceCursor> = txn
                        .open_table(CURSORS)
                        .unwrap()
                        .get("feed")
                        .unwrap()
                        .map(|v| postcard::from_bytes(v.value()).unwrap());
                    assert_eq!(n, cursor.map_or(0, |c| c.records));
                    assert!(n >= last, "snapshots went backwards");
                    last = n;
                    // And through the public API: two calls are two snapshots, so only check
                    // when no commit landed between them (every commit moves the cursor).
                    let c1 = store.cursor("feed").unwrap();
                    let count = store.ap_count().unwrap();
                    let c2 = store.cursor("feed").unwrap();
                    if c1 == c2 {
                        assert_eq!(count, c1.map_or(0, |c| c.records));
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();

    let w = StoreWriter::spawn(store.clone());
    let mut total = 0u64;
    for round in 0..60u64 {
        let n = 1 + round % 7;
        let aps = (0..n).map(|i| ap(total + i, 1, 1)).collect();
        total += n;
        w.send(Batch {
            aps,
            cursors: vec![(
                "feed".into(),
                SourceCursor {
                    records: total,
                    byte_offset: total * 100,
                    complete: false,
                },
            )],
            ..Batch::default()
        })
        .unwrap();
    }
    w.finish().unwrap();
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(store.ap_count().unwrap(), total);
}

/// A small model of the store: BTreeMaps keyed as the tables are.
#[derive(Default)]
struct Model {
    aps: BTreeMap<u64, ApRecord>,
    clients: BTreeMap<u64, ClientRecord>,
    observations: BTreeMap<u64, Observation>,
    sessions: BTreeMap<u64, SessionRecord>,
    cursors: BTreeMap<String, SourceCursor>,
    track: BTreeMap<i64, Fix>,
    /// Grow-only, as the writer keeps it.
    session_macs: std::collections::BTreeSet<(u64, u64)>,
}

impl Model {
    fn apply(&mut self, b: &Batch) {
        for a in &b.aps {
            self.aps.insert(a.bssid.to_u64(), a.clone());
        }
        for c in &b.clients {
            self.clients.insert(c.mac.to_u64(), c.clone());
        }
        for o in &b.observations {
            self.observations.insert(o.seq, o.clone());
            self.session_macs.insert((o.session_id, o.mac.to_u64()));
        }
        for f in &b.track {
            self.track.insert(f.time_us, *f);
        }
        for s in &b.sessions {
            self.sessions.insert(s.id, s.clone());
        }
        for (k, c) in &b.cursors {
            self.cursors.insert(k.clone(), *c);
        }
    }
}

fn arb_batch() -> impl Strategy<Value = Batch> {
    // Small key and time spaces so that upserts, index moves and ties happen often.
    let ap = (0u64..6, 0i64..5, 0i64..5, 0u64..3).prop_map(|(b, f, l, beacons)| {
        let mut a = ap(b, f, l);
        a.beacons = beacons;
        a
    });
    let cl = (0u64..4, 0i64..5).prop_map(|(m, l)| client(m, l));
    let ob = (1u64..12, 0u64..4, 1u64..3).prop_map(|(s, m, session)| {
        let mut o = obs(s, m);
        o.session_id = session;
        o
    });
    let tr = (0i64..20, -90.0f64..90.0).prop_map(|(t, lat)| Fix {
        lat,
        time_us: t,
        ..fix()
    });
    let se = (1u64..5, 0u64..3).prop_map(|(id, f)| {
        let mut s = session(id);
        s.frames = f;
        s
    });
    let cu = (0u8..3, 0u64..100, any::<bool>()).prop_map(|(k, r, c)| {
        (
            format!("src{k}"),
            SourceCursor {
                records: r,
                byte_offset: r * 10,
                complete: c,
            },
        )
    });
    (
        prop::collection::vec(ap, 0..5),
        prop::collection::vec(cl, 0..3),
        prop::collection::vec(ob, 0..4),
        prop::collection::vec(se, 0..2),
        prop::collection::vec(cu, 0..2),
        prop::collection::vec(tr, 0..3),
    )
        .prop_map(
            |(aps, clients, observations, sessions, cursors, track)| Batch {
                aps,
                clients,
                observations,
                sessions,
                cursors,
                track,
                ..Batch::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn writer_matches_a_btreemap_model(batches in prop::collection::vec(arb_batch(), 0..12)) {
        let (_d, store) = open_temp();
        let mut model = Model::default();
        for b in &batches {
            model.apply(b);
        }
        write(&store, batches);

        prop_assert_eq!(store.all_aps().unwrap(), model.aps.values().cloned().collect::<Vec<_>>());
        prop_assert_eq!(store.ap_count().unwrap(), model.aps.len() as u64);
        let mut by_first: Vec<_> = model.aps.values().cloned().collect();
        by_first.sort_by_key(|a| std::cmp::Reverse((a.first_seen, a.bssid.to_u64())));
        prop_assert_eq!(store.aps_by_first_seen(0, usize::MAX).unwrap(), by_first.clone());
        prop_assert_eq!(store.aps_by_first_seen(2, 2).unwrap(), by_first.iter().skip(2).take(2).cloned().collect::<Vec<_>>());
        let mut by_last: Vec<_> = model.aps.values().cloned().collect();
        by_last.sort_by_key(|a| std::cmp::Reverse((a.last_seen, a.bssid.to_u64())));
        prop_assert_eq!(store.aps_by_last_seen(0, usize::MAX).unwrap(), by_last);
        prop_assert_eq!(index_len(&store), (model.aps.len() as u64, model.aps.len() as u64));

        prop_assert_eq!(store.all_clients().unwrap(), model.clients.values().cloned().collect::<Vec<_>>());
        prop_assert_eq!(store.observation_count().unwrap(), model.observations.len() as u64);
        for m in 0..4 {
            let want: Vec<_> = model.observations.values().rev().filter(|o| o.mac == mac(m)).cloned().collect();
            prop_assert_eq!(store.observations_for(mac(m), usize::MAX).unwrap(), want);
        }
        prop_assert_eq!(store.next_observation_seq().unwrap(), model.observations.keys().last().map_or(1, |s| s + 1));
        prop_assert_eq!(store.sessions().unwrap(), model.sessions.values().rev().cloned().collect::<Vec<_>>());
        prop_assert_eq!(store.next_session_id().unwrap(), model.sessions.keys().last().map_or(1, |s| s + 1));
        for k in 0..3 {
            let key = format!("src{k}");
            prop_assert_eq!(store.cursor(&key).unwrap(), model.cursors.get(&key).copied());
        }

        // The streaming readers see exactly what the model holds, in key order.
        let snap = store.snapshot().unwrap();
        for session in [None, Some(1), Some(2)] {
            let mut seen = Vec::new();
            let flow = snap.for_each_observation::<()>(session, |o| {
                seen.push(o.clone());
                ControlFlow::Continue(())
            }).unwrap();
            prop_assert!(flow.is_continue());
            let want: Vec<_> = model.observations.values()
                .filter(|o| session.is_none_or(|s| o.session_id == s)).cloned().collect();
            prop_assert_eq!(seen, want);
        }
        let mut aps = Vec::new();
        let _ = snap.for_each_ap::<()>(|a| { aps.push(a.clone()); ControlFlow::Continue(()) }).unwrap();
        prop_assert_eq!(aps, model.aps.values().cloned().collect::<Vec<_>>());
        let mut track = Vec::new();
        let _ = snap.for_each_track_point::<()>(5..=15, |f| { track.push(*f); ControlFlow::Continue(()) }).unwrap();
        prop_assert_eq!(track, model.track.range(5..=15).map(|(_, f)| *f).collect::<Vec<_>>());
        for session in 1..3u64 {
            let mut macs = Vec::new();
            let _ = snap.for_each_mac_in_session::<()>(session, |m| { macs.push(m.to_u64()); ControlFlow::Continue(()) }).unwrap();
            let want: Vec<_> = model.session_macs.iter().filter(|(s, _)| *s == session).map(|(_, m)| *m).collect();
            prop_assert_eq!(macs, want);
        }
    }
}

/// The web UI keeps a `Store` in axum state and tasks share the writer behind an `Arc`.
#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
    assert_send_sync::<StoreWriter>();
    assert_send_sync::<WriterStatus>();
    assert_send_sync::<StoreError>();
}

/// A walk stops at the first `Break` and hands its value back.
#[test]
fn streaming_walks_stop_early() {
    let (_d, store) = open_temp();
    write(
        &store,
        vec![Batch {
            observations: (1..=100).map(|s| obs(s, s % 7)).collect(),
            ..Batch::default()
        }],
    );
    let mut visited = 0;
    let flow = store
        .for_each_observation(None, |o| {
            visited += 1;
            if o.seq == 10 {
                ControlFlow::Break(o.seq)
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(flow, ControlFlow::Break(10));
    assert_eq!(visited, 10);
}

/// APs of a session come from the session index; clients observed in it are skipped.
#[test]
fn aps_in_a_session() {
    let (_d, store) = open_temp();
    let mut client_obs = obs(50, 3);
    client_obs.kind = ObservationKind::Client;
    client_obs.session_id = 2;
    let mut in_two = obs(51, 1);
    in_two.session_id = 2;
    write(
        &store,
        vec![Batch {
            aps: vec![ap(1, 0, 0), ap(2, 0, 0)],
            clients: vec![client(3, 5)],
            observations: vec![obs(1, 1), obs(2, 2), client_obs, in_two],
            ..Batch::default()
        }],
    );
    let snap = store.snapshot().unwrap();
    let list = |session| {
        let mut v = Vec::new();
        let _ = snap
            .for_each_ap_in_session::<()>(session, |a| {
                v.push(a.bssid.to_u64());
                ControlFlow::Continue(())
            })
            .unwrap();
        v
    };
    assert_eq!(list(1), vec![1, 2]);
    assert_eq!(list(2), vec![1]);
    assert!(list(3).is_empty());
}

/// A session's track runs from its start to its end; an unfinished one until the next
/// session starts, and the last unfinished one without bound.
#[test]
fn session_time_ranges() {
    let (_d, store) = open_temp();
    let mut s1 = session(1);
    s1.started_at = 100;
    s1.ended_at = Some(200);
    let mut s2 = session(2);
    s2.started_at = 300;
    s2.ended_at = None;
    let mut s3 = session(3);
    s3.started_at = 500;
    s3.ended_at = None;
    write(
        &store,
        vec![Batch {
            sessions: vec![s1, s2, s3],
            track: (0..7)
                .map(|i| Fix {
                    time_us: i * 100,
                    ..fix()
                })
                .collect(),
            ..Batch::default()
        }],
    );
    let snap = store.snapshot().unwrap();
    use Bound::*;
    assert_eq!(
        snap.session_time_range(1).unwrap(),
        Some((Included(100), Included(200)))
    );
    assert_eq!(
        snap.session_time_range(2).unwrap(),
        Some((Included(300), Excluded(500)))
    );
    assert_eq!(
        snap.session_time_range(3).unwrap(),
        Some((Included(500), Unbounded))
    );
    assert_eq!(snap.session_time_range(4).unwrap(), None);
    let range = snap.session_time_range(2).unwrap().unwrap();
    let mut times = Vec::new();
    let _ = snap
        .for_each_track_point::<()>(range, |f| {
            times.push(f.time_us);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(times, vec![300, 400]);
    assert_eq!(snap.sessions().unwrap().len(), 3);
}

/// A file written before the session index existed gets the index filled on open.
#[test]
fn session_index_is_backfilled_for_older_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    {
        let store = Store::open(&path).unwrap();
        let mut o = obs(2, 5);
        o.session_id = 4;
        write(
            &store,
            vec![Batch {
                observations: vec![obs(1, 9), o],
                ..Batch::default()
            }],
        );
        let txn = store.db().begin_write().unwrap();
        txn.delete_table(schema::SESSION_MACS).unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let snap = store.snapshot().unwrap();
    let macs = |s| {
        let mut v = Vec::new();
        let _ = snap
            .for_each_mac_in_session::<()>(s, |m| {
                v.push(m.to_u64());
                ControlFlow::Continue(())
            })
            .unwrap();
        v
    };
    assert_eq!(macs(1), vec![9]);
    assert_eq!(macs(4), vec![5]);
}

#[test]
fn time_shift_moves_only_the_sessions_earlier_observations() {
    let (_dir, store) = open_temp();
    let w = StoreWriter::spawn(store.clone());
    let mut observations: Vec<Observation> = (1..=6).map(|s| obs(s, 7)).collect();
    for o in &mut observations[3..] {
        o.session_id = 2;
    }
    w.send(Batch {
        observations,
        ..Default::default()
    })
    .unwrap();
    w.send(Batch {
        time_shifts: vec![super::TimeShift {
            session_id: 2,
            before_seq: 6,
            offset_us: 100,
        }],
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let mut times: Vec<(u64, i64)> = store
        .observations_for(mac(7), 10)
        .unwrap()
        .iter()
        .map(|o| (o.seq, o.time))
        .collect();
    times.sort();
    assert_eq!(
        times,
        [
            (1, 1000),
            (2, 2000),
            (3, 3000),
            (4, 4100),
            (5, 5100),
            (6, 6000)
        ]
    );
}

/// A file from before accounts existed (no `users` or `api_tokens` table) still opens, with
/// no accounts, and gets the tables.
#[test]
fn a_store_without_account_tables_opens_and_gets_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    {
        let store = Store::open(&path).unwrap();
        write(
            &store,
            vec![Batch {
                aps: vec![ap(1, 10, 20)],
                ..Batch::default()
            }],
        );
        let txn = store.db().begin_write().unwrap();
        assert!(txn.delete_table(schema::USERS).unwrap());
        assert!(txn.delete_table(schema::API_TOKENS).unwrap());
        assert!(txn.delete_table(schema::WIGLE_UPLOADS).unwrap());
        txn.commit().unwrap();
        // Even a reader of such a file sees "no accounts" and "nothing uploaded", not an error.
        assert!(store.users().unwrap().is_empty());
        assert!(store.tokens().unwrap().is_empty());
        assert_eq!(store.wigle_watermark().unwrap(), 0);
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.ap_count().unwrap(), 1);
    assert!(store.users().unwrap().is_empty());
    assert!(!store.has_admin().unwrap());
    let txn = store.db().begin_read().unwrap();
    assert!(txn.open_table(schema::USERS).is_ok());
    assert!(txn.open_table(schema::API_TOKENS).is_ok());
    assert!(txn.open_table(schema::WIGLE_UPLOADS).is_ok());
}

#[test]
fn users_and_tokens_round_trip_and_revoke() {
    use crate::accounts::{Role, TokenRecord, UserRecord};
    let (_dir, store) = open_temp();
    let user = |name: &str, role| UserRecord {
        name: name.into(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        created_us: 1,
        updated_us: 2,
    };
    store.put_user(&user("viewer1", Role::Viewer)).unwrap();
    assert!(!store.has_admin().unwrap());
    store.put_user(&user("admin", Role::Admin)).unwrap();
    assert!(store.has_admin().unwrap());
    assert_eq!(store.user("viewer1").unwrap().unwrap().role, Role::Viewer);
    assert_eq!(store.users().unwrap().len(), 2);
    assert!(store.remove_user("viewer1").unwrap());
    assert!(!store.remove_user("viewer1").unwrap());
    assert_eq!(store.user("viewer1").unwrap(), None);

    let token = |name: &str| TokenRecord {
        name: name.into(),
        role: Role::Viewer,
        created_us: 5,
        last_used_us: None,
    };
    store.add_token(&[1; 32], &token("script")).unwrap();
    let dup = store.add_token(&[2; 32], &token("script")).unwrap_err();
    assert!(dup.to_string().contains("\"script\""), "{dup}");
    store.add_token(&[3; 32], &token("backup")).unwrap();
    assert_eq!(
        store.token_by_hash(&[1; 32]).unwrap(),
        Some(token("script"))
    );
    assert_eq!(store.token_by_hash(&[2; 32]).unwrap(), None);
    store.touch_token(&[1; 32], 99).unwrap();
    assert_eq!(
        store.token_by_hash(&[1; 32]).unwrap().unwrap().last_used_us,
        Some(99)
    );
    let names: Vec<_> = store
        .tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["backup", "script"]);
    assert!(store.revoke_token("script").unwrap());
    assert!(!store.revoke_token("script").unwrap());
    assert_eq!(store.token_by_hash(&[1; 32]).unwrap(), None);
    // Commits of the writer and account commits interleave without trouble.
    let w = StoreWriter::spawn(store.clone());
    w.send(Batch {
        aps: vec![ap(2, 1, 2)],
        ..Batch::default()
    })
    .unwrap();
    store.put_user(&user("admin", Role::Admin)).unwrap();
    w.flush().unwrap();
    assert_eq!(store.ap_count().unwrap(), 1);
}

/// The free-space reserve, measured against the real file system of the store (statvfs):
/// below it the writer stops before committing, says why, and keeps what it had; the
/// reserve can change while the writer runs.
#[test]
fn the_writer_stops_below_the_free_space_reserve_and_keeps_what_it_had() {
    let (_d, store) = open_temp();
    let dir = store.path().parent().unwrap().to_path_buf();
    let (_, free) = crate::system::disk_space(&dir).expect("statvfs of the temporary directory");
    assert!(
        free > 2 * 1024 * 1024,
        "the test needs 2 MiB free, {free} B"
    );
    // A reserve the file system has room for: writing goes on.
    let reserve = Reserve::new(1024 * 1024);
    let w = StoreWriter::spawn_with_reserve(store.clone(), reserve.clone());
    w.send(Batch {
        aps: vec![ap(1, 1, 1)],
        observations: vec![obs(1, 1)],
        ..Batch::default()
    })
    .unwrap();
    w.flush().unwrap();
    assert_eq!(store.observation_count().unwrap(), 1);
    // More than the file system has free: the next commit is not attempted.
    let too_much = free + 1024 * 1024 * 1024;
    reserve.set(too_much);
    w.send(Batch {
        aps: vec![ap(2, 2, 2)],
        observations: vec![obs(2, 2)],
        ..Batch::default()
    })
    .unwrap();
    let err = w.flush().unwrap_err();
    let StoreError::ReserveReached {
        free_mb,
        reserve_mb,
        ..
    } = &err
    else {
        panic!("expected the reserve error, got {err}");
    };
    assert_eq!(*reserve_mb, too_much.div_ceil(1024 * 1024));
    assert!(*free_mb < *reserve_mb);
    let msg = err.to_string();
    assert!(
        msg.contains("stopped writing new observations") && msg.contains("intact"),
        "{msg}"
    );
    // Stopped: later batches are refused with the same reason, even with the reserve lowered
    // again (a restart resumes), and nothing was written or removed.
    reserve.set(0);
    let again = w.send(Batch {
        observations: vec![obs(3, 3)],
        ..Batch::default()
    });
    assert!(
        matches!(again, Err(StoreError::ReserveReached { .. })),
        "{again:?}"
    );
    assert_eq!(w.status().last_error().as_deref(), Some(msg.as_str()));
    assert_eq!(store.observation_count().unwrap(), 1);
    assert_eq!(store.ap_count().unwrap(), 1);
    // Reserve 0 is off: a new writer writes whatever the free space.
    drop(w);
    let w = StoreWriter::spawn_with_reserve(store.clone(), Reserve::new(0));
    w.send(Batch {
        observations: vec![obs(4, 4)],
        ..Batch::default()
    })
    .unwrap();
    w.finish().unwrap();
    assert_eq!(store.observation_count().unwrap(), 2);
}
