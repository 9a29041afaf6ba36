//! Two devices with overlapping networks sync to one hub, all real processes: the hub's view of every network (first and last seen, best signal and where, the devices that saw it) against what the two devices recorded, edits made on the hub and on a device reaching every node, add-wins "ignore", and a device's batch refused under another device's token.
//!
//! The devices' stores are written here through `StoreWriter` (records and observations,
//! as the tracker writes them), then `piwardrive hub`, `sync enroll` and `sync now` run as
//! processes. The expected hub view is computed from the devices' own observations in this
//! file, not by the sync crate's merge. The hub is read through its JSON API with curl
//! (Debian's, trusting only the hub's certificate), and the devices by opening their stores
//! while nothing runs on them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use piwardrive::dot11::MacAddr;
use piwardrive::model::{
    ApRecord, Band, Fix, Observation, ObservationKind, Phy, SessionRecord, SessionStatus,
    TimeSource,
};
use piwardrive::store::{Batch, Store, StoreWriter};
use piwardrive_sync::{Mac, Message};
use serde_json::Value;

use common::hub::{Hub, admin_token, enroll, piwardrive};

/// 2026-03-01 00:00:00 UTC.
const T0: i64 = 1_772_323_200_000_000;
const NETWORKS: u64 = 60;

fn bssid(n: u64) -> MacAddr {
    MacAddr::from_u64(0x02_5e_00_00_00_00 + n)
}

/// The networks a device saw: the van 0..40, the bike 20..60 (20 in common).
fn seen_by(device: usize) -> std::ops::Range<u64> {
    if device == 0 { 0..40 } else { 20..NETWORKS }
}

/// One device's sightings of network `n`: a few, at times and places of its own. The signal
/// of sighting `j` among all sightings of `n` (van's first) is distinct from every other's,
/// so "the strongest" names one sighting whatever the tie rules.
fn sightings(device: usize, n: u64) -> Vec<(i64, i8, Fix)> {
    let count = 2 + (n + device as u64) % 3;
    let offset = if device == 0 { 0 } else { 2 + n % 3 };
    (0..count)
        .map(|k| {
            let j = offset + k;
            // The bike drives an hour later, but a quarter of the networks it passes earlier.
            let t = T0
                + (device as i64) * (3_600_000_000 - (n as i64 % 4) * 1_500_000_000)
                + (n as i64) * 10_000_000
                + (k as i64) * 2_000_000;
            let signal = -35 - ((j * 7 + n) % 50) as i8;
            let fix = Fix {
                lat: 52.5 + (n as f64) * 1e-4 + (device as f64) * 3e-5 + (k as f64) * 1e-6,
                lon: 13.4 + (n as f64) * 2e-4 - (k as f64) * 1e-6,
                alt_m: Some(35.0 + k as f64),
                accuracy_m: 3.0 + k as f64,
                time_us: t,
            };
            (t, signal, fix)
        })
        .collect()
}

fn record(n: u64, sights: &[(i64, i8, Fix)]) -> ApRecord {
    let best = sights.iter().max_by_key(|s| s.1).unwrap();
    ApRecord {
        bssid: bssid(n),
        ssid: Some(format!("net-{n}").into_bytes()),
        ssid_history: Vec::new(),
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![6],
        security: Default::default(),
        vendor: None,
        country: None,
        mesh_id: None,
        ibss: false,
        first_seen: sights.iter().map(|s| s.0).min().unwrap(),
        last_seen: sights.iter().map(|s| s.0).max().unwrap(),
        beacons: sights.len() as u64,
        probe_responses: 0,
        data_frames: 0,
        best_signal_dbm: Some(best.1),
        best_fix: Some(best.2),
        best_fix_signal_dbm: Some(best.1),
        position: None,
        last_signal_dbm: Some(sights.last().unwrap().1),
        client_count: 0,
    }
}

/// Writes device `device`'s store in `dir` (one session, two commits), as the tracker would.
fn build_device(dir: &Path, device: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let store = Store::open(&dir.join("piwardrive.redb")).unwrap();
    let session_id = store.next_session_id().unwrap();
    let mut session = SessionRecord::new(
        session_id,
        store.device_id(),
        T0,
        vec!["sync_two_devices".into()],
        TimeSource::Gps,
    );
    session.status = SessionStatus::Ended;
    session.ended_at = Some(T0 + 7_200_000_000);
    let mut seq = store.next_observation_seq().unwrap();
    let w = StoreWriter::spawn(store.clone());
    let nets: Vec<u64> = seen_by(device).collect();
    for half in nets.chunks(nets.len() / 2) {
        let mut batch = Batch {
            sessions: vec![session.clone()],
            ..Batch::default()
        };
        for &n in half {
            let s = sightings(device, n);
            batch.aps.push(record(n, &s));
            for (t, signal, fix) in s {
                batch.observations.push(Observation {
                    seq,
                    session_id,
                    kind: ObservationKind::Ap,
                    mac: bssid(n),
                    time: t,
                    signal_dbm: Some(signal),
                    channel: Some(6),
                    freq_mhz: Some(2437),
                    fix: Some(fix),
                });
                seq += 1;
            }
        }
        w.send(batch).unwrap();
    }
    w.finish().unwrap();
}

fn store_of(dir: &Path) -> Store {
    Store::open(&dir.join("piwardrive.redb")).unwrap()
}

fn device_hex(dir: &Path) -> String {
    piwardrive::accounts::to_hex(&store_of(dir).device_id())
}

fn sync_now(dir: &Path) -> String {
    let out = piwardrive(&["sync", "now", "--data-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "sync now: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn mac(n: u64) -> Mac {
    Mac(bssid(n).octets())
}

struct Api<'a> {
    hub: &'a Hub,
    auth: String,
}

impl Api<'_> {
    fn get(&self, path: &str) -> Value {
        let (status, body) = self.hub.curl("127.0.0.1", &["-H", &self.auth], path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn put(&self, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let (status, answer) = self.hub.curl(
            "127.0.0.1",
            &[
                "-X",
                "PUT",
                "-H",
                &self.auth,
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body,
            ],
            path,
        );
        assert_eq!(status, 200, "PUT {path} {body}: {answer}");
        serde_json::from_str(&answer).unwrap()
    }

    /// Every BSSID of the list with `query`, through all its pages.
    fn list(&self, query: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for page in 1.. {
            let v = self.get(&format!("/api/v1/networks?page={page}&{query}"));
            for n in v["networks"].as_array().unwrap() {
                out.insert(n["bssid"].as_str().unwrap().to_owned());
            }
            if page >= v["pages"].as_u64().unwrap() {
                break;
            }
        }
        out
    }
}

/// The strongest of the devices' sightings of `n`: (signal, lat, lon).
fn expected_best(n: u64) -> (i8, f64, f64) {
    let all: Vec<(i64, i8, Fix)> = (0..2)
        .filter(|d| seen_by(*d).contains(&n))
        .flat_map(|d| sightings(d, n))
        .collect();
    let best = all.iter().max_by_key(|s| s.1).unwrap();
    // Distinct by construction, so the maximum is one sighting.
    assert_eq!(all.iter().filter(|s| s.1 == best.1).count(), 1);
    (best.1, best.2.lat, best.2.lon)
}

#[test]
fn two_devices_one_hub_merged_view_and_edits_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = dir.path().join("hub");
    let devs = [dir.path().join("van"), dir.path().join("bike")];
    for (i, d) in devs.iter().enumerate() {
        build_device(d, i);
    }
    let ids = [device_hex(&devs[0]), device_hex(&devs[1])];
    let token = admin_token(&hub_dir);
    let hub = Hub::start(&hub_dir, common::free_port());
    let api = Api {
        hub: &hub,
        auth: format!("Authorization: Bearer {token}"),
    };
    for (d, name) in devs.iter().zip(["van", "bike"]) {
        let out = enroll(&hub.url(), &hub.code(&token), d, name);
        assert!(out.status.success(), "enroll {name}: {out:?}");
    }
    for d in &devs {
        let report = sync_now(d);
        assert!(report.contains("pending\t0\n"), "{report}");
    }

    // The hub's view of every network, against the devices' own records.
    let mut mismatches = Vec::new();
    for n in 0..NETWORKS {
        let v = api.get(&format!("/api/v1/networks/{}", bssid(n)));
        let holders: Vec<usize> = (0..2).filter(|d| seen_by(*d).contains(&n)).collect();
        let recs: Vec<ApRecord> = holders
            .iter()
            .map(|&d| record(n, &sightings(d, n)))
            .collect();
        let first = recs.iter().map(|r| r.first_seen).min().unwrap();
        let last = recs.iter().map(|r| r.last_seen).max().unwrap();
        let (signal, lat, lon) = expected_best(n);
        let fix = &v["best_fix"];
        let ok = v["first_seen_us"] == first
            && v["last_seen_us"] == last
            && v["best_fix_signal_dbm"] == i64::from(signal)
            && v["max_signal_dbm"] == i64::from(signal)
            // Sync carries positions in 1e-7 degree (1.1 cm).
            && (fix["lat"].as_f64().unwrap() - lat).abs() < 1e-7
            && (fix["lon"].as_f64().unwrap() - lon).abs() < 1e-7;
        let mut seen: Vec<(String, String)> = v["seen_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_owned(),
                    d["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        seen.sort();
        let mut want: Vec<(String, String)> = holders
            .iter()
            .map(|&d| (ids[d].clone(), ["van", "bike"][d].to_owned()))
            .collect();
        want.sort();
        if !ok || seen != want {
            mismatches.push(format!(
                "{n}: got {v}, want first {first} last {last} best {signal} at {lat},{lon} seen by {want:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // The overlap matters: some networks' first sighting is the bike's, some last the van's.
    let van = |n| record(n, &sightings(0, n));
    let bike = |n| record(n, &sightings(1, n));
    assert!((20..40).any(|n| bike(n).first_seen < van(n).first_seen));
    assert!((20..40).any(|n| van(n).first_seen < bike(n).first_seen));
    assert!((20..40).any(|n| van(n).last_seen > bike(n).last_seen));
    // And the best sighting is the bike's for some shared networks, the van's for others.
    let best_is_vans = |n| van(n).best_signal_dbm.unwrap() > bike(n).best_signal_dbm.unwrap();
    assert!((20..40).any(best_is_vans) && !(20..40).all(best_is_vans));

    // The device filter: exactly each device's networks.
    for (d, id) in ids.iter().enumerate() {
        let want: BTreeSet<String> = seen_by(d).map(|n| bssid(n).to_string()).collect();
        assert_eq!(api.list(&format!("device={id}")), want, "device {d}");
    }
    assert_eq!(api.list("").len(), NETWORKS as usize);
    // The Devices page: last sync and the observations held of each.
    let (status, page) = hub.curl("127.0.0.1", &["-H", &api.auth], "/hub/devices");
    assert_eq!(status, 200);
    for (d, name) in ["van", "bike"].iter().enumerate() {
        let held: usize = seen_by(d).map(|n| sightings(d, n).len()).sum();
        let row = format!(
            "<td><a href=\"/networks?device={}\">{name}</a></td><td class=\"mono\">{}</td>",
            ids[d], ids[d]
        );
        let at = page.find(&row).unwrap_or_else(|| panic!("{row} in {page}"));
        let rest = &page[at..at + page[at..].find("</tr>").unwrap()];
        assert!(rest.contains(&format!("<td>{held}</td>")), "{rest}");
        assert!(!rest.contains("never"), "{rest}");
    }

    // A label set on the hub reaches both devices with their next sync.
    let shared = 30; // seen by both
    let hub_label = "<b>hub's label</b> & \"quotes\"";
    let v = api.put(
        &format!("/api/v1/networks/{}/label", bssid(shared)),
        &serde_json::json!({ "text": hub_label }),
    );
    assert_eq!(v["label"], hub_label);
    for d in &devs {
        assert_eq!(store_of(d).edits().unwrap().label(&mac(shared)), None);
        sync_now(d);
        assert_eq!(
            store_of(d).edits().unwrap().label(&mac(shared)),
            Some(hub_label)
        );
    }

    // One set on the van reaches the hub with its sync, and the bike with the bike's next.
    let van_only = 5;
    {
        let s = store_of(&devs[0]);
        let me = s.sync_id();
        s.update_edits(|e| e.set_label(me, mac(van_only), "van's label", T0))
            .unwrap()
            .unwrap();
    }
    sync_now(&devs[0]);
    let v = api.get(&format!("/api/v1/networks/{}", bssid(van_only)));
    assert_eq!(v["label"], "van's label");
    sync_now(&devs[1]);
    assert_eq!(
        store_of(&devs[1]).edits().unwrap().label(&mac(van_only)),
        Some("van's label")
    );

    // Add wins: the van and the bike each ignore network X while the hub, having seen
    // neither, unignores it; network Y, ignored by the van and synced, is unignored on the
    // hub after it saw that ignore.
    let (x, y) = (25, 35);
    let ignore = |d: &Path, n: u64| {
        let s = store_of(d);
        let me = s.sync_id();
        s.update_edits(|e| e.ignore(me, mac(n))).unwrap();
    };
    ignore(&devs[0], y);
    sync_now(&devs[0]);
    assert_eq!(
        api.get(&format!("/api/v1/networks/{}", bssid(y)))["ignored"],
        true
    );
    ignore(&devs[0], x);
    ignore(&devs[1], x);
    for n in [x, y] {
        let v = api.put(
            &format!("/api/v1/networks/{}/ignored", bssid(n)),
            &serde_json::json!({ "ignored": false }),
        );
        assert_eq!(v["ignored"], false);
    }
    for d in [&devs[0], &devs[1], &devs[0]] {
        sync_now(d);
    }
    assert_eq!(
        api.list("ignored=only"),
        BTreeSet::from([bssid(x).to_string()])
    );
    assert_eq!(api.list("ignored=hide").len(), NETWORKS as usize - 1);
    for d in &devs {
        let e = store_of(d).edits().unwrap();
        assert!(e.is_ignored(&mac(x)), "{d:?}: X ignored");
        assert!(!e.is_ignored(&mac(y)), "{d:?}: Y not ignored");
        // And every node holds the same edits.
        assert_eq!(e.label(&mac(shared)), Some(hub_label));
    }
    let hub_edits_clock = {
        // The devices agree with each other on everything.
        let (a, b) = (
            store_of(&devs[0]).edits().unwrap(),
            store_of(&devs[1]).edits().unwrap(),
        );
        assert_eq!(a, b);
        a.clock().clone()
    };
    assert!(!hub_edits_clock.is_empty());

    // The bike's token carrying a batch of the van's observations: refused, 403, over HTTP.
    let van_id = piwardrive_sync::DeviceId(store_of(&devs[0]).device_id());
    let forged = piwardrive_sync::Batch::new(
        van_id,
        vec![piwardrive_sync::Observation {
            seq: 1_000_000,
            session_id: 1,
            kind: piwardrive_sync::Kind::Ap,
            mac: mac(1),
            time: T0,
            signal_dbm: Some(-40),
            channel: Some(6),
            freq_mhz: Some(2437),
            fix: None,
        }],
    )
    .unwrap();
    let body_path = dir.path().join("forged.bin");
    std::fs::write(
        &body_path,
        Message::encode_many(&[Message::Batch(forged.clone())]),
    )
    .unwrap();
    let bike_token = device_token(&devs[1]);
    let van_token = device_token(&devs[0]);
    // The answer to an accepted push is binary: it goes to a file, not into the text.
    let answer = dir.path().join("answer.bin");
    let post = |token: &str| {
        hub.curl(
            "127.0.0.1",
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {token}"),
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
                &format!("@{}", body_path.display()),
                "-o",
                answer.to_str().unwrap(),
            ],
            "/sync/v1/push",
        )
    };
    let (status, _) = post(&bike_token);
    let body = std::fs::read_to_string(&answer).unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("token of device"), "{body}");
    // The same body with the van's own token is accepted (so the 403 was the token's doing),
    // and the hub now holds one more observation of the van.
    let (status, _) = post(&van_token);
    assert_eq!(status, 200);
    // The answer is the hub's acknowledgement of exactly that batch.
    let acks = Message::decode_many(&std::fs::read(&answer).unwrap()).unwrap();
    assert!(
        matches!(&acks[..], [Message::Ack(a)] if a.source == van_id && a.observations.contains(1_000_000)),
        "{acks:?}"
    );
    hub.stop();
    let held: BTreeMap<_, _> = store_of(&hub_dir)
        .hub_devices_held()
        .unwrap()
        .into_iter()
        .collect();
    let van_obs: u64 = seen_by(0).map(|n| sightings(0, n).len() as u64).sum();
    assert_eq!(held[&van_id], van_obs + 1);
}

/// The device token of an enrolled device, from its `upstream.toml`.
fn device_token(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("upstream.toml")).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["token"].as_str().unwrap().to_owned()
}
