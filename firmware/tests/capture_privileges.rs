//! Start-up failures of live capture on this machine: no Wi-Fi adapter, and missing privileges named by capability.
//!
//! This machine has no radio and no nl80211 (no kernel modules in the container). The
//! permission tests drop root the way an unprivileged service would run: when run as root,
//! the test binary re-runs itself as user nobody through `setpriv`, and the child does the
//! real call and prints the error. The radio path (monitor vif, tuning, capture, scans on
//! mac80211_hwsim) is exercised in the virtual device (hil-tests/).

use piwardrive::capture::live::{self, CaptureError, CaptureFilter};
use piwardrive::capture::nl80211::{self, Nl80211Error};
use std::process::Command;

const CHILD_ENV: &str = "PIWARDRIVE_CAPTURE_CHILD";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `test` of this binary as user nobody with `CHILD_ENV=role`; returns its stdout,
/// or `None` when not root (the caller then runs the check directly).
fn run_as_nobody(test: &str, role: &str) -> Option<String> {
    if !is_root() {
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .output()
        .expect("setpriv runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn no_wifi_adapter_is_a_clear_error_not_a_panic() {
    match rt().block_on(nl80211::list_adapters()) {
        Err(e @ Nl80211Error::NoAdapter { .. }) => {
            assert!(e.to_string().contains("no Wi-Fi adapter found"), "{e}");
        }
        // A developer machine with Wi-Fi lists its adapters; never an empty list.
        Ok(adapters) => assert!(!adapters.is_empty()),
        Err(e) => panic!("unexpected error without Wi-Fi hardware: {e}"),
    }
}

/// The child side: what an unprivileged process sees when it opens a capture.
fn live_capture_check() {
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    match live::start("lo", CaptureFilter::Wardrive, tx) {
        Err(e @ CaptureError::Permission { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("CAP_NET_RAW"), "{msg}");
            println!("CHILD-SAW: {msg}");
        }
        Err(e) => panic!("expected a permission error, got {e}"),
        Ok(_) => panic!("capture opened without privileges"),
    }
}

#[test]
fn live_capture_without_privileges_names_cap_net_raw() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("live") || !is_root() {
        return live_capture_check();
    }
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let out = run_as_nobody("live_capture_without_privileges_names_cap_net_raw", "live").unwrap();
    assert!(
        out.contains("CHILD-SAW:") && out.contains("CAP_NET_RAW"),
        "{out}"
    );
}

fn link_up_check() {
    let r = rt().block_on(async {
        let link = nl80211::Link::connect()?;
        // Loopback is index 1 in every network namespace.
        link.set_link_up(1, true).await
    });
    match r {
        Err(e @ Nl80211Error::Permission { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("CAP_NET_ADMIN"), "{msg}");
            println!("CHILD-SAW: {msg}");
        }
        Err(e) => panic!("expected a permission error, got {e}"),
        Ok(()) => panic!("link changed without privileges"),
    }
}

#[test]
fn link_control_without_privileges_names_cap_net_admin() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("link") || !is_root() {
        return link_up_check();
    }
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let out = run_as_nobody(
        "link_control_without_privileges_names_cap_net_admin",
        "link",
    )
    .unwrap();
    assert!(
        out.contains("CHILD-SAW:") && out.contains("CAP_NET_ADMIN"),
        "{out}"
    );
}

#[test]
fn capture_on_a_non_wifi_interface_says_monitor_mode() {
    if std::env::var(CHILD_ENV).is_ok() || !is_root() {
        return;
    }
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    match live::start("lo", CaptureFilter::Survey, tx) {
        Err(e @ CaptureError::WrongLinkType { .. }) => {
            assert!(e.to_string().contains("monitor mode"), "{e}");
        }
        Err(e) => panic!("expected a link-type error, got {e}"),
        Ok(_) => panic!("loopback accepted as an 802.11 capture"),
    }
}

#[test]
fn capture_on_a_missing_interface_is_interface_gone() {
    if std::env::var(CHILD_ENV).is_ok() || !is_root() {
        return;
    }
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    match live::start("pwdnosuch0", CaptureFilter::Survey, tx) {
        Err(e) => assert!(e.is_interface_gone(), "{e:?}"),
        Ok(_) => panic!("a missing interface opened"),
    }
}
