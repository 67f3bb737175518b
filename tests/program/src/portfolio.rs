//! Underlyings with several markets for portfolio-margin tests and benchmarks: an oracle, linear
//! markets (a perpetual, then futures) and European options on it, all linked to the oracle.

use crate::harness::{default_market_params, ExchangeFixture, Harness, MarketFixture, Trader};
use crate::oracle::OracleFixture;
use meridian::{MarketKind, MarketParams};
use meridian_sdk::order::{self, OrderExt, Side};
use meridian_sdk::{ix, state::encode_name};
use solana_sdk::signer::Signer;

pub const DAY: i64 = 86_400;

/// One underlying: its oracle, its price, and its markets (linear first, then options).
pub struct Underlying {
    pub oracle: OracleFixture,
    pub dollars: f64,
    pub linear: Vec<MarketFixture>,
    pub options: Vec<MarketFixture>,
}

impl Underlying {
    pub fn all_markets(&self) -> impl Iterator<Item = &MarketFixture> {
        self.linear.iter().chain(&self.options)
    }
}

/// A linear market like `default_market_params` (lot 0.0001, tick $0.1 per unit) at `dollars`:
/// a perpetual, or a future expiring at `expiry_ts`.
pub fn linear_params(name: &str, kind: MarketKind, dollars: f64, expiry_ts: i64) -> MarketParams {
    MarketParams {
        name: encode_name(name),
        kind,
        initial_mark_price: (dollars * 10.0) as u64,
        expiry_ts: if kind == MarketKind::Future { expiry_ts } else { 0 },
        ..default_market_params()
    }
}

/// A European option (a Call or a Put): lot 0.01 of the underlying, one tick = $0.001 per lot
/// (tick size 1,000 native units of a 6-decimal quote), so a strike of $S is S x 10 ticks.
pub fn option_params(name: &str, kind: MarketKind, strike_dollars: u64, expiry_ts: i64) -> MarketParams {
    MarketParams {
        name: encode_name(name),
        kind,
        base_lot_size: 1_000_000,
        tick_size: 1_000,
        // a premium of a tenth of the strike until traded (the stable mark moves slowly: an option
        // traded before it is revalued from an oracle needs a closer initial mark)
        initial_mark_price: strike_dollars,
        strike: strike_dollars * 10,
        expiry_ts,
        ..default_market_params()
    }
}

impl Harness {
    /// Oracle `name` (2 Pyth + 1 Switchboard feeds) at `dollars`, `linear` linear markets (a
    /// perpetual, then futures) and one option per `(kind, strike)`, all expiring at `expiry_ts`,
    /// linked to it; prices pushed.
    pub fn setup_underlying(
        &mut self,
        fx: &ExchangeFixture,
        name: &str,
        dollars: f64,
        linear: usize,
        options: &[(MarketKind, u64)],
        expiry_ts: i64,
    ) -> Underlying {
        let oracle = self.setup_oracle(fx, name, 2, 1, None);
        let link = |h: &mut Harness, params: MarketParams| {
            let m = h.setup_market(fx, params);
            let ix = ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &m.accounts.market, &oracle.address);
            h.ok(&[ix], &[&fx.admin]);
            m
        };
        let linear = (0..linear)
            .map(|i| {
                let kind = if i == 0 { MarketKind::Perpetual } else { MarketKind::Future };
                link(self, linear_params(&format!("{name}-L{i}"), kind, dollars, expiry_ts + i as i64 * DAY))
            })
            .collect();
        let options = options
            .iter()
            .enumerate()
            .map(|(i, &(kind, strike))| link(self, option_params(&format!("{name}-O{i}"), kind, strike, expiry_ts)))
            .collect();
        let u = Underlying { oracle, dollars, linear, options };
        self.push_underlying(&u);
        u
    }

    /// Publishes every source at the underlying's price now and pushes it to all its markets
    /// (each option in its own refresh, under the harness's default compute budget).
    pub fn push_underlying(&mut self, u: &Underlying) {
        self.set_sources(&u.oracle, &[u.dollars; 3]);
        let linear: Vec<_> = u.linear.iter().map(|m| m.accounts.market).collect();
        self.ok(&[u.oracle.refresh_markets_ix(&linear)], &[]);
        for option in &u.options {
            self.ok(&[u.oracle.refresh_markets_ix(&[option.accounts.market])], &[]);
        }
    }
}

impl Harness {
    /// A trader with 8,100 USDC long 0.5 BTC of the underlying's perpetual at the current price
    /// (bought from `maker`, near its initial requirement) and `orders` resting 1-lot bids 5% below.
    pub fn leveraged_quoter(&mut self, fx: &ExchangeFixture, u: &Underlying, maker: &Trader, orders: u64) -> Trader {
        let perp = u.linear[0];
        let price = (u.dollars * 10.0) as u64;
        let t = self.funded_trader(fx, 8_100_000_000, 8_100_000_000);
        self.place(&perp, maker, order::limit(Side::Ask, price, 5_000).post_only());
        assert_eq!(
            self.place(&perp, &t, order::limit(Side::Bid, price, 5_000).immediate_or_cancel()).filled_lots,
            5_000
        );
        for i in 0..orders {
            self.place(&perp, &t, order::limit(Side::Bid, price * 95 / 100 - i, 1).post_only());
        }
        t
    }
}
