//! `piwardrive hub` as a process for the tests: started on a port with its log captured, curl against its certificate, enrollment codes through the admin API, and the device side's `sync enroll`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_piwardrive");

pub struct Hub {
    pub child: Child,
    log: Arc<Mutex<String>>,
    pub port: u16,
    pub data: PathBuf,
}

impl Hub {
    /// A hub on `port` whose enrollment codes live 10 minutes.
    pub fn start(data: &Path, port: u16) -> Hub {
        Hub::start_with_code_ttl(data, port, 600)
    }

    /// A hub on `port` whose enrollment codes live `code_ttl_s` seconds.
    pub fn start_with_code_ttl(data: &Path, port: u16, code_ttl_s: u64) -> Hub {
        let mut child = Command::new(BIN)
            .args(["hub", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--enroll-code-ttl", &code_ttl_s.to_string(), "--data-dir"])
            .arg(data)
            // The handshake failures are logged at debug level.
            .env("RUST_LOG", "info,piwardrive::web=debug")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
        let hub = Hub {
            child,
            log,
            port,
            data: data.to_path_buf(),
        };
        assert!(
            super::wait_until(Duration::from_secs(30), || hub
                .log()
                .contains("hub listening on https://")),
            "the hub never listened:\n{}",
            hub.log()
        );
        hub
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn cert(&self) -> PathBuf {
        self.data.join("hub-tls/cert.pem")
    }

    /// The fingerprint the hub logged (`AB:CD:...`).
    pub fn logged_fingerprint(&self) -> String {
        let log = self.log();
        let at = log
            .find("SHA-256 fingerprint ")
            .expect("fingerprint logged")
            + 20;
        log[at..at + 95].to_owned()
    }

    /// curl with the hub's certificate as the only trust anchor: (HTTP status, body).
    pub fn curl(&self, host: &str, args: &[&str], path: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(self.cert())
            .args(args)
            .args(["-w", "\n%{http_code}"])
            .arg(format!("https://{host}:{}{path}", self.port))
            .output()
            .expect("curl not found: apt-get install curl");
        assert!(out.status.success(), "curl failed: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap(), body.to_owned())
    }

    /// A new enrollment code through the admin API.
    pub fn code(&self, admin_token: &str) -> String {
        let auth = format!("Authorization: Bearer {admin_token}");
        let (status, body) = self.curl(
            "127.0.0.1",
            &["-X", "POST", "-H", &auth],
            "/api/v1/hub/enroll-codes",
        );
        assert_eq!(status, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["code"].as_str().unwrap().to_owned()
    }

    /// SIGINT, and the exit status.
    pub fn stop(mut self) -> String {
        let st = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let status = self.child.wait().unwrap();
        let log = self.log();
        assert!(status.success(), "the hub exited with {status}:\n{log}");
        log
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn piwardrive(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

pub fn enroll(hub_url: &str, code: &str, device: &Path, name: &str) -> Output {
    piwardrive(&[
        "sync",
        "enroll",
        hub_url,
        code,
        "--data-dir",
        device.to_str().unwrap(),
        "--name",
        name,
    ])
}

/// An admin API token for the hub's data directory, made before the hub holds the store.
pub fn admin_token(data: &Path) -> String {
    let out = piwardrive(&[
        "token",
        "create",
        "--name",
        "admin-script",
        "--role",
        "admin",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
