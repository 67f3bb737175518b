//! Scenarios: the world most program tests start from, declared instead of assembled.
//!
//! ```no_run
//! use meridian_program_tests::fixture::{Scenario, USDC};
//! // an exchange, the default BTC-PERP book market, two traders with 200,000 USDC in their wallet
//! // and 100,000 deposited
//! let mut w = Scenario::book_market().traders(2, 200_000 * USDC, 100_000 * USDC).build();
//! let [alice, bob] = w.take_traders();
//! # let _ = (alice, bob);
//! ```
//!
//! The constants are the values every scenario shares, in one place.

use crate::harness::{default_market_params, ExchangeFixture, Harness, MarketFixture, Trader, SPL_TOKEN};
use crate::oracle::OracleFixture;
use meridian::{ExchangeParams, MarketParams};

/// One USDC in native units (the collateral mint has 6 decimals).
pub const USDC: u64 = 1_000_000;
/// The clock's slot when a scenario with an oracle starts.
pub const SLOT: u64 = 3_000;
/// The clock's unix time when a scenario with an oracle starts.
pub const TS: i64 = 1_700_000_000;
/// $65,000 in ticks of $0.1: the default market's price (one lot, 0.0001 BTC, is 6.5 USDC there).
pub const PRICE: u64 = 650_000;

enum MarketSetup {
    /// A market whose mark is set by trades (`default_market_params` or given).
    Book(MarketParams),
    /// BTC-PERP priced by an oracle over one Pyth and one Switchboard source, clock at SLOT, TS.
    Oracle,
}

/// What to build: an exchange, one market, traders.
pub struct Scenario {
    exchange: ExchangeParams,
    market: MarketSetup,
    /// (wallet tokens, deposited) per trader, in native units.
    traders: Vec<(u64, u64)>,
}

/// What a scenario built: the runtime and its fixtures.
pub struct World {
    pub h: Harness,
    pub fx: ExchangeFixture,
    pub m: MarketFixture,
    /// The market's oracle (oracle scenarios only).
    pub o: Option<OracleFixture>,
    pub traders: Vec<Trader>,
}

impl Scenario {
    /// The default market (BTC-PERP, lot 0.0001 BTC, tick $0.1), priced by its own trades.
    pub fn book_market() -> Scenario {
        Scenario::market(default_market_params())
    }

    /// A market with these parameters, priced by its own trades.
    pub fn market(params: MarketParams) -> Scenario {
        Scenario { exchange: ExchangeParams::default(), market: MarketSetup::Book(params), traders: vec![] }
    }

    /// BTC-PERP priced by an oracle (one Pyth and one Switchboard source), the clock at SLOT, TS.
    pub fn oracle_market() -> Scenario {
        Scenario { exchange: ExchangeParams::default(), market: MarketSetup::Oracle, traders: vec![] }
    }

    pub fn exchange(mut self, params: ExchangeParams) -> Scenario {
        self.exchange = params;
        self
    }

    /// A trader holding `wallet` native units of collateral, of which `deposit` go to its margin
    /// account.
    pub fn trader(mut self, wallet: u64, deposit: u64) -> Scenario {
        self.traders.push((wallet, deposit));
        self
    }

    /// `n` traders alike.
    pub fn traders(mut self, n: usize, wallet: u64, deposit: u64) -> Scenario {
        self.traders.extend(std::iter::repeat_n((wallet, deposit), n));
        self
    }

    pub fn build(self) -> World {
        let mut h = Harness::new();
        let fx = h.setup_exchange(6, SPL_TOKEN, self.exchange);
        let (m, o) = match self.market {
            MarketSetup::Book(params) => (h.setup_market(&fx, params), None),
            MarketSetup::Oracle => {
                let (m, o) = h.setup_oracle_market(&fx, SLOT, TS);
                (m, Some(o))
            }
        };
        let traders = self
            .traders
            .into_iter()
            .map(|(wallet, deposit)| {
                let t = h.trader(&fx, wallet);
                if deposit > 0 {
                    h.deposit(&fx, &t, deposit);
                }
                t
            })
            .collect();
        World { h, fx, m, o, traders }
    }
}

impl World {
    /// The traders, in the order the scenario declared them (`N` must be their number).
    pub fn take_traders<const N: usize>(&mut self) -> [Trader; N] {
        let all = std::mem::take(&mut self.traders);
        let n = all.len();
        all.try_into().unwrap_or_else(|_| panic!("the scenario has {n} traders, not {N}"))
    }

    /// The oracle of an oracle scenario.
    pub fn oracle(&self) -> &OracleFixture {
        self.o.as_ref().expect("not an oracle scenario: use Scenario::oracle_market")
    }
}
