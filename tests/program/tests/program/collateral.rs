//! Margin accounts, deposits and withdrawals on the SBF binary: the happy paths, every bad input
//! with its specific error and no state change, and conservation after every step.
use anchor_lang::error::ErrorCode as Anchor;
use meridian::{ExchangeParams, MeridianError, PauseFlags};
use meridian_program_tests::harness::{ExchangeFixture, Expected, Harness, Trader, SPL_TOKEN, TOKEN_2022};
use meridian_sdk::{ix, pda, token::spl_token_2022};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};

/// Accounts a collateral instruction can touch.
fn watched(fx: &ExchangeFixture, t: &Trader) -> Vec<Pubkey> {
    vec![fx.exchange, fx.collateral.vault, t.margin, t.token, t.owner.pubkey()]
}

fn setup(token_program: Pubkey) -> (Harness, ExchangeFixture, Trader) {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, token_program, ExchangeParams::default());
    let t = h.trader(&fx, 1_000_000_000);
    (h, fx, t)
}

#[test]
fn create_margin_accounts_per_owner_and_sub_account() {
    let (mut h, fx, t) = setup(SPL_TOKEN);
    let m = h.margin(&t.margin);
    assert_eq!((m.exchange, m.owner, m.sub_account, m.collateral), (fx.exchange, t.owner.pubkey(), 0, 0));
    assert_eq!(m.bump, pda::margin_account(&fx.exchange, &t.owner.pubkey(), 0).1);

    // a second sub-account, rent paid by someone else
    let sub = pda::margin_account(&fx.exchange, &t.owner.pubkey(), 3).0;
    let payer = h.payer.pubkey();
    h.ok(&[ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &payer, 3)], &[&t.owner]);
    assert_eq!(h.margin(&sub).sub_account, 3);
    assert_eq!(h.exchange(&fx.exchange).num_margin_accounts, 2);

    // the same one again
    let ix = ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), 3);
    assert!(h.send(&[ix], &[&t.owner]).is_err());

    // PDA of someone else: owner signs, but the address is another owner's
    let victim = Keypair::new().pubkey();
    let mut ix = ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), 1);
    ix.accounts[1].pubkey = pda::margin_account(&fx.exchange, &victim, 1).0;
    let victim_pda = ix.accounts[1].pubkey;
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::ConstraintSeeds), &[fx.exchange, victim_pda]);

    // an exchange that is not an exchange (the vault token account)
    let mut ix = ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), 9);
    ix.accounts[0].pubkey = fx.collateral.vault;
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::AccountOwnedByWrongProgram), &[fx.collateral.vault]);

    // paused
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::ACCOUNT_CREATION)], &[&fx.admin]);
    let ix = ix::create_margin_account(&fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), 4);
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::AccountCreationPaused), &[fx.exchange]);
    h.assert_conserved(&fx);
}

#[test]
fn deposit_and_withdraw_move_tokens_and_collateral() {
    for token_program in [SPL_TOKEN, TOKEN_2022] {
        let (mut h, fx, t) = setup(token_program);
        h.deposit(&fx, &t, 100_500_000); // 100.5 with 6 decimals
        h.assert_conserved(&fx);
        assert_eq!(h.margin(&t.margin).collateral, 100_500_000);
        assert_eq!(h.token_balance(&t.token), 899_500_000);
        assert_eq!(h.token_balance(&fx.collateral.vault), 100_500_000);

        h.deposit(&fx, &t, 1);
        h.withdraw(&fx, &t, 500_001);
        h.assert_conserved(&fx);
        let m = h.margin(&t.margin);
        assert_eq!((m.collateral, m.total_deposited, m.total_withdrawn), (100_000_000, 100_500_001, 500_001));

        // withdraw to a third party's token account
        let friend = Keypair::new().pubkey();
        let friend_token = h.token_account(&fx.collateral.mint, &friend, &token_program);
        let ix = ix::withdraw(&fx.collateral, &t.margin, &t.owner.pubkey(), &friend_token, 40_000_000);
        h.ok(&[ix], &[&t.owner]);
        assert_eq!(h.token_balance(&friend_token), 40_000_000);
        h.assert_conserved(&fx);

        // everything out, then close: rent back to the owner
        h.withdraw(&fx, &t, 60_000_000);
        h.assert_conserved(&fx);
        let rent = h.lamports(&t.margin);
        let before = h.lamports(&t.owner.pubkey());
        h.ok(&[ix::close_margin_account(&fx.exchange, &t.margin, &t.owner.pubkey())], &[&t.owner]);
        assert!(!h.exists(&t.margin));
        assert_eq!(h.lamports(&t.owner.pubkey()), before + rent);
        assert_eq!(h.exchange(&fx.exchange).num_margin_accounts, 0);
        assert_eq!(
            h.token_balance(&t.token),
            960_000_000,
            "1000 - 100.5 - 0.000001 + 0.500001 + 60 (40 went to the friend)"
        );
        h.assert_conserved(&fx);
    }
}

#[test]
fn many_traders_conserve_funds() {
    let mut h = Harness::new();
    let fx = h.setup_exchange(9, SPL_TOKEN, ExchangeParams::default());
    let traders: Vec<Trader> = (0..6).map(|_| h.trader(&fx, 10_000_000_000)).collect();
    for round in 0..4u64 {
        for (i, t) in traders.iter().enumerate() {
            h.deposit(&fx, t, 1_000_000 * (i as u64 + 1) + round);
            h.assert_conserved(&fx);
            if round % 2 == 1 {
                h.withdraw(&fx, t, 500_000 * (i as u64 + 1));
                h.assert_conserved(&fx);
            }
        }
    }
    let total: i64 = traders.iter().map(|t| h.margin(&t.margin).collateral).sum();
    assert_eq!(total, h.exchange(&fx.exchange).total_collateral);
}

#[test]
fn deposit_rejects_bad_input_and_changes_nothing() {
    let (mut h, fx, t) = setup(SPL_TOKEN);
    h.deposit(&fx, &t, 10_000_000);
    let w = watched(&fx, &t);
    let owner = t.owner.pubkey();
    let dep = |amount| ix::deposit(&fx.collateral, &t.margin, &owner, &t.token, amount);

    h.fails(&[dep(0)], &[&t.owner], Expected::Meridian(MeridianError::ZeroAmount), &w);
    h.fails(&[dep(u64::MAX)], &[&t.owner], Expected::Meridian(MeridianError::AmountTooLarge), &w);
    h.fails(&[dep(i64::MAX as u64 + 1)], &[&t.owner], Expected::Meridian(MeridianError::AmountTooLarge), &w);
    // beyond what the vault may owe (2^62)
    h.fails(&[dep(i64::MAX as u64)], &[&t.owner], Expected::Meridian(MeridianError::AmountTooLarge), &w);
    // more than the wallet holds: SPL Token's InsufficientFunds (custom error 1)
    let held = h.token_balance(&t.token);
    h.fails(&[dep(held + 1)], &[&t.owner], Expected::Custom(1), &w);

    // wrong signer: someone else signs as owner of this margin account
    let thief = h.trader(&fx, 5_000_000);
    let ix = ix::deposit(&fx.collateral, &t.margin, &thief.owner.pubkey(), &thief.token, 1_000);
    let mut w2 = w.clone();
    w2.push(thief.token);
    h.fails(&[ix], &[&thief.owner], Expected::Meridian(MeridianError::NotAccountOwner), &w2);

    // the owner's key present but not signing
    let mut ix = dep(1_000);
    ix.accounts[2].is_signer = false;
    h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotSigner), &w);

    // tokens of a different mint
    let other_mint = h.create_mint(6, SPL_TOKEN);
    let other_token = h.token_account(&other_mint, &owner, &SPL_TOKEN);
    h.mint_to(&other_mint, &other_token, &SPL_TOKEN, 1_000_000);
    let ix = ix::deposit(&fx.collateral, &t.margin, &owner, &other_token, 1_000);
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongMint), &w);

    // the wrong mint account passed as collateral mint
    let mut ix = dep(1_000);
    ix.accounts[5].pubkey = other_mint;
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongMint), &w);

    // a foreign vault: another exchange's vault, and a plain token account of the same mint
    let other = h.setup_exchange_on(fx.collateral.mint, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
    let mut ix = dep(1_000);
    ix.accounts[4].pubkey = other.collateral.vault;
    let mut w3 = w.clone();
    w3.push(other.collateral.vault);
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongVault), &w3);
    let attacker_token = h.token_account(&fx.collateral.mint, &Keypair::new().pubkey(), &SPL_TOKEN);
    let mut ix = dep(1_000);
    ix.accounts[4].pubkey = attacker_token;
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongVault), &w);

    // margin account of another exchange (same mint, same owner)
    let other_margin = pda::margin_account(&other.exchange, &owner, 0).0;
    h.ok(&[ix::create_margin_account(&other.exchange, &owner, &owner, 0)], &[&t.owner]);
    let mut ix = dep(1_000);
    ix.accounts[1].pubkey = other_margin;
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongExchange), &w);

    // an account that is not a margin account: owned by another program, and ours of another type
    let mut ix = dep(1_000);
    ix.accounts[1].pubkey = t.token;
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::AccountOwnedByWrongProgram), &w);
    let mut ix = dep(1_000);
    ix.accounts[1].pubkey = fx.exchange;
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::AccountDiscriminatorMismatch), &w);

    // token program that does not own the mint, and a program that is not a token program
    let mut ix = dep(1_000);
    ix.accounts[6].pubkey = TOKEN_2022;
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongTokenProgram), &w);
    let mut ix = dep(1_000);
    ix.accounts[6].pubkey = anchor_lang::solana_program::system_program::ID;
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::InvalidProgramId), &w);

    // paused deposits (withdrawals still open)
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::DEPOSITS)], &[&fx.admin]);
    h.fails(&[dep(1_000)], &[&t.owner], Expected::Meridian(MeridianError::DepositsPaused), &w);
    h.withdraw(&fx, &t, 1_000);
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), 0)], &[&fx.admin]);
    h.deposit(&fx, &t, 1_000);
    h.assert_conserved(&fx);
    assert_eq!(h.margin(&t.margin).collateral, 10_000_000);
}

#[test]
fn withdraw_rejects_bad_input_and_changes_nothing() {
    let (mut h, fx, t) = setup(SPL_TOKEN);
    h.deposit(&fx, &t, 10_000_000);
    let w = watched(&fx, &t);
    let owner = t.owner.pubkey();
    let wd = |amount| ix::withdraw(&fx.collateral, &t.margin, &owner, &t.token, amount);

    h.fails(&[wd(0)], &[&t.owner], Expected::Meridian(MeridianError::ZeroAmount), &w);
    h.fails(&[wd(10_000_001)], &[&t.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &w);
    h.fails(&[wd(u64::MAX)], &[&t.owner], Expected::Meridian(MeridianError::InsufficientCollateral), &w);

    // another trader's collateral, to the thief's wallet
    let thief = h.trader(&fx, 0);
    let ix = ix::withdraw(&fx.collateral, &t.margin, &thief.owner.pubkey(), &thief.token, 1_000);
    let mut w2 = w.clone();
    w2.push(thief.token);
    h.fails(&[ix], &[&thief.owner], Expected::Meridian(MeridianError::NotAccountOwner), &w2);

    // the owner's key present but not signing
    let mut ix = wd(1_000);
    ix.accounts[2].is_signer = false;
    h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotSigner), &w);

    // recipient of another mint
    let other_mint = h.create_mint(6, SPL_TOKEN);
    let other_token = h.token_account(&other_mint, &owner, &SPL_TOKEN);
    let ix = ix::withdraw(&fx.collateral, &t.margin, &owner, &other_token, 1_000);
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongMint), &w);

    // a foreign vault as the source
    let other = h.setup_exchange_on(fx.collateral.mint, SPL_TOKEN, ExchangeParams { index: 1, ..Default::default() });
    let rich = h.trader(&other, 50_000_000);
    h.deposit(&other, &rich, 50_000_000);
    let mut ix = wd(1_000);
    ix.accounts[4].pubkey = other.collateral.vault;
    let mut w3 = w.clone();
    w3.push(other.collateral.vault);
    h.fails(&[ix], &[&t.owner], Expected::Meridian(MeridianError::WrongVault), &w3);

    // the vault as recipient (a self-transfer would leave tokens in place but debit collateral)
    let ix = ix::withdraw(&fx.collateral, &t.margin, &owner, &fx.collateral.vault, 1_000);
    h.fails(&[ix], &[&t.owner], Expected::Anchor(Anchor::ConstraintDuplicateMutableAccount), &w);

    // paused withdrawals
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), PauseFlags::WITHDRAWALS)], &[&fx.admin]);
    h.fails(&[wd(1_000)], &[&t.owner], Expected::Meridian(MeridianError::WithdrawalsPaused), &w);
    h.ok(&[ix::set_paused(&fx.exchange, &fx.admin.pubkey(), 0)], &[&fx.admin]);

    // exactly everything is fine
    h.withdraw(&fx, &t, 10_000_000);
    assert_eq!(h.margin(&t.margin).collateral, 0);
    h.assert_conserved(&fx);
    h.assert_conserved(&other);
}

#[test]
fn close_requires_an_empty_account_and_its_owner() {
    let (mut h, fx, t) = setup(SPL_TOKEN);
    h.deposit(&fx, &t, 1);
    let w = watched(&fx, &t);
    let close = ix::close_margin_account(&fx.exchange, &t.margin, &t.owner.pubkey());
    h.fails(std::slice::from_ref(&close), &[&t.owner], Expected::Meridian(MeridianError::AccountNotEmpty), &w);

    let stranger = Keypair::new();
    h.svm.airdrop(&stranger.pubkey(), 1_000_000_000).unwrap();
    let ix = ix::close_margin_account(&fx.exchange, &t.margin, &stranger.pubkey());
    let mut w2 = w.clone();
    w2.push(stranger.pubkey());
    h.fails(&[ix], &[&stranger], Expected::Meridian(MeridianError::NotAccountOwner), &w2);

    h.withdraw(&fx, &t, 1);
    h.ok(&[close], &[&t.owner]);
    assert!(!h.exists(&t.margin));
    h.assert_conserved(&fx);
}

#[test]
fn deposit_cap_bounds_total_collateral() {
    let mut h = Harness::new();
    let fx = h.setup_exchange(6, SPL_TOKEN, ExchangeParams { deposit_cap: 1_000_000, ..Default::default() });
    let a = h.trader(&fx, 5_000_000);
    let b = h.trader(&fx, 5_000_000);
    h.deposit(&fx, &a, 600_000);
    let ix = ix::deposit(&fx.collateral, &b.margin, &b.owner.pubkey(), &b.token, 400_001);
    h.fails(&[ix], &[&b.owner], Expected::Meridian(MeridianError::DepositCapExceeded), &watched(&fx, &b));
    h.deposit(&fx, &b, 400_000);
    h.withdraw(&fx, &a, 100_000);
    h.deposit(&fx, &b, 100_000);
    h.assert_conserved(&fx);
    assert_eq!(h.exchange(&fx.exchange).total_collateral, 1_000_000);
}

#[test]
fn token_2022_transfer_fee_credits_what_arrives() {
    use spl_token_2022::extension::{transfer_fee::instruction::initialize_transfer_fee_config, ExtensionType};
    let mut h = Harness::new();
    let mint = h.create_mint_2022_with(6, &[ExtensionType::TransferFeeConfig], |mint| {
        // 1% fee, at most 5 tokens per transfer
        vec![initialize_transfer_fee_config(&TOKEN_2022, mint, None, None, 100, 5_000_000).unwrap()]
    });
    let fx = h.setup_exchange_on(mint, TOKEN_2022, ExchangeParams::default());
    let t = h.trader(&fx, 10_000_000);
    h.deposit(&fx, &t, 1_000_000);
    assert_eq!(h.margin(&t.margin).collateral, 990_000, "credited the amount net of the 1% fee");
    assert_eq!(h.token_balance(&fx.collateral.vault), 990_000);
    h.assert_conserved(&fx);
    h.withdraw(&fx, &t, 990_000);
    assert_eq!(h.margin(&t.margin).collateral, 0);
    assert_eq!(h.token_balance(&fx.collateral.vault), 0);
    h.assert_conserved(&fx);
}
