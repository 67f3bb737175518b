//! The generated IDL (target/idl/meridian.json, from `scripts/sbf.sh build`) agrees with the program
//! crate the SDK is built on: program id, instructions and the error table clients decode with.
use meridian::MeridianError;

fn idl() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/idl/meridian.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run scripts/sbf.sh build)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The committed IDL (`idl/meridian.json`, what TypeScript clients load) is the generated one.
#[test]
fn committed_idl_is_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("idl/meridian.json")).unwrap()).unwrap();
    assert!(committed == idl(), "idl/meridian.json differs from the generated IDL: run scripts/sbf.sh idl-update");
}

/// Every stored struct and the event read by field name: positions, health windows, option lot
/// risk, oracle sources; the integer codes are named constants.
#[test]
fn idl_names_every_stored_field() {
    let idl = idl();
    let ty = |name: &str| -> serde_json::Value {
        idl["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("IDL lacks {name}"))["type"]
            .clone()
    };
    let field = |t: &str, f: &str| -> serde_json::Value {
        ty(t)["fields"].as_array().unwrap().iter().find(|x| x["name"] == f).unwrap_or_else(|| panic!("{t} lacks {f}"))
            ["type"]
            .clone()
    };
    let array_of = |t: &str, f: &str| field(t, f)["array"][0]["defined"]["name"].as_str().unwrap_or("").to_string();
    assert_eq!(array_of("MarginAccount", "positions"), "PositionRecord");
    assert_eq!(array_of("MarginAccount", "health_history"), "HealthRecord");
    assert_eq!(array_of("MarginAccount", "open_orders"), "OpenOrder");
    assert_eq!(array_of("OracleAggregate", "sources"), "OracleSource");
    assert_eq!(field("Market", "lot_risk")["defined"]["name"], "LotRiskRecord");
    assert_eq!(field("PositionRecord", "base_lots"), "i64");
    // arguments carry enums, not integer codes: from the order flow to the admin's market settings
    let defined = |t: &str, f: &str| field(t, f)["defined"]["name"].as_str().unwrap_or("").to_string();
    assert_eq!(defined("PlaceOrderArgs", "side"), "OrderSide");
    assert_eq!(defined("PlaceOrderArgs", "order_kind"), "OrderType");
    assert_eq!(defined("PlaceOrderArgs", "self_trade"), "SelfTradeBehavior");
    assert_eq!(defined("MarketParams", "kind"), "MarketKind");
    assert_eq!(defined("OracleSourceParams", "kind"), "OracleSourceKind");
    let arg = |ix: &str, name: &str| -> String {
        let ix = idl["instructions"].as_array().unwrap().iter().find(|i| i["name"] == ix).unwrap();
        let a = ix["args"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap();
        a["type"]["defined"]["name"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(arg("set_market_status", "status"), "MarketStatus");
    assert_eq!(arg("set_market_mode", "mode"), "MarketMode");
    assert_eq!(arg("cancel_all_orders", "side"), "CancelSide");
    for t in ["OrderSide", "MarketKind", "MarketStatus", "MarketMode", "OracleSourceKind"] {
        assert_eq!(ty(t)["kind"], "enum", "{t}");
    }
    assert_eq!(field("HealthRecord", "equity"), "i64");
    // no stored struct is a bare matrix of words any more
    for t in idl["types"].as_array().unwrap() {
        for f in t["type"]["fields"].as_array().into_iter().flatten() {
            let nested_words = f["type"]["array"][0]["array"].is_array();
            assert!(!nested_words, "{}.{} is an array of word arrays", t["name"], f["name"]);
        }
    }
    let events: Vec<&str> = idl["events"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(events, ["EventsApplied"]);
    assert_eq!(ty("AppliedEvent")["kind"], "enum");
    let constant = |name: &str| -> String {
        let c = idl["constants"].as_array().unwrap().iter().find(|c| c["name"] == name);
        c.unwrap_or_else(|| panic!("IDL lacks constant {name}"))["value"].as_str().unwrap().to_string()
    };
    assert_eq!(constant("SIDE_ASK"), (meridian_engine::units::Side::Ask as u8).to_string());
    assert_eq!(constant("ORDER_KIND_POST_ONLY"), (meridian_engine::matching::OrderKind::PostOnly as u8).to_string());
    assert_eq!(constant("MARKET_STATUS_CLOSED"), (meridian::MarketStatus::Closed as u8).to_string());
    assert_eq!(constant("SOURCE_KIND_SWITCHBOARD"), "1");
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
    assert!(!names.contains(&"math_probe"), "the production program carries no math probe");
    for expected in [
        "initialize_exchange",
        "create_margin_account",
        "deposit",
        "withdraw",
        "close_margin_account",
        "set_paused",
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

/// Markets run in parallel: no order-flow instruction writes an account shared between markets.
/// From the IDL (what any Anchor client builds) and from the SDK's builders, the writable accounts
/// of place, replace, the cancels, mass quote and the crank are the market's own (market, book,
/// event queue) and margin accounts: never the exchange, an oracle or another market.
#[test]
fn order_flow_writes_only_per_market_accounts() {
    use meridian_sdk::{ix, ix::MarketAccounts, order, MassQuoteArgs, Pubkey};
    let idl = idl();
    let per_market = ["market", "book", "event_queue", "margin_account", "reward_account"];
    for name in [
        "place_order",
        "replace_order",
        "mass_quote",
        "cancel_order",
        "cancel_order_by_client_id",
        "cancel_all_orders",
        "consume_events",
        "clear_auction",
    ] {
        let ix = idl["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("IDL lacks {name}"));
        let writable: Vec<&str> = ix["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["writable"].as_bool().unwrap_or(false))
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(writable.iter().all(|w| per_market.contains(w)), "{name} writes {writable:?}");
        assert!(!writable.contains(&"exchange"), "{name} writes the exchange");
    }

    let key = |i: u8| Pubkey::new_from_array([i; 32]);
    let m = MarketAccounts { exchange: key(1), market: key(2), book: key(3), event_queue: key(4) };
    let (margin, owner, other_market, maker) = (key(5), key(6), key(7), key(8));
    let health = [other_market];
    let built = [
        ("place_order", ix::place_order(&m, &margin, &owner, order::limit(order::Side::Bid, 1, 1), &health)),
        ("replace_order", ix::replace_order(&m, &margin, &owner, 1, order::limit(order::Side::Bid, 1, 1), &health)),
        ("mass_quote", ix::mass_quote(&m, &margin, &owner, MassQuoteArgs::default(), &health)),
        ("cancel_order", ix::cancel_order(&m, &margin, &owner, 1)),
        ("cancel_order_by_client_id", ix::cancel_order_by_client_id(&m, &margin, &owner, 1)),
        ("cancel_all_orders", ix::cancel_all_orders(&m, &margin, &owner, meridian::CancelSide::Both, 0)),
        ("consume_events", ix::consume_events(&m, &margin, 1, &[maker])),
        // a batch market's clearing: its keeper runs beside the other markets'
        ("clear_auction", ix::clear_auction(&m)),
    ];
    for (name, ix) in built {
        let mut writable: Vec<Pubkey> = ix.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey).collect();
        writable.sort();
        writable.dedup();
        let allowed = [m.market, m.book, m.event_queue, margin, maker];
        assert!(writable.iter().all(|w| allowed.contains(w)), "{name} writes {writable:?}");
        assert!(!writable.contains(&m.exchange) && !writable.contains(&other_market), "{name} writes a shared account");
    }
}

/// The order flow's account lists are declared once (`meridian::hot_accounts`), for the program's
/// own entrypoint and for Anchor's: each agrees with the accounts of Anchor's generated IDL, name by
/// name, with the same signer and writable flags.
#[test]
fn hot_account_declarations_match_anchors() {
    use meridian::hot_accounts::{AccountSpec, CancelAccounts, ConsumeAccounts, PlaceAccounts};
    let idl = idl();
    let lists: [(&str, &[AccountSpec]); 7] = [
        ("place_order", PlaceAccounts::<()>::LAYOUT),
        ("replace_order", PlaceAccounts::<()>::LAYOUT),
        ("mass_quote", PlaceAccounts::<()>::LAYOUT),
        ("cancel_order", CancelAccounts::<()>::LAYOUT),
        ("cancel_order_by_client_id", CancelAccounts::<()>::LAYOUT),
        ("cancel_all_orders", CancelAccounts::<()>::LAYOUT),
        ("consume_events", ConsumeAccounts::<()>::LAYOUT),
    ];
    for (name, layout) in lists {
        let ix = idl["instructions"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap();
        let anchor: Vec<(String, bool, bool, bool)> = ix["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let flag = |f: &str| a[f].as_bool().unwrap_or(false);
                // `#[event_cpi]` adds both at fixed addresses; the IDL writes neither address down
                let fixed = a.get("address").is_some() || a["name"] == "event_authority" || a["name"] == "program";
                (a["name"].as_str().unwrap().to_string(), flag("writable"), flag("signer"), fixed)
            })
            .collect();
        let declared: Vec<(String, bool, bool, bool)> =
            layout.iter().map(|s| (s.name.to_string(), s.writable, s.signer, s.fixed_address)).collect();
        assert_eq!(declared, anchor, "{name}: the declaration differs from Anchor's accounts");
    }
}
