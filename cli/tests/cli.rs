//! The CLI's behaviour where no cluster is needed: help, argument and configuration errors.
use std::process::{Command, Output};

fn meridian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .env_remove("MERIDIAN_EXCHANGE")
        .env_remove("MERIDIAN_URL")
        .env_remove("MERIDIAN_KEYPAIR")
        .output()
        .expect("run meridian")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SOME_ADDRESS: &str = "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA";

#[test]
fn help_lists_the_commands() {
    let o = meridian(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["exchange", "account", "--url", "--keypair", "--json", "--exchange"] {
        assert!(text.contains(word), "help lacks {word}:\n{text}");
    }
    let o = meridian(&["account", "--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["create", "deposit", "withdraw", "show", "close", "list"] {
        assert!(text.contains(word), "account help lacks {word}:\n{text}");
    }
}

#[test]
fn missing_exchange_is_explained() {
    let o = meridian(&["-C", "/nonexistent", "account", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("pass --exchange"), "{}", stderr(&o));
}

#[test]
fn bad_addresses_are_named() {
    let o = meridian(&["-C", "/nonexistent", "--exchange", "not-an-address", "exchange", "show"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a base58 address"), "{}", stderr(&o));
}

#[test]
fn unreadable_keypair_is_explained() {
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--keypair",
        "/nonexistent/id.json",
        "--exchange",
        SOME_ADDRESS,
        "account",
        "create",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read keypair /nonexistent/id.json"), "{}", stderr(&o));
}

#[test]
fn unreachable_rpc_fails_cleanly_and_json_errors_are_json() {
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--url",
        "http://127.0.0.1:9",
        "--exchange",
        SOME_ADDRESS,
        "--json",
        "exchange",
        "show",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stderr(&o)).expect("JSON error");
    assert!(v["error"].as_str().unwrap().contains("RPC"), "{v}");
}

#[test]
fn pause_needs_a_target() {
    let o = meridian(&["-C", "/nonexistent", "--exchange", SOME_ADDRESS, "exchange", "pause"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("pause what?"), "{}", stderr(&o));
}

#[test]
fn risk_price_needs_no_cluster_and_matches_black_scholes() {
    // S 100, K 110, vol 60%, r 5%, 30 days: call 3.389790 (f64 reference 3.3897898763), delta 0.328455
    let o = meridian(&[
        "-C",
        "/nonexistent",
        "--json",
        "risk",
        "price",
        "--kind",
        "call",
        "--spot",
        "100",
        "--strike",
        "110",
        "--vol",
        "0.6",
        "--rate",
        "0.05",
        "--days",
        "30",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((v["price"].as_str(), v["delta"].as_str()), (Some("3.389790"), Some("0.328455")));
    assert_eq!(v["gamma"].as_str(), Some("0.021013660"));
    let o = meridian(&[
        "risk", "price", "--kind", "put", "--spot", "100", "--strike", "abc", "--vol", "0.6", "--days", "30",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--strike \"abc\" is not a decimal number"), "{}", stderr(&o));
    let o =
        meridian(&["risk", "price", "--kind", "put", "--spot", "0", "--strike", "1", "--vol", "0.6", "--days", "30"]);
    assert!(stderr(&o).contains("must be positive"), "{}", stderr(&o));
}
