//! Security classification (OPEN, WEP, WPA, WPA2, WPA3, OWE) as the truth files define it.
//!
//! The classification is a function of three ingredients unioned over all of a BSSID's
//! beacons and probe responses: the Privacy capability bit, whether any frame carried a WPA
//! element, and the set of RSN AKM suite types. [`SecuritySummary`] holds that union (plus
//! the detail needed for display and for WiGLE's AuthMode column) and merges frame by frame.

use core::fmt;

use crate::frame::CapabilityInfo;
use crate::ie::BssElements;

/// A set of security classes. A classified network is either exactly `OPEN`, exactly `WEP`,
/// or a non-empty mix of `WPA`, `WPA2`, `WPA3` and `OWE` (WPA/WPA2 mixed mode, WPA2/WPA3
/// transition mode, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EncClass(pub u8);

impl EncClass {
    pub const OPEN: EncClass = EncClass(1 << 0);
    pub const WEP: EncClass = EncClass(1 << 1);
    pub const WPA: EncClass = EncClass(1 << 2);
    pub const WPA2: EncClass = EncClass(1 << 3);
    pub const WPA3: EncClass = EncClass(1 << 4);
    pub const OWE: EncClass = EncClass(1 << 5);

    pub fn contains(&self, other: EncClass) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn bits(&self) -> u8 {
        self.0
    }
}

impl core::ops::BitOr for EncClass {
    type Output = EncClass;
    fn bitor(self, rhs: EncClass) -> EncClass {
        EncClass(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for EncClass {
    fn bitor_assign(&mut self, rhs: EncClass) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for EncClass {
    /// `OPEN`, `WEP`, or the classes joined by `/` in the order WPA, WPA2, WPA3, OWE.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (c, name) in [
            (EncClass::OPEN, "OPEN"),
            (EncClass::WEP, "WEP"),
            (EncClass::WPA, "WPA"),
            (EncClass::WPA2, "WPA2"),
            (EncClass::WPA3, "WPA3"),
            (EncClass::OWE, "OWE"),
        ] {
            if self.contains(c) {
                if !first {
                    f.write_str("/")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

const fn bits(types: &[u8]) -> u32 {
    let mut m = 0;
    let mut i = 0;
    while i < types.len() {
        m |= 1 << types[i];
        i += 1;
    }
    m
}

/// RSN AKM types that make a network WPA2.
pub const WPA2_AKMS: u32 = bits(&[1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 19, 20]);
/// RSN AKM types that make a network WPA3 (SAE, Suite B, FT-802.1X-SHA384, SAE-EXT-KEY).
pub const WPA3_AKMS: u32 = bits(&[8, 9, 11, 12, 13, 24, 25]);
/// RSN AKM type 18, Opportunistic Wireless Encryption.
pub const OWE_AKMS: u32 = bits(&[18]);

/// Classifies a network from the union of its frames' ingredients, exactly as
/// `tools/groundtruth.py`'s `enc_class` does:
/// - a WPA element gives WPA;
/// - any RSN AKM gives WPA2 when one is a WPA2 AKM, or when none is a WPA3 or OWE AKM (so
///   an unknown AKM still counts as WPA2); WPA3 AKMs add WPA3 and AKM 18 adds OWE;
/// - an RSN element without AKMs gives nothing by itself;
/// - with no class so far, the privacy bit gives WEP, else OPEN.
///
/// `rsn_akms` has bit n set for AKM suite type n, as tshark's `wlan.rsn.akms.type` lists them
/// (see [`crate::ie::Rsn::akm_types`]); a type of 32 or more is passed as bit 0, which lands
/// in the "unknown AKM" case exactly as the script's integer set would.
pub fn classify(privacy: bool, wpa_present: bool, rsn_akms: u32) -> EncClass {
    let mut c = EncClass::default();
    if wpa_present {
        c |= EncClass::WPA;
    }
    if rsn_akms != 0 {
        let wpa3 = rsn_akms & WPA3_AKMS != 0;
        let owe = rsn_akms & OWE_AKMS != 0;
        if rsn_akms & WPA2_AKMS != 0 || !(wpa3 || owe) {
            c |= EncClass::WPA2;
        }
        if wpa3 {
            c |= EncClass::WPA3;
        }
        if owe {
            c |= EncClass::OWE;
        }
    }
    if c.0 == 0 {
        c = if privacy {
            EncClass::WEP
        } else {
            EncClass::OPEN
        };
    }
    c
}

/// The truth files' name for an RSN AKM suite type (00-0F-AC:n).
pub fn akm_name(akm: u8) -> Option<&'static str> {
    Some(match akm {
        1 => "802.1X",
        2 => "PSK",
        3 => "FT-802.1X",
        4 => "FT-PSK",
        5 => "802.1X-SHA256",
        6 => "PSK-SHA256",
        7 => "TDLS",
        8 => "SAE",
        9 => "FT-SAE",
        10 => "APPeerKey",
        11 => "802.1X-SuiteB",
        12 => "802.1X-SuiteB-192",
        13 => "FT-802.1X-SHA384",
        14 => "FILS-SHA256",
        15 => "FILS-SHA384",
        16 => "FT-FILS-SHA256",
        17 => "FT-FILS-SHA384",
        18 => "OWE",
        19 => "FT-PSK-SHA384",
        20 => "PSK-SHA384",
        24 => "SAE-EXT-KEY",
        25 => "FT-SAE-EXT-KEY",
        _ => return None,
    })
}

/// The truth files' name for a cipher suite type (00-0F-AC:n; WPA's 00-50-F2 uses the same
/// numbers for WEP40, TKIP, CCMP and WEP104).
pub fn cipher_name(cipher: u8) -> Option<&'static str> {
    Some(match cipher {
        1 => "WEP40",
        2 => "TKIP",
        4 => "CCMP",
        5 => "WEP104",
        6 => "BIP-CMAC",
        7 => "NoGroup",
        8 => "GCMP",
        9 => "GCMP-256",
        10 => "CCMP-256",
        _ => return None,
    })
}

/// Writes the set bits of `set` as names joined by `sep`, in ascending type order, falling
/// back to the number for a type without a name (as the truth script does).
pub struct SuiteList {
    pub set: u32,
    pub names: fn(u8) -> Option<&'static str>,
    pub sep: &'static str,
}

impl fmt::Display for SuiteList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for t in 0..32u8 {
            if self.set & (1 << t) == 0 {
                continue;
            }
            if !first {
                f.write_str(self.sep)?;
            }
            first = false;
            match (self.names)(t) {
                Some(n) => f.write_str(n)?,
                None => write!(f, "{t}")?,
            }
        }
        Ok(())
    }
}

/// The truth files' `rsn_akms` column for an AKM bitset, e.g. `PSK,SAE`.
pub fn akm_list(akms: u32) -> SuiteList {
    SuiteList {
        set: akms,
        names: akm_name,
        sep: ",",
    }
}

/// The truth files' `rsn_pairwise` column for a cipher bitset, e.g. `TKIP,CCMP`.
pub fn cipher_list(ciphers: u32) -> SuiteList {
    SuiteList {
        set: ciphers,
        names: cipher_name,
        sep: ",",
    }
}

/// Everything about a BSS's security, unioned over its beacons and probe responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecuritySummary {
    pub privacy: bool,
    pub ess: bool,
    pub ibss: bool,
    /// A WPA (00-50-F2 type 1) element was seen.
    pub wpa: bool,
    /// WPA AKMs (00-50-F2:1 = 802.1X, :2 = PSK, the same numbers as RSN) and unicast ciphers.
    pub wpa_akms: u32,
    pub wpa_ciphers: u32,
    /// An RSN element was seen.
    pub rsn: bool,
    /// RSN AKM types as tshark lists them (any OUI; bit 0 stands for types of 32 or more).
    pub rsn_akms: u32,
    /// RSN pairwise cipher types as tshark lists them.
    pub rsn_pairwise: u32,
    pub rsn_group: u32,
    pub mfp_capable: bool,
    pub mfp_required: bool,
    pub wps: bool,
    /// WPS state 2 ("configured") was seen.
    pub wps_configured: bool,
}

impl SecuritySummary {
    /// The ingredients of one beacon or probe response.
    pub fn from_frame(cap: CapabilityInfo, e: &BssElements<'_>) -> SecuritySummary {
        let mut s = SecuritySummary {
            privacy: cap.privacy(),
            ess: cap.ess(),
            ibss: cap.ibss(),
            ..SecuritySummary::default()
        };
        if let Some(w) = e.wpa {
            s.wpa = true;
            s.wpa_akms = w.akms;
            s.wpa_ciphers = w.pairwise;
        }
        if let Some(r) = e.rsn {
            s.rsn = true;
            // Classification follows tshark's reading, which takes the suite type whatever
            // the OUI (see `Rsn::akm_types`).
            s.rsn_akms = r.akm_types;
            s.rsn_pairwise = r.pairwise_types;
            s.rsn_group = r
                .group_cipher(crate::ie::OUI_IEEE80211)
                .filter(|g| *g < 32)
                .map_or(0, |g| 1 << g);
            s.mfp_capable = r.mfp_capable();
            s.mfp_required = r.mfp_required();
        }
        if let Some(w) = e.wps {
            s.wps = true;
            s.wps_configured = w.configured();
        }
        s
    }

    /// Unions another frame's ingredients into this one.
    pub fn merge(&mut self, o: &SecuritySummary) {
        self.privacy |= o.privacy;
        self.ess |= o.ess;
        self.ibss |= o.ibss;
        self.wpa |= o.wpa;
        self.wpa_akms |= o.wpa_akms;
        self.wpa_ciphers |= o.wpa_ciphers;
        self.rsn |= o.rsn;
        self.rsn_akms |= o.rsn_akms;
        self.rsn_pairwise |= o.rsn_pairwise;
        self.rsn_group |= o.rsn_group;
        self.mfp_capable |= o.mfp_capable;
        self.mfp_required |= o.mfp_required;
        self.wps |= o.wps;
        self.wps_configured |= o.wps_configured;
    }

    pub fn enc_class(&self) -> EncClass {
        classify(self.privacy, self.wpa, self.rsn_akms)
    }

    /// WiGLE's AuthMode column, in the Android `ScanResult.capabilities` style the WiGLE app
    /// writes: `[WPA-PSK-TKIP+CCMP][WPA2-PSK-CCMP][ESS]`, `[RSN-SAE-CCMP][ESS]`, `[WEP][ESS]`,
    /// `[ESS]`. WPA2-era AKMs go in a `[WPA2-...]` block and WPA3/OWE AKMs in an `[RSN-...]`
    /// block (both for a transition-mode network), which is what WiGLE's own classifier keys
    /// on (`[WPA3`/`SAE`/`OWE` over `[WPA2`/`[RSN` over `[WPA-` over `[WEP`).
    pub fn wigle_auth_mode(&self) -> WigleAuthMode {
        WigleAuthMode(*self)
    }
}

/// Android's key-management name for an AKM type, as `ScanResult.capabilities` spells it.
fn android_akm(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "EAP",
        2 => "PSK",
        3 => "FT/EAP",
        4 => "FT/PSK",
        5 => "EAP-SHA256",
        6 => "PSK-SHA256",
        8 => "SAE",
        9 => "FT/SAE",
        11 => "EAP_SUITE_B",
        12 => "EAP_SUITE_B_192",
        13 => "FT/EAP-SHA384",
        14 => "FILS-SHA256",
        15 => "FILS-SHA384",
        16 => "FT/FILS-SHA256",
        17 => "FT/FILS-SHA384",
        18 => "OWE",
        19 => "FT/PSK-SHA384",
        20 => "PSK-SHA384",
        24 => "SAE_EXT_KEY",
        25 => "FT/SAE_EXT_KEY",
        _ => return None,
    })
}

/// Android's cipher name for a cipher type.
fn android_cipher(t: u8) -> Option<&'static str> {
    Some(match t {
        1 | 5 => "WEP",
        2 => "TKIP",
        4 => "CCMP",
        8 => "GCMP-128",
        9 => "GCMP-256",
        10 => "CCMP-256",
        _ => return None,
    })
}

/// `Display` for [`SecuritySummary::wigle_auth_mode`].
pub struct WigleAuthMode(SecuritySummary);

impl WigleAuthMode {
    fn block(f: &mut fmt::Formatter<'_>, proto: &str, akms: u32, ciphers: u32) -> fmt::Result {
        write!(f, "[{proto}-")?;
        let mut wrote = false;
        for t in 0..32u8 {
            if akms & (1 << t) != 0
                && let Some(n) = android_akm(t)
            {
                if wrote {
                    f.write_str("+")?;
                }
                f.write_str(n)?;
                wrote = true;
            }
        }
        if !wrote {
            f.write_str("?")?;
        }
        let mut first = true;
        for t in 0..32u8 {
            if ciphers & (1 << t) != 0
                && let Some(n) = android_cipher(t)
            {
                f.write_str(if first { "-" } else { "+" })?;
                f.write_str(n)?;
                first = false;
            }
        }
        f.write_str("]")
    }
}

impl fmt::Display for WigleAuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        let class = s.enc_class();
        if class.contains(EncClass::WPA) {
            Self::block(f, "WPA", s.wpa_akms, s.wpa_ciphers)?;
        }
        if s.rsn_akms != 0 {
            let modern = s.rsn_akms & (WPA3_AKMS | OWE_AKMS);
            let legacy = s.rsn_akms & !modern;
            if legacy != 0 {
                Self::block(f, "WPA2", legacy, s.rsn_pairwise)?;
            }
            if modern != 0 {
                Self::block(f, "RSN", modern, s.rsn_pairwise)?;
            }
        }
        if class == EncClass::WEP {
            f.write_str("[WEP]")?;
        }
        if s.ess {
            f.write_str("[ESS]")?;
        }
        if s.ibss {
            f.write_str("[IBSS]")?;
        }
        if s.wps {
            f.write_str("[WPS]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn akms(types: &[u8]) -> u32 {
        types.iter().fold(0, |m, t| m | 1 << t)
    }

    /// Every row of the truth script's `enc_class`, case by case.
    #[test]
    fn classify_like_groundtruth() {
        let c = |p, w, a: &[u8]| classify(p, w, akms(a)).to_string();
        assert_eq!(c(false, false, &[]), "OPEN");
        assert_eq!(c(true, false, &[]), "WEP");
        assert_eq!(c(true, true, &[]), "WPA");
        assert_eq!(c(true, true, &[2]), "WPA/WPA2");
        assert_eq!(c(true, false, &[6]), "WPA2");
        assert_eq!(c(true, false, &[8]), "WPA3");
        assert_eq!(c(true, false, &[2, 8]), "WPA2/WPA3");
        assert_eq!(c(true, false, &[24]), "WPA3");
        assert_eq!(c(true, false, &[12]), "WPA3");
        assert_eq!(c(false, false, &[18]), "OWE");
        assert_eq!(c(true, false, &[8, 18]), "WPA3/OWE");
        // An AKM in no list (7 = TDLS, or bit 0 for "other") still gives WPA2.
        assert_eq!(c(true, false, &[7]), "WPA2");
        assert_eq!(c(true, false, &[0]), "WPA2");
        assert_eq!(c(true, true, &[2, 8, 18]), "WPA/WPA2/WPA3/OWE");
    }

    #[test]
    fn names_and_lists() {
        assert_eq!(akm_list(akms(&[2, 8])).to_string(), "PSK,SAE");
        assert_eq!(akm_list(akms(&[6])).to_string(), "PSK-SHA256");
        assert_eq!(akm_list(akms(&[21])).to_string(), "21");
        assert_eq!(cipher_list(akms(&[2, 4])).to_string(), "TKIP,CCMP");
        assert_eq!(cipher_name(9), Some("GCMP-256"));
        assert_eq!(akm_name(12), Some("802.1X-SuiteB-192"));
    }

    #[test]
    fn merge_is_a_union() {
        let mut a = SecuritySummary {
            privacy: true,
            ess: true,
            rsn: true,
            rsn_akms: akms(&[2]),
            rsn_pairwise: akms(&[4]),
            ..Default::default()
        };
        let b = SecuritySummary {
            wpa: true,
            wpa_akms: akms(&[2]),
            wpa_ciphers: akms(&[2, 4]),
            ..Default::default()
        };
        a.merge(&b);
        assert_eq!(a.enc_class().to_string(), "WPA/WPA2");
        assert_eq!(
            a.wigle_auth_mode().to_string(),
            "[WPA-PSK-TKIP+CCMP][WPA2-PSK-CCMP][ESS]"
        );
        let open = SecuritySummary {
            ess: true,
            ..Default::default()
        };
        assert_eq!(open.wigle_auth_mode().to_string(), "[ESS]");
        assert_eq!(open.enc_class(), EncClass::OPEN);
        let owe = SecuritySummary {
            ess: true,
            privacy: true,
            rsn: true,
            rsn_akms: akms(&[18]),
            rsn_pairwise: akms(&[4]),
            ..Default::default()
        };
        assert_eq!(owe.wigle_auth_mode().to_string(), "[RSN-OWE-CCMP][ESS]");
    }
}
