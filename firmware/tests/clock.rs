//! Setting the clock without CAP_SYS_TIME fails with a message that names the capability.

use std::process::Command;

#[test]
fn set_clock_without_cap_sys_time_names_the_capability() {
    // Run the binary as `nobody`, which has no capabilities, whoever runs the tests.
    // setpriv is part of util-linux, present on every Debian system.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_piwardrive"))
        .args(["set-clock", &now.to_string()])
        .output()
        .expect("setpriv (util-linux) must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CAP_SYS_TIME"), "{stderr}");
}
