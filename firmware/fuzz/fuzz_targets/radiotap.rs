//! Fuzzes the radiotap parser and `link::decode_link` under every link type on arbitrary bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use piwardrive_dot11::fcs;
use piwardrive_dot11::link::{self, FcsStatus, LinkType, MAX_ANTENNAS};
use piwardrive_dot11::radiotap::{self, Header, Radiotap};
use piwardrive_fuzz::{LINK_TYPES, assert_suffix};

fuzz_target!(|data: &[u8]| {
    check_radiotap(data);
    for lt in LINK_TYPES {
        check_link(lt, data);
    }
});

/// The radiotap parser's own invariants, independent of the link layer.
fn check_radiotap(data: &[u8]) {
    let checked = Header::new_checked(data);
    let parsed = radiotap::parse(data);
    // `parse` is `new_checked` followed by `Radiotap::parse`: a header the length check
    // rejects can never parse.
    if checked.is_err() {
        assert!(
            parsed.is_err(),
            "radiotap::parse accepted a header check_len rejects"
        );
    }
    let Ok((rt, payload)) = parsed else {
        return;
    };
    let header = checked.expect("a parsed header passed check_len");
    // The frame starts exactly where the stated header length says and runs to the end.
    let start = assert_suffix(data, payload, "radiotap payload");
    assert_eq!(
        start,
        header.header_len(),
        "payload does not start at it_len"
    );
    assert_eq!(usize::from(rt.header_len), header.header_len());
    assert!(
        usize::from(rt.header_len) >= 8,
        "radiotap header shorter than its fixed part"
    );
    assert_eq!(rt.present, header.present());
    assert!(
        rt.present_words >= 1,
        "a parsed header has at least one presence word"
    );
    // Presence words live inside the header, four bytes each after the fixed 4-byte prefix.
    assert!(
        4 + 4 * usize::from(rt.present_words) <= usize::from(rt.header_len),
        "more presence words than the header holds"
    );
    assert!(usize::from(rt.antenna_count) <= MAX_ANTENNAS);
    // Parsing the same bytes through the view must give the same values: the parser is a
    // pure function of the header.
    assert_eq!(Radiotap::parse(&header).ok(), Some(rt));
    if rt.fcs_at_end() {
        assert!(rt.flags.is_some());
    }
    if let Some(f) = rt.freq_mhz() {
        assert_ne!(f, 0, "frequency 0 means unknown and must read as None");
    }
}

/// `decode_link`'s contract: the frame it returns is the tail of the record (less the FCS
/// when the header announces one), and the FCS verdict is the CRC's.
fn check_link(lt: LinkType, data: &[u8]) {
    assert_eq!(LinkType::from_dlt(lt.dlt()), Some(lt), "DLT round trip");
    let cap = match link::decode_link(lt, data) {
        Ok(cap) => cap,
        Err(e) => {
            // A bare 802.11 record has no header to reject.
            assert_ne!(
                lt,
                LinkType::Ieee80211,
                "decode_link rejected a bare frame: {e}"
            );
            return;
        }
    };
    assert!(usize::from(cap.radio.antenna_count) <= MAX_ANTENNAS);
    if lt == LinkType::Ieee80211 {
        assert_eq!(cap.frame, data, "a bare 802.11 record is its own frame");
        assert_eq!(cap.fcs, FcsStatus::Absent);
        assert_eq!(
            cap.radio,
            Default::default(),
            "a bare frame carries no radio info"
        );
        return;
    }
    match cap.fcs {
        FcsStatus::Absent => {
            assert!(!cap.radio.fcs_at_end, "FCS announced but not checked");
            assert_suffix(data, cap.frame, "link frame");
        }
        FcsStatus::Good | FcsStatus::Bad => {
            assert!(cap.radio.fcs_at_end, "FCS checked but not announced");
            let start = assert_suffix(&data[..data.len() - 4], cap.frame, "link frame");
            let with_fcs = &data[start..];
            assert_eq!(with_fcs.len(), cap.frame.len() + 4);
            assert_eq!(
                cap.fcs == FcsStatus::Good,
                fcs::check(with_fcs),
                "FCS verdict disagrees with the CRC"
            );
        }
    }
}
