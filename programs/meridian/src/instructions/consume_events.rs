use crate::{
    account_handle::AccountHandle,
    error::MeridianError,
    history::{EventsWriter, MAX_EVENTS_PER_CONSUME},
    loaders::{load, load_mut},
    state::*,
    trading::update_open_interest,
};
use anchor_lang::prelude::*;
use meridian_engine::events::{Event, EventQueue as Queue, EVENT_FILL};
use meridian_engine::units::{notional, Side};

#[event_cpi]
#[derive(Accounts)]
pub struct ConsumeEvents<'info> {
    /// CHECK: the exchange; loaded and checked by the handler (read only: cranks of different
    /// markets run in parallel).
    pub exchange: UncheckedAccount<'info>,
    /// CHECK: a market of the exchange; loaded and checked by the handler.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: the market's event queue (`market.event_queue`).
    #[account(mut)]
    pub event_queue: UncheckedAccount<'info>,
    /// CHECK: any margin account of the exchange: receives the crank reward.
    #[account(mut)]
    pub reward_account: UncheckedAccount<'info>,
}

/// Adds a fee (negative: a rebate) to the account's and the position's statements.
fn record_fee(maker: &mut MarginAccount, pos_slot: usize, fee: i64) {
    maker.fees_paid = maker.fees_paid.saturating_add(fee);
    let p = maker.position_mut(pos_slot);
    p.fees_paid = p.fees_paid.saturating_add(fee);
}

/// Applies one event to its maker's account. Returns whether the event's crank reward is funded
/// (marked so at the fill, or for an auction fill, paid into the pool here from its own fee) and
/// the fee the maker was charged (negative: its rebate).
fn apply(share_bps: u16, market: &mut Market, maker: &mut MarginAccount, e: &Event) -> Result<(bool, i64)> {
    let side = Side::from_u8(e.side).ok_or(MeridianError::InvalidSide)?;
    let value = notional(e.price, e.size, market.tick_size).ok_or(MeridianError::MathOverflow)?;
    let pos_slot = maker.position_slot(market.index, market.funding_index())?;
    let (maker_side, filled) = if e.kind == EVENT_FILL { (side.opposite(), true) } else { (side, false) };
    let auction = filled && e.auction != 0;
    {
        // an auction fill's price is the clearing price; the order rested at its own limit
        let resting_value = if auction {
            notional(e.order_price, e.size, market.tick_size).ok_or(MeridianError::MathOverflow)?
        } else {
            value
        };
        let p = maker.position_mut(pos_slot);
        p.remove_resting(maker_side, e.size, resting_value).ok_or(MeridianError::MathOverflow)?;
    }
    let mut reward_funded = e.rewarded != 0 && !auction;
    let mut charged = 0;
    if filled {
        // funding to the moment of the fill on the position as it was; from then on the new size
        // accrues (from the fill's index, not the crank's: waiting in the queue changes nothing)
        market.settle_funding_to(maker.position_mut(pos_slot), e.funding_index())?;
        let p = maker.position_mut(pos_slot);
        let before = p.base_lots;
        let realized = p.apply_fill(maker_side, e.size, value).ok_or(MeridianError::MathOverflow)?;
        p.maker_volume = p.maker_volume.saturating_add(value);
        let after = p.base_lots;
        update_open_interest(market, before, after);
        maker.realized_pnl = maker.realized_pnl.saturating_add(realized);
        if e.maker_fee < 0 {
            // the rebate was set aside from the taker's collected fee at the fill
            let rebate = e.maker_fee.unsigned_abs();
            market.pending_rebates = market.pending_rebates.checked_sub(rebate).ok_or(MeridianError::MathOverflow)?;
            market.adjust_collateral(maker, e.maker_fee.saturating_neg())?;
            record_fee(maker, pos_slot, e.maker_fee);
            charged = e.maker_fee;
        } else if e.maker_fee > 0 {
            // a maker fee is charged from the collateral the maker has: never a debt the protocol
            // would count as revenue (what it lacks is waived)
            let fee = e.maker_fee.min(maker.collateral.max(0));
            market.adjust_collateral(maker, -fee)?;
            let mut revenue = fee.unsigned_abs();
            if auction && e.rewarded != 0 && revenue >= market.crank_reward {
                // an auction fill's own fee pays its crank's reward (no taker paid it at the fill)
                revenue -= market.crank_reward;
                market.crank_pool =
                    market.crank_pool.checked_add(market.crank_reward).ok_or(MeridianError::MathOverflow)?;
                reward_funded = true;
            }
            market.collect_fee(share_bps, revenue)?;
            record_fee(maker, pos_slot, fee);
            charged = fee;
        }
    }
    if e.maker_out != 0 {
        let slot = e.maker_slot as usize;
        let o = maker.open_orders.get(slot).copied().unwrap_or_default();
        let slot = if o.in_use != 0 && o.seq == e.maker_order_seq && o.market_index == market.index {
            Some(slot)
        } else {
            maker.find_order(market.index, e.maker_order_seq)
        };
        if let Some(slot) = slot {
            maker.clear_order(slot);
        }
    }
    maker.release_if_flat(pos_slot);
    Ok((reward_funded, charged))
}

pub use crate::hot_accounts::ConsumeAccounts;

/// Applies up to `limit` events, oldest first, to the makers' margin accounts (remaining accounts,
/// writable, in any order). Stops at the first event whose maker account was not passed, so a
/// crank with a stale view applies a prefix and never skips an event; each event is applied
/// exactly once because it leaves the queue in the same transaction. Pays the reward account
/// `crank_reward` per rewarded event (`Event::rewarded`: a fill whose own taker fee funded the
/// reward, or an out event its placement paid for), from the pool those payments filled; fills too
/// small to pay for it are applied unpaid. At most [`MAX_EVENTS_PER_CONSUME`] events per call; the
/// applied events are published as one `EventsApplied` (`crate::history`).
///
/// Applying an event cannot fail on arithmetic: a fill moves its maker's position within the
/// envelope its resting orders had at placement, which the position limits bounded
/// (`meridian_engine::position::MAX_POSITION_LOTS`), so no maker can block the queue.
pub fn consume<A: AccountHandle>(a: &ConsumeAccounts<A>, limit: u16) -> Result<u16> {
    let exchange_key = *a.exchange.address();
    let share_bps = load::<Exchange, A>(a.exchange)?.insurance_fee_share_bps;
    let mut market = load_mut::<Market, A>(a.market)?;
    require_keys_eq!(market.exchange, exchange_key, MeridianError::WrongExchange);
    require_keys_eq!(market.event_queue, *a.event_queue.address(), MeridianError::WrongEventQueue);
    // checked before any event is applied, so a wrong reward account fails the whole batch
    require_keys_eq!(load::<MarginAccount, A>(a.reward_account)?.exchange, exchange_key, MeridianError::WrongExchange);
    let mut data = a.event_queue.data_mut()?;
    let (qh, events) = queue_parts(&mut data)?;
    let mut queue = Queue::new(qh, events).ok_or(MeridianError::InvalidEventQueue)?;

    let limit = limit.min(MAX_EVENTS_PER_CONSUME);
    let mut history = EventsWriter::new(a.market.address(), limit.min(u16::try_from(queue.len()).unwrap_or(u16::MAX)));
    let (mut consumed, mut rewarded): (u16, u64) = (0, 0);
    while consumed < limit {
        let Some(e) = queue.peek(consumed as u32).copied() else { break };
        let Some(info) = a.makers.iter().find(|m| m.address().to_bytes() == e.maker) else { break };
        let mut maker = load_mut::<MarginAccount, A>(info)?;
        require_keys_eq!(maker.exchange, exchange_key, MeridianError::WrongExchange);
        let (funded, charged) = apply(share_bps, &mut market, &mut maker, &e)?;
        history.push(&e, charged);
        consumed += 1;
        rewarded += funded as u64;
    }
    require!(consumed > 0, MeridianError::NoEventsToConsume);
    queue.pop_front(consumed as u32);

    // only rewarded events pay one: the pool holds exactly what their placements paid in
    let reward = market.crank_reward.saturating_mul(rewarded).min(market.crank_pool);
    if reward > 0 {
        market.crank_pool -= reward;
        let mut crank = load_mut::<MarginAccount, A>(a.reward_account)?;
        market.adjust_collateral(&mut crank, i64::try_from(reward).map_err(|_| MeridianError::MathOverflow)?)?;
    }
    drop((market, data));
    crate::history::emit(a.event_authority, history.finish())?;
    Ok(consumed)
}

pub fn process_consume_events<'info>(ctx: Context<'info, ConsumeEvents<'info>>, limit: u16) -> Result<u16> {
    consume(&ConsumeAccounts::of(&ctx), limit)
}
