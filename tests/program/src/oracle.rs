//! Oracle fixtures: Pyth `PriceUpdateV2` and Switchboard pull feed accounts in their real formats
//! (serialized by the oracle crates' own types, `meridian-oracle-sim`), owned by the real oracle
//! program ids, and aggregates over them.

use crate::harness::{default_market_params, ExchangeFixture, Harness, MarketFixture, Trader};
use meridian::{OracleAggregate, OracleParams, OracleSourceKind, OracleSourceParams};
use meridian_oracle_sim::{self as sim, PythPrice, SwitchboardPrice};
use meridian_sdk::{ix, pda, state::encode_name};
use solana_sdk::{account::Account, clock::Clock, pubkey::Pubkey, signer::Signer};

/// A source of a test aggregate: where its account lives and, for Pyth, its feed id.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Pyth { account: Pubkey, feed_id: [u8; 32] },
    Switchboard { account: Pubkey },
}

impl Source {
    pub fn account(&self) -> Pubkey {
        match self {
            Source::Pyth { account, .. } | Source::Switchboard { account } => *account,
        }
    }
    pub fn params(&self) -> OracleSourceParams {
        match self {
            Source::Pyth { feed_id, .. } => OracleSourceParams { kind: OracleSourceKind::Pyth, id: *feed_id },
            Source::Switchboard { account } => {
                OracleSourceParams { kind: OracleSourceKind::Switchboard, id: account.to_bytes() }
            }
        }
    }
}

pub struct OracleFixture {
    pub address: Pubkey,
    pub sources: Vec<Source>,
}

impl OracleFixture {
    pub fn source_accounts(&self) -> Vec<Pubkey> {
        self.sources.iter().map(Source::account).collect()
    }
    pub fn refresh_ix(&self) -> solana_sdk::instruction::Instruction {
        ix::refresh_oracle(&self.address, &self.source_accounts(), &[])
    }

    /// Refresh and push the price to `markets`.
    pub fn refresh_markets_ix(&self, markets: &[Pubkey]) -> solana_sdk::instruction::Instruction {
        ix::refresh_oracle(&self.address, &self.source_accounts(), markets)
    }
}

/// Limits the tests use unless they say otherwise: 2 of the sources, 50 slots / 30 s, 2% confidence,
/// 5% deviation, 1 hour of volatility memory.
pub fn default_oracle_params(sources: &[Source]) -> OracleParams {
    OracleParams {
        sources: sources.iter().map(Source::params).collect(),
        min_valid_sources: 2.min(sources.len() as u8),
        max_age_slots: 50,
        max_age_secs: 30,
        max_conf_bps: 200,
        max_deviation_bps: 500,
        vol_tau_secs: 3_600,
        vol_sample_secs: 1,
    }
}

/// Pyth's representation of `price` dollars (exponent -8) with a 0.05% confidence.
pub fn pyth_price(feed_id: [u8; 32], dollars: f64, publish_time: i64, slot: u64) -> PythPrice {
    let price = (dollars * 1e8).round() as i64;
    PythPrice {
        feed_id,
        price,
        conf: (price / 2_000) as u64,
        exponent: -8,
        publish_time,
        posted_slot: slot,
        partial_signatures: None,
    }
}

/// Switchboard's representation of `price` dollars (18 decimals) with a 0.05% standard deviation.
pub fn switchboard_price(dollars: f64, timestamp: i64, slot: u64) -> SwitchboardPrice {
    let value = (dollars * 1e6).round() as i128 * 1_000_000_000_000;
    SwitchboardPrice { value, std_dev: value / 2_000, slot, timestamp, num_samples: 3 }
}

impl Harness {
    pub fn clock(&self) -> Clock {
        self.svm.get_sysvar::<Clock>()
    }

    /// Moves the runtime to `slot` and unix time `ts`.
    pub fn set_clock(&mut self, slot: u64, ts: i64) {
        let mut clock = self.clock();
        clock.slot = slot;
        clock.unix_timestamp = ts;
        self.svm.set_sysvar(&clock);
    }

    fn put(&mut self, address: Pubkey, owner: Pubkey, data: Vec<u8>) {
        let lamports = self.svm.minimum_balance_for_rent_exemption(data.len());
        self.svm.set_account(address, Account { lamports, data, owner, executable: false, rent_epoch: 0 }).unwrap();
    }

    /// Writes a Pyth price update owned by the Pyth receiver program.
    pub fn set_pyth(&mut self, address: Pubkey, p: &PythPrice) {
        self.put(address, sim::PYTH_RECEIVER_ID, sim::pyth_account_data(p));
    }

    /// Writes a Pyth price update with any owner (fault tests).
    pub fn set_pyth_owned_by(&mut self, address: Pubkey, owner: Pubkey, p: &PythPrice) {
        self.put(address, owner, sim::pyth_account_data(p));
    }

    /// Writes a Switchboard pull feed owned by the Switchboard on-demand program.
    pub fn set_switchboard(&mut self, address: Pubkey, p: &SwitchboardPrice) {
        self.put(address, sim::switchboard_program_id(), sim::switchboard_account_data(p));
    }

    /// Writes every source of `o` at `dollars[i]`, published now.
    pub fn set_sources(&mut self, o: &OracleFixture, dollars: &[f64]) {
        let Clock { slot, unix_timestamp: ts, .. } = self.clock();
        for (s, &d) in o.sources.iter().zip(dollars) {
            match *s {
                Source::Pyth { account, feed_id } => self.set_pyth(account, &pyth_price(feed_id, d, ts, slot)),
                Source::Switchboard { account } => self.set_switchboard(account, &switchboard_price(d, ts, slot)),
            }
        }
    }

    /// Creates aggregate `name` over `pyth` Pyth feeds then `switchboard` Switchboard feeds, with
    /// `params` (or the defaults when None).
    pub fn setup_oracle(
        &mut self,
        fx: &ExchangeFixture,
        name: &str,
        pyth: u8,
        switchboard: u8,
        params: Option<OracleParams>,
    ) -> OracleFixture {
        let mut sources = Vec::new();
        for i in 0..pyth {
            let mut feed_id = [0u8; 32];
            feed_id[..name.len().min(30)].copy_from_slice(&name.as_bytes()[..name.len().min(30)]);
            feed_id[31] = i + 1;
            sources.push(Source::Pyth { account: Pubkey::new_unique(), feed_id });
        }
        for _ in 0..switchboard {
            sources.push(Source::Switchboard { account: Pubkey::new_unique() });
        }
        let params = params.unwrap_or_else(|| default_oracle_params(&sources));
        let name = encode_name(name);
        let create = ix::create_oracle(&fx.exchange, &fx.admin.pubkey(), name, params);
        self.ok(&[create], &[&fx.admin]);
        OracleFixture { address: pda::oracle(&fx.exchange, &name).0, sources }
    }

    /// BTC-PERP (`default_market_params`) priced by a "BTC" oracle over 2 Pyth feeds and 1
    /// Switchboard feed (default limits), linked with `set_market_oracle`; the clock at (slot, ts).
    /// No price is pushed yet.
    pub fn setup_oracle_market(&mut self, fx: &ExchangeFixture, slot: u64, ts: i64) -> (MarketFixture, OracleFixture) {
        let m = self.setup_market(fx, default_market_params());
        self.set_clock(slot, ts);
        let o = self.setup_oracle(fx, "BTC", 2, 1, None);
        let link = ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &m.accounts.market, &o.address);
        self.ok(&[link], &[&fx.admin]);
        (m, o)
    }

    /// A trader with `tokens` in its wallet, `deposited` of them in its margin account.
    pub fn funded_trader(&mut self, fx: &ExchangeFixture, tokens: u64, deposited: u64) -> Trader {
        let t = self.trader(fx, tokens);
        self.deposit(fx, &t, deposited);
        t
    }

    pub fn oracle(&self, address: &Pubkey) -> OracleAggregate {
        self.decode(address)
    }
}
