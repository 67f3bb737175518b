//! Portfolio margin: an account's positions and resting orders on one underlying are revalued
//! together under a grid of price and volatility shocks; the worst loss, a short-option minimum and
//! a concentration add-on make the requirement. Hedges offset (a covered call needs less than its
//! legs), which a per-market rule cannot see.
//!
//! Units: money in quote native units. Each market's lot is described by a [`LotRisk`]: its value
//! now and in each scenario, per lot. The program stores an option market's `LotRisk` in the market
//! account when its oracle is refreshed (28 Black-Scholes valuations with `risk_pricing`) and builds
//! a linear market's from its mark on the fly, so an account's check only sums per-lot vectors.
//!
//! The grid ([`Grid::standard`]): spot moves of -16% .. +16% in 9 steps (as Deribit's portfolio
//! margin) x volatility multiplied by 0.7, 1 and 1.3 (implied volatility falls or rises 30%):
//! 27 scenarios. In each scenario every holding counts with the worst of: as it is, with all its
//! resting bids filled, with all its resting asks filled.

use crate::position::Position;
use crate::pricing::OptionKind;
use crate::risk_pricing;
use bytemuck::{Pod, Zeroable};

pub const SCENARIOS: usize = 27;
const YEAR_SECS: i64 = 31_536_000;
const BPS: i128 = 10_000;
/// 1.0 in the 12-decimal convention of volatilities (`pricing`, the oracle's realized vol).
const ONE_12: i128 = 1_000_000_000_000;

/// The scenario grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    pub price_shocks_bps: [i32; 9],
    pub vol_multipliers_bps: [i32; 3],
}

impl Grid {
    pub const fn standard() -> Grid {
        Grid {
            price_shocks_bps: [-1_600, -1_200, -800, -400, 0, 400, 800, 1_200, 1_600],
            vol_multipliers_bps: [7_000, 10_000, 13_000],
        }
    }
}

/// Account-level rules of the portfolio engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskParams {
    pub grid: Grid,
    /// Volatility floor and bound (12 decimals: 0.3 = 30%).
    pub vol_floor: i128,
    pub vol_max: i128,
    /// Each short option lot needs at least this fraction of its underlying's value (bps).
    pub short_option_min_bps: u32,
    /// Net delta beyond this many quote native units of underlying value per underlying ...
    pub concentration_threshold: i128,
    /// ... adds this fraction of the excess (bps).
    pub concentration_bps: u32,
    /// A holding's positive unrealized PnL counts as collateral only after this haircut (bps); each
    /// holding's on its own, so that settling one market's PnL (a loss into collateral) leaves the
    /// equity where it was.
    pub upnl_haircut_bps: u32,
    /// Initial = maintenance x this (bps, > 10,000); liquidation ends at maintenance x the other
    /// (between the two).
    pub initial_multiplier_bps: u32,
    pub liquidation_end_multiplier_bps: u32,
}

impl RiskParams {
    pub const fn standard() -> RiskParams {
        RiskParams {
            grid: Grid::standard(),
            vol_floor: ONE_12 * 3 / 10,
            vol_max: ONE_12 * 5,
            short_option_min_bps: 100,
            concentration_threshold: 1_000_000_000_000, // 1M units of a 6-decimal quote
            concentration_bps: 200,
            upnl_haircut_bps: 2_000,
            initial_multiplier_bps: 15_000,
            liquidation_end_multiplier_bps: 12_000,
        }
    }

    /// The volatility the grid is centred on: max(realized, floor), at most `vol_max`.
    pub fn volatility(&self, realized: i128) -> i128 {
        realized.max(self.vol_floor).min(self.vol_max)
    }
}

/// One lot's risk on its underlying, shared by every account holding it: its value now and in each
/// scenario (`shocked[price * 3 + vol]`), its greeks, and what a short lot's minimum is measured on.
/// Stored as is in option market accounts (hence `Pod`, all 64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct LotRisk {
    pub now: i64,
    pub shocked: [i64; SCENARIOS],
    /// The underlying's value of one lot.
    pub underlying_value: i64,
    /// Value change of one lot for a 100% rise, to first order (delta x underlying value).
    pub delta_value: i64,
    /// Change of `delta_value` for a 1% rise.
    pub gamma_1pct: i64,
    /// Value change per volatility point and per day.
    pub vega_1pt: i64,
    pub theta_1d: i64,
    /// 1 for an option (the short-option minimum applies), 0 for a linear lot.
    pub is_option: u64,
    /// `max |now - shocked[s]|` (i64::MAX if it does not fit): lets an account's check take the
    /// 64-bit path without testing every scenario.
    pub max_move: i64,
}

impl LotRisk {
    /// This lot with `max_move` computed from its values (after building or editing them).
    pub fn with_max_move(mut self) -> LotRisk {
        self.max_move = self
            .shocked
            .iter()
            .map(|v| self.now.checked_sub(*v).map_or(i64::MAX, |d| d.checked_abs().unwrap_or(i64::MAX)))
            .max()
            .unwrap_or(0);
        self
    }

    /// A linear lot (perpetual, future) worth `per_lot` (mark x tick size). A shock moves it by its
    /// fraction of `per_lot`, rounded away from zero (the move that hurts is never understated).
    pub fn linear(per_lot: i64, grid: &Grid) -> Option<LotRisk> {
        let mut shocked = [0i64; SCENARIOS];
        let mut max_move = 0;
        for (pi, shock) in grid.price_shocks_bps.iter().enumerate() {
            let magnitude = i64::try_from(bps_of(per_lot.unsigned_abs(), shock.unsigned_abs(), true)?).ok()?;
            let value = per_lot.checked_add(if *shock < 0 {
                -magnitude
            } else if *shock > 0 {
                magnitude
            } else {
                0
            })?;
            shocked[pi * 3..pi * 3 + 3].fill(value);
            max_move = max_move.max(magnitude);
        }
        Some(LotRisk {
            now: per_lot,
            shocked,
            underlying_value: per_lot,
            delta_value: per_lot,
            gamma_1pct: 0,
            vega_1pt: 0,
            theta_1d: 0,
            is_option: 0,
            max_move,
        })
    }

    /// A European option lot: `spot` and `strike` are the underlying's and the strike's value of one
    /// lot (quote native units), `vol` the grid's centre (12 decimals, [`RiskParams::volatility`]).
    pub fn option(
        kind: OptionKind,
        spot: i64,
        strike: i64,
        vol: i128,
        now_ts: i64,
        expiry_ts: i64,
        grid: &Grid,
    ) -> Option<LotRisk> {
        let secs = expiry_ts.saturating_sub(now_ts).max(0);
        // in 64 bits below 2^35 seconds (~1,000 years): on SBF a 128-bit division is a libcall
        let years = if secs < 1 << 35 {
            (((secs as u64) << risk_pricing::Q) / YEAR_SECS as u64) as i64 // 0 <= secs < 2^35: exact
        } else {
            i64::try_from(((secs as i128) << risk_pricing::Q) / YEAR_SECS as i128).ok()?
        };
        let terms = risk_pricing::OptionTerms::new(kind, strike, years)?;
        // each volatility's and each spot's share of d1 once: 3 + 9, not 27 of each
        let mut vols = [None; 3];
        for (v, m) in vols.iter_mut().zip(grid.vol_multipliers_bps) {
            let scaled = match u64::try_from(vol).ok().and_then(|v| v.checked_mul(m.unsigned_abs() as u64)) {
                Some(x) if m > 0 => (x / BPS as u64) as i128, // the same truncation as in 128 bits
                _ => vol.checked_mul(m as i128)? / BPS,
            };
            *v = Some(terms.at_vol(risk_pricing::from_12_decimals(scaled)?)?);
        }
        let mut shocked = [0i64; SCENARIOS];
        for (pi, shock) in grid.price_shocks_bps.iter().enumerate() {
            // rounded away from the unshocked spot: every move is at least its fraction
            let factor = u32::try_from(10_000 + i64::from(*shock)).ok()?; // a shock below -100% has no price
            let spot_p = i64::try_from(bps_of(spot.unsigned_abs(), factor, *shock > 0)?).ok()?.max(1);
            let ln_spot = risk_pricing::ln_int(spot_p)?;
            for (vi, v) in vols.iter().enumerate() {
                shocked[pi * 3 + vi] = terms.value_at(spot_p, ln_spot, v.as_ref()?)?;
            }
        }
        let g = terms.greeks(spot, risk_pricing::from_12_decimals(vol)?)?;
        Some(
            LotRisk {
                now: g.value,
                shocked,
                underlying_value: spot,
                // |delta| <= ONE (a CDF): at most |spot|, fits
                delta_value: ((spot as i128 * g.delta as i128) >> risk_pricing::Q) as i64,
                gamma_1pct: g.gamma_1pct,
                vega_1pt: g.vega_1pt,
                theta_1d: g.theta_1d,
                is_option: 1,
                max_move: 0,
            }
            .with_max_move(),
        )
    }

    /// The lowest and highest of its values (now and in every scenario): when its inputs are stale a
    /// holding's equity is taken at whichever end is worse for it (`Portfolio::add_in_band`).
    pub fn range(&self) -> (i64, i64) {
        self.shocked.iter().fold((self.now, self.now), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
    }
}

/// v x bps / 10,000, rounded up or down; in u64 when the product fits (on-chain a 128-bit
/// division is a libcall of hundreds of CU).
#[inline(always)]
fn bps_of(v: u64, bps: u32, up: bool) -> Option<u64> {
    let round = if up { 9_999 } else { 0 };
    if v < 1 << 48 && bps < 1 << 15 {
        return Some(v.wrapping_mul(bps as u64).wrapping_add(round) / 10_000); // below 2^63: exact
    }
    u64::try_from((v as u128 * bps as u128 + round as u128) / 10_000).ok()
}

/// v x bps / 10,000 for an amount v >= 0, rounded down or up (requirements round up).
#[inline(always)]
fn i128_bps(v: i128, bps: u32, up: bool) -> Option<i128> {
    let round = if up { 9_999 } else { 0 };
    if (0..1 << 48).contains(&v) && bps < 1 << 15 {
        return Some(((v as i64).wrapping_mul(bps as i64).wrapping_add(round) / 10_000) as i128);
        // v in [0, 2^48)
    }
    Some((v.checked_mul(bps as i128)? + round as i128) / BPS)
}

/// One market's holding: position, cash (less unsettled funding) and resting orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holding {
    pub base_lots: i64,
    pub quote_balance: i64,
    pub bid_lots: u64,
    pub ask_lots: u64,
    pub bid_notional: u64,
    pub ask_notional: u64,
}

impl Holding {
    /// `p` with `funding_owed` (unsettled funding, positive = owed by the account) taken off its cash.
    pub fn of(p: &Position, funding_owed: i64) -> Option<Holding> {
        Some(Holding {
            base_lots: p.base_lots,
            quote_balance: p.quote_balance.checked_sub(funding_owed)?,
            bid_lots: p.bid_lots,
            ask_lots: p.ask_lots,
            bid_notional: p.bid_notional,
            ask_notional: p.ask_notional,
        })
    }

    /// Cash + position at `per_lot`, and the loss (never the gain) resting orders would book if
    /// filled at their own prices.
    pub fn equity(&self, per_lot: i64) -> Option<i128> {
        // ordinary sizes (lots and per-lot value below 2^30, cash below 2^60): exact in i64
        const SMALL: u64 = 1 << 30;
        const SMALL_VALUE: u64 = 1 << 60;
        if per_lot.unsigned_abs() < SMALL
            && self.base_lots.unsigned_abs() < SMALL
            && self.bid_lots < SMALL
            && self.ask_lots < SMALL
            && self.quote_balance.unsigned_abs() < SMALL_VALUE
            && self.bid_notional < SMALL_VALUE
            && self.ask_notional < SMALL_VALUE
        {
            // products below 2^60, sums of four below 2^62: wrapping ops are exact (and unchecked)
            let bid_fill = (self.bid_lots as i64).wrapping_mul(per_lot).wrapping_sub(self.bid_notional as i64);
            let ask_fill = (self.ask_notional as i64).wrapping_sub((self.ask_lots as i64).wrapping_mul(per_lot));
            let value = self.base_lots.wrapping_mul(per_lot);
            return Some(
                self.quote_balance.wrapping_add(value).wrapping_add(bid_fill.min(0)).wrapping_add(ask_fill.min(0))
                    as i128,
            );
        }
        let v = |lots: i128| lots.checked_mul(per_lot as i128);
        let bid_fill = v(self.bid_lots as i128)? - self.bid_notional as i128;
        let ask_fill = self.ask_notional as i128 - v(self.ask_lots as i128)?;
        Some(self.quote_balance as i128 + v(self.base_lots as i128)? + bid_fill.min(0) + ask_fill.min(0))
    }

    /// The extreme positions the order cases reach: all bids filled (highest), all asks (lowest).
    fn extremes(&self) -> (i128, i128) {
        let base = self.base_lots as i128;
        (base + self.bid_lots as i128, base - self.ask_lots as i128)
    }
}

/// a x b in i64 when both fit 32 bits (native on-chain), else checked i128.
#[inline(always)]
fn product(a: i128, b: i64) -> Option<i128> {
    // round trips through i32: true iff both fit 32 bits, so `a as i64` below is exact
    if a as i32 as i128 == a && b as i32 as i64 == b {
        Some((a as i64).wrapping_mul(b) as i128)
    } else {
        a.checked_mul(b as i128)
    }
}

/// Scenario losses and add-on inputs of one underlying's holdings, accumulated holding by holding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnderlyingRisk {
    /// Loss in each scenario (negative: gain): `loss[s] + fast_loss[s]`.
    loss: [i128; SCENARIOS],
    /// Ordinary holdings' part, in i64 (on-chain a 128-bit add per scenario costs several times a
    /// 64-bit one): at most `FAST_ADDS` contributions below 2^58 each, so it cannot overflow.
    fast_loss: [i64; SCENARIOS],
    fast_adds: u32,
    /// Some holding took the 128-bit path.
    wide: bool,
    pub short_option_min: i128,
    /// Net delta value (position lots only).
    pub delta_value: i128,
}

const FAST_ADDS: u32 = 16;

impl Default for UnderlyingRisk {
    fn default() -> Self {
        UnderlyingRisk {
            loss: [0; SCENARIOS],
            fast_loss: [0; SCENARIOS],
            fast_adds: 0,
            wide: false,
            short_option_min: 0,
            delta_value: 0,
        }
    }
}

impl UnderlyingRisk {
    /// The loss in scenario `s`.
    pub fn loss(&self, s: usize) -> i128 {
        self.loss[s] + self.fast_loss[s] as i128
    }

    pub fn add(&mut self, h: &Holding, r: &LotRisk, p: &RiskParams) -> Option<()> {
        let (high, low) = h.extremes();
        // the loss lots x (now - shocked) is linear in lots: its worst order case is an extreme.
        // Ordinary sizes (extremes below 2^23 lots, moves below 2^35 per lot) multiply exactly in
        // i64, each contribution below 2^58.
        const LOTS: i128 = 1 << 23;
        const MOVE: i64 = 1 << 35;
        if self.fast_adds < FAST_ADDS && high.abs() < LOTS && low.abs() < LOTS && r.max_move < MOVE {
            let (high, low) = (high as i64, low as i64); // |.| < 2^23: checked above
            for (loss, shocked) in self.fast_loss.iter_mut().zip(&r.shocked) {
                // exact: |now - shocked| <= max_move, products below 2^58, sums below 2^62
                let drop = r.now.wrapping_sub(*shocked);
                *loss = loss.wrapping_add(if drop > 0 { high } else { low }.wrapping_mul(drop));
            }
            self.fast_adds += 1;
        } else {
            self.wide = true;
            for (loss, shocked) in self.loss.iter_mut().zip(&r.shocked) {
                let drop = r.now.checked_sub(*shocked)?;
                *loss = loss.checked_add(product(if drop > 0 { high } else { low }, drop)?)?;
            }
        }
        if r.is_option != 0 {
            // every lot that can end up short (position and resting asks) needs the minimum
            let short = (-low).max(0);
            if short > 0 {
                let min = i128_bps(product(short, r.underlying_value.max(0))?, p.short_option_min_bps, true)?;
                self.short_option_min = self.short_option_min.checked_add(min)?;
            }
        }
        self.delta_value = self.delta_value.checked_add(product(h.base_lots as i128, r.delta_value)?)?;
        Some(())
    }

    /// Worst scenario loss + short-option minimum + concentration add-on.
    pub fn requirement(&self, p: &RiskParams) -> Option<i128> {
        let worst = if self.wide {
            (0..SCENARIOS).map(|s| self.loss(s)).fold(0, i128::max)
        } else {
            self.fast_loss.iter().copied().fold(0, i64::max) as i128
        };
        let excess = (self.delta_value.abs() - p.concentration_threshold).max(0);
        let add_on = if excess > 0 { i128_bps(excess, p.concentration_bps, true)? } else { 0 };
        worst.checked_add(self.short_option_min)?.checked_add(add_on)
    }
}

/// The portfolio view of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioHealth {
    /// Collateral + unrealized PnL at marks (positive PnL after the haircut).
    pub equity: i128,
    pub initial: i128,
    pub maintenance: i128,
    pub liquidation_end: i128,
}

/// An account's holdings grouped by underlying (`K`: the program uses the oracle's address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Portfolio<K> {
    /// Unrealized PnL of every holding, before the haircut...
    pub upnl: i128,
    /// ...and of those in profit (what the haircut applies to).
    pub profit: i128,
    pub groups: Vec<(K, UnderlyingRisk)>,
}

impl<K: PartialEq + Copy> Portfolio<K> {
    pub fn with_capacity(n: usize) -> Self {
        Portfolio { upnl: 0, profit: 0, groups: Vec::with_capacity(n) }
    }

    pub fn add(&mut self, underlying: K, h: &Holding, r: &LotRisk, p: &RiskParams) -> Option<()> {
        self.add_in_band(underlying, h, r, (r.now, r.now), p)
    }

    /// `add` with the lot's value known only within `band` (low, high): the holding's equity is the
    /// worse of the two ends (it is concave in the value: a position gains on one side, resting
    /// orders lose on either), the scenario losses are measured as usual.
    pub fn add_in_band(
        &mut self,
        underlying: K,
        h: &Holding,
        r: &LotRisk,
        band: (i64, i64),
        p: &RiskParams,
    ) -> Option<()> {
        let equity = if band.0 == band.1 { h.equity(band.0)? } else { h.equity(band.0)?.min(h.equity(band.1)?) };
        self.upnl = self.upnl.checked_add(equity)?;
        if equity > 0 {
            self.profit = self.profit.checked_add(equity)?;
        }
        let i = match self.groups.iter().position(|(k, _)| *k == underlying) {
            Some(i) => i,
            None => {
                self.groups.push((underlying, UnderlyingRisk::default()));
                self.groups.len() - 1
            }
        };
        self.groups[i].1.add(h, r, p)
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Equity (with `collateral`; the profit of holdings in profit after the haircut, rounded down)
    /// and the requirements.
    pub fn health(&self, collateral: i128, p: &RiskParams) -> Option<PortfolioHealth> {
        let mut maintenance = 0i128;
        for (_, g) in &self.groups {
            maintenance = maintenance.checked_add(g.requirement(p)?)?;
        }
        let haircut = self.profit.checked_sub(i128_bps(self.profit, 10_000 - p.upnl_haircut_bps, false)?)?;
        Some(PortfolioHealth {
            equity: collateral.checked_add(self.upnl)?.checked_sub(haircut)?,
            initial: i128_bps(maintenance, p.initial_multiplier_bps, true)?,
            maintenance,
            liquidation_end: i128_bps(maintenance, p.liquidation_end_multiplier_bps, true)?,
        })
    }
}

/// Net greeks of holdings on one underlying, quote native units: delta value (for a 100% rise, to
/// first order), its change for a 1% rise, value per volatility point, per day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioGreeks {
    pub delta_value: i128,
    pub gamma_1pct: i128,
    pub vega_1pt: i128,
    pub theta_1d: i128,
}

pub fn greeks<'a>(holdings: impl IntoIterator<Item = (&'a Holding, &'a LotRisk)>) -> PortfolioGreeks {
    let mut t = PortfolioGreeks::default();
    for (h, r) in holdings {
        let lots = h.base_lots as i128;
        t.delta_value += r.delta_value as i128 * lots;
        t.gamma_1pct += r.gamma_1pct as i128 * lots;
        t.vega_1pt += r.vega_1pt as i128 * lots;
        t.theta_1d += r.theta_1d as i128 * lots;
    }
    t
}

/// Health of `collateral` plus holdings grouped by underlying (tests and scans).
pub fn portfolio_health(
    collateral: i64,
    groups: &[Vec<(Holding, LotRisk)>],
    p: &RiskParams,
) -> Option<PortfolioHealth> {
    let mut portfolio = Portfolio::with_capacity(groups.len());
    for (i, holdings) in groups.iter().enumerate() {
        for (h, r) in holdings {
            portfolio.add(i, h, r, p)?;
        }
    }
    portfolio.health(collateral as i128, p)
}

#[cfg(test)]
mod tests;
