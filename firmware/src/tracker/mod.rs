//! The tracker: live state of access points, clients and sessions, fed by one closed enum of inputs.
//!
//! Architecture Invariant: the tracker never reads a clock and never does I/O. Time arrives
//! inside each [`Input`]; what changed leaves through [`Tracker::take_batch`] as whole records
//! for the store writer. That makes the tracker a deterministic function of its inputs, which
//! the truth tests and the crash test rely on.

mod decode;
mod throttle;

pub use decode::{DecodeStats, Decoder, Dropped};

use crate::model::{
    ApRecord, Band, ClientRecord, Fix, Observation, ObservationKind, Phy, Pmf, PositionEstimate,
    SessionRecord, SessionStatus, SsidSeen, TimeSource, TimeUs, WpsInfo,
};
use crate::store::Batch;
use piwardrive_dot11::MacAddr;
use piwardrive_dot11::ie::BssElements;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Suite OUIs of RSN (IEEE) and WPA (Microsoft) elements.
const RSN_OUI: [u8; 3] = [0x00, 0x0f, 0xac];
const WPA_OUI: [u8; 3] = [0x00, 0x50, 0xf2];

/// How many SSIDs an AP's history keeps; a network that cycles through more is unusual, and
/// the bound keeps one hostile beacon flood from growing memory without limit.
pub const SSID_HISTORY_MAX: usize = 16;
/// How many probed SSIDs a client keeps.
pub const PROBED_SSIDS_MAX: usize = 32;
/// How many distinct clients per AP are remembered for `client_count`.
const CLIENTS_PER_AP_MAX: usize = 4096;
/// How many heard channels an AP keeps.
const HEARD_CHANNELS_MAX: usize = 16;

/// What the tracker consumes: one closed set of inputs, each carrying its own time.
#[derive(Debug)]
pub enum Input<'a> {
    /// A decoded frame event (see [`Decoder`] for how frames become events); every decoded
    /// frame gives exactly one, so the session's frame count is the decoded-frame count.
    Frame(Event<'a>),
    /// The current GPS fix, or `None` when the fix is lost or stale.
    Fix(Option<Fix>),
    /// GPS time arrived: `gps` is the time in the fix, `system` the system clock's reading
    /// when it arrived, `clock_set` whether the appliance then set the system clock to GPS
    /// time. The first one in a session checks the clock (see [`crate::clock`]): when it was
    /// off, every time the session recorded so far is corrected by the offset, and, if the
    /// clock could not be set, so is every later one.
    GpsTime {
        gps: TimeUs,
        system: TimeUs,
        clock_set: bool,
    },
    /// Time passes without frames (keeps the session's end time current).
    Tick { now: TimeUs },
    /// The session ends (orderly shutdown).
    EndSession { now: TimeUs },
}

/// Where a frame was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Heard {
    pub band: Option<Band>,
    pub channel: Option<u16>,
    pub freq_mhz: Option<u16>,
}

/// Facts from one frame that concern the tracker, already decoded.
#[derive(Debug)]
pub enum Event<'a> {
    /// A beacon or probe response: the BSS describes itself.
    BssAdvert {
        time: TimeUs,
        bssid: MacAddr,
        probe_response: bool,
        signal_dbm: Option<i8>,
        heard: Heard,
        privacy: bool,
        ibss: bool,
        elements: &'a BssElements<'a>,
    },
    /// A probe request from a client, with the SSID it asked for (empty = wildcard).
    ProbeRequest {
        time: TimeUs,
        client: MacAddr,
        ssid: Option<&'a [u8]>,
        signal_dbm: Option<i8>,
        heard: Heard,
    },
    /// A frame exchanged between a client and an AP (data, association, authentication).
    /// `from_ap` says which of them transmitted it.
    Link {
        time: TimeUs,
        bssid: MacAddr,
        client: MacAddr,
        from_ap: bool,
        signal_dbm: Option<i8>,
        heard: Heard,
        data: bool,
    },
    /// Any other decoded frame: it says only that the radio heard something at `time`.
    Other { time: TimeUs },
}

impl Event<'_> {
    fn time_mut(&mut self) -> &mut TimeUs {
        match self {
            Event::BssAdvert { time, .. }
            | Event::ProbeRequest { time, .. }
            | Event::Link { time, .. }
            | Event::Other { time } => time,
        }
    }
}

/// A multiplicative hasher for MAC keys: the keys come from the air, but a HashMap keyed by
/// 48-bit addresses with a per-process random seed is what matters for flooding, and the
/// seed is mixed in below. SipHash costs more than the rest of the per-frame work.
#[derive(Default, Clone, Copy)]
pub struct MacHasher(u64);

impl Hasher for MacHasher {
    fn finish(&self) -> u64 {
        let x = self.0 ^ seed();
        let x = (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).rotate_left(5) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        // RandomState is randomly seeded per process; borrow its randomness.
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
    })
}

/// A HashMap keyed by MAC (as u64) with the cheap hasher.
pub type MacMap<V> = HashMap<u64, V, BuildHasherDefault<MacHasher>>;

/// A tiny "most common value" counter that keeps insertion order for ties, as Python's
/// `Counter.most_common` (which defines the truth files) does.
#[derive(Debug, Clone, Default)]
struct Tally(Vec<(u16, u64)>);

impl Tally {
    fn add(&mut self, v: u16) {
        if let Some(e) = self.0.iter_mut().find(|e| e.0 == v) {
            e.1 += 1;
        } else if self.0.len() < 8 {
            self.0.push((v, 1));
        }
    }
    fn most_common(&self) -> Option<u16> {
        let mut best: Option<(u16, u64)> = None;
        for &(v, n) in &self.0 {
            if best.is_none_or(|b| n > b.1) {
                best = Some((v, n));
            }
        }
        best.map(|b| b.0)
    }
}

#[derive(Debug)]
struct ApState {
    rec: ApRecord,
    ds: Tally,
    ht: Tally,
    he6: Tally,
    /// Distinct clients seen with this AP (bounded), for `client_count`.
    clients: Vec<u64>,
    throttle: throttle::Mark,
    dirty: bool,
}

#[derive(Debug)]
struct ClientState {
    rec: ClientRecord,
    throttle: throttle::Mark,
    dirty: bool,
}

/// Counters the UI and the ingest summary show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    pub events: u64,
    pub new_aps: u64,
    pub new_clients: u64,
    pub observations: u64,
}

/// Live state of one device's view of the air during one session.
pub struct Tracker {
    aps: MacMap<ApState>,
    clients: MacMap<ClientState>,
    session: SessionRecord,
    session_dirty: bool,
    next_seq: u64,
    fix: Option<Fix>,
    observations: Vec<Observation>,
    /// Added to every incoming time: the GPS clock offset when the system clock could not be
    /// set, else 0.
    time_offset: TimeUs,
    /// The first GPS time of the session has been compared with the system clock.
    clock_checked: bool,
    /// Observations of this session already sent to the store whose times must be shifted.
    pending_shift: Option<crate::store::TimeShift>,
    /// The stored GPS track: thinned as fixes arrive; the points not yet sent.
    thinner: crate::gps::track::Thinner,
    track: Vec<Fix>,
    stats: TrackerStats,
}

fn vendor_of(mac: MacAddr) -> Option<String> {
    // A locally administered address has no registered owner, whatever its first octets say.
    if mac.is_local() || mac.is_group() {
        return None;
    }
    let o = mac.octets();
    let hex = format!(
        "{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        o[0], o[1], o[2], o[3], o[4], o[5]
    );
    oui_data::lookup(&hex).map(|d| d.organization().to_string())
}

fn max_opt(a: Option<i8>, b: Option<i8>) -> Option<i8> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Tracker {
    /// A tracker for a new session. `next_seq` is the first free observation number; `aps`
    /// and `clients` are what the store already holds, so that a new session extends them.
    pub fn new(
        session: SessionRecord,
        next_seq: u64,
        aps: Vec<ApRecord>,
        clients: Vec<ClientRecord>,
    ) -> Tracker {
        let mut t = Tracker {
            aps: MacMap::default(),
            clients: MacMap::default(),
            session,
            session_dirty: true,
            next_seq,
            fix: None,
            observations: Vec::new(),
            time_offset: 0,
            clock_checked: false,
            pending_shift: None,
            thinner: crate::gps::track::Thinner::new(Default::default()),
            track: Vec::new(),
            stats: TrackerStats::default(),
        };
        for rec in aps {
            let mut st = ApState::new(rec);
            // Seed the channel tally with what was stored, so that a later session without
            // channel information keeps the stored channel.
            if let Some(c) = st.rec.channel {
                st.ds.add(c);
            }
            st.dirty = false;
            t.aps.insert(st.rec.bssid.to_u64(), st);
        }
        for rec in clients {
            t.clients.insert(
                rec.mac.to_u64(),
                ClientState {
                    rec,
                    throttle: throttle::Mark::default(),
                    dirty: false,
                },
            );
        }
        t
    }

    pub fn session(&self) -> &SessionRecord {
        &self.session
    }

    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    pub fn ap_count(&self) -> usize {
        self.aps.len()
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn ap(&self, bssid: MacAddr) -> Option<&ApRecord> {
        self.aps.get(&bssid.to_u64()).map(|s| &s.rec)
    }

    /// Every AP the tracker knows, in no particular order.
    pub fn aps(&self) -> impl Iterator<Item = &ApRecord> {
        self.aps.values().map(|s| &s.rec)
    }

    pub fn clients(&self) -> impl Iterator<Item = &ClientRecord> {
        self.clients.values().map(|s| &s.rec)
    }

    /// Feeds one input.
    pub fn handle(&mut self, input: Input<'_>) {
        match input {
            Input::Frame(mut ev) => {
                self.stats.events += 1;
                self.session.frames += 1;
                self.session_dirty = true;
                *ev.time_mut() += self.time_offset;
                self.event(ev);
            }
            Input::Fix(fix) => {
                if let Some(f) = fix {
                    self.thinner.push(f, &mut self.track);
                }
                self.fix = fix;
            }
            Input::GpsTime {
                gps,
                system,
                clock_set,
            } => self.check_clock(gps, system, clock_set),
            Input::Tick { now } => self.touch_session(now + self.time_offset),
            Input::EndSession { now } => {
                self.thinner.finish(&mut self.track);
                self.touch_session(now + self.time_offset);
                self.session.status = SessionStatus::Ended;
                self.session_dirty = true;
            }
        }
    }

    fn check_clock(&mut self, gps: TimeUs, system: TimeUs, clock_set: bool) {
        // Capture files carry their own times, and one check per session is enough.
        if self.clock_checked || self.session.time_source != TimeSource::SystemClock {
            return;
        }
        self.clock_checked = true;
        self.session_dirty = true;
        let offset = match crate::clock::decide(system, gps) {
            crate::clock::ClockDecision::Keep => {
                self.session.time_source = TimeSource::Gps;
                return;
            }
            crate::clock::ClockDecision::Set { offset_us } => offset_us,
        };
        self.session.time_source = TimeSource::GpsCorrected { offset_us: offset };
        if !clock_set {
            self.time_offset = offset;
        }
        // Everything this session recorded so far was stamped by the wrong clock. Values from
        // earlier sessions (loaded from the store) are older than this session's start.
        let since = self.session.started_at;
        let fix_time = |t: &mut TimeUs| {
            if *t >= since {
                *t += offset;
            }
        };
        if self.session.ended_at.is_some() {
            self.session.started_at += offset;
        }
        if let Some(e) = self.session.ended_at.as_mut() {
            *e += offset;
        }
        for st in self.aps.values_mut() {
            let r = &mut st.rec;
            if r.last_seen >= since {
                fix_time(&mut r.first_seen);
                fix_time(&mut r.last_seen);
                for h in &mut r.ssid_history {
                    fix_time(&mut h.first_seen);
                    fix_time(&mut h.last_seen);
                }
                st.dirty = true;
            }
        }
        for st in self.clients.values_mut() {
            let r = &mut st.rec;
            if r.last_seen >= since {
                fix_time(&mut r.first_seen);
                fix_time(&mut r.last_seen);
                st.dirty = true;
            }
        }
        for o in &mut self.observations {
            o.time += offset;
        }
        // Observations already handed to the store are shifted there, in the same batch as
        // the corrected records.
        let first_pending = self.observations.first().map_or(self.next_seq, |o| o.seq);
        self.pending_shift = Some(crate::store::TimeShift {
            session_id: self.session.id,
            before_seq: first_pending,
            offset_us: offset,
        });
    }

    fn touch_session(&mut self, now: TimeUs) {
        // The first time seen starts the session: until then `started_at` is only the
        // caller's placeholder (a capture file's time is not the wall clock's).
        if self.session.ended_at.is_none() {
            self.session.started_at = now;
        }
        if self.session.ended_at.is_none_or(|e| now > e) {
            self.session.ended_at = Some(now);
            self.session_dirty = true;
        }
        if now < self.session.started_at {
            self.session.started_at = now;
        }
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Other { time } => self.touch_session(time),
            Event::BssAdvert {
                time,
                bssid,
                probe_response,
                signal_dbm,
                heard,
                privacy,
                ibss,
                elements,
            } => {
                self.touch_session(time);
                let fix = self.fix;
                let key = bssid.to_u64();
                let st = self.aps.entry(key).or_insert_with(|| {
                    self.stats.new_aps += 1;
                    ApState::new(ApRecord::new(bssid, time))
                });
                st.advert(
                    time,
                    probe_response,
                    signal_dbm,
                    heard,
                    privacy,
                    ibss,
                    elements,
                    fix,
                );
                if st
                    .throttle
                    .should_observe(self.session.id, time, signal_dbm, fix)
                {
                    let obs = Observation {
                        seq: self.next_seq,
                        session_id: self.session.id,
                        kind: ObservationKind::Ap,
                        mac: bssid,
                        time,
                        signal_dbm,
                        channel: st.rec.channel.or(heard.channel),
                        freq_mhz: st.rec.freq_mhz.or(heard.freq_mhz),
                        fix,
                    };
                    self.next_seq += 1;
                    self.stats.observations += 1;
                    self.observations.push(obs);
                }
            }
            Event::ProbeRequest {
                time,
                client,
                ssid,
                signal_dbm,
                heard,
            } => {
                self.touch_session(time);
                if client.is_group() {
                    return;
                }
                let st = self.client_entry(client, time);
                st.seen(time, signal_dbm);
                if let Some(s) = ssid.filter(|s| !s.is_empty() && !s.iter().all(|b| *b == 0))
                    && !st.rec.probed_ssids.iter().any(|p| p == s)
                    && st.rec.probed_ssids.len() < PROBED_SSIDS_MAX
                {
                    st.rec.probed_ssids.push(s.to_vec());
                }
                self.observe_client(client, time, signal_dbm, heard);
            }
            Event::Link {
                time,
                bssid,
                client,
                from_ap,
                signal_dbm,
                heard,
                data,
            } => {
                self.touch_session(time);
                if client.is_group() || bssid.is_group() || client == bssid {
                    return;
                }
                let ckey = client.to_u64();
                {
                    let st = self.client_entry(client, time);
                    if !from_ap {
                        st.seen(time, signal_dbm);
                    } else {
                        st.rec.first_seen = st.rec.first_seen.min(time);
                        st.rec.last_seen = st.rec.last_seen.max(time);
                    }
                    st.rec.associated_bssid = Some(bssid);
                    st.dirty = true;
                }
                if let Some(ap) = self.aps.get_mut(&bssid.to_u64()) {
                    if data {
                        ap.rec.data_frames += 1;
                    }
                    ap.rec.first_seen = ap.rec.first_seen.min(time);
                    ap.rec.last_seen = ap.rec.last_seen.max(time);
                    if !ap.clients.contains(&ckey) && ap.clients.len() < CLIENTS_PER_AP_MAX {
                        ap.clients.push(ckey);
                        ap.rec.client_count = ap.clients.len() as u32;
                    }
                    ap.dirty = true;
                }
                if !from_ap {
                    self.observe_client(client, time, signal_dbm, heard);
                }
            }
        }
    }

    fn client_entry(&mut self, mac: MacAddr, time: TimeUs) -> &mut ClientState {
        let stats = &mut self.stats;
        self.clients.entry(mac.to_u64()).or_insert_with(|| {
            stats.new_clients += 1;
            ClientState {
                rec: ClientRecord {
                    mac,
                    randomized: mac.is_local(),
                    probed_ssids: Vec::new(),
                    associated_bssid: None,
                    vendor: vendor_of(mac),
                    first_seen: time,
                    last_seen: time,
                    frames: 0,
                    best_signal_dbm: None,
                    best_fix: None,
                },
                throttle: throttle::Mark::default(),
                dirty: true,
            }
        })
    }

    fn observe_client(&mut self, mac: MacAddr, time: TimeUs, signal: Option<i8>, heard: Heard) {
        let fix = self.fix;
        let session = self.session.id;
        let Some(st) = self.clients.get_mut(&mac.to_u64()) else {
            return;
        };
        if let (Some(s), Some(f)) = (signal, fix)
            && st.rec.best_signal_dbm == Some(s)
        {
            st.rec.best_fix = Some(f);
        }
        if st.throttle.should_observe(session, time, signal, fix) {
            self.observations.push(Observation {
                seq: self.next_seq,
                session_id: session,
                kind: ObservationKind::Client,
                mac,
                time,
                signal_dbm: signal,
                channel: heard.channel,
                freq_mhz: heard.freq_mhz,
                fix,
            });
            self.next_seq += 1;
            self.stats.observations += 1;
        }
    }

    /// Everything that changed since the last call, as one store batch (whole records).
    pub fn take_batch(&mut self) -> Batch {
        let mut b = Batch::default();
        for st in self.aps.values_mut().filter(|s| s.dirty) {
            st.dirty = false;
            b.aps.push(st.rec.clone());
        }
        for st in self.clients.values_mut().filter(|s| s.dirty) {
            st.dirty = false;
            b.clients.push(st.rec.clone());
        }
        b.observations = std::mem::take(&mut self.observations);
        b.track = std::mem::take(&mut self.track);
        b.time_shifts.extend(self.pending_shift.take());
        if self.session_dirty {
            self.session_dirty = false;
            b.sessions.push(self.session.clone());
        }
        b
    }
}

impl ApRecord {
    /// A record for a BSSID first heard at `time`.
    pub fn new(bssid: MacAddr, time: TimeUs) -> ApRecord {
        ApRecord {
            bssid,
            ssid: None,
            ssid_history: Vec::new(),
            hidden: false,
            channel: None,
            freq_mhz: None,
            band: None,
            width_mhz: None,
            phy: Phy::Legacy,
            heard_channels: Vec::new(),
            security: Default::default(),
            vendor: vendor_of(bssid),
            country: None,
            mesh_id: None,
            ibss: false,
            first_seen: time,
            last_seen: time,
            beacons: 0,
            probe_responses: 0,
            data_frames: 0,
            best_signal_dbm: None,
            best_fix: None,
            best_fix_signal_dbm: None,
            position: None,
            last_signal_dbm: None,
            client_count: 0,
        }
    }
}

impl ApState {
    fn new(rec: ApRecord) -> ApState {
        ApState {
            rec,
            ds: Tally::default(),
            ht: Tally::default(),
            he6: Tally::default(),
            clients: Vec::new(),
            throttle: throttle::Mark::default(),
            dirty: true,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn advert(
        &mut self,
        time: TimeUs,
        probe_response: bool,
        signal: Option<i8>,
        heard: Heard,
        privacy: bool,
        ibss: bool,
        e: &BssElements<'_>,
        fix: Option<Fix>,
    ) {
        let r = &mut self.rec;
        self.dirty = true;
        r.first_seen = r.first_seen.min(time);
        r.last_seen = r.last_seen.max(time);
        if probe_response {
            r.probe_responses += 1;
        } else {
            r.beacons += 1;
        }
        if let Some(s) = signal {
            r.last_signal_dbm = Some(s);
            r.best_signal_dbm = Some(r.best_signal_dbm.map_or(s, |b| b.max(s)));
        }
        // The best located sighting: a stronger one replaces it; without any signal reading
        // (a capture with no radio header) the first located sighting stays.
        if let Some(f) = fix {
            let better = match (r.best_fix, signal, r.best_fix_signal_dbm) {
                (None, _, _) => true,
                (Some(_), Some(s), Some(b)) => s > b,
                (Some(_), Some(_), None) => true,
                (Some(_), None, _) => false,
            };
            if better {
                r.best_fix = Some(f);
                r.best_fix_signal_dbm = signal;
            }
        }
        if let Some(f) = &fix {
            PositionEstimate::add(&mut r.position, f, signal);
        }
        if let Some(c) = heard.channel
            && !r.heard_channels.contains(&c)
            && r.heard_channels.len() < HEARD_CHANNELS_MAX
        {
            r.heard_channels.push(c);
            r.heard_channels.sort_unstable();
        }
        r.ibss |= ibss;

        // SSID: hidden when the element is empty or all NUL; otherwise counted in the history.
        if let Some(ssid) = e.ssid {
            if e.hidden() {
                r.hidden = true;
            } else {
                match r.ssid_history.iter_mut().find(|s| s.ssid == ssid) {
                    Some(s) => {
                        s.count += 1;
                        s.first_seen = s.first_seen.min(time);
                        s.last_seen = s.last_seen.max(time);
                    }
                    None => {
                        let seen = SsidSeen {
                            ssid: ssid.to_vec(),
                            count: 1,
                            first_seen: time,
                            last_seen: time,
                        };
                        if r.ssid_history.len() < SSID_HISTORY_MAX {
                            r.ssid_history.push(seen);
                        } else if let Some(least) =
                            r.ssid_history.iter_mut().min_by_key(|s| s.count)
                        {
                            *least = seen;
                        }
                    }
                }
                // The shown SSID is the most frequent; ties go to the one seen first.
                let mut best: Option<&SsidSeen> = None;
                for s in &r.ssid_history {
                    if best.is_none_or(|b| s.count > b.count) {
                        best = Some(s);
                    }
                }
                if best.map(|b| &b.ssid) != r.ssid.as_ref() {
                    r.ssid = best.map(|b| b.ssid.clone());
                }
            }
        }

        // Advertised channel: DS Parameter Set, else HT primary, else HE 6 GHz primary, each
        // the most common over the AP's frames (the truth files' `channel_ie`).
        if let Some(c) = e.ds_channel {
            self.ds.add(u16::from(c));
        }
        if let Some(ht) = e.ht_op {
            self.ht.add(u16::from(ht.primary_channel));
        }
        if let Some(six) = e.he_op.and_then(|h| h.six_ghz) {
            self.he6.add(u16::from(six.primary_channel));
        }
        let (channel, six) = match (self.ds.most_common(), self.ht.most_common()) {
            (Some(c), _) | (None, Some(c)) => (Some(c), false),
            (None, None) => (self.he6.most_common(), true),
        };
        if channel.is_some() {
            r.channel = channel;
            let band = if six {
                Some(Band::B6)
            } else {
                decode::band_for_channel(channel.unwrap_or(0), heard.band)
            };
            r.band = band;
            r.freq_mhz = match (band, channel) {
                (Some(b), Some(c)) => decode::channel_freq(b, c),
                _ => None,
            };
        } else if r.channel.is_none() && heard.channel.is_some() {
            r.band = heard.band;
        }
        if let Some(w) = decode::width_mhz(e) {
            r.width_mhz = Some(r.width_mhz.map_or(w, |old| old.max(w)));
        }
        let phy = if e.eht_cap || e.eht_op {
            Phy::Be
        } else if e.he_cap || e.he_op.is_some() {
            Phy::Ax
        } else if e.vht_cap || e.vht_op.is_some() {
            Phy::Ac
        } else if e.ht_cap || e.ht_op.is_some() {
            Phy::N
        } else {
            Phy::Legacy
        };
        r.phy = r.phy.max(phy);

        // Security: the union of the raw ingredients over all frames.
        let s = &mut r.security;
        s.privacy |= privacy;
        if let Some(w) = e.wpa {
            s.wpa = true;
            s.wpa_akms |= w.akm_types;
            s.wpa_ciphers |= w.pairwise_types;
            if let Some(g) = w.group_cipher(WPA_OUI).filter(|g| *g < 32) {
                s.wpa_ciphers |= 1 << g;
            }
        }
        if let Some(rsn) = e.rsn {
            // The suite type whatever its OUI, as tshark's `wlan.rsn.akms.type` (and so the
            // truth files' enc_class) counts it.
            s.rsn_akms |= rsn.akm_types;
            s.rsn_pairwise |= rsn.pairwise_types;
            if let Some(g) = rsn.group_cipher(RSN_OUI).filter(|g| *g < 32) {
                s.rsn_group |= 1 << g;
            }
            let pmf = if rsn.mfp_required() {
                Pmf::Required
            } else if rsn.mfp_capable() {
                Pmf::Capable
            } else {
                Pmf::Disabled
            };
            if pmf as u8 > s.pmf as u8 {
                s.pmf = pmf;
            }
        }
        if let Some(w) = e.wps {
            let info = s.wps.get_or_insert_with(WpsInfo::default);
            if w.state.is_some() {
                info.state = w.state;
            }
            if let Some(n) = w.device_name {
                info.device_name = Some(n.to_vec());
            }
            if let Some(m) = w.model_name {
                info.model = Some(m.to_vec());
            }
            if let Some(m) = w.manufacturer {
                info.manufacturer = Some(m.to_vec());
            }
        }
        if e.country.is_some() {
            r.country = e.country;
        }
        if let Some(m) = e.mesh_id
            && !m.is_empty()
        {
            r.mesh_id = Some(m.to_vec());
        }
    }
}

impl ClientState {
    fn seen(&mut self, time: TimeUs, signal: Option<i8>) {
        let r = &mut self.rec;
        r.first_seen = r.first_seen.min(time);
        r.last_seen = r.last_seen.max(time);
        r.frames += 1;
        r.best_signal_dbm = max_opt(r.best_signal_dbm, signal);
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests;
