//! Helpers shared by the process-level tests: free ports, waiting for conditions, a plain HTTP GET, and a gpsfake-fed gpsd that is killed on drop.
//!
//! Each test binary includes this module and uses part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A GPS log under firmware/testdata/gps.
pub fn log_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/gps")
        .join(name)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `cond` until it holds or `within` has passed; returns whether it held.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// A gpsfake (and the gpsd it runs) in a process group of its own, killed on drop.
pub struct GpsFake {
    child: Child,
}

impl GpsFake {
    /// Starts replaying `log` once, `cycle` seconds between sentences, and waits until gpsd
    /// accepts connections.
    pub fn start(log: &str, cycle: &str, port: u16) -> GpsFake {
        let child = Command::new("gpsfake")
            .args(["-P", &port.to_string(), "-1", "-q", "-c", cycle])
            .arg(log_path(log))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("gpsfake not found: install gpsd and gpsd-clients (apt-get install gpsd gpsd-clients)");
        let fake = GpsFake { child };
        assert!(
            wait_until(Duration::from_secs(10), || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            }),
            "gpsd (started by gpsfake) did not listen on port {port} within 10 s"
        );
        fake
    }

    pub fn signal(&self, sig: &str, group: bool) {
        let target = if group {
            format!("-{}", self.child.id())
        } else {
            self.child.id().to_string()
        };
        let _ = Command::new("kill")
            .args([sig, "--", &target])
            .stderr(Stdio::null())
            .status();
    }

    /// Freezes gpsfake's feeder only; gpsd stays up, connected and silent, as with a receiver
    /// that stopped talking.
    pub fn pause(&self) {
        self.signal("-STOP", false);
    }

    pub fn resume(&self) {
        self.signal("-CONT", false);
    }

    pub fn kill(&mut self) {
        self.signal("-KILL", true);
        let _ = self.child.wait();
        let _ = std::fs::remove_file(format!("/tmp/gpsfake-{}.sock", self.child.id()));
    }
}

impl Drop for GpsFake {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain HTTP/1.1 GET over loopback; returns (status, body).
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|b| b.1.to_string())
        .unwrap_or_default();
    Some((status, body))
}
