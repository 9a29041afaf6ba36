//! `piwardrive wigle upload` against a local server that checks each request the way WiGLE's
//! API documents it, read back by parsers that are not ours (Python's email, gzip and csv).
//!
//! Why not api.wigle.net: there is no internet here, and a test must not upload anything to a
//! real account. The server is an axum app on 127.0.0.1 over plain HTTP (`[wigle] base_url`
//! allows `http://` to this machine only); the HTTPS client is the same one that talks to
//! WiGLE, only the scheme differs. It answers as WiGLE does (`{"success": true, "results":
//! {"transids": [...]}}`, HTTP 401 for a wrong token), or fails on purpose: HTTP 500,
//! `success: false`, or a connection dropped in the middle of the body.

#[path = "browser/pcap.rs"]
mod pcap;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pcap::{Beacon, beacons_pcap};
use piwardrive::store::Store;
use serde_json::Value;

/// 2026-01-02 03:04:05 UTC, and an hour later (a second drive).
const T0: i64 = 1_767_323_045_000_000;
const T1: i64 = T0 + 3_600_000_000;

const API_NAME: &str = "AID0123456789abcdef";
const API_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The header line of WiGLE CSV 1.6, from the reference (the WiGLE app's writer).
const WIGLE_HEADER: &str = "MAC,SSID,AuthMode,FirstSeen,Channel,Frequency,RSSI,\
CurrentLatitude,CurrentLongitude,AltitudeMeters,AccuracyMeters,RCOIs,MfgrId,Type";
/// The pre-header's keys, in the reference's order.
const PRE_HEADER_KEYS: [&str; 10] = [
    "appRelease",
    "model",
    "release",
    "device",
    "display",
    "board",
    "brand",
    "star",
    "body",
    "subBody",
];

/// SSIDs that break naive CSV, multipart and header handling (as the UI tests' hostile capture).
const HOSTILE: &[&[u8]] = &[
    b"plain",
    b"<script>alert(1)</script>",
    b"comma,separated",
    b"it's \"quoted\"",
    b"line\r\nbreak\nand\rcr",
    b"--b\r\nContent-Disposition: x",
    b"filename=\"e.csv\"; name=\"donate\"",
    b"Authorization: Basic AAAA",
    b"=cmd|' /C calc'!A0",
    b"+SUM(1,2)",
    b"evil\xe2\x80\xaegpj.exe",
    b"nul\0inside\0",
    b"bad\xff\xfeutf8\xc3",
    b"back\\slash",
    b"\x1f\x8b\x08 gzip magic",
    "caf\u{e9} \u{1f4f6}".as_bytes(),
];

fn bssid(prefix: u8, i: u8) -> [u8; 6] {
    [0x02, 0x00, 0x5e, prefix, 0x00, i]
}

fn mac_text(b: [u8; 6]) -> String {
    b.map(|o| format!("{o:02x}")).join(":")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_piwardrive")
}

fn python() -> String {
    std::env::var("PIWARDRIVE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A GPX track with a point every second around `t_us` (so every frame gets a position).
fn gpx_around(t_us: &[i64]) -> String {
    let mut gpx = String::from(
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"piwardrive tests\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>\n",
    );
    for (k, &t) in t_us.iter().enumerate() {
        for s in 0..10 {
            let t = t / 1_000_000 - 2 + s;
            let (h, m, sec) = ((t / 3600) % 24, (t / 60) % 60, t % 60);
            gpx.push_str(&format!(
                "<trkpt lat=\"52.8{k}{s}\" lon=\"5.31\"><ele>1</ele><time>2026-01-02T{h:02}:{m:02}:{sec:02}Z</time></trkpt>\n"
            ));
        }
    }
    gpx.push_str("</trkseg></trk></gpx>\n");
    gpx
}

/// A data directory, and the captures of two drives past the hostile networks.
struct Drives {
    dir: tempfile::TempDir,
}

impl Drives {
    fn new() -> Drives {
        let dir = tempfile::tempdir().unwrap();
        let aps: Vec<Beacon> = HOSTILE
            .iter()
            .enumerate()
            .map(|(i, ssid)| Beacon {
                bssid: bssid(2, i as u8),
                ssid,
                channel: 6,
            })
            .collect();
        for (name, t) in [("first.pcap", T0), ("second.pcap", T1)] {
            std::fs::write(dir.path().join(name), beacons_pcap(&aps, 1, t, 50_000)).unwrap();
        }
        std::fs::write(dir.path().join("track.gpx"), gpx_around(&[T0, T1])).unwrap();
        Drives { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `piwardrive ingest` of one drive (a session of its own: each network is a new row).
    fn ingest(&self, capture: &str) {
        let out = Command::new(bin())
            .args(["ingest", "--data-dir"])
            .arg(self.data())
            .arg("--gps")
            .arg(self.dir.path().join("track.gpx"))
            .arg(self.dir.path().join(capture))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        assert!(
            log.contains(&format!(
                "GPS: {n} of {n} records got a position",
                n = HOSTILE.len()
            )),
            "{log}"
        );
    }

    /// Writes a configuration with `[wigle]` for the server at `addr` and returns its path.
    fn config(&self, addr: SocketAddr, token: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("piwardrive.toml");
        std::fs::write(
            &path,
            format!(
                "[wigle]\napi_name = \"{API_NAME}\"\napi_token = \"{token}\"\n\
                 base_url = \"http://{addr}\"\n{extra}"
            ),
        )
        .unwrap();
        path
    }

    /// `piwardrive wigle upload` with `args`.
    fn upload(&self, config: &Path, args: &[&str]) -> Output {
        let out = Command::new(bin())
            .args(["wigle", "upload", "--data-dir"])
            .arg(self.data())
            .arg("--config")
            .arg(config)
            .args(args)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(!log.contains(API_TOKEN), "the token was printed: {log}");
        out
    }

    /// `piwardrive export --format wigle`, as Python's csv module reads it.
    fn export(&self) -> Value {
        let out = Command::new(bin())
            .args(["export", "--format", "wigle", "--data-dir"])
            .arg(self.data())
            .output()
            .unwrap();
        assert!(out.status.success());
        let path = self.dir.path().join("export.csv");
        std::fs::write(&path, &out.stdout).unwrap();
        run_python(&["csv", path.to_str().unwrap()])
    }

    fn store(&self) -> Store {
        Store::open(&self.data().join("piwardrive.redb")).unwrap()
    }
}

fn run_python(args: &[&str]) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/check_wigle_upload.py"
    );
    let out = match Command::new(python()).arg(script).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "could not run {} ({e}): install Python 3 (or set PIWARDRIVE_PYTHON)",
            python()
        ),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One request as the fake WiGLE received it.
#[derive(Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    /// The body read back by Python's email, gzip and csv modules.
    fn parsed(&self, dir: &Path) -> Value {
        let path = dir.join("body.bin");
        std::fs::write(&path, &self.body).unwrap();
        let ct = self.headers[header::CONTENT_TYPE].to_str().unwrap();
        run_python(&["multipart", path.to_str().unwrap(), ct])
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Answer as WiGLE does to a good upload.
    Accept,
    /// HTTP 500 with WiGLE's error shape.
    Fail,
    /// HTTP 200 with `success: false`.
    Refuse,
}

#[derive(Clone)]
struct Fake {
    received: Arc<Mutex<Vec<Received>>>,
    mode: Arc<Mutex<Mode>>,
    token: String,
}

/// WiGLE's upload endpoint as its API documents it.
async fn wigle(
    State(f): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = {
        let mut r = f.received.lock().unwrap();
        r.push(Received {
            method,
            path: uri.path().to_owned(),
            headers: headers.clone(),
            body: body.to_vec(),
        });
        r.len()
    };
    let json = |status: StatusCode, v: Value| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    let expected = format!(
        "Basic {}",
        base64(format!("{API_NAME}:{}", f.token).as_bytes())
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"success": false, "message": "too many queries today"}),
        );
    }
    match *f.mode.lock().unwrap() {
        Mode::Fail => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"success": false, "message": "database unavailable"}),
        ),
        Mode::Refuse => json(
            StatusCode::OK,
            serde_json::json!({"success": false, "message": "file \u{1b}[31mnot recognised"}),
        ),
        Mode::Accept => json(
            StatusCode::OK,
            serde_json::json!({
                "success": true,
                "observer": API_NAME,
                "results": {
                    "timeTaken": "1 second",
                    "filesize": body.len(),
                    "filename": "upload.csv.gz",
                    "transids": [{"file": "upload.csv.gz", "size": body.len(),
                                  "transId": format!("20260102-{n:05}")}]
                }
            }),
        ),
    }
}

/// Standard base64 (RFC 4648), for the expected `Authorization` header.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts the fake WiGLE on 127.0.0.1 (its own thread and runtime) expecting `token`.
fn start_fake(token: &str) -> (SocketAddr, Fake) {
    let fake = Fake {
        received: Arc::default(),
        mode: Arc::new(Mutex::new(Mode::Accept)),
        token: token.to_owned(),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let app = axum::Router::new().fallback(wigle).with_state(fake.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (addr, fake)
}

/// A server that reads the request's head and a little of its body, then drops the
/// connection: a link cut in the middle of an upload. Returns how many bytes it read.
fn start_dropper() -> (SocketAddr, std::thread::JoinHandle<usize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        // The head, then 100 bytes of the body.
        while !got.windows(4).any(|w| w == b"\r\n\r\n") || got.len() < head_len(&got) + 100 {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got.len()
    });
    (addr, h)
}

fn head_len(b: &[u8]) -> usize {
    b.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(usize::MAX / 2, |p| p + 4)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks one request as WiGLE documents it; returns its file's rows.
fn check_request(r: &Received, dir: &Path, export: &Value, donate: bool) -> Vec<Value> {
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.path, "/api/v2/file/upload");
    assert_eq!(
        r.headers[header::AUTHORIZATION],
        format!(
            "Basic {}",
            base64(format!("{API_NAME}:{API_TOKEN}").as_bytes())
        )
        .as_str()
    );
    let ct = r.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let p = r.parsed(dir);
    assert_eq!(p["is_multipart"], true);
    assert_eq!(p["content_type"], "multipart/form-data");
    assert_eq!(p["defects"], serde_json::json!([]), "{p}");
    let parts = p["parts"].as_array().unwrap();
    assert_eq!(parts.len(), if donate { 2 } else { 1 }, "{p}");
    let file = &parts[0];
    assert_eq!(file["name"], "file");
    assert_eq!(file["disposition"], "form-data");
    // What WiGLE's own app declares for the gzipped file.
    assert_eq!(file["content_type"], "application/octet-stream");
    assert_eq!(file["gzip_magic"], true);
    assert_eq!(file["defects"], serde_json::json!([]));
    let name = file["filename"].as_str().unwrap();
    let stem = name
        .strip_suffix(".csv.gz")
        .unwrap_or_else(|| panic!("{name}"));
    let fields: Vec<&str> = stem.split('-').collect();
    assert_eq!(fields[0], "piwardrive", "{name}");
    assert!(fields[1].len() == 8 && fields[1].bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(
        fields[2].len() == 16 && fields[2].ends_with('Z') && fields[2].as_bytes()[8] == b'T',
        "{name}"
    );
    if donate {
        assert_eq!(p["fields"], serde_json::json!({"donate": "on"}));
    } else {
        assert_eq!(p["fields"], serde_json::json!({}));
    }
    let csv = &p["file"];
    // The reference's header exactly, and its pre-header: WigleWifi-1.6, the device keys in
    // order, star=Sol, body=3, subBody=0; the same line the export writes.
    assert_eq!(csv["header_line"], WIGLE_HEADER);
    assert_eq!(csv["pre_header_line"], export["pre_header_line"]);
    let pre = csv["pre_header"].as_array().unwrap();
    assert_eq!(pre[0], "WigleWifi-1.6");
    let keys: Vec<&str> = pre[1..]
        .iter()
        .map(|f| f.as_str().unwrap().split_once('=').unwrap().0)
        .collect();
    assert_eq!(keys, PRE_HEADER_KEYS);
    assert_eq!(pre[8], "star=Sol");
    assert_eq!(pre[9], "body=3");
    assert_eq!(pre[10], "subBody=0");
    let rows = csv["rows"].as_array().unwrap().clone();
    for row in &rows {
        assert_eq!(row.as_array().unwrap().len(), 14, "{row}");
    }
    rows
}

/// The SSID each hostile network must arrive with: WiGLE keeps SSIDs as broadcast (see the
/// user guide), so only what UTF-8 cannot carry changes (invalid bytes become U+FFFD, NUL is
/// dropped).
fn expected_ssids() -> BTreeMap<String, String> {
    HOSTILE
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let mut s = String::from_utf8_lossy(raw).into_owned();
            s.retain(|c| c != '\0');
            (mac_text(bssid(2, i as u8)), s)
        })
        .collect()
}

#[test]
fn the_first_upload_is_the_export_and_the_next_sends_only_what_is_new() {
    let d = Drives::new();
    d.ingest("first.pcap");
    let (addr, fake) = start_fake(API_TOKEN);
    let config = d.config(addr, API_TOKEN, "");

    // A dry run builds the file and sends nothing.
    let out = d.upload(&config, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{} rows", HOSTILE.len())),
        "{}",
        stderr(&out)
    );
    assert!(fake.received.lock().unwrap().is_empty());
    assert_eq!(d.store().wigle_watermark().unwrap(), 0);

    let out = d.upload(&config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("WiGLE transaction 20260102-00001"),
        "{}",
        stderr(&out)
    );
    let export = d.export();
    let got = fake.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let rows = check_request(&got[0], d.dir.path(), &export, false);
    assert_eq!(rows.len(), HOSTILE.len());
    assert_eq!(&rows, export["rows"].as_array().unwrap());
    // Every hostile SSID arrived intact, each in its own field.
    let ssids = expected_ssids();
    for row in &rows {
        let mac = row[0].as_str().unwrap();
        assert_eq!(row[1].as_str().unwrap(), ssids[mac], "{mac}");
    }
    let store = d.store();
    let uploads = store.wigle_uploads(10).unwrap();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].rows, HOSTILE.len() as u64);
    assert_eq!(uploads[0].trans_id.as_deref(), Some("20260102-00001"));
    assert_eq!(
        uploads[0].bytes as usize,
        got[0].parsed(d.dir.path())["parts"][0]["size"]
            .as_u64()
            .unwrap() as usize
    );
    assert_eq!(uploads[0].after_seq, 0);
    assert_eq!(
        uploads[0].last_seq,
        store.next_observation_seq().unwrap() - 1
    );
    drop(store);

    // Nothing new: no request.
    let out = d.upload(&config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing to upload"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("no request was made"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.received.lock().unwrap().len(), 1);

    // A second drive: only its rows go, donated this time.
    d.ingest("second.pcap");
    let out = d.upload(&config, &["--donate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = d.export();
    let all = export["rows"].as_array().unwrap();
    assert_eq!(all.len(), 2 * HOSTILE.len());
    let got = fake.received.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let rows = check_request(&got[1], d.dir.path(), &export, true);
    assert_eq!(rows, all[HOSTILE.len()..]);
    let uploads = d.store().wigle_uploads(10).unwrap();
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads[0].after_seq, uploads[1].last_seq);
    assert!(uploads[0].donated && !uploads[1].donated);
}

/// A home zone around the first drive: its rows are neither exported nor uploaded, the
/// second drive's are (what WiGLE receives is read back by Python's email, gzip and csv).
#[test]
fn nothing_seen_in_a_home_zone_is_uploaded() {
    let d = Drives::new();
    d.ingest("first.pcap");
    d.ingest("second.pcap");
    // Without a zone, both drives' rows (so the check below can fail).
    assert_eq!(
        d.export()["rows"].as_array().unwrap().len(),
        2 * HOSTILE.len()
    );
    {
        // The first drive is at 52.800-52.809 N, the second at 52.810-52.819 N (5.31 E):
        // 1050 m around 52.80 N holds the first and not the second (1112 m away).
        let store = d.store();
        let me = store.sync_id();
        let zone = piwardrive_sync::Zone {
            lat_e7: 528_000_000,
            lon_e7: 53_100_000,
            radius_m: 1050,
        };
        store
            .update_edits(|e| e.add_zone(me, zone))
            .unwrap()
            .unwrap();
    }
    let (addr, fake) = start_fake(API_TOKEN);
    let config = d.config(addr, API_TOKEN, "");
    let out = d.upload(&config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = d.export();
    let exported = export["rows"].as_array().unwrap();
    assert_eq!(exported.len(), HOSTILE.len(), "{export}");
    let got = fake.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let rows = check_request(&got[0], d.dir.path(), &export, false);
    assert_eq!(&rows, exported);
    for row in &rows {
        let lat: f64 = row[7].as_str().unwrap().parse().unwrap();
        assert!(lat >= 52.81, "{row}");
    }
}

#[test]
fn failed_refused_or_cut_uploads_keep_the_watermark_and_the_retry_sends_the_same_rows() {
    let d = Drives::new();
    d.ingest("first.pcap");
    let (addr, fake) = start_fake(API_TOKEN);
    let config = d.config(addr, API_TOKEN, "");

    *fake.mode.lock().unwrap() = Mode::Fail;
    let out = d.upload(&config, &[]);
    assert_eq!(out.status.code(), Some(2));
    let log = stderr(&out);
    assert!(
        log.contains("HTTP 500") && log.contains("database unavailable"),
        "{log}"
    );
    assert!(log.contains("nothing was recorded as uploaded"), "{log}");
    assert_eq!(d.store().wigle_watermark().unwrap(), 0);

    *fake.mode.lock().unwrap() = Mode::Refuse;
    let out = d.upload(&config, &[]);
    assert_eq!(out.status.code(), Some(2));
    let log = stderr(&out);
    // WiGLE's reason is shown, without its control characters.
    assert!(
        log.contains("did not accept the file: file [31mnot recognised"),
        "{log}"
    );
    assert_eq!(d.store().wigle_watermark().unwrap(), 0);

    // The link drops while the body is on its way.
    let (cut, reader) = start_dropper();
    let cut_config = d.config(cut, API_TOKEN, "");
    let out = d.upload(&cut_config, &[]);
    assert!(reader.join().unwrap() > 100);
    assert_eq!(out.status.code(), Some(2));
    let log = stderr(&out);
    assert!(
        log.contains(&format!("http://{cut}/api/v2/file/upload")),
        "{log}"
    );
    assert!(log.contains("nothing was recorded as uploaded"), "{log}");
    assert_eq!(d.store().wigle_watermark().unwrap(), 0);
    assert!(d.store().wigle_uploads(10).unwrap().is_empty());

    *fake.mode.lock().unwrap() = Mode::Accept;
    let config = d.config(addr, API_TOKEN, "");
    let out = d.upload(&config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = d.export();
    let got = fake.received.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let failed = check_request(&got[0], d.dir.path(), &export, false);
    let accepted = check_request(&got[2], d.dir.path(), &export, false);
    assert_eq!(
        failed, accepted,
        "the retry sends the rows the failed upload carried"
    );
    assert_eq!(&accepted, export["rows"].as_array().unwrap());
    assert_eq!(d.store().wigle_uploads(10).unwrap().len(), 1);
}

#[test]
fn a_wrong_token_or_no_account_is_a_clear_error_naming_the_setting() {
    let d = Drives::new();
    d.ingest("first.pcap");
    let (addr, fake) = start_fake("the-right-token");
    let config = d.config(addr, API_TOKEN, "");
    let out = d.upload(&config, &[]);
    assert_eq!(out.status.code(), Some(2));
    let log = stderr(&out);
    assert!(log.contains("HTTP 401"), "{log}");
    assert!(log.contains(&format!("API name \"{API_NAME}\"")), "{log}");
    assert!(log.contains("[wigle] api_name and api_token"), "{log}");
    assert_eq!(fake.received.lock().unwrap().len(), 1);
    assert_eq!(d.store().wigle_watermark().unwrap(), 0);

    let bare = d.dir.path().join("bare.toml");
    std::fs::write(&bare, "").unwrap();
    let out = d.upload(&bare, &[]);
    assert_eq!(out.status.code(), Some(2));
    let log = stderr(&out);
    assert!(log.contains("set [wigle] api_name and api_token"), "{log}");
    assert_eq!(
        fake.received.lock().unwrap().len(),
        1,
        "no request without an account"
    );
}

#[test]
fn more_rows_than_a_file_may_hold_go_as_several_files_in_order() {
    let d = Drives::new();
    d.ingest("first.pcap");
    d.ingest("second.pcap");
    let (addr, fake) = start_fake(API_TOKEN);
    let config = d.config(addr, API_TOKEN, "max_rows_per_file = 5\n");
    let out = d.upload(&config, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = d.export();
    let all = export["rows"].as_array().unwrap().clone();
    let got = fake.received.lock().unwrap().clone();
    let files = all.len().div_ceil(5);
    assert_eq!(got.len(), files);
    let mut sent = Vec::new();
    let mut names = Vec::new();
    for r in &got {
        let rows = check_request(r, d.dir.path(), &export, false);
        assert!(rows.len() <= 5);
        sent.extend(rows);
        names.push(
            r.parsed(d.dir.path())["parts"][0]["filename"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(sent, all);
    names.dedup();
    assert_eq!(names.len(), files, "each file has its own name: {names:?}");
    let uploads = d.store().wigle_uploads(100).unwrap();
    assert_eq!(uploads.len(), files);
    for w in uploads.windows(2) {
        assert_eq!(w[0].after_seq, w[1].last_seq, "contiguous, newest first");
    }
    assert_eq!(uploads.last().unwrap().after_seq, 0);
}
