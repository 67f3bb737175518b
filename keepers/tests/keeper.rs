use std::process::Command;

#[test]
fn help_names_the_roles() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper")).arg("--help").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("status") && text.contains("crank"), "{text}");
}

#[test]
fn unreachable_rpc_is_an_error_exit() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .args([
            "--url",
            "http://127.0.0.1:9",
            "-C",
            "/nonexistent",
            "--exchange",
            "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA",
            "status",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
