//! Sync's view of the store: what a device sends its hub, and the hub's replicated tables, each change applied in one durable transaction.
//!
//! A device sends two things (sync/README.md): its observations, keyed by its own `seq` (the
//! `observations` table), and its stream of network-summary updates (every AP record the
//! writer writes gets the next stamp of `net_stream`, see `writer.rs`). What it sends is read
//! from one snapshot, so a batch is one commit's view. User edits live in the `replica` table
//! on every node.
//!
//! The hub keeps, per device, which seqs and stamps it holds (`obs_have`, `net_have` in
//! `replica`), the joined summary of every network (`hub_nets`), and which device seq became
//! which of its own observations (`hub_obs`). A request's messages are applied in one durable
//! transaction together with those records, so an answer the device never got is applied once
//! whatever it resends, and a kill at any moment leaves the hub at a request boundary.

use std::ops::ControlFlow;

use piwardrive_dot11::MacAddr;
use piwardrive_sync::{
    self as sync, Ack, DeviceId, EditError, Edits, Have, Hello, Limits, Message, NetBatch, RangeSet,
};
use redb::{Durability, ReadableTable, ReadableTableMetadata};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema::{APS, HUB_NETS, HUB_OBS, NET_STREAM, OBSERVATIONS, REPLICA};
use super::writer::Tables;
use super::{Batch, Fault, Store, StoreError, decode};
use crate::model::{ApRecord, Observation};
use crate::replication::convert;

const EDITS: &str = "edits";
const OBS_HAVE: &str = "obs_have";
const NET_HAVE: &str = "net_have";

/// What a device sends next: at most `limits.batches` messages.
#[derive(Debug, Default)]
pub struct Outbox {
    pub messages: Vec<Message>,
    /// Observations in the messages.
    pub observations: u64,
    /// Network summaries in the messages.
    pub networks: u64,
    /// Stored observations that do not decode (corrupt rows): reported, never sent.
    pub unreadable: Vec<u64>,
}

/// Why a hub refused a request's messages.
#[derive(Debug, thiserror::Error)]
pub enum HubApplyError {
    /// A batch of another device's data: a device sends only its own.
    #[error("a {what} of device {claimed:?} sent with the token of device {device:?}")]
    NotYours {
        what: &'static str,
        claimed: DeviceId,
        device: DeviceId,
    },
    #[error("bad network summary for {mac:?}: {error}")]
    Summary {
        mac: sync::Mac,
        error: sync::network::SummaryError,
    },
    #[error("bad edits: {0}")]
    Edits(#[from] EditError),
    #[error("a {0} message is not something a device sends")]
    Unexpected(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn get_postcard<T: DeserializeOwned + Default>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &'static str,
) -> Result<T, Fault> {
    match t.get(key)? {
        Some(v) => decode("replica", key, v.value()),
        None => Ok(T::default()),
    }
}

fn put_postcard<T: Serialize>(
    t: &mut redb::Table<'_, &'static str, &'static [u8]>,
    key: &'static str,
    value: &T,
) -> Result<(), Fault> {
    let bytes = super::encode("replica", key, value)?;
    t.insert(key, bytes.as_slice())?;
    Ok(())
}

/// `have` restricted to `source`'s entries (a hub answers a device with what it holds of it).
fn have_of(have: &Have, source: &DeviceId) -> Have {
    let mut out = Have::new();
    out.insert_set(*source, &have.seqs(source));
    out
}

impl Store {
    /// This node's id in sync: the store's device id.
    pub fn sync_id(&self) -> DeviceId {
        convert::device_id(self.device_id())
    }

    /// The user edits this node holds (labels, notes, ignored networks, home zones).
    pub fn edits(&self) -> Result<Edits, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(REPLICA)?;
            get_postcard(&t, EDITS)
        })
    }

    /// Changes the edits in one durable transaction and returns what `f` returns.
    pub fn update_edits<T>(&self, f: impl FnOnce(&mut Edits) -> T) -> Result<T, StoreError> {
        self.write_small(|txn| {
            let mut t = txn.open_table(REPLICA)?;
            let mut edits: Edits = get_postcard(&t, EDITS)?;
            let out = f(&mut edits);
            put_postcard(&mut t, EDITS, &edits)?;
            Ok(out)
        })
    }

    /// A device's `Hello`: everything it holds of its own observations and stream, and its
    /// edits clock.
    pub fn device_hello(&self) -> Result<Hello, StoreError> {
        let me = self.sync_id();
        self.read(|txn| {
            let obs = txn.open_table(OBSERVATIONS)?;
            let stream = txn.open_table(NET_STREAM)?;
            let mut observations = Have::new();
            // Seqs are given from 1 without gaps, so a table of n rows whose last key is n
            // holds exactly 1..=n; otherwise (rows lost to corruption) only what is certain.
            if let Some((last, _)) = obs.last()? {
                let last = last.value();
                if obs.len()? == last {
                    observations.insert_set(me, &RangeSet::from_range(1..=last));
                }
            }
            let mut networks = Have::new();
            if let Some((last, _)) = stream.last()? {
                // Stamps replaced by later ones are covered by them.
                networks.insert_set(me, &RangeSet::from_range(1..=last.value()));
            }
            let edits: Edits = get_postcard(&txn.open_table(REPLICA)?, EDITS)?;
            Ok(Hello {
                node: me,
                observations,
                networks,
                edits: edits.clock().clone(),
            })
        })
    }

    /// How many of this device's stored observations a hub that has `hub` lacks.
    pub fn sync_pending(&self, hub: &Have) -> Result<u64, StoreError> {
        let me = self.sync_id();
        self.read(|txn| {
            let obs = txn.open_table(OBSERVATIONS)?;
            let last = obs.last()?.map_or(0, |(k, _)| k.value());
            Ok(hub
                .missing(&me, last)
                .iter()
                .map(|r| r.end() - r.start() + 1)
                .sum())
        })
    }

    /// What a device sends a hub whose view is `hub` (its `Hello`, with the acks since taken
    /// in): the observations it lacks, oldest first, then the network updates it lacks, at
    /// most `limits.batches` messages, all read from one snapshot.
    pub fn sync_outbox(&self, hub: &Hello, limits: Limits) -> Result<Outbox, StoreError> {
        let me = self.sync_id();
        let per_obs = limits.observations_per_batch.clamp(1, sync::MAX_BATCH_OBS);
        let per_net = limits
            .networks_per_batch
            .clamp(1, sync::protocol::MAX_NET_ENTRIES);
        let max = limits.batches.max(1);
        self.read(|txn| {
            let mut out = Outbox::default();
            let obs = txn.open_table(OBSERVATIONS)?;
            let last = obs.last()?.map_or(0, |(k, _)| k.value());
            let mut cur: Vec<sync::Observation> = Vec::new();
            let push_obs = |out: &mut Outbox, cur: &mut Vec<sync::Observation>| {
                out.observations += cur.len() as u64;
                let batch = sync::Batch::new(me, std::mem::take(cur))
                    .expect("observations read from one table have distinct seqs");
                out.messages.push(Message::Batch(batch));
            };
            'obs: for gap in hub.observations.missing(&me, last) {
                for row in obs.range(gap)? {
                    let (k, v) = row?;
                    match decode::<Observation>("observations", k.value(), v.value()) {
                        Ok(o) => cur.push(convert::observation(&o)),
                        Err(_) => {
                            out.unreadable.push(k.value());
                            continue;
                        }
                    }
                    if cur.len() == per_obs {
                        push_obs(&mut out, &mut cur);
                        if out.messages.len() == max {
                            break 'obs;
                        }
                    }
                }
            }
            if !cur.is_empty() {
                push_obs(&mut out, &mut cur);
            }
            if out.messages.len() >= max {
                return Ok(out);
            }

            let stream = txn.open_table(NET_STREAM)?;
            let aps = txn.open_table(APS)?;
            let last_stamp = stream.last()?.map_or(0, |(k, _)| k.value());
            let mut covers = RangeSet::new();
            let mut entries = Vec::new();
            'nets: for gap in hub.networks.missing(&me, last_stamp) {
                let (mut from, to) = (*gap.start(), *gap.end());
                for row in stream.range(gap)? {
                    let (stamp, bssid) = row?;
                    let (stamp, bssid) = (stamp.value(), bssid.value());
                    let mac = MacAddr::from_u64(bssid);
                    if let Some(v) = aps.get(bssid)?
                        && let Ok(ap) = decode::<ApRecord>("aps", mac, v.value())
                    {
                        entries.push((convert::mac(mac), convert::summary(me, &ap)));
                    }
                    if entries.len() == per_net {
                        covers.insert_range(from, stamp);
                        out.networks += entries.len() as u64;
                        out.messages.push(Message::Networks(NetBatch {
                            source: me,
                            covers: std::mem::take(&mut covers),
                            entries: std::mem::take(&mut entries),
                        }));
                        from = stamp + 1;
                        if out.messages.len() == max {
                            break 'nets;
                        }
                    }
                }
                // The rest of the gap: stamps there were replaced by later ones.
                if from <= to {
                    covers.insert_range(from, to);
                }
            }
            if !covers.is_empty() && out.messages.len() < max {
                out.networks += entries.len() as u64;
                out.messages.push(Message::Networks(NetBatch {
                    source: me,
                    covers,
                    entries,
                }));
            }
            Ok(out)
        })
    }

    /// A hub's `Hello` to `device`: what it holds of that device's observations and stream,
    /// and its edits clock; with the edits the device lacks, given the device's `Hello`.
    pub fn hub_hello(&self, device: &Hello) -> Result<Vec<Message>, StoreError> {
        let me = self.sync_id();
        self.read(|txn| {
            let t = txn.open_table(REPLICA)?;
            let obs: Have = get_postcard(&t, OBS_HAVE)?;
            let nets: Have = get_postcard(&t, NET_HAVE)?;
            let edits: Edits = get_postcard(&t, EDITS)?;
            let mut out = vec![Message::Hello(Hello {
                node: me,
                observations: have_of(&obs, &device.node),
                networks: have_of(&nets, &device.node),
                edits: edits.clock().clone(),
            })];
            if let Some(delta) = edits.delta_for(&device.edits) {
                out.push(Message::Edits(Box::new(delta)));
            }
            Ok(out)
        })
    }

    /// The devices a hub holds observations of, with how many.
    pub fn hub_devices_held(&self) -> Result<Vec<(DeviceId, u64)>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(REPLICA)?;
            let obs: Have = get_postcard(&t, OBS_HAVE)?;
            Ok(obs.sources().map(|d| (*d, obs.seqs(d).len())).collect())
        })
    }

    /// The hub's joined summary of a network.
    pub fn hub_network(&self, bssid: MacAddr) -> Result<Option<sync::NetworkSummary>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(HUB_NETS)?;
            t.get(bssid.to_u64())?
                .map(|v| decode("hub_nets", bssid, v.value()))
                .transpose()
        })
    }

    /// Calls `f` with the devices that saw each network in the hub's joined summaries
    /// (nothing on a device, whose `hub_nets` is empty).
    pub fn for_each_hub_network_devices(
        &self,
        mut f: impl FnMut(MacAddr, &[DeviceId]),
    ) -> Result<(), StoreError> {
        self.read(|txn| {
            let t = txn.open_table(HUB_NETS)?;
            let mut devices = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                let bssid = MacAddr::from_u64(k.value());
                // A summary that does not decode is reported by `hub_network`; the list
                // shows the network with no devices.
                if let Ok(s) = decode::<sync::NetworkSummary>("hub_nets", bssid, v.value()) {
                    devices.clear();
                    devices.extend(s.devices().iter().copied());
                    f(bssid, &devices);
                }
            }
            Ok(())
        })
    }

    /// Walks a device's observations as the hub holds them: (device seq, hub seq), in device
    /// seq order.
    pub fn hub_observation_keys<B>(
        &self,
        device: &DeviceId,
        mut f: impl FnMut(u64, u64) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, StoreError> {
        let dev = u128::from_be_bytes(device.0);
        self.read(|txn| {
            let t = txn.open_table(HUB_OBS)?;
            for row in t.range((dev, 0)..=(dev, u64::MAX))? {
                let (k, v) = row?;
                if let ControlFlow::Break(b) = f(k.value().1, v.value()) {
                    return Ok(ControlFlow::Break(b));
                }
            }
            Ok(ControlFlow::Continue(()))
        })
    }

    /// Applies the messages of one request from `device` (authenticated by the caller) in one
    /// durable transaction and returns the acknowledgements. Idempotent: messages applied
    /// before change nothing, and their acks say so again.
    pub fn hub_apply(
        &self,
        device: DeviceId,
        messages: &[Message],
    ) -> Result<Vec<Message>, HubApplyError> {
        for m in messages {
            match m {
                Message::Batch(b) if b.device() != device => {
                    return Err(HubApplyError::NotYours {
                        what: "observation batch",
                        claimed: b.device(),
                        device,
                    });
                }
                Message::Networks(n) if n.source != device => {
                    return Err(HubApplyError::NotYours {
                        what: "network batch",
                        claimed: n.source,
                        device,
                    });
                }
                Message::Networks(n) => {
                    for (mac, s) in &n.entries {
                        s.validate()
                            .map_err(|error| HubApplyError::Summary { mac: *mac, error })?;
                    }
                }
                Message::Edits(d) => d.validate()?,
                Message::Hello(_) => return Err(HubApplyError::Unexpected("Hello")),
                Message::Ack(_) => return Err(HubApplyError::Unexpected("Ack")),
                Message::Batch(_) => {}
            }
        }
        let mut acks = Vec::new();
        let mut records = Batch::default();
        // The devices of every network whose summary changed, for the list rows.
        let mut net_devices: Vec<(MacAddr, Vec<DeviceId>)> = Vec::new();
        let path = self.path().to_path_buf();
        let mut run = || -> Result<(), Fault> {
            let mut txn = self.db().begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            txn.set_quick_repair(true);
            {
                let mut replica = txn.open_table(REPLICA)?;
                let mut obs_have: Have = get_postcard(&replica, OBS_HAVE)?;
                let mut net_have: Have = get_postcard(&replica, NET_HAVE)?;
                let mut edits: Option<Edits> = None;
                let mut next_seq = {
                    let t = txn.open_table(OBSERVATIONS)?;
                    t.last()?.map_or(1, |(k, _)| k.value() + 1)
                };
                let mut hub_obs = txn.open_table(HUB_OBS)?;
                let mut hub_nets = txn.open_table(HUB_NETS)?;
                let dev = u128::from_be_bytes(device.0);
                for m in messages {
                    match m {
                        Message::Batch(b) => {
                            for o in b.observations() {
                                if hub_obs.get((dev, o.seq))?.is_none() {
                                    hub_obs.insert((dev, o.seq), next_seq)?;
                                    records
                                        .observations
                                        .push(convert::hub_observation(o, next_seq));
                                    next_seq += 1;
                                }
                            }
                            let seqs = b.seqs();
                            obs_have.insert_set(device, &seqs);
                            acks.push(Message::Ack(Ack {
                                source: device,
                                observations: seqs,
                                networks: RangeSet::new(),
                            }));
                        }
                        Message::Networks(n) => {
                            for (mac, s) in &n.entries {
                                let bssid = convert::mac_addr(*mac);
                                let key = bssid.to_u64();
                                let joined = match hub_nets.get(key)? {
                                    Some(v) => {
                                        let mut cur: sync::NetworkSummary =
                                            decode("hub_nets", bssid, v.value())?;
                                        cur.join(s).then_some(cur)
                                    }
                                    None => Some(s.clone()),
                                };
                                if let Some(joined) = joined {
                                    let bytes = super::encode("hub_nets", bssid, &joined)?;
                                    hub_nets.insert(key, bytes.as_slice())?;
                                    net_devices.push((
                                        bssid,
                                        joined.devices().iter().copied().collect::<Vec<_>>(),
                                    ));
                                    if let Some(ap) = convert::hub_record(bssid, &joined) {
                                        records.aps.push(ap);
                                    }
                                }
                            }
                            net_have.insert_set(device, &n.covers);
                            acks.push(Message::Ack(Ack {
                                source: device,
                                observations: RangeSet::new(),
                                networks: n.covers.clone(),
                            }));
                        }
                        Message::Edits(d) => {
                            let e = match &mut edits {
                                Some(e) => e,
                                None => edits.insert(get_postcard(&replica, EDITS)?),
                            };
                            e.merge_delta((**d).clone());
                        }
                        Message::Hello(_) | Message::Ack(_) => unreachable!("refused above"),
                    }
                }
                put_postcard(&mut replica, OBS_HAVE, &obs_have)?;
                put_postcard(&mut replica, NET_HAVE, &net_have)?;
                if let Some(e) = &edits {
                    put_postcard(&mut replica, EDITS, e)?;
                }
            }
            {
                // A network updated twice in one request: the last (joined) record wins.
                let mut t = Tables::open(&txn)?;
                t.apply(&records)?;
            }
            txn.commit()?;
            Ok(())
        };
        run().map_err(|e| HubApplyError::Store(e.at(&path)))?;
        self.ap_rows_committed(records.aps.iter());
        self.ap_row_devices_committed(net_devices.iter().map(|(b, d)| (*b, d.as_slice())));
        Ok(acks)
    }
}
