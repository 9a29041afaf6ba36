//! The web UI in a real browser: `piwardrive demo` driven by headless Chromium at phone size
//! (360×800) over WebDriver. What the pages show, htmx paging, the list growing as the demo
//! replays, screenshots of every page (target/ui-screenshots/), hostile SSIDs that must stay
//! text, and a check that the harness's script detector does fire.
//!
//! Needs `chromium` and `chromedriver` on PATH (`apt-get install chromium chromium-driver`);
//! without them the tests fail, they never skip. How to run them: docs/testing.md.

mod browser;
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use browser::pcap::{Beacon, beacons_pcap};
use browser::{Browser, Fixture, Ui};
use serde_json::Value;

/// The list's page size (`web::PAGE_SIZE`).
const PAGE: usize = 50;

/// 2026-01-02 03:04:05 UTC: the test captures' first frame (the export test's GPS log
/// starts 2 s earlier).
const T0: i64 = 1_767_323_045_000_000;

fn bssid(prefix: u8, i: u8) -> [u8; 6] {
    [0x02, 0x00, 0x5e, prefix, 0x00, i]
}

fn mac_text(b: [u8; 6]) -> String {
    b.map(|o| format!("{o:02x}")).join(":")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `aps` as a capture in `dir` and returns its path.
fn write_capture(dir: &Path, name: &str, aps: &[Beacon], gap_us: i64) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, beacons_pcap(aps, 1, T0, gap_us)).unwrap();
    path
}

/// `(rows, count text)` of the list on the current page: each row as (BSSID, SSID) text.
async fn list_rows(ui: &Ui) -> Vec<(String, String)> {
    let v = ui
        .browser
        .js("return Array.from(document.querySelectorAll('#netlist table.nets tbody tr')).map(\
             tr => [tr.querySelector('td.bssid').innerText, tr.querySelector('td.ssid').innerText]);")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The number at the front of the list's count line ("34 networks · page 1 of 1").
async fn shown_total(ui: &Ui) -> u64 {
    ui.text("#netlist p.count strong").await.parse().unwrap()
}

/// 120 plainly named networks, beaconing in a round 5 ms apart: three pages of the list.
#[tokio::test]
async fn list_pages_with_htmx_sorts_and_opens_a_network() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..120).map(|i| format!("net-{i:03}")).collect();
    let aps: Vec<Beacon> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Beacon {
            bssid: bssid(1, i as u8),
            ssid: n.as_bytes(),
            channel: 1 + (i % 11) as u8,
        })
        .collect();
    let cap = write_capture(dir.path(), "many.pcap", &aps, 5_000);
    let ui = Ui::start(&["--replay", cap.to_str().unwrap()]).await;
    assert!(
        common::wait_until(Duration::from_secs(20), || {
            ui.demo.api_networks("")["total"] == 120
        }),
        "the replay should record all 120 networks"
    );

    ui.open("/networks").await;
    assert_eq!(
        ui.text("#netlist p.count").await,
        "120 networks · page 1 of 3"
    );
    assert_eq!(
        ui.browser
            .js("return document.querySelector('select[name=sort]').value;")
            .await,
        "first"
    );
    // Newest first seen first: the capture's last network heads the list, and every row
    // is one older than the row above it.
    let rows = list_rows(&ui).await;
    assert_eq!(rows.len(), PAGE);
    let expect: Vec<(String, String)> = (70..120)
        .rev()
        .map(|i| (mac_text(bssid(1, i as u8)), format!("net-{i:03}")))
        .collect();
    assert_eq!(rows, expect);
    assert_eq!(ui.text("nav.pager span.off").await, "← Newer");
    ui.browser.screenshot("networks-page-1").await;

    // "Older →" is an htmx link: the list is swapped in place (a value the test leaves on
    // `window` survives, which a full page load would clear) and the URL is pushed.
    ui.browser
        .js("window.pwMarker = 'kept'; return null;")
        .await;
    ui.click("nav.pager a[rel=next]").await;
    ui.wait_js(
        "return document.querySelector('#netlist p.count').innerText.includes('page 2 of 3');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ui.browser.js("return window.pwMarker;").await, "kept");
    assert_eq!(ui.path().await, "/networks?page=2");
    let rows = list_rows(&ui).await;
    assert_eq!(rows.len(), PAGE);
    assert_eq!(rows[0].1, "net-069");
    assert_eq!(rows[PAGE - 1].1, "net-020");
    ui.browser.screenshot("networks-page-2").await;
    ui.click("nav.pager a[rel=next]").await;
    ui.wait_js(
        "return document.querySelector('#netlist p.count').innerText.includes('page 3 of 3');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(list_rows(&ui).await.len(), 20);
    assert_eq!(ui.text("nav.pager span.off").await, "Older →");
    // Back to page 2 through "← Newer", still in place.
    ui.click("nav.pager a[rel=prev]").await;
    ui.wait_js(
        "return document.querySelector('#netlist p.count').innerText.includes('page 2 of 3');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ui.browser.js("return window.pwMarker;").await, "kept");

    // Sort by last seen: the form's select, which htmx submits on change and swaps into the
    // list in place. The networks beacon in a round, so the most recently heard come in
    // descending order, wrapping from net-000 to net-119.
    ui.browser
        .js(
            "const s = document.querySelector('select[name=sort]'); s.value = 'last'; \
             s.dispatchEvent(new Event('change', { bubbles: true })); return null;",
        )
        .await;
    ui.wait_js(
        "return location.search.includes('sort=last') && \
         document.querySelector('#netlist p.count').innerText.includes('page 1 of 3');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ui.browser.js("return window.pwMarker;").await, "kept");
    let rows = list_rows(&ui).await;
    assert_eq!(rows.len(), PAGE);
    let index = |ssid: &str| ssid["net-".len()..].parse::<usize>().unwrap();
    for pair in rows.windows(2) {
        assert_eq!(
            (index(&pair[0].1) + 120 - 1) % 120,
            index(&pair[1].1),
            "rows out of last-seen order: {rows:?}"
        );
    }
    // Paging keeps the sort.
    assert_eq!(
        ui.browser
            .client
            .find(fantoccini::Locator::Css("nav.pager a[rel=next]"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .as_deref(),
        Some("/networks?page=2&sort=last")
    );

    // Search as you type: "net-11" keeps net-110 ... net-119 (newest first seen again).
    ui.browser
        .js(
            "const s = document.querySelector('select[name=sort]'); s.value = 'first'; \
             const q = document.querySelector('#q'); q.value = 'net-11'; \
             q.dispatchEvent(new Event('input', { bubbles: true })); return null;",
        )
        .await;
    ui.wait_js(
        "return document.querySelector('#netlist p.count').innerText.startsWith('10 networks');",
        Duration::from_secs(10),
    )
    .await;
    let rows = list_rows(&ui).await;
    let want: Vec<String> = (110..120).rev().map(|i| format!("net-{i}")).collect();
    assert_eq!(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), want);
    assert!(ui.path().await.contains("q=net-11"));
    ui.browser.screenshot("networks-search").await;
    ui.open("/networks").await;

    // A row opens its network.
    let (first_bssid, first_ssid) = list_rows(&ui).await.remove(0);
    ui.click("#netlist td.bssid a").await;
    ui.wait_js(
        "return location.pathname.startsWith('/networks/') && !!document.querySelector('h1.ssid');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ui.path().await, format!("/networks/{first_bssid}"));
    assert_eq!(ui.text("h1.ssid").await, first_ssid);
    assert_eq!(ui.text("p.sub span.mono").await, first_bssid);
    assert_eq!(
        ui.browser.client.title().await.unwrap(),
        format!("{first_ssid} ({first_bssid}) · PiWardrive")
    );
    ui.assert_no_script_ran("the list and a network").await;
}

/// The bundled captures at 2× speed: the count rises while the page is reloaded, and every
/// page looks right at phone size (the screenshots are the README's candidates). The bundled
/// captures hold 34 networks, most of them found in the first seconds, so the first page is
/// opened as soon as the demo answers and the replay is not sped up much.
#[tokio::test]
async fn bundled_demo_grows_and_every_page_renders() {
    let ui = Ui::start(&["--speed", "2"]).await;

    // Watch the counter rise: at least three different, increasing counts.
    ui.open("/networks").await;
    let mut seen = vec![shown_total(&ui).await];
    let t = Instant::now();
    while seen.len() < 3 || *seen.last().unwrap() < 10 {
        assert!(
            t.elapsed() < Duration::from_secs(45),
            "the list should grow while the demo replays; counts seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        ui.browser.client.refresh().await.unwrap();
        let n = shown_total(&ui).await;
        assert!(
            n >= *seen.last().unwrap(),
            "the count fell: {seen:?} then {n}"
        );
        if n > *seen.last().unwrap() {
            seen.push(n);
        }
    }
    println!("network counts seen while the demo replayed: {seen:?}");
    let rows = list_rows(&ui).await;
    assert!(rows.len() >= 10, "{rows:?}");
    assert_eq!(
        ui.browser
            .js("return document.querySelector('nav.nav a[aria-current=page]').innerText;")
            .await,
        "Networks"
    );
    // One column at 360 px: nothing makes the page itself scroll sideways (the table has its
    // own scroller).
    assert_eq!(
        ui.browser
            .js("return document.documentElement.scrollWidth <= window.innerWidth;")
            .await,
        true,
        "the page is wider than the phone"
    );
    ui.browser.screenshot("networks").await;
    ui.assert_no_script_ran("/networks").await;

    // The detail page of a network that has a name, opened from its row.
    let (bssid, ssid) = rows
        .iter()
        .find(|(_, s)| !s.starts_with('('))
        .cloned()
        .expect("a named network");
    ui.click(&format!("#netlist td.bssid a[href='/networks/{bssid}']"))
        .await;
    ui.wait_js(
        "return !!document.querySelector('h1.ssid');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ui.text("h1.ssid").await, ssid);
    let headings = ui.texts("main h2").await;
    assert_eq!(
        headings,
        [
            "Your notes",
            "Radio",
            "Security",
            "Seen",
            "Signal",
            "Clients",
            "SSID history",
            "Latest sightings"
        ]
    );
    ui.browser.screenshot("network-detail").await;
    ui.assert_no_script_ran("a network's page").await;

    // The capture page: the demo captures nothing live, and says so.
    ui.open("/capture").await;
    assert_eq!(ui.text("main h1").await, "Capture");
    let empty = ui.text("#sources p.empty").await;
    assert!(empty.contains("This process captures nothing"), "{empty}");
    assert!(empty.contains("piwardrive run"), "{empty}");
    ui.browser.screenshot("capture").await;
    ui.assert_no_script_ran("/capture").await;

    // Unknown addresses: the 404 page, inside the layout. Chromium logs the 404 status
    // itself as an error; nothing else may appear.
    for (path, message) in [
        ("/no/such/page", "There is no page at this address."),
        ("/networks/not-a-bssid", "That is not a BSSID"),
        (
            "/networks/02:00:00:00:00:99",
            "No network with BSSID 02:00:00:00:00:99 has been recorded.",
        ),
    ] {
        ui.open(path).await;
        assert_eq!(ui.text("main h1").await, "Not found");
        let p = ui.text("main p").await;
        assert!(p.starts_with(message), "{path}: {p}");
        assert_eq!(
            ui.browser.client.title().await.unwrap(),
            "Not found · PiWardrive"
        );
        let traces = ui
            .browser
            .script_traces(|e| e.source == "network" && e.message.contains("404"))
            .await;
        assert!(traces.is_empty(), "{path}: {traces:#?}");
    }
    ui.open("/no/such/page").await;
    ui.browser.screenshot("not-found").await;
    // Its link leads back to the list.
    ui.click("main a[href='/networks']").await;
    ui.wait_js(
        "return location.pathname === '/networks';",
        Duration::from_secs(10),
    )
    .await;
}

/// SSIDs built to break out of HTML, attributes, the title, htmx, spreadsheets and text
/// rendering, with what the UI must show for each (`web::escape`: printable text as itself,
/// anything else as a visible `\xNN`, a backslash doubled).
const HOSTILE: &[(&[u8], &str)] = &[
    (b"<script>alert(1)</script>", "<script>alert(1)</script>"),
    (
        b"<img src=x onerror=alert(2)>",
        "<img src=x onerror=alert(2)>",
    ),
    // Would set an attribute on <body> if it ran (checked by `script_traces`).
    (
        b"<svg/onload=document.body.id=1>",
        "<svg/onload=document.body.id=1>",
    ),
    (
        b"\"><img src=x onerror=alert(3)>",
        "\"><img src=x onerror=alert(3)>",
    ),
    (b"'><svg onload=alert(4)>", "'><svg onload=alert(4)>"),
    // The detail page puts the SSID in <title>.
    (
        b"</title><svg onload=alert(5)>",
        "</title><svg onload=alert(5)>",
    ),
    // htmx would act on this element even under the Content-Security-Policy.
    (
        b"<b hx-get=/x hx-trigger=load>hx",
        "<b hx-get=/x hx-trigger=load>hx",
    ),
    (b"it's \"quoted\"", "it's \"quoted\""),
    (b"=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
    (b"+SUM(1,2)", "+SUM(1,2)"),
    (b"-2+3", "-2+3"),
    (b"@SUM(A1:A2)", "@SUM(A1:A2)"),
    // U+202E RIGHT-TO-LEFT OVERRIDE would show "evilexe.jpg".
    ("evil\u{202e}gpj.exe".as_bytes(), r"evil\xe2\x80\xaegpj.exe"),
    (b"nul\0inside\0", r"nul\x00inside\x00"),
    (b"bad\xff\xfeutf8\xc3", r"bad\xff\xfeutf8\xc3"),
    (b"back\\slash", r"back\\slash"),
];

fn hostile_capture(dir: &Path) -> std::path::PathBuf {
    let aps: Vec<Beacon> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, (ssid, _))| Beacon {
            bssid: bssid(2, i as u8),
            ssid,
            channel: 6,
        })
        .collect();
    // 50 ms apart: one round is 0.8 s, so the looping demo stays idle most of the time.
    write_capture(dir, "hostile.pcap", &aps, 50_000)
}

#[tokio::test]
async fn hostile_ssids_stay_text_in_the_browser_and_exact_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let cap = hostile_capture(dir.path());
    let ui = Ui::start(&["--replay", cap.to_str().unwrap()]).await;
    assert!(
        common::wait_until(Duration::from_secs(20), || {
            ui.demo.api_networks("")["total"] == HOSTILE.len()
        }),
        "the replay should record all {} networks",
        HOSTILE.len()
    );

    // The JSON API: the exact bytes in ssid_hex, the escaped text in ssid, served as JSON
    // that a browser will not sniff into HTML.
    let (status, headers, body) = ui.demo.get("/api/v1/networks");
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-content-type-options"), Some("nosniff"));
    let api: Value = serde_json::from_str(&body).unwrap();
    for (i, (raw, shown)) in HOSTILE.iter().enumerate() {
        let mac = mac_text(bssid(2, i as u8));
        let net = api["networks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["bssid"] == mac.as_str())
            .unwrap_or_else(|| panic!("{mac} missing from the API"));
        assert_eq!(net["ssid_hex"], hex(raw).as_str(), "{mac}");
        assert_eq!(net["ssid"], *shown, "{mac}");
        assert_eq!(net["hidden"], false, "{mac}");
    }

    // The list: every SSID shown as text, byte escapes in their own styled spans, and no
    // element or attribute from the air in the DOM.
    ui.open("/networks").await;
    ui.assert_no_script_ran("/networks with hostile SSIDs")
        .await;
    let rows = list_rows(&ui).await;
    assert_eq!(rows.len(), HOSTILE.len());
    for (i, (_, shown)) in HOSTILE.iter().enumerate() {
        let mac = mac_text(bssid(2, i as u8));
        let row = rows.iter().find(|(b, _)| *b == mac).unwrap();
        assert_eq!(row.1, *shown, "{mac}");
    }
    assert_no_injected_markup(&ui, "/networks").await;
    let escapes = ui.texts("#netlist td.ssid span.esc").await;
    for esc in [r"\xe2\x80\xae", r"\x00", r"\xff\xfe", r"\xc3", r"\\"] {
        assert!(
            escapes.iter().any(|e| e == esc),
            "{esc} should be shown as an escape: {escapes:?}"
        );
    }
    ui.browser.screenshot("hostile-networks").await;

    // Each network's page: the SSID in the heading, the history and the window title.
    for (i, (_, shown)) in HOSTILE.iter().enumerate() {
        let mac = mac_text(bssid(2, i as u8));
        ui.open(&format!("/networks/{mac}")).await;
        ui.assert_no_script_ran(&format!("/networks/{mac}")).await;
        assert_eq!(ui.text("h1.ssid").await, *shown, "{mac}");
        assert_eq!(ui.texts("table.plain td.ssid").await[0], *shown, "{mac}");
        assert_eq!(
            ui.browser.client.title().await.unwrap(),
            format!("{shown} ({mac}) · PiWardrive")
        );
        assert_no_injected_markup(&ui, &mac).await;
        if i == 0 {
            ui.browser.screenshot("hostile-network-detail").await;
        }
    }

    // The API opened in the browser is text too.
    ui.open("/api/v1/networks").await;
    // A JSON document names no icon, so Chromium asks for /favicon.ico, which the UI does
    // not serve; that 404 is the one expected log entry.
    let traces = ui
        .browser
        .script_traces(|e| e.source == "network" && e.message.contains("/favicon.ico"))
        .await;
    assert!(
        traces.is_empty(),
        "/api/v1/networks in the browser: {traces:#?}"
    );
    assert_eq!(
        ui.browser
            .js("return document.querySelectorAll('img, svg, script, b').length;")
            .await,
        0
    );

    // Escaping alone holds: the same list page served without the Content-Security-Policy
    // (by the test, with the demo's static files) runs nothing either.
    let (status, _, html) = ui.demo.get("/networks");
    assert_eq!(status, 200);
    let mirror = Fixture::serve(vec![("/mirror".into(), html)], Some(ui.demo.addr.clone()));
    ui.browser
        .client
        .goto(&mirror.url("/mirror"))
        .await
        .unwrap();
    ui.wait_js(
        "return document.readyState === 'complete' && typeof htmx !== 'undefined';",
        Duration::from_secs(10),
    )
    .await;
    // Give htmx's load triggers time to fire if it had found any.
    tokio::time::sleep(Duration::from_millis(500)).await;
    ui.assert_no_script_ran("/networks without the CSP").await;
    assert_eq!(list_rows(&ui).await.len(), HOSTILE.len());
}

/// The DOM holds only the elements the templates write: nothing a hostile SSID could add.
async fn assert_no_injected_markup(ui: &Ui, what: &str) {
    let found = ui
        .browser
        .js("return Array.from(document.querySelectorAll(\
             'main img:not(.chart), main svg, main script, main b, main title, [onerror], [onload], \
              [hx-trigger]:not(form.filters)'\
             )).map(e => e.outerHTML);")
        .await;
    assert_eq!(found, Value::Array(vec![]), "{what}: injected markup");
}

/// `ingest` then `export`: the CSV neutralises formula prefixes and keeps the exact bytes in
/// `ssid_hex`; the WiGLE CSV keeps each SSID in its own field.
#[test]
fn hostile_ssids_survive_export() {
    let dir = tempfile::tempdir().unwrap();
    let cap = hostile_capture(dir.path());
    // A GPS track over the capture's time, so WiGLE (which needs a position) has rows.
    let mut gpx = String::from(
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"piwardrive tests\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>\n",
    );
    for s in 0..10 {
        let t = T0 / 1_000_000 - 2 + s;
        let secs = t % 60;
        let mins = (t / 60) % 60;
        let hours = (t / 3600) % 24;
        // T0 is 2026-01-02 03:04:05 UTC; the track stays inside that day.
        gpx.push_str(&format!(
            "<trkpt lat=\"52.85{s}\" lon=\"5.31\"><ele>1</ele><time>2026-01-02T{hours:02}:{mins:02}:{secs:02}Z</time></trkpt>\n"
        ));
    }
    gpx.push_str("</trkseg></trk></gpx>\n");
    let gps = dir.path().join("track.gpx");
    std::fs::write(&gps, gpx).unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["ingest", "--data-dir"])
        .arg(&data)
        .arg("--gps")
        .arg(&gps)
        .arg(&cap)
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
    let export = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_piwardrive"))
            .args(["export", "--format", format, "--data-dir"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("exports are UTF-8")
    };

    let csv = parse_csv(&export("csv"));
    let head = &csv[0];
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    assert_eq!(csv.len(), 1 + HOSTILE.len());
    for (i, (raw, _)) in HOSTILE.iter().enumerate() {
        let mac = mac_text(bssid(2, i as u8));
        let row = csv
            .iter()
            .find(|r| r[col("bssid")] == mac)
            .unwrap_or_else(|| panic!("{mac} missing from the CSV"));
        assert_eq!(row.len(), head.len(), "{mac}: {row:?}");
        assert_eq!(row[col("ssid_hex")], hex(raw), "{mac}");
        let ssid = &row[col("ssid")];
        if raw.starts_with(b"=")
            || raw.starts_with(b"+")
            || raw.starts_with(b"-")
            || raw.starts_with(b"@")
        {
            assert_eq!(
                ssid.as_bytes(),
                [b"'".as_slice(), raw].concat(),
                "{mac}: a formula must be neutralised"
            );
        } else if raw.iter().all(|b| (b' '..=b'~').contains(b) && *b != b'\\') {
            assert_eq!(ssid.as_bytes(), *raw, "{mac}");
        }
        assert!(!ssid.starts_with(['=', '+', '-', '@']), "{mac}: {ssid:?}");
    }
    // Invalid UTF-8 and NUL are escaped visibly in the CSV (the exact bytes are in ssid_hex).
    let ssids: Vec<&str> = csv[1..].iter().map(|r| r[col("ssid")].as_str()).collect();
    assert!(ssids.contains(&r"bad\xff\xfeutf8\xc3"), "{ssids:?}");
    assert!(ssids.contains(&r"nul\x00inside\x00"), "{ssids:?}");

    // WiGLE CSV 1.6: a pre-header, the header, then one row per sighting with a position;
    // every row has its 14 fields whatever the SSID holds. WiGLE keys networks by BSSID and
    // wants the SSID as broadcast, so `export::text::ssid_wigle` deliberately writes it
    // without a formula guard: invalid UTF-8 becomes U+FFFD and NUL is dropped.
    let wigle = export("wigle");
    let (pre, rest) = wigle.split_once('\n').unwrap();
    assert!(pre.starts_with("WigleWifi-1.6,"), "{pre}");
    let rows = parse_csv(rest);
    assert_eq!(rows[0][0], "MAC");
    for (i, (raw, _)) in HOSTILE.iter().enumerate() {
        let mac = mac_text(bssid(2, i as u8));
        let row = rows
            .iter()
            .find(|r| r[0] == mac)
            .unwrap_or_else(|| panic!("{mac} missing from the WiGLE CSV"));
        assert_eq!(row.len(), 14, "{mac}: {row:?}");
        let mut expect = String::from_utf8_lossy(raw).into_owned();
        expect.retain(|c| c != '\0');
        assert_eq!(row[1], expect, "{mac}");
    }
}

/// RFC 4180: fields split on commas, quoted fields with doubled quotes, CRLF or LF line ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The detector must fire: pages served by the test itself (no CSP) that really run a
/// script are caught by each of the three checks, the CSP's refusal of an inline script is
/// caught in the console log, and a clean page gives nothing.
#[tokio::test]
async fn the_script_detector_catches_scripts_that_run() {
    const ICON: &str = "<link rel=\"icon\" href=\"data:,\">";
    let page =
        |body: &str| format!("<!doctype html><html><head>{ICON}</head><body>{body}</body></html>");
    let fixture = Fixture::serve(
        vec![
            ("/clean".into(), page("<p>nothing runs here</p>")),
            ("/alert".into(), page("<script>alert('ran')</script>")),
            (
                "/onerror".into(),
                page("<img src=\"data:,\" onerror=\"alert('img')\">"),
            ),
            (
                "/console".into(),
                page("<script>console.error('ran')</script>"),
            ),
            (
                "/body".into(),
                page("<svg/onload=document.body.id=1></svg>"),
            ),
        ],
        None,
    );
    let browser = Browser::start().await;
    let traces_of = |path: &'static str| {
        let browser = &browser;
        let url = fixture.url(path);
        async move {
            browser.client.goto(&url).await.unwrap();
            browser.script_traces(|_| false).await
        }
    };
    assert_eq!(traces_of("/clean").await, Vec::<String>::new());
    let t = traces_of("/alert").await;
    assert!(
        t.iter().any(|t| t.contains("alert is open: \"ran\"")),
        "{t:?}"
    );
    let t = traces_of("/onerror").await;
    assert!(
        t.iter().any(|t| t.contains("alert is open: \"img\"")),
        "{t:?}"
    );
    let t = traces_of("/console").await;
    assert!(t.iter().any(|t| t.contains("\"ran\"")), "{t:?}");
    let t = traces_of("/body").await;
    assert!(t.iter().any(|t| t.contains("<body> got id")), "{t:?}");
    // Back to clean: the detector does not stay tripped.
    assert_eq!(traces_of("/clean").await, Vec::<String>::new());

    // Under the UI's CSP an injected inline script does not run, and the refusal shows in
    // the console log, so markup that slipped past escaping would still fail the tests.
    let csp = Fixture::serve_with_csp(vec![(
        "/alert".into(),
        page("<script>alert('ran')</script>"),
    )]);
    browser.client.goto(&csp.url("/alert")).await.unwrap();
    let t = browser.script_traces(|_| false).await;
    assert!(!t.iter().any(|t| t.contains("alert is open")), "{t:?}");
    assert!(
        t.iter().any(|t| t.contains("Content Security Policy")),
        "the CSP refusal should be in the log: {t:?}"
    );
}

/// A test that panics leaves nothing running: the guards kill the demo, chromedriver and
/// Chromium while the panic unwinds.
#[tokio::test]
async fn a_panicking_test_leaves_no_process_behind() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let ui = Ui::start(&[]).await;
        ui.open("/networks").await;
        let pids = ui.pids();
        assert!(pids.iter().all(alive), "{pids:?} should be running");
        tx.send(pids).unwrap();
        panic!("on purpose, with the UI running");
    });
    let err = task.await.expect_err("the task panics");
    assert!(err.is_panic());
    let pids = rx.await.unwrap();
    assert!(
        common::wait_until(Duration::from_secs(10), || !pids.iter().any(alive)),
        "still running after the panic (demo, chromedriver, Chromium): {:?}",
        pids.iter().filter(|p| alive(p)).collect::<Vec<_>>()
    );
    let store = std::env::temp_dir().join(format!("piwardrive-demo-{}", pids[0]));
    assert!(!store.exists(), "{} left behind", store.display());
}

/// Whether a process is running (a zombie has exited; only its parent has not collected it).
fn alive(pid: &u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

/// The bundled demo again, for the pages beyond the list: the dashboard's counters move by
/// themselves (server-sent events, no reload), a network's signal chart loads, the map draws
/// the networks that have a position, and the exports download.
#[tokio::test]
async fn dashboard_is_live_and_chart_map_and_exports_work() {
    let ui = Ui::start(&["--speed", "2"]).await;

    // Dashboard: the number of networks rises without the page being reloaded (a marker left
    // on `window` would not survive a reload).
    ui.open("/").await;
    ui.browser
        .js("window.pwMarker = 'kept'; return null;")
        .await;
    let first: u64 = ui.text("#n-networks").await.parse().unwrap();
    ui.wait_js(
        &format!(
            "const n = document.querySelector('#n-networks'); \
             return !!n && Number(n.innerText) > {first} && window.pwMarker === 'kept';"
        ),
        Duration::from_secs(45),
    )
    .await;
    let later: u64 = ui.text("#n-networks").await.parse().unwrap();
    println!("dashboard counter went from {first} to {later} while the page stayed open");
    assert!(ui.text("#live dl.facts").await.contains("GPS"));
    ui.assert_no_script_ran("the dashboard").await;
    ui.browser.screenshot("dashboard").await;

    // A network's page shows its signal chart (an SVG the browser decodes).
    ui.open("/networks?sort=signal").await;
    ui.click("#netlist td.bssid a").await;
    ui.wait_js(
        "const i = document.querySelector('img.chart'); \
         return !!i && i.complete && i.naturalWidth > 0;",
        Duration::from_secs(10),
    )
    .await;
    ui.browser.screenshot("network-chart").await;

    // The map: Leaflet draws one marker per network with a position (the demo replays a GPS
    // log, so some have one), as many as the GeoJSON export holds.
    let (status, _, geojson) = ui.demo.get("/exports/geojson");
    assert_eq!(status, 200);
    let with_position = serde_json::from_str::<Value>(&geojson).unwrap()["features"]
        .as_array()
        .unwrap()
        .len();
    ui.open("/map").await;
    ui.wait_js(
        "const m = document.querySelector('#map'); return !!m && m.dataset.loaded !== undefined;",
        Duration::from_secs(15),
    )
    .await;
    let drawn: u64 = ui
        .browser
        .js("return Number(document.querySelector('#map').dataset.loaded);")
        .await
        .as_u64()
        .unwrap();
    assert!(
        drawn >= with_position as u64 && drawn > 0,
        "{drawn} drawn, {with_position} before"
    );
    assert!(ui.text("#map-status").await.contains("with a position"));
    assert!(
        ui.browser
            .js("return !!document.querySelector('.leaflet-control-scale');")
            .await
            == Value::Bool(true)
    );
    ui.assert_no_script_ran("the map").await;
    ui.browser.screenshot("map").await;

    // Exports: the page links every format; each link downloads a file.
    ui.open("/exports").await;
    let hrefs = ui
        .browser
        .js("return Array.from(document.querySelectorAll('ul.exports a[download]')).map(a => a.getAttribute('href'));")
        .await;
    let hrefs: Vec<String> = hrefs
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hrefs.len(), 5, "{hrefs:?}");
    for href in &hrefs {
        let (status, headers, body) = ui.demo.get(href);
        assert_eq!(status, 200, "{href}");
        let disposition = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        assert!(
            disposition.starts_with("attachment; filename=\"piwardrive."),
            "{href}: {disposition}"
        );
        assert!(!body.is_empty(), "{href}");
    }
    for (path, shot) in [
        ("/channels", "channels"),
        ("/sessions", "sessions"),
        ("/system", "system"),
        ("/capture", "capture-demo"),
    ] {
        ui.open(path).await;
        ui.assert_no_script_ran(path).await;
        ui.browser.screenshot(shot).await;
    }
}

/// Waits for a page load that ends on `path` (pathname and query).
async fn wait_path(ui: &Ui, want: &str) {
    ui.wait_js(
        &format!(
            "return document.readyState === 'complete' && \
             location.pathname + location.search === {};",
            serde_json::to_string(want).unwrap()
        ),
        Duration::from_secs(10),
    )
    .await;
}

/// Fills fields of the form posting to `action` (the settings forms add their section as a
/// fragment, so the answer opens at that section) and submits it.
async fn submit_form(ui: &Ui, action: &str, fields: &[(&str, &str)]) {
    let form = ui
        .browser
        .client
        .form(fantoccini::Locator::Css(&format!(
            "form[action='{action}'], form[action^='{action}#']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no form posting to {action}: {e}"));
    for (name, value) in fields {
        form.set_by_name(name, value)
            .await
            .unwrap_or_else(|e| panic!("{action}: setting {name}: {e}"));
    }
    form.submit()
        .await
        .unwrap_or_else(|e| panic!("submitting {action}: {e}"));
}

/// The value of the input named `name` on the current page.
async fn input_value(ui: &Ui, name: &str) -> String {
    ui.browser
        .js(&format!(
            "return document.querySelector('input[name=\"{name}\"]').value;"
        ))
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// The whole round of the accounts and settings work, as a user does it in the browser: a
/// protected page sends a visitor to the login form; a wrong password is refused with its
/// message; the right one lands on the page asked for; a setting changed on the settings
/// page shows after the save, after a reload and in the overlay file; invalid values come
/// back with their messages and change nothing; markup in a value stays text; logging out
/// sends the next protected page to the login form again.
#[tokio::test]
async fn log_in_change_settings_and_log_out_in_the_browser() {
    let ui = Ui::start_logged_out(&[]).await;
    let overlay = ui.demo.data_dir().join("settings.toml");

    // Not logged in: the settings page is the login form, which will come back to it.
    ui.open("/settings").await;
    wait_path(&ui, "/login?next=%2Fsettings").await;
    assert_eq!(ui.text("main h1").await, "Log in");
    assert_eq!(
        ui.browser
            .js("return document.querySelectorAll('nav.nav a').length;")
            .await,
        0,
        "no menu before logging in"
    );
    ui.assert_no_script_ran("/login").await;
    ui.browser.screenshot("login").await;

    // A wrong password: the form again, with the message, and the name kept.
    submit_form(&ui, "/login", &[("password", "not-the-password")]).await;
    ui.wait_js(
        "return document.readyState === 'complete' && !!document.querySelector('main p.error');",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        ui.text("main p.error").await,
        "Wrong account name or password."
    );
    assert_eq!(input_value(&ui, "username").await, "admin");
    // Chromium logs the 401 answer itself; nothing else may appear.
    let traces = ui
        .browser
        .script_traces(|e| e.source == "network" && e.message.contains("401"))
        .await;
    assert!(traces.is_empty(), "{traces:#?}");
    ui.browser.screenshot("login-error").await;

    // The right one: the settings page, with the menu and the account in the top bar.
    submit_form(&ui, "/login", &[("password", browser::PASSWORD)]).await;
    wait_path(&ui, "/settings").await;
    assert_eq!(ui.text("main h1").await, "Settings");
    assert_eq!(ui.text("nav.nav a[aria-current=page]").await, "Settings");
    assert_eq!(ui.text("form.logout button").await, "admin · Log out");
    let headings = ui.texts("main h2").await;
    assert_eq!(
        headings,
        [
            "Capture",
            "GPS",
            "Hotspot",
            "Sync",
            "Storage",
            "WiGLE",
            "Home zones",
            "Password"
        ]
    );
    assert!(
        ui.text("main p.note").await.contains("This is the demo"),
        "the demo says it has nothing to restart"
    );
    assert_eq!(input_value(&ui, "reserve_free_mb").await, "100");
    assert!(!overlay.exists(), "nothing saved yet");
    ui.assert_no_script_ran("/settings").await;
    ui.browser.screenshot("settings").await;

    // Change the storage reserve: saved, shown, and still there after a reload.
    submit_form(&ui, "/settings/storage", &[("reserve_free_mb", "321")]).await;
    wait_path(&ui, "/settings?saved=storage").await;
    assert_eq!(ui.text("#storage p.ok").await, "Saved.");
    assert_eq!(input_value(&ui, "reserve_free_mb").await, "321");
    ui.browser.client.refresh().await.unwrap();
    wait_path(&ui, "/settings?saved=storage").await;
    assert_eq!(input_value(&ui, "reserve_free_mb").await, "321");
    ui.open("/settings").await;
    assert_eq!(input_value(&ui, "reserve_free_mb").await, "321");
    // The overlay file, read by the toml crate: the value, and nothing but the overlay's keys.
    let saved: toml::Table = std::fs::read_to_string(&overlay)
        .expect("the overlay file")
        .parse()
        .expect("the overlay is TOML");
    assert_eq!(saved["storage"]["reserve_free_mb"].as_integer(), Some(321));
    assert_eq!(saved.keys().collect::<Vec<_>>(), ["storage"]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&overlay).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the overlay may hold the passphrase");
    }

    // A hotspot name with markup and quotes: saved as typed, shown as text.
    let hostile = "<b>\"pw\"</b>&'x'";
    submit_form(
        &ui,
        "/settings/hotspot",
        &[("ssid", hostile), ("country", "nl")],
    )
    .await;
    wait_path(&ui, "/settings?saved=hotspot").await;
    assert_eq!(input_value(&ui, "ssid").await, hostile);
    assert_eq!(input_value(&ui, "country").await, "NL");
    assert_no_injected_markup(&ui, "/settings with a markup SSID").await;
    ui.assert_no_script_ran("/settings after saving").await;

    // Invalid values: the form comes back with a message next to each field; nothing is
    // written.
    let before = std::fs::read_to_string(&overlay).unwrap();
    submit_form(
        &ui,
        "/settings/hotspot",
        &[("ssid", &"x".repeat(33)), ("country", "DEU")],
    )
    .await;
    ui.wait_js(
        "return document.readyState === 'complete' && location.pathname === '/settings/hotspot';",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        ui.text("#hotspot p.error").await,
        "Not saved: correct the fields marked below."
    );
    let messages = ui.texts("#hotspot .field-error").await;
    assert_eq!(
        messages,
        [
            "The SSID must be 1 to 32 bytes; this one is 33 (letters outside ASCII take 2 to 4 bytes).",
            "\"DEU\" is not a two-letter country code (for example DE, US, GB)",
        ]
    );
    assert_eq!(
        ui.browser
            .js("return document.querySelectorAll('#hotspot input[aria-invalid=true]').length;")
            .await,
        2
    );
    assert_eq!(std::fs::read_to_string(&overlay).unwrap(), before);
    let traces = ui
        .browser
        .script_traces(|e| e.source == "network" && e.message.contains("400"))
        .await;
    assert!(traces.is_empty(), "{traces:#?}");
    assert_eq!(
        ui.browser
            .js("return window.innerWidth === 360 && document.documentElement.scrollWidth <= 360;")
            .await,
        true,
        "the page with its messages is wider than the phone"
    );
    ui.browser.screenshot("settings-error").await;
    submit_form(
        &ui,
        "/settings/sync",
        &[("hub_url", "http://hub.example.org/")],
    )
    .await;
    ui.wait_js(
        "return document.readyState === 'complete' && location.pathname === '/settings/sync';",
        Duration::from_secs(10),
    )
    .await;
    assert!(
        ui.text("#sync .field-error")
            .await
            .starts_with("The hub URL must start with https://"),
    );
    assert_eq!(std::fs::read_to_string(&overlay).unwrap(), before);
    let traces = ui
        .browser
        .script_traces(|e| e.source == "network" && e.message.contains("400"))
        .await;
    assert!(traces.is_empty(), "{traces:#?}");

    // The password section leads to the form on the Accounts page.
    ui.open("/settings").await;
    ui.click("#password a").await;
    wait_path(&ui, "/accounts").await;
    assert_eq!(
        ui.browser
            .js("return !!document.querySelector('form[action=\"/accounts/password\"] input[name=current]');")
            .await,
        true
    );
    ui.browser.screenshot("accounts").await;

    // Log out: the login page; a protected page now sends the browser there.
    ui.click("form.logout button").await;
    wait_path(&ui, "/login").await;
    assert_eq!(ui.text("main h1").await, "Log in");
    ui.open("/map").await;
    wait_path(&ui, "/login?next=%2Fmap").await;
    assert_eq!(ui.text("main h1").await, "Log in");
    ui.open("/settings").await;
    wait_path(&ui, "/login?next=%2Fsettings").await;
    ui.assert_no_script_ran("after logging out").await;
}

/// Every page of the menu at 360×800: its own menu item is marked, lies inside the viewport
/// and is not covered by anything, and the page does not scroll sideways. (The menu used to
/// scroll sideways, and on /map and /capture the current item was off screen.)
#[tokio::test]
async fn every_page_shows_where_you_are_at_360_px() {
    let ui = Ui::start(&[]).await;
    ui.open("/").await;
    let items = ui
        .browser
        .js("return Array.from(document.querySelectorAll('nav.nav a')).map(a => [a.getAttribute('href'), a.innerText]);")
        .await;
    let items: Vec<(String, String)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i[0].as_str().unwrap().to_owned(),
                i[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let hrefs: Vec<&str> = items.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        hrefs,
        [
            "/",
            "/networks",
            "/capture",
            "/map",
            "/channels",
            "/sessions",
            "/exports",
            "/system",
            "/settings",
            "/accounts"
        ]
    );
    for (href, label) in &items {
        ui.open(href).await;
        let check = ui
            .browser
            .js(
                "const a = document.querySelector('nav.nav a[aria-current=page]'); \
                 if (!a) return 'no current item'; \
                 const r = a.getBoundingClientRect(); \
                 const inside = r.left >= 0 && r.top >= 0 && r.right <= window.innerWidth \
                   && r.bottom <= window.innerHeight && r.width > 0 && r.height > 0; \
                 const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
                 return [a.innerText, inside, !!top && (top === a || a.contains(top)), \
                   document.documentElement.scrollWidth <= window.innerWidth \
                     && window.innerWidth === 360, \
                   Math.round(r.left), Math.round(r.right), Math.round(r.bottom), \
                   Math.round(document.querySelector('header.top').getBoundingClientRect().height)];",
            )
            .await;
        assert_eq!(check[0], label.as_str(), "{href}: {check}");
        assert_eq!(
            check[1], true,
            "{href}: its menu item is outside the viewport: {check}"
        );
        assert_eq!(check[2], true, "{href}: its menu item is covered: {check}");
        // Wider content would make the phone zoom the page out (its layout viewport grows
        // past 360 px) or scroll it sideways.
        assert_eq!(
            check[3], true,
            "{href}: the page is wider than the phone: {check}"
        );
        println!(
            "{href}: current item {label:?} at x {}..{}, top bar {} px high",
            check[4], check[5], check[7]
        );
        let name = match href.as_str() {
            "/" => "nav-dashboard".to_owned(),
            h => format!("nav-{}", h.trim_start_matches('/')),
        };
        ui.browser.screenshot(&name).await;
    }
}
