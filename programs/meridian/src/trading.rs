//! Placing and cancelling orders: the engine's matching applied to accounts.
//!
//! The taker's side of every fill is applied here at once; the makers' sides go to the event queue
//! for the crank. Fees: the taker pays its fee now from collateral, which must cover it (a fee is
//! never a debt). Out of it come the makers' rebates (owed until the crank applies each fill,
//! `market.pending_rebates`), the crank's reward for the fills it funds (`market.crank_pool`), then
//! the insurance fund's share; the rest is protocol revenue. A placement that writes out events
//! (expiries, self-trade cancels, evictions) pays their crank rewards into the pool too. Rebates and
//! crank rewards stay in the market until paid, so every payout comes from money that was
//! collected.
//!
//! The order flow writes the market, its book and queue and the traders' accounts, never the
//! exchange (read only here): markets run in parallel. What it moves is kept in the market's
//! unswept totals until `sweep_market` (see `Exchange`'s conservation invariant).

use crate::args::{OrderSide, OrderType, SelfTradeBehavior};
use crate::{account_handle::AccountHandle, error::MeridianError, state::*};
use anchor_lang::prelude::*;
use meridian_engine::auction;
use meridian_engine::band::Band;
use meridian_engine::book::{ActiveTree, Book};
use meridian_engine::events::EventQueue as Queue;
use meridian_engine::matching::{self, MatchContext, MatchError, OrderKind, OrderParams, SelfTrade};
use meridian_engine::position::Position;
use meridian_engine::units::{notional, Lots, Side, Ticks};

pub const DEFAULT_MATCH_LIMIT: u32 = 16;
pub const MAX_MATCH_LIMIT: u32 = 64;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    pub side: OrderSide,
    /// Limit price in ticks; for market orders the worst acceptable price.
    pub price: u64,
    /// Size in lots.
    pub size: u64,
    pub order_kind: OrderType,
    pub self_trade: SelfTradeBehavior,
    /// Only reduce the position: the size is clamped to what reduces it; refused if nothing would.
    pub reduce_only: bool,
    pub client_order_id: u64,
    /// Unix time after which the order is dead; 0 = good till cancelled.
    pub expiry_ts: i64,
    /// Most makers to touch (0 = 16, at most 64).
    pub match_limit: u8,
}

pub fn match_error(e: MatchError) -> Error {
    match e {
        MatchError::AlreadyExpired => MeridianError::OrderAlreadyExpired,
        MatchError::PostOnlyWouldCross => MeridianError::PostOnlyWouldCross,
        MatchError::FillOrKillNotFilled => MeridianError::FillOrKillNotFilled,
        MatchError::SelfTrade => MeridianError::SelfTrade,
        MatchError::BookFull => MeridianError::BookFull,
        MatchError::EventQueueFull => MeridianError::EventQueueFull,
        MatchError::CannotSlide => MeridianError::PostOnlyCannotSlide,
        MatchError::OutsideBand => MeridianError::PriceOutsideBand,
        MatchError::Overflow => MeridianError::OrderValueOverflow,
        MatchError::Book(_) => MeridianError::InvalidBookAccount,
    }
    .into()
}

/// Long lots an account contributes to open interest.
#[inline(always)]
pub fn long_lots(base: i64) -> u64 {
    base.max(0).unsigned_abs()
}

/// Open interest after one account's base moved from `before` to `after`.
pub fn update_open_interest(market: &mut Market, before: i64, after: i64) {
    market.open_interest = (market.open_interest + long_lots(after)).saturating_sub(long_lots(before));
}

/// Moves an account's collateral and the exchange's total together, for instructions that write
/// the exchange anyway (the order flow uses `Market::adjust_collateral`).
pub fn adjust_collateral(exchange: &mut Exchange, account: &mut MarginAccount, delta: i64) -> Result<()> {
    account.collateral = account.collateral.checked_add(delta).ok_or(MeridianError::MathOverflow)?;
    exchange.total_collateral = exchange.total_collateral.checked_add(delta).ok_or(MeridianError::MathOverflow)?;
    Ok(())
}

/// What a placement did, for the margin check that follows it (the result itself is written to
/// the account's `last_placement`).
pub struct Placed {
    /// The account's position slot in the market (released if the position ended flat).
    pub pos_slot: usize,
    /// The position and collateral before the placement, when a check must judge the account as
    /// it was: kept for reduce-only orders and orders that filled (a plain resting order cannot
    /// have raised equity or lowered a requirement).
    pub prior: Option<(Position, i64)>,
    /// The band the order was placed in.
    pub band: Band,
}

pub struct Trade<'a> {
    /// The exchange's `insurance_fee_share_bps`.
    pub insurance_fee_share_bps: u16,
    pub market: &'a mut Market,
    pub account: &'a mut MarginAccount,
    pub account_key: Pubkey,
}

/// Places an order for `t.account`. The caller checks margin afterwards. `now` reads the clock; it
/// is called only if this placement needs the time (see `matching::needs_time`).
pub fn place<A: AccountHandle>(
    t: &mut Trade,
    book: &A,
    queue: &A,
    args: &PlaceOrderArgs,
    now: impl FnOnce() -> Result<i64>,
) -> Result<Placed> {
    let (side, kind, self_trade) =
        (Side::from(args.side), OrderKind::from(args.order_kind), SelfTrade::from(args.self_trade));
    require!(args.size > 0, MeridianError::ZeroSize);
    require!(args.price > 0, MeridianError::ZeroPrice);
    let match_limit = if args.match_limit == 0 { DEFAULT_MATCH_LIMIT } else { args.match_limit as u32 };
    require!(match_limit <= MAX_MATCH_LIMIT, MeridianError::MatchLimitTooHigh);
    let (market, account) = (&mut *t.market, &mut *t.account);
    notional(Ticks(args.price), Lots(args.size), market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;

    if market.is_dated() {
        check_not_expired(market)?;
    }
    // a stale or degraded oracle: only orders that reduce the position
    if market.has_oracle() && !args.reduce_only && !market.oracle_usable(Clock::get()?.slot) {
        return err!(MeridianError::OracleNotUsable);
    }
    let pos_slot = account.position_slot(market.index, market.funding_index())?;
    let mut size = args.size;
    if args.reduce_only {
        let p = account.position(pos_slot);
        let reducible = match side {
            Side::Ask => p.base_lots.max(0).unsigned_abs().saturating_sub(p.ask_lots),
            Side::Bid => p.base_lots.min(0).unsigned_abs().saturating_sub(p.bid_lots),
        };
        require!(reducible > 0, MeridianError::ReduceOnlyWouldIncrease);
        size = size.min(reducible);
    }
    require!(size >= market.min_order_lots, MeridianError::BelowMinOrderSize);
    let order_slot =
        if kind.can_rest() { account.free_order_slot().ok_or(MeridianError::TooManyOpenOrders)? } else { 0 };

    // batch: an order placed once the collecting auction's period is over goes to the next one
    let batch_clock = if market.is_batch() { Some(enter_auction(market, kind)?) } else { None };
    let seq = market.next_order_seq;
    market.next_order_seq += 1;
    let params = OrderParams {
        side,
        price: Ticks(args.price),
        size: Lots(size),
        kind,
        self_trade,
        client_order_id: args.client_order_id,
        expiry_ts: args.expiry_ts,
        owner: t.account_key.to_bytes(),
        owner_slot: order_slot as u8, // < MAX_OPEN_ORDERS = 64: a bit index of the u64 slot mask
        flags: args.reduce_only as u8,
    };
    crate::cu_checkpoint!("place: validated args, position slot");
    let band = market.band();
    let mut now_ts = 0;
    let r = {
        let mut book_data = book.data_mut()?;
        let (bh, nodes) = book_parts(&mut book_data)?;
        let mut book = Book::<ActiveTree>::new(bh, nodes).map_err(|_| MeridianError::InvalidBookAccount)?;
        let mut queue_data = queue.data_mut()?;
        let (qh, events) = queue_parts(&mut queue_data)?;
        let mut queue = Queue::new(qh, events).ok_or(MeridianError::InvalidEventQueue)?;
        if batch_clock.is_none() && matching::needs_time(&book, &params) {
            now_ts = now()?;
        }
        let funding_index = market.funding_index();
        let ctx = MatchContext {
            seq,
            now_ts,
            fees: market.fees(),
            tick_size: market.tick_size,
            match_limit,
            funding_index,
            band,
            crank_reward: market.crank_reward,
        };
        crate::cu_checkpoint!("place: book and queue open");
        match batch_clock {
            None => matching::place(&mut book, &params, &ctx, &mut queue).map_err(match_error)?,
            Some(now) => {
                now_ts = now;
                // the orders of a closed auction keep their places until it clears
                let locked_below_seq = if market.auction_pending != 0 { market.auction_boundary_seq } else { 0 };
                let arrival =
                    auction::Arrival { now_ts: now, band, crank_reward: market.crank_reward, locked_below_seq };
                let (posted, outs) =
                    auction::post(&mut book, &params, seq, &arrival, &mut queue).map_err(match_error)?;
                // its taker fee, should it fill at its limit, must be there now (it is charged when
                // the fill is applied)
                let value =
                    notional(posted.price, posted.size, market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;
                let fee = market.fees().taker_fee(value).ok_or(MeridianError::MathOverflow)?;
                require!(
                    account.collateral >= 0 && account.collateral.unsigned_abs() >= fee,
                    MeridianError::FeeExceedsCollateral
                );
                matching::PlaceResult { posted: Some(posted), events: outs, ..Default::default() }
            }
        }
    };
    crate::cu_checkpoint!("place: matched");
    // matching touched the book only: the account is still as it was
    let prior = (args.reduce_only || r.filled.0 > 0).then(|| (*account.position(pos_slot), account.collateral));

    if r.filled.0 > 0 {
        // funding up to now is owed on the position as it was
        market.settle_funding(account.position_mut(pos_slot))?;
        let p = account.position_mut(pos_slot);
        let before = p.base_lots;
        let realized = p.apply_fill(side, r.filled, r.filled_notional).ok_or(MeridianError::MathOverflow)?;
        p.taker_volume = p.taker_volume.saturating_add(r.filled_notional);
        let after = p.base_lots;
        account.realized_pnl = account.realized_pnl.saturating_add(realized);
        update_open_interest(market, before, after);
        // an oracle sets a linear market's mark; without one the stable mark follows trades
        market.record_trade(r.last_fill_price, r.filled_notional, now_ts);
    }
    if r.taker_fee > 0 {
        let fee = r.taker_fee;
        let fee_i = i64::try_from(fee).map_err(|_| MeridianError::MathOverflow)?;
        // collected, not owed: the rebates and rewards paid from it must exist
        require!(account.collateral >= fee_i, MeridianError::FeeExceedsCollateral);
        market.adjust_collateral(account, -fee_i)?;
        account.fees_paid = account.fees_paid.saturating_add(fee_i);
        let p = account.position_mut(pos_slot);
        p.fees_paid = p.fees_paid.saturating_add(fee_i);
        // rebates owed to the makers, then the crank's reward for the fills this fee funds (the
        // engine marked them: each fill's own fee covers its rebate and reward), then insurance and
        // protocol
        let rebates = r.maker_fees.min(0).unsigned_abs();
        let crank_cut = (market.crank_reward.saturating_mul(r.rewarded as u64)).min(fee.saturating_sub(rebates));
        market.pending_rebates = market.pending_rebates.checked_add(rebates).ok_or(MeridianError::MathOverflow)?;
        market.crank_pool = market.crank_pool.checked_add(crank_cut).ok_or(MeridianError::MathOverflow)?;
        // the rest is the protocol's (the rebates and the reward are held in the market until paid)
        let protocol = fee.checked_sub(rebates + crank_cut).ok_or(MeridianError::MathOverflow)?;
        market.collect_fee(t.insurance_fee_share_bps, protocol)?;
    }
    if r.events > r.fills {
        pay_for_outs(market, account, r.outs())?;
    }
    let mut out = LastPlacement {
        order_seq: seq,
        market_index: market.index,
        filled_lots: r.filled.0,
        filled_quote: r.filled_notional,
        taker_fee: r.taker_fee,
        ..LastPlacement::default()
    };
    if let Some(posted) = r.posted {
        let value = notional(posted.price, posted.size, market.tick_size).ok_or(MeridianError::OrderValueOverflow)?;
        account.position_mut(pos_slot).add_resting(side, posted.size, value).ok_or(MeridianError::MathOverflow)?;
        account.record_order(
            order_slot,
            market.index,
            side,
            posted.price,
            seq,
            args.client_order_id,
            kind as u8,
            posted.node,
        );
        out.posted_lots = posted.size.0;
        out.posted_price = posted.price.0;
    }
    // a buy (fill or resting bid) moves only the bid case up and the cash down; a sell the
    // reverse: the other two conditions held before and still do
    require!(account.position(pos_slot).within_limits_on(side), MeridianError::PositionLimitExceeded);
    account.release_if_flat(pos_slot);
    account.last_placement = out;
    Ok(Placed { pos_slot, prior, band })
}

/// A batch market's order: a limit order, into the auction collecting now (the one whose period
/// is over closes first). Returns the time. Kept out of line: most markets are continuous.
#[inline(never)]
#[cold]
fn enter_auction(market: &mut Market, kind: OrderKind) -> Result<i64> {
    require!(kind == OrderKind::Limit, MeridianError::BatchOrderKind);
    let clock = Clock::get()?;
    market.close_auction_if_due(clock.slot, clock.unix_timestamp);
    Ok(clock.unix_timestamp)
}

/// A dated market takes no orders from its expiry on (its positions settle at the window's price).
/// Kept out of line: most orders are on perpetuals.
#[inline(never)]
#[cold]
pub fn check_not_expired(market: &Market) -> Result<()> {
    require!(Clock::get()?.unix_timestamp < market.expiry_ts, MeridianError::MarketExpired);
    Ok(())
}

/// The out events a placement wrote (the expired and stale orders it met, its own orders it
/// cancelled, an eviction): it pays their crank rewards itself, from collateral it has, into the
/// market's crank pool. Kept out of line: the common placement writes none.
#[inline(never)]
pub fn pay_for_outs(market: &mut Market, account: &mut MarginAccount, outs: u32) -> Result<()> {
    let cost = market.crank_reward.saturating_mul(outs as u64);
    if cost == 0 {
        return Ok(());
    }
    let cost_i = i64::try_from(cost).map_err(|_| MeridianError::MathOverflow)?;
    require!(account.collateral >= cost_i, MeridianError::FeeExceedsCollateral);
    market.adjust_collateral(account, -cost_i)?;
    market.crank_pool = market.crank_pool.checked_add(cost).ok_or(MeridianError::MathOverflow)?;
    Ok(())
}

/// Cancels the account's open order in `order_slot`. Returns false when the order is no longer on
/// the book (filled or out, awaiting the crank): the slot then stays for the crank to clear.
pub fn cancel_slot(
    market: &Market,
    book: &mut Book<ActiveTree>,
    account: &mut MarginAccount,
    order_slot: usize,
    owner: &Pubkey,
) -> Result<bool> {
    let o = account.open_orders[order_slot];
    let side = Side::from_u8(o.side).ok_or(MeridianError::InvalidSide)?;
    if market.is_batch() {
        require!(!market.in_closed_auction(o.seq, Clock::get()?.slot), MeridianError::OrderInClosedAuction);
    }
    let hint = Some(MarginAccount::order_node(&o));
    let Some(node) = matching::cancel(book, side, Ticks(o.price), o.seq, &owner.to_bytes(), hint) else {
        return Ok(false);
    };
    let value = notional(node.price, node.size, market.tick_size).ok_or(MeridianError::MathOverflow)?;
    let pos_slot = account.find_position(market.index).ok_or(MeridianError::OrderNotFound)?;
    account.position_mut(pos_slot).remove_resting(side, node.size, value).ok_or(MeridianError::MathOverflow)?;
    account.clear_order(order_slot);
    account.release_if_flat(pos_slot);
    Ok(true)
}

/// Cancels the account's orders in `market` (only one side's if `only`), at most `limit`. Orders
/// already filled or out stay for the crank. Returns how many were cancelled.
pub fn cancel_orders_in_market(
    market: &Market,
    book: &mut Book<ActiveTree>,
    account: &mut MarginAccount,
    owner: &Pubkey,
    only: Option<Side>,
    limit: u8,
) -> Result<u8> {
    let mut cancelled = 0u8;
    // a copy of the slot mask: cancelling clears bits as we go
    let mut slots = account.open_order_slots;
    while slots != 0 {
        let slot = slots.trailing_zeros() as usize;
        slots &= slots - 1;
        let o = account.open_orders[slot];
        if o.market_index != market.index || only.is_some_and(|s| s as u8 != o.side) {
            continue;
        }
        if cancelled == limit {
            break;
        }
        if cancel_slot(market, book, account, slot, owner)? {
            cancelled += 1;
        }
    }
    Ok(cancelled)
}

/// The book as the program uses it.
pub type ActiveBook<'a> = Book<'a, ActiveTree>;

/// Views a book account's data as its book.
pub fn open_book(data: &mut [u8]) -> Result<ActiveBook<'_>> {
    let (bh, nodes) = book_parts(data)?;
    Book::<ActiveTree>::new(bh, nodes).map_err(|_| MeridianError::InvalidBookAccount.into())
}

/// Opens the market's book for cancels.
pub fn with_book<A: AccountHandle, R>(book: &A, f: impl FnOnce(&mut ActiveBook) -> Result<R>) -> Result<R> {
    let mut data = book.data_mut()?;
    f(&mut open_book(&mut data)?)
}
