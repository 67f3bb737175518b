use std::process::Command;

#[test]
fn help_names_the_roles() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper")).arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("status"));
}

#[test]
fn unreachable_rpc_is_an_error_exit() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .args(["--url", "http://127.0.0.1:9", "status", "--exchange", "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA"])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
