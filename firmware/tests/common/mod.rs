//! Helpers shared by the process-level tests: free ports, waiting for conditions, a plain HTTP GET, and a gpsfake-fed gpsd that is killed on drop.
//!
//! Each test binary includes this module and uses part of it.
#![allow(dead_code)]

pub mod hub;

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
    get_with(addr, path, &[])
}

/// The same, with extra request headers (`("Cookie", "...")`, `("Authorization", "...")`).
pub fn get_with(addr: &str, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let r = request(addr, "GET", path, headers, "")?;
    Some((r.status, r.body))
}

/// A response: status, header lines (`name: value`, names lower-cased) and body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// Every value of header `name` (lower case).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One HTTP/1.1 request over loopback (the body, if any, as a urlencoded form).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: &str,
) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if method != "GET" {
        head += &format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        );
    }
    write!(s, "{head}\r\n{form}").ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Logs in to the web UI as a browser does (GET /login for the form's CSRF token and its
/// cookie, then POST); returns the `Cookie:` value of the session, or `None` if refused.
pub fn login(addr: &str, user: &str, password: &str) -> Option<String> {
    let page = request(addr, "GET", "/login", &[], "")?;
    let pre = page
        .header_values("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("pw_csrf="))?
        .split(';')
        .next()?
        .to_owned();
    let at = page.body.find("name=\"csrf\" value=\"")? + 19;
    let csrf = &page.body[at..at + page.body[at..].find('"')?];
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let form = format!(
        "csrf={csrf}&username={}&password={}&next=%2F",
        enc(user),
        enc(password)
    );
    let r = request(addr, "POST", "/login", &[("Cookie", &pre)], &form)?;
    if r.status != 303 {
        return None;
    }
    let session = r
        .header_values("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("pw_session="))?
        .split(';')
        .next()?
        .to_owned();
    Some(session)
}
