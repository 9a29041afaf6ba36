//! A device store and a hub store synced in one process through the real request handlers, over a transport that loses requests and answers.

use std::sync::Mutex;

use piwardrive_dot11::MacAddr;
use piwardrive_sync::{DeviceId, Limits, Message};

use super::device::{RoundError, Transport, TransportError, round};
use super::{HELLO_PATH, PUSH_PATH, convert, hub};
use crate::model::{
    ApRecord, Band, Fix, Observation, ObservationKind, Phy, Security, SsidSeen, TimeUs,
};
use crate::store::{Batch, Store, StoreWriter};

/// The same small, seeded sequence everywhere (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const T0: TimeUs = 1_795_766_400_000_000;

fn ap(i: u64, first: TimeUs, last: TimeUs, signal: i8, fix: Option<Fix>) -> ApRecord {
    ApRecord {
        bssid: MacAddr::from_u64(0x0200_0000_0000 + i),
        ssid: Some(format!("net-{i} <b>\"'").into_bytes()),
        ssid_history: vec![SsidSeen {
            ssid: format!("net-{i} <b>\"'").into_bytes(),
            count: 3,
            first_seen: first,
            last_seen: last,
        }],
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![6],
        security: Security {
            privacy: true,
            rsn_akms: 1 << 2,
            ..Default::default()
        },
        vendor: None,
        country: None,
        mesh_id: None,
        ibss: false,
        first_seen: first,
        last_seen: last,
        beacons: 10,
        probe_responses: 0,
        data_frames: 0,
        best_signal_dbm: Some(signal),
        best_fix: fix,
        best_fix_signal_dbm: fix.map(|_| signal),
        position: None,
        last_signal_dbm: Some(signal),
        client_count: 0,
    }
}

fn fix(rng: &mut Rng, t: TimeUs) -> Fix {
    Fix {
        lat: 52.5 + rng.below(10_000) as f64 * 1e-6,
        lon: 13.4 + rng.below(10_000) as f64 * 1e-6,
        alt_m: Some(34.5),
        accuracy_m: 2.5 + rng.below(100) as f64 / 10.0,
        time_us: t,
    }
}

/// Writes `n` observations (seqs after those stored) of `aps` networks, and the networks.
fn record(store: &Store, rng: &mut Rng, aps: u64, n: u64, t: &mut TimeUs) {
    let w = StoreWriter::spawn(store.clone());
    let first = store.next_observation_seq().unwrap();
    let mut batch = Batch::default();
    for (seq, k) in (first..).zip(0..n) {
        *t += 1_000_000;
        let i = rng.below(aps);
        let f = (k % 5 != 0).then(|| fix(rng, *t));
        batch.observations.push(Observation {
            seq,
            session_id: 1,
            kind: ObservationKind::Ap,
            mac: MacAddr::from_u64(0x0200_0000_0000 + i),
            time: *t,
            signal_dbm: Some(-30 - rng.below(60) as i8),
            channel: Some(6),
            freq_mhz: Some(2437),
            fix: f,
        });
        if batch.observations.len() == 1000 {
            w.send(std::mem::take(&mut batch)).unwrap();
        }
    }
    for i in 0..aps {
        let signal = -30 - rng.below(60) as i8;
        let f = fix(rng, *t);
        batch.aps.push(ap(i, T0 + i as i64, *t, signal, Some(f)));
    }
    w.send(batch).unwrap();
    w.finish().unwrap();
}

/// The hub's request handlers called directly; a request is lost before it arrives, or its
/// answer after the hub applied it, each with probability `loss` percent.
struct Lossy {
    hub: Store,
    device: DeviceId,
    rng: Mutex<Rng>,
    loss: u64,
    lost_answers: Mutex<u64>,
}

impl Transport for Lossy {
    async fn post(&self, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let (before, after) = {
            let mut r = self.rng.lock().unwrap();
            (r.below(100) < self.loss, r.below(100) < self.loss)
        };
        if before {
            return Err(TransportError::Unreachable("request lost".into()));
        }
        let answer = match path {
            HELLO_PATH => hub::hello(&self.hub, self.device, &body),
            PUSH_PATH => hub::push(&self.hub, self.device, &body),
            _ => unreachable!("{path}"),
        }
        .map_err(|e| TransportError::Other(e.to_string()))?;
        if after {
            *self.lost_answers.lock().unwrap() += 1;
            return Err(TransportError::Unreachable("answer lost".into()));
        }
        Ok(answer)
    }
}

fn all_observations(s: &Store) -> Vec<Observation> {
    let mut v = Vec::new();
    let _ = s
        .for_each_observation::<()>(None, |o| {
            v.push(o.clone());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    v
}

fn stores() -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dev")).unwrap();
    std::fs::create_dir_all(dir.path().join("hub")).unwrap();
    let dev = Store::open(&dir.path().join("dev/piwardrive.redb")).unwrap();
    let hub = Store::open(&dir.path().join("hub/piwardrive.redb")).unwrap();
    (dir, dev, hub)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Rounds until one completes, as the background task retries.
fn sync_until_done(t: &Lossy, dev: &Store, limits: Limits) -> u32 {
    let rt = rt();
    for attempt in 1..=500 {
        match rt.block_on(round(dev, t, limits)) {
            Ok(r) => {
                assert_eq!(r.pending, 0, "{r:?}");
                return attempt;
            }
            Err(RoundError::Transport(TransportError::Unreachable(_))) => {}
            Err(e) => panic!("round failed: {e}"),
        }
    }
    panic!("no round completed in 500 attempts");
}

/// What the hub holds of `device`: device seq -> the device's observation as sync carries it.
fn hub_holds(hub: &Store, device: &DeviceId) -> Vec<(u64, piwardrive_sync::Observation)> {
    let mut keys = Vec::new();
    let _ = hub.hub_observation_keys::<()>(device, |dseq, hseq| {
        keys.push((dseq, hseq));
        std::ops::ControlFlow::Continue(())
    });
    let by_seq: std::collections::HashMap<u64, Observation> = all_observations(hub)
        .into_iter()
        .map(|o| (o.seq, o))
        .collect();
    keys.iter()
        .map(|&(dseq, hseq)| {
            let mut o = convert::observation(&by_seq[&hseq]);
            o.seq = dseq;
            (dseq, o)
        })
        .collect()
}

fn device_has(dev: &Store) -> Vec<(u64, piwardrive_sync::Observation)> {
    all_observations(dev)
        .iter()
        .map(|o| (o.seq, convert::observation(o)))
        .collect()
}

#[test]
fn every_observation_reaches_the_hub_once_through_lost_requests_and_answers() {
    let (_dir, dev, hub) = stores();
    let mut rng = Rng(7);
    let mut t = T0;
    record(&dev, &mut rng, 300, 20_000, &mut t);
    let limits = Limits {
        observations_per_batch: 1000,
        networks_per_batch: 64,
        batches: 3,
    };
    let link = Lossy {
        hub: hub.clone(),
        device: dev.sync_id(),
        rng: Mutex::new(Rng(11)),
        loss: 20,
        lost_answers: Mutex::new(0),
    };
    let attempts = sync_until_done(&link, &dev, limits);
    let lost = *link.lost_answers.lock().unwrap();
    assert!(
        lost > 0,
        "no answer was lost after the hub applied: the test proves nothing"
    );
    let want = device_has(&dev);
    assert_eq!(want.len(), 20_000);
    let got = hub_holds(&hub, &dev.sync_id());
    assert_eq!(
        got.len(),
        want.len(),
        "held {} of {}",
        got.len(),
        want.len()
    );
    assert_eq!(got, want);
    assert_eq!(hub.observation_count().unwrap(), 20_000, "stored once each");
    assert_eq!(hub.ap_count().unwrap(), 300);
    // The hub's record of a network is the device's, with its first and last sighting.
    for a in dev.all_aps().unwrap() {
        let h = hub.ap(a.bssid).unwrap().expect("network on the hub");
        assert_eq!((h.first_seen, h.last_seen), (a.first_seen, a.last_seen));
        assert_eq!(h.ssid, a.ssid);
        assert_eq!(h.best_fix_signal_dbm, a.best_fix_signal_dbm);
        let (hf, af) = (h.best_fix.unwrap(), a.best_fix.unwrap());
        assert!((hf.lat - af.lat).abs() < 1e-7 && (hf.lon - af.lon).abs() < 1e-7);
    }
    eprintln!("{attempts} attempts, {lost} answers lost after the hub applied them");

    // More observations later: the next round sends only those.
    record(&dev, &mut rng, 300, 3_000, &mut t);
    let link = Lossy {
        loss: 0,
        rng: Mutex::new(Rng(1)),
        ..link
    };
    let r = rt().block_on(round(&dev, &link, limits)).unwrap();
    assert_eq!(r.observations_sent, 3_000);
    assert_eq!(hub_holds(&hub, &dev.sync_id()), device_has(&dev));
    let r = rt().block_on(round(&dev, &link, limits)).unwrap();
    assert_eq!((r.observations_sent, r.networks_sent), (0, 0), "{r:?}");
}

#[test]
fn the_hub_keeps_what_it_holds_across_reopening() {
    let (dir, dev, hub) = stores();
    let mut rng = Rng(3);
    let mut t = T0;
    record(&dev, &mut rng, 50, 5_000, &mut t);
    let limits = Limits {
        observations_per_batch: 500,
        networks_per_batch: 16,
        batches: 2,
    };
    // One flight, then the hub goes away (its store is closed) mid-round.
    let link = Lossy {
        hub: hub.clone(),
        device: dev.sync_id(),
        rng: Mutex::new(Rng(5)),
        loss: 0,
        lost_answers: Mutex::new(0),
    };
    let view = {
        let hello = dev.device_hello().unwrap();
        let answer = hub::hello(
            &hub,
            dev.sync_id(),
            &Message::encode_many(&[Message::Hello(hello)]),
        );
        match Message::decode_many(&answer.unwrap()).unwrap().remove(0) {
            Message::Hello(h) => h,
            m => panic!("{m:?}"),
        }
    };
    let outbox = dev.sync_outbox(&view, limits).unwrap();
    assert_eq!(outbox.observations, 1_000);
    hub::push(&hub, dev.sync_id(), &Message::encode_many(&outbox.messages)).unwrap();
    drop((link, hub));
    let hub = Store::open(&dir.path().join("hub/piwardrive.redb")).unwrap();
    let link = Lossy {
        hub: hub.clone(),
        device: dev.sync_id(),
        rng: Mutex::new(Rng(5)),
        loss: 0,
        lost_answers: Mutex::new(0),
    };
    let r = rt().block_on(round(&dev, &link, limits)).unwrap();
    assert_eq!(r.observations_sent, 4_000, "only what the hub did not hold");
    assert_eq!(hub_holds(&hub, &dev.sync_id()), device_has(&dev));
}

#[test]
fn batches_of_another_device_are_refused() {
    let (_dir, dev, hub) = stores();
    let mut rng = Rng(9);
    let mut t = T0;
    record(&dev, &mut rng, 10, 100, &mut t);
    let view = piwardrive_sync::Hello {
        node: hub.sync_id(),
        observations: Default::default(),
        networks: Default::default(),
        edits: Default::default(),
    };
    let outbox = dev.sync_outbox(&view, Limits::default()).unwrap();
    let body = Message::encode_many(&outbox.messages);
    let other = DeviceId([0xee; 16]);
    let e = hub::push(&hub, other, &body).unwrap_err();
    assert_eq!(e.status(), 403, "{e}");
    assert!(e.to_string().contains("token of device"), "{e}");
    // And a Hello in another device's name.
    let hello = Message::encode_many(&[Message::Hello(dev.device_hello().unwrap())]);
    assert_eq!(hub::hello(&hub, other, &hello).unwrap_err().status(), 403);
    // Garbage is a 400 naming the framing.
    let e = hub::push(&hub, dev.sync_id(), &[0x05, 1, 2]).unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    assert_eq!(hub.observation_count().unwrap(), 0, "nothing applied");
}

#[test]
fn edits_flow_both_ways() {
    let (_dir, dev, hub) = stores();
    let mut rng = Rng(4);
    let mut t = T0;
    record(&dev, &mut rng, 5, 10, &mut t);
    let mac = convert::mac(MacAddr::from_u64(0x0200_0000_0001));
    let hub_id = hub.sync_id();
    hub.update_edits(|e| e.set_label(hub_id, mac, "home <script>", T0).unwrap())
        .unwrap();
    let dev_id = dev.sync_id();
    dev.update_edits(|e| {
        e.set_note(dev_id, mac, "seen from the car", T0 + 5)
            .unwrap();
        e.ignore(dev_id, mac);
    })
    .unwrap();
    let link = Lossy {
        hub: hub.clone(),
        device: dev.sync_id(),
        rng: Mutex::new(Rng(2)),
        loss: 0,
        lost_answers: Mutex::new(0),
    };
    let r = rt()
        .block_on(round(&dev, &link, Limits::default()))
        .unwrap();
    assert!(r.edits_received && r.edits_sent, "{r:?}");
    for s in [&dev, &hub] {
        let e = s.edits().unwrap();
        assert_eq!(e.label(&mac), Some("home <script>"));
        assert_eq!(e.note(&mac), Some("seen from the car"));
        assert!(e.is_ignored(&mac));
    }
    assert_eq!(dev.edits().unwrap(), hub.edits().unwrap());
    // Nothing left to exchange.
    let r = rt()
        .block_on(round(&dev, &link, Limits::default()))
        .unwrap();
    assert!(!r.edits_received && !r.edits_sent, "{r:?}");
}
