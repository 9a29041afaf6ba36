//! Conversions between the firmware's records and sync's wire values (fixed-point fixes, network summaries with the record as attributes).

use piwardrive_dot11::MacAddr;
use piwardrive_sync as sync;

use crate::model::{ApRecord, Fix, Observation, ObservationKind};

/// The device id as sync knows it.
pub fn device_id(id: [u8; 16]) -> sync::DeviceId {
    sync::DeviceId(id)
}

/// A MAC address as sync knows it.
pub fn mac(m: MacAddr) -> sync::Mac {
    sync::Mac(m.octets())
}

/// The firmware's MAC address of a sync one.
pub fn mac_addr(m: sync::Mac) -> MacAddr {
    MacAddr(m.0)
}

/// A fix in sync's fixed point; `None` for a fix out of range (which the tracker never
/// stores: a fix from gpsd is checked when it arrives).
pub fn fix(f: &Fix) -> Option<sync::Fix> {
    sync::Fix::from_degrees(f.lat, f.lon, f.alt_m, f.accuracy_m, f.time_us).ok()
}

/// The firmware's fix of a sync one (rounded once, to 1.1 cm and 1 cm).
pub fn model_fix(f: &sync::Fix) -> Fix {
    Fix {
        lat: f.lat(),
        lon: f.lon(),
        alt_m: f.alt_cm.map(|cm| f64::from(cm) / 100.0),
        accuracy_m: f64::from(f.accuracy_cm) / 100.0,
        time_us: f.time_us,
    }
}

/// One stored observation as sync sends it.
pub fn observation(o: &Observation) -> sync::Observation {
    sync::Observation {
        seq: o.seq,
        session_id: o.session_id,
        kind: match o.kind {
            ObservationKind::Ap => sync::Kind::Ap,
            ObservationKind::Client => sync::Kind::Client,
        },
        mac: mac(o.mac),
        time: o.time,
        signal_dbm: o.signal_dbm,
        channel: o.channel,
        freq_mhz: o.freq_mhz,
        fix: o.fix.as_ref().and_then(fix),
    }
}

/// A device's observation as the hub stores it, under the hub's own `seq`. The hub has no
/// sessions of its own; the device's session id is kept (it is only unique per device).
pub fn hub_observation(o: &sync::Observation, hub_seq: u64) -> Observation {
    Observation {
        seq: hub_seq,
        session_id: o.session_id,
        kind: match o.kind {
            sync::Kind::Ap => ObservationKind::Ap,
            sync::Kind::Client => ObservationKind::Client,
        },
        mac: mac_addr(o.mac),
        time: o.time,
        signal_dbm: o.signal_dbm,
        channel: o.channel,
        freq_mhz: o.freq_mhz,
        fix: o.fix.as_ref().map(model_fix),
    }
}

/// What a device's AP record says about its network: the lattice fields, plus the record
/// itself (postcard) as the latest attributes, as of the record's last sighting.
///
/// The record's encoding is thereby part of the sync protocol (version 1): a change to
/// `ApRecord` that changes its postcard form must bump `piwardrive_sync::PROTOCOL_VERSION`.
pub fn summary(device: sync::DeviceId, ap: &ApRecord) -> sync::NetworkSummary {
    let mut s = sync::NetworkSummary::new(device, ap.first_seen, ap.last_seen);
    if let Some(ssid) = &ap.ssid {
        s.add_ssid(ssid);
    }
    for seen in &ap.ssid_history {
        s.add_ssid(&seen.ssid);
    }
    for &c in ap.channel.iter().chain(&ap.heard_channels) {
        s.add_channel(c);
    }
    if let (Some(signal_dbm), Some(f)) =
        (ap.best_fix_signal_dbm, ap.best_fix.as_ref().and_then(fix))
    {
        s.offer_best(sync::BestSighting {
            signal_dbm,
            fix: f,
            device,
        });
    }
    let mut attrs = postcard::to_stdvec(ap).expect("serialising to a Vec cannot fail");
    if attrs.len() > sync::network::MAX_ATTRS_LEN {
        // Only a network with a very long SSID history gets here; the history is also in the
        // summary's SSIDs.
        let mut lean = ap.clone();
        lean.ssid_history.clear();
        attrs = postcard::to_stdvec(&lean).expect("serialising to a Vec cannot fail");
    }
    s.offer_latest(sync::Latest {
        at: ap.last_seen,
        device,
        attrs,
    });
    s
}

/// The record the hub shows for a network: the latest device's record, with what the fleet
/// knows over it (first and last sighting, best sighting with a fix, every channel heard).
/// `None` when the summary carries no record that decodes (a device of another version).
pub fn hub_record(bssid: MacAddr, s: &sync::NetworkSummary) -> Option<ApRecord> {
    let latest = s.latest()?;
    let mut ap: ApRecord = postcard::from_bytes(&latest.attrs).ok()?;
    ap.bssid = bssid;
    ap.first_seen = s.first_seen();
    ap.last_seen = s.last_seen();
    if let Some(b) = s.best() {
        ap.best_fix = Some(model_fix(&b.fix));
        ap.best_fix_signal_dbm = Some(b.signal_dbm);
        ap.best_signal_dbm = Some(
            ap.best_signal_dbm
                .map_or(b.signal_dbm, |x| x.max(b.signal_dbm)),
        );
    }
    let mut channels: Vec<u16> = ap.heard_channels.clone();
    channels.extend(s.channels().iter().copied());
    channels.sort_unstable();
    channels.dedup();
    ap.heard_channels = channels;
    Some(ap)
}
