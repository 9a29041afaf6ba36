//! What was uploaded to WiGLE: one record per successful upload, whose last one holds the watermark (the highest observation seq sent).
//!
//! Like accounts, these records do not go through [`super::StoreWriter`]: an upload is noted
//! from the web UI or the command line, which hold no writer, and must be durable before it
//! is reported done. Each note is one small transaction (see `accounts.rs` for why that is
//! safe beside the writer). Only a successful upload is noted, so a failed or cut one leaves
//! the watermark where it was and the next upload sends the same rows again (WiGLE drops
//! rows it already has).

use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use super::schema::{OBSERVATIONS, WIGLE_UPLOADS};
use super::{Fault, Store, StoreError, decode, encode};

/// One successful upload of a WiGLE file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WigleUpload {
    /// When WiGLE accepted it (Unix microseconds).
    pub time_us: i64,
    /// The observations it covered: seqs above `after_seq` up to and including `last_seq`
    /// (clients and sightings without a usable position in that range are not WiGLE rows).
    pub after_seq: u64,
    pub last_seq: u64,
    /// Rows in the file, and the size of the gzipped file sent.
    pub rows: u64,
    pub bytes: u64,
    /// The file name it was sent as.
    pub file_name: String,
    /// WiGLE's transaction id for the file, when its answer named one.
    pub trans_id: Option<String>,
    /// Whether the rows were donated (WiGLE's `donate=on`).
    pub donated: bool,
}

impl Store {
    /// The highest observation seq an upload to WiGLE has covered (0: none yet).
    pub fn wigle_watermark(&self) -> Result<u64, StoreError> {
        Ok(self.wigle_last_upload()?.map_or(0, |u| u.last_seq))
    }

    /// The newest upload record, if any.
    pub fn wigle_last_upload(&self) -> Result<Option<WigleUpload>, StoreError> {
        Ok(self.wigle_uploads(1)?.into_iter().next())
    }

    /// The newest `limit` uploads, newest first.
    pub fn wigle_uploads(&self, limit: usize) -> Result<Vec<WigleUpload>, StoreError> {
        self.read_wigle(|txn| {
            let t = txn.open_table(WIGLE_UPLOADS)?;
            let mut out = Vec::new();
            for entry in t.iter()?.rev().take(limit) {
                let (k, v) = entry?;
                out.push(decode("wigle_uploads", k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    /// How many observations are stored above `after_seq` (what an upload would look at).
    /// Counts keys only, decoding nothing.
    pub fn observations_after(&self, after_seq: u64) -> Result<u64, StoreError> {
        self.read_wigle(|txn| {
            let t = txn.open_table(OBSERVATIONS)?;
            if after_seq == 0 {
                return Ok(t.len()?);
            }
            let mut n = 0;
            for entry in t.range((Bound::Excluded(after_seq), Bound::Unbounded))? {
                entry?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Notes a successful upload, durably. Refuses a record that does not continue from the
    /// current watermark (another upload got there first), so the watermark only ever moves
    /// up and records never overlap; returns whether it was noted.
    pub fn note_wigle_upload(&self, upload: &WigleUpload) -> Result<bool, StoreError> {
        self.write_small(|txn| {
            let mut t = txn.open_table(WIGLE_UPLOADS)?;
            let last = match t.last()? {
                Some((k, v)) => Some((
                    k.value(),
                    decode::<WigleUpload>("wigle_uploads", k.value(), v.value())?,
                )),
                None => None,
            };
            let (next, watermark) = last.map_or((1, 0), |(k, u)| (k + 1, u.last_seq));
            if upload.after_seq != watermark || upload.last_seq <= upload.after_seq {
                return Ok(false);
            }
            let bytes = encode("wigle_uploads", next, upload)?;
            t.insert(next, bytes.as_slice())?;
            Ok(true)
        })
    }

    /// A read that treats a missing table as empty (a file opened by an older build
    /// mid-flight; [`Store::open`] creates it otherwise).
    fn read_wigle<T: Default>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, Fault>,
    ) -> Result<T, StoreError> {
        use redb::ReadableDatabase as _;
        let run = || -> Result<T, Fault> {
            let txn = self.db().begin_read()?;
            match f(&txn) {
                Err(Fault::Redb(redb::Error::TableDoesNotExist(_))) => Ok(T::default()),
                other => other,
            }
        };
        run().map_err(|e| e.at(self.path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(after_seq: u64, last_seq: u64) -> WigleUpload {
        WigleUpload {
            time_us: 1_700_000_000_000_000,
            after_seq,
            last_seq,
            rows: last_seq - after_seq,
            bytes: 100,
            file_name: "piwardrive-0011aabb-20231114T221320Z.csv.gz".into(),
            trans_id: Some("20231114-00001".into()),
            donated: false,
        }
    }

    #[test]
    fn the_watermark_moves_only_up_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.wigle_watermark().unwrap(), 0);
        assert!(store.wigle_uploads(10).unwrap().is_empty());
        assert!(store.note_wigle_upload(&upload(0, 10)).unwrap());
        // Not continuing from 10: refused (a concurrent upload, or a stale plan).
        assert!(!store.note_wigle_upload(&upload(0, 12)).unwrap());
        assert!(!store.note_wigle_upload(&upload(5, 12)).unwrap());
        assert!(!store.note_wigle_upload(&upload(10, 10)).unwrap());
        assert!(store.note_wigle_upload(&upload(10, 25)).unwrap());
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.wigle_watermark().unwrap(), 25);
        let all = store.wigle_uploads(10).unwrap();
        assert_eq!(all, vec![upload(10, 25), upload(0, 10)]);
        assert_eq!(store.wigle_uploads(1).unwrap(), vec![upload(10, 25)]);
    }
}
