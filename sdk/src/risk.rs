//! Account health off-chain, with the very code the program runs (`meridian::risk::HealthBuilder`).

use crate::client::{Client, Result};
use meridian::{MarginAccount, Market, OracleAggregate};
use meridian_engine::margin::Health;
use meridian_engine::portfolio::{self, Holding, PortfolioGreeks};
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

pub use meridian::risk::{Valuation, PORTFOLIO};

/// Health of `account` given the markets of its positions (by index), at each market's mark.
pub fn health_of(account: &MarginAccount, markets: &BTreeMap<u16, Market>) -> Option<Health> {
    health_with(account, markets, Valuation::Mark)
}

/// Health with a choice of valuation: `Valuation::Conservative { now_slot }` is how `withdraw` and
/// order placement judge an account (positions in markets whose oracle is stale or degraded valued
/// conservatively), `Valuation::Liquidation { market, now_slot }` how a liquidation does (None when
/// that market's oracle is not usable). `ConservativeNow` and `LiquidationNow` need the cluster's
/// slot: None.
pub fn health_with(account: &MarginAccount, markets: &BTreeMap<u16, Market>, valuation: Valuation) -> Option<Health> {
    if matches!(valuation, Valuation::ConservativeNow | Valuation::LiquidationNow { .. }) {
        return None;
    }
    let mut b = meridian::risk::HealthBuilder::new(account.collateral, valuation);
    for p in account.positions_in_use() {
        b.add(p, markets.get(&p.market_index)?).ok()?;
    }
    b.finish().ok()
}

/// Net greeks of the account's positions on one underlying (an oracle), quote native units; `delta`
/// also in underlying units (12 decimals) at the oracle's price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnderlyingGreeks {
    pub oracle: Pubkey,
    /// The oracle's name.
    pub name: String,
    pub greeks: PortfolioGreeks,
    pub delta_units: Option<i128>,
}

/// Greeks per underlying of the positions in markets with an oracle, from the lot risks the
/// margin check uses (`oracles` gives names and prices; missing ones leave them blank).
pub fn greeks_of(
    account: &MarginAccount,
    markets: &BTreeMap<u16, Market>,
    oracles: &BTreeMap<Pubkey, OracleAggregate>,
    quote_decimals: u8,
) -> Option<Vec<UnderlyingGreeks>> {
    let mut groups: BTreeMap<Pubkey, Vec<(Holding, portfolio::LotRisk)>> = BTreeMap::new();
    for p in account.positions_in_use() {
        let m = markets.get(&p.market_index)?;
        if !m.has_oracle() || m.awaits_revaluation() {
            continue;
        }
        let (r, _) = meridian::risk::lot_risk_of(m, false).ok()?;
        groups.entry(m.oracle).or_default().push((Holding::of(p, 0)?, r));
    }
    Some(
        groups
            .into_iter()
            .map(|(oracle, holdings)| {
                let greeks = portfolio::greeks(holdings.iter().map(|(h, r)| (h, r)));
                let o = oracles.get(&oracle);
                // delta value (native) / price per unit (12 decimals, quote units) = units
                let delta_units = o.filter(|o| o.price > 0).and_then(|o| {
                    let quote_units_12 =
                        greeks.delta_value.checked_mul(1_000_000_000_000)? / 10i128.pow(quote_decimals as u32);
                    Some(quote_units_12.checked_mul(1_000_000_000_000)? / o.price as i128)
                });
                let name = o.map(|o| crate::state::market_name_bytes(&o.name)).unwrap_or_default();
                UnderlyingGreeks { oracle, name, greeks, delta_units }
            })
            .collect(),
    )
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

    /// The account's health as the program would compute it now, at marks.
    pub async fn health(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<Health> {
        let markets = self.markets_of(exchange, account).await?;
        Ok(health_of(account, &markets).expect("every position's market was fetched"))
    }

    /// The account's health as `withdraw` judges it now: positions in markets whose oracle is not
    /// usable at the cluster's slot valued conservatively.
    pub async fn health_now(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<Health> {
        let markets = self.markets_of(exchange, account).await?;
        let now_slot = self.clock().await?.slot;
        Ok(health_with(account, &markets, Valuation::Conservative { now_slot })
            .expect("every position's market was fetched"))
    }

    /// The account's greeks per underlying (markets and their oracles fetched).
    pub async fn greeks(&self, exchange: &Pubkey, account: &MarginAccount) -> Result<Vec<UnderlyingGreeks>> {
        let markets = self.markets_of(exchange, account).await?;
        let mut oracles = BTreeMap::new();
        for m in markets.values().filter(|m| m.has_oracle()) {
            if let std::collections::btree_map::Entry::Vacant(e) = oracles.entry(m.oracle) {
                e.insert(self.oracle(&m.oracle).await?);
            }
        }
        let decimals = self.exchange(exchange).await?.collateral_decimals;
        Ok(greeks_of(account, &markets, &oracles, decimals).expect("every position's market was fetched"))
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
    fn an_oracle_market_is_margined_by_the_portfolio_engine() {
        let mut account: MarginAccount = bytemuck::Zeroable::zeroed();
        account.collateral = 20_000_000_000;
        let mut p = meridian_engine::position::Position::new(0);
        p.apply_fill(meridian_engine::units::Side::Bid, meridian_engine::units::Lots(10_000), 65_000_000_000).unwrap();
        *account.position_mut(0) = p;
        // without an oracle: the market's own rule, 5% of 65,000
        let mut markets = BTreeMap::from([(0u16, btc_perp())]);
        assert_eq!(health_of(&account, &markets).unwrap().maintenance, 3_250_000_000);
        // with one: its worst 16% move
        markets.get_mut(&0).unwrap().oracle = Pubkey::new_unique();
        let h = health_of(&account, &markets).unwrap();
        assert_eq!((h.equity, h.maintenance, h.initial), (20_000_000_000, 10_400_000_000, 15_600_000_000));
        let g = greeks_of(&account, &markets, &BTreeMap::new(), 6).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].greeks.delta_value, 65_000_000_000);
        let mut o: OracleAggregate = bytemuck::Zeroable::zeroed();
        o.price = 65_000 * 1_000_000_000_000;
        let oracles = BTreeMap::from([(markets[&0].oracle, o)]);
        assert_eq!(
            greeks_of(&account, &markets, &oracles, 6).unwrap()[0].delta_units,
            Some(1_000_000_000_000),
            "1 BTC"
        );
    }
}
