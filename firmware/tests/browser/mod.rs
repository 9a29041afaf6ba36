//! The browser-test harness: a `piwardrive demo`, a chromedriver and the headless Chromium it
//! drives, each started by the test and killed when its guard drops (also on panic), plus the
//! checks that tell whether a page ran a script.
//!
//! The WebDriver client is fantoccini (crates.io), built without default features and given
//! hyper-util's plain `HttpConnector`: chromedriver is on loopback, so no TLS stack (neither
//! OpenSSL nor rustls) is compiled at all, and no code can reach the network. thirtyfour
//! (0.38) would also do, but by default it brings reqwest with rustls and a driver manager
//! that downloads chromedriver, and offers nothing these tests need beyond fantoccini's
//! commands plus the one raw command below (the browser log).
//!
//! Navigation goes through [`Ui::open`]; [`Ui::start`] logs the browser in through the login
//! form first ([`Ui::start_logged_out`] leaves that to the test).

#![allow(dead_code)]

pub mod pcap;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::common::{free_port, get, wait_until};

/// What to install when a browser tool is missing. The browser tests never skip: a check that
/// silently does not run is a check nobody has.
const INSTALL: &str = "apt-get install chromium chromium-driver";

/// The phone the UI is made for.
pub const WIDTH: u32 = 360;
pub const HEIGHT: u32 = 800;

/// Chromium's flags. Without the background-networking ones it keeps calling home (updates,
/// sync, field trials) over a network that is not there, which slows every page down.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
];

/// The first of `names` that is an executable file on PATH.
fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Sends SIGINT, waits up to `grace` for the process to exit, then SIGKILLs its process group.
fn stop(child: &mut Child, grace: Duration) {
    let pid = child.id() as i32;
    if let Ok(None) = child.try_wait() {
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Whatever the process started in its group (Chromium's helpers) goes with it.
    // SAFETY: as above; a group that is already gone only makes kill(2) fail.
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let _ = child.wait();
}

/// The admin password the tests give the demo (`--password`).
pub const PASSWORD: &str = "browser-test-password";

/// A `piwardrive demo` on a free loopback port, stopped on drop.
pub struct Demo {
    child: Child,
    pub addr: String,
    /// The demo's standard error, shown when it does not come up.
    log: tempfile::NamedTempFile,
    /// `Cookie:` value of an admin session, for [`Demo::get`].
    cookie: String,
}

impl Demo {
    /// Starts the demo with `args` after `demo --listen ADDR` and waits until it answers.
    pub fn start(args: &[&str]) -> Demo {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
            .args(["demo", "--listen", &addr, "--password", PASSWORD])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .process_group(0)
            .spawn()
            .expect("starting piwardrive demo");
        let mut demo = Demo {
            child,
            addr,
            log,
            cookie: String::new(),
        };
        let up = wait_until(Duration::from_secs(20), || {
            matches!(get(&demo.addr, "/api/v1/system/health"), Some((200, _)))
        });
        if !up {
            let status = demo.child.try_wait();
            panic!(
                "piwardrive demo {args:?} did not answer on {} within 20 s (exit: {status:?})\n{}",
                demo.addr,
                std::fs::read_to_string(demo.log.path()).unwrap_or_default()
            );
        }
        demo.cookie = http_login(&demo.addr, "admin", PASSWORD);
        demo
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The demo's temporary data directory (its store, and the settings overlay the
    /// settings page writes), named after its process id by `demo`.
    pub fn data_dir(&self) -> PathBuf {
        std::env::temp_dir().join(format!("piwardrive-demo-{}", self.child.id()))
    }

    /// A GET of `path` outside the browser: (status, headers, body). The one place the tests
    /// read the demo directly, so credentials go here once the UI asks for them.
    pub fn get(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
        http_request(&self.addr, "GET", path, &[("Cookie", &self.cookie)], "")
    }

    /// The parsed `/api/v1/networks` (first page unless `query` says otherwise).
    pub fn api_networks(&self, query: &str) -> Value {
        let (status, _, body) = self.get(&format!("/api/v1/networks{query}"));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("the API answers JSON")
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // SIGINT lets the demo delete its temporary store itself.
        stop(&mut self.child, Duration::from_secs(10));
        let tmp = std::env::temp_dir().join(format!("piwardrive-demo-{}", self.child.id()));
        let _ = std::fs::remove_dir_all(tmp);
    }
}

/// A chromedriver (and the Chromium it starts, in the same process group), killed on drop.
struct Driver {
    child: Child,
    port: u16,
    /// Chromium's profile and chromedriver's log; removed on drop.
    dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let exe = find_on_path(&["chromedriver"]).unwrap_or_else(|| {
            panic!("chromedriver is not on PATH: the browser tests need it ({INSTALL})")
        });
        let dir = tempfile::tempdir().expect("temporary directory for Chromium");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).unwrap();
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting chromedriver failed: {e} ({INSTALL})"));
        let driver = Driver { child, port, dir };
        let up = wait_until(Duration::from_secs(20), || {
            matches!(raw_http(port, "GET", "/status", None), Some((200, _)))
        });
        assert!(
            up,
            "chromedriver did not answer within 20 s\n{}",
            driver.log()
        );
        driver
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

/// A minimal blocking HTTP/1.1 exchange with chromedriver, for use where no async runtime
/// can be awaited (in `Drop`): returns (status, body).
fn raw_http(port: u16, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    read_response(&mut s).ok()
}

/// Reads one HTTP/1.1 response: up to the end of the headers, then Content-Length bytes
/// (chromedriver keeps the connection open even when asked to close it).
fn read_response(s: &mut TcpStream) -> std::io::Result<(u16, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let bad = || std::io::Error::other("malformed HTTP response");
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(bad());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((
        status,
        String::from_utf8_lossy(&buf[head_end..]).into_owned(),
    ))
}

/// chromedriver's (non-W3C) `POST /session/{id}/se/log`: the browser console entries since
/// the last call. Enabled by the `goog:loggingPrefs` capability.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// One entry of the browser log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub level: String,
    pub source: String,
    pub message: String,
}

/// A headless Chromium at 360×800 in a fresh profile, driven over WebDriver.
pub struct Browser {
    pub client: Client,
    session: String,
    driver: Driver,
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = find_on_path(&["chromium", "chromium-browser", "google-chrome"])
            .unwrap_or_else(|| {
                panic!("Chromium is not on PATH: the browser tests need it ({INSTALL})")
            });
        let driver = Driver::start();
        let profile = driver.dir.path().join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        let caps = json!({
            "browserName": "chrome",
            // A phone's viewport exactly (the window size alone would include the space of
            // the browser's own bars), with the mobile handling of `<meta name=viewport>`.
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "mobileEmulation": { "deviceMetrics": {
                    "width": WIDTH, "height": HEIGHT, "pixelRatio": 1.0, "mobile": true, "touch": true,
                } },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
            // Leave alerts open, so that a check after navigation still finds one: the
            // default ("dismiss and notify") would close it and fail some later command.
            "unhandledPromptBehavior": "ignore",
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start Chromium ({}): {e}\n{}",
                    chromium.display(),
                    driver.log()
                )
            });
        let session = client
            .session_id()
            .await
            .unwrap()
            .expect("a new session has an id");
        Browser {
            client,
            session,
            driver,
        }
    }

    /// The process ids of chromedriver and of the Chromium it started.
    pub fn pids(&self) -> [u32; 2] {
        let chromium = self
            .client
            .capabilities()
            .and_then(|c| c.get("goog:processID"))
            .and_then(Value::as_u64)
            .expect("chromedriver reports Chromium's goog:processID") as u32;
        [self.driver.child.id(), chromium]
    }

    /// The text of an open alert, confirm or prompt, if one is open.
    pub async fn alert(&self) -> Option<String> {
        match self.client.get_alert_text().await {
            Ok(text) => Some(text),
            Err(e) if e.is_no_such_alert() => None,
            Err(e) => panic!("asking for an alert failed: {e}"),
        }
    }

    /// The browser console and network errors since the last call (the log drains).
    pub async fn log(&self) -> Vec<LogEntry> {
        let v = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("reading the browser log (se/log)");
        v.as_array()
            .expect("se/log answers a list")
            .iter()
            .map(|e| LogEntry {
                level: e["level"].as_str().unwrap_or("").to_owned(),
                source: e["source"].as_str().unwrap_or("").to_owned(),
                message: e["message"].as_str().unwrap_or("").to_owned(),
            })
            .collect()
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script:?} failed: {e}"))
    }

    /// What a script that ran would leave behind: an open alert, an error or warning in the
    /// console (a Content-Security-Policy refusal is one), or the `id` the test payloads set
    /// on `<body>`. Empty when the page is clean. `allow` filters log entries that are
    /// expected (the 404 page's own status).
    pub async fn script_traces(&self, allow: impl Fn(&LogEntry) -> bool) -> Vec<String> {
        let mut traces = Vec::new();
        if let Some(text) = self.alert().await {
            traces.push(format!("an alert is open: {text:?}"));
            // Close it so the checks below can talk to the page.
            let _ = self.client.dismiss_alert().await;
        }
        for e in self.log().await {
            if e.level != "INFO" && e.level != "DEBUG" && !allow(&e) {
                traces.push(format!(
                    "browser log {} [{}]: {}",
                    e.level, e.source, e.message
                ));
            }
        }
        let body_id = self
            .js("return document.body ? document.body.getAttribute('id') : null;")
            .await;
        if !body_id.is_null() {
            traces.push(format!("<body> got id={body_id} from a script"));
        }
        traces
    }

    /// Writes a PNG of the viewport to target/ui-screenshots/NAME.png and checks its size.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("taking a screenshot");
        let (w, h) = png_size(&png).expect("the screenshot is a PNG");
        assert_eq!(
            (w, h),
            (WIDTH, HEIGHT),
            "the screenshot should be the 360x800 phone viewport"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask chromedriver to close Chromium properly (its crash handlers go with it); the
        // driver's guard then kills whatever is left in the process group.
        let _ = raw_http(
            self.driver.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

/// target/ui-screenshots, next to the binaries under test (so CARGO_TARGET_DIR is honoured).
pub fn screenshot_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_piwardrive"));
    exe.ancestors()
        .nth(2)
        .expect("the binary lives in target/<profile>/")
        .join("ui-screenshots")
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

/// The demo UI in the browser: the one place that navigates, so a login step fits here.
pub struct Ui {
    pub browser: Browser,
    pub demo: Demo,
}

impl Ui {
    /// Starts the browser, then the demo, so that the first page can be opened as soon as
    /// the demo answers (the growth test wants to see the list while it is still short).
    pub async fn start(demo_args: &[&str]) -> Ui {
        let ui = Ui::start_logged_out(demo_args).await;
        ui.log_in().await;
        ui
    }

    /// The same without logging the browser in (the login tests do it themselves).
    pub async fn start_logged_out(demo_args: &[&str]) -> Ui {
        let browser = Browser::start().await;
        let demo = Demo::start(demo_args);
        Ui { browser, demo }
    }

    /// Logs the browser in through the login form, as a user does.
    pub async fn log_in(&self) {
        let c = &self.browser.client;
        c.goto(&self.demo.url("/login"))
            .await
            .unwrap_or_else(|e| panic!("opening /login: {e}"));
        let form = c
            .form(Locator::Css("form[action='/login']"))
            .await
            .expect("the login form");
        form.set_by_name("password", PASSWORD)
            .await
            .expect("typing the password");
        form.submit().await.expect("submitting the login form");
        self.wait_js(
            "return document.readyState === 'complete' && location.pathname !== '/login';",
            Duration::from_secs(10),
        )
        .await;
    }

    /// The demo's, chromedriver's and Chromium's process ids.
    pub fn pids(&self) -> [u32; 3] {
        let [driver, chromium] = self.browser.pids();
        [self.demo.child.id(), driver, chromium]
    }

    /// Loads `path` of the demo and waits until the document and htmx are ready.
    pub async fn open(&self, path: &str) {
        let c = &self.browser.client;
        c.goto(&self.demo.url(path))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
        // goto returns after the load event; an alert opened by a script blocks every
        // script, so only wait for htmx when none is open.
        if self.browser.alert().await.is_none() {
            self.wait_js(
                "return document.readyState === 'complete' \
                 && (typeof htmx !== 'undefined' || !document.querySelector('script[src*=htmx]'));",
                Duration::from_secs(10),
            )
            .await;
        }
    }

    /// Polls `script` until it returns `true`; panics with the script after `within`.
    pub async fn wait_js(&self, script: &str, within: Duration) {
        let t = Instant::now();
        loop {
            if self.browser.js(script).await == Value::Bool(true) {
                return;
            }
            assert!(t.elapsed() < within, "waited {within:?} for: {script}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?}: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self
            .browser
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
        {
            out.push(e.text().await.unwrap());
        }
        out
    }

    pub async fn click(&self, css: &str) {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} to click: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    pub async fn path(&self) -> String {
        let url = self.browser.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Asserts that no script ran on the current page (see [`Browser::script_traces`]).
    pub async fn assert_no_script_ran(&self, what: &str) {
        let traces = self.browser.script_traces(|_| false).await;
        assert!(traces.is_empty(), "{what}: {traces:#?}");
    }
}

/// A GET over loopback that keeps the headers: (status, headers, body).
pub fn http_get(addr: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    http_request(addr, "GET", path, &[], "")
}

/// One HTTP/1.0 request with extra headers and, unless empty, a urlencoded form body.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).expect("connecting");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // HTTP/1.0, so that a streamed body (an export) comes close-delimited, not chunked.
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if !form.is_empty() {
        head += &format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        );
    }
    write!(s, "{head}\r\n{form}").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// Logs in as a browser does (the login page's CSRF token and cookie, then the form);
/// returns the session's `Cookie:` value.
pub fn http_login(addr: &str, user: &str, password: &str) -> String {
    let set_cookie = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")).map(|_| v.clone()))
            .map(|v| v.split(';').next().unwrap().to_owned())
    };
    let (_, headers, page) = http_get(addr, "/login");
    let pre = set_cookie(&headers, "pw_csrf").expect("the login page sets pw_csrf");
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = &page[at..at + page[at..].find('"').unwrap()];
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", csrf)
        .append_pair("username", user)
        .append_pair("password", password)
        .finish();
    let (status, headers, body) = http_request(addr, "POST", "/login", &[("Cookie", &pre)], &form);
    assert_eq!(status, 303, "login refused: {body}");
    set_cookie(&headers, "pw_session").expect("a session cookie")
}

/// A tiny HTTP server of the test's own (std `TcpListener`, one thread): fixed HTML pages,
/// optional extra headers on them, and everything else fetched from `fallback` (the demo),
/// so a page of the demo can be served under other headers. Stopped on drop.
pub struct Fixture {
    addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fixture {
    pub fn serve(pages: Vec<(String, String)>, fallback: Option<String>) -> Fixture {
        Fixture::start(pages, vec![], fallback)
    }

    /// Serves `pages` under the part of the UI's Content-Security-Policy that governs
    /// scripts (`web::CSP`: scripts from this origin only).
    pub fn serve_with_csp(pages: Vec<(String, String)>) -> Fixture {
        let csp = (
            "Content-Security-Policy".to_owned(),
            "default-src 'self'; script-src 'self'".to_owned(),
        );
        Fixture::start(pages, vec![csp], None)
    }

    fn start(
        pages: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        fallback: Option<String>,
    ) -> Fixture {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let _ = answer(conn, &pages, &headers, fallback.as_deref());
                    }
                }
            })
        };
        Fixture {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn answer(
    mut conn: TcpStream,
    pages: &[(String, String)],
    headers: &[(String, String)],
    fallback: Option<&str>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
    }
    let req = String::from_utf8_lossy(&req);
    let path = req.split(' ').nth(1).unwrap_or("/").to_owned();
    let (status, extra, body) = if let Some((_, html)) = pages.iter().find(|(p, _)| *p == path) {
        (200, headers, html.clone())
    } else if let Some((status, body)) = fallback.and_then(|a| get(a, &path)) {
        (status, &[][..], body)
    } else {
        (404, &[][..], "not found".to_owned())
    };
    let ctype = match path.rsplit('.').next() {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        _ => "text/html; charset=utf-8",
    };
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in extra {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
