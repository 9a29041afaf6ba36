//! Enrollment codes: a one-time secret plus a check that binds the code to the hub's certificate, so a device can refuse a man in the middle before it reveals the secret.
//!
//! A code is 16 characters of Crockford base32 (`0-9 A-Z` without `I L O U`; lower case, `I`
//! and `L` for `1`, `O` for `0`, spaces and dashes are accepted when typed), shown in four
//! groups: `7K3Q-M9XD-2AFH-TR4B`.
//!
//! - The first 10 characters are the **secret**: 50 random bits. The hub keeps only its
//!   SHA-256, for 10 minutes, and accepts it once.
//! - The last 6 are the **check**: the first 30 bits of
//!   `SHA-256("piwardrive enroll v1\0" || secret || SHA-256(hub certificate DER))`.
//!
//! The device computes the check from the certificate the server presents during the TLS
//! handshake and aborts the handshake when it differs, so the secret is only ever sent
//! (inside TLS) to the server whose certificate the code names; it then pins that
//! certificate's SHA-256. A man in the middle does not know the secret (it is on the hub's
//! screen and typed on the device, never sent before the check), so it cannot search for a
//! certificate that passes: each certificate it presents passes with probability 2^-30, and
//! each try costs it a refused enrollment the user sees. Guessing the secret against the hub
//! gets 2^-50 per try, with the hub withdrawing every open code after
//! [`super::MAX_FAILED_ENROLLS`] wrong ones.

use sha2::{Digest as _, Sha256};

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of the secret part (5 bits each: 50 bits).
pub const SECRET_CHARS: usize = 10;
/// Characters of the certificate check (30 bits).
pub const CHECK_CHARS: usize = 6;
pub const CODE_CHARS: usize = SECRET_CHARS + CHECK_CHARS;

/// A parsed code: its secret part and its check, both canonical upper-case base32.
#[derive(Clone, PartialEq, Eq)]
pub struct Code {
    secret: String,
    check: String,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        write!(f, "Code(<secret>, check {})", self.check)
    }
}

/// The check of `secret` against a certificate fingerprint (SHA-256 of its DER).
pub fn check(secret: &str, cert_sha256: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"piwardrive enroll v1\0");
    h.update(secret.as_bytes());
    h.update(cert_sha256);
    let d: [u8; 32] = h.finalize().into();
    // The first 30 bits, 5 at a time.
    let bits = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    (0..CHECK_CHARS)
        .map(|i| ALPHABET[((bits >> (59 - 5 * i)) & 31) as usize] as char)
        .collect()
}

impl Code {
    /// A new code for the hub whose certificate has fingerprint `cert_sha256`.
    pub fn generate(cert_sha256: &[u8; 32]) -> Result<Code, crate::accounts::AccountError> {
        let random = crate::accounts::random_bytes::<SECRET_CHARS>()?;
        // One byte per character, its low 5 bits: uniform over the alphabet.
        let secret: String = random
            .iter()
            .map(|b| ALPHABET[usize::from(b & 31)] as char)
            .collect();
        let check = check(&secret, cert_sha256);
        Ok(Code { secret, check })
    }

    /// Reads a code as a user typed it. The error says what is wrong with it.
    pub fn parse(typed: &str) -> Result<Code, String> {
        let mut chars = String::with_capacity(CODE_CHARS);
        for c in typed.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(format!(
                    "the enrollment code has a character that is not in it ({:?}): copy it \
                     again from the hub's Devices page",
                    c
                ));
            }
            chars.push(c);
        }
        if chars.len() != CODE_CHARS {
            return Err(format!(
                "the enrollment code has {} letters and digits; it has {CODE_CHARS} \
                 (like 7K3Q-M9XD-2AFH-TR4B)",
                chars.len()
            ));
        }
        let (secret, check) = chars.split_at(SECRET_CHARS);
        Ok(Code {
            secret: secret.to_owned(),
            check: check.to_owned(),
        })
    }

    /// The code as shown: four groups of four.
    pub fn display(&self) -> String {
        let all = format!("{}{}", self.secret, self.check);
        all.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The secret part, which the device sends to the hub once the certificate passed.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Whether the certificate with fingerprint `cert_sha256` is the one this code names.
    pub fn names(&self, cert_sha256: &[u8; 32]) -> bool {
        crate::accounts::constant_time_eq(
            check(&self.secret, cert_sha256).as_bytes(),
            self.check.as_bytes(),
        )
    }
}

/// What the hub keeps of a secret: its SHA-256.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_names_its_certificate_only_and_reads_back_as_typed() {
        let fp = [7u8; 32];
        let other = {
            let mut o = fp;
            o[31] ^= 1;
            o
        };
        let code = Code::generate(&fp).unwrap();
        let shown = code.display();
        assert_eq!(shown.len(), 19, "{shown}");
        assert_eq!(shown.matches('-').count(), 3);
        assert!(code.names(&fp));
        assert!(!code.names(&other));
        // Typed back in lower case, without dashes, with O and I for 0 and 1.
        let typed = shown
            .to_lowercase()
            .replace('-', " ")
            .replace('0', "o")
            .replace('1', "i");
        assert_eq!(Code::parse(&typed).unwrap(), code);
        assert!(
            Code::parse(&shown[..18])
                .unwrap_err()
                .contains("15 letters")
        );
        assert!(
            Code::parse("7K3Q-M9XD-2AFH-TR4U")
                .unwrap_err()
                .contains("'U'")
        );
        // A fresh secret every time.
        assert_ne!(Code::generate(&fp).unwrap().secret(), code.secret());
    }

    /// The check is 30 bits of SHA-256, computed here independently of `check`'s bit
    /// slicing: base32 of the first bits, through a plain bit string.
    #[test]
    fn the_check_is_the_first_30_bits_of_the_hash() {
        let fp = [0xabu8; 32];
        let mut h = Sha256::new();
        h.update(b"piwardrive enroll v1\0ABCDEFGHJK");
        h.update(fp);
        let d = h.finalize();
        let bits: String = d.iter().map(|b| format!("{b:08b}")).collect();
        let want: String = (0..6)
            .map(|i| {
                let v = usize::from_str_radix(&bits[5 * i..5 * i + 5], 2).unwrap();
                ALPHABET[v] as char
            })
            .collect();
        assert_eq!(check("ABCDEFGHJK", &fp), want);
    }
}
