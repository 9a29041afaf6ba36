//! Store reads for the UI's summaries: counts over the indexes, without decoding records.

use super::Store;
use super::StoreError;
use super::schema::APS_BY_FIRST_SEEN;
use crate::model::TimeUs;

impl Store {
    /// How many APs were first seen at or after `since` (a range of the first-seen index).
    pub fn aps_first_seen_since(&self, since: TimeUs) -> Result<u64, StoreError> {
        self.read(|txn| {
            let idx = txn.open_table(APS_BY_FIRST_SEEN)?;
            let mut n = 0u64;
            for entry in idx.range((since, 0u64)..)? {
                entry?;
                n += 1;
            }
            Ok(n)
        })
    }
}
