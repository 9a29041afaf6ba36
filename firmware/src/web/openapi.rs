//! The OpenAPI 3.1 description of `/api/v1`, served at `GET /api/v1/openapi.json`.
//!
//! The document is written by hand in `openapi.json` beside this file and compiled in. It
//! is kept true by the tests below, not by discipline: they validate it against the official
//! OpenAPI 3.1 schema, request every documented path and hold each real answer (on a store
//! full of hostile SSIDs) to the documented response schema, and check that every
//! `/api/v1` route of [`super::router`] is documented.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        DOCUMENT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::response::Response;
    use serde_json::Value;

    use super::DOCUMENT;
    use crate::accounts::{self, Role, TokenRecord};
    use crate::dot11::MacAddr;
    use crate::model::{
        ApRecord, Band, ClientRecord, Fix, Observation, ObservationKind, Phy, Security,
        SessionRecord, SessionStatus, SsidSeen, TimeSource, WpsInfo,
    };
    use crate::store::{Batch, StoreWriter};
    use crate::web::auth_tests::route_templates;
    use crate::web::tests::{Fixture, fixture, send_anon};

    /// The official schema of OpenAPI 3.1 documents (see testdata/README.md).
    const OAS_3_1_SCHEMA: &str =
        include_str!("../../testdata/openapi/oas-3.1-schema-2022-10-07.json");

    /// 2026-11-27 00:00:00 UTC, in microseconds.
    const T0: i64 = 1_795_737_600_000_000;
    const MINUTE: i64 = 60_000_000;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    fn oas_validator() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(OAS_3_1_SCHEMA).unwrap();
        jsonschema::draft202012::new(&schema).expect("the OAS 3.1 schema compiles")
    }

    fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
        v.iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn the_document_is_valid_openapi_3_1() {
        let v = oas_validator();
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        let errs = errors(&v, &d);
        assert!(errs.is_empty(), "{errs:#?}");
        // The check bites: a response without its (required) description, a path not
        // starting with `/`, or a security scheme of an unknown type is refused.
        let mut broken = d.clone();
        broken["paths"]["/api/v1/networks"]["get"]["responses"]["200"]
            .as_object_mut()
            .unwrap()
            .remove("description");
        assert!(!v.is_valid(&broken));
        let mut broken = d.clone();
        let op = broken["paths"]["/api/v1/sessions"].take();
        broken["paths"]["api/v1/sessions"] = op;
        assert!(!v.is_valid(&broken));
        let mut broken = d.clone();
        broken["components"]["securitySchemes"]["bearerToken"]["type"] = "password".into();
        assert!(!v.is_valid(&broken));
    }

    #[test]
    fn the_document_says_how_to_authenticate() {
        let d = doc();
        let schemes = &d["components"]["securitySchemes"];
        assert_eq!(schemes["bearerToken"]["type"], "http");
        assert_eq!(schemes["bearerToken"]["scheme"], "bearer");
        assert_eq!(schemes["sessionCookie"]["type"], "apiKey");
        assert_eq!(schemes["sessionCookie"]["in"], "cookie");
        assert_eq!(
            schemes["sessionCookie"]["name"],
            crate::web::auth::SESSION_COOKIE
        );
        // Either one is enough, everywhere but the probe, which needs nothing.
        assert_eq!(
            d["security"],
            serde_json::json!([{"bearerToken": []}, {"sessionCookie": []}])
        );
        for (path, item) in d["paths"].as_object().unwrap() {
            let public = crate::web::auth::is_public(path, false);
            let open = item["get"]["security"] == serde_json::json!([]);
            assert_eq!(
                public, open,
                "{path}: public {public}, documented open {open}"
            );
        }
    }

    /// The `/api/v1` routes of the router in mod.rs, as written.
    fn routed() -> BTreeSet<(&'static str, &'static str)> {
        route_templates()
            .into_iter()
            .filter(|(_, p)| p.starts_with("/api/"))
            .collect()
    }

    fn documented() -> BTreeSet<(String, String)> {
        let d = doc();
        let mut out = BTreeSet::new();
        for (path, item) in d["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    #[test]
    fn the_document_and_the_router_list_the_same_api_routes() {
        let routed: BTreeSet<(String, String)> = routed()
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .collect();
        // The parse found them (a sanity check on the parse, not a list to maintain).
        assert!(routed.len() >= 12, "{routed:?}");
        assert!(routed.contains(&("GET".into(), "/api/v1/networks/{bssid}".into())));
        let documented = documented();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty(),
            "routed, not documented: {undocumented:?}"
        );
        assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
    }

    /// Bytes that must survive the trip: markup, quotes, invalid UTF-8 (GBK), NUL, a
    /// right-to-left override, a literal backslash-x, and an emoji.
    const HOSTILE: [&[u8]; 7] = [
        b"<script>alert(1)</script>",
        b"\"'><img src=x onerror=alert(2)>&amp;",
        &[0xb2, 0xe2, 0xca, 0xd4],
        b"a\0b\0",
        "evil\u{202e}gpj.exe".as_bytes(),
        br"\x41\\",
        "caf\u{e9} \u{1f4f6}".as_bytes(),
    ];

    fn bssid(i: u64) -> MacAddr {
        MacAddr::from_u64(0x0200_0000_0000 + i)
    }

    fn fix(i: i64) -> Fix {
        Fix {
            lat: 52.5 + i as f64 * 1e-4,
            lon: 13.4,
            alt_m: (i % 2 == 0).then_some(34.0),
            accuracy_m: 5.0,
            time_us: T0 + i * MINUTE,
        }
    }

    fn hostile_ap(i: u64, ssid: Option<&[u8]>) -> ApRecord {
        let other = HOSTILE[(i as usize + 1) % HOSTILE.len()];
        ApRecord {
            bssid: bssid(i),
            ssid: ssid.map(<[u8]>::to_vec),
            ssid_history: [ssid.unwrap_or(b""), other, b"\0\0\0"]
                .iter()
                .map(|s| SsidSeen {
                    ssid: s.to_vec(),
                    count: 3,
                    first_seen: T0,
                    last_seen: T0 + MINUTE,
                })
                .collect(),
            hidden: ssid.is_none(),
            channel: Some(36),
            freq_mhz: Some(5180),
            band: Some(Band::B5),
            width_mhz: Some(80),
            phy: Phy::Ac,
            heard_channels: vec![36, 40],
            security: Security {
                privacy: true,
                rsn_akms: 1 << 2 | 1 << 8,
                rsn_pairwise: 1 << 4,
                rsn_group: 1 << 4,
                wps: Some(WpsInfo {
                    state: Some(2),
                    device_name: Some(other.to_vec()),
                    model: Some(b"<b>model</b>\x1b[31m".to_vec()),
                    manufacturer: None,
                }),
                ..Default::default()
            },
            vendor: Some("Acme \"Radio\" <Ltd>".into()),
            country: Some([b'D', 0xff, 0]),
            mesh_id: i.is_multiple_of(2).then(|| other.to_vec()),
            ibss: false,
            first_seen: T0 + i as i64 * MINUTE,
            last_seen: T0 + (100 + i as i64) * MINUTE,
            beacons: 10,
            probe_responses: 2,
            data_frames: 1,
            best_signal_dbm: Some(-42),
            best_fix: (i != 1).then(|| fix(i as i64)),
            best_fix_signal_dbm: Some(-42),
            position: None,
            last_signal_dbm: Some(-60),
            client_count: 1,
        }
    }

    /// A store with a network per hostile SSID (and a hidden one), sightings with and without
    /// fixes and signal, clients, two sessions and a GPS track; and a viewer API token.
    fn hostile_store() -> (Fixture, String) {
        let mut aps: Vec<ApRecord> = HOSTILE
            .iter()
            .enumerate()
            .map(|(i, s)| hostile_ap(i as u64 + 1, Some(s)))
            .collect();
        aps.push(hostile_ap(HOSTILE.len() as u64 + 1, None));
        let observations: Vec<Observation> = (0..30u64)
            .map(|i| Observation {
                seq: i + 1,
                session_id: 1 + i % 2,
                kind: ObservationKind::Ap,
                mac: bssid(1 + i % 3),
                time: T0 + i as i64 * MINUTE,
                signal_dbm: (i % 5 != 0).then(|| -90 + i as i8),
                channel: Some(36),
                freq_mhz: Some(5180),
                fix: (i % 3 != 0).then(|| fix(i as i64)),
            })
            .collect();
        let f = fixture(aps, observations);
        let client = |n: u64, ap: Option<u64>| ClientRecord {
            mac: MacAddr::from_u64(0x0a00_0000_0000 + n),
            randomized: n.is_multiple_of(2),
            probed_ssids: vec![HOSTILE[0].to_vec()],
            associated_bssid: ap.map(bssid),
            vendor: (n == 1).then(|| "Acme".into()),
            first_seen: T0,
            last_seen: T0 + n as i64 * MINUTE,
            frames: 5 * n,
            best_signal_dbm: Some(-50),
            best_fix: None,
        };
        let mut ended =
            SessionRecord::new(1, [0; 16], T0, vec!["live:wlan1".into()], TimeSource::Gps);
        ended.ended_at = Some(T0 + 90 * MINUTE);
        ended.status = SessionStatus::Ended;
        ended.frames = 1234;
        let running = SessionRecord::new(
            2,
            [0; 16],
            T0 + 100 * MINUTE,
            vec!["live:wlan1".into(), "/data/old.pcap".into()],
            TimeSource::GpsCorrected { offset_us: 5 },
        );
        let w = StoreWriter::spawn(f.state.store.clone());
        w.send(Batch {
            clients: vec![client(1, Some(1)), client(2, Some(1)), client(3, None)],
            sessions: vec![ended, running],
            track: (0..20).map(fix).collect(),
            ..Default::default()
        })
        .unwrap();
        w.flush().unwrap();
        f.state.history.push(
            T0,
            crate::system::HostMetrics::read(std::path::Path::new("/")),
        );
        let (token, hash) = accounts::new_token().unwrap();
        f.state
            .store
            .add_token(
                &hash,
                &TokenRecord {
                    name: "script".into(),
                    role: Role::Viewer,
                    created_us: T0,
                    last_used_us: None,
                },
            )
            .unwrap();
        (f, token)
    }

    async fn request(f: &Fixture, uri: &str, token: Option<&str>) -> Response {
        let mut b = Request::get(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        send_anon(&f.state, b.body(Body::empty()).unwrap()).await
    }

    /// The status and JSON body of GET `uri` with the viewer token.
    async fn get_json(f: &Fixture, uri: &str, token: &str) -> (StatusCode, Value) {
        let resp = request(f, uri, Some(token)).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("GET {uri}: {e}"));
        (status, v)
    }

    /// A validator for `schema` as it stands in the document: its `$ref`s point into the
    /// document's components, so the document's components go along.
    fn schema_validator(d: &Value, schema: &Value) -> jsonschema::Validator {
        let wrapped = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": d["components"],
            "allOf": [schema],
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&wrapped)
            .unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema}"))
    }

    /// A documented response (following a `$ref` into components/responses).
    fn response<'a>(d: &'a Value, op: &'a Value, status: &str) -> Option<&'a Value> {
        let r = op["responses"].get(status)?;
        Some(match r["$ref"].as_str() {
            Some(p) => d
                .pointer(p.trim_start_matches('#'))
                .expect("a $ref that resolves"),
            None => r,
        })
    }

    /// Checks `resp` against what the document says `path`'s GET answers with that status:
    /// documented at all, the same media type, a body the schema accepts. Returns the body.
    async fn check(d: &Value, path: &str, uri: &str, resp: Response) -> Value {
        check_op(d, path, "get", uri, resp).await
    }

    /// [`check`] for `method`'s operation.
    async fn check_op(d: &Value, path: &str, method: &str, uri: &str, resp: Response) -> Value {
        let op = &d["paths"][path][method];
        let status = resp.status();
        let documented = response(d, op, status.as_str())
            .unwrap_or_else(|| panic!("GET {uri}: {status} is not documented for {path}"));
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let content = documented["content"].as_object().unwrap();
        let (media, spec) = content
            .iter()
            .find(|(m, _)| ct.split(';').next() == Some(m.as_str()))
            .unwrap_or_else(|| panic!("GET {uri}: {status} as {ct}, documented {content:?}"));
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = if media.ends_with("json") {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("GET {uri}: not JSON ({e})"))
        } else {
            Value::String(String::from_utf8(bytes.to_vec()).unwrap())
        };
        let v = schema_validator(d, &spec["schema"]);
        let errs = errors(&v, &body);
        assert!(errs.is_empty(), "GET {uri} ({status}): {errs:#?}\n{body:#}");
        body
    }

    /// The path with a stored network's BSSID in it, or another value.
    fn fill(path: &str, bssid: &str) -> String {
        path.replace("{bssid}", bssid)
    }

    #[tokio::test]
    async fn every_documented_response_is_what_the_server_sends() {
        let (f, token) = hostile_store();
        let d = doc();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        // The GET paths; the one POST (the hub's enrollment codes) has its own test below.
        let paths: serde_json::Map<String, Value> = d["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, item)| item.get("get").is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert!(paths.len() >= 12);
        for (path, item) in &paths {
            let op = &item["get"];
            let mut hit = |status: StatusCode| {
                seen.insert((path.clone(), status.as_str().to_owned()));
            };
            // 200, with a token of the least role, for each stored network where there is one.
            let uris: Vec<String> = if path.contains("{bssid}") {
                (1..=HOSTILE.len() as u64 + 1)
                    .map(|i| fill(path, &bssid(i).to_string()))
                    .collect()
            } else {
                vec![path.clone()]
            };
            for uri in &uris {
                let resp = request(&f, uri, Some(&token)).await;
                assert_eq!(resp.status(), StatusCode::OK, "GET {uri}");
                hit(StatusCode::OK);
                check(&d, path, uri, resp).await;
            }
            // Without a login.
            let resp = request(&f, &fill(path, "02:00:00:00:00:01"), None).await;
            hit(resp.status());
            check(&d, path, path, resp).await;
            // Each parameter with a value that cannot be right, then one that names nothing.
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let (bad, unknown) = if p["in"] == "path" {
                    (
                        fill(path, "nonsense"),
                        Some(fill(path, "02:00:00:00:99:99")),
                    )
                } else if p["schema"]["type"] == "integer" {
                    (
                        format!("{path}?{name}=x"),
                        Some(format!("{path}?{name}=999999")),
                    )
                } else if p["schema"]["enum"].is_array() {
                    (format!("{path}?{name}=bogus"), None)
                } else {
                    continue;
                };
                let resp = request(&f, &bad, Some(&token)).await;
                assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "GET {bad}");
                hit(resp.status());
                let body = check(&d, path, &bad, resp).await;
                assert!(
                    body["error"].as_str().unwrap().contains(name) || p["in"] == "path",
                    "GET {bad}: the message names the parameter: {body}"
                );
                if let Some(uri) = unknown {
                    let resp = request(&f, &uri, Some(&token)).await;
                    hit(resp.status());
                    check(&d, path, &uri, resp).await;
                }
            }
        }
        // Every response the document promises was seen, but a failing store's 500 (plain text,
        // like every page's; `tests::store_errors_become_a_plain_500` covers it).
        for (path, item) in &paths {
            for status in item["get"]["responses"].as_object().unwrap().keys() {
                if status == "500" {
                    continue;
                }
                assert!(
                    seen.contains(&(path.clone(), status.clone())),
                    "{path}: {status} is documented but never came"
                );
            }
        }
    }

    /// The display text read back: `\xNN` is that byte, `\\` a backslash.
    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
            } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
                out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                i += 4;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Both forms of some air bytes give back exactly those bytes, and the text shows nothing
    /// that hides or reorders what is around it.
    fn assert_intact(text: &Value, hex: &Value, raw: &[u8]) {
        let (text, hex) = (text.as_str().unwrap(), hex.as_str().unwrap());
        assert_eq!(unhex(hex), raw, "{hex}");
        assert_eq!(unescape(text), raw, "{text}");
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{text:?}"
        );
    }

    #[tokio::test]
    async fn air_data_comes_out_intact_in_both_forms() {
        let (f, token) = hostile_store();
        let (_, list) = get_json(&f, "/api/v1/networks?sort=first", &token).await;
        assert_eq!(list["total"], HOSTILE.len() + 1);
        for (i, raw) in HOSTILE.iter().enumerate() {
            let uri = format!("/api/v1/networks/{}", bssid(i as u64 + 1));
            let (_, v) = get_json(&f, &uri, &token).await;
            assert_intact(&v["ssid"], &v["ssid_hex"], raw);
            // What `hostile_ap` puts beside the SSID of network i + 1.
            let other = HOSTILE[(i + 2) % HOSTILE.len()];
            assert_intact(
                &v["ssid_history"][1]["ssid"],
                &v["ssid_history"][1]["ssid_hex"],
                other,
            );
            let wps = &v["security_detail"]["wps"];
            assert_intact(&wps["device_name"], &wps["device_name_hex"], other);
            assert_intact(&wps["model"], &wps["model_hex"], b"<b>model</b>\x1b[31m");
            assert_eq!(wps["manufacturer"], Value::Null);
            assert_intact(&v["country"], &v["country_hex"], &[b'D', 0xff]);
            if i % 2 == 1 {
                assert_intact(&v["mesh_id"], &v["mesh_id_hex"], other);
            }
            // The list carries the same.
            let row = list["networks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["bssid"] == v["bssid"])
                .unwrap();
            assert_intact(&row["ssid"], &row["ssid_hex"], raw);
        }
        let hidden = format!("/api/v1/networks/{}", bssid(HOSTILE.len() as u64 + 1));
        let (_, v) = get_json(&f, &hidden, &token).await;
        assert_eq!(
            (&v["ssid"], &v["hidden"]),
            (&Value::Null, &Value::Bool(true))
        );
    }

    #[tokio::test]
    async fn the_detail_has_what_the_page_shows() {
        let (f, token) = hostile_store();
        let (_, v) = get_json(&f, "/api/v1/networks/02:00:00:00:00:01", &token).await;
        // Sightings 1, 4, ..., 28 (every third), newest first; the series oldest first, only
        // those with a reading (every fifth has none).
        let times: Vec<i64> = v["sightings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["time_us"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (0..10).rev().map(|k| T0 + 3 * k * MINUTE).collect();
        assert_eq!(times, expected);
        let series: Vec<(i64, f64)> = serde_json::from_value(v["signal"].clone()).unwrap();
        let expected: Vec<(i64, f64)> = (0..30)
            .step_by(3)
            .filter(|i| i % 5 != 0)
            .map(|i| (T0 + i * MINUTE, f64::from(-90 + i as i8)))
            .collect();
        assert_eq!(series, expected);
        // The two clients of this network, most recent first; not the one of no network.
        let macs: Vec<&str> = v["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["mac"].as_str().unwrap())
            .collect();
        assert_eq!(macs, ["0a:00:00:00:00:02", "0a:00:00:00:00:01"]);
        assert_eq!(v["security_detail"]["rsn_akms"], "PSK, SAE");
        // Heard only without a fix: no position anywhere.
        assert_eq!(v["best_fix"], Value::Null);
        assert_eq!(v["lat"], Value::Null);

        let (_, s) = get_json(&f, "/api/v1/sessions", &token).await;
        assert_eq!(s[0]["id"], 2);
        assert_eq!(s[0]["status"], "running");
        assert_eq!(s[0]["clock"], "GPS-corrected");
        assert_eq!(s[1]["ended"], "2026-11-27T01:30:00Z");
        assert_eq!(s[1]["exports"][0]["href"], "/exports/wigle?session=1");
    }

    /// `POST /api/v1/hub/enroll-codes`: every documented answer, from a hub and a device.
    #[tokio::test]
    async fn the_enroll_code_route_answers_as_documented() {
        let d = doc();
        let path = "/api/v1/hub/enroll-codes";
        let (f, viewer) = hostile_store();
        let (admin, hash) = crate::accounts::new_token().unwrap();
        f.state
            .store
            .add_token(
                &hash,
                &TokenRecord {
                    name: "admin-script".into(),
                    role: Role::Admin,
                    created_us: T0,
                    last_used_us: None,
                },
            )
            .unwrap();
        async fn post(state: &crate::web::AppState, token: Option<&str>) -> Response {
            let mut b = Request::post("/api/v1/hub/enroll-codes");
            if let Some(t) = token {
                b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            send_anon(state, b.body(Body::empty()).unwrap()).await
        }
        let mut seen = BTreeSet::new();
        // Not a hub: 404.
        let resp = post(&f.state, Some(&admin)).await;
        seen.insert(resp.status().as_u16());
        check_op(&d, path, "post", path, resp).await;
        let resp = post(&f.state, None).await;
        seen.insert(resp.status().as_u16());
        check_op(&d, path, "post", path, resp).await;
        let resp = post(&f.state, Some(&viewer)).await;
        seen.insert(resp.status().as_u16());
        check_op(&d, path, "post", path, resp).await;
        // A hub: 201 and a code that names its certificate.
        let dir = tempfile::tempdir().unwrap();
        let cert = crate::hub::tls::load_or_create(dir.path(), &["localhost".into()]).unwrap();
        let hub = crate::hub::Hub::new(f.state.store.clone(), &cert, crate::hub::DEFAULT_CODE_TTL);
        let state = f.state.clone().with_hub(hub);
        let resp = post(&state, Some(&admin)).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        seen.insert(201);
        let body = check_op(&d, path, "post", path, resp).await;
        let code = crate::hub::code::Code::parse(body["code"].as_str().unwrap()).unwrap();
        assert!(code.names(&cert.fingerprint));
        let documented: BTreeSet<u16> = d["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect();
        assert_eq!(seen, documented);
    }

    /// The edit routes (labels, notes, ignore, home zones): every documented answer, each
    /// against the document, and the edits they make read back from the store.
    #[tokio::test]
    async fn the_edit_routes_answer_as_documented() {
        let d = doc();
        let (f, viewer) = hostile_store();
        let (admin, hash) = crate::accounts::new_token().unwrap();
        f.state
            .store
            .add_token(
                &hash,
                &TokenRecord {
                    name: "admin-script".into(),
                    role: Role::Admin,
                    created_us: T0,
                    last_used_us: None,
                },
            )
            .unwrap();
        async fn call(
            f: &Fixture,
            method: &str,
            uri: &str,
            token: Option<&str>,
            body: &str,
        ) -> Response {
            let mut b = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(t) = token {
                b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            send_anon(&f.state, b.body(Body::from(body.to_owned())).unwrap()).await
        }
        let mut seen: BTreeSet<(String, String, u16)> = BTreeSet::new();
        let b1 = bssid(1).to_string();
        let hostile = "<script>alert(1)</script> & \"q\"";
        let label_body = serde_json::json!({ "text": hostile }).to_string();
        let cases: Vec<(&str, String, &str, Option<&str>, String)> = vec![
            (
                "put",
                format!("/api/v1/networks/{b1}/label"),
                "/api/v1/networks/{bssid}/label",
                Some(&admin),
                label_body.clone(),
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/note"),
                "/api/v1/networks/{bssid}/note",
                Some(&admin),
                r#"{"text": "line 1\r\nline 2"}"#.into(),
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/ignored"),
                "/api/v1/networks/{bssid}/ignored",
                Some(&admin),
                r#"{"ignored": true}"#.into(),
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/label"),
                "/api/v1/networks/{bssid}/label",
                Some(&admin),
                r#"{"text": "two\nlines"}"#.into(),
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/note"),
                "/api/v1/networks/{bssid}/note",
                Some(&admin),
                r#"{"txt": "x"}"#.into(),
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/ignored"),
                "/api/v1/networks/{bssid}/ignored",
                Some(&admin),
                "not json".into(),
            ),
            (
                "put",
                "/api/v1/networks/nonsense/label".into(),
                "/api/v1/networks/{bssid}/label",
                Some(&admin),
                label_body.clone(),
            ),
            (
                "put",
                "/api/v1/networks/02:00:00:00:99:99/note".into(),
                "/api/v1/networks/{bssid}/note",
                Some(&admin),
                label_body.clone(),
            ),
            (
                "put",
                "/api/v1/networks/02:00:00:00:99:99/label".into(),
                "/api/v1/networks/{bssid}/label",
                Some(&admin),
                label_body.clone(),
            ),
            (
                "put",
                "/api/v1/networks/02:00:00:00:99:99/ignored".into(),
                "/api/v1/networks/{bssid}/ignored",
                Some(&admin),
                r#"{"ignored": false}"#.into(),
            ),
            (
                "post",
                "/api/v1/zones".into(),
                "/api/v1/zones",
                Some(&admin),
                r#"{"lat": 52.52, "lon": 13.405, "radius_m": 150}"#.into(),
            ),
            (
                "post",
                "/api/v1/zones".into(),
                "/api/v1/zones",
                Some(&admin),
                r#"{"lat": 95, "lon": 13.405, "radius_m": 150}"#.into(),
            ),
            (
                "get",
                "/api/v1/zones".into(),
                "/api/v1/zones",
                Some(&viewer),
                String::new(),
            ),
            (
                "delete",
                "/api/v1/zones/1_2".into(),
                "/api/v1/zones/{zone}",
                Some(&admin),
                String::new(),
            ),
            (
                "delete",
                "/api/v1/zones/1_2_3".into(),
                "/api/v1/zones/{zone}",
                Some(&admin),
                String::new(),
            ),
            (
                "delete",
                "/api/v1/zones/525200000_134050000_150".into(),
                "/api/v1/zones/{zone}",
                Some(&admin),
                String::new(),
            ),
        ];
        let mut all = cases;
        // Without a token, and with the viewer's, every changing route is refused.
        for (m, uri, path) in [
            (
                "put",
                format!("/api/v1/networks/{b1}/label"),
                "/api/v1/networks/{bssid}/label",
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/note"),
                "/api/v1/networks/{bssid}/note",
            ),
            (
                "put",
                format!("/api/v1/networks/{b1}/ignored"),
                "/api/v1/networks/{bssid}/ignored",
            ),
            ("post", "/api/v1/zones".into(), "/api/v1/zones"),
            (
                "delete",
                "/api/v1/zones/1_2_3".into(),
                "/api/v1/zones/{zone}",
            ),
        ] {
            all.push((m, uri.clone(), path, None, label_body.clone()));
            all.push((m, uri, path, Some(&viewer), label_body.clone()));
        }
        all.push((
            "get",
            "/api/v1/zones".into(),
            "/api/v1/zones",
            None,
            String::new(),
        ));
        for (method, uri, path, token, body) in &all {
            let resp = call(&f, &method.to_uppercase(), uri, *token, body).await;
            let status = resp.status();
            seen.insert((path.to_string(), method.to_string(), status.as_u16()));
            if status == StatusCode::NO_CONTENT {
                assert!(response(&d, &d["paths"][*path][*method], "204").is_some());
                continue;
            }
            let v = check_op(&d, path, method, uri, resp).await;
            if status.is_client_error() && status != StatusCode::UNAUTHORIZED {
                assert!(
                    v["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{uri}: {v}"
                );
            }
        }
        // What the admin's calls did, read back.
        let e = f.state.store.edits().unwrap();
        let m = piwardrive_sync::Mac(bssid(1).octets());
        assert_eq!(e.label(&m), Some(hostile));
        assert_eq!(e.note(&m), Some("line 1\nline 2"));
        assert!(e.is_ignored(&m));
        assert!(e.zones().is_empty(), "the zone added was deleted");
        let (_, detail) = get_json(&f, &format!("/api/v1/networks/{b1}"), &viewer).await;
        assert_eq!(detail["label"], hostile);
        assert_eq!(detail["ignored"], true);
        assert!(detail["seen_by"].is_null(), "not a hub");
        // Every documented answer came, but a failing store's 500.
        for (path, item) in d["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !all.iter().any(|c| c.2 == path && c.0 == method) {
                    continue;
                }
                for status in op["responses"].as_object().unwrap().keys() {
                    if status == "500" {
                        continue;
                    }
                    let code: u16 = status.parse().unwrap();
                    assert!(
                        seen.contains(&(path.clone(), method.clone(), code)),
                        "{method} {path}: {status} is documented but never came"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn the_document_is_served_behind_the_gate() {
        let (f, token) = hostile_store();
        let (status, served) = get_json(&f, "/api/v1/openapi.json", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(served, doc());
        let resp = request(&f, "/api/v1/openapi.json", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        // An API path that does not exist is a JSON 404 pointing here.
        let (status, v) = get_json(&f, "/api/v1/nothing", &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(v["error"].as_str().unwrap().contains("openapi.json"), "{v}");
    }
}
