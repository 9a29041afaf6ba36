//! `piwardrive demo` as a user runs it: it serves the UI, networks appear as the captures replay, and Ctrl-C stops it cleanly.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, get, get_with, login};

/// The password the tests give the demo (`--password`).
const PASSWORD: &str = "demo-test-password";

#[test]
fn demo_serves_replayed_networks_and_stops_on_sigint() {
    // Find a free port, then let the demo take it.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args([
            "demo",
            "--listen",
            &addr,
            "--speed",
            "20",
            "--password",
            PASSWORD,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The UI needs a login, with the password given.
    let mut cookie = None;
    let t = Instant::now();
    while cookie.is_none() && t.elapsed() < Duration::from_secs(30) {
        cookie = login(&addr, "admin", PASSWORD);
        std::thread::sleep(Duration::from_millis(100));
    }
    let cookie = cookie.expect("could not log in to the demo with --password");
    let auth = [("Cookie", cookie.as_str())];
    assert_eq!(get(&addr, "/api/v1/networks").unwrap().0, 401);
    let t = Instant::now();
    let mut total = 0;
    let mut located = 0;
    let mut newest = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        if let Some((200, body)) = get_with(&addr, "/api/v1/networks", &auth) {
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
    let (status, html) = get_with(&addr, "/networks", &auth).unwrap();
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

/// The README's one command, without --password: a random admin password is printed once,
/// and it logs in.
#[test]
fn demo_prints_a_random_admin_password_that_logs_in() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["demo", "--listen", &addr])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut password = None;
    let t = Instant::now();
    while password.is_none() && t.elapsed() < Duration::from_secs(30) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            password = line
                .split("log in as admin with password ")
                .nth(1)
                .map(|p| p.trim().to_owned());
        }
    }
    let password = password.expect("the demo did not print the admin password");
    assert!(password.len() >= 12, "{password}");
    let mut cookie = None;
    while cookie.is_none() && t.elapsed() < Duration::from_secs(30) {
        cookie = login(&addr, "admin", &password);
        std::thread::sleep(Duration::from_millis(100));
    }
    let cookie = cookie.expect("the printed password does not log in");
    assert_eq!(
        get_with(&addr, "/networks", &[("Cookie", &cookie)])
            .unwrap()
            .0,
        200
    );
    assert!(login(&addr, "admin", "not-the-password").is_none());
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "demo did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
