//! `piwardrive hub` and `piwardrive sync` as processes: the hub's certificate (made once, kept, accepted by curl and fingerprinted by openssl), enrollment with one-time codes, device tokens refused when wrong or revoked, and a second hub refused by the pin and by the code.
//!
//! The TLS clients we did not write are Debian's curl and openssl (OpenSSL 3): curl checks
//! the hub's certificate against the saved PEM (names and all), openssl computes the
//! fingerprint devices pin. The device side is the real `piwardrive sync enroll` and the
//! library's `upstream::Client`.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use piwardrive::upstream::{Client, Upstream, UpstreamError};

use common::hub::{Hub, admin_token, enroll, piwardrive};

/// The hubs' enrollment codes live this long here, so expiry is testable.
const CODE_TTL_S: u64 = 5;

/// openssl's SHA-256 fingerprint of a PEM certificate (`AB:CD:...`).
fn openssl_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("openssl not found: apt-get install openssl");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().rsplit('=').next().unwrap().to_owned()
}

fn device_hex(dir: &Path) -> String {
    let store = piwardrive::store::Store::open(&dir.join("piwardrive.redb")).unwrap();
    piwardrive::accounts::to_hex(&store.device_id())
}

fn whoami(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
) -> Result<piwardrive::hub::WhoAmI, UpstreamError> {
    let up = Upstream::load(dir).unwrap().expect("enrolled");
    rt.block_on(async {
        Client::with_timeout(&up, Duration::from_secs(10))?
            .whoami()
            .await
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn enrollment_tokens_revocation_and_a_certificate_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = dir.path().join("hub");
    let (van, bike) = (dir.path().join("van"), dir.path().join("bike"));
    let token = admin_token(&hub_dir);
    let port = common::free_port();
    let rt = tokio::runtime::Runtime::new().unwrap();

    let hub = Hub::start_with_code_ttl(&hub_dir, port, CODE_TTL_S);
    assert!(hub.log().contains("(made now)"), "{}", hub.log());
    let fingerprint = hub.logged_fingerprint();
    // The fingerprint the hub logs is the one OpenSSL computes from the saved certificate.
    assert_eq!(fingerprint, openssl_fingerprint(&hub.cert()));
    let key = hub_dir.join("hub-tls/key.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // curl accepts the certificate for its DNS and IP names, and talks HTTP through it.
    for host in ["127.0.0.1", "localhost"] {
        let (status, body) = hub.curl(host, &[], "/api/v1/system/health");
        assert_eq!(
            (status, body.as_str()),
            (200, "{\"status\":\"ok\"}"),
            "{host}"
        );
    }

    // A device enrolls with a code from the admin API.
    let code = hub.code(&token);
    let out = enroll(&hub.url(), &code, &van, "van");
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = van.join("upstream.toml");
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let up = Upstream::load(&van).unwrap().unwrap();
    assert_eq!(up.pin_text(), fingerprint);
    assert_eq!(up.hub_url, hub.url());
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("token = \"pwd_"), "{text}");
    let me = whoami(&rt, &van).unwrap();
    assert_eq!(me.device_id, device_hex(&van));
    assert_eq!(me.name, "van");
    // `sync status` shows the enrollment, never the token.
    let out = piwardrive(&[
        "sync",
        "status",
        "--check",
        "--data-dir",
        van.to_str().unwrap(),
    ]);
    let status = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        status.contains(&fingerprint) && status.contains("check\tok"),
        "{status}"
    );
    assert!(!status.contains("pwd_"), "{status}");

    // The code was used: a second device cannot use it.
    let out = enroll(&hub.url(), &code, &bike, "bike");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown, used or expired"),
        "{}",
        stderr(&out)
    );
    assert!(!bike.join("upstream.toml").exists());
    // An expired code is refused.
    let code = hub.code(&token);
    std::thread::sleep(Duration::from_secs(CODE_TTL_S + 1));
    let out = enroll(&hub.url(), &code, &bike, "bike");
    assert!(
        stderr(&out).contains("unknown, used or expired"),
        "{}",
        stderr(&out)
    );
    // A fresh one works, and the second device's token is the second device.
    let out = enroll(&hub.url(), &hub.code(&token), &bike, "bike");
    assert!(out.status.success(), "{}", stderr(&out));
    let me = whoami(&rt, &bike).unwrap();
    assert_eq!(
        (me.device_id, me.name.as_str()),
        (device_hex(&bike), "bike")
    );
    assert_ne!(device_hex(&bike), device_hex(&van));

    // No token, a made-up token, an API token: 401, with a reason.
    let made_up = format!("Authorization: Bearer pwd_{}", "00".repeat(32));
    let api = format!("Authorization: Bearer {token}");
    for args in [
        vec![],
        vec!["-H", made_up.as_str()],
        vec!["-H", api.as_str()],
    ] {
        let (status, body) = hub.curl("127.0.0.1", &args, "/sync/v1/whoami");
        assert_eq!(status, 401, "{args:?}: {body}");
        assert!(body.contains("token"), "{body}");
    }
    // Revoked from the Devices page (an admin API token, so no CSRF token): van is refused,
    // bike is not.
    let form = format!("id={}", device_hex(&van));
    let (status, _) = hub.curl(
        "127.0.0.1",
        &["-H", &api, "--data", &form],
        "/hub/devices/revoke",
    );
    assert_eq!(status, 303);
    match whoami(&rt, &van) {
        Err(UpstreamError::Refused {
            status: 401,
            reason,
        }) => {
            assert!(reason.contains("revoked"), "{reason}")
        }
        other => panic!("a revoked token: {other:?}"),
    }
    assert!(whoami(&rt, &bike).is_ok());

    // Restart: the same certificate, the devices and their last-seen times kept.
    let log = hub.stop();
    assert!(log.contains("hub stopped"), "{log}");
    let out = piwardrive(&["hub", "devices", "--data-dir", hub_dir.to_str().unwrap()]);
    let listed = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.split('\t').nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} not in {listed}"))
            .to_owned()
    };
    assert!(line("van").contains("revoked"), "{listed}");
    assert!(!line("bike").contains("revoked") && !line("bike").contains("last seen never"));
    // Revoked from the command line while the hub is stopped.
    let out = piwardrive(&[
        "hub",
        "revoke",
        "bike",
        "--data-dir",
        hub_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hub = Hub::start_with_code_ttl(&hub_dir, port, CODE_TTL_S);
    assert!(hub.log().contains("(kept)"), "{}", hub.log());
    assert_eq!(hub.logged_fingerprint(), fingerprint);
    assert!(matches!(
        whoami(&rt, &bike),
        Err(UpstreamError::Refused { status: 401, .. })
    ));
    // Enrolling again gives bike a new token that works.
    let out = enroll(&hub.url(), &hub.code(&token), &bike, "bike");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(whoami(&rt, &bike).is_ok());
    hub.stop();
}

#[test]
fn another_hub_is_refused_by_the_pin_and_by_the_code_before_any_secret_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (real_dir, other_dir) = (dir.path().join("real"), dir.path().join("other"));
    let device = dir.path().join("device");
    let token = admin_token(&real_dir);
    let (port, other_port) = (common::free_port(), common::free_port());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let real = Hub::start_with_code_ttl(&real_dir, port, CODE_TTL_S);
    let other = Hub::start_with_code_ttl(&other_dir, other_port, CODE_TTL_S);
    assert_ne!(real.logged_fingerprint(), other.logged_fingerprint());

    // A code of the real hub, typed with the other hub's address: the device sees that the
    // certificate is not the one the code names and stops before sending anything.
    let code = real.code(&token);
    let out = enroll(&other.url(), &code, &device, "van");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(!device.join("upstream.toml").exists());
    assert!(
        common::wait_until(Duration::from_secs(5), || other
            .log()
            .contains("TLS handshake failed")),
        "{}",
        other.log()
    );
    // The other hub never got a request: no enrollment, refused or not.
    assert!(!other.log().contains("enroll"), "{}", other.log());
    // So the code is still unused, and works with the real hub.
    let out = enroll(&real.url(), &code, &device, "van");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(whoami(&rt, &device).is_ok());

    // The other hub takes the real one's address: the pinned client refuses it, and the
    // token never reaches it.
    real.stop();
    other.stop();
    let impostor = Hub::start_with_code_ttl(&other_dir, port, CODE_TTL_S);
    match whoami(&rt, &device) {
        Err(UpstreamError::PinMismatch { presented, .. }) => {
            assert_eq!(presented, impostor.logged_fingerprint())
        }
        other => panic!("another hub at the pinned address: {other:?}"),
    }
    assert!(
        common::wait_until(Duration::from_secs(5), || impostor
            .log()
            .contains("TLS handshake failed")),
        "{}",
        impostor.log()
    );
    let log = impostor.stop();
    assert!(
        !log.contains("sync:"),
        "the impostor saw a sync request:\n{log}"
    );
    // With the real hub back, the same client works again.
    let real = Hub::start_with_code_ttl(&real_dir, port, CODE_TTL_S);
    assert!(whoami(&rt, &device).is_ok());
    // An unreachable hub is Unreachable, not a pin problem.
    real.stop();
    assert!(matches!(
        whoami(&rt, &device),
        Err(UpstreamError::Unreachable(_))
    ));
}
