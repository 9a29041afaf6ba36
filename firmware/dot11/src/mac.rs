//! 48-bit IEEE MAC addresses.

use core::fmt;
use core::str::FromStr;

/// A 48-bit MAC address (BSSID, station or transmitter address).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Reads a MAC from the first six bytes of `b`; `None` when `b` is shorter.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        let a: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(a))
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Group (multicast or broadcast) address: the I/G bit is set.
    pub fn is_group(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Locally administered (the U/L bit is set): how phones mark randomised MACs.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The first three octets, for vendor lookup.
    pub fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }

    pub fn to_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        b[2..].copy_from_slice(&self.0);
        u64::from_be_bytes(b)
    }

    pub fn from_u64(v: u64) -> MacAddr {
        let b = v.to_be_bytes();
        MacAddr([b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

impl fmt::Display for MacAddr {
    /// Lowercase and colon-separated, as WiGLE and the truth files write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The text was not six hex octets separated by `:` or `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseMacError;

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected a MAC address like 00:11:22:aa:bb:cc")
    }
}

impl std::error::Error for ParseMacError {}

impl FromStr for MacAddr {
    type Err = ParseMacError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for o in out.iter_mut() {
            let p = parts.next().ok_or(ParseMacError)?;
            if p.len() != 2 {
                return Err(ParseMacError);
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| ParseMacError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError);
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let m: MacAddr = "F8:1A:67:e5:05:62".parse().unwrap();
        assert_eq!(m.to_string(), "f8:1a:67:e5:05:62");
        assert_eq!(MacAddr::from_u64(m.to_u64()), m);
        assert!("f8:1a:67:e5:05".parse::<MacAddr>().is_err());
        assert!("f8:1a:67:e5:05:62:00".parse::<MacAddr>().is_err());
        assert!("zz:1a:67:e5:05:62".parse::<MacAddr>().is_err());
    }

    #[test]
    fn bits() {
        assert!(MacAddr([0x02, 0, 0, 0, 0, 0]).is_local());
        assert!(!MacAddr([0x00, 0, 0, 0, 0, 0]).is_local());
        assert!(MacAddr::BROADCAST.is_group());
    }
}
