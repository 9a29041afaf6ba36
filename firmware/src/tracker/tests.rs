//! Tracker unit tests: events in, records out, with time passed in by the test.

use super::*;
use crate::model::{SessionStatus, TimeSource};
use piwardrive_dot11::ie::parse_bss;

fn session() -> SessionRecord {
    SessionRecord::new(1, [0; 16], 0, vec![], TimeSource::CaptureFile)
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

/// Element bytes: SSID, then DS parameter set.
fn elements(ssid: &[u8], ds: u8) -> Vec<u8> {
    let mut v = vec![0, ssid.len() as u8];
    v.extend_from_slice(ssid);
    v.extend_from_slice(&[3, 1, ds]);
    v
}

fn advert(t: &mut Tracker, time: TimeUs, bssid: MacAddr, el: &[u8], signal: Option<i8>) {
    let e = parse_bss(el);
    t.handle(Input::Frame(Event::BssAdvert {
        time,
        bssid,
        probe_response: false,
        signal_dbm: signal,
        heard: Heard {
            band: Some(Band::B2_4),
            channel: Some(6),
            freq_mhz: Some(2437),
        },
        privacy: false,
        ibss: false,
        elements: &e,
    }));
}

#[test]
fn most_common_ssid_and_channel_hidden_flag_and_best_signal() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    let b = mac("00:11:22:33:44:55");
    advert(&mut t, 10, b, &elements(b"one", 7), Some(-80));
    advert(&mut t, 5, b, &elements(b"two", 6), Some(-70));
    advert(&mut t, 30, b, &elements(b"two", 6), Some(-75));
    advert(&mut t, 40, b, &elements(b"\0\0\0", 6), None);
    let ap = t.ap(b).unwrap();
    assert_eq!(ap.ssid.as_deref(), Some(&b"two"[..]));
    assert!(ap.hidden);
    assert_eq!(ap.channel, Some(6));
    assert_eq!(ap.band, Some(Band::B2_4));
    assert_eq!(ap.freq_mhz, Some(2437));
    assert_eq!(ap.best_signal_dbm, Some(-70));
    assert_eq!((ap.first_seen, ap.last_seen), (5, 40));
    assert_eq!(ap.beacons, 4);
    assert_eq!(ap.heard_channels, vec![6]);
    assert_eq!(ap.ssid_history.len(), 2);
}

#[test]
fn ties_go_to_the_first_seen_value() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    let b = mac("00:11:22:33:44:55");
    advert(&mut t, 1, b, &elements(b"first", 11), None);
    advert(&mut t, 2, b, &elements(b"second", 1), None);
    let ap = t.ap(b).unwrap();
    assert_eq!(ap.ssid.as_deref(), Some(&b"first"[..]));
    assert_eq!(ap.channel, Some(11));
}

#[test]
fn batches_carry_only_what_changed_and_observations_are_throttled() {
    let mut t = Tracker::new(session(), 100, vec![], vec![]);
    let a = mac("00:11:22:33:44:55");
    let b = mac("00:11:22:33:44:66");
    advert(&mut t, 1, a, &elements(b"a", 1), Some(-80));
    advert(&mut t, 2, a, &elements(b"a", 1), Some(-79));
    let batch = t.take_batch();
    assert_eq!(batch.aps.len(), 1);
    assert_eq!(
        batch.observations.len(),
        1,
        "one observation: first sighting"
    );
    assert_eq!(batch.observations[0].seq, 100);
    assert_eq!(batch.sessions.len(), 1);
    advert(&mut t, 3, b, &elements(b"b", 1), Some(-60));
    advert(&mut t, 4, a, &elements(b"a", 1), Some(-70));
    let batch = t.take_batch();
    assert_eq!(batch.aps.len(), 2);
    let seqs: Vec<u64> = batch.observations.iter().map(|o| o.seq).collect();
    assert_eq!(
        seqs,
        vec![101, 102],
        "b's first sighting and a's 10 dB rise"
    );
    assert!(t.take_batch().aps.is_empty());
}

#[test]
fn probe_requests_and_data_frames_make_clients() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    let ap = mac("00:11:22:33:44:55");
    let phone = mac("da:a1:19:00:00:01");
    advert(&mut t, 1, ap, &elements(b"net", 1), None);
    t.handle(Input::Frame(Event::ProbeRequest {
        time: 2,
        client: phone,
        ssid: Some(b"home"),
        signal_dbm: Some(-50),
        heard: Heard::default(),
    }));
    t.handle(Input::Frame(Event::ProbeRequest {
        time: 3,
        client: phone,
        ssid: Some(b""),
        signal_dbm: None,
        heard: Heard::default(),
    }));
    for time in [4, 5] {
        t.handle(Input::Frame(Event::Link {
            time,
            bssid: ap,
            client: phone,
            from_ap: false,
            signal_dbm: Some(-40),
            heard: Heard::default(),
            data: true,
        }));
    }
    let c = t.clients().next().unwrap();
    assert!(c.randomized);
    assert_eq!(c.probed_ssids, vec![b"home".to_vec()]);
    assert_eq!(c.associated_bssid, Some(ap));
    assert_eq!(c.best_signal_dbm, Some(-40));
    let a = t.ap(ap).unwrap();
    assert_eq!((a.client_count, a.data_frames), (1, 2));
    // A data frame for an AP never advertised does not invent an AP.
    t.handle(Input::Frame(Event::Link {
        time: 6,
        bssid: mac("00:11:22:33:44:99"),
        client: phone,
        from_ap: true,
        signal_dbm: None,
        heard: Heard::default(),
        data: true,
    }));
    assert_eq!(t.ap_count(), 1);
}

#[test]
fn session_times_follow_the_records_and_end_is_marked() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    let b = mac("00:11:22:33:44:55");
    advert(&mut t, 50, b, &elements(b"x", 1), None);
    advert(&mut t, 20, b, &elements(b"x", 1), None);
    t.handle(Input::EndSession { now: 70 });
    let s = t.session();
    assert_eq!((s.started_at, s.ended_at, s.frames), (20, Some(70), 2));
    assert_eq!(s.status, SessionStatus::Ended);
}

fn fix_at(lat: f64, lon: f64, time_us: TimeUs) -> Fix {
    Fix {
        lat,
        lon,
        alt_m: Some(10.0),
        accuracy_m: 4.0,
        time_us,
    }
}

#[test]
fn best_signal_fix_and_weighted_position() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    let b = mac("00:11:22:33:44:55");
    t.handle(Input::Fix(Some(fix_at(52.0, 13.0, 1))));
    advert(&mut t, 1, b, &elements(b"n", 1), Some(-80));
    t.handle(Input::Fix(Some(fix_at(52.001, 13.0, 2))));
    advert(&mut t, 2, b, &elements(b"n", 1), Some(-60));
    t.handle(Input::Fix(None));
    advert(&mut t, 3, b, &elements(b"n", 1), Some(-50));
    let ap = t.ap(b).unwrap();
    // The strongest sighting had no fix: the best signal is -50, the best located one -60.
    assert_eq!(ap.best_signal_dbm, Some(-50));
    assert_eq!(ap.best_fix, Some(fix_at(52.001, 13.0, 2)));
    assert_eq!(ap.best_fix_signal_dbm, Some(-60));
    let p = ap.position.unwrap();
    assert_eq!(p.samples, 2);
    // Weights 10^(20/20) = 10 and 10^(40/20) = 100: the estimate is 10/110 of the way from
    // the stronger sighting to the weaker one (to first order on this small scale).
    let (lat, lon) = p.lat_lon().unwrap();
    let want = 52.001 - 0.001 * 10.0 / 110.0;
    assert!((lat - want).abs() < 1e-7, "{lat} vs {want}");
    assert!((lon - 13.0).abs() < 1e-9);
}

#[test]
fn gps_time_corrects_what_the_session_recorded_with_a_wrong_clock() {
    // A Pi that booted believing it is 1970 + 100 s; GPS says 2026.
    let mut s = session();
    s.time_source = TimeSource::SystemClock;
    let mut t = Tracker::new(s, 1, vec![], vec![]);
    let b = mac("00:11:22:33:44:55");
    let wrong = 100_000_000;
    let offset = 1_795_000_000_000_000 - wrong;
    advert(&mut t, wrong, b, &elements(b"n", 1), Some(-70));
    let first = t.take_batch();
    assert_eq!(first.observations.len(), 1);
    advert(&mut t, wrong + 1_000_000, b, &elements(b"n", 1), Some(-60));
    // The appliance could not set the clock (no CAP_SYS_TIME).
    t.handle(Input::GpsTime {
        gps: wrong + 2_000_000 + offset,
        system: wrong + 2_000_000,
        clock_set: false,
    });
    advert(&mut t, wrong + 3_000_000, b, &elements(b"n", 1), Some(-50));
    let ap = t.ap(b).unwrap();
    assert_eq!(ap.first_seen, wrong + offset);
    assert_eq!(
        ap.last_seen,
        wrong + 3_000_000 + offset,
        "later times corrected too"
    );
    assert_eq!(
        t.session().time_source,
        TimeSource::GpsCorrected { offset_us: offset }
    );
    assert_eq!(t.session().started_at, wrong + offset);
    let batch = t.take_batch();
    // The observation already sent is shifted in the store; the pending ones here.
    assert_eq!(batch.time_shifts.len(), 1);
    let shift = batch.time_shifts[0];
    assert_eq!(
        (shift.session_id, shift.before_seq, shift.offset_us),
        (1, 2, offset)
    );
    let times: Vec<TimeUs> = batch.observations.iter().map(|o| o.time).collect();
    assert_eq!(
        times,
        vec![wrong + 1_000_000 + offset, wrong + 3_000_000 + offset]
    );
    // Checked once per session.
    t.handle(Input::GpsTime {
        gps: 0,
        system: 5,
        clock_set: false,
    });
    assert!(t.take_batch().time_shifts.is_empty());
}

#[test]
fn a_clock_that_was_right_is_only_marked_checked() {
    let mut s = session();
    s.time_source = TimeSource::SystemClock;
    let mut t = Tracker::new(s, 1, vec![], vec![]);
    advert(
        &mut t,
        10_000_000,
        mac("00:11:22:33:44:55"),
        &elements(b"n", 1),
        None,
    );
    t.handle(Input::GpsTime {
        gps: 10_500_000,
        system: 10_000_000,
        clock_set: false,
    });
    assert_eq!(t.session().time_source, TimeSource::Gps);
    assert!(t.take_batch().time_shifts.is_empty());
}

#[test]
fn track_points_are_thinned() {
    let mut t = Tracker::new(session(), 1, vec![], vec![]);
    for i in 0..10 {
        // Moving 5 m a second, fixes at 2 Hz.
        let f = fix_at(
            52.0 + 0.000_022_5 * f64::from(i),
            13.0,
            i64::from(i) * 500_000,
        );
        t.handle(Input::Fix(Some(f)));
    }
    for i in 0..200 {
        // Standing still for 100 s at 2 Hz.
        let f = fix_at(52.1, 13.0, 10_000_000 + i64::from(i) * 500_000);
        t.handle(Input::Fix(Some(f)));
    }
    t.handle(Input::EndSession { now: 110_000_000 });
    let track = t.take_batch().track;
    let moving = track.iter().filter(|f| f.lat < 52.05).count();
    let still = track.iter().filter(|f| f.lat > 52.05).count();
    assert_eq!(moving, 5, "1 Hz while moving: {track:?}");
    // Arrival, one a minute, and the last fix when the session ends.
    assert_eq!(still, 3, "one point a minute when still: {track:?}");
}
