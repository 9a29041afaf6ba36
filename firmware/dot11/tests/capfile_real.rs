//! The capture reader against the real test captures: record counts and cut-off files as capinfos reports them.

use piwardrive_dot11::capfile::{CapErrorKind, CapReader};
use std::path::PathBuf;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/pcap")
        .join(name)
}

/// (file, records, cut short) as printed by `capinfos -c -M FILE` (Wireshark 4.0.17).
const CAPINFOS: &[(&str, u64, bool)] = &[
    ("aircrack_n-02.cap", 218, false),
    ("aircrack_pmkid-not-recognized.cap", 20056, true),
    ("aircrack_wpa_prism.cap", 13, false),
    ("wifite2_handshake_not_exists.cap", 1112, false),
    ("aircrack_test1.pcap", 192, false),
    ("aircrack_wpa3-psk.pcap", 24, false),
    ("edge/aircrack_80211ad_beacon.pcap", 1, false),
    ("edge/aircrack_Chinese-SSID-Name.pcap", 1, false),
    ("edge/scapy_bad_rsn_parsing_overrides_ssid.pcap", 1, true),
    ("edge/tcpdump_ieee802.11_exthdr.pcap", 26, false),
    ("edge/tcpdump_ieee802.11_htc.pcap", 1, false),
    ("edge/tcpdump_ieee802.11_meshid.pcap", 3, false),
    ("edge/tcpdump_ieee802.11_parse_elements_oobr.pcap", 1, false),
    ("edge/tcpdump_radiotap-heapoverflow.pcap", 1, false),
    ("edge/zeek_radiotap.pcap", 3, false),
];

#[test]
fn record_counts_match_capinfos() {
    for &(name, want, cut) in CAPINFOS {
        let bytes = std::fs::read(testdata(name)).unwrap();
        let mut r = CapReader::new(&bytes[..]).unwrap();
        let mut n = 0u64;
        let mut last_end = 0u64;
        let mut err = None;
        while let Some(rec) = r.next_record() {
            match rec {
                Ok(rec) => {
                    n += 1;
                    assert!(rec.offset >= last_end, "{name}: offsets go forward");
                    last_end = rec.offset + 16 + rec.data.len() as u64;
                }
                Err(e) => err = Some(e),
            }
        }
        assert_eq!(n, want, "{name}: records");
        match err {
            Some(e) => {
                assert!(cut, "{name}: unexpected error {e}");
                assert!(matches!(e.kind, CapErrorKind::Truncated), "{name}: {e}");
                // The broken record starts right after the last good one and before the end.
                assert_eq!(e.offset, last_end, "{name}");
                assert!(e.offset < bytes.len() as u64, "{name}");
            }
            None => assert!(!cut, "{name}: the cut-off record was not reported"),
        }
    }
}
