//! `piwardrive run` as a process, on a machine with no radio: it serves the UI, reports the source problem, stops in order on SIGINT with the session ended; and a misspelt key stops it before anything starts.
//!
//! This machine has no Wi-Fi hardware (and no cfg80211 in the kernel), so the capture source
//! can only fail; the test names an interface that exists nowhere, so it behaves the same on
//! a machine that does have an adapter, and never touches a real one. Real capture, hopping
//! and the outage/resume behaviour are tested in the virtual device (hil-tests/).

mod common;
use common::{get, get_with};

use piwardrive::model::SessionStatus;
use piwardrive::store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The child's stderr, collected line by line on a thread.
fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    log
}

fn sigint(child: &Child) {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn runs_without_a_radio_serves_the_ui_and_stops_cleanly_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("piwardrive.toml");
    let data = dir.path().join("data");
    // Nothing listens on this port: the GPS reports "no gpsd" and keeps retrying.
    let gpsd_port = common::free_port();
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\n\
             commit_interval_ms = 200\n\
             [web]\n\
             listen = \"127.0.0.1:0\"\n\
             [gps]\n\
             gpsd = \"127.0.0.1:{gpsd_port}\"\n\
             [[sources]]\n\
             interface = \"pwtest0\"\n\
             [sources.hop]\n\
             lock = 6\n"
        ),
    )
    .unwrap();
    // A token for this test's requests, made with the command line before the appliance
    // holds the store.
    let made = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["token", "create", "--name", "test", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];
    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect_stderr(&mut child);
    let text = || log.lock().unwrap().clone();

    // The UI listens on the port the kernel chose; the log says which.
    let mut addr = String::new();
    let listening = common::wait_until(Duration::from_secs(30), || {
        let t = text();
        match t.split("web UI listening on http://").nth(1) {
            Some(rest) => {
                addr = rest.split('/').next().unwrap().to_string();
                true
            }
            None => false,
        }
    });
    assert!(listening, "the web UI never listened:\n{}", text());
    let (status, body) = get(&addr, "/api/v1/system/health").expect("health answers");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ok\""), "{body}");
    assert!(matches!(
        get_with(&addr, "/networks", &auth),
        Some((200, _))
    ));
    // No admin password configured and no admin yet: the first visit sets one up, and
    // nothing else is served without a login.
    let first = common::request(&addr, "GET", "/networks", &[], "").unwrap();
    assert_eq!(first.status, 303);
    assert_eq!(first.header_values("location"), ["/setup"]);
    assert_eq!(get(&addr, "/setup").unwrap().0, 200);
    assert_eq!(get(&addr, "/api/v1/sources").unwrap().0, 401);
    assert!(text().contains("no admin account yet"), "{}", text());

    // The source's problem is in the log, naming the source.
    let reported = common::wait_until(Duration::from_secs(15), || {
        let t = text();
        t.contains("source 0 (pwtest0)")
            && (t.contains("interface pwtest0 not found") || t.contains("no Wi-Fi adapter found"))
    });
    assert!(reported, "the source problem was not reported:\n{}", text());
    // The rest of the appliance sees it too: the API and the capture page show the source failed.
    let (status, body) = get_with(&addr, "/api/v1/sources", &auth).expect("sources answer");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("sources JSON");
    assert_eq!(v["live"], true, "{body}");
    let s = &v["sources"][0];
    assert_eq!(s["name"], "0 (pwtest0)", "{body}");
    assert_eq!(s["state"], "failed", "{body}");
    assert!(
        s["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    let (status, page) = get_with(&addr, "/capture", &auth).expect("capture page answers");
    assert_eq!(status, 200);
    assert!(
        page.contains("Source 0 (pwtest0)") && page.contains("failed"),
        "{page}"
    );
    // Let a few commits happen while the source fails and retries.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the appliance must keep running without a radio:\n{}",
        text()
    );

    sigint(&child);
    let exited = common::wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
        panic!("did not stop on SIGINT:\n{}", text());
    }
    let st = child.wait().unwrap();
    // Give the reader thread the last lines.
    std::thread::sleep(Duration::from_millis(100));
    let t = text();
    assert!(st.success(), "exit status {st}:\n{t}");

    // Shutdown is ordered: sources, then the tracker and the store, then the web UI.
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("no {s:?} in:\n{t}"));
    let sources = at("shutdown 1/3: stopping the sources");
    let flush = at("shutdown 2/3: draining the tracker and flushing the store");
    let flushed = at("store flushed: session 1 ended");
    let web = at("shutdown 3/3: stopping the web UI");
    let web_stopped = at("web UI stopped");
    assert!(sources < flush && flush < flushed && flushed < web && web < web_stopped);
    assert!(get(&addr, "/api/v1/system/health").is_none());

    // The store is closed (it opens again) and the session is marked ended.
    let store = Store::open(&data.join("piwardrive.redb")).unwrap();
    let sessions = store.sessions().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let s = &sessions[0];
    assert_eq!(s.status, SessionStatus::Ended, "{s:?}");
    let (start, end) = (s.started_at, s.ended_at.expect("an end time"));
    assert!(
        end >= start + 500_000,
        "the session lasted {} µs",
        end - start
    );
    assert_eq!(s.sources, ["live:pwtest0"]);
}

#[test]
fn an_unknown_key_stops_it_naming_the_key_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("typo.toml");
    std::fs::write(
        &config,
        "data_dir = \"/nonexistent/never-created\"\n[[sources]]\ninterface = \"auto\"\nmdoe = \"scan\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("mdoe"), "{err}");
    assert!(err.contains("typo.toml"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    // Nothing started: no data directory, no listening.
    assert!(!std::path::Path::new("/nonexistent/never-created").exists());
    assert!(!err.contains("web UI listening"), "{err}");
}
