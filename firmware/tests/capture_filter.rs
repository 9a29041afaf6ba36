//! The wardrive BPF filter, run by libpcap itself on real capture files and compared with tshark's classification.
//!
//! The filter that runs on the appliance is compiled for radiotap (DLT 127). Files already
//! in radiotap are filtered as read; the bare 802.11 files (DLT 105), which hold the other
//! data and control frames, get a radiotap header put in front of each frame (two header
//! lengths, so the filter must read the length from the packet) and go through the
//! compiled program with libpcap's own interpreter (`pcap_offline_filter`). The live path
//! (the same program attached to a monitor socket) is exercised in the virtual device
//! (hil-tests/).

use piwardrive::capture::live::{CaptureFilter, DLT_RADIOTAP, WARDRIVE_FILTER, compile_filter};
use std::path::PathBuf;
use std::process::Command;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pcap")
        .join(name)
}

/// Every frame of a file, as read by libpcap.
fn frames(name: &str) -> Vec<Vec<u8>> {
    let mut cap = pcap::Capture::from_file(testdata(name)).expect("open capture file");
    let mut out = Vec::new();
    while let Ok(p) = cap.next_packet() {
        out.push(p.data.to_vec());
    }
    out
}

/// Frame numbers (1-based) that libpcap's compiled filter passes when reading the file.
fn passed_by_libpcap(name: &str) -> Vec<usize> {
    let all = frames(name);
    let mut cap = pcap::Capture::from_file(testdata(name)).unwrap();
    cap.filter(WARDRIVE_FILTER, true).expect("filter compiles");
    let mut passed = Vec::new();
    let mut cursor = 0;
    while let Ok(p) = cap.next_packet() {
        // Frames come back in file order; find this one's number.
        while all[cursor] != p.data {
            cursor += 1;
        }
        cursor += 1;
        passed.push(cursor);
    }
    passed
}

/// tshark's answer: frame numbers that are management frames or EAPOL.
/// `None` when tshark is not installed (the fixed expectations below still apply).
fn tshark_wanted(name: &str) -> Option<Vec<usize>> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(testdata(name))
        .args([
            "-Y",
            "wlan.fc.type == 0 || eapol",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
    )
}

/// A radiotap header of `extra` bytes of (fake) fields beyond the 8-byte fixed part,
/// announced through the TSFT/flags/rate/channel bits so that the length is consistent.
fn radiotap(extra: usize) -> Vec<u8> {
    let len = 8 + extra;
    let mut h = vec![0u8, 0, (len & 0xff) as u8, (len >> 8) as u8, 0, 0, 0, 0];
    h.extend(std::iter::repeat_n(0u8, extra));
    h
}

fn check_radiotap_file(name: &str, expect_passed: usize, expect_total: usize) {
    let all = frames(name);
    assert_eq!(all.len(), expect_total, "{name}: frame count");
    let passed = passed_by_libpcap(name);
    assert_eq!(passed.len(), expect_passed, "{name}: frames passed");
    if let Some(want) = tshark_wanted(name) {
        assert_eq!(passed, want, "{name}: libpcap's filter and tshark disagree");
    }
}

#[test]
fn wardrive_filter_passes_management_and_eapol_of_aircrack_test1() {
    // 147 management frames and 45 EAPOL frames: all pass.
    check_radiotap_file("aircrack_test1.pcap", 192, 192);
}

#[test]
fn wardrive_filter_drops_control_frames_of_wpa3_psk() {
    // 9 management frames and 4 EAPOL pass; 11 control frames (ACKs) do not.
    check_radiotap_file("aircrack_wpa3-psk.pcap", 13, 24);
}

#[test]
fn wardrive_filter_drops_plain_data_of_zeek_radiotap() {
    // Three unprotected data frames (QoS and plain), none EAPOL.
    check_radiotap_file("edge/zeek_radiotap.pcap", 0, 3);
}

/// The radiotap program on bare 802.11 files, re-wrapped in radiotap headers of two lengths.
fn check_wrapped(name: &str, expect_passed: usize) {
    let program = compile_filter(CaptureFilter::Wardrive, DLT_RADIOTAP)
        .expect("compiles for radiotap")
        .expect("wardrive has a program");
    let want = tshark_wanted(name);
    for extra in [0usize, 30] {
        let passed: Vec<usize> = frames(name)
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let mut pkt = radiotap(extra);
                pkt.extend_from_slice(f);
                program.filter(&pkt)
            })
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(
            passed.len(),
            expect_passed,
            "{name} (radiotap +{extra}): frames passed"
        );
        if let Some(want) = &want {
            assert_eq!(
                &passed, want,
                "{name} (radiotap +{extra}): filter and tshark disagree"
            );
        }
    }
}

#[test]
fn wardrive_filter_on_wifite2_data_and_control() {
    // 1112 frames: mostly control and protected QoS data; 61 management + 1 EAPOL.
    check_wrapped("wifite2_handshake_not_exists.cap", 62);
}

#[test]
fn wardrive_filter_on_aircrack_n02_eapol_in_both_directions() {
    // EAPOL in both directions (FromDS and ToDS) among protected and null data frames.
    check_wrapped("aircrack_n-02.cap", 57);
}

#[test]
fn wardrive_filter_on_aircrack_pmkid_twenty_thousand_frames() {
    check_wrapped("aircrack_pmkid-not-recognized.cap", 7_916);
}

#[test]
fn survey_has_no_filter() {
    assert!(
        compile_filter(CaptureFilter::Survey, DLT_RADIOTAP)
            .unwrap()
            .is_none()
    );
}
