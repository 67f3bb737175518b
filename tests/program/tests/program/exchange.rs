//! initialize_exchange and set_paused on the SBF binary.
use anchor_lang::error::ErrorCode as Anchor;
use meridian::{ExchangeParams, MeridianError, PauseFlags};
use meridian_program_tests::harness::{Expected, Harness, SPL_TOKEN, TOKEN_2022};
use meridian_sdk::{ix, pda, token::spl_token_2022};
use solana_sdk::{signature::Keypair, signer::Signer};

#[test]
fn initialize_exchange_creates_state_and_vault() {
    for (decimals, token_program) in [(6, SPL_TOKEN), (9, TOKEN_2022), (0, SPL_TOKEN)] {
        let mut h = Harness::new();
        let params = ExchangeParams { index: 7, deposit_cap: 5_000_000, insurance_fee_share_bps: 2_500 };
        let fx = h.setup_exchange(decimals, token_program, params);
        let e = h.exchange(&fx.exchange);
        assert_eq!(e.admin, fx.admin.pubkey());
        assert_eq!(e.creator, fx.admin.pubkey());
        assert_eq!(e.index, 7);
        assert_eq!(e.collateral_decimals, decimals);
        assert_eq!(e.collateral_token_program, token_program);
        assert_eq!((e.deposit_cap, e.insurance_fee_share_bps), (5_000_000, 2_500));
        assert_eq!((e.total_collateral, e.fees_accrued, e.insurance_balance, e.paused), (0, 0, 0, 0));
        assert_eq!(e.vault, pda::vault(&fx.exchange).0);
        assert_eq!(e.bump, pda::exchange(&fx.admin.pubkey(), 7).1);
        // the vault is a token account of the mint, owned by the exchange PDA, empty
        let vault = h.svm.get_account(&e.vault).unwrap();
        assert_eq!(vault.owner, token_program);
        let info = meridian_sdk::token::decode_token_account(&vault.data).unwrap();
        assert_eq!((info.mint, info.owner, info.amount), (e.collateral_mint, fx.exchange, 0));
        h.assert_conserved(&fx);
    }
}

#[test]
fn initialize_exchange_rejects_bad_input() {
    let mut h = Harness::new();
    let mint = h.create_mint(6, SPL_TOKEN);
    let admin = Keypair::new();
    h.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
    let exchange = pda::exchange(&admin.pubkey(), 0).0;
    let watched = [exchange, pda::vault(&exchange).0, admin.pubkey(), mint];

    // fee share above 100%
    let bad = ExchangeParams { insurance_fee_share_bps: 10_001, ..Default::default() };
    h.fails(
        &[ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, bad)],
        &[&admin],
        Expected::Meridian(MeridianError::InvalidFeeShare),
        &watched,
    );

    // token program that does not own the mint
    let ix = ix::initialize_exchange(&admin.pubkey(), &mint, &TOKEN_2022, ExchangeParams::default());
    h.fails(&[ix], &[&admin], Expected::Meridian(MeridianError::WrongTokenProgram), &watched);

    // a "mint" that is not a mint (a system account)
    let not_mint = Keypair::new().pubkey();
    h.svm.airdrop(&not_mint, 1_000_000).unwrap();
    let ix = ix::initialize_exchange(&admin.pubkey(), &not_mint, &SPL_TOKEN, ExchangeParams::default());
    h.fails(&[ix], &[&admin], Expected::Anchor(Anchor::AccountOwnedByWrongProgram), &watched);

    // PDA of someone else: the exchange address of another creator
    let mut ix = ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, ExchangeParams::default());
    let other = Keypair::new().pubkey();
    ix.accounts[1].pubkey = pda::exchange(&other, 0).0;
    h.fails(&[ix], &[&admin], Expected::Anchor(Anchor::ConstraintSeeds), &watched);

    // the same exchange twice
    let ix = ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, ExchangeParams::default());
    h.ok(std::slice::from_ref(&ix), &[&admin]);
    let before = h.exchange(&exchange);
    assert!(h.send(&[ix], &[&admin]).is_err(), "re-initialization must fail");
    assert_eq!(bytemuck::bytes_of(&before), bytemuck::bytes_of(&h.exchange(&exchange)));
}

#[test]
fn token_2022_mints_with_dangerous_extensions_are_refused() {
    use spl_token_2022::extension::ExtensionType;
    let mut h = Harness::new();
    let delegate = Keypair::new().pubkey();
    let mint = h.create_mint_2022_with(6, &[ExtensionType::PermanentDelegate], |mint| {
        vec![spl_token_2022::instruction::initialize_permanent_delegate(&TOKEN_2022, mint, &delegate).unwrap()]
    });
    let admin = Keypair::new();
    h.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
    let exchange = pda::exchange(&admin.pubkey(), 0).0;
    let ix = ix::initialize_exchange(&admin.pubkey(), &mint, &TOKEN_2022, ExchangeParams::default());
    h.fails(&[ix], &[&admin], Expected::Meridian(MeridianError::UnsupportedMintExtension), &[exchange, admin.pubkey()]);
    assert!(!h.exists(&exchange));
}

#[test]
fn set_paused_is_admin_only_and_validated() {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams::default());
    let watched = [fx.exchange];

    let intruder = Keypair::new();
    h.svm.airdrop(&intruder.pubkey(), 1_000_000_000).unwrap();
    let ix = ix::set_paused(&fx.exchange, &intruder.pubkey(), PauseFlags::ALL);
    h.fails(&[ix], &[&intruder], Expected::Meridian(MeridianError::NotAdmin), &watched);

    let ix = ix::set_paused(&fx.exchange, &fx.admin.pubkey(), 0x80);
    h.fails(&[ix], &[&fx.admin], Expected::Meridian(MeridianError::InvalidPauseFlags), &watched);

    // the admin key present but not signing
    let mut ix = ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::ALL);
    ix.accounts[1].is_signer = false;
    h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotSigner), &watched);

    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::DEPOSITS | PauseFlags::TRADING)], &[&fx.admin]);
    assert_eq!(h.exchange(&fx.exchange).paused, PauseFlags::DEPOSITS | PauseFlags::TRADING);
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), 0)], &[&fx.admin]);
    assert_eq!(h.exchange(&fx.exchange).paused, 0);
}

#[test]
fn initialize_exchange_survives_a_prefunded_vault_address() {
    // The vault address is predictable; lamports sent there first must not block the exchange.
    let mut h = Harness::new();
    let mint = h.create_mint(6, SPL_TOKEN);
    let admin = Keypair::new();
    h.svm.airdrop(&admin.pubkey(), 10_000_000_000).unwrap();
    let exchange = pda::exchange(&admin.pubkey(), 0).0;
    let vault = pda::vault(&exchange).0;
    h.svm.airdrop(&vault, 1_000_000).unwrap(); // rent-exempt for 0 bytes, below a token account
    h.ok(&[ix::initialize_exchange(&admin.pubkey(), &mint, &SPL_TOKEN, ExchangeParams::default())], &[&admin]);
    let account = h.svm.get_account(&vault).unwrap();
    assert_eq!(account.owner, SPL_TOKEN);
    assert!(account.lamports >= h.svm.minimum_balance_for_rent_exemption(meridian_sdk::token::ACCOUNT_LEN));
    let info = meridian_sdk::token::decode_token_account(&account.data).unwrap();
    assert_eq!((info.mint, info.owner), (mint, exchange));
}
