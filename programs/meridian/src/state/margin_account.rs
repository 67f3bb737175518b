use super::records::{HealthRecord, PositionRecord};
use crate::error::MeridianError;
use anchor_lang::prelude::*;
use meridian_engine::health_history::{self, HealthSample};
use meridian_engine::margin::Health;
use meridian_engine::position::Position;
use meridian_engine::units::{Side, Ticks};

pub const MARGIN_ACCOUNT_SEED: &[u8] = b"margin";
/// Markets an account can hold positions in at once.
pub const MAX_POSITIONS: usize = 16;
/// Resting orders an account can have across all markets.
pub const MAX_OPEN_ORDERS: usize = 64;
/// Health history windows kept (engine `health_history`).
pub const HEALTH_HISTORY_LEN: usize = 16;
const _: () = assert!(HEALTH_HISTORY_LEN == health_history::HISTORY_LEN);
const _: () = assert!(MAX_OPEN_ORDERS == 64, "open_order_slots is a u64 bitmap");

/// One resting order, as its owner's account knows it (the book holds its live size).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OpenOrder {
    pub market_index: u16,
    pub side: u8,
    pub in_use: u8,
    pub order_kind: u8,
    /// The order's node in the book (24 bits, little-endian): where a cancel looks first.
    pub book_node: [u8; 3],
    pub price: u64,
    /// The order id: its sequence number in the market.
    pub seq: u64,
    pub client_order_id: u64,
}

/// The result of the account's latest order placement (the instruction's return data, kept in the
/// account so clients can read it from any RPC node, with or without transaction history).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LastPlacement {
    pub order_seq: u64,
    pub market_index: u16,
    pub _pad: [u8; 6],
    pub filled_lots: u64,
    pub filled_quote: u64,
    pub taker_fee: u64,
    pub posted_lots: u64,
    pub posted_price: u64,
}

/// A trader's cross-margin account on one exchange: PDA [MARGIN_ACCOUNT_SEED, exchange, owner,
/// sub_account (u16 le)], so one wallet can keep several isolated books of risk.
#[account(zero_copy)]
#[derive(Debug)]
pub struct MarginAccount {
    pub exchange: Pubkey,
    pub owner: Pubkey,
    pub sub_account: u16,
    pub bump: u8,
    pub flags: u8,
    pub _padding: [u8; 4],
    /// Bit i set = `open_orders[i]` in use.
    pub open_order_slots: u64,
    /// Collateral in native units of the exchange's mint: deposits - withdrawals - fees + rebates
    /// (+ settled PnL and funding, later). Signed: only a bankruptcy takes it below zero.
    pub collateral: i64,
    /// Lifetime totals, for statements.
    pub total_deposited: u64,
    pub total_withdrawn: u64,
    pub realized_pnl: i64,
    pub fees_paid: i64,
    pub last_placement: LastPlacement,
    /// Windows ever opened in `health_history` (the ring's write position).
    pub health_history_next: u64,
    /// PnL settled into collateral over the account's life (negative: losses realized), native
    /// units.
    pub pnl_settled: i64,
    /// The unrealized-profit window (`meridian_engine::settlement::Window`): its start and what it
    /// has paid.
    pub upnl_window_start: i64,
    pub upnl_window_paid: u64,
    /// A key that may trade for the owner (place, replace, cancel) but not withdraw, close or
    /// change this; set by the owner with `set_delegate` (default = none).
    pub delegate: Pubkey,
    pub positions: [PositionRecord; MAX_POSITIONS],
    pub open_orders: [OpenOrder; MAX_OPEN_ORDERS],
    /// The worst health reading of each of the last windows of slots in which the program checked
    /// the account (engine `health_history::HealthSample`, as words).
    pub health_history: [HealthRecord; HEALTH_HISTORY_LEN],
}

impl MarginAccount {
    pub const SPACE: usize = 8 + core::mem::size_of::<MarginAccount>();

    /// Records a health reading taken at `slot` (engine `health_history::record`).
    pub fn record_health(&mut self, slot: u64, health: &Health, source: u64) {
        let samples: &mut [HealthSample; HEALTH_HISTORY_LEN] = bytemuck::cast_mut(&mut self.health_history);
        health_history::record(samples, &mut self.health_history_next, HealthSample::new(slot, health, source));
    }

    /// The recorded windows, oldest first.
    pub fn health_history(&self) -> impl Iterator<Item = &HealthSample> {
        health_history::ordered(bytemuck::cast_ref(&self.health_history), self.health_history_next)
    }

    pub fn position(&self, slot: usize) -> &Position {
        bytemuck::cast_ref(&self.positions[slot])
    }

    pub fn position_mut(&mut self, slot: usize) -> &mut Position {
        bytemuck::cast_mut(&mut self.positions[slot])
    }

    pub fn positions_in_use(&self) -> impl Iterator<Item = &Position> {
        self.positions.iter().map(bytemuck::cast_ref::<_, Position>).filter(|p| p.in_use != 0)
    }

    pub fn find_position(&self, market_index: u16) -> Option<usize> {
        // a position's first word holds market_index (bytes 0-1) and in_use (byte 2)
        let key = (1u64 << 16) | market_index as u64;
        self.positions.iter().position(|p| bytemuck::cast_ref::<_, [u64; 16]>(p)[0] & 0xff_ffff == key)
    }

    /// The slot of the position in `market_index`, opened (owing no past funding: at the market's
    /// `funding_index`) if there is none.
    pub fn position_slot(&mut self, market_index: u16, funding_index: i128) -> Result<usize> {
        if let Some(i) = self.find_position(market_index) {
            return Ok(i);
        }
        let i = (0..MAX_POSITIONS).find(|&i| self.position(i).in_use == 0).ok_or(MeridianError::TooManyPositions)?;
        *self.position_mut(i) = Position::opened_at(market_index, funding_index);
        Ok(i)
    }

    /// Releases a position slot with nothing in it.
    pub fn release_if_flat(&mut self, slot: usize) {
        if self.position(slot).is_flat() {
            *self.position_mut(slot) = Position::default();
        }
    }

    /// `signer` may place, replace and cancel orders for this account: its owner or its delegate.
    #[inline(always)]
    pub fn may_trade(&self, signer: &Pubkey) -> bool {
        self.owner == *signer || self.is_delegate(signer)
    }

    /// Out of line: the owner's own orders (the common case) never pay for it.
    #[inline(never)]
    #[cold]
    fn is_delegate(&self, signer: &Pubkey) -> bool {
        self.delegate == *signer && self.delegate != Pubkey::default()
    }

    /// The unrealized-profit window as the engine reads it.
    pub fn upnl_window(&self) -> meridian_engine::settlement::Window {
        meridian_engine::settlement::Window { start_ts: self.upnl_window_start, paid: self.upnl_window_paid }
    }

    pub fn num_open_orders(&self) -> u32 {
        self.open_order_slots.count_ones()
    }

    pub fn free_order_slot(&self) -> Option<usize> {
        let free = !self.open_order_slots;
        (free != 0).then(|| free.trailing_zeros() as usize)
    }

    /// Slots of the open orders in use, ascending.
    pub fn order_slots(&self) -> impl Iterator<Item = usize> {
        let mut mask = self.open_order_slots;
        core::iter::from_fn(move || {
            (mask != 0).then(|| {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                i
            })
        })
    }

    fn find_order_where(&self, f: impl Fn(&OpenOrder) -> bool) -> Option<usize> {
        self.order_slots().find(|&i| f(&self.open_orders[i]))
    }

    pub fn find_order(&self, market_index: u16, seq: u64) -> Option<usize> {
        self.find_order_where(|o| o.market_index == market_index && o.seq == seq)
    }

    pub fn find_order_by_client_id(&self, market_index: u16, client_order_id: u64) -> Option<usize> {
        self.find_order_where(|o| o.market_index == market_index && o.client_order_id == client_order_id)
    }

    pub fn record_order(
        &mut self,
        slot: usize,
        market_index: u16,
        side: Side,
        price: Ticks,
        seq: u64,
        client_order_id: u64,
        kind: u8,
        book_node: u32,
    ) {
        let [n0, n1, n2, _] = book_node.to_le_bytes(); // < 2^24: a book has at most 4 x 8,192 nodes
        self.open_orders[slot] = OpenOrder {
            market_index,
            side: side as u8,
            in_use: 1,
            order_kind: kind,
            book_node: [n0, n1, n2],
            price: price.0,
            seq,
            client_order_id,
        };
        self.open_order_slots |= 1 << slot;
    }

    /// The book node an open order was placed in (a hint: see `OpenOrder::book_node`).
    pub fn order_node(o: &OpenOrder) -> u32 {
        u32::from_le_bytes([o.book_node[0], o.book_node[1], o.book_node[2], 0])
    }

    pub fn clear_order(&mut self, slot: usize) {
        if self.open_order_slots & (1 << slot) != 0 {
            self.open_orders[slot] = OpenOrder::default();
            self.open_order_slots &= !(1 << slot);
        }
    }

    /// Nothing left: no collateral, positions or orders.
    pub fn is_empty(&self) -> bool {
        self.collateral == 0 && self.open_order_slots == 0 && self.positions_in_use().next().is_none()
    }
}
