//! End to end against tshark: every bundled capture, through `piwardrive ingest` and `networks --format tsv`, must give exactly the truth file's networks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_piwardrive"))
}

/// The six contract columns, keyed by BSSID.
type Table = BTreeMap<String, [String; 5]>;

/// Reads a truth TSV (columns by name, see testdata/README.md).
fn truth(name: &str) -> Table {
    let text = std::fs::read_to_string(testdata().join("truth").join(format!("{name}.tsv")))
        .unwrap_or_else(|e| panic!("truth file for {name}: {e}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (b, s, h, c, m, e) = (
        col("bssid"),
        col("ssid_hex"),
        col("hidden"),
        col("channel_ie"),
        col("max_signal_dbm"),
        col("enc_class"),
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[b].to_string(),
                [f[s], f[h], f[c], f[m], f[e]].map(str::to_string),
            )
        })
        .collect()
}

/// Runs ingest then `networks --format tsv`; returns the table and ingest's exit code and stderr.
fn ingest_and_list(capture: &Path) -> (Table, i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("ingest")
        .arg("--data-dir")
        .arg(dir.path())
        .arg(capture)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let list = bin()
        .args(["networks", "--format", "tsv", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        list.status.success(),
        "networks failed: {}",
        String::from_utf8_lossy(&list.stderr)
    );
    let text = String::from_utf8(list.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        header[..6],
        [
            "bssid",
            "ssid_hex",
            "hidden",
            "channel",
            "max_signal_dbm",
            "enc_class"
        ]
    );
    let table = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                f.len(),
                header.len(),
                "row has as many cells as the header: {l:?}"
            );
            (
                f[0].to_string(),
                [f[1], f[2], f[3], f[4], f[5]].map(str::to_string),
            )
        })
        .collect();
    (table, code, stderr)
}

/// (capture path under testdata/pcap, truth name, ingest exits non-zero because the file is cut short)
const CASES: &[(&str, &str, bool)] = &[
    ("aircrack_test1.pcap", "aircrack_test1", false),
    ("aircrack_wpa3-psk.pcap", "aircrack_wpa3-psk", false),
    ("aircrack_n-02.cap", "aircrack_n-02", false),
    (
        "aircrack_pmkid-not-recognized.cap",
        "aircrack_pmkid-not-recognized",
        true,
    ),
    ("aircrack_wpa_prism.cap", "aircrack_wpa_prism", false),
    (
        "wifite2_handshake_not_exists.cap",
        "wifite2_handshake_not_exists",
        false,
    ),
    (
        "edge/aircrack_80211ad_beacon.pcap",
        "aircrack_80211ad_beacon",
        false,
    ),
    (
        "edge/aircrack_Chinese-SSID-Name.pcap",
        "aircrack_Chinese-SSID-Name",
        false,
    ),
    // Truth with the FCS checked: the only beacon is cut short, so its FCS is wrong.
    (
        "edge/scapy_bad_rsn_parsing_overrides_ssid.pcap",
        "scapy_bad_rsn_parsing_overrides_ssid",
        true,
    ),
    (
        "edge/tcpdump_ieee802.11_exthdr.pcap",
        "tcpdump_ieee802.11_exthdr",
        false,
    ),
    (
        "edge/tcpdump_ieee802.11_htc.pcap",
        "tcpdump_ieee802.11_htc",
        false,
    ),
    (
        "edge/tcpdump_ieee802.11_meshid.pcap",
        "tcpdump_ieee802.11_meshid",
        false,
    ),
    (
        "edge/tcpdump_ieee802.11_parse_elements_oobr.pcap",
        "tcpdump_ieee802.11_parse_elements_oobr",
        false,
    ),
    (
        "edge/tcpdump_radiotap-heapoverflow.pcap",
        "tcpdump_radiotap-heapoverflow",
        false,
    ),
    ("edge/zeek_radiotap.pcap", "zeek_radiotap", false),
];

#[test]
fn every_capture_matches_its_truth_file() {
    let mut failures = Vec::new();
    for &(file, name, cut) in CASES {
        let (got, code, stderr) = ingest_and_list(&testdata().join("pcap").join(file));
        let want = truth(name);
        if cut {
            if code != 1 || !stderr.contains("byte offset") {
                failures.push(format!(
                    "{file}: a cut-off file must fail with its offset (exit {code}): {stderr}"
                ));
            }
        } else if code != 0 {
            failures.push(format!("{file}: ingest exit {code}: {stderr}"));
        }
        for (bssid, w) in &want {
            match got.get(bssid) {
                None => failures.push(format!("{file}: missing {bssid}")),
                Some(g) if g != w => failures.push(format!(
                    "{file}: {bssid}: got [ssid_hex, hidden, channel, max_signal, enc] = {g:?}, truth {w:?}"
                )),
                Some(_) => {}
            }
        }
        for bssid in got.keys().filter(|b| !want.contains_key(*b)) {
            failures.push(format!("{file}: extra BSSID {bssid}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn ingesting_all_files_at_once_gives_the_union() {
    // Several files in one run: one session, every file's networks (the BSSIDs are disjoint).
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = CASES
        .iter()
        .map(|c| testdata().join("pcap").join(c.0))
        .collect();
    let out = bin()
        .arg("ingest")
        .arg("--data-dir")
        .arg(dir.path())
        .args(&files)
        .output()
        .unwrap();
    // Two of the files are cut short: the run reports them and exits 1, the rest is ingested.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "aircrack_pmkid-not-recognized.cap: error: file ends inside the record at byte offset"
        ),
        "{stderr}"
    );
    let list = bin()
        .args(["networks", "--format", "tsv", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let rows = String::from_utf8(list.stdout).unwrap().lines().count() - 1;
    let want: usize = CASES.iter().map(|c| truth(c.1).len()).sum();
    assert_eq!(rows, want);
}

/// The counts of `ingest`'s per-file summary line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    records: u64,
    decoded: u64,
    damaged: u64,
    bad_fcs: u64,
    malformed: u64,
    unsupported: u64,
}

fn summary(stderr: &str, file: &str) -> Summary {
    let line = stderr
        .lines()
        .find(|l| l.contains(file) && l.contains(" records, "))
        .unwrap_or_else(|| panic!("no summary line for {file} in {stderr}"));
    let nums: Vec<u64> = line
        .rsplit_once(": ")
        .map(|(_, rest)| rest)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let [records, decoded, damaged, bad_fcs, malformed, unsupported] = nums[..] else {
        panic!("unexpected summary {line}");
    };
    Summary {
        records,
        decoded,
        damaged,
        bad_fcs,
        malformed,
        unsupported,
    }
}

#[test]
fn edge_files_are_ingested_without_panic_or_hang_and_each_problem_is_reported() {
    let edge = testdata().join("pcap/edge");
    for entry in std::fs::read_dir(&edge).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        let mut child = bin()
            .arg("ingest")
            .arg("--data-dir")
            .arg(dir.path())
            .arg(&path)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(t.elapsed().as_secs() < 60, "{name}: ingest hangs");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{name}: exit {code:?}: {stderr}"
        );
        let s = summary(&stderr, &name);
        assert_eq!(
            s.records,
            s.decoded + s.bad_fcs + s.malformed + s.unsupported,
            "{name}: every record is accounted for: {s:?}"
        );
        // The problems tshark also sees in these files, each in our report.
        match name.as_str() {
            // Radiotap version byte 0x30: not a radiotap header tshark or we can read.
            "tcpdump_radiotap-heapoverflow.pcap" => assert_eq!(s.unsupported, 1, "{name}"),
            // RSN suite counts of 12336 in a 3-byte element (tshark: "Count too large").
            "tcpdump_ieee802.11_parse_elements_oobr.pcap" => assert_eq!(s.damaged, 1, "{name}"),
            // The one record is cut short: its FCS is wrong, and the file ends inside it.
            "scapy_bad_rsn_parsing_overrides_ssid.pcap" => {
                assert_eq!((s.bad_fcs, code), (1, Some(1)), "{name}");
                assert!(stderr.contains("byte offset"), "{name}: {stderr}");
            }
            _ => assert_eq!(code, Some(0), "{name}: {stderr}"),
        }
    }
}

/// `piwardrive clients`: the station of wifite2's handshake capture, as tshark sees it
/// (`tshark -r wifite2_handshake_not_exists.cap -Y wlan.addr==54:35:30:23:62:8e`): four probe
/// requests for "HOME-1102" (484f4d452d31313032), then authentication, association and a
/// QoS data frame with AP 00:1d:d5:9b:11:00.
#[test]
fn clients_lists_the_handshake_station_with_its_ap_and_probes() {
    let dir = tempfile::tempdir().unwrap();
    let capture = testdata()
        .join("pcap")
        .join("wifite2_handshake_not_exists.cap");
    let ok = bin()
        .arg("ingest")
        .arg("--data-dir")
        .arg(dir.path())
        .arg(&capture)
        .status()
        .unwrap();
    assert!(ok.success());
    let out = bin()
        .args(["clients", "--format", "tsv", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let row: Vec<&str> = lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f[col("mac")] == "54:35:30:23:62:8e")
        .expect("the handshake station is listed");
    assert_eq!(row[col("associated_bssid")], "00:1d:d5:9b:11:00");
    assert_eq!(row[col("probed_ssids_hex")], "484f4d452d31313032");
    assert_eq!(row[col("randomized")], "0");
}
