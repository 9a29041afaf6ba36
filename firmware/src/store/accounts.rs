//! Accounts and API tokens in the store: reads, and the small write transactions that change them.
//!
//! Exception to "one writer": account changes do not go through [`super::StoreWriter`]. They
//! are rare (a password set, a token created or revoked, a token's last use noted at most once
//! a minute), they come from the web UI or the command line, which hold no writer, and each
//! must be durable before it is reported done. Each commits its own small transaction from
//! the caller's thread (the web UI calls from the blocking pool). redb runs one write
//! transaction at a time, so such a commit waits for at most one group commit of the writer
//! and never mixes with a batch; nothing else in the writer's tables is touched.

use redb::{Durability, ReadTransaction, ReadableTable, TableError, WriteTransaction};

use super::schema::{API_TOKENS, USERS};
use super::{Fault, Store, StoreError, decode, encode};
use crate::accounts::{TokenRecord, UserRecord};

/// A hash as a key in messages (its first bytes are enough to tell tokens apart).
fn hash_key(hash: &[u8]) -> String {
    crate::accounts::to_hex(&hash[..hash.len().min(4)])
}

impl Store {
    /// Runs `f` in a write transaction of its own and commits it durably.
    pub(super) fn write_small<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, Fault>,
    ) -> Result<T, StoreError> {
        let run = || -> Result<T, Fault> {
            let mut txn = self.db().begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            txn.set_quick_repair(true);
            let out = f(&txn)?;
            txn.commit()?;
            Ok(out)
        };
        run().map_err(|e| e.at(self.path()))
    }

    /// A read that treats a missing accounts table as empty: [`Store::open`] creates the
    /// tables, so this only matters for a file opened by something older mid-flight, but a
    /// login page is no place to fail on it.
    pub(super) fn read_accounts<T: Default>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, Fault>,
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

    /// Every account, in name order.
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(USERS))?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push(decode("users", k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(USERS))?;
            let v = t.get(name)?;
            v.map(|v| decode("users", name, v.value())).transpose()
        })
    }

    /// True when an account with the admin role exists.
    pub fn has_admin(&self) -> Result<bool, StoreError> {
        Ok(self
            .users()?
            .iter()
            .any(|u| u.role == crate::accounts::Role::Admin))
    }

    /// Creates or replaces the account `user.name`.
    pub fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.write_small(|txn| {
            let bytes = encode("users", &user.name, user)?;
            txn.open_table(USERS)?
                .insert(user.name.as_str(), bytes.as_slice())?;
            Ok(())
        })
    }

    /// Removes an account; false when there was none.
    pub fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        self.write_small(|txn| Ok(txn.open_table(USERS)?.remove(name)?.is_some()))
    }

    /// Every token (its record; the hashes stay inside), in name order.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(API_TOKENS))?;
            let mut out: Vec<TokenRecord> = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push(decode("api_tokens", hash_key(k.value()), v.value())?);
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    /// The token whose SHA-256 is `hash`, if it exists (revoked tokens are deleted).
    pub fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.read_accounts(|txn| {
            let t = open_read(txn.open_table(API_TOKENS))?;
            let v = t.get(hash.as_slice())?;
            v.map(|v| decode("api_tokens", hash_key(hash), v.value()))
                .transpose()
        })
    }

    /// Stores a new token under its hash. Fails with [`StoreError::Exists`] when a token of
    /// that name exists, so that `revoke NAME` always means one token.
    pub fn add_token(&self, hash: &[u8; 32], token: &TokenRecord) -> Result<(), StoreError> {
        let taken = self.write_small(|txn| {
            let mut t = txn.open_table(API_TOKENS)?;
            for entry in t.iter()? {
                let (k, v) = entry?;
                let r: TokenRecord = decode("api_tokens", hash_key(k.value()), v.value())?;
                if r.name == token.name {
                    return Ok(true);
                }
            }
            let bytes = encode("api_tokens", &token.name, token)?;
            t.insert(hash.as_slice(), bytes.as_slice())?;
            Ok(false)
        })?;
        if taken {
            return Err(StoreError::Exists {
                path: self.path().to_path_buf(),
                what: format!("an API token named {:?}", token.name),
            });
        }
        Ok(())
    }

    /// Deletes the token named `name`: it stops working at once. False when there was none.
    pub fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.write_small(|txn| {
            let mut t = txn.open_table(API_TOKENS)?;
            let mut found = None;
            for entry in t.iter()? {
                let (k, v) = entry?;
                let r: TokenRecord = decode("api_tokens", hash_key(k.value()), v.value())?;
                if r.name == name {
                    found = Some(k.value().to_vec());
                    break;
                }
            }
            match found {
                Some(key) => {
                    t.remove(key.as_slice())?;
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    /// Notes that the token `hash` was used at `now_us` (if it still exists).
    pub fn touch_token(&self, hash: &[u8; 32], now_us: i64) -> Result<(), StoreError> {
        self.write_small(|txn| {
            let mut t = txn.open_table(API_TOKENS)?;
            let old = t.get(hash.as_slice())?.map(|v| v.value().to_vec());
            if let Some(old) = old {
                let mut r: TokenRecord = decode("api_tokens", hash_key(hash), &old)?;
                r.last_used_us = Some(now_us);
                let bytes = encode("api_tokens", &r.name, &r)?;
                t.insert(hash.as_slice(), bytes.as_slice())?;
            }
            Ok(())
        })
    }
}

/// Turns "table does not exist" into the error [`Store::read_accounts`] maps to empty.
pub(super) fn open_read<T>(r: Result<T, TableError>) -> Result<T, Fault> {
    r.map_err(|e| Fault::Redb(e.into()))
}
