//! `piwardrive user` and `piwardrive token` as a user runs them: a password from standard input, tokens printed once, listed and revoked, and the store holding only hashes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use piwardrive::accounts::{self, Role};
use piwardrive::store::Store;

fn piwardrive(args: &[&str], data: &std::path::Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_piwardrive"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn user_passwd_reads_stdin_and_stores_an_argon2id_hash() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = piwardrive(&["user", "passwd"], &data, Some("a fine password\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("account created"));
    let out = piwardrive(
        &["user", "passwd", "--user", "vera", "--role", "viewer"],
        &data,
        Some("another password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Too short: refused, nothing changed.
    let out = piwardrive(&["user", "passwd"], &data, Some("short\n"));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 8"),
        "{}",
        text(&out.stderr)
    );
    let out = piwardrive(&["user", "list"], &data, None);
    let list = text(&out.stdout);
    assert!(
        list.contains("admin\tadmin\t") && list.contains("vera\tviewer\t"),
        "{list}"
    );

    let store = Store::open(&data.join("piwardrive.redb")).unwrap();
    let admin = store.user("admin").unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(
        admin
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(accounts::verify_password(
        "a fine password",
        &admin.password_hash
    ));
    assert!(
        !store
            .users()
            .unwrap()
            .iter()
            .any(|u| u.password_hash.contains("password"))
    );
}

#[test]
fn token_create_prints_once_list_shows_and_revoke_removes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = piwardrive(&["token", "create", "--name", "backup"], &data, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(token.starts_with("pwt_") && token.len() == 68, "{token}");
    // A second token of the same name is refused; an admin token is fine.
    let out = piwardrive(&["token", "create", "--name", "backup"], &data, None);
    assert!(!out.status.success());
    let out = piwardrive(
        &["token", "create", "--name", "ops", "--role", "admin"],
        &data,
        None,
    );
    assert!(out.status.success());
    let list = text(&piwardrive(&["token", "list"], &data, None).stdout);
    assert!(list.contains("backup\tviewer\tcreated "), "{list}");
    assert!(
        list.contains("ops\tadmin\t") && list.contains("last used never"),
        "{list}"
    );
    assert!(!list.contains(&token), "the token is never shown again");
    {
        let store = Store::open(&data.join("piwardrive.redb")).unwrap();
        let raw = std::fs::read(store.path()).unwrap();
        assert!(
            !raw.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token itself must not be in the store"
        );
        assert!(
            store
                .token_by_hash(&accounts::token_hash(&token))
                .unwrap()
                .is_some()
        );
    }
    let out = piwardrive(&["token", "revoke", "backup"], &data, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = piwardrive(&["token", "revoke", "backup"], &data, None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no token named"));
    let store = Store::open(&data.join("piwardrive.redb")).unwrap();
    assert!(
        store
            .token_by_hash(&accounts::token_hash(&token))
            .unwrap()
            .is_none()
    );
}
