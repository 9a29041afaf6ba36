//! Router-level tests of the web UI: real requests through `router` against a temporary store.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use tower::ServiceExt as _;

use super::{AppState, router};
use crate::dot11::MacAddr;
use crate::model::{ApRecord, Band, Observation, ObservationKind, Phy, Security, SsidSeen};
use crate::store::{Batch, Store, StoreWriter};

/// 2026-11-27 00:00:00 UTC, in microseconds.
const T0: i64 = 1_795_737_600_000_000;
const MINUTE: i64 = 60_000_000;

pub(super) fn ap(i: u64, ssid: &[u8]) -> ApRecord {
    ApRecord {
        bssid: MacAddr::from_u64(0x0200_0000_0000 + i),
        ssid: Some(ssid.to_vec()),
        ssid_history: vec![SsidSeen {
            ssid: ssid.to_vec(),
            count: 10,
            first_seen: T0,
            last_seen: T0 + MINUTE,
        }],
        hidden: false,
        channel: Some(6),
        freq_mhz: Some(2437),
        band: Some(Band::B2_4),
        width_mhz: Some(20),
        phy: Phy::N,
        heard_channels: vec![1, 6, 11],
        security: Security {
            privacy: true,
            wpa: true,
            rsn_akms: 1 << 2,
            rsn_pairwise: 1 << 4,
            rsn_group: 1 << 4,
            ..Default::default()
        },
        vendor: Some("Acme Radio Ltd".into()),
        country: Some(*b"DE "),
        mesh_id: None,
        ibss: false,
        // AP i was first seen at minute i, last seen in reverse order, so the two sorts differ.
        first_seen: T0 + i as i64 * MINUTE,
        last_seen: T0 + (1000 - i as i64) * MINUTE,
        beacons: 100 + i,
        probe_responses: 3,
        data_frames: 7,
        best_signal_dbm: Some(-40 - (i % 50) as i8),
        best_fix: None,
        best_fix_signal_dbm: None,
        position: None,
        last_signal_dbm: Some(-70),
        client_count: 2,
    }
}

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub(super) state: AppState,
    /// `Cookie:` header of an admin session, sent with every request of [`send`].
    pub(super) cookie: String,
}

impl Fixture {
    /// Logs in (a new session of `name` with `role`) and returns its `Cookie:` header value.
    pub(super) fn login_as(&self, name: &str, role: crate::accounts::Role) -> String {
        let id = self.state.auth.start_session(name, role).unwrap();
        format!(
            "{}={}",
            super::auth::SESSION_COOKIE,
            crate::accounts::to_hex(&id)
        )
    }
}

pub(super) fn fixture(aps: Vec<ApRecord>, observations: Vec<Observation>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let w = StoreWriter::spawn(store.clone());
    w.send(Batch {
        aps,
        observations,
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let mut f = Fixture {
        _dir: dir,
        state: AppState::new(store),
        cookie: String::new(),
    };
    f.cookie = f.login_as("admin", crate::accounts::Role::Admin);
    f
}

fn numbered(n: u64) -> Vec<ApRecord> {
    (0..n)
        .map(|i| ap(i, format!("net-{i:03}").as_bytes()))
        .collect()
}

/// What the request helpers send as: a [`Fixture`] (its admin session), or a bare
/// [`AppState`] (a new admin session for each request).
pub(super) trait Client {
    fn app(&self) -> &AppState;
    /// The `Cookie:` header value to send; empty for none.
    fn cookie(&self) -> String;
}

impl Client for Fixture {
    fn app(&self) -> &AppState {
        &self.state
    }
    fn cookie(&self) -> String {
        self.cookie.clone()
    }
}

impl Client for AppState {
    fn app(&self) -> &AppState {
        self
    }
    fn cookie(&self) -> String {
        let id = self
            .auth
            .start_session("admin", crate::accounts::Role::Admin)
            .unwrap();
        format!(
            "{}={}",
            super::auth::SESSION_COOKIE,
            crate::accounts::to_hex(&id)
        )
    }
}

/// Sends `req` as the client's logged-in admin (unless it carries a cookie already).
pub(super) async fn send(f: &impl Client, mut req: Request<Body>) -> Response {
    let cookie = f.cookie();
    if !req.headers().contains_key(header::COOKIE) && !cookie.is_empty() {
        req.headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
    }
    send_anon(f.app(), req).await
}

/// Sends `req` as it is.
pub(super) async fn send_anon(state: &AppState, req: Request<Body>) -> Response {
    router(state.clone()).oneshot(req).await.unwrap()
}

pub(super) async fn get(f: &impl Client, uri: &str) -> Response {
    send(f, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub(super) async fn body(resp: Response) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub(super) async fn get_ok(f: &impl Client, uri: &str) -> String {
    let resp = get(f, uri).await;
    assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    body(resp).await
}

pub(super) fn header(resp: &Response, name: header::HeaderName) -> &str {
    resp.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The SSIDs of the list's rows, in page order (each row's SSID cell holds plain text here).
fn row_ssids(html: &str) -> Vec<&str> {
    html.split("<td class=\"ssid\">")
        .skip(1)
        .map(|s| &s[..s.find("</td>").unwrap()])
        .collect()
}

/// Three networks, one of them first seen 10 s ago (the others in 2026-11-27's T0 minutes).
fn dashboard_fixture() -> Fixture {
    let mut aps = numbered(2);
    let mut fresh = ap(99, b"fresh");
    fresh.first_seen = crate::ingest::now_us() - 10_000_000;
    fresh.last_seen = fresh.first_seen;
    aps.push(fresh);
    fixture(aps, vec![])
}

#[tokio::test]
async fn dashboard_shows_the_counts() {
    let f = dashboard_fixture();
    let html = get_ok(&f, "/").await;
    assert!(
        html.contains(r#"<span class="num" id="n-networks">3</span>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="num" id="n-new">1</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"sse-connect="/events/dashboard""#));
    // Not a live appliance: nothing listening, GPS unknown, no alert about either.
    assert!(html.contains("nothing live (recorded data)"));
    let v: serde_json::Value =
        serde_json::from_str(&get_ok(&f, "/api/v1/dashboard").await).unwrap();
    assert_eq!(v["networks"], 3);
    assert_eq!(v["networks_new_last_minute"], 1);
    assert_eq!(v["gps"]["state"], "unknown");
    let total = v["host"]["disk_total_bytes"].as_u64().unwrap();
    let free = v["host"]["disk_free_bytes"].as_u64().unwrap();
    assert!(total > 0 && free <= total, "{v}");
    // The disk is this machine's (the store's directory): its only alert can be about a
    // disk that really is almost full.
    let low = (free as f64) < super::dashboard::DISK_LOW_RATIO * total as f64
        || free < super::dashboard::DISK_LOW_BYTES;
    let alerts: Vec<&str> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    if low {
        assert_eq!(alerts.len(), 1, "{v}");
        assert!(alerts[0].starts_with("Storage almost full: "), "{v}");
    } else {
        assert!(alerts.is_empty(), "{v}");
    }
}

#[tokio::test]
async fn dashboard_events_stream_the_live_block() {
    use futures::StreamExt as _;
    let f = dashboard_fixture();
    let resp = get(&f, "/events/dashboard").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, header::CONTENT_TYPE).starts_with("text/event-stream"));
    let mut stream = resp.into_body().into_data_stream();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .expect("the stream goes on")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("event: dashboard\n"), "{text}");
    assert!(text.contains(r#"id="n-networks">3<"#), "{text}");
    // The fragment only: no page layout inside the event.
    assert!(!text.contains("<html"), "{text}");
}

#[tokio::test]
async fn dashboard_raises_alerts_for_a_failed_source() {
    let f = sources_state();
    let v: serde_json::Value =
        serde_json::from_str(&get_ok(&f, "/api/v1/dashboard").await).unwrap();
    let alerts = v["alerts"].as_array().unwrap();
    assert!(
        alerts[0]
            .as_str()
            .unwrap()
            .starts_with("Capture source 0 (wlan1) is not capturing: wlan1: the adapter is gone"),
        "{v}"
    );
    assert_eq!(v["gps"]["state"], "off");
    assert_eq!(
        v["listening"][0],
        "0 (wlan1): locked on 44 (5 GHz, 5220 MHz)"
    );
    let html = get_ok(&f, "/").await;
    assert!(html.contains("&lt;script&gt;x") || html.contains("&#60;script&#62;x"));
    assert!(!html.contains("<script>x"));
}

#[tokio::test]
async fn empty_store_renders_an_empty_list() {
    let f = fixture(vec![], vec![]);
    let html = get_ok(&f, "/networks").await;
    assert!(html.contains("No networks recorded yet"));
    assert!(html.contains("<strong>0</strong> networks"));
    assert!(!html.contains("rel=\"next\""));
}

#[tokio::test]
async fn list_is_newest_first_and_paged() {
    let f = fixture(numbered(120), vec![]);

    let p1 = get_ok(&f, "/networks").await;
    assert!(p1.starts_with("<!doctype html>"));
    assert!(p1.contains("<strong>120</strong> networks · page 1 of 3"));
    let rows = row_ssids(&p1);
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0], "net-119");
    assert_eq!(rows[49], "net-070");
    // Every row links to its detail page; the row shows the advertised channel, band,
    // signal, security class, vendor and both times.
    assert!(p1.contains("<a href=\"/networks/02:00:00:00:00:77\">02:00:00:00:00:77</a>"));
    for needle in [
        "<td class=\"ch\">6</td>",
        "<td class=\"band\">2.4 GHz</td>",
        "<td class=\"sig\">-59</td>",
        "<td class=\"sec sec-good\">WPA/WPA2</td>",
        "<td class=\"vendor\">Acme Radio Ltd</td>",
        "<td class=\"first\">2026-11-27 01:59</td>",
        "<td class=\"last\">2026-11-27 14:41</td>",
    ] {
        assert!(p1.contains(needle), "{needle}");
    }
    assert!(!p1.contains("rel=\"prev\""));
    assert!(p1.contains("rel=\"next\" href=\"/networks?page=2\""));

    let p2 = get_ok(&f, "/networks?page=2").await;
    let rows = row_ssids(&p2);
    assert_eq!((rows.len(), rows[0], rows[49]), (50, "net-069", "net-020"));
    assert!(p2.contains("rel=\"prev\" href=\"/networks?page=1\""));
    assert!(p2.contains("rel=\"next\" href=\"/networks?page=3\""));

    let p3 = get_ok(&f, "/networks?page=3").await;
    let rows = row_ssids(&p3);
    assert_eq!((rows.len(), rows[0], rows[19]), (20, "net-019", "net-000"));
    assert!(!p3.contains("rel=\"next\""));

    // Past the end: an empty page that links back, not an error.
    let p9 = get_ok(&f, "/networks?page=9").await;
    assert!(row_ssids(&p9).is_empty());
    assert!(p9.contains("No networks on this page"));
    assert!(p9.contains("rel=\"prev\" href=\"/networks?page=3\""));
    // page=0 is page 1.
    assert_eq!(
        row_ssids(&get_ok(&f, "/networks?page=0").await)[0],
        "net-119"
    );
}

#[tokio::test]
async fn sort_by_last_seen() {
    let f = fixture(numbered(60), vec![]);
    let html = get_ok(&f, "/networks?sort=last").await;
    let rows = row_ssids(&html);
    // Last seen runs backwards from first seen in the fixture.
    assert_eq!((rows[0], rows[49]), ("net-000", "net-049"));
    assert!(html.contains("rel=\"next\" href=\"/networks?page=2&#38;sort=last\""));
    let p2 = get_ok(&f, "/networks?page=2&sort=last").await;
    assert_eq!(
        row_ssids(&p2),
        [
            "net-050", "net-051", "net-052", "net-053", "net-054", "net-055", "net-056", "net-057",
            "net-058", "net-059"
        ]
    );
    let bad = get(&f, "/networks?sort=sideways").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn htmx_request_gets_only_the_list_fragment() {
    let f = fixture(numbered(120), vec![]);
    let req = Request::get("/networks?page=2")
        .header("HX-Request", "true")
        .body(Body::empty())
        .unwrap();
    let resp = send(&f, req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, header::VARY).contains("HX-Request"));
    let frag = body(resp).await;
    assert!(
        !frag.contains("<html") && !frag.contains("<head") && !frag.contains("<nav class=\"nav\"")
    );
    assert!(
        !frag.contains("id=\"netlist\""),
        "the fragment is the inside of #netlist"
    );
    let rows = row_ssids(&frag);
    assert_eq!((rows.len(), rows[0]), (50, "net-069"));
    assert!(frag.contains("page 2 of 3"));
    // The pager inside the fragment keeps working both ways: plain href and hx-get.
    assert!(
        frag.contains(
            "href=\"/networks?page=3\" hx-get=\"/networks?page=3\" hx-target=\"#netlist\""
        )
    );

    // The full page wraps the same fragment in #netlist, so the swap target exists.
    let full = get_ok(&f, "/networks?page=2").await;
    assert!(full.contains("<section id=\"netlist\""));
    assert!(full.contains(frag.trim()));

    // A history restore (back button) needs the whole page even though it is an htmx request.
    let req = Request::get("/networks?page=2")
        .header("HX-Request", "true")
        .header("HX-History-Restore-Request", "true")
        .body(Body::empty())
        .unwrap();
    assert!(body(send(&f, req).await).await.contains("<html"));
}

/// SSIDs an attacker can broadcast.
fn hostile() -> Vec<ApRecord> {
    let mut gbk = ap(1, &[0xb2, 0xe2, 0xca, 0xd4]);
    gbk.first_seen = T0 + 3 * MINUTE;
    let mut nul = ap(2, b"a\0b\0");
    nul.first_seen = T0 + 2 * MINUTE;
    let mut script = ap(3, b"<script>alert(1)</script>");
    script.first_seen = T0 + MINUTE;
    let mut attr = ap(4, b"\"'><img src=x onerror=alert(2)>&amp;");
    attr.first_seen = T0;
    let mut hidden = ap(5, b"");
    hidden.ssid = None;
    hidden.hidden = true;
    hidden.first_seen = T0 - MINUTE;
    vec![gbk, nul, script, attr, hidden]
}

#[tokio::test]
async fn hostile_ssids_are_escaped_in_html() {
    let f = fixture(hostile(), vec![]);
    let html = get_ok(&f, "/networks").await;
    assert!(
        !html.contains("<script>alert"),
        "markup from the air must not be live"
    );
    assert!(!html.contains("<img"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // Quotes are escaped too, so an SSID cannot leave an attribute either.
    assert!(!html.contains("\"'>"));
    // `&amp;` in an SSID shows as the five characters, i.e. is escaped again.
    assert!(html.contains("&#38;amp;") || html.contains("&amp;amp;"));
    let rows = row_ssids(&html);
    assert_eq!(rows[0], r#"<span class="esc">\xb2\xe2\xca\xd4</span>"#);
    assert_eq!(
        rows[1],
        r#"a<span class="esc">\x00</span>b<span class="esc">\x00</span>"#
    );
    assert_eq!(rows[4], r#"<span class="tag">(hidden)</span>"#);

    // The detail page applies the same rules, including in the SSID history and the title.
    let detail = get_ok(&f, "/networks/02:00:00:00:00:03").await;
    assert!(!detail.contains("<script>alert"));
    assert!(
        detail.contains("<title>&#60;script&#62;alert(1)&#60;/script&#62; (02:00:00:00:00:03)")
    );
    assert!(detail.contains("&#60;script&#62;") || detail.contains("&lt;script&gt;"));
    let gbk = get_ok(&f, "/networks/02:00:00:00:00:01").await;
    assert_eq!(
        gbk.matches(r#"<span class="esc">\xb2\xe2\xca\xd4</span>"#)
            .count(),
        2
    );
}

#[tokio::test]
async fn hostile_ssids_are_escaped_in_json() {
    let f = fixture(hostile(), vec![]);
    let resp = get(&f, "/api/v1/networks").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, header::CONTENT_TYPE).starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
    assert_eq!(v["total"], 5);
    assert_eq!(v["page"], 1);
    assert_eq!(v["per_page"], 50);
    assert_eq!(v["sort"], "first");
    let n = v["networks"].as_array().unwrap();
    assert_eq!(n.len(), 5);
    assert_eq!(n[0]["bssid"], "02:00:00:00:00:01");
    assert_eq!(n[0]["ssid"], r"\xb2\xe2\xca\xd4");
    assert_eq!(n[0]["ssid_hex"], "b2e2cad4");
    assert_eq!(n[1]["ssid"], r"a\x00b\x00");
    assert_eq!(n[1]["ssid_hex"], "61006200");
    assert_eq!(n[2]["ssid"], "<script>alert(1)</script>");
    assert_eq!(n[4]["ssid"], serde_json::Value::Null);
    assert_eq!(n[4]["hidden"], true);
    assert_eq!(n[0]["security"], "WPA/WPA2");
    assert_eq!(n[0]["band"], "2.4 GHz");
    assert_eq!(n[0]["channel"], 6);
    assert_eq!(n[0]["first_seen"], "2026-11-27T00:03:00Z");
    assert_eq!(n[0]["first_seen_us"], T0 + 3 * MINUTE);
}

#[tokio::test]
async fn json_pages_match_the_html_pages() {
    let f = fixture(numbered(120), vec![]);
    let v: serde_json::Value =
        serde_json::from_str(&get_ok(&f, "/api/v1/networks?page=3&sort=first").await).unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["pages"].as_u64()),
        (Some(120), Some(3))
    );
    let n = v["networks"].as_array().unwrap();
    assert_eq!((n.len(), n[0]["ssid"].as_str()), (20, Some("net-019")));
    let v: serde_json::Value =
        serde_json::from_str(&get_ok(&f, "/api/v1/networks?sort=last").await).unwrap();
    assert_eq!(v["networks"][0]["ssid"], "net-000");
}

#[tokio::test]
async fn detail_page_lists_the_record() {
    let mut a = ap(7, b"Home");
    a.ssid_history.push(SsidSeen {
        ssid: b"Home-5G".to_vec(),
        count: 4,
        first_seen: T0,
        last_seen: T0,
    });
    a.security.rsn_akms |= 1 << 8;
    let obs = Observation {
        seq: 1,
        session_id: 1,
        kind: ObservationKind::Ap,
        mac: a.bssid,
        time: T0 + 5 * MINUTE,
        signal_dbm: Some(-61),
        channel: Some(6),
        freq_mhz: Some(2437),
        fix: None,
    };
    let f = fixture(vec![a], vec![obs]);
    let html = get_ok(&f, "/networks/02:00:00:00:00:07").await;
    for needle in [
        "<title>Home (02:00:00:00:00:07) · PiWardrive</title>",
        "Home-5G",
        "WPA/WPA2/WPA3",
        "PSK, SAE",
        "CCMP",
        "1, 6, 11",
        "2437 MHz",
        "n (Wi-Fi 4)",
        "<dd>107</dd>",
        "2026-11-27 00:05:00",
        "-61",
        "DE",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    // Upper case and dashes are accepted too; the page always shows the canonical form.
    get_ok(&f, "/networks/02-00-00-00-00-07").await;
}

#[tokio::test]
async fn detail_page_404s_for_unknown_or_invalid_bssids() {
    let f = fixture(numbered(1), vec![]);
    for uri in [
        "/networks/02:00:00:00:00:99",
        "/networks/not-a-mac",
        "/networks/02:00:00:00:00:00:00",
        "/networks/%3Cscript%3E",
        "/no/such/page",
    ] {
        let resp = get(&f, uri).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{uri}");
        let html = body(resp).await;
        assert!(html.contains("<h1>Not found</h1>"), "{uri}");
        assert!(!html.contains("<script>"));
    }
}

#[tokio::test]
async fn health_answers_ok() {
    let f = fixture(vec![], vec![]);
    let resp = get(&f, "/api/v1/system/health").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body(resp).await, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture(vec![], vec![]);
    for uri in ["/networks", "/api/v1/system/health", "/nope"] {
        let resp = get(&f, uri).await;
        let csp = header(&resp, header::CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{uri}"
        );
        assert_eq!(header(&resp, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }
}

/// The asset URLs a page links to (`href`/`src` under /static/).
fn static_links(html: &str) -> Vec<String> {
    html.match_indices("\"/static/")
        .map(|(i, _)| {
            let rest = &html[i + 1..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn static_assets_are_served_with_type_and_cache_headers() {
    let f = fixture(vec![], vec![]);
    let html = get_ok(&f, "/networks").await;
    let links = static_links(&html);
    // css, icon, htmx and its SSE extension.
    assert_eq!(links.len(), 4, "{links:?}");
    for link in &links {
        let resp = get(&f, link).await;
        assert_eq!(resp.status(), StatusCode::OK, "{link}");
        let ct = header(&resp, header::CONTENT_TYPE);
        if link.ends_with(".css") {
            assert_eq!(ct, "text/css; charset=utf-8");
        } else if link.ends_with(".svg") {
            assert_eq!(ct, "image/svg+xml");
        } else {
            assert!(link.ends_with(".js"));
            assert_eq!(ct, "text/javascript; charset=utf-8");
        }
        assert_eq!(
            header(&resp, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
    }

    // The plain name works too, but must be revalidated.
    let resp = get(&f, "/static/app.css").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, header::CACHE_CONTROL), "no-cache");
    let etag = header(&resp, header::ETAG).to_owned();
    let req = Request::get("/static/app.css")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f, req).await.status(), StatusCode::NOT_MODIFIED);

    // htmx goes out gzipped to browsers that take it (all of them), plain otherwise.
    let js = links.iter().find(|l| l.contains("htmx")).unwrap();
    let req = Request::get(js.as_str())
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
        .body(Body::empty())
        .unwrap();
    let resp = send(&f, req).await;
    assert_eq!(header(&resp, header::CONTENT_ENCODING), "gzip");
    assert!(header(&resp, header::VARY).contains("Accept-Encoding"));
    let gz = body_len(resp).await;
    let plain = body_len(get(&f, js).await).await;
    assert!(gz < plain / 2, "gzip {gz} vs plain {plain}");

    let lic = get(&f, "/static/vendor/htmx.LICENSE").await;
    assert_eq!(
        header(&lic, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert!(body(lic).await.contains("Zero-Clause BSD"));

    for missing in [
        "/static/nope.css",
        "/static/app.0000000000.css",
        "/static/../Cargo.toml",
        "/static/vendor/htmx.min.js.gz",
    ] {
        assert_eq!(
            get(&f, missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

async fn body_len(resp: Response) -> usize {
    axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .len()
}

/// 60 networks with long SSIDs and vendors, as on a busy street: a full list page of 50.
fn busy_street() -> Fixture {
    let aps: Vec<ApRecord> = (0..60)
        .map(|i| {
            let mut a = ap(
                i,
                format!("{i:02}-a-rather-long-network-name-xx").as_bytes(),
            );
            a.vendor = Some("Some Very Long Vendor Name Electronics Co., Ltd.".into());
            a
        })
        .collect();
    fixture(aps, vec![])
}

#[tokio::test]
async fn pages_are_light_and_self_contained() {
    let f = busy_street();
    let html = get_ok(&f, "/networks").await;
    assert_eq!(row_ssids(&html).len(), 50);
    let mut assets = 0;
    let mut assets_gz = 0;
    for link in static_links(&html) {
        assets += body_len(get(&f, &link).await).await;
        let req = Request::get(link.as_str())
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        assets_gz += body_len(send(&f, req).await).await;
    }
    let css = body_len(get(&f, "/static/app.css").await).await;
    eprintln!(
        "page weight: html {} B (50 rows), css {css} B, html+css+js {} B raw, {} B as sent to a \
         gzip-capable browser (html uncompressed)",
        html.len(),
        html.len() + assets,
        html.len() + assets_gz
    );
    assert!(html.len() < 40_000, "html {} B", html.len());
    assert!(css < 8_000, "css {css} B");
    assert!(html.len() + assets < 110_000);
    // Nothing is fetched from elsewhere: no CDN, no web fonts, no absolute URLs.
    let mut pages = vec![html];
    for path in [
        "/",
        "/networks/02:00:00:00:00:01",
        "/capture",
        "/channels",
        "/sessions",
        "/exports",
        "/system",
    ] {
        let page = get_ok(&f, path).await;
        assert!(page.len() < 40_000, "{path}: {} B", page.len());
        pages.push(page);
    }
    for page in pages {
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("\"//"));
    }
    let css_text = get_ok(&f, "/static/app.css").await;
    assert!(!css_text.contains("url(") && !css_text.contains("@import"));
}

/// A connection to `serve` on `addr`, retried while it starts listening (up to 2 s).
async fn connect(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    for _ in 0..100 {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    panic!("the server never started listening on {addr}");
}

#[tokio::test]
async fn serve_answers_over_tcp_and_stops_when_cancelled() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let f = fixture(numbered(3), vec![]);
    // Find a free port, then hand it to `serve` (which binds it itself).
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(super::serve(addr, f.state.clone(), shutdown.clone()));

    let mut conn = connect(addr).await;
    conn.write_all(b"GET /api/v1/system/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with(r#"{"status":"ok"}"#), "{reply}");

    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("serve did not stop after cancel")
        .unwrap()
        .unwrap();

    // A port already taken is an error that says what to do, not a panic.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = super::serve(
        taken.local_addr().unwrap(),
        f.state.clone(),
        tokio_util::sync::CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("could not listen on"), "{err}");
}

/// A client that sends its request and then shuts its sending side (busybox `nc` does, and
/// probes and scripts on small systems use it) gets its whole answer, also from routes that
/// wait on the store. hyper's default drops such a connection without a reply whenever it
/// reads the EOF before the handler is done: before `serve` allowed half-close, about two
/// requests in three here came back empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_a_client_that_half_closes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let f = fixture(numbered(3), vec![]);
    let (token, hash) = crate::accounts::new_token().unwrap();
    f.state
        .store
        .add_token(
            &hash,
            &crate::accounts::TokenRecord {
                name: "probe".into(),
                role: crate::accounts::Role::Viewer,
                created_us: 0,
                last_used_us: None,
            },
        )
        .unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(super::serve(addr, f.state.clone(), shutdown.clone()));

    let requests = [
        format!(
            "GET /api/v1/networks HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        ),
        "GET /api/v1/networks HTTP/1.0\r\nHost: x\r\n\r\n".to_owned(),
        "GET /api/v1/system/health HTTP/1.0\r\nHost: x\r\n\r\n".to_owned(),
    ];
    let want = ["HTTP/1.0 200", "HTTP/1.0 401", "HTTP/1.0 200"];
    for round in 0..20 {
        for (req, want) in requests.iter().zip(want) {
            let mut conn = connect(addr).await;
            conn.write_all(req.as_bytes()).await.unwrap();
            conn.shutdown().await.unwrap();
            let mut reply = String::new();
            conn.read_to_string(&mut reply).await.unwrap();
            assert!(
                reply.starts_with(want),
                "round {round}: {:?} got {reply:?}",
                req.lines().next()
            );
            assert!(
                reply.ends_with('}'),
                "round {round}: a cut reply: {reply:?}"
            );
        }
    }
    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("serve did not stop after cancel")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn store_errors_become_a_plain_500() {
    use axum::response::IntoResponse as _;
    let err = super::WebError::Store(crate::store::StoreError::WriterStopped {
        path: "/data/store.redb".into(),
        reason: "disk full".into(),
    });
    let resp = err.into_response();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        header(&resp, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    let text = body(resp).await;
    assert!(
        text.contains("could not read its store") && text.contains("disk full"),
        "{text}"
    );
}

/// Two sources as `piwardrive run` publishes them: a monitor source that lost its adapter
/// (its error text carries markup, to check escaping) and a managed-scan fallback.
fn sources_state() -> Fixture {
    use crate::appliance::{ActiveMode, Observers, SourceState, SourceStatus};
    use crate::capture::hopper::{Channel, HopState, HopStatus};
    use std::time::Duration;
    let (_a, a) = tokio::sync::watch::channel(SourceStatus {
        name: "0 (wlan1)".into(),
        state: SourceState::Failed,
        interface: Some("wlan1mon".into()),
        driver: Some("mt76x2u".into()),
        mode: Some(ActiveMode::Monitor),
        frames: 1234,
        dropped: 5,
        last_error: Some("wlan1: the adapter is gone <script>x</script>".into()),
        retry_in: Some(Duration::from_secs(4)),
        restarts: 2,
        ..Default::default()
    });
    let ch = |n| Channel::new(piwardrive_dot11::channel::Band::Ghz5, n).unwrap();
    let (_ha, ha) = tokio::sync::watch::channel(HopStatus {
        state: HopState::Locked,
        current: Some(ch(44)),
        channels: vec![ch(44)],
        dwell: Duration::from_millis(200),
        ..Default::default()
    });
    let (_b, b) = tokio::sync::watch::channel(SourceStatus {
        name: "1 (wlan2)".into(),
        state: SourceState::Scanning,
        interface: Some("wlan2".into()),
        mode: Some(ActiveMode::Scan),
        frames: 40,
        scans: 4,
        ..Default::default()
    });
    let (_hb, hb) = tokio::sync::watch::channel(HopStatus::default());
    // The senders may drop: a receiver keeps the last value.
    let mut f = fixture(Vec::new(), Vec::new());
    f.state = f.state.with_sources(Observers {
        sources: vec![a, b],
        hops: vec![ha, hb],
        gps: None,
    });
    f
}

#[tokio::test]
async fn sources_api_reports_state_drops_channel_and_the_scan_limitation() {
    let f = sources_state();
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/sources").await).unwrap();
    assert_eq!(v["live"], true);
    let a = &v["sources"][0];
    assert_eq!(a["state"], "failed");
    assert_eq!(a["mode"], "monitor");
    assert_eq!(a["sees_clients"], true);
    assert_eq!(a["dropped_at_tracker"], 5);
    assert_eq!(a["retry_in_ms"], 4000);
    assert_eq!(a["hop"]["state"], "locked");
    assert_eq!(a["hop"]["channel_number"], 44);
    assert_eq!(a["hop"]["freq_mhz"], 5220);
    assert_eq!(
        a["last_error"],
        "wlan1: the adapter is gone <script>x</script>"
    );
    let b = &v["sources"][1];
    assert_eq!(b["state"], "scanning");
    assert_eq!(b["sees_clients"], false);
    assert!(b["note"].as_str().unwrap().contains("clients are not seen"));
    assert!(b["hop"].is_null());
}

#[tokio::test]
async fn capture_page_shows_each_source_escaped() {
    let html = get_ok(&sources_state(), "/capture").await;
    assert!(html.contains("Source 0 (wlan1)"), "{html}");
    assert!(html.contains("44 (5 GHz, 5220 MHz)"));
    assert!(html.contains("5 at the tracker"));
    assert!(html.contains("retrying in 4 s"));
    assert!(html.contains("clients are not seen"));
    assert!(!html.contains("<script>x"), "error text must be escaped");
    assert!(
        html.contains("&lt;script&gt;x") || html.contains("&#60;script&#62;x"),
        "{html}"
    );
}

#[tokio::test]
async fn without_live_sources_the_capture_page_says_so() {
    let f = fixture(Vec::new(), Vec::new());
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/sources").await).unwrap();
    assert_eq!(v["live"], false);
    assert_eq!(v["sources"].as_array().unwrap().len(), 0);
    let html = get_ok(&f, "/capture").await;
    assert!(html.contains("This process captures nothing"));
}

#[tokio::test]
async fn search_filters_and_signal_sort() {
    let mut aps = numbered(60);
    let mut home = ap(200, b"HomeNet <5G>");
    home.band = Some(Band::B5);
    home.channel = Some(36);
    home.best_signal_dbm = Some(-20);
    let mut open = ap(201, b"cafe");
    open.security = Default::default();
    open.vendor = Some("Zyxel Communications".into());
    let mut hidden = ap(202, b"");
    hidden.ssid = None;
    hidden.hidden = true;
    aps.extend([home, open, hidden]);
    let f = fixture(aps, vec![]);
    let api = |q: &'static str| {
        let state = f.state.clone();
        async move {
            let v: serde_json::Value =
                serde_json::from_str(&get_ok(&state, &format!("/api/v1/networks?{q}")).await)
                    .unwrap();
            let names: Vec<String> = v["networks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["bssid"].as_str().unwrap().to_owned())
                .collect();
            (v["total"].as_u64().unwrap(), names)
        }
    };
    // SSID text, case-insensitive, as displayed.
    assert_eq!(
        api("q=homenet").await,
        (1, vec!["02:00:00:00:00:c8".into()])
    );
    assert_eq!(api("q=%3C5g%3E").await.0, 1);
    // BSSID with or without colons, and vendor.
    assert_eq!(api("q=00:00:c9").await.0, 1);
    assert_eq!(api("q=0000c9").await.0, 1);
    assert_eq!(api("q=zyxel").await, (1, vec!["02:00:00:00:00:c9".into()]));
    assert_eq!(api("band=5").await.0, 1);
    assert_eq!(api("band=2.4").await.0, 62);
    assert_eq!(api("sec=open").await, (1, vec!["02:00:00:00:00:c9".into()]));
    assert_eq!(api("sec=wpa2").await.0, 62);
    assert_eq!(
        api("hidden=yes").await,
        (1, vec!["02:00:00:00:00:ca".into()])
    );
    assert_eq!(api("hidden=no&band=2.4&sec=wpa2").await.0, 60);
    assert_eq!(api("q=nothing-like-this").await.0, 0);
    // Strongest first; ties by BSSID, descending.
    let (total, first_page) = api("sort=signal").await;
    assert_eq!(total, 63);
    assert_eq!(first_page[0], "02:00:00:00:00:c8");
    assert_eq!(first_page.len(), 50);
    // Paging keeps the filters, in the page's links too.
    let (_, second) = api("sort=signal&page=2").await;
    assert_eq!(second.len(), 13);
    let html = get_ok(&f, "/networks?sec=wpa2&q=net").await;
    // The 60 "net-NNN" and "HomeNet <5G>", all WPA2.
    assert!(html.contains("<strong>61</strong> networks"), "{html}");
    assert!(
        html.contains(r#"href="/networks?page=2&amp;q=net&amp;sec=wpa2""#)
            || html.contains(r#"href="/networks?page=2&#38;q=net&#38;sec=wpa2""#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="wpa2" selected>"#));
    // Invalid values are a client error, not a crash or a silent "any".
    assert_eq!(
        get(&f, "/networks?band=7").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn session_filter_keeps_the_newest_sessions_networks() {
    use crate::model::{SessionRecord, TimeSource};
    let aps = numbered(3);
    let obs = |seq: u64, session_id: u64, i: u64| Observation {
        seq,
        session_id,
        kind: ObservationKind::Ap,
        mac: MacAddr::from_u64(0x0200_0000_0000 + i),
        time: T0 + seq as i64 * MINUTE,
        signal_dbm: Some(-61),
        channel: Some(6),
        freq_mhz: Some(2437),
        fix: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let w = StoreWriter::spawn(store.clone());
    let session = |id| SessionRecord::new(id, [0; 16], T0, vec![], TimeSource::SystemClock);
    w.send(Batch {
        aps,
        // Network 0 heard in session 1 only, 1 in both, 2 in session 2 only.
        observations: vec![obs(1, 1, 0), obs(2, 1, 1), obs(3, 2, 1), obs(4, 2, 2)],
        sessions: vec![session(1), session(2)],
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let state = AppState::new(store);
    let v: serde_json::Value =
        serde_json::from_str(&get_ok(&state, "/api/v1/networks?session=current&sort=last").await)
            .unwrap();
    assert_eq!(v["total"], 2, "{v}");
    let got: Vec<&str> = v["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["bssid"].as_str().unwrap())
        .collect();
    // Most recently heard first: `numbered` gives lower numbers later last sightings.
    assert_eq!(got, ["02:00:00:00:00:01", "02:00:00:00:00:02"]);
}

#[tokio::test]
async fn detail_page_charts_the_signal_and_lists_its_clients() {
    use crate::model::ClientRecord;
    let a = ap(7, b"Home");
    let obs: Vec<Observation> = (1..=4)
        .map(|i| Observation {
            seq: i,
            session_id: 1,
            kind: ObservationKind::Ap,
            mac: a.bssid,
            time: T0 + i as i64 * MINUTE,
            signal_dbm: Some(-90 + 10 * i as i8),
            channel: Some(6),
            freq_mhz: Some(2437),
            fix: None,
        })
        .collect();
    let client = ClientRecord {
        mac: MacAddr::from_u64(0x0a00_0000_0001),
        randomized: true,
        probed_ssids: vec![],
        associated_bssid: Some(a.bssid),
        vendor: None,
        first_seen: T0,
        last_seen: T0 + MINUTE,
        frames: 12,
        best_signal_dbm: Some(-55),
        best_fix: None,
    };
    let other = ClientRecord {
        mac: MacAddr::from_u64(0x0a00_0000_0002),
        associated_bssid: None,
        ..client.clone()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let w = StoreWriter::spawn(store.clone());
    w.send(Batch {
        aps: vec![a],
        observations: obs,
        clients: vec![client, other],
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let state = AppState::new(store);
    let html = get_ok(&state, "/networks/02:00:00:00:00:07").await;
    assert!(html.contains(r#"<img class="chart" src="/networks/02:00:00:00:00:07/signal.svg""#));
    assert!(html.contains("0a:00:00:00:00:01"), "{html}");
    assert!(
        !html.contains("0a:00:00:00:00:02"),
        "a client of no network is not listed"
    );
    let resp = get(&state, "/networks/02:00:00:00:00:07/signal.svg").await;
    assert_eq!(header(&resp, header::CONTENT_TYPE), "image/svg+xml");
    let svg = body(resp).await;
    let poly = svg.split("points=\"").nth(1).unwrap();
    let poly = &poly[..poly.find('"').unwrap()];
    // -80, -70, -60, -50 dBm: four points, each higher on the chart than the one before.
    let ys: Vec<f64> = poly
        .split_whitespace()
        .map(|p| p.split_once(',').unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(ys.len(), 4, "{svg}");
    assert!(ys.windows(2).all(|w| w[1] < w[0]), "{ys:?}");
    assert_eq!(
        get(&state, "/networks/nonsense/signal.svg").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn exports_stream_the_same_bytes_as_the_export_command() {
    use crate::model::{SessionRecord, TimeSource};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store.redb")).unwrap();
    let w = StoreWriter::spawn(store.clone());
    let mut session =
        SessionRecord::new(1, [0; 16], T0, vec!["live:wlan1".into()], TimeSource::Gps);
    session.ended_at = Some(T0 + 90 * MINUTE);
    w.send(Batch {
        // Enough rows for several 64 KiB chunks.
        aps: numbered(1500),
        sessions: vec![session],
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let state = AppState::new(store.clone());

    let html = get_ok(&state, "/sessions").await;
    assert!(html.contains("Session 1"), "{html}");
    assert!(html.contains("1 h 30 min") && html.contains("live:wlan1") && html.contains("GPS"));
    assert!(html.contains(r#"href="/exports/kml?session=1""#));
    let html = get_ok(&state, "/exports").await;
    for f in ["wigle", "kml", "geojson", "csv", "gpx"] {
        assert!(html.contains(&format!(r#"href="/exports/{f}""#)), "{f}");
    }

    let resp = get(&state, "/exports/csv").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, header::CONTENT_TYPE),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        header(&resp, header::CONTENT_DISPOSITION),
        "attachment; filename=\"piwardrive.csv\""
    );
    let got = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut want = Vec::new();
    crate::export::export(&store, crate::export::Format::Csv, None, &mut want).unwrap();
    assert!(want.len() > 3 * 64 * 1024, "{} bytes", want.len());
    assert_eq!(got.as_ref(), want.as_slice());

    let resp = get(&state, "/exports/geojson?session=1").await;
    assert_eq!(
        header(&resp, header::CONTENT_DISPOSITION),
        "attachment; filename=\"piwardrive-session-1.geojson\""
    );
    assert_eq!(
        get(&state, "/exports/geojson?session=7").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&state, "/exports/pdf").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn channels_count_access_points_per_band_and_channel() {
    // `ap` is 2.4 GHz channel 6: three of those, two on 5 GHz channel 36, one on 149.
    let mut aps = numbered(3);
    for (i, ch, freq) in [(10, 36, 5180), (11, 36, 5180), (12, 149, 5745)] {
        let mut a = ap(i, b"five");
        a.band = Some(Band::B5);
        a.channel = Some(ch);
        a.freq_mhz = Some(freq);
        aps.push(a);
    }
    let f = fixture(aps, vec![]);
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/channels").await).unwrap();
    assert_eq!(v[0]["band"], "2.4");
    assert_eq!(v[0]["channels"], serde_json::json!([[6, 3]]));
    assert_eq!(v[1]["band"], "5");
    assert_eq!(v[1]["total"], 3);
    assert_eq!(v[1]["channels"], serde_json::json!([[36, 2], [149, 1]]));
    assert_eq!(v[2]["total"], 0);
    let html = get_ok(&f, "/channels").await;
    assert!(html.contains(r#"src="/channels/5.svg""#));
    assert!(html.contains("ch 36: 2"));
    let resp = get(&f, "/channels/5.svg").await;
    assert_eq!(header(&resp, header::CONTENT_TYPE), "image/svg+xml");
    let svg = body(resp).await;
    assert_eq!(svg.matches("<rect x=").count(), 2, "{svg}");
    assert!(svg.contains("<title>channel 36: 2</title>"));
    assert_eq!(
        get(&f, "/channels/7.svg").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn system_page_shows_readings_and_charts_the_history() {
    let f = fixture(vec![], vec![]);
    let html = get_ok(&f, "/system").await;
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    assert!(html.contains(r#"src="/system/load.svg""#));
    assert!(html.contains("0 readings since"));
    let svg = body(get(&f, "/system/memory.svg").await).await;
    assert!(svg.contains("no readings yet"), "{svg}");
    // Two readings of the real host: the memory chart draws a line through both.
    for t in [T0, T0 + MINUTE] {
        f.state.history.push(
            t,
            crate::system::HostMetrics::read(std::path::Path::new("/")),
        );
    }
    let resp = get(&f, "/system/memory.svg").await;
    assert_eq!(header(&resp, header::CONTENT_TYPE), "image/svg+xml");
    let svg = body(resp).await;
    let poly = svg.split("points=\"").nth(1).expect("a line");
    assert_eq!(
        poly[..poly.find('"').unwrap()].split_whitespace().count(),
        2
    );
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/system").await).unwrap();
    assert_eq!(v["samples"], 2);
    assert!(v["now"]["mem_total_bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        get(&f, "/system/nope.svg").await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn get_gzip(state: &impl Client, uri: &str) -> Response {
    let req = Request::get(uri)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    send(state, req).await
}

/// Every page's first load (HTML and every asset it links, as a gzip-capable phone gets them)
/// stays under 60 KB, with 50 long rows in the list.
#[tokio::test]
async fn first_load_of_every_page_is_under_60_kb_compressed() {
    let mut f = busy_street();
    // As a hub with 30 enrolled devices, for the Devices page.
    let dir = tempfile::tempdir().unwrap();
    let cert = crate::hub::tls::load_or_create(dir.path(), &["localhost".into()]).unwrap();
    for i in 0..30u8 {
        f.state
            .store
            .enroll_hub_device(&[i; 16], &format!("device-{i:02}-in-the-van"), &[i; 32], T0)
            .unwrap();
    }
    let hub = crate::hub::Hub::new(f.state.store.clone(), &cert, crate::hub::DEFAULT_CODE_TTL);
    f.state = f.state.clone().with_hub(hub);
    // The user's edits at their limits: a full-length label on every network (shown in the
    // list), every other one ignored, a full-length note, 20 home zones.
    let me = f.state.store.sync_id();
    let aps = f.state.store.all_aps().unwrap();
    f.state
        .store
        .update_edits(|e| {
            use piwardrive_sync::edits::{MAX_LABEL_LEN, MAX_NOTE_LEN};
            for (i, a) in aps.iter().enumerate() {
                let m = piwardrive_sync::Mac(a.bssid.octets());
                let label: String = "<Büro & Gäste> "
                    .chars()
                    .cycle()
                    .take(MAX_LABEL_LEN / 2)
                    .collect();
                e.set_label(me, m, &label, T0).unwrap();
                if i % 2 == 0 {
                    e.ignore(me, m);
                }
            }
            let m = piwardrive_sync::Mac([2, 0, 0, 0, 0, 1]);
            e.set_note(me, m, &"a note line <&>\n".repeat(MAX_NOTE_LEN / 16), T0)
                .unwrap();
            for z in 0..20 {
                e.add_zone(
                    me,
                    piwardrive_sync::Zone {
                        lat_e7: 525_200_000 + z * 1_000_000,
                        lon_e7: -1_340_500_000 + z,
                        radius_m: 100_000 - z as u32,
                    },
                )
                .unwrap();
            }
        })
        .unwrap();
    for path in [
        "/",
        "/networks",
        "/networks/02:00:00:00:00:01",
        "/map",
        "/channels",
        "/capture",
        "/sessions",
        "/exports",
        "/system",
        "/settings",
        "/hub/devices",
    ] {
        let resp = get_gzip(&f, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, header::CONTENT_ENCODING), "gzip", "{path}");
        let html_gz = body_len(resp).await;
        let html = get_ok(&f, path).await;
        let mut total = html_gz;
        for link in static_links(&html) {
            let resp = get_gzip(&f, &link).await;
            assert_eq!(resp.status(), StatusCode::OK, "{link}");
            total += body_len(resp).await;
        }
        eprintln!("{path}: {total} B on first load ({html_gz} B of HTML)");
        assert!(total < 60_000, "{path}: {total} B");
    }
}

#[tokio::test]
async fn map_page_loads_leaflet_and_the_track_is_thinned_geojson() {
    use crate::model::Fix;
    let f = fixture(vec![], vec![]);
    let html = get_ok(&f, "/map").await;
    let links = static_links(&html);
    assert!(
        links
            .iter()
            .any(|l| l.contains("leaflet.") && l.ends_with(".js"))
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("leaflet.") && l.ends_with(".css"))
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("map.") && l.ends_with(".js"))
    );
    // The map page does without htmx, to stay light.
    assert!(!links.iter().any(|l| l.contains("htmx")), "{links:?}");
    assert!(html.contains(r#"data-networks="/exports/geojson""#));
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/track").await).unwrap();
    assert_eq!(v["geometry"]["coordinates"].as_array().unwrap().len(), 0);

    let w = StoreWriter::spawn(f.state.store.clone());
    let fix = |i: i64| Fix {
        lat: 52.0 + i as f64 * 1e-5,
        lon: 13.0,
        alt_m: None,
        accuracy_m: 5.0,
        time_us: T0 + i * 1_000_000,
    };
    w.send(Batch {
        track: (0..12_001).map(fix).collect(),
        ..Default::default()
    })
    .unwrap();
    w.flush().unwrap();
    let v: serde_json::Value = serde_json::from_str(&get_ok(&f, "/api/v1/track").await).unwrap();
    let c = v["geometry"]["coordinates"].as_array().unwrap();
    assert!(c.len() <= crate::web::map::TRACK_POINTS + 1, "{}", c.len());
    assert!(c.len() > 4000);
    // [lon, lat], first and last points kept.
    assert_eq!(c[0], serde_json::json!([13.0, 52.0]));
    assert_eq!(c[c.len() - 1], serde_json::json!([13.0, 52.12]));
}

/// A store writer stopped by the free-space reserve (a real statvfs reading: a reserve far
/// above what the file system has free): the dashboard and its API say recording stopped.
#[tokio::test]
async fn the_dashboard_says_when_the_free_space_reserve_stopped_recording() {
    let mut f = fixture(vec![ap(1, b"kept")], Vec::new());
    let (_, free) = crate::system::disk_space(f.state.store.path().parent().unwrap()).unwrap();
    let writer = StoreWriter::spawn_with_reserve(
        f.state.store.clone(),
        crate::store::Reserve::new(free + (1 << 40)),
    );
    writer
        .send(Batch {
            aps: vec![ap(2, b"not-written")],
            ..Default::default()
        })
        .unwrap();
    assert!(writer.flush().is_err());
    f.state = f.state.clone().with_writer(writer.status());
    let html = get_ok(&f, "/").await;
    assert!(
        html.contains("Recording stopped: only ")
            && html.contains("stopped writing new observations"),
        "{html}"
    );
    let api: serde_json::Value =
        serde_json::from_str(&get_ok(&f, "/api/v1/dashboard").await).unwrap();
    assert!(
        api["recording_stopped"]
            .as_str()
            .unwrap()
            .contains("kept free")
    );
    assert!(
        api["alerts"][0]
            .as_str()
            .unwrap()
            .starts_with("Recording stopped")
    );
    // What was stored before stays.
    assert_eq!(api["networks"], 1);
}
