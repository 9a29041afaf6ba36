//! `piwardrive run` with the settings overlay: it starts from the overlay in its data directory over its configuration file, a free-space reserve larger than the disk stops recording (and the dashboard says so), and the settings page's restart brings it back with the saved settings, recording again.
//!
//! The reserve is measured against the real file system of the test's temporary directory:
//! 1000000 MB is more than any test machine has free, 0 turns it off. As in
//! `appliance_run.rs`, the capture source names an interface that exists nowhere.

mod common;
use common::{get_with, request};

use piwardrive::model::SessionStatus;
use piwardrive::store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn run_reads_the_overlay_stops_at_the_reserve_and_restarts_with_saved_settings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("piwardrive.toml");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n\
             commit_interval_ms = 200\n\
             [web]\n\
             listen = \"127.0.0.1:0\"\n\
             [gps]\n\
             gpsd = \"127.0.0.1:{}\"\n\
             [[sources]]\n\
             interface = \"pwtest0\"\n",
            common::free_port()
        ),
    )
    .unwrap();
    // The overlay turns GPS off (the file has it on) and keeps more free than there is.
    std::fs::write(
        data.join("settings.toml"),
        "[gps]\nenabled = false\n[storage]\nreserve_free_mb = 1000000\n",
    )
    .unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args([
            "token",
            "create",
            "--name",
            "t",
            "--role",
            "admin",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let bearer = format!("Bearer {}", String::from_utf8(made.stdout).unwrap().trim());
    let auth = [("Authorization", bearer.as_str())];

    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    {
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
    }
    let text = || log.lock().unwrap().clone();
    // The n-th "listening" line's address (the port is chosen anew at each start).
    let listening = |n: usize| {
        let mut addr = None;
        let ok = common::wait_until(Duration::from_secs(30), || {
            addr = text()
                .split("web UI listening on http://")
                .nth(n)
                .map(|rest| rest.split('/').next().unwrap().to_string());
            addr.is_some()
        });
        assert!(ok, "the web UI did not listen (start {n}):\n{}", text());
        addr.unwrap()
    };
    let addr = listening(1);

    // The overlay was read: GPS is off, and the reserve is larger than the free space.
    assert!(
        text().contains("GPS: disabled in the configuration"),
        "{}",
        text()
    );
    assert!(
        text().contains("less than the 1000000 MB kept free"),
        "{}",
        text()
    );
    // Recording stops at the first commit, and the dashboard says so.
    let mut dashboard = serde_json::Value::Null;
    let stopped = common::wait_until(Duration::from_secs(15), || {
        if let Some((200, body)) = get_with(&addr, "/api/v1/dashboard", &auth) {
            dashboard = serde_json::from_str(&body).unwrap();
        }
        dashboard["recording_stopped"].is_string()
    });
    assert!(stopped, "{dashboard}\n{}", text());
    let alert = dashboard["alerts"][0].as_str().unwrap();
    assert!(
        alert.starts_with("Recording stopped: only ") && alert.contains("1000000 MB kept free"),
        "{alert}"
    );
    let (status, page) = get_with(&addr, "/settings", &auth).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("in force now: 1000000 MB"), "{page}");

    // Turn the reserve off on the settings page, then restart from it.
    let saved = request(
        &addr,
        "POST",
        "/settings/storage",
        &auth,
        "reserve_free_mb=0",
    )
    .unwrap();
    assert_eq!(saved.status, 303, "{}", saved.body);
    let overlay: toml::Table = std::fs::read_to_string(data.join("settings.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(overlay["storage"]["reserve_free_mb"].as_integer(), Some(0));
    assert_eq!(overlay["gps"]["enabled"].as_bool(), Some(false));
    let restarted = request(&addr, "POST", "/settings/restart", &auth, "").unwrap();
    assert_eq!(restarted.status, 200, "{}", restarted.body);
    assert!(restarted.body.contains("Restarting"));
    let addr = listening(2);
    let t = text();
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("no {s:?} in:\n{t}"));
    assert!(
        at("restart asked for on the settings page") < at("shutdown 1/3: stopping the sources")
            && at("shutdown 3/3: stopping the web UI") < at("restarting with the saved settings")
    );
    assert!(child.try_wait().unwrap().is_none(), "{t}");

    // Recording again: commits happen and nothing says it stopped.
    let recording = common::wait_until(Duration::from_secs(15), || {
        matches!(
            get_with(&addr, "/api/v1/dashboard", &auth),
            Some((200, body)) if body.contains("\"recording_stopped\":null")
        )
    });
    assert!(recording, "{}", text());
    std::thread::sleep(Duration::from_millis(800));

    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let exited = common::wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
        panic!("did not stop on SIGINT:\n{}", text());
    }
    assert!(child.wait().unwrap().success(), "{}", text());
    // The first run recorded nothing (the reserve); the second one did, and ended its
    // session.
    let store = Store::open(&data.join("piwardrive.redb")).unwrap();
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].status, SessionStatus::Ended, "{sessions:?}");
}
