//! The hub's enrolled devices in the store: who they are, the SHA-256 of each one's token, when they enrolled and were last seen, and revocation.
//!
//! Like accounts (`accounts.rs`, which says why), these change rarely and commit their own
//! small durable transactions instead of going through the store writer: an enrollment, a
//! revocation, and the devices' last-seen times, which the hub keeps in memory and writes
//! at most once a minute and at shutdown.
//!
//! A device's token is never stored, only its SHA-256, as for API tokens: the tokens are 256
//! random bits, so a fast hash is enough to make a copy of the store useless to an attacker.
//! `hub_device_tokens` maps the hash of each device's *current* token to the device, so the
//! per-request lookup is one key read; enrolling again or revoking removes the old entry.

use redb::ReadableTable as _;
use serde::{Deserialize, Serialize};

use super::accounts::open_read;
use super::schema::{HUB_DEVICE_TOKENS, HUB_DEVICES};
use super::{Store, StoreError, decode, encode};

/// A device enrolled with this hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubDevice {
    /// The device's store id (`Store::device_id` on the device).
    pub id: [u8; 16],
    /// The name the device gave at enrollment (1 to 64 printable characters).
    pub name: String,
    /// SHA-256 of the device's current token; all zero once revoked.
    pub token_hash: [u8; 32],
    /// Unix microseconds of the latest enrollment.
    pub enrolled_us: i64,
    /// Unix microseconds of the last authorised request, as last written (the running hub
    /// holds newer times in memory).
    pub last_seen_us: Option<i64>,
    /// Set when the device's token was revoked; a new enrollment clears it.
    pub revoked_us: Option<i64>,
}

fn id_key(id: &[u8]) -> String {
    crate::accounts::to_hex(id)
}

impl Store {
    /// Every enrolled device (revoked ones too), by name, then id.
    pub fn hub_devices(&self) -> Result<Vec<HubDevice>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(HUB_DEVICES))?;
            let mut out: Vec<HubDevice> = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push(decode("hub_devices", id_key(k.value()), v.value())?);
            }
            out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            Ok(out)
        })
    }

    /// The device `id`, if it ever enrolled.
    pub fn hub_device(&self, id: &[u8; 16]) -> Result<Option<HubDevice>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(HUB_DEVICES))?;
            let v = t.get(id.as_slice())?;
            v.map(|v| decode("hub_devices", id_key(id), v.value()))
                .transpose()
        })
    }

    /// The device whose current token hashes to `hash`; `None` for an unknown, replaced or
    /// revoked token.
    pub fn hub_device_by_token(&self, hash: &[u8; 32]) -> Result<Option<HubDevice>, StoreError> {
        self.read_accounts(|txn| {
            let tokens = open_read(txn.open_table(HUB_DEVICE_TOKENS))?;
            let Some(id) = tokens.get(hash.as_slice())? else {
                return Ok(None);
            };
            let id = id.value().to_vec();
            let devices = open_read(txn.open_table(HUB_DEVICES))?;
            let Some(v) = devices.get(id.as_slice())? else {
                return Ok(None);
            };
            let d: HubDevice = decode("hub_devices", id_key(&id), v.value())?;
            // The index and the record are written together; check anyway.
            Ok((d.revoked_us.is_none() && d.token_hash == *hash).then_some(d))
        })
    }

    /// Enrolls device `id` with the token whose SHA-256 is `token_hash`: a new device, or
    /// one enrolling again, whose previous token stops working in the same transaction.
    pub fn enroll_hub_device(
        &self,
        id: &[u8; 16],
        name: &str,
        token_hash: &[u8; 32],
        now_us: i64,
    ) -> Result<HubDevice, StoreError> {
        self.write_small(|txn| {
            let mut devices = txn.open_table(HUB_DEVICES)?;
            let mut tokens = txn.open_table(HUB_DEVICE_TOKENS)?;
            let old: Option<HubDevice> = match devices.get(id.as_slice())? {
                Some(v) => Some(decode("hub_devices", id_key(id), v.value())?),
                None => None,
            };
            if let Some(old) = &old {
                tokens.remove(old.token_hash.as_slice())?;
            }
            let d = HubDevice {
                id: *id,
                name: name.to_owned(),
                token_hash: *token_hash,
                enrolled_us: now_us,
                last_seen_us: old.and_then(|o| o.last_seen_us),
                revoked_us: None,
            };
            let bytes = encode("hub_devices", id_key(id), &d)?;
            devices.insert(id.as_slice(), bytes.as_slice())?;
            tokens.insert(token_hash.as_slice(), id.as_slice())?;
            Ok(d)
        })
    }

    /// Revokes device `id`'s token: it stops working at once (the device keeps its record,
    /// marked revoked, until it enrolls again). False when no such device is enrolled or it
    /// was revoked already.
    pub fn revoke_hub_device(&self, id: &[u8; 16], now_us: i64) -> Result<bool, StoreError> {
        self.write_small(|txn| {
            let mut devices = txn.open_table(HUB_DEVICES)?;
            let mut tokens = txn.open_table(HUB_DEVICE_TOKENS)?;
            let mut d: HubDevice = match devices.get(id.as_slice())? {
                Some(v) => decode("hub_devices", id_key(id), v.value())?,
                None => return Ok(false),
            };
            if d.revoked_us.is_some() {
                return Ok(false);
            }
            tokens.remove(d.token_hash.as_slice())?;
            d.token_hash = [0; 32];
            d.revoked_us = Some(now_us);
            let bytes = encode("hub_devices", id_key(id), &d)?;
            devices.insert(id.as_slice(), bytes.as_slice())?;
            Ok(true)
        })
    }

    /// Writes the devices' last-seen times (later ones only), in one transaction.
    pub fn note_hub_devices_seen(&self, seen: &[([u8; 16], i64)]) -> Result<(), StoreError> {
        if seen.is_empty() {
            return Ok(());
        }
        self.write_small(|txn| {
            let mut devices = txn.open_table(HUB_DEVICES)?;
            for (id, t) in seen {
                let old = devices.get(id.as_slice())?.map(|v| v.value().to_vec());
                if let Some(old) = old {
                    let mut d: HubDevice = decode("hub_devices", id_key(id), &old)?;
                    if d.last_seen_us.is_none_or(|s| s < *t) {
                        d.last_seen_us = Some(*t);
                        let bytes = encode("hub_devices", id_key(id), &d)?;
                        devices.insert(id.as_slice(), bytes.as_slice())?;
                    }
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enroll_again_replaces_the_token_and_revoke_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let (a, b) = ([1u8; 16], [2u8; 16]);
        let (ta, ta2, tb) = ([10u8; 32], [11u8; 32], [20u8; 32]);
        store.enroll_hub_device(&a, "van", &ta, 100).unwrap();
        store.enroll_hub_device(&b, "bike", &tb, 200).unwrap();
        assert_eq!(store.hub_device_by_token(&ta).unwrap().unwrap().id, a);
        assert_eq!(
            store.hub_device_by_token(&tb).unwrap().unwrap().name,
            "bike"
        );
        store.note_hub_devices_seen(&[(a, 150), (b, 50)]).unwrap();
        // Enrolling again: the old token is dead, the new one works, last seen is kept.
        let d = store.enroll_hub_device(&a, "van2", &ta2, 300).unwrap();
        assert_eq!(d.last_seen_us, Some(150));
        assert!(store.hub_device_by_token(&ta).unwrap().is_none());
        assert_eq!(
            store.hub_device_by_token(&ta2).unwrap().unwrap().name,
            "van2"
        );
        // Earlier times never overwrite later ones.
        store.note_hub_devices_seen(&[(a, 140)]).unwrap();
        assert_eq!(
            store.hub_device(&a).unwrap().unwrap().last_seen_us,
            Some(150)
        );
        assert!(store.revoke_hub_device(&a, 400).unwrap());
        assert!(!store.revoke_hub_device(&a, 401).unwrap());
        assert!(!store.revoke_hub_device(&[9; 16], 401).unwrap());
        assert!(store.hub_device_by_token(&ta2).unwrap().is_none());
        assert!(store.hub_device_by_token(&tb).unwrap().is_some());
        let all = store.hub_devices().unwrap();
        assert_eq!(
            all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["bike", "van2"]
        );
        assert_eq!(all[1].revoked_us, Some(400));
        // Survives reopening.
        drop(store);
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        assert_eq!(store.hub_devices().unwrap(), all);
    }
}
