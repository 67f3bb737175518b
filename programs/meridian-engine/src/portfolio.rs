//! Portfolio margin: an account's positions and resting orders on one underlying are revalued
//! together under a grid of price and volatility shocks; the worst loss, a short-option minimum and
//! a concentration add-on make the requirement. Hedges offset (a covered call needs less than its
//! legs), which the per-market rule cannot see.
//!
//! Units: prices (spot, strike) and volatility are `pricing` fixed point (12 decimals: quote
//! currency per whole unit of the underlying; 0.6 = 60%); money is quote native units (i128).
//!
//! The grid ([`Grid::standard`]): spot moves of -16% .. +16% in 9 steps (as Deribit's portfolio
//! margin) x volatility multiplied by 0.7, 1 and 1.3 (implied volatility falls or rises 30%):
//! 27 scenarios. In each scenario every holding counts with the worst of: as it is, with all its
//! resting bids filled, with all its resting asks filled.

use crate::pricing::{self, OptionInputs, OptionKind, ONE};

pub const SCENARIOS: usize = 27;
const YEAR_SECS: i128 = 31_536_000;
const BPS: i128 = 10_000;

/// What a market's lot is: a linear claim (perpetual, future) or an option on the underlying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instrument {
    Linear,
    Option { kind: OptionKind, strike: i128, expiry_ts: i64 },
}

/// Converts a price per whole underlying unit into quote native units per lot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LotScale {
    pub quote_decimals: u8,
    pub base_decimals: u8,
    /// Atoms of the underlying per lot.
    pub base_lot_size: u64,
}

impl LotScale {
    /// `price` (12 decimals) x lots, in quote native units: price x 10^qd x lot x lots / 10^(bd+12).
    pub fn value(&self, price: i128, lots: i128) -> Option<i128> {
        let num = price.checked_mul(lots)?.checked_mul(self.base_lot_size as i128)?;
        let exp = self.base_decimals as i32 + pricing_decimals() - self.quote_decimals as i32;
        if exp >= 0 {
            num.checked_div(10i128.checked_pow(exp as u32)?)
        } else {
            num.checked_mul(10i128.checked_pow(exp.unsigned_abs())?)
        }
    }

    /// Underlying units per lot, 12 decimals.
    pub fn units_per_lot(&self) -> Option<i128> {
        let exp = self.base_decimals as i32 - pricing_decimals();
        let lot = self.base_lot_size as i128;
        if exp >= 0 {
            lot.checked_div(10i128.checked_pow(exp as u32)?)
        } else {
            lot.checked_mul(10i128.checked_pow(exp.unsigned_abs())?)
        }
    }
}

const fn pricing_decimals() -> i32 {
    12
}

/// One market's holding: position, cash and resting orders (the engine `Position`'s fields that
/// matter here), with what the lot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holding {
    pub instrument: Instrument,
    pub scale: LotScale,
    pub base_lots: i64,
    /// Cash from fills and settled funding, native units; minus unsettled funding.
    pub quote_balance: i64,
    pub bid_lots: u64,
    pub ask_lots: u64,
    pub bid_notional: u64,
    pub ask_notional: u64,
    /// The market's own mark price (12 decimals) for the equity of this holding: the oracle for a
    /// linear market, the option's book/theoretical mark for an option.
    pub mark: i128,
}

/// The underlying as the risk engine sees it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Underlying {
    pub spot: i128,
    /// Volatility input: max(realized EWMA, floor), within bounds ([`RiskParams::volatility`]).
    pub vol: i128,
    pub now_ts: i64,
}

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
    /// Volatility floor and bounds (12 decimals).
    pub vol_floor: i128,
    pub vol_max: i128,
    /// Each short option lot needs at least this fraction of its underlying's value (bps).
    pub short_option_min_bps: u32,
    /// Net delta beyond this many quote native units of underlying value per underlying ...
    pub concentration_threshold: i128,
    /// ... adds this fraction of the excess (bps).
    pub concentration_bps: u32,
    /// Positive unrealized PnL counts as collateral only after this haircut (bps).
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
            vol_floor: ONE * 3 / 10,
            vol_max: ONE * 5,
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

/// The portfolio view of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioHealth {
    /// Collateral + unrealized PnL at marks (positive PnL after the haircut).
    pub equity: i128,
    pub initial: i128,
    pub maintenance: i128,
    pub liquidation_end: i128,
}

/// Sensitivities of an account's holdings on one underlying, in quote native units: per 1.00 move
/// of the underlying price (delta: underlying units, 12 decimals), per vol point, per day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioGreeks {
    /// Net underlying units (12 decimals).
    pub delta: i128,
    /// Change of delta per 1.00 of price (12 decimals, units per price unit).
    pub gamma: i128,
    /// Value change per vol point (native units).
    pub vega: i128,
    /// Value change per day (native units).
    pub theta: i128,
}

/// Time to expiry in years (12 decimals), 0 once expired.
fn years_to(expiry_ts: i64, now_ts: i64) -> i128 {
    expiry_ts.saturating_sub(now_ts).max(0) as i128 * ONE / YEAR_SECS
}

/// Per-lot value (native units) of an instrument at `spot` and `vol`.
pub fn lot_value(i: &Instrument, scale: &LotScale, spot: i128, vol: i128, now_ts: i64) -> Option<i128> {
    let price = match *i {
        Instrument::Linear => spot,
        Instrument::Option { kind, strike, expiry_ts } => {
            let years = years_to(expiry_ts, now_ts);
            pricing::black_scholes(&OptionInputs { kind, spot, strike, vol, rate: 0, years })?.price
        }
    };
    scale.value(price, 1)
}

/// One lot's risk on its underlying, computed once per market and scan (or per oracle refresh
/// on-chain) and shared by every account holding it: its value now and in each scenario, its
/// greeks, and what a short lot's minimum is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LotRisk {
    pub now: i128,
    pub shocked: [i128; SCENARIOS],
    /// Delta and gamma in underlying units (12 decimals) per lot; vega, theta native per lot.
    pub greeks: PortfolioGreeks,
    pub is_option: bool,
    /// The underlying's value of one lot, native units.
    pub underlying_value: i128,
}

/// The per-lot risk of an instrument on underlying `u` over `grid`.
pub fn lot_risk(instrument: &Instrument, scale: &LotScale, u: &Underlying, grid: &Grid) -> Option<LotRisk> {
    let mut shocked = [0i128; SCENARIOS];
    for (pi, p) in grid.price_shocks_bps.iter().enumerate() {
        let spot = (u.spot.checked_mul(BPS + *p as i128)? / BPS).max(1);
        for (vi, m) in grid.vol_multipliers_bps.iter().enumerate() {
            let vol = u.vol.checked_mul(*m as i128)? / BPS;
            shocked[pi * 3 + vi] = lot_value(instrument, scale, spot, vol, u.now_ts)?;
        }
    }
    let units = scale.units_per_lot()?;
    let greeks = match *instrument {
        Instrument::Linear => PortfolioGreeks { delta: units, ..PortfolioGreeks::default() },
        Instrument::Option { kind, strike, expiry_ts } => {
            let years = years_to(expiry_ts, u.now_ts);
            let g = pricing::black_scholes(&OptionInputs { kind, spot: u.spot, strike, vol: u.vol, rate: 0, years })?;
            PortfolioGreeks {
                delta: g.delta.checked_mul(units)? / ONE,
                gamma: g.gamma.checked_mul(units)? / ONE,
                vega: scale.value(g.vega / 100, 1)?,
                theta: scale.value(g.theta / 365, 1)?,
            }
        }
    };
    Some(LotRisk {
        now: lot_value(instrument, scale, u.spot, u.vol, u.now_ts)?,
        shocked,
        greeks,
        is_option: matches!(instrument, Instrument::Option { .. }),
        underlying_value: scale.value(u.spot, 1)?,
    })
}

/// The three order cases: positions as they are, plus all bids filled, minus all asks filled.
fn case_lots(h: &Holding, case: usize) -> i128 {
    let base = h.base_lots as i128;
    match case {
        0 => base,
        1 => base + h.bid_lots as i128,
        _ => base - h.ask_lots as i128,
    }
}

/// Worst loss over the grid for one underlying's holdings. In each scenario every holding counts
/// with the worst of its order cases (as it is, its bids filled, or its asks filled), so resting
/// orders in different markets can never hide each other's risk.
pub fn worst_loss(holdings: &[(&Holding, &LotRisk)]) -> Option<i128> {
    let mut worst = 0i128;
    for s in 0..SCENARIOS {
        let mut loss = 0i128;
        for (h, r) in holdings {
            let per_lot = r.now - r.shocked[s];
            let mut holding_worst = i128::MIN;
            for case in 0..3 {
                holding_worst = holding_worst.max(case_lots(h, case).checked_mul(per_lot)?);
            }
            loss = loss.checked_add(holding_worst)?;
        }
        worst = worst.max(loss);
    }
    Some(worst)
}

/// Short option minimum and concentration add-on for one underlying.
fn add_ons(holdings: &[(&Holding, &LotRisk)], u: &Underlying, p: &RiskParams) -> Option<i128> {
    let mut short_min = 0i128;
    let mut net_delta = 0i128; // underlying units, 12 decimals
    for (h, r) in holdings {
        if r.is_option {
            // every lot that can end up short (position and resting asks) needs the minimum
            let worst_short = (h.base_lots as i128 - h.ask_lots as i128).min(0).abs();
            short_min += worst_short * r.underlying_value * p.short_option_min_bps as i128 / BPS;
        }
        net_delta += r.greeks.delta.checked_mul(h.base_lots as i128)?;
    }
    let quote_decimals = holdings.first().map_or(0, |(h, _)| h.scale.quote_decimals);
    let delta_value = quote_native(net_delta.abs().checked_mul(u.spot)? / ONE, quote_decimals)?;
    let excess = (delta_value - p.concentration_threshold).max(0);
    Some(short_min + excess * p.concentration_bps as i128 / BPS)
}

/// An amount of quote currency (12 decimals) in native units.
fn quote_native(amount: i128, quote_decimals: u8) -> Option<i128> {
    let exp = pricing_decimals() - quote_decimals as i32;
    if exp >= 0 {
        amount.checked_div(10i128.checked_pow(exp as u32)?)
    } else {
        amount.checked_mul(10i128.checked_pow(exp.unsigned_abs())?)
    }
}

/// Net greeks of the holdings on one underlying.
pub fn greeks_cached(holdings: &[(&Holding, &LotRisk)]) -> PortfolioGreeks {
    let mut t = PortfolioGreeks::default();
    for (h, r) in holdings {
        let lots = h.base_lots as i128;
        t.delta += r.greeks.delta * lots;
        t.gamma += r.greeks.gamma * lots;
        t.vega += r.greeks.vega * lots;
        t.theta += r.greeks.theta * lots;
    }
    t
}

/// Net greeks of the holdings on one underlying (lot risks computed here).
pub fn greeks(holdings: &[Holding], u: &Underlying) -> Option<PortfolioGreeks> {
    let risks = holdings
        .iter()
        .map(|h| lot_risk(&h.instrument, &h.scale, u, &Grid::standard()))
        .collect::<Option<Vec<_>>>()?;
    let pairs: Vec<(&Holding, &LotRisk)> = holdings.iter().zip(&risks).collect();
    Some(greeks_cached(&pairs))
}

/// Equity and requirements from holdings whose lot risks are already known (a scan over many
/// accounts shares them per market).
pub fn portfolio_health_cached(
    collateral: i64,
    groups: &[(Underlying, Vec<(&Holding, &LotRisk)>)],
    p: &RiskParams,
) -> Option<PortfolioHealth> {
    let mut upnl = 0i128;
    let mut maintenance = 0i128;
    for (u, holdings) in groups {
        for (h, _) in holdings {
            let value = h.scale.value(h.mark, h.base_lots as i128)?;
            // resting orders book their loss (never their gain) at once, as in the per-market rule
            let bid_fill = h.scale.value(h.mark, h.bid_lots as i128)? - h.bid_notional as i128;
            let ask_fill = h.ask_notional as i128 - h.scale.value(h.mark, h.ask_lots as i128)?;
            upnl += h.quote_balance as i128 + value + bid_fill.min(0) + ask_fill.min(0);
        }
        maintenance += worst_loss(holdings)? + add_ons(holdings, u, p)?;
    }
    let upnl = if upnl > 0 { upnl * (BPS - p.upnl_haircut_bps as i128) / BPS } else { upnl };
    Some(PortfolioHealth {
        equity: collateral as i128 + upnl,
        initial: maintenance * p.initial_multiplier_bps as i128 / BPS,
        maintenance,
        liquidation_end: maintenance * p.liquidation_end_multiplier_bps as i128 / BPS,
    })
}

/// Equity, initial, maintenance and liquidation-end requirements of an account: `collateral` plus
/// its holdings grouped by underlying (lot risks computed here).
pub fn portfolio_health(collateral: i64, groups: &[(Underlying, Vec<Holding>)], p: &RiskParams) -> Option<PortfolioHealth> {
    let mut risks = Vec::new();
    for (u, holdings) in groups {
        let r = holdings.iter().map(|h| lot_risk(&h.instrument, &h.scale, u, &p.grid)).collect::<Option<Vec<_>>>()?;
        risks.push(r);
    }
    let cached: Vec<(Underlying, Vec<(&Holding, &LotRisk)>)> =
        groups.iter().zip(&risks).map(|((u, hs), rs)| (*u, hs.iter().zip(rs).collect())).collect();
    portfolio_health_cached(collateral, &cached, p)
}

#[cfg(test)]
mod tests;
