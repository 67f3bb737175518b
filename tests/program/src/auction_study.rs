//! The latency-race study (`bench/AUCTION.md`): what a market maker loses to snipers when the fair
//! price jumps, in a continuous market and in a batch market, on the SBF binary in LiteSVM.
//!
//! Each round: the maker quotes one bid and one ask `half_spread` ticks around the fair price (a
//! batch market's quotes go through one clearing first, so they rest as in continuous mode). Then
//! the fair price jumps by a seeded amount, and in the same slot a sniper, who saw the jump first,
//! sends an order at the stale quote's price, followed by the maker's cancel. Continuous: the
//! sniper's immediate-or-cancel order lands first and fills at the stale price. Batch: the sniper's
//! limit order and the cancel are in the same auction, cancels come first, and nothing trades. The
//! maker's loss is the sniper's gain at the new fair price, measured from the fills on-chain. Both
//! markets have no oracle and the jump is the study's own price path, so the price band (around the
//! stable mark) never protects the stale quote: the worst case for the continuous maker.

use crate::fuzz::Rng;
use crate::harness::*;
use meridian::{AuctionCleared, CancelSide, ExchangeParams, MarketMode};
use meridian_sdk::{ix, order, order::Side};
use solana_sdk::{clock::Clock, signer::Signer};

/// The fair price every round starts from (ticks of $0.10: $65,000).
pub const FAIR: u64 = 650_000;
/// Lots the maker quotes on each side.
pub const QUOTE_LOTS: u64 = 1;

/// One mode's outcome over the rounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub rounds: u32,
    /// Rounds where the jump passed a quote (the sniper tried).
    pub attempts: u32,
    /// Lots the sniper got.
    pub sniped_lots: u64,
    /// The sniper's gain at the new fair price (= the maker's loss), quote native units.
    pub maker_loss: i64,
}

/// The jump of each round: up or down, its size uniform up to `max_jump` ticks.
pub fn jumps(seed: u64, rounds: u32, max_jump: u64) -> Vec<i64> {
    let mut r = Rng::new(seed);
    (0..rounds)
        .map(|_| {
            let size = r.below(max_jump + 1) as i64;
            if r.chance(500) {
                size
            } else {
                -size
            }
        })
        .collect()
}

/// Runs the rounds in one mode (`batch`), quoting `half_spread` ticks either side.
pub fn run(batch: bool, half_spread: u64, jumps: &[i64]) -> Outcome {
    let mut h = Harness::new();
    // signatures are not what is under test (as in the fuzzer): twice the speed
    h.svm = std::mem::take(&mut h.svm).with_sigverify(false);
    let mint = h.create_mint(6, SPL_TOKEN);
    let fx = h.setup_exchange_as(fixed_keypair(150), mint, SPL_TOKEN, ExchangeParams::default());
    let m = h.setup_market(&fx, default_market_params());
    if batch {
        h.ok(&[ix::set_market_mode(&m.accounts, &fx.admin.pubkey(), MarketMode::Batch, 1)], &[&fx.admin]);
    }
    let funded = |h: &mut Harness, seed: u8| {
        let t = h.trader_as(fixed_keypair(seed), &fx, 2_000_000 * 1_000_000);
        h.deposit(&fx, &t, 1_000_000 * 1_000_000);
        t
    };
    let (maker, sniper, crank) = (funded(&mut h, 151), funded(&mut h, 152), funded(&mut h, 153));
    let next_slot = |h: &mut Harness| {
        let mut clock = h.svm.get_sysvar::<Clock>();
        clock.slot += 1;
        h.svm.set_sysvar(&clock);
    };
    let clear = |h: &mut Harness| -> AuctionCleared {
        next_slot(h);
        let meta = h.ok(&[ix::clear_auction(&m.accounts)], &[]);
        anchor_lang::AnchorDeserialize::deserialize(&mut &meta.return_data.data[..]).unwrap()
    };
    let tick_value = default_market_params().tick_size as i64;
    let mut out = Outcome { rounds: jumps.len() as u32, ..Outcome::default() };
    for &jump in jumps {
        let (bid, ask) = (FAIR - half_spread, FAIR + half_spread);
        let quote = |o: meridian::PlaceOrderArgs| if batch { o } else { order::OrderExt::post_only(o) };
        h.place(&m, &maker, quote(order::limit(Side::Bid, bid, QUOTE_LOTS)));
        h.place(&m, &maker, quote(order::limit(Side::Ask, ask, QUOTE_LOTS)));
        if batch {
            assert_eq!(clear(&mut h).volume, 0, "the maker's own quotes do not cross");
        }
        let fair = FAIR as i64 + jump;
        // the stale quote the jump passed, if any: the sniper buys the ask or sells the bid
        let target = if fair > ask as i64 {
            Some((Side::Bid, ask))
        } else if fair < bid as i64 {
            Some((Side::Ask, bid))
        } else {
            None
        };
        let cancel = ix::cancel_all_orders(&m.accounts, &maker.margin, &maker.owner.pubkey(), CancelSide::Both, 0);
        let Some((side, price)) = target else {
            h.ok(&[cancel], &[&maker.owner]);
            if batch {
                clear(&mut h);
            }
            continue;
        };
        out.attempts += 1;
        let (lots, paid) = if batch {
            h.place(&m, &sniper, order::limit(side, price, QUOTE_LOTS));
            h.ok(&[cancel], &[&maker.owner]);
            let r = clear(&mut h);
            // what did not trade, the sniper pulls
            h.ok(
                &[ix::cancel_all_orders(&m.accounts, &sniper.margin, &sniper.owner.pubkey(), CancelSide::Both, 0)],
                &[&sniper.owner],
            );
            (r.volume, r.volume as i64 * r.price as i64 * tick_value)
        } else {
            let r = h.place(&m, &sniper, order::OrderExt::immediate_or_cancel(order::limit(side, price, QUOTE_LOTS)));
            h.ok(&[cancel], &[&maker.owner]);
            (r.filled_lots, r.filled_quote as i64)
        };
        h.crank(&m, &crank.margin);
        out.sniped_lots += lots;
        let worth = lots as i64 * fair * tick_value;
        out.maker_loss += if side == Side::Bid { worth - paid } else { paid - worth };
    }
    h.assert_conserved(&fx);
    out
}

/// The study's table for a grid of half spreads, as markdown.
pub fn report(seed: u64, rounds: u32, max_jump: u64, half_spreads: &[u64]) -> String {
    let jumps = jumps(seed, rounds, max_jump);
    let usd = |native: f64| native / 1e6;
    let mut md = format!(
        "# Latency races: continuous vs batch auctions\n\n\
         Generated by `scripts/auction-study.sh` (`target/debug/auction-study {seed} {rounds} {max_jump}`) on the SBF \
         binary in LiteSVM; see `tests/program/src/auction_study.rs`. Seed {seed}, {rounds} rounds; each round the fair \
         price ($65,000, ticks of $0.10) jumps up or down by up to {max_jump} ticks (uniform). A maker quotes \
         {QUOTE_LOTS} lot (0.0001 BTC) each side at the half spread below; a sniper who saw the jump first sends an \
         order at the stale quote's price in the same slot as the maker's cancel, and lands first.\n\n\
         - **continuous**: the sniper's immediate-or-cancel order fills at the stale price before the cancel lands;\n\
         - **batch** (1-slot auctions): the sniper's order and the cancel are in the same auction; cancels take \
         effect before matching, so nothing trades.\n\n\
         The maker's loss is the sniper's gain at the new fair price (fees aside). The spread a maker can afford is \
         the one where its loss per round to snipers is covered by what it earns from uninformed flow, taken here \
         as one quote filled per round at the half spread: break-even when loss per round <= half spread x lot.\n\n\
         | half spread (ticks) | mode | sniper's attempts | lots sniped | maker loss (USDC) | loss / round (USDC) | earned / round at this spread (USDC) | covers the loss |\n\
         | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
    );
    let tick_value = default_market_params().tick_size as f64;
    let mut affordable = [None, None];
    for &hs in half_spreads {
        for (k, batch) in [false, true].into_iter().enumerate() {
            let o = run(batch, hs, &jumps);
            let per_round = usd(o.maker_loss as f64) / rounds as f64;
            let earned = usd(hs as f64 * QUOTE_LOTS as f64 * tick_value);
            let covers = per_round <= earned;
            if covers && affordable[k].is_none() {
                affordable[k] = Some(hs);
            }
            md.push_str(&format!(
                "| {hs} | {} | {} | {} | {:.2} | {:.4} | {:.4} | {} |\n",
                if batch { "batch" } else { "continuous" },
                o.attempts,
                o.sniped_lots,
                usd(o.maker_loss as f64),
                per_round,
                earned,
                if covers { "yes" } else { "no" },
            ));
        }
    }
    let show = |a: Option<u64>| {
        a.map_or("none in the grid".to_string(), |t| format!("{t} ticks (${:.2} on the BTC price)", t as f64 / 10.0))
    };
    md.push_str(&format!(
        "\nNarrowest half spread that covers the sniping loss: continuous {}, batch {}. In batch mode the sniper \
         never trades against a quote its maker cancelled in the same auction, so the maker's loss to latency races \
         is 0 at every spread; in continuous mode it is paid on every jump past the quote.\n",
        show(affordable[0]),
        show(affordable[1]),
    ));
    md
}
