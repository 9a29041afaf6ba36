//! `piwardrive demo` as a user runs it: it serves the UI, networks appear as the captures replay, and Ctrl-C stops it cleanly.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, get};

#[test]
fn demo_serves_replayed_networks_and_stops_on_sigint() {
    // Find a free port, then let the demo take it.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["demo", "--listen", &addr, "--speed", "20"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let mut total = 0;
    let mut located = 0;
    let mut newest = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        if let Some((200, body)) = get(&addr, "/api/v1/networks") {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            total = v["total"].as_u64().unwrap();
            newest = v["networks"][0]["bssid"].as_str().unwrap_or("").to_string();
            let nets = v["networks"].as_array().unwrap();
            located = nets.iter().filter(|n| n["lat"].is_f64()).count();
            // Every position is on the bundled boat's track (gpsd's bundg_zeus_9.log, near
            // 52.85 N 5.31 E on the IJsselmeer).
            for n in nets.iter().filter(|n| n["lat"].is_f64()) {
                let (lat, lon) = (n["lat"].as_f64().unwrap(), n["lon"].as_f64().unwrap());
                assert!(
                    (52.7..53.0).contains(&lat) && (5.1..5.5).contains(&lon),
                    "{n}"
                );
            }
            if total >= 10 && located >= 10 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        total >= 10,
        "the replay should have found networks, got {total}"
    );
    assert!(
        located >= 10,
        "the replayed GPS log should place networks, got {located}"
    );
    let (status, html) = get(&addr, "/networks").unwrap();
    assert_eq!(status, 200);
    // The page lists what the API listed (the replay may have added more since).
    assert!(
        html.contains(&newest),
        "{newest} not on the networks page: {html}"
    );
    assert_eq!(get(&addr, "/api/v1/system/health").unwrap().0, 200);

    // Ctrl-C: the demo stops by itself and removes its temporary store.
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "demo did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let tmp = std::env::temp_dir().join(format!("piwardrive-demo-{}", child.id()));
    assert!(
        !tmp.exists(),
        "temporary store {} left behind",
        tmp.display()
    );
}
