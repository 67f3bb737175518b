//! The generated IDL (target/idl/meridian.json, from `scripts/sbf.sh build`) agrees with the program
//! crate the SDK is built on: program id, instructions and the error table clients decode with.
use meridian::MeridianError;

fn idl() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/idl/meridian.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/sbf.sh build)", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn idl_matches_the_program() {
    let idl = idl();
    assert_eq!(idl["address"], meridian::ID.to_string());
    let errors = idl["errors"].as_array().unwrap();
    assert_eq!(errors.len(), MeridianError::ALL.len(), "IDL and MeridianError::ALL disagree");
    for (e, idl_e) in MeridianError::ALL.iter().zip(errors) {
        assert_eq!(idl_e["code"], u32::from(*e));
        assert_eq!(idl_e["name"], e.name());
        assert_eq!(idl_e["msg"], e.to_string());
    }
    let names: Vec<&str> =
        idl["instructions"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    for expected in [
        "initialize_exchange",
        "create_margin_account",
        "deposit",
        "withdraw",
        "close_margin_account",
        "set_paused",
        "math_probe",
        "create_oracle",
        "configure_oracle",
        "refresh_oracle",
        "set_market_oracle",
        "update_funding",
        "settle_funding",
        "set_funding_params",
        "liquidate_cancel_orders",
    ] {
        assert!(names.contains(&expected), "IDL lacks {expected}: {names:?}");
    }
    let accounts: Vec<&str> = idl["accounts"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(accounts, ["EventQueue", "Exchange", "MarginAccount", "Market", "OracleAggregate", "OrderBook"]);
}
