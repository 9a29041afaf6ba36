//! Table definitions, key encodings and the schema-version check (with the migration hook).

use std::path::Path;

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::StoreError;

/// The schema this build writes and reads. Bump it whenever a table's key or value encoding
/// changes, and teach [`migrate`] the step from the previous version.
///
/// Adding a table is not such a change: a file without it still opens, because
/// [`check_ready`] then reports the file not ready and [`prepare`] creates the missing table
/// in the opening transaction (as for `session_macs`, `users`, `api_tokens`, `wigle_uploads`
/// and the hub's tables). A new
/// table must therefore be listed in both [`create_tables`] and [`check_ready`], and an index
/// over existing data needs a backfill like [`backfill_session_macs`].
pub const SCHEMA_VERSION: u32 = 1;

/// `schema_version` (u32, little endian) and `device_id` (16 bytes).
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// BSSID (as `MacAddr::to_u64`, so key order is BSSID order) to a postcard `ApRecord`.
pub(crate) const APS: TableDefinition<u64, &[u8]> = TableDefinition::new("aps");
/// `(first_seen, bssid)`: iterated in reverse for "newest first", ties broken by BSSID.
pub(crate) const APS_BY_FIRST_SEEN: TableDefinition<(i64, u64), ()> =
    TableDefinition::new("aps_by_first_seen");
/// `(last_seen, bssid)`: iterated in reverse for "most recently heard first".
pub(crate) const APS_BY_LAST_SEEN: TableDefinition<(i64, u64), ()> =
    TableDefinition::new("aps_by_last_seen");
/// Client MAC (as u64) to a postcard `ClientRecord`.
pub(crate) const CLIENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("clients");
/// Observation sequence number to a postcard `Observation`.
pub(crate) const OBSERVATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("observations");
/// `(mac, seq)`: finds one device's observations without scanning them all.
pub(crate) const OBSERVATIONS_BY_MAC: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("observations_by_mac");
/// Session id to a postcard `SessionRecord`.
pub(crate) const SESSIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("sessions");
/// Input name (e.g. a capture file key) to a postcard `SourceCursor`.
pub(crate) const CURSORS: TableDefinition<&str, &[u8]> = TableDefinition::new("cursors");
/// The GPS track: fix time (Unix microseconds) to a postcard `Fix`, so a time range is a key
/// range (a session's track is the range `started_at..=ended_at`).
pub(crate) const TRACK: TableDefinition<i64, &[u8]> = TableDefinition::new("track");
/// `(session_id, mac)` of every observation: "which networks were seen in session S" as a
/// key range, without scanning the observations or collecting a set in memory.
pub(crate) const SESSION_MACS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("session_macs");

/// Accounts of the web UI: account name to a postcard `accounts::UserRecord` (the password
/// only as an argon2id hash). Added after version 1 was released; see [`SCHEMA_VERSION`].
pub(crate) const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// API tokens: the SHA-256 of the token (32 bytes; the token itself is never stored) to a
/// postcard `accounts::TokenRecord`. Added after version 1, like `users`.
pub(crate) const API_TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("api_tokens");
/// Uploads to WiGLE that succeeded: upload number (1, 2, ...) to a postcard
/// `store::WigleUpload`. The last one's `last_seq` is the watermark: every observation up to
/// it has been sent. Added after version 1, like `users`.
pub(crate) const WIGLE_UPLOADS: TableDefinition<u64, &[u8]> = TableDefinition::new("wigle_uploads");

/// Sync's stream of network-summary updates (sync/README.md, "Network summaries"): BSSID to
/// the stamp of the AP record's last write. Kept by the writer with every AP it writes.
/// Added after version 1, like `users`; [`backfill_net_stream`] stamps older files' APs.
pub(crate) const NET_STAMPS: TableDefinition<u64, u64> = TableDefinition::new("net_stamps");
/// The same stream in stamp order: stamp to BSSID. Its last key is the latest stamp ever
/// given (a network's stamp only moves up), so the next one is that plus one.
pub(crate) const NET_STREAM: TableDefinition<u64, u64> = TableDefinition::new("net_stream");
/// Sync's replicated state that is not a record: `edits` (postcard `piwardrive_sync::Edits`)
/// on every node; on a hub also `obs_have` and `net_have` (postcard `Have`s: which devices'
/// observations and summary updates it holds).
pub(crate) const REPLICA: TableDefinition<&str, &[u8]> = TableDefinition::new("replica");
/// Hub: (device id, the device's seq) to the seq the observation got in this store's
/// `observations` table, so a batch sent twice is stored once.
pub(crate) const HUB_OBS: TableDefinition<(u128, u64), u64> = TableDefinition::new("hub_obs");
/// Hub: BSSID to the postcard `NetworkSummary` joined from every device's.
pub(crate) const HUB_NETS: TableDefinition<u64, &[u8]> = TableDefinition::new("hub_nets");
/// Devices enrolled with this node as their hub: the device id (16 bytes) to a postcard
/// `hub_devices::HubDevice`. Added after version 1, like `users`.
pub(crate) const HUB_DEVICES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("hub_devices");
/// The SHA-256 of each enrolled device's current token (32 bytes; the token is never stored)
/// to its device id: a revoked or replaced token has no entry.
pub(crate) const HUB_DEVICE_TOKENS: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("hub_device_tokens");

pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";
pub(crate) const META_DEVICE_ID: &str = "device_id";

/// Opens every table once so that readers can assume they exist (a read transaction cannot
/// create a table, and "table does not exist" is not an error a reader should have to handle).
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(META)?;
    txn.open_table(APS)?;
    txn.open_table(APS_BY_FIRST_SEEN)?;
    txn.open_table(APS_BY_LAST_SEEN)?;
    txn.open_table(CLIENTS)?;
    txn.open_table(OBSERVATIONS)?;
    txn.open_table(OBSERVATIONS_BY_MAC)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(CURSORS)?;
    txn.open_table(TRACK)?;
    txn.open_table(SESSION_MACS)?;
    txn.open_table(USERS)?;
    txn.open_table(API_TOKENS)?;
    txn.open_table(NET_STAMPS)?;
    txn.open_table(NET_STREAM)?;
    txn.open_table(REPLICA)?;
    txn.open_table(HUB_OBS)?;
    txn.open_table(HUB_NETS)?;
    txn.open_table(WIGLE_UPLOADS)?;
    txn.open_table(HUB_DEVICES)?;
    txn.open_table(HUB_DEVICE_TOKENS)?;
    Ok(())
}

/// Stamps every AP in BSSID order when the network stream is empty but APs exist: a file
/// written before the stream was added, whose networks must still reach the hub.
pub(crate) fn backfill_net_stream(txn: &WriteTransaction) -> Result<u64, redb::Error> {
    use redb::ReadableTableMetadata;
    let mut stream = txn.open_table(NET_STREAM)?;
    if !stream.is_empty()? {
        return Ok(0);
    }
    let mut stamps = txn.open_table(NET_STAMPS)?;
    let aps = txn.open_table(APS)?;
    let mut next = 1;
    for entry in aps.iter()? {
        let (k, _) = entry?;
        stamps.insert(k.value(), next)?;
        stream.insert(next, k.value())?;
        next += 1;
    }
    Ok(next - 1)
}

/// Fills the session index from the observations when it is empty but observations exist:
/// a file created before the index was added (adding tables is backward compatible; this
/// makes the new index complete for it too). Runs inside the opening write transaction.
pub(crate) fn backfill_session_macs(txn: &WriteTransaction) -> Result<u64, redb::Error> {
    use redb::ReadableTableMetadata;
    let mut index = txn.open_table(SESSION_MACS)?;
    if !index.is_empty()? {
        return Ok(0);
    }
    let observations = txn.open_table(OBSERVATIONS)?;
    let mut added = 0;
    for entry in observations.iter()? {
        let (_, v) = entry?;
        // A row that does not decode is left to the readers, which report it; the index
        // simply does not list it.
        if let Ok(o) = postcard::from_bytes::<crate::model::Observation>(v.value()) {
            index.insert((o.session_id, o.mac.to_u64()), ())?;
            added += 1;
        }
    }
    Ok(added)
}

/// Checks, in a read transaction, whether the file is ready as it is: every table present, the
/// current schema version, a device id. Returns `None` when anything needs writing (a new
/// file, a migration) or refusing, which [`prepare`] then does.
///
/// Why not always use `prepare`: a plain open of a healthy file should not commit, so that a
/// full disk still lets the store be opened and read.
pub(crate) fn check_ready(db: &redb::Database) -> Option<Prepared> {
    use redb::ReadableDatabase;
    let txn = db.begin_read().ok()?;
    let meta = txn.open_table(META).ok()?;
    let version = meta.get(META_SCHEMA_VERSION).ok()??;
    if decode_version(version.value()) != Some(SCHEMA_VERSION) {
        return None;
    }
    let id = meta.get(META_DEVICE_ID).ok()??;
    let device_id: [u8; 16] = id.value().try_into().ok()?;
    // Opening a table that does not exist fails in a read transaction.
    let tables_exist = txn.open_table(APS).is_ok()
        && txn.open_table(APS_BY_FIRST_SEEN).is_ok()
        && txn.open_table(APS_BY_LAST_SEEN).is_ok()
        && txn.open_table(CLIENTS).is_ok()
        && txn.open_table(OBSERVATIONS).is_ok()
        && txn.open_table(OBSERVATIONS_BY_MAC).is_ok()
        && txn.open_table(SESSIONS).is_ok()
        && txn.open_table(CURSORS).is_ok()
        && txn.open_table(TRACK).is_ok()
        && txn.open_table(SESSION_MACS).is_ok()
        && txn.open_table(USERS).is_ok()
        && txn.open_table(API_TOKENS).is_ok()
        && txn.open_table(NET_STAMPS).is_ok()
        && txn.open_table(NET_STREAM).is_ok()
        && txn.open_table(REPLICA).is_ok()
        && txn.open_table(HUB_OBS).is_ok()
        && txn.open_table(HUB_NETS).is_ok()
        && txn.open_table(WIGLE_UPLOADS).is_ok()
        && txn.open_table(HUB_DEVICES).is_ok()
        && txn.open_table(HUB_DEVICE_TOKENS).is_ok();
    tables_exist.then_some(Prepared { device_id })
}

/// What `prepare` found in the file.
pub(crate) struct Prepared {
    pub device_id: [u8; 16],
}

/// Inside one write transaction: creates the tables, checks (or, for a new file, writes) the
/// schema version, and creates the device id on first open.
pub(crate) fn prepare(path: &Path, txn: &WriteTransaction) -> Result<Prepared, StoreError> {
    let db = |e: redb::Error| StoreError::from_redb(path, e);
    create_tables(txn).map_err(db)?;
    backfill_session_macs(txn).map_err(db)?;
    backfill_net_stream(txn).map_err(db)?;
    let mut meta = txn.open_table(META).map_err(|e| db(e.into()))?;

    let stored = meta
        .get(META_SCHEMA_VERSION)
        .map_err(|e| db(e.into()))?
        .map(|v| v.value().to_vec());
    match stored {
        None => {
            // A file without a version is only ever a new one: it gets the current version.
            meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_le_bytes().as_slice())
                .map_err(|e| db(e.into()))?;
        }
        Some(bytes) => {
            let found = decode_version(&bytes).ok_or_else(|| StoreError::Decode {
                path: path.to_path_buf(),
                table: "meta",
                key: META_SCHEMA_VERSION.to_string(),
                source: postcard::Error::DeserializeUnexpectedEnd,
            })?;
            if found != SCHEMA_VERSION {
                migrate(path, txn, found)?;
                meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_le_bytes().as_slice())
                    .map_err(|e| db(e.into()))?;
            }
        }
    }

    let stored_id = meta
        .get(META_DEVICE_ID)
        .map_err(|e| db(e.into()))?
        .map(|v| v.value().to_vec());
    let device_id = match stored_id {
        Some(bytes) => bytes
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("device id has {} bytes, expected 16", bytes.len()),
            })?,
        None => {
            let id = new_device_id(path)?;
            meta.insert(META_DEVICE_ID, id.as_slice())
                .map_err(|e| db(e.into()))?;
            id
        }
    };
    Ok(Prepared { device_id })
}

fn decode_version(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// The migration hook: brings a file at schema `found` up to [`SCHEMA_VERSION`] inside the
/// opening transaction (so a migration interrupted by a power cut leaves the old file intact),
/// or refuses it.
///
/// Version 1 is the first schema, so there is nothing to migrate from yet. When version 2
/// arrives, add `1 => migrate_1_to_2(txn)?` here and fall through to the next step.
fn migrate(path: &Path, _txn: &WriteTransaction, found: u32) -> Result<(), StoreError> {
    let hint = if found > SCHEMA_VERSION {
        "the file was written by a newer PiWardrive; update this device's software, or move \
         the file aside to start a new store"
    } else {
        "no migration from that version exists; move the file aside to start a new store"
    };
    Err(StoreError::SchemaVersion {
        path: path.to_path_buf(),
        found,
        expected: SCHEMA_VERSION,
        hint,
    })
}

/// 128 random bits from the kernel: the device's identity in synced data, so it must not
/// repeat across devices. `/dev/urandom` avoids a dependency; the appliance is Linux only.
fn new_device_id(path: &Path) -> Result<[u8; 16], StoreError> {
    use std::io::Read;
    let mut id = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut id))
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            action: "reading /dev/urandom for a new device id",
            source,
        })?;
    Ok(id)
}

/// Formats a table key for error messages.
pub(crate) fn mac_key(k: u64) -> String {
    piwardrive_dot11::MacAddr::from_u64(k).to_string()
}
