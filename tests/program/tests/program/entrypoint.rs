//! The program's two entry paths (src/fast_entry.rs): order-flow instructions are parsed straight
//! from the input buffer; anything unusual (a duplicate account, more than 32 accounts, a missing
//! flag, short data) goes through Anchor's dispatcher. Both must produce the same state, return
//! data and errors; the fast path must be the cheaper one.
use anchor_lang::error::ErrorCode as Anchor;
use meridian::CancelSide;
use meridian_program_tests::fixture::*;
use meridian_program_tests::harness::*;
use meridian_sdk::{
    ix,
    order::{self, OrderExt, Side},
};
use solana_sdk::{
    account::Account, instruction::AccountMeta, instruction::Instruction, pubkey::Pubkey, signature::Keypair,
    signer::Signer,
};

struct Setup {
    h: Harness,
    fx: ExchangeFixture,
    m: MarketFixture,
    alice: Trader,
    bob: Trader,
}

fn setup() -> Setup {
    let mut w = Scenario::book_market().traders(2, 200_000 * USDC, 100_000 * USDC).build();
    let [alice, bob] = w.take_traders();
    Setup { h: w.h, fx: w.fx, m: w.m, alice, bob }
}

impl Setup {
    fn watched(&self) -> Vec<Pubkey> {
        let a = &self.m.accounts;
        vec![self.fx.exchange, a.market, a.book, a.event_queue, self.alice.margin, self.bob.margin]
    }

    fn restore(&mut self, keys: &[Pubkey], accounts: &[Option<Account>]) {
        for (k, a) in keys.iter().zip(accounts) {
            self.h.svm.set_account(*k, a.clone().expect("watched account exists")).unwrap();
        }
    }

    /// Runs `ix` as built (fast path), then from the same state with a duplicate account appended
    /// (Anchor's path), and checks both end in the same state with the same return data. Leaves the
    /// fast path's state. Returns (fast CU, Anchor-path CU).
    fn both_paths(&mut self, ix: Instruction, signers: &[&Keypair]) -> (u64, u64) {
        let keys = self.watched();
        let before = self.h.snapshot(&keys);
        let fast = self.h.ok(std::slice::from_ref(&ix), signers);
        let after_fast = self.h.snapshot(&keys);
        self.restore(&keys, &before);
        let mut slow = ix;
        let first = slow.accounts[0].pubkey;
        slow.accounts.push(AccountMeta::new_readonly(first, false));
        let anchor = self.h.ok(&[slow], signers);
        let after_anchor = self.h.snapshot(&keys);
        for ((k, f), a) in keys.iter().zip(&after_fast).zip(&after_anchor) {
            assert_eq!(f, a, "account {k} differs between the fast path and Anchor's path");
        }
        assert_eq!(fast.return_data.data, anchor.return_data.data);
        self.h.assert_conserved(&self.fx);
        self.h.assert_markets_balanced(&self.fx);
        self.restore(&keys, &after_fast);
        (fast.compute_units_consumed, anchor.compute_units_consumed)
    }
}

#[test]
fn fast_path_and_anchor_path_agree_on_every_order_flow_instruction() {
    let mut s = setup();
    let (alice, bob) = (s.alice.clone_ref(), s.bob.clone_ref());
    let mut saved = vec![];

    // resting orders (one with a client id)
    let ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE, 10).client_id(7));
    saved.push(("place_order resting", s.both_paths(ix, &[&alice.owner])));
    let ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE + 10, 10));
    saved.push(("place_order resting 2", s.both_paths(ix, &[&alice.owner])));
    let ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE + 20, 10));
    saved.push(("place_order resting 3", s.both_paths(ix, &[&alice.owner])));
    let seqs: Vec<u64> = s.h.book(&s.m).asks.iter().map(|o| o.seq).collect();
    assert_eq!(seqs.len(), 3);

    // a taker crossing two levels: fills, events, fees
    let ix = s.h.place_ix(&s.m, &bob, order::limit(Side::Bid, PRICE + 10, 15).immediate_or_cancel());
    saved.push(("place_order taker", s.both_paths(ix, &[&bob.owner])));
    assert_eq!(s.h.events(&s.m).len(), 2);

    // the crank, with its return data (events applied)
    let ix = ix::consume_events(&s.m.accounts, &bob.margin, 10, &[alice.margin]);
    saved.push(("consume_events", s.both_paths(ix, &[])));
    assert!(s.h.events(&s.m).is_empty());

    // replace, cancel by id, by client id, cancel all (return data: how many)
    let ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE + 30, 5).client_id(9));
    s.h.ok(&[ix], &[&alice.owner]);
    let health = ix::health_markets(&s.m.accounts.exchange, &s.h.margin(&alice.margin), Some(s.m.index));
    let ix = ix::replace_order(
        &s.m.accounts,
        &alice.margin,
        &alice.owner.pubkey(),
        seqs[2],
        order::limit(Side::Ask, PRICE + 40, 10),
        &health,
    );
    saved.push(("replace_order", s.both_paths(ix, &[&alice.owner])));
    let ix = ix::cancel_order_by_client_id(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), 9);
    saved.push(("cancel_order_by_client_id", s.both_paths(ix, &[&alice.owner])));
    let open = s.h.book(&s.m).asks.iter().map(|o| o.seq).collect::<Vec<_>>();
    let ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), open[0]);
    saved.push(("cancel_order", s.both_paths(ix, &[&alice.owner])));
    let ix = ix::cancel_all_orders(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), CancelSide::Both, 0);
    saved.push(("cancel_all_orders", s.both_paths(ix, &[&alice.owner])));
    assert!(s.h.book(&s.m).asks.is_empty());

    for (name, (fast, anchor)) in saved {
        println!("{name}: fast {fast} CU, Anchor's path {anchor} CU");
        assert!(
            fast + 500 < anchor,
            "{name}: the fast path ({fast} CU) should save the account deserialization ({anchor} CU)"
        );
    }
}

#[test]
fn malformed_order_flow_gets_anchors_errors_and_changes_nothing() {
    let mut s = setup();
    let alice = s.alice.clone_ref();
    s.h.place(&s.m, &alice, order::limit(Side::Ask, PRICE, 10));
    let seq = s.h.book(&s.m).asks[0].seq;
    let w = s.watched();

    // too few accounts
    let mut ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Bid, PRICE - 10, 1));
    ix.accounts.truncate(5);
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotEnoughKeys), &w);
    let mut ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq);
    ix.accounts.truncate(3);
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotEnoughKeys), &w);
    let mut ix = ix::consume_events(&s.m.accounts, &alice.margin, 1, &[]);
    ix.accounts.truncate(3);
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotEnoughKeys), &w);

    // a writable account passed read-only
    let mut ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Bid, PRICE - 10, 1));
    ix.accounts[2].is_writable = false;
    s.h.fails(&[ix], &[&alice.owner], Expected::Anchor(Anchor::ConstraintMut), &w);
    let mut ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq);
    ix.accounts[2].is_writable = false;
    s.h.fails(&[ix], &[&alice.owner], Expected::Anchor(Anchor::ConstraintMut), &w);
    let mut ix = ix::consume_events(&s.m.accounts, &alice.margin, 1, &[]);
    ix.accounts[3].is_writable = false;
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::ConstraintMut), &w);

    // the owner not signing a cancel
    let mut ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq);
    ix.accounts[3].is_signer = false;
    s.h.fails(&[ix], &[], Expected::Anchor(Anchor::AccountNotSigner), &w);

    // arguments cut short
    let mut ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Bid, PRICE - 10, 1));
    ix.data.truncate(20);
    s.h.fails(&[ix], &[&alice.owner], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);
    let mut ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq);
    ix.data.truncate(12);
    s.h.fails(&[ix], &[&alice.owner], Expected::Anchor(Anchor::InstructionDidNotDeserialize), &w);

    // one account in two roles: the book passed as the event queue
    let mut ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Bid, PRICE - 10, 1));
    ix.accounts[3].pubkey = s.m.accounts.book;
    s.h.fails(&[ix], &[&alice.owner], Expected::Meridian(meridian::MeridianError::WrongEventQueue), &w);
    // the margin account passed as the book of a cancel
    let mut ix = ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq);
    ix.accounts[1].pubkey = alice.margin;
    s.h.fails(&[ix], &[&alice.owner], Expected::Meridian(meridian::MeridianError::WrongBook), &w);

    // the order is still there and cancels normally
    s.h.ok(&[ix::cancel_order(&s.m.accounts, &alice.margin, &alice.owner.pubkey(), seq)], &[&alice.owner]);
    assert!(s.h.book(&s.m).asks.is_empty());
}

#[test]
fn more_accounts_than_the_fast_path_holds_go_through_anchor() {
    let mut s = setup();
    let alice = s.alice.clone_ref();
    let mut ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE, 10));
    // 6 named accounts + 30 unused extras = 36 > 32
    ix.accounts.extend((0..30).map(|_| AccountMeta::new_readonly(Pubkey::new_unique(), false)));
    let meta = s.h.ok(&[ix], &[&alice.owner]);
    let plain = {
        let ix = s.h.place_ix(&s.m, &alice, order::limit(Side::Ask, PRICE + 10, 10));
        s.h.ok(&[ix], &[&alice.owner]).compute_units_consumed
    };
    assert_eq!(s.h.book(&s.m).asks.len(), 2);
    assert!(
        plain + 2_000 < meta.compute_units_consumed,
        "36 accounts through Anchor ({} CU) vs 6 fast ({plain} CU)",
        meta.compute_units_consumed
    );
    s.h.assert_conserved(&s.fx);
}
