//! Accounts of the web UI and the API: roles, argon2id password hashes, API tokens and the randomness behind them.
//!
//! The pieces that the web UI, the command line (`piwardrive user`, `piwardrive token`) and
//! the demo share. Persistence is the store's ([`crate::store::Store::put_user`] and
//! friends); sessions, the login limiter and the access rules are the web UI's
//! (`web::auth`).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The account `piwardrive user passwd` and `[web] admin_password` set by default, and the
/// one `/setup` creates.
pub const ADMIN: &str = "admin";

/// Shortest password accepted when one is set (config, setup page, command line).
pub const MIN_PASSWORD_LEN: usize = 8;

/// What an account or a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: reading, changing state, the admin pages.
    Admin,
    /// Read-only: every page and API read except the admin pages; no state-changing request.
    Viewer,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            _ => Err(format!("{s:?} is not a role: admin or viewer")),
        }
    }
}

/// A stored account. The password is only ever kept as an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub role: Role,
    /// `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
    pub password_hash: String,
    /// Unix microseconds.
    pub created_us: i64,
    pub updated_us: i64,
}

/// A stored API token. The token itself is never stored: the store's key is its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Unique; what `token list` shows and `token revoke` takes.
    pub name: String,
    pub role: Role,
    /// Unix microseconds.
    pub created_us: i64,
    /// Updated at most once a minute (see `web::auth`), so a busy script does not write the
    /// store on every request.
    pub last_used_us: Option<i64>,
}

/// Account and token names: short and plain, so that they print safely in a terminal and
/// in a page alike.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the system's random number source failed: {0}")]
    Random(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the password is too short: use at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
}

/// Fills `buf` from the kernel's random source (getrandom(2)).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AccountError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(buf)
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The inverse of [`to_hex`] for exactly `N` bytes.
pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(s[2 * i])? << 4 | nibble(s[2 * i + 1])?;
    }
    Some(out)
}

/// Compares two byte strings in time that depends only on their lengths, so that a CSRF
/// token cannot be guessed byte by byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The hasher: argon2id with OWASP's minimum recommendation, m = 19 MiB, t = 2, p = 1.
///
/// Sized for a Pi Zero 2 W (512 MB RAM, four slow cores): one hash takes a few hundred
/// milliseconds there and 19 MiB of memory, which the web UI bounds by hashing at most two
/// passwords at a time. Verification reads the parameters from the stored PHC string, so
/// raising them later only affects new hashes.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a fresh random salt into a PHC string. Slow on purpose: call it
/// off the async workers.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AccountError::TooShort);
    }
    let hash = hasher()
        .hash_password(password.as_bytes())
        .map_err(|e| AccountError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC string `phc`; false for a mismatch or an unreadable
/// hash. As slow as [`hash_password`].
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password, verified against when a login names an unknown account, so
/// that the answer takes as long as for a known one and does not reveal which names exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("no-such-account-password")
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$invalid".to_owned())
    })
}

/// The prefix of every API token, so that one pasted into the wrong place is recognisable.
pub const TOKEN_PREFIX: &str = "pwt_";

/// A new API token: 256 random bits, as `pwt_` and 64 hex digits. Returns the token (shown
/// once) and the hash to store.
pub fn new_token() -> Result<(String, [u8; 32]), AccountError> {
    let token = format!("{TOKEN_PREFIX}{}", to_hex(&random_bytes::<32>()?));
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// What the store keeps of a token: its SHA-256.
///
/// A plain (fast, unsalted) hash is enough here, unlike for passwords: the token is 256
/// random bits, so there is no dictionary to try and no way to brute-force the preimage of a
/// hash; what the hash buys is that a copy of the store (a lost SD card) holds no usable
/// token. Being fast, it also lets every API request be checked without argon2's cost.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A random password for the demo: 16 characters from an alphabet without look-alikes
/// (about 90 bits).
pub fn random_password() -> Result<String, AccountError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<16>()?;
    // 256 is not a multiple of the alphabet's 55 letters; the slight bias of the modulo
    // costs a fraction of a bit over sixteen characters, which does not matter here.
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// Unix microseconds now, for the records' times.
pub fn now_us() -> i64 {
    crate::ingest::now_us()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsE", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        // A fresh salt every time.
        assert_ne!(phc, hash_password("correct horse").unwrap());
        assert!(matches!(
            hash_password("short"),
            Err(AccountError::TooShort)
        ));
    }

    #[test]
    fn tokens_are_256_random_bits_and_stored_hashed() {
        let (t, h) = new_token().unwrap();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(t.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(h, token_hash(&t));
        assert_ne!(new_token().unwrap().0, t);
        assert_eq!(from_hex::<32>(&to_hex(&h)), Some(h));
        assert_eq!(from_hex::<2>("zz00"), None);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
