//! Router-level tests of access control: the allowlist over every route, logins and their limiter, sessions, CSRF, roles and API tokens.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;

use super::auth::{PRE_SESSION_COOKIE, SESSION_COOKIE};
use super::tests::{Fixture, body, fixture, get, header, send, send_anon};
use crate::accounts::{self, Role, UserRecord};

const PASSWORD: &str = "correct horse battery";

/// A fixture whose store holds an admin with [`PASSWORD`] (so `/setup` is closed), and a
/// viewer `vera` with the same password.
fn with_admin() -> Fixture {
    let f = fixture(Vec::new(), Vec::new());
    let phc = accounts::hash_password(PASSWORD).unwrap();
    for (name, role) in [("admin", Role::Admin), ("vera", Role::Viewer)] {
        f.state
            .store
            .put_user(&UserRecord {
                name: name.into(),
                role,
                password_hash: phc.clone(),
                created_us: 1,
                updated_us: 1,
            })
            .unwrap();
    }
    f
}

/// Every `.route("PATH", METHODS)` of `router` in mod.rs, as written (`{bssid}` and all),
/// with each method it names, so that a route added later is checked without anyone listing
/// it (here, and against the OpenAPI document in `openapi.rs`).
pub(super) fn route_templates() -> Vec<(&'static str, &'static str)> {
    let src = include_str!("mod.rs");
    let start = src.find("pub fn router(").expect("router() in mod.rs");
    let body = &src[start..src[start..].find("\n}\n").map_or(src.len(), |e| start + e)];
    // Without whitespace, so a call rustfmt breaks over several lines reads the same (paths
    // hold no spaces).
    let body: &'static str =
        Box::leak(body.split_whitespace().collect::<String>().into_boxed_str());
    let mut out = Vec::new();
    for call in body.split(".route(\"").skip(1) {
        let (path, rest) = call.split_once('"').unwrap();
        let args = &rest[..rest.find("))").unwrap_or(rest.len())];
        for (token, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("delete(", "DELETE"),
        ] {
            if args.contains(token) {
                out.push((method, path));
            }
        }
    }
    out
}

/// [`route_templates`] with a value in each parameter.
fn all_routes() -> Vec<(&'static str, String)> {
    route_templates()
        .into_iter()
        .map(|(method, path)| {
            let mut path = path
                .replace("{bssid}", "02:00:00:00:00:01")
                .replace("{*path}", "app.css");
            // Any other parameter gets a plain value: the gate answers before the handler.
            while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
                path.replace_range(a..=b, "x");
            }
            (method, path)
        })
        .collect()
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn every_route_but_the_allowlist_refuses_a_request_without_session_or_token() {
    let f = with_admin();
    let routes = all_routes();
    // The parse found the routes (a sanity check on the parse, not a list to maintain).
    for must in [
        ("GET", "/capture"),
        ("GET", "/networks/02:00:00:00:00:01"),
        ("GET", "/api/v1/networks"),
        ("GET", "/api/v1/networks/02:00:00:00:00:01"),
        ("GET", "/api/v1/sources"),
        ("GET", "/api/v1/sessions"),
        ("GET", "/api/v1/exports"),
        ("GET", "/api/v1/map/networks"),
        ("GET", "/api/v1/system/history"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/tiles/x/x/x"),
        ("GET", "/accounts"),
        ("POST", "/accounts/tokens"),
        ("POST", "/logout"),
        ("GET", "/settings"),
        ("POST", "/settings/restart"),
        ("POST", "/settings/x"),
        ("GET", "/exports/wigle-upload"),
        ("POST", "/exports/wigle-upload"),
        ("POST", "/settings/enroll"),
        ("GET", "/hub/devices"),
        ("POST", "/hub/devices/code"),
        ("POST", "/hub/devices/revoke"),
        ("POST", "/api/v1/hub/enroll-codes"),
        ("POST", "/networks/02:00:00:00:00:01/label"),
        ("POST", "/networks/02:00:00:00:00:01/ignore"),
        ("POST", "/settings/zones"),
        ("POST", "/settings/zones/remove"),
        ("PUT", "/api/v1/networks/02:00:00:00:00:01/label"),
        ("PUT", "/api/v1/networks/02:00:00:00:00:01/note"),
        ("PUT", "/api/v1/networks/02:00:00:00:00:01/ignored"),
        ("GET", "/api/v1/zones"),
        ("POST", "/api/v1/zones"),
        ("DELETE", "/api/v1/zones/x"),
    ] {
        assert!(
            routes.iter().any(|(m, p)| (*m, p.as_str()) == must),
            "{must:?} not found in {routes:?}"
        );
    }
    let mut uris = routes;
    // Paths no route matches go to the fallback, which is protected too.
    uris.push(("GET", "/no/such/page".into()));
    uris.push(("GET", "/api/v1/no-such-endpoint".into()));
    uris.push(("POST", "/no/such/page".into()));
    let mut refused = 0;
    for (method, uri) in &uris {
        let public = matches!(uri.as_str(), "/login" | "/api/v1/system/health")
            || uri.starts_with("/static/");
        let resp = send_anon(&f.state, request(method, uri)).await;
        let status = resp.status();
        if public {
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::SEE_OTHER
                    || uri == "/login",
                "{method} {uri}: {status}"
            );
            continue;
        }
        refused += 1;
        if uri.starts_with("/api/") {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            assert!(header(&resp, header::CONTENT_TYPE).starts_with("application/json"));
            let v: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
        } else {
            assert_eq!(status, StatusCode::SEE_OTHER, "{method} {uri}");
            let to = header(&resp, header::LOCATION);
            assert!(to.starts_with("/login?next="), "{method} {uri} -> {to}");
        }
    }
    assert!(refused >= 12, "only {refused} protected routes checked");

    // The redirect carries the page asked for, so the login goes back there.
    let resp = send_anon(&f.state, request("GET", "/networks?page=2")).await;
    assert_eq!(
        header(&resp, header::LOCATION),
        "/login?next=%2Fnetworks%3Fpage%3D2"
    );
    // htmx (the capture page polling, a pager click) is sent to the login page by htmx.
    let mut req = request("GET", "/capture");
    req.headers_mut()
        .insert("HX-Request", "true".parse().unwrap());
    let resp = send_anon(&f.state, req).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["hx-redirect"], "/login?next=%2Fcapture");
    // Static files and the health probe set no cookie (only the login form's page does).
    for uri in ["/static/app.css", "/api/v1/system/health"] {
        let resp = send_anon(&f.state, request("GET", uri)).await;
        assert!(set_cookies(&resp).is_empty(), "{uri}");
    }
    // The probe answers without a login and tells nothing but that the server is up.
    let resp = send_anon(&f.state, request("GET", "/api/v1/system/health")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
    assert_eq!(v, serde_json::json!({"status": "ok"}));
    // /setup is not public once an admin exists.
    let resp = send_anon(&f.state, request("GET", "/setup")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // A made-up session cookie or token is no better than none.
    let req = Request::get("/networks")
        .header(
            header::COOKIE,
            format!("{SESSION_COOKIE}={}", "ab".repeat(32)),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send_anon(&f.state, req).await.status(),
        StatusCode::SEE_OTHER
    );
    let req = Request::get("/api/v1/networks")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", accounts::new_token().unwrap().0),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send_anon(&f.state, req).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The `Set-Cookie` values of a response.
fn set_cookies(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the cookie `name` set by `resp`.
fn cookie_pair(resp: &Response, name: &str) -> Option<String> {
    set_cookies(resp)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

/// The value of the hidden `csrf` field of a page.
fn csrf_field(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn from(ip: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// What a browser does: GET /login (a pre-session cookie and token), then POST the form.
async fn login(f: &Fixture, ip: &str, user: &str, password: &str, next: &str) -> Response {
    let page = send_anon(&f.state, from(ip, request("GET", "/login"))).await;
    assert_eq!(page.status(), StatusCode::OK);
    let pre = cookie_pair(&page, PRE_SESSION_COOKIE).expect("a pre-session cookie");
    let csrf = csrf_field(&body(page).await);
    let form = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("username", user),
        ("password", password),
        ("next", next),
    ])
    .unwrap();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, pre)
        .body(Body::from(form))
        .unwrap();
    send_anon(&f.state, from(ip, req)).await
}

#[tokio::test]
async fn login_sets_a_strict_http_only_session_cookie_and_logout_ends_it() {
    let f = with_admin();
    let resp = login(&f, "10.0.0.2", "admin", PASSWORD, "/capture").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&resp, header::LOCATION), "/capture");
    let set = set_cookies(&resp);
    let session = set
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a session cookie");
    let attrs: Vec<&str> = session.split("; ").collect();
    assert!(attrs.contains(&"HttpOnly"), "{session}");
    assert!(attrs.contains(&"SameSite=Strict"), "{session}");
    assert!(attrs.contains(&"Path=/"), "{session}");
    // Plain HTTP on the hotspot: a Secure cookie would never come back.
    assert!(!session.contains("Secure"), "{session}");
    // 256 bits, in hex.
    let id = attrs[0].split_once('=').unwrap().1;
    assert_eq!(id.len(), 64, "{session}");

    let cookie = attrs[0].to_owned();
    let page = send_anon(
        &f.state,
        Request::get("/networks")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = body(page).await;
    // htmx sends the token with every request; forms carry it too.
    let csrf = csrf_field(&html);
    assert!(
        html.contains(&format!(r#"hx-headers='{{"X-CSRF-Token": "{csrf}"}}'"#)),
        "{html}"
    );
    assert!(html.contains("admin · Log out"));

    // Logging out needs the token too, then the session is gone.
    let out = |csrf: Option<&str>| {
        let mut b = Request::post("/logout").header(header::COOKIE, &cookie);
        if let Some(c) = csrf {
            b = b.header("X-CSRF-Token", c);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(
        send_anon(&f.state, out(None)).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp = send_anon(&f.state, out(Some(&csrf))).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(cookie_pair(&resp, SESSION_COOKIE).is_some_and(|c| c == format!("{SESSION_COOKIE}=")));
    let after = send_anon(
        &f.state,
        Request::get("/networks")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn next_is_followed_only_to_local_paths() {
    let f = with_admin();
    for (next, to) in [
        ("https://evil.example", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/networks?page=2", "/networks?page=2"),
    ] {
        let resp = login(&f, "10.0.0.3", "admin", PASSWORD, next).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(header(&resp, header::LOCATION), to, "{next}");
    }
    // The login page does not even carry a foreign `next` into its form.
    let html = body(
        send_anon(
            &f.state,
            request("GET", "/login?next=https%3A%2F%2Fevil.example"),
        )
        .await,
    )
    .await;
    assert!(!html.contains("evil.example"), "{html}");
    // Before logging in there is no menu to follow.
    assert!(!html.contains("<nav class=\"nav\""), "{html}");
}

#[tokio::test(start_paused = true)]
async fn the_tenth_wrong_password_in_a_minute_is_slowed_down() {
    let f = with_admin();
    let ip = "10.0.0.4";
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..10 {
        let resp = login(&f, ip, "admin", "wrong password", "/").await;
        statuses.push(resp.status().as_u16());
        last = Some(resp);
    }
    // Five tries are free; from the sixth on, the client must wait.
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    let tenth = last.unwrap();
    assert_eq!(header(&tenth, header::RETRY_AFTER), "1");
    assert!(body(tenth).await.contains("Too many wrong passwords"));
    // Even the right password is not checked while locked.
    let resp = login(&f, ip, "admin", PASSWORD, "/").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another device on the hotspot is not affected.
    assert_eq!(
        login(&f, "10.0.0.5", "admin", "wrong password", "/")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // The wait grows with every further failure.
    let mut waits = Vec::new();
    for _ in 0..4 {
        tokio::time::advance(Duration::from_secs(300)).await;
        let resp = login(&f, ip, "admin", "wrong password", "/").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let locked = login(&f, ip, "admin", "wrong password", "/").await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        waits.push(header(&locked, header::RETRY_AFTER).parse::<u64>().unwrap());
    }
    assert_eq!(waits, [2, 4, 8, 16]);

    // A success resets the client.
    tokio::time::advance(Duration::from_secs(300)).await;
    assert_eq!(
        login(&f, ip, "admin", PASSWORD, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&f, ip, "admin", "wrong password", "/").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_session_expires() {
    let f = with_admin();
    assert_eq!(get(&f, "/networks").await.status(), StatusCode::OK);
    tokio::time::advance(Duration::from_secs(11 * 3600)).await;
    // Use keeps it alive...
    assert_eq!(get(&f, "/networks").await.status(), StatusCode::OK);
    tokio::time::advance(Duration::from_secs(11 * 3600)).await;
    assert_eq!(get(&f, "/networks").await.status(), StatusCode::OK);
    // ...twelve idle hours end it.
    tokio::time::advance(super::auth::SESSION_IDLE).await;
    assert_eq!(get(&f, "/networks").await.status(), StatusCode::SEE_OTHER);
}

/// A POST creating a token as the fixture's admin, with `csrf` as form field.
fn create_token_req(name: &str, role: &str, csrf: Option<&str>) -> Request<Body> {
    let mut fields = vec![("name", name), ("role", role)];
    if let Some(c) = csrf {
        fields.push(("csrf", c));
    }
    Request::post("/accounts/tokens")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

/// The CSRF token of the fixture's session, as its pages show it.
async fn session_csrf(f: &Fixture) -> String {
    csrf_field(&body(get(f, "/accounts").await).await)
}

/// The token a creation page shows once.
fn shown_token(html: &str) -> String {
    let at = html
        .find(accounts::TOKEN_PREFIX)
        .expect("a token on the page");
    html[at..at + accounts::TOKEN_PREFIX.len() + 64].to_owned()
}

#[tokio::test]
async fn a_state_changing_request_needs_the_csrf_token() {
    let f = with_admin();
    let csrf = session_csrf(&f).await;
    // Without it, or with a wrong one: refused with a plain message.
    for token in [None, Some("0".repeat(64).as_str()), Some("")] {
        let resp = send(&f, create_token_req("t1", "viewer", token)).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{token:?}");
        assert!(header(&resp, header::CONTENT_TYPE).starts_with("text/plain"));
        assert!(body(resp).await.contains("CSRF"));
    }
    assert!(f.state.store.tokens().unwrap().is_empty());
    // As a form field: accepted.
    let resp = send(&f, create_token_req("t1", "viewer", Some(&csrf))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, header::CACHE_CONTROL), "no-store");
    // As htmx sends it, in the header.
    let mut req = create_token_req("t2", "viewer", None);
    req.headers_mut()
        .insert("X-CSRF-Token", csrf.parse().unwrap());
    req.headers_mut()
        .insert("HX-Request", "true".parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::OK);
    // The right token from another site's page: refused on the Origin alone.
    let mut req = create_token_req("t3", "viewer", Some(&csrf));
    req.headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    req.headers_mut()
        .insert(header::HOST, "192.168.4.1".parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
    // The device's own origin is fine.
    let mut req = create_token_req("t3", "viewer", Some(&csrf));
    req.headers_mut()
        .insert(header::ORIGIN, "http://192.168.4.1".parse().unwrap());
    req.headers_mut()
        .insert(header::HOST, "192.168.4.1".parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::OK);
    let names: Vec<_> = f
        .state
        .store
        .tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["t1", "t2", "t3"]);
    // Another session's token does not do either.
    let other = f.login_as("admin", Role::Admin);
    let mut req = create_token_req("t4", "viewer", Some(&csrf));
    req.headers_mut()
        .insert(header::COOKIE, other.parse().unwrap());
    assert_eq!(send(&f, req).await.status(), StatusCode::FORBIDDEN);
    // The login form is protected the same way (by its pre-session token).
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("username=admin&password=correct+horse+battery"))
        .unwrap();
    assert_eq!(
        send_anon(&f.state, req).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_viewer_can_read_but_not_change_anything() {
    let f = with_admin();
    let resp = login(&f, "10.0.0.6", "vera", PASSWORD, "/networks").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = cookie_pair(&resp, SESSION_COOKIE).unwrap();
    let as_viewer = |method: &str, uri: &str, csrf: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = csrf {
            b = b.header("X-CSRF-Token", c);
        }
        b.body(Body::from("name=v1&role=admin")).unwrap()
    };
    for uri in [
        "/networks",
        "/capture",
        "/api/v1/networks",
        "/api/v1/sources",
        "/settings",
    ] {
        let resp = send_anon(&f.state, as_viewer("GET", uri, None)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
    }
    let page = body(send_anon(&f.state, as_viewer("GET", "/networks", None)).await).await;
    assert!(
        !page.contains("href=\"/accounts\""),
        "no admin menu for a viewer"
    );
    let csrf = csrf_field(&page);
    for uri in ["/accounts", "/hub/devices"] {
        assert_eq!(
            send_anon(&f.state, as_viewer("GET", uri, None))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    for uri in [
        "/accounts/tokens",
        "/accounts/users",
        "/accounts/tokens/revoke",
        "/settings/storage",
        "/settings/restart",
        "/settings/wigle",
        "/exports/wigle-upload",
        "/settings/enroll",
        "/hub/devices/code",
        "/hub/devices/revoke",
        "/api/v1/hub/enroll-codes",
    ] {
        let resp = send_anon(&f.state, as_viewer("POST", uri, Some(&csrf))).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{uri}");
    }
    // Every route that changes state, whatever its method, with the viewer's own CSRF token.
    let mut changing = 0;
    for (method, uri) in all_routes() {
        if method == "GET" || matches!(uri.as_str(), "/logout" | "/login" | "/setup") {
            continue;
        }
        let resp = send_anon(&f.state, as_viewer(method, &uri, Some(&csrf))).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{method} {uri}");
        changing += 1;
    }
    assert!(changing >= 20, "only {changing} state-changing routes");
    assert!(f.state.store.tokens().unwrap().is_empty());
    assert_eq!(
        f.state.store.edits().unwrap(),
        piwardrive_sync::Edits::default(),
        "a viewer changed an edit"
    );
    // Logging out changes nothing on the device: a viewer may.
    assert_eq!(
        send_anon(&f.state, as_viewer("POST", "/logout", Some(&csrf)))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn api_tokens_work_until_revoked_and_viewer_tokens_only_read() {
    let f = with_admin();
    let csrf = session_csrf(&f).await;
    let page = body(send(&f, create_token_req("script", "viewer", Some(&csrf))).await).await;
    let token = shown_token(&page);
    // Stored hashed: the store never holds the token itself.
    let stored = f
        .state
        .store
        .token_by_hash(&accounts::token_hash(&token))
        .unwrap();
    assert_eq!(stored.as_ref().map(|t| t.role), Some(Role::Viewer));
    let with = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let resp = send_anon(&f.state, with("GET", "/api/v1/networks")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        send_anon(&f.state, with("GET", "/networks")).await.status(),
        StatusCode::OK
    );
    // A viewer token cannot change state, CSRF token or not.
    assert_eq!(
        send_anon(&f.state, with("POST", "/accounts/tokens"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Its use is noted (the note is written in the background).
    for _ in 0..100 {
        if f.state.store.tokens().unwrap()[0].last_used_us.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(f.state.store.tokens().unwrap()[0].last_used_us.is_some());
    let listed = body(get(&f, "/accounts").await).await;
    assert!(
        listed.contains("<td>script</td><td>viewer</td>"),
        "{listed}"
    );
    assert!(
        !listed.contains(&token),
        "a token is shown only when created"
    );

    // Revoked: refused at once.
    let req = Request::post("/accounts/tokens/revoke")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("name=script&csrf={csrf}")))
        .unwrap();
    assert_eq!(send(&f, req).await.status(), StatusCode::SEE_OTHER);
    let resp = send_anon(&f.state, with("GET", "/api/v1/networks")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let v: serde_json::Value = serde_json::from_str(&body(resp).await).unwrap();
    assert!(v["error"].as_str().unwrap().contains("revoked"));

    // An admin token may change state, without a CSRF token (no browser sends it by itself).
    let page = body(send(&f, create_token_req("ops", "admin", Some(&csrf))).await).await;
    let admin_token = shown_token(&page);
    let req = Request::post("/accounts/tokens/revoke")
        .header(header::AUTHORIZATION, format!("Bearer {admin_token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("name=ops"))
        .unwrap();
    assert_eq!(
        send_anon(&f.state, req).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(f.state.store.tokens().unwrap().is_empty());
}

#[tokio::test]
async fn the_first_visit_sets_the_admin_password() {
    let f = fixture(Vec::new(), Vec::new());
    // No admin yet: everything leads to /setup, which anyone may open.
    let resp = send_anon(&f.state, request("GET", "/networks")).await;
    assert_eq!(header(&resp, header::LOCATION), "/setup");
    let resp = send_anon(&f.state, request("GET", "/login")).await;
    assert_eq!(header(&resp, header::LOCATION), "/setup");
    let page = send_anon(&f.state, request("GET", "/setup")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let pre = cookie_pair(&page, PRE_SESSION_COOKIE).unwrap();
    let csrf = csrf_field(&body(page).await);
    let post = |form: String, cookie: &str| {
        Request::post("/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(form))
            .unwrap()
    };
    // Without the token (a page elsewhere posting to the device): refused.
    let resp = send_anon(
        &f.state,
        post(format!("password={PASSWORD}&confirm={PASSWORD}"), &pre),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = send_anon(
        &f.state,
        post(format!("csrf={csrf}&password=short&confirm=short"), &pre),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let form = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ])
    .unwrap();
    let resp = send_anon(&f.state, post(form.clone(), &pre)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(cookie_pair(&resp, SESSION_COOKIE).is_some());
    let admin = f.state.store.user("admin").unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert!(!admin.password_hash.contains(PASSWORD));
    // Gone now, for everyone.
    assert_eq!(
        send_anon(&f.state, post(form, &pre)).await.status(),
        StatusCode::SEE_OTHER,
        "an anonymous POST /setup now goes to the login page"
    );
    assert_eq!(get(&f, "/setup").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        login(&f, "10.0.0.7", "admin", PASSWORD, "/").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_configured_admin_password_closes_setup_and_logs_in() {
    let mut f = fixture(Vec::new(), Vec::new());
    f.state = f
        .state
        .clone()
        .with_admin_password_hash(accounts::hash_password(PASSWORD).unwrap());
    let resp = send_anon(&f.state, request("GET", "/networks")).await;
    assert!(header(&resp, header::LOCATION).starts_with("/login"));
    assert_eq!(
        send_anon(&f.state, request("GET", "/setup")).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&f, "10.0.0.8", "admin", PASSWORD, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&f, "10.0.0.8", "admin", "not the password", "/")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_admin_changes_its_password_and_other_sessions_end() {
    let f = with_admin();
    let resp = login(&f, "10.0.0.9", "admin", PASSWORD, "/").await;
    let mine = cookie_pair(&resp, SESSION_COOKIE).unwrap();
    let mine_req = |form: String| {
        Request::post("/accounts/password")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &mine)
            .body(Body::from(form))
            .unwrap()
    };
    let page = send_anon(
        &f.state,
        Request::get("/accounts")
            .header(header::COOKIE, &mine)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let html = body(page).await;
    assert!(html.contains("action=\"/accounts/password\""));
    let csrf = csrf_field(&html);
    let form = |current: &str, new: &str| {
        serde_urlencoded::to_string([
            ("csrf", csrf.as_str()),
            ("current", current),
            ("password", new),
            ("confirm", new),
        ])
        .unwrap()
    };
    let resp = send_anon(&f.state, mine_req(form("wrong one!", "a new password"))).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = send_anon(&f.state, mine_req(form(PASSWORD, "a new password"))).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let renewed = cookie_pair(&resp, SESSION_COOKIE).unwrap();
    assert_ne!(renewed, mine);
    // The fixture's other admin session and this one's old id are gone.
    assert_eq!(get(&f, "/networks").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        send_anon(&f.state, mine_req(String::new())).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&f, "10.0.0.9", "admin", PASSWORD, "/").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&f, "10.0.0.9", "admin", "a new password", "/")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_admin_adds_and_removes_a_viewer_on_the_accounts_page() {
    let f = with_admin();
    let csrf = session_csrf(&f).await;
    let post = |uri: &str, fields: &[(&str, &str)]| {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &csrf));
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
            .unwrap()
    };
    // Names are checked; the admin account cannot be turned into a viewer here.
    for (name, password) in [
        ("bad name!", PASSWORD),
        ("admin", PASSWORD),
        ("otto", "short"),
    ] {
        let resp = send(
            &f,
            post("/accounts/users", &[("name", name), ("password", password)]),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name}");
    }
    let resp = send(
        &f,
        post(
            "/accounts/users",
            &[("name", "otto"), ("password", PASSWORD)],
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        f.state.store.user("otto").unwrap().unwrap().role,
        Role::Viewer
    );
    let resp = login(&f, "10.0.0.10", "otto", PASSWORD, "/networks").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let otto = cookie_pair(&resp, SESSION_COOKIE).unwrap();
    let as_otto = || {
        Request::get("/networks")
            .header(header::COOKIE, &otto)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send_anon(&f.state, as_otto()).await.status(),
        StatusCode::OK
    );
    // Removed: the account and its sessions are gone; an admin cannot be removed here.
    let resp = send(&f, post("/accounts/users/remove", &[("name", "admin")])).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = send(&f, post("/accounts/users/remove", &[("name", "otto")])).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(f.state.store.user("otto").unwrap(), None);
    assert_eq!(
        send_anon(&f.state, as_otto()).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_dashboard_stream_ends_with_its_session() {
    use futures::StreamExt as _;
    let f = with_admin();
    let resp = get(&f, "/events/dashboard").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s");
    assert!(first.is_some());
    // Log out (what POST /logout does): the open stream stops at its next tick.
    let id = accounts::from_hex::<32>(f.cookie.split_once('=').unwrap().1).unwrap();
    f.state.auth.end_session(&id);
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            chunk.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream went on after the session ended");
}

/// The hub's Devices page: an admin makes a code (with the CSRF token only), sees the
/// enrolled devices with their names escaped, and revokes one.
#[tokio::test]
async fn the_hub_devices_page_makes_codes_and_revokes_behind_csrf() {
    let mut f = with_admin();
    // Not a hub: the page says so, the API route is a JSON 404.
    let page = body(get(&f, "/hub/devices").await).await;
    assert!(page.contains("not a hub"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let cert = crate::hub::tls::load_or_create(dir.path(), &["localhost".into()]).unwrap();
    let hub = crate::hub::Hub::new(f.state.store.clone(), &cert, crate::hub::DEFAULT_CODE_TTL);
    f.state = f.state.clone().with_hub(hub.clone());
    let id = [0xa5u8; 16];
    f.state
        .store
        .enroll_hub_device(&id, "<b>van</b>", &[3; 32], 1)
        .unwrap();
    let page = body(get(&f, "/hub/devices").await).await;
    assert!(page.contains("&#60;b&#62;van&#60;/b&#62;") || page.contains("&lt;b&gt;van"));
    assert!(!page.contains("<b>van"));
    assert!(page.contains(&crate::hub::tls::fingerprint_text(&cert.fingerprint)));
    let csrf = csrf_field(&page);
    let form = |uri: &str, body: String| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    // Without the CSRF token: refused, no code made.
    let resp = send(&f, form("/hub/devices/code", String::new())).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(hub.open_codes(), 0);
    let resp = send(&f, form("/hub/devices/code", format!("csrf={csrf}"))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, header::CACHE_CONTROL), "no-store");
    let page = body(resp).await;
    let marker = "<code class=\"mono token\">";
    let at = page.find(marker).unwrap() + marker.len();
    let code = crate::hub::code::Code::parse(&page[at..at + 19]).unwrap();
    assert!(code.names(&cert.fingerprint));
    assert_eq!(hub.open_codes(), 1);
    // Revoke: without the token refused, with it done.
    let hex = accounts::to_hex(&id);
    let resp = send(&f, form("/hub/devices/revoke", format!("id={hex}"))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        f.state
            .store
            .hub_device_by_token(&[3; 32])
            .unwrap()
            .is_some()
    );
    let resp = send(
        &f,
        form("/hub/devices/revoke", format!("csrf={csrf}&id={hex}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        f.state
            .store
            .hub_device_by_token(&[3; 32])
            .unwrap()
            .is_none()
    );
    let page = body(get(&f, "/hub/devices").await).await;
    assert!(page.contains("revoked"), "{page}");
}
