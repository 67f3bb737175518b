//! Compute units per instruction, measured on the SBF binary.

use crate::harness::{fixed_keypair, Harness, SPL_TOKEN, TOKEN_2022};
use meridian::{ExchangeParams, PauseFlags};
use meridian_engine::probe::ProbeOp;
use meridian_sdk::ix;
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::collections::BTreeMap;

/// A measured instruction: its name in `bench/cu.json`, what the scenario does, and the ceiling the
/// tests hold it to.
pub struct Row {
    pub name: &'static str,
    pub scenario: &'static str,
    pub ceiling: u64,
}

/// Every benchmarked instruction. Ceilings sit ~25% above the measured figure: a regression fails
/// the test suite, noise cannot (CU counts are deterministic for a given binary and keys). The two
/// PDA-creating instructions search their canonical bump on-chain (~1.5k CU per try), so their
/// cost depends on the keys; their ceilings leave room for that.
pub const ROWS: &[Row] = &[
    Row { name: "initialize_exchange", scenario: "SPL Token mint; creates exchange + vault PDAs", ceiling: 27_000 },
    Row { name: "create_margin_account", scenario: "PDA init, sub-account 0", ceiling: 11_500 },
    Row { name: "deposit", scenario: "SPL Token transfer_checked into the vault", ceiling: 8_700 },
    Row { name: "deposit_token_2022", scenario: "Token-2022 mint, same deposit", ceiling: 11_300 },
    Row { name: "withdraw", scenario: "SPL Token transfer_checked out, PDA-signed", ceiling: 8_500 },
    Row { name: "withdraw_token_2022", scenario: "Token-2022 mint, same withdrawal", ceiling: 11_000 },
    Row { name: "close_margin_account", scenario: "empty account, rent to owner", ceiling: 1_900 },
    Row { name: "set_paused", scenario: "admin sets all pause flags", ceiling: 1_250 },
    Row { name: "math_probe", scenario: "u128 / u128 with a 128-bit divisor (worst case)", ceiling: 1_050 },
];

fn collateral_flow(h: &mut Harness, seed: u8, token_program: Pubkey, suffix: &str, out: &mut BTreeMap<String, u64>) {
    let mint = h.create_mint(6, token_program);
    let fx = h.setup_exchange_as(fixed_keypair(seed), mint, token_program, ExchangeParams::default());
    let t = h.trader_as(fixed_keypair(seed + 1), &fx, 1_000_000_000);
    out.insert(format!("deposit{suffix}"), h.deposit(&fx, &t, 500_000_000).compute_units_consumed);
    out.insert(format!("withdraw{suffix}"), h.withdraw(&fx, &t, 200_000_000).compute_units_consumed);
}

/// Runs every scenario on a fresh runtime and returns {instruction: compute units}. Every key that
/// feeds a PDA is fixed, so the on-chain bump searches, and with them the figures, reproduce exactly.
pub fn measure() -> BTreeMap<String, u64> {
    let mut h = Harness::new();
    let mut out = BTreeMap::new();

    let mint = h.create_mint(6, SPL_TOKEN);
    let admin = fixed_keypair(1);
    h.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
    let init = ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, ExchangeParams::default());
    out.insert("initialize_exchange".into(), h.ok(&[init], &[&admin]).compute_units_consumed);
    let fx = h.setup_exchange_as(fixed_keypair(2), mint, SPL_TOKEN, ExchangeParams::default());

    let owner = fixed_keypair(3);
    h.svm.airdrop(&owner.pubkey(), 10_000_000_000).unwrap();
    let create = ix::create_margin_account(&fx.exchange, &owner.pubkey(), &owner.pubkey(), 0);
    out.insert("create_margin_account".into(), h.ok(&[create], &[&owner]).compute_units_consumed);
    let margin = meridian_sdk::pda::margin_account(&fx.exchange, &owner.pubkey(), 0).0;
    let close = ix::close_margin_account(&fx.exchange, &margin, &owner.pubkey());
    out.insert("close_margin_account".into(), h.ok(&[close], &[&owner]).compute_units_consumed);

    collateral_flow(&mut h, 10, SPL_TOKEN, "", &mut out);
    collateral_flow(&mut h, 20, TOKEN_2022, "_token_2022", &mut out);

    let pause = ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::ALL);
    out.insert("set_paused".into(), h.ok(&[pause], &[&fx.admin]).compute_units_consumed);

    let probe = ix::math_probe(ProbeOp::DivU128 as u8, -1, (u64::MAX as i128) << 3 | 5, 0);
    out.insert("math_probe".into(), h.ok(&[probe], &[]).compute_units_consumed);

    for row in ROWS {
        assert!(out.contains_key(row.name), "no measurement for {}", row.name);
    }
    assert_eq!(out.len(), ROWS.len(), "a measurement without a row: {:?}", out.keys());
    out
}

/// `bench/cu.json`: {"instruction_name": compute_units}, sorted by name.
pub fn to_json(figures: &BTreeMap<String, u64>) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        figures.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect();
    serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap() + "\n"
}

/// `bench/CU.md`: the same figures with scenarios and ceilings.
pub fn to_markdown(figures: &BTreeMap<String, u64>, binary_size: usize) -> String {
    let mut md = String::from(
        "# Compute units per instruction\n\n\
         Measured on the SBF binary (`target/deploy/meridian.so`, SBPF v3) in LiteSVM with the mainnet\n\
         feature set. Regenerate with `scripts/cu.sh`; `tests/program/tests/cu.rs` fails when a figure\n\
         exceeds its ceiling.\n\n",
    );
    md.push_str(&format!("Binary size: {binary_size} bytes.\n\n"));
    md.push_str("| instruction | compute units | ceiling | scenario |\n| --- | ---: | ---: | --- |\n");
    for row in ROWS {
        md.push_str(&format!("| `{}` | {} | {} | {} |\n", row.name, figures[row.name], row.ceiling, row.scenario));
    }
    md
}
