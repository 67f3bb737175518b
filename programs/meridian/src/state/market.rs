use crate::args::tagged_enum;
use crate::error::MeridianError;
use crate::state::{Exchange, LotRiskRecord, MarginAccount, OracleStatus};
use anchor_lang::prelude::*;
use meridian_engine::band::{self, Band};
use meridian_engine::book::{BookHeader, Node};
use meridian_engine::events::{Event, QueueHeader};
use meridian_engine::expiry;
use meridian_engine::margin::MarketRisk;
use meridian_engine::matching::FeeRates;
use meridian_engine::portfolio::LotRisk;
use meridian_engine::units::Ticks;

pub const MARKET_SEED: &[u8] = b"market";

tagged_enum! {
    /// What a market trades. Futures and options expire at `expiry_ts` (options at `strike`) and
    /// settle to cash at the settlement price (`meridian_engine::expiry`).
    MarketKind {
        /// No expiry; pays funding (`update_funding`).
        #[default]
        Perpetual = 0,
        /// A dated future: settles to the settlement price at expiry.
        Future = 1,
        /// A European call: pays max(settlement - strike, 0) a lot at expiry.
        Call = 2,
        /// A European put: pays max(strike - settlement, 0) a lot at expiry.
        Put = 3,
    }
}

tagged_enum! {
    /// What a market accepts (`set_market_status`, `close_market`).
    MarketStatus {
        /// Everything.
        #[default]
        Active = 0,
        /// Cancels and the crank; no new orders.
        CancelOnly = 1,
        /// Only the crank.
        Paused = 2,
        /// Nothing but the crank (the book must be empty and no account hold base to close).
        Closed = 3,
    }
}

/// One instrument. PDA [MARKET_SEED, exchange, index (u16 le)].
///
/// Units: sizes in base lots (`base_lot_size` atoms of the underlying, `base_decimals` decimals),
/// prices in ticks, and `tick_size` is the quote value (collateral native units) of one tick on one
/// lot: the notional of `lots` at `ticks` is `lots * ticks * tick_size`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Market {
    pub exchange: Pubkey,
    pub book: Pubkey,
    pub event_queue: Pubkey,
    /// The market's oracle aggregate (default = none: the mark is the last trade).
    pub oracle: Pubkey,
    pub name: [u8; 16],
    pub index: u16,
    /// `MarketKind`'s code (read with `kind()`).
    pub kind: u8,
    /// `MarketStatus`'s code (read with `status()`).
    pub status: u8,
    pub bump: u8,
    pub base_decimals: u8,
    /// `MarketMode`'s code (read with `mode()`): continuous, or batch (orders collected and
    /// cleared by `clear_auction`).
    pub mode: u8,
    /// Batch: 1 while a closed auction awaits its clearing (its orders are those below
    /// `auction_boundary_seq`).
    pub auction_pending: u8,
    pub tick_size: u64,
    pub base_lot_size: u64,
    pub min_order_lots: u64,
    pub taker_fee_ppm: u32,
    pub maker_fee_ppm: i32,
    pub initial_margin_bps: u32,
    pub maintenance_margin_bps: u32,
    /// Paid to the crank per event consumed, from taker fees.
    pub crank_reward: u64,
    /// Mark price in ticks: the oracle's price when the market has one (pushed by `refresh_oracle`),
    /// else the stable mark (`meridian_engine::band::stable_mark`: it follows trades slowly, from
    /// the initial mark set at creation); an option's is its premium, by the same rule.
    pub mark_price: u64,
    /// Time of the last fill (the stable mark weighs the next trade by the time since).
    pub last_trade_ts: i64,
    /// Sequence number of the next order (order ids are unique per market).
    pub next_order_seq: u64,
    /// Futures and options: expiry (unix time). Options: strike in ticks.
    pub expiry_ts: i64,
    pub strike: u64,
    /// Rebates owed to makers whose fills the crank has not applied yet (held in the vault, set
    /// aside from the taker fees that fund them).
    pub pending_rebates: u64,
    /// Crank rewards funded by taker fees and placements, not yet paid (held in the vault).
    pub crank_pool: u64,
    /// Long base lots (= short base lots) once every event is applied.
    pub open_interest: u64,
    pub volume_quote: u64,
    /// With an oracle (`oracle` set by `set_market_oracle`), `refresh_oracle` pushes the aggregate
    /// here: `mark_price` becomes its price in ticks (rounded to nearest), this its confidence in
    /// ticks (rounded up), `oracle_slot` the slot of that push.
    pub oracle_conf: u64,
    pub oracle_slot: u64,
    /// The aggregate's own staleness limit, copied on each push.
    pub oracle_max_age_slots: u64,
    /// `OracleStatus` of the last push (0 also when the price does not fit the market's ticks).
    pub oracle_status: u8,
    /// The exchange's collateral decimals (to convert oracle prices to ticks).
    pub quote_decimals: u8,
    pub _pad1: [u8; 2],
    /// Perpetuals: funding accrues over this period (seconds) at the clamped premium.
    pub funding_period_secs: u32,
    /// Cumulative funding per lot (quote native units x 10^9, i128 as lo/hi; engine `funding`).
    pub funding_index_lo: u64,
    pub funding_index_hi: u64,
    pub funding_last_ts: i64,
    /// The rate in force, parts per 10^9 per period (positive: longs pay): the time-weighted
    /// average of the clamped premium samples (`meridian_engine::funding::sample_rate`).
    pub funding_rate: i64,
    /// The rate's clamp, basis points per period.
    pub funding_max_bps: u32,
    /// Half width of the price band around the reference (bps; 0 = `band::DEFAULT_BAND_BPS`):
    /// orders are priced, and fills happen, within it (`Market::band`).
    pub price_band_bps: u32,
    /// Impact size in quote native units: the price a market order of this size would reach on
    /// each side is the impact bid/ask (0 = the best prices).
    pub funding_impact_notional: u64,
    /// What settlement rounding kept for the protocol, 10^-9 units (funding paid = received + this;
    /// socialized loss paid = written off + this).
    pub funding_rounding: u64,
    /// Options with an oracle (the underlying's aggregate): one lot's value now and under the
    /// portfolio engine's 27 scenarios, its greeks, computed by `refresh_oracle` from the
    /// underlying's price and realized volatility at `lot_risk_ts`. Linear markets build theirs
    /// from the mark in each margin check. Read and written as the engine's `LotRisk` through
    /// `lot_risk()` / `set_lot_risk()`.
    pub lot_risk: LotRiskRecord,
    pub lot_risk_ts: i64,
    /// Cumulative socialized loss per lot, long and short alike (`meridian_engine::liquidation`):
    /// raised by a bankruptcy the insurance fund could not cover.
    pub loss_index: u64,
    /// The oracle's realized volatility (12 decimals) at the last push: scales the liquidation
    /// discount.
    pub oracle_vol: u64,
    /// The slot of the last `refresh_oracle` that pushed a Valid price here (`oracle_slot` is the
    /// slot of that price's oldest source reading): liquidators measure their latency from it.
    pub oracle_push_slot: u64,
    /// Perpetuals: the order sequence number at the last funding sample. The next sample counts
    /// only orders below it (resting since then): an order placed and cancelled around one update
    /// is never seen.
    pub funding_sample_seq: u64,
    /// The price band in force (`Market::band`): kept here, recomputed whenever what it is made of
    /// changes (the mark, an option's revaluation, the oracle link, `price_band_bps`), so an order
    /// reads it instead of computing it.
    pub band_low: u64,
    pub band_high: u64,
    pub band_reference: u64,
    /// What losers of this market have paid in (`settle_pnl`) and winners not yet taken out,
    /// native units, held in the vault: profits are paid from here only.
    pub pnl_pool: u64,
    /// Dated markets: the settlement window's length, seconds (`meridian_engine::expiry`; 0 at
    /// listing = the default 30 minutes, stored as chosen).
    pub settlement_window_secs: u32,
    /// The window's samples (`meridian_engine::expiry::Sampler`): the closed buckets with samples
    /// and the sum of their means, the open bucket, its sample count and sum, the last slot sampled.
    pub sample_filled: u32,
    pub sample_bucket: u32,
    pub sample_bucket_count: u32,
    /// `SettlementSource`: how the settlement price was fixed (0: not yet).
    pub settlement_source: u8,
    pub _pad2: [u8; 7],
    pub sample_bucket_sum: u64,
    pub sample_sum_of_means: u64,
    pub sample_last_slot: u64,
    /// The settlement price (ticks of the underlying per lot) and when it was fixed.
    pub settlement_price: u64,
    pub settlement_ts: i64,
    /// Positions settled at expiry so far.
    pub positions_settled: u64,
    /// A settled market's short lots not settled yet (the open interest when the price was fixed,
    /// less each short settled; `open_interest` counts the longs): it closes when both are 0.
    pub short_interest: u64,
    /// What this market's order flow moved that the exchange's totals do not show yet (the order
    /// flow writes no account shared between markets; `sweep_market` moves these into the
    /// exchange): the change to its accounts' collateral, protocol fees, the insurance share.
    pub unswept_collateral: i64,
    pub unswept_fees: u64,
    pub unswept_insurance: u64,
    /// Batch markets (`meridian_engine::auction`): auctions last this many slots, aligned to
    /// multiples of it; the one collecting orders now ends at `auction_end_slot`. The first
    /// placement or clearing at or after that slot closes it: the orders placed before then (ids
    /// below `auction_boundary_seq`) are its orders.
    pub auction_period_slots: u64,
    pub auction_end_slot: u64,
    pub auction_boundary_seq: u64,
    /// Orders with ids below this rested through a clearing: in the next one they trade as makers.
    pub auction_maker_seq: u64,
    /// The last clearing that traded: its price (ticks), volume (lots) and slot; and how many
    /// auctions were cleared (traded or not).
    pub last_clearing_price: u64,
    pub last_clearing_volume: u64,
    pub last_clearing_slot: u64,
    pub auctions_cleared: u64,
    /// When the auction awaiting its clearing closed (unix time): orders expired by then do not
    /// take part.
    pub auction_close_ts: i64,
}

tagged_enum! {
    /// How a market matches orders (`set_market_mode`).
    MarketMode {
        /// Price-time priority on arrival.
        #[default]
        Continuous = 0,
        /// Frequent batch auctions: orders are collected over a period of slots and cleared
        /// together at one price (`clear_auction`).
        Batch = 1,
    }
}

/// A batch market's auction period when `set_market_mode` gives 0 (slots).
pub const DEFAULT_AUCTION_PERIOD_SLOTS: u64 = 2;
/// The longest auction period (slots; ~1 minute).
pub const MAX_AUCTION_PERIOD_SLOTS: u64 = 150;
/// A batch market's book holds at most this many orders a side, and its event queue at least
/// twice as many events: any auction then clears in one instruction.
pub const MAX_BATCH_ORDERS_PER_SIDE: u32 = 128;

/// How a dated market's settlement price was fixed.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettlementSource {
    None = 0,
    /// The average of the window's samples (`fix_settlement_price`).
    Window = 1,
    /// Set by the admin after the grace period without enough samples (`set_settlement_price`).
    Admin = 2,
}

impl Market {
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();

    /// What the vault holds for this market beyond the exchange's totals, native units: the
    /// unswept fees and insurance share, rebates owed, crank rewards unpaid, and the collateral
    /// its order flow moved (signed). The PnL pool is counted by the exchange (`pnl_pools`).
    pub fn unswept_liabilities(&self) -> i128 {
        self.unswept_collateral as i128
            + self.unswept_fees as i128
            + self.unswept_insurance as i128
            + self.pending_rebates as i128
            + self.crank_pool as i128
    }

    /// Moves the unswept totals into the exchange's (an instruction that writes both anyway, or
    /// `sweep_market`). Rebates owed and the crank pool stay: they are paid from here.
    pub fn sweep_into(&mut self, exchange: &mut Exchange) -> Result<()> {
        let overflow = MeridianError::MathOverflow;
        exchange.total_collateral = exchange.total_collateral.checked_add(self.unswept_collateral).ok_or(overflow)?;
        exchange.fees_accrued = exchange.fees_accrued.checked_add(self.unswept_fees).ok_or(overflow)?;
        exchange.insurance_balance = exchange.insurance_balance.checked_add(self.unswept_insurance).ok_or(overflow)?;
        (self.unswept_collateral, self.unswept_fees, self.unswept_insurance) = (0, 0, 0);
        Ok(())
    }

    /// Moves an account's collateral by `delta` from this market's order flow (the exchange's
    /// total follows at the next sweep).
    pub fn adjust_collateral(&mut self, account: &mut MarginAccount, delta: i64) -> Result<()> {
        account.collateral = account.collateral.checked_add(delta).ok_or(MeridianError::MathOverflow)?;
        self.unswept_collateral = self.unswept_collateral.checked_add(delta).ok_or(MeridianError::MathOverflow)?;
        Ok(())
    }

    /// Protocol revenue this market's order flow collected: the insurance fund's share
    /// (`share_bps`) and the rest as protocol fees, held until swept.
    pub fn collect_fee(&mut self, share_bps: u16, fee: u64) -> Result<()> {
        // a share (bps <= 10,000, checked at creation) of an amount: at most the amount
        let insurance = (fee as u128 * share_bps as u128 / 10_000) as u64;
        self.unswept_insurance = self.unswept_insurance.checked_add(insurance).ok_or(MeridianError::MathOverflow)?;
        let rest = fee.checked_sub(insurance).ok_or(MeridianError::MathOverflow)?;
        self.unswept_fees = self.unswept_fees.checked_add(rest).ok_or(MeridianError::MathOverflow)?;
        Ok(())
    }

    pub fn fees(&self) -> FeeRates {
        FeeRates { taker_ppm: self.taker_fee_ppm, maker_ppm: self.maker_fee_ppm }
    }

    /// The band's half width in basis points.
    pub fn band_bps(&self) -> u32 {
        if self.price_band_bps == 0 {
            band::DEFAULT_BAND_BPS
        } else {
            self.price_band_bps
        }
    }

    /// Where orders may be priced and fills happen (as last computed by [`Market::refresh_band`]).
    #[inline(always)]
    pub fn band(&self) -> Band {
        Band { low: Ticks(self.band_low), high: Ticks(self.band_high), reference: Ticks(self.band_reference) }
    }

    /// Recomputes the band: around the mark (the oracle's price, or the stable mark without one),
    /// or for an option revalued from its underlying around its model value, with a half width of
    /// the band's fraction of the underlying's value (a premium alone can be tiny). At least one
    /// tick either side. Called by every instruction that changes what it is made of.
    pub fn refresh_band(&mut self) {
        let b = self.compute_band();
        (self.band_low, self.band_high, self.band_reference) = (b.low.0, b.high.0, b.reference.0);
    }

    fn compute_band(&self) -> Band {
        let bps = self.band_bps();
        if self.is_option() && self.has_oracle() && !self.awaits_revaluation() {
            let r = self.lot_risk();
            let tick = self.tick_size.max(1);
            // values are per lot in quote units: in ticks, rounded to nearest / down
            let value = r.now.max(0).unsigned_abs();
            let reference = value / tick + (value % tick >= tick - tick / 2) as u64;
            let half = band::half_width(r.underlying_value.max(0).unsigned_abs(), bps, 0) / tick;
            return Band::around(Ticks(reference.max(1)), half.max(1));
        }
        Band::around(Ticks(self.mark_price), band::half_width(self.mark_price, bps, 1))
    }

    pub fn risk(&self) -> MarketRisk {
        MarketRisk {
            mark: Ticks(self.mark_price),
            tick_size: self.tick_size,
            initial_bps: self.initial_margin_bps,
            maintenance_bps: self.maintenance_margin_bps,
            funding_index: self.funding_index(),
            loss_index: self.loss_index,
        }
    }

    pub fn funding_index(&self) -> i128 {
        // bit for bit: the two's complement words `set_funding_index` stored
        meridian_engine::units::join_u128(self.funding_index_lo, self.funding_index_hi) as i128
    }

    pub fn set_funding_index(&mut self, index: i128) {
        (self.funding_index_lo, self.funding_index_hi) = meridian_engine::units::split_u128(index as u128);
    }

    /// Settles a position's funding to the market's index, keeping the rounding.
    pub fn settle_funding(&mut self, p: &mut meridian_engine::position::Position) -> Result<i64> {
        self.settle_funding_to(p, self.funding_index())
    }

    /// Settles a position's funding to `index` (a fill event's) and its socialized loss to the
    /// market's (a bankruptcy waits for an empty event queue, so no fill straddles one), keeping
    /// the rounding. Called before every change of a position's base.
    pub fn settle_funding_to(&mut self, p: &mut meridian_engine::position::Position, index: i128) -> Result<i64> {
        let s = meridian_engine::funding::settle(p, index).ok_or(MeridianError::MathOverflow)?;
        let l = meridian_engine::liquidation::settle_loss(p, self.loss_index).ok_or(MeridianError::MathOverflow)?;
        self.funding_rounding =
            self.funding_rounding.checked_add(s.rounding + l.rounding).ok_or(MeridianError::MathOverflow)?;
        Ok(s.paid)
    }

    /// One lot's value now, quote native units: an option's stored value once revalued, else the
    /// mark.
    pub fn lot_value(&self) -> Result<u64> {
        if self.has_oracle() && self.is_option() && !self.awaits_revaluation() {
            return Ok(self.lot_risk().now.max(0).unsigned_abs());
        }
        self.mark_price.checked_mul(self.tick_size).ok_or(error!(MeridianError::MathOverflow))
    }

    /// The liquidation discount (bps): scaled by the oracle's volatility, or half the maintenance
    /// margin without one (`meridian_engine::liquidation::discount_bps`).
    pub fn liquidation_discount_bps(&self) -> u32 {
        meridian_engine::liquidation::discount_bps(
            self.has_oracle().then_some(self.oracle_vol),
            self.maintenance_margin_bps,
        )
    }

    pub fn lot_risk(&self) -> &LotRisk {
        bytemuck::cast_ref(&self.lot_risk)
    }

    pub fn set_lot_risk(&mut self, r: &LotRisk) {
        self.lot_risk = bytemuck::cast(*r);
    }

    pub fn is_option(&self) -> bool {
        self.kind == MarketKind::Call as u8 || self.kind == MarketKind::Put as u8
    }

    /// An option linked to an oracle whose lot no refresh has revalued yet (just linked, or every
    /// push failed): it keeps its own margin rule until then.
    pub fn awaits_revaluation(&self) -> bool {
        self.is_option() && self.lot_risk_ts == 0
    }

    pub fn has_oracle(&self) -> bool {
        self.oracle != Pubkey::default()
    }

    /// The pushed oracle price is Valid and no older than the aggregate's staleness limit.
    pub fn oracle_usable(&self, now_slot: u64) -> bool {
        self.oracle_status == OracleStatus::Valid as u8
            && now_slot.saturating_sub(self.oracle_slot) <= self.oracle_max_age_slots
    }

    pub fn is_dated(&self) -> bool {
        self.kind != MarketKind::Perpetual as u8
    }

    /// A dated market at or past its expiry.
    pub fn is_expired(&self, now_ts: i64) -> bool {
        self.is_dated() && now_ts >= self.expiry_ts
    }

    /// The settlement price is fixed: positions settle at it.
    pub fn is_settled(&self) -> bool {
        self.settlement_source != SettlementSource::None as u8
    }

    /// Some account still holds base here: long lots (`open_interest`), or in a settled market short
    /// lots not settled yet (`short_interest`). A market closes only without.
    pub fn holds_base(&self) -> bool {
        self.open_interest > 0 || self.short_interest > 0
    }

    /// The settlement price is fixed, or past expiry the window's samples already determine it:
    /// positions are worth their payoff, not the oracle's price.
    pub fn price_is_known(&self, now_ts: i64) -> bool {
        self.is_settled()
            || (self.is_expired(now_ts) && self.sampler().settlement_price(&self.settlement_window(), now_ts).is_ok())
    }

    pub fn settlement_window(&self) -> expiry::Window {
        expiry::Window::new(self.expiry_ts, self.settlement_window_secs)
    }

    pub fn sampler(&self) -> expiry::Sampler {
        expiry::Sampler {
            bucket: self.sample_bucket,
            bucket_count: self.sample_bucket_count,
            bucket_sum: self.sample_bucket_sum,
            filled: self.sample_filled,
            sum_of_means: self.sample_sum_of_means,
            last_slot: self.sample_last_slot,
        }
    }

    pub fn set_sampler(&mut self, s: &expiry::Sampler) {
        self.sample_bucket = s.bucket;
        self.sample_bucket_count = s.bucket_count;
        self.sample_bucket_sum = s.bucket_sum;
        self.sample_filled = s.filled;
        self.sample_sum_of_means = s.sum_of_means;
        self.sample_last_slot = s.last_slot;
    }

    /// What the market pays per lot at expiry (dated markets).
    pub fn payoff(&self) -> expiry::Payoff {
        match self.kind() {
            MarketKind::Call => expiry::Payoff::Call { strike: self.strike },
            MarketKind::Put => expiry::Payoff::Put { strike: self.strike },
            MarketKind::Future | MarketKind::Perpetual => expiry::Payoff::Future,
        }
    }

    /// A settled market's risk: positions are worth their payoff, with no requirement (nothing
    /// can move their value any more).
    pub fn settled_risk(&self) -> MarketRisk {
        let payoff = Ticks(self.payoff().ticks(self.settlement_price));
        MarketRisk { mark: payoff, initial_bps: 0, maintenance_bps: 0, ..self.risk() }
    }

    /// One lot's value at the settlement price (quote native units), once it is fixed.
    pub fn settled_lot_value(&self) -> Result<i64> {
        require!(self.is_settled(), MeridianError::SettlementPriceNotFixed);
        Ok(self.payoff().lot_value(self.settlement_price, self.tick_size).ok_or(MeridianError::MathOverflow)?)
    }

    /// The stored kind (only `create_market` writes it, from a `MarketKind`; a code no variant has
    /// would read as dated, as `is_dated` does).
    pub fn kind(&self) -> MarketKind {
        MarketKind::from_code(self.kind).unwrap_or(MarketKind::Future)
    }

    /// The stored status; a code no variant has (none is ever written) reads as Closed.
    pub fn status(&self) -> MarketStatus {
        MarketStatus::from_code(self.status).unwrap_or(MarketStatus::Closed)
    }

    /// The stored matching mode; a code no variant has reads as Continuous, as `is_batch` does.
    pub fn mode(&self) -> MarketMode {
        MarketMode::from_code(self.mode).unwrap_or(MarketMode::Continuous)
    }

    pub fn check_can_place(&self) -> Result<()> {
        match self.status() {
            MarketStatus::Active => Ok(()),
            MarketStatus::CancelOnly => err!(MeridianError::MarketCancelOnly),
            MarketStatus::Paused => err!(MeridianError::MarketPaused),
            MarketStatus::Closed => err!(MeridianError::MarketClosed),
        }
    }

    pub fn is_batch(&self) -> bool {
        self.mode == MarketMode::Batch as u8
    }

    /// Batch: closes the collecting auction when its period is over (`slot` at or past its end):
    /// the orders placed so far are its orders, and the next auction collects from now until the
    /// next multiple of the period. Nothing changes while a closed auction awaits its clearing: the
    /// orders placed meanwhile go to the next one, which closes at the first placement or clearing
    /// after that (a late clearing never merges what it locked with orders placed since).
    pub fn close_auction_if_due(&mut self, slot: u64, now_ts: i64) {
        if self.is_batch() && self.auction_pending == 0 && slot >= self.auction_end_slot {
            self.auction_boundary_seq = self.next_order_seq;
            self.auction_pending = 1;
            self.auction_close_ts = now_ts;
            self.auction_end_slot = self.auction_end_after(slot);
        }
    }

    /// The end of the auction period that `slot` falls in (periods are aligned to multiples of
    /// their length): the first multiple of the period after `slot`.
    pub fn auction_end_after(&self, slot: u64) -> u64 {
        let period = self.auction_period_slots.max(1);
        (slot / period).saturating_add(1).saturating_mul(period)
    }

    /// Records a trade for the mark and the statistics: without an oracle (and for an option's
    /// premium) the stable mark follows the trade price slowly, so a wash trade cannot set it.
    #[inline(always)]
    pub fn record_trade(&mut self, price: Option<Ticks>, notional: u64, now_ts: i64) {
        if !self.has_oracle() || self.is_option() {
            if let Some(t) = price {
                let mark = band::stable_mark(Ticks(self.mark_price), t, now_ts.saturating_sub(self.last_trade_ts)).0;
                if mark != self.mark_price {
                    self.mark_price = mark;
                    self.refresh_band();
                }
            }
        }
        self.last_trade_ts = now_ts;
        self.volume_quote = self.volume_quote.saturating_add(notional);
    }

    /// Batch: the order `seq` is in an auction that has closed (or whose period is over) and not
    /// been cleared yet: it cannot be cancelled until the clearing, so that nobody pulls an order
    /// after seeing the auction it is in.
    pub fn in_closed_auction(&self, seq: u64, slot: u64) -> bool {
        self.is_batch()
            && ((self.auction_pending != 0 && seq < self.auction_boundary_seq) || slot >= self.auction_end_slot)
    }

    pub fn check_can_cancel(&self) -> Result<()> {
        match self.status() {
            MarketStatus::Active | MarketStatus::CancelOnly => Ok(()),
            MarketStatus::Paused => err!(MeridianError::MarketPaused),
            MarketStatus::Closed => err!(MeridianError::MarketClosed),
        }
    }
}

/// Parameters of `create_market`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    pub name: [u8; 16],
    pub kind: MarketKind,
    pub base_decimals: u8,
    pub base_lot_size: u64,
    pub tick_size: u64,
    pub min_order_lots: u64,
    pub taker_fee_ppm: u32,
    /// Negative = maker rebate (at most the taker fee).
    pub maker_fee_ppm: i32,
    pub initial_margin_bps: u32,
    pub maintenance_margin_bps: u32,
    pub crank_reward: u64,
    /// Mark price until the first trade, in ticks.
    pub initial_mark_price: u64,
    /// Orders per side the book account was sized for.
    pub book_capacity: u32,
    /// Events the queue account was sized for.
    pub event_queue_capacity: u32,
    /// Futures and options: expiry (unix time, in the future). Perpetuals: 0.
    pub expiry_ts: i64,
    /// Options: strike in ticks (> 0). Others: 0.
    pub strike: u64,
    /// Half width of the price band (bps of the reference, 1 to 10,000); 0 = the default (1,000).
    pub price_band_bps: u32,
    /// Dated markets: the settlement window (seconds, a multiple of 30 from 30 to 86,400; 0 = the
    /// default 1,800). Perpetuals: 0.
    pub settlement_window_secs: u32,
}

/// The order book account: this header, then the engine's [`BookHeader`] and node array.
/// Created by the client (system program) at its full size, initialized by `create_market`.
#[account(zero_copy)]
pub struct OrderBook {
    pub market: Pubkey,
}

/// The event queue account: this header, then the engine's [`QueueHeader`] and events.
#[account(zero_copy)]
pub struct EventQueue {
    pub market: Pubkey,
}

/// Byte offsets inside the two big accounts (after the 8-byte discriminator and the market key).
pub const BOOK_HEADER_OFFSET: usize = 8 + 32;
pub const BOOK_NODES_OFFSET: usize = BOOK_HEADER_OFFSET + core::mem::size_of::<BookHeader>();
pub const QUEUE_HEADER_OFFSET: usize = 8 + 32;
pub const QUEUE_EVENTS_OFFSET: usize = QUEUE_HEADER_OFFSET + core::mem::size_of::<QueueHeader>();

pub fn book_account_len(orders_per_side: u32) -> usize {
    BOOK_HEADER_OFFSET + meridian_engine::book::book_data_len::<meridian_engine::book::ActiveTree>(orders_per_side)
}

pub fn queue_account_len(capacity: u32) -> usize {
    QUEUE_EVENTS_OFFSET + capacity as usize * core::mem::size_of::<Event>()
}

/// Splits a book account's data into the engine's header and nodes.
pub fn book_parts(data: &mut [u8]) -> Result<(&mut BookHeader, &mut [Node])> {
    let rest = data.get_mut(BOOK_HEADER_OFFSET..).ok_or(MeridianError::InvalidBookAccount)?;
    let (header, nodes) = rest.split_at_mut(core::mem::size_of::<BookHeader>());
    let header = bytemuck::try_from_bytes_mut(header).map_err(|_| MeridianError::InvalidBookAccount)?;
    let nodes = bytemuck::try_cast_slice_mut(nodes).map_err(|_| MeridianError::InvalidBookAccount)?;
    Ok((header, nodes))
}

/// A market closes only with no resting order and no unapplied event (`MarketNotEmpty`).
pub fn require_book_and_queue_empty(book: &AccountInfo, queue: &AccountInfo) -> Result<()> {
    let mut book = book.try_borrow_mut_data()?;
    let (bh, _) = book_parts(&mut book)?;
    let mut queue = queue.try_borrow_mut_data()?;
    let (qh, _) = queue_parts(&mut queue)?;
    require!(bh.bids.count == 0 && bh.asks.count == 0 && qh.count == 0, MeridianError::MarketNotEmpty);
    Ok(())
}

/// Splits an event queue account's data into the engine's header and events.
pub fn queue_parts(data: &mut [u8]) -> Result<(&mut QueueHeader, &mut [Event])> {
    let rest = data.get_mut(QUEUE_HEADER_OFFSET..).ok_or(MeridianError::InvalidEventQueue)?;
    let (header, events) = rest.split_at_mut(core::mem::size_of::<QueueHeader>());
    let header = bytemuck::try_from_bytes_mut(header).map_err(|_| MeridianError::InvalidEventQueue)?;
    let events = bytemuck::try_cast_slice_mut(events).map_err(|_| MeridianError::InvalidEventQueue)?;
    Ok((header, events))
}
