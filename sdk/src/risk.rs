//! Account health off-chain, with the very engine code the program runs.

use crate::client::{Client, Result};
use meridian::{MarginAccount, Market};
use meridian_engine::margin::{self, Health, MarketRisk};
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

pub use meridian::risk::Valuation;

/// Health of `account` given the markets of its positions (by index), at each market's mark.
pub fn health_of(account: &MarginAccount, markets: &BTreeMap<u16, Market>) -> Option<Health> {
    health_with(account, markets, Valuation::Mark)
}

/// Health with a choice of valuation: `Valuation::Conservative { now_slot }` is how `withdraw` and
/// order placement judge an account (positions in markets whose oracle is stale or degraded at the
/// conservative end of the last confidence band). `ConservativeNow` needs the cluster's slot: None.
pub fn health_with(account: &MarginAccount, markets: &BTreeMap<u16, Market>, valuation: Valuation) -> Option<Health> {
    let mut pairs: Vec<(meridian_engine::position::Position, MarketRisk)> = Vec::new();
    for p in account.positions_in_use() {
        let m = markets.get(&p.market_index)?;
        let r = match valuation {
            Valuation::Mark => m.risk(),
            Valuation::Conservative { now_slot } => m.conservative_risk(p.base_lots, now_slot),
            Valuation::ConservativeNow => return None,
        };
        pairs.push((*p, r));
    }
    Some(margin::health(account.collateral, pairs.iter().map(|(p, r)| (p, r))))
}

impl Client {
    /// The markets an account has positions in, fetched by index.
    pub async fn markets_of(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<BTreeMap<u16, Market>> {
        let mut out = BTreeMap::new();
        for p in account.positions_in_use() {
            let address = crate::pda::market(exchange, p.market_index).0;
            out.insert(p.market_index, self.market(&address).await?);
        }
        Ok(out)
    }

    /// The account's health as the program would compute it now.
    pub async fn health(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<Health> {
        let markets = self.markets_of(exchange, account).await?;
        Ok(health_of(account, &markets).expect("every position's market was fetched"))
    }
}

/// The portfolio engine's view of an account (`meridian_engine::portfolio`): equity, initial,
/// maintenance and liquidation-end requirements, and net greeks per underlying. The program still
/// enforces the per-market rule (`health_of`); this is the same engine code it will run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortfolioView {
    pub health: portfolio::PortfolioHealth,
    /// Per underlying: its name (the oracle's, or the market's when it has none) and greeks.
    pub greeks: Vec<(String, portfolio::PortfolioGreeks)>,
}

use meridian::OracleAggregate;
use meridian_engine::portfolio;
use meridian_engine::pricing::OptionKind;

/// A price in ticks of market `m` as 12-decimal quote per whole underlying unit.
pub fn ticks_to_price(m: &Market, ticks: u64) -> Option<i128> {
    let num = (ticks as i128).checked_mul(m.tick_size as i128)?.checked_mul(10i128.checked_pow(m.base_decimals as u32 + 12)?)?;
    num.checked_div((m.base_lot_size as i128).checked_mul(10i128.checked_pow(m.quote_decimals as u32)?)?)
}

/// The engine holding of a position in market `m` (unsettled funding taken off its cash).
pub fn holding_of(m: &Market, p: &meridian_engine::position::Position) -> Option<portfolio::Holding> {
    let instrument = match m.kind {
        2 | 3 => portfolio::Instrument::Option {
            kind: if m.kind == 2 { OptionKind::Call } else { OptionKind::Put },
            strike: ticks_to_price(m, m.strike)?,
            expiry_ts: m.expiry_ts,
        },
        _ => portfolio::Instrument::Linear,
    };
    let funding = meridian_engine::funding::pending(p, m.funding_index())?;
    Some(portfolio::Holding {
        instrument,
        scale: portfolio::LotScale {
            quote_decimals: m.quote_decimals,
            base_decimals: m.base_decimals,
            base_lot_size: m.base_lot_size,
        },
        base_lots: p.base_lots,
        quote_balance: p.quote_balance.checked_sub(funding)?,
        bid_lots: p.bid_lots,
        ask_lots: p.ask_lots,
        bid_notional: p.bid_notional,
        ask_notional: p.ask_notional,
        mark: ticks_to_price(m, m.mark_price)?,
    })
}

/// The portfolio view of `account`: positions grouped by their market's oracle (the underlying);
/// spot = the oracle's price, volatility = `params.volatility(realized)`. A market without an
/// oracle is its own underlying at its mark, at the volatility floor.
pub fn portfolio_of(
    account: &MarginAccount,
    markets: &BTreeMap<u16, Market>,
    oracles: &BTreeMap<Pubkey, OracleAggregate>,
    now_ts: i64,
    params: &portfolio::RiskParams,
) -> Option<PortfolioView> {
    let mut groups: BTreeMap<Pubkey, (String, portfolio::Underlying, Vec<portfolio::Holding>)> = BTreeMap::new();
    for p in account.positions_in_use() {
        let m = markets.get(&p.market_index)?;
        let h = holding_of(m, p)?;
        let key = if m.has_oracle() {
            m.oracle
        } else {
            // a market without an oracle is its own underlying: key it by its full index
            let mut k = [0u8; 32];
            k[..2].copy_from_slice(&p.market_index.to_le_bytes());
            Pubkey::new_from_array(k)
        };
        let entry = groups.entry(key).or_insert_with(|| {
            let (name, spot, vol) = match oracles.get(&m.oracle) {
                Some(o) => (crate::state::market_name_bytes(&o.name), o.price as i128, params.volatility(o.realized_vol as i128)),
                None => (crate::state::market_name(m), h.mark, params.volatility(0)),
            };
            (name, portfolio::Underlying { spot, vol, now_ts }, Vec::new())
        });
        entry.2.push(h);
    }
    let list: Vec<(portfolio::Underlying, Vec<portfolio::Holding>)> =
        groups.values().map(|(_, u, hs)| (*u, hs.clone())).collect();
    let health = portfolio::portfolio_health(account.collateral, &list, params)?;
    let mut greeks = Vec::new();
    for (name, u, hs) in groups.values() {
        greeks.push((name.clone(), portfolio::greeks(hs, u)?));
    }
    Some(PortfolioView { health, greeks })
}

impl Client {
    /// The account's portfolio view now (markets, their oracles and the cluster clock fetched).
    pub async fn portfolio(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<Option<PortfolioView>> {
        let markets = self.markets_of(exchange, account).await?;
        let mut oracles = BTreeMap::new();
        for m in markets.values().filter(|m| m.has_oracle()) {
            if let std::collections::btree_map::Entry::Vacant(e) = oracles.entry(m.oracle) {
                e.insert(self.oracle(&m.oracle).await?);
            }
        }
        let now = self.clock().await?.unix_timestamp;
        Ok(portfolio_of(account, &markets, &oracles, now, &portfolio::RiskParams::standard()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc_perp() -> Market {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        m.kind = 0;
        m.base_decimals = 8;
        m.quote_decimals = 6;
        m.base_lot_size = 10_000;
        m.tick_size = 10;
        m.mark_price = 650_000;
        m.initial_margin_bps = 1_000;
        m.maintenance_margin_bps = 500;
        m
    }

    #[test]
    fn market_prices_convert_and_a_long_needs_its_16_percent() {
        let m = btc_perp();
        assert_eq!(ticks_to_price(&m, 650_000), Some(65_000 * 1_000_000_000_000));
        let mut account: MarginAccount = bytemuck::Zeroable::zeroed();
        account.collateral = 20_000_000_000;
        let mut p = meridian_engine::position::Position::new(0);
        p.apply_fill(meridian_engine::units::Side::Bid, meridian_engine::units::Lots(10_000), 65_000_000_000).unwrap();
        *account.position_mut(0) = p;
        let markets = BTreeMap::from([(0u16, m)]);
        let view = portfolio_of(&account, &markets, &BTreeMap::new(), 0, &portfolio::RiskParams::standard()).unwrap();
        assert_eq!(view.health.equity, 20_000_000_000);
        assert_eq!(view.health.maintenance, 10_400_000_000, "16% of 65,000 USDC");
        assert_eq!(view.greeks, vec![(String::new(), portfolio::PortfolioGreeks { delta: 1_000_000_000_000, ..Default::default() })]);
        // the per-market rule on the same account: 5% of 65,000
        assert_eq!(health_of(&account, &markets).unwrap().maintenance, 3_250_000_000);
    }
}
