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

/// Health with a choice of valuation: `Valuation::Conservative { now_slot }` is how `withdraw`
/// judges an account (positions in markets whose oracle is stale or degraded at the conservative
/// end of the last confidence band).
pub fn health_with(account: &MarginAccount, markets: &BTreeMap<u16, Market>, valuation: Valuation) -> Option<Health> {
    let mut pairs: Vec<(meridian_engine::position::Position, MarketRisk)> = Vec::new();
    for p in account.positions_in_use() {
        let m = markets.get(&p.market_index)?;
        let r = match valuation {
            Valuation::Mark => m.risk(),
            Valuation::Conservative { now_slot } => m.conservative_risk(p.base_lots, now_slot),
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
