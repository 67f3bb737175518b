//! The invariant fuzzer: seeded, reproducible random sequences of every instruction of the program,
//! run on the SBF binary in LiteSVM, with the exchange's invariants checked after each.
//!
//! The world: one exchange; two underlyings priced by real-format Pyth and Switchboard feed
//! accounts (BTC: a perpetual, a future and a call; ETH: a perpetual and a put), a perpetual
//! without an oracle, and a BTC future and put that expire two hours in (a five-minute settlement
//! window) so a run goes through expiry, settlement and closing; an honest maker and two attackers'
//! wallets with three and two sub-accounts, who name each other's wallets trading delegates.
//! Operations carry no runtime state (an order is "the k-th open order of account a"), so any
//! subsequence of a run replays, which is how a failing run is shrunk ([`minimize`]).
//!
//! After every transaction, failed or not:
//! - a failed transaction changed nothing (every program account, the vault, every wallet);
//! - the program did not panic (a panic is a bad input without a clear error);
//! - vault balance == total collateral + fees + insurance + PnL pools, total collateral == the sum
//!   of the accounts' collateral, and the exchange's PnL pools == the sum of the markets';
//! - no account's collateral is negative: every credit (rebate, reward, fee, insurance) came from
//!   money that was collected, so the vault covers every claim even if every debtor defaults, and
//!   no account can withdraw more than its deposits plus what it was actually paid;
//! - fees held cover the rebates and crank rewards owed;
//! - each market with an empty event queue is zero-sum in base, its quote balances sum to its PnL
//!   pool (funding, socialized loss and rounding included; a settled market's positions valued at
//!   their payoff), and its open interest is its long lots;
//! - `settle_pnl` and `settle_expired`, which anyone may call on anyone, never lower an account's
//!   equity;
//! - every event queue can be drained: a crank passing every maker succeeds (simulated).

use crate::harness::*;
use crate::oracle::*;
use crate::portfolio::*;
use anchor_lang::AnchorDeserialize;
use litesvm::types::FailedTransactionMetadata;
use meridian::{
    ExchangeParams, MarginAccount, Market, MarketKind, MarketMode, MarketStatus, MassQuoteArgs, MeridianError,
    OrderSide, OrderType, PlaceOrderArgs, QuoteLevel,
};
use meridian_sdk::ix;
use solana_sdk::{
    account::Account,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    signer::Signer,
    transaction::{Transaction, TransactionError},
};
use std::collections::BTreeMap;

const USDC: u64 = 1_000_000;
const SLOT: u64 = 10_000;
const TS: i64 = 1_700_000_000;

pub use meridian_oracle_sim::path::Rng;

/// A price, resolved against the market's band when the operation runs.
#[derive(Clone, Copy, Debug)]
pub enum Price {
    /// Basis points from the band's reference (the oracle's price, an option's model value, the
    /// stable mark).
    Offset(i32),
    /// The band's low (false) or high (true) end.
    Edge(bool),
    /// Ticks, whatever the band says (absurd prices among them).
    Raw(u64),
}

#[derive(Clone, Copy, Debug)]
pub struct OrderSpec {
    pub side: u8,
    pub price: Price,
    pub size: u64,
    pub kind: u8,
    pub self_trade: u8,
    pub reduce_only: bool,
    /// Seconds from now (0: none; negative: already expired).
    pub expiry: i32,
    pub match_limit: u8,
    pub client_id: u64,
}

/// An amount: a fraction (per mille) of what the account holds, or exact native units.
#[derive(Clone, Copy, Debug)]
pub enum Amount {
    PerMille(u16),
    Exact(u64),
}

/// One operation. Indices are taken modulo what exists when it runs.
#[derive(Clone, Debug)]
pub enum Op {
    Deposit {
        acct: u8,
        amount: Amount,
    },
    Withdraw {
        acct: u8,
        amount: Amount,
    },
    Place {
        acct: u8,
        market: u8,
        order: OrderSpec,
        wrong_health: bool,
    },
    /// The maker quotes at the reference and `acct` takes it with `per_cent` of its free
    /// collateral's worth of leverage: the positions that liquidations need.
    Lever {
        acct: u8,
        market: u8,
        long: bool,
        per_cent: u8,
    },
    Replace {
        acct: u8,
        pick: u8,
        order: OrderSpec,
    },
    Cancel {
        acct: u8,
        pick: u8,
        by_client_id: bool,
    },
    CancelAll {
        acct: u8,
        market: u8,
        side: u8,
    },
    Crank {
        market: u8,
        limit: u16,
        reward: u8,
        drop_maker: bool,
    },
    /// Moves an underlying's feeds by `move_bps`; `mode` 0 all agree, 1 one diverges, 2 only two
    /// publish, 3 none publish (a refresh of what is there).
    Oracle {
        underlying: u8,
        move_bps: i32,
        mode: u8,
    },
    Clock {
        secs: u32,
    },
    UpdateFunding {
        market: u8,
    },
    SettleFunding {
        market: u8,
        accts: u8,
    },
    /// `settle_pnl` for the accounts in `accts` (a bit mask) holding a position in the market.
    SettlePnl {
        market: u8,
        accts: u8,
    },
    /// Liquidation stages; `market` picks among the target's markets with orders (stage 1), with a
    /// position (2), or owing (3), mostly; now and then any market.
    LiquidateCancel {
        liquidator: u8,
        target: u8,
        market: u8,
    },
    LiquidateTake {
        liquidator: u8,
        target: u8,
        market: u8,
        max_lots: u64,
    },
    Bankruptcy {
        target: u8,
        market: u8,
    },
    Insurance {
        acct: u8,
        amount: u64,
    },
    Band {
        market: u8,
        bps: u32,
    },
    Status {
        market: u8,
        status: u8,
    },
    Pause {
        flags: u8,
    },
    Close {
        acct: u8,
    },
    Reopen {
        acct: u8,
    },
    /// Expiry: `cancel_expired_orders` / `settle_expired` for the accounts in `accts` (a bit mask),
    /// `fix_settlement_price`, the admin's `set_settlement_price` (`price_bps` of the mark), the
    /// admin's `close_market`.
    CancelExpired {
        market: u8,
        accts: u8,
    },
    FixPrice {
        market: u8,
    },
    SettleExpired {
        market: u8,
        accts: u8,
    },
    SetSettlementPrice {
        market: u8,
        price_bps: u32,
    },
    CloseMarket {
        market: u8,
    },
    /// `acct`'s owner names wallet `wallet`'s key its trading delegate (`None`: clears it); then
    /// `DelegatePlace` places for `acct` signed by wallet `wallet` (refused unless it is the
    /// delegate).
    SetDelegate {
        acct: u8,
        wallet: Option<u8>,
    },
    DelegatePlace {
        acct: u8,
        wallet: u8,
        market: u8,
        order: OrderSpec,
    },
    /// `mass_quote` by `acct` (signed by its owner, or by wallet `delegate`'s key): `cancel` 0
    /// nothing, 1 all, 2 the client ids 0..8; `bids` and `asks` quotes `step_bps` apart from
    /// `gap_bps` off the reference, all of `size`.
    MassQuote {
        acct: u8,
        market: u8,
        cancel: u8,
        kind: u8,
        bids: u8,
        asks: u8,
        gap_bps: i32,
        step_bps: u16,
        size: u64,
        expiry: i32,
        delegate: Option<u8>,
    },
    Sweep {
        market: u8,
    },
    /// `clear_auction` (a batch market's, mostly; refused elsewhere or before the period is over).
    ClearAuction {
        market: u8,
    },
    /// `set_market_mode`: refused unless the market's book and queue are empty.
    SetMode {
        market: u8,
        mode: u8,
        period: u64,
    },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Deposit { .. } => "deposit",
            Op::Withdraw { .. } => "withdraw",
            Op::Place { .. } | Op::Lever { .. } => "place_order",
            Op::Replace { .. } => "replace_order",
            Op::Cancel { by_client_id: false, .. } => "cancel_order",
            Op::Cancel { by_client_id: true, .. } => "cancel_order_by_client_id",
            Op::CancelAll { .. } => "cancel_all_orders",
            Op::Crank { .. } => "consume_events",
            Op::Oracle { .. } => "refresh_oracle",
            Op::Clock { .. } => "(clock)",
            Op::UpdateFunding { .. } => "update_funding",
            Op::SettleFunding { .. } => "settle_funding",
            Op::SettlePnl { .. } => "settle_pnl",
            Op::LiquidateCancel { .. } => "liquidate_cancel_orders",
            Op::LiquidateTake { .. } => "liquidate_take_position",
            Op::Bankruptcy { .. } => "liquidate_bankruptcy",
            Op::Insurance { .. } => "deposit_insurance",
            Op::Band { .. } => "set_price_band",
            Op::Status { .. } => "set_market_status",
            Op::Pause { .. } => "set_paused",
            Op::Close { .. } => "close_margin_account",
            Op::Reopen { .. } => "create_margin_account",
            Op::CancelExpired { .. } => "cancel_expired_orders",
            Op::FixPrice { .. } => "fix_settlement_price",
            Op::SettleExpired { .. } => "settle_expired",
            Op::SetSettlementPrice { .. } => "set_settlement_price",
            Op::CloseMarket { .. } => "close_market",
            Op::SetDelegate { .. } => "set_delegate",
            Op::DelegatePlace { .. } => "place_order (delegate)",
            Op::MassQuote { delegate: None, .. } => "mass_quote",
            Op::MassQuote { delegate: Some(_), .. } => "mass_quote (delegate)",
            Op::Sweep { .. } => "sweep_market",
            Op::ClearAuction { .. } => "clear_auction",
            Op::SetMode { .. } => "set_market_mode",
        }
    }
}

fn order_spec(r: &mut Rng) -> OrderSpec {
    let price = match r.below(100) {
        0..=59 => Price::Offset(r.between(-300, 300) as i32),
        60..=79 => Price::Offset(r.between(-1_200, 1_200) as i32),
        80..=89 => Price::Edge(r.chance(500)),
        _ => Price::Raw([1, 2, 1_000, 1_000_000_000_000, u64::MAX / 3, u64::MAX][r.below(6) as usize]),
    };
    let size = match r.below(100) {
        0..=49 => r.between(1, 100) as u64,
        50..=94 => r.between(100, 4_000) as u64,
        95..=97 => 1 << r.between(20, 50),
        _ => [0, u64::MAX, (1 << 48) + 1][r.below(3) as usize],
    };
    OrderSpec {
        side: if r.chance(995) { r.below(2) as u8 } else { 7 },
        price,
        size,
        kind: if r.chance(990) { r.below(6) as u8 } else { 9 },
        self_trade: if r.chance(995) { r.below(3) as u8 } else { 5 },
        reduce_only: r.chance(200),
        expiry: match r.below(100) {
            0..=84 => 0,
            85..=97 => r.between(1, 120) as i32,
            _ => -(r.between(0, 60) as i32),
        },
        match_limit: if r.chance(900) { 0 } else { r.below(80) as u8 },
        client_id: r.below(8),
    }
}

fn amount(r: &mut Rng) -> Amount {
    match r.below(10) {
        0..=6 => Amount::PerMille(r.between(1, 1_000) as u16),
        7 => Amount::PerMille(1_001),
        8 => Amount::Exact(0),
        _ => Amount::Exact([u64::MAX, 1 << 62, i64::MAX as u64 + 1, 1][r.below(4) as usize]),
    }
}

/// A random operation, weighted toward trading.
pub fn generate(r: &mut Rng) -> Op {
    let acct = |r: &mut Rng| r.below(ACTORS as u64) as u8;
    let market = |r: &mut Rng| r.below(10) as u8; // 9 markets (8: batch), and one out of range
                                                  // the two dated markets (6 and 7) mostly
    let dated = |r: &mut Rng| if r.chance(700) { 6 + r.below(2) as u8 } else { r.below(10) as u8 };
    // the honest maker (deep pockets) half the time, else anyone; targets: the attackers, mostly
    let liquidator = |r: &mut Rng| if r.chance(500) { 0 } else { r.below(ACTORS as u64) as u8 };
    let target = |r: &mut Rng| if r.chance(900) { 1 + r.below(ACTORS as u64 - 1) as u8 } else { 0 };
    match r.below(1_000) {
        0..=49 => Op::Deposit { acct: acct(r), amount: amount(r) },
        50..=89 => Op::Withdraw { acct: acct(r), amount: amount(r) },
        320..=344 => Op::MassQuote {
            acct: acct(r),
            market: market(r),
            cancel: r.below(3) as u8,
            kind: if r.chance(980) { 1 + r.below(2) as u8 } else { r.below(6) as u8 },
            bids: if r.chance(990) { r.below(11) as u8 } else { 33 },
            asks: r.below(11) as u8,
            gap_bps: r.between(-100, 300) as i32,
            step_bps: r.between(1, 60) as u16,
            size: if r.chance(950) { r.between(1, 500) as u64 } else { [0, 1 << 40][r.below(2) as usize] },
            expiry: if r.chance(900) { 0 } else { r.between(-5, 60) as i32 },
            delegate: r.chance(200).then(|| r.below(3) as u8),
        },
        345..=349 => Op::Sweep { market: market(r) },
        // the batch market (index 8) half the time
        300..=317 => Op::ClearAuction { market: if r.chance(500) { 8 } else { market(r) } },
        // the other markets (the batch market stays one): mostly to batch, which works once a
        // market's book and queue are empty
        318..=319 => Op::SetMode {
            market: r.below(8) as u8,
            mode: [0, 1, 1, 2][r.below(4) as usize],
            period: [0, 1, 3, 151][r.below(4) as usize],
        },
        // into the batch market: mostly limit orders (the only kind it takes) near its mark
        280..=299 => {
            let mut order = order_spec(r);
            if r.chance(800) {
                (order.kind, order.price) = (0, Price::Offset(r.between(-100, 100) as i32));
            }
            Op::Place { acct: acct(r), market: 8, order, wrong_health: r.chance(30) }
        }
        90..=279 => Op::Place { acct: acct(r), market: market(r), order: order_spec(r), wrong_health: r.chance(30) },
        350..=354 => Op::CancelExpired { market: dated(r), accts: r.below(64) as u8 },
        355..=359 => Op::FixPrice { market: dated(r) },
        360..=366 => Op::SettleExpired { market: dated(r), accts: r.below(256) as u8 },
        367..=368 => Op::SetSettlementPrice {
            market: dated(r),
            price_bps: [0, 5_000, 10_000, 10_500, u32::MAX][r.below(5) as usize],
        },
        369 => Op::CloseMarket { market: dated(r) },
        890..=894 => Op::SetDelegate { acct: acct(r), wallet: r.chance(800).then(|| r.below(3) as u8) },
        895..=909 => {
            Op::DelegatePlace { acct: acct(r), wallet: r.below(3) as u8, market: market(r), order: order_spec(r) }
        }
        370..=429 => Op::Lever {
            acct: target(r),
            market: r.below(8) as u8,
            long: r.chance(500),
            per_cent: r.between(30, 100) as u8,
        },
        430..=479 => Op::Replace { acct: acct(r), pick: r.below(64) as u8, order: order_spec(r) },
        480..=529 => Op::Cancel { acct: acct(r), pick: r.below(64) as u8, by_client_id: r.chance(300) },
        530..=549 => Op::CancelAll { acct: acct(r), market: market(r), side: r.below(4) as u8 },
        550..=669 => {
            Op::Crank { market: market(r), limit: r.between(0, 40) as u16, reward: acct(r), drop_maker: r.chance(150) }
        }
        670..=769 => Op::Oracle {
            underlying: r.below(2) as u8,
            move_bps: if r.chance(850) { r.between(-150, 150) as i32 } else { r.between(-3_000, 3_000) as i32 },
            mode: if r.chance(850) { 0 } else { r.between(1, 3) as u8 },
        },
        770..=819 => {
            Op::Clock { secs: if r.chance(900) { r.between(1, 20) as u32 } else { r.between(20, 4_000) as u32 } }
        }
        820..=844 => Op::UpdateFunding { market: market(r) },
        845..=849 => Op::SettleFunding { market: market(r), accts: r.below(64) as u8 },
        850..=859 => Op::SettlePnl { market: market(r), accts: r.below(256) as u8 },
        860..=889 => Op::LiquidateCancel { liquidator: liquidator(r), target: target(r), market: r.below(16) as u8 },
        910..=929 => Op::LiquidateTake {
            liquidator: liquidator(r),
            target: target(r),
            max_lots: if r.chance(800) { r.between(1, 5_000) as u64 } else { u64::MAX },
            market: r.below(16) as u8,
        },
        930..=949 => Op::Bankruptcy { target: target(r), market: r.below(16) as u8 },
        950..=964 => Op::Insurance { acct: acct(r), amount: [0, 1, 1_000 * USDC, u64::MAX][r.below(4) as usize] },
        965..=974 => {
            Op::Band { market: market(r), bps: [0, 1, 100, 500, 1_000, 5_000, 10_000, 10_001][r.below(8) as usize] }
        }
        975..=984 => Op::Status { market: market(r), status: [0, 0, 0, 1, 2, 3, 4][r.below(7) as usize] },
        985..=989 => Op::Pause { flags: r.below(16) as u8 },
        990..=994 => Op::Close { acct: acct(r) },
        _ => Op::Reopen { acct: acct(r) },
    }
}

/// The actors: the honest maker, attacker one's three sub-accounts, attacker two's two.
const ACTORS: usize = 6;
/// (wallet, sub-account) of each actor.
const ACTOR_KEYS: [(usize, u16); ACTORS] = [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)];

/// What went wrong, at which operation.
#[derive(Clone, Debug)]
pub struct Violation {
    pub op_index: usize,
    pub op: Op,
    pub what: String,
}

/// Per instruction: successes, and failures by error.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub ok: BTreeMap<&'static str, u64>,
    pub failed: BTreeMap<&'static str, BTreeMap<String, u64>>,
    pub transactions: u64,
}

impl Stats {
    /// A Markdown table: instruction, successes, failures and the most frequent errors.
    pub fn table(&self) -> String {
        let mut names: Vec<&str> = self.ok.keys().chain(self.failed.keys()).copied().collect();
        names.sort();
        names.dedup();
        let mut out =
            String::from("| instruction | succeeded | failed | most frequent errors |\n| --- | ---: | ---: | --- |\n");
        for n in names {
            let failed = self.failed.get(n).cloned().unwrap_or_default();
            let mut errors: Vec<(String, u64)> = failed.into_iter().collect();
            errors.sort_by_key(|e| std::cmp::Reverse(e.1));
            let total: u64 = errors.iter().map(|e| e.1).sum();
            let top: Vec<String> = errors.iter().take(4).map(|(e, c)| format!("{e} {c}")).collect();
            out += &format!("| `{n}` | {} | {total} | {} |\n", self.ok.get(n).copied().unwrap_or(0), top.join(", "));
        }
        out
    }
}

/// The exchange under test.
pub struct World {
    pub h: Harness,
    fx: ExchangeFixture,
    underlyings: Vec<Underlying>,
    markets: Vec<MarketFixture>,
    wallets: Vec<Keypair>,
    actors: Vec<Trader>,
    slot: u64,
    ts: i64,
    pub stats: Stats,
    violation: Option<String>,
    /// Operations until the admin resumes what a pause or a market status stopped (a run that
    /// stays paused tests nothing): (operations left, market or None for the exchange).
    resume: Vec<(u32, Option<u8>)>,
}

fn error_name(err: &TransactionError) -> String {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
            match MeridianError::from_code(*code) {
                Some(e) => format!("{e:?}"),
                None => format!("Custom({code})"),
            }
        }
        TransactionError::InstructionError(_, e) => format!("{e:?}"),
        e => format!("{e:?}"),
    }
}

impl World {
    pub fn new(seed: u64) -> World {
        let mut h = Harness::new();
        // signatures are not what is under test; skipping their verification doubles the speed
        h.svm = std::mem::take(&mut h.svm).with_sigverify(false);
        let key = |i: u64| {
            let word = Rng::new(seed ^ (i + 1).wrapping_mul(0x5851_f42d_4c95_7f2d)).next_u64().to_le_bytes();
            Keypair::new_from_array(word.repeat(4).try_into().unwrap())
        };
        let mint = h.create_mint(6, SPL_TOKEN);
        let fx = h.setup_exchange_as(
            key(100),
            mint,
            SPL_TOKEN,
            ExchangeParams { insurance_fee_share_bps: 2_000, ..Default::default() },
        );
        h.set_clock(SLOT, TS);
        let mut btc = h.setup_underlying(&fx, "BTC", 65_000.0, 2, &[(MarketKind::Call, 65_000)], TS + 30 * DAY);
        let eth = h.setup_underlying(&fx, "ETH", 3_000.0, 1, &[(MarketKind::Put, 3_000)], TS + 30 * DAY);
        let plain = h.setup_market(
            &fx,
            meridian::MarketParams { name: meridian_sdk::state::encode_name("NO-ORACLE"), ..default_market_params() },
        );
        // the short-dated pair, priced (and sampled) with the rest of BTC's markets
        let window = |p: meridian::MarketParams| meridian::MarketParams { settlement_window_secs: 300, ..p };
        for (params, option) in [
            (window(linear_params("BTC-2H", MarketKind::Future, 65_000.0, TS + 7_200)), false),
            (window(option_params("BTC-2H-P", MarketKind::Put, 64_000, TS + 7_200)), true),
        ] {
            let m = h.setup_market(&fx, params);
            h.ok(
                &[ix::set_market_oracle(&fx.exchange, &fx.admin.pubkey(), &m.accounts.market, &btc.oracle.address)],
                &[&fx.admin],
            );
            if option {
                btc.options.push(m)
            } else {
                btc.linear.push(m)
            }
        }
        h.push_underlying(&btc);
        let mut markets: Vec<MarketFixture> = btc.all_markets().chain(eth.all_markets()).copied().collect();
        markets.push(plain);
        markets.sort_by_key(|m| m.index);
        // a batch market without an oracle, last (index 8): orders wait for clear_auction
        let batch = h.setup_market(
            &fx,
            meridian::MarketParams { name: meridian_sdk::state::encode_name("BATCH"), ..default_market_params() },
        );
        h.ok(&[ix::set_market_mode(&batch.accounts, &fx.admin.pubkey(), MarketMode::Batch, 1)], &[&fx.admin]);
        markets.push(batch);
        let wallets: Vec<Keypair> = (0..3).map(key).collect();
        let mut actors = Vec::new();
        for (w, sub) in ACTOR_KEYS {
            let owner = wallets[w].insecure_clone();
            let t = if sub == 0 {
                h.trader_as(owner, &fx, if w == 0 { 20_000_000 * USDC } else { 2_000_000 * USDC })
            } else {
                let first: &Trader = actors.iter().find(|t: &&Trader| t.owner.pubkey() == owner.pubkey()).unwrap();
                h.sub_account(&fx, first, sub)
            };
            h.deposit(&fx, &t, if w == 0 { 5_000_000 * USDC } else { 5_000 * USDC });
            actors.push(t);
        }
        World {
            h,
            fx,
            underlyings: vec![btc, eth],
            markets,
            wallets,
            actors,
            slot: SLOT,
            ts: TS,
            stats: Stats::default(),
            violation: None,
            resume: vec![],
        }
    }

    fn market(&self, i: u8) -> Option<(MarketFixture, Market)> {
        let m = *self.markets.get(i as usize)?;
        Some((m, self.h.market(&m.accounts.market)))
    }

    fn actor(&self, i: u8) -> Trader {
        self.actors[i as usize % ACTORS].clone_ref()
    }

    /// An account's equity as `withdraw` judges it (None: it has no account or cannot be valued).
    fn equity(&self, t: &Trader) -> Option<i128> {
        let a = self.account(t)?;
        let markets: BTreeMap<u16, Market> =
            self.markets.iter().map(|m| (m.index, self.h.market(&m.accounts.market))).collect();
        meridian_sdk::risk::health_with(
            &a,
            &markets,
            meridian_sdk::risk::Valuation::Conservative { now_slot: self.slot },
        )
        .map(|h| h.equity)
    }

    fn account(&self, t: &Trader) -> Option<MarginAccount> {
        self.h
            .svm
            .get_account(&t.margin)
            .filter(|a| a.owner == meridian::ID && a.data.len() == MarginAccount::SPACE)
            .map(|_| self.h.margin(&t.margin))
    }

    /// Every account whose change a failed transaction must not cause.
    fn watched(&self) -> Vec<(Pubkey, Account)> {
        let mut all = self.h.svm.get_program_accounts(&meridian::ID);
        for k in [self.fx.collateral.vault].into_iter().chain(self.actors.iter().map(|t| t.token)) {
            if let Some(a) = self.h.svm.get_account(&k) {
                all.push((k, a));
            }
        }
        all.sort_by_key(|(k, _)| *k);
        all
    }

    /// Sends one transaction; a failure must leave every watched account as it was.
    fn tx(&mut self, name: &'static str, ixs: Vec<Instruction>, signers: &[&Keypair]) -> bool {
        self.tx_meta(name, ixs, signers).is_some()
    }

    /// Like [`Fuzzer::tx`], returning the metadata of a success.
    fn tx_meta(
        &mut self,
        name: &'static str,
        ixs: Vec<Instruction>,
        signers: &[&Keypair],
    ) -> Option<litesvm::types::TransactionMetadata> {
        let before = self.watched();
        let payer = self.h.payer.insecure_clone();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &all, self.h.svm.latest_blockhash());
        let result = self.h.svm.send_transaction(tx);
        self.h.svm.expire_blockhash();
        self.stats.transactions += 1;
        match result {
            Ok(meta) => {
                *self.stats.ok.entry(name).or_default() += 1;
                Some(meta)
            }
            Err(FailedTransactionMetadata { err, meta }) => {
                let e = error_name(&err);
                if matches!(err, TransactionError::InstructionError(_, InstructionError::ProgramFailedToComplete)) {
                    self.flag(format!("{name} aborted (a panic, not an error): {e}\n{}", meta.logs.join("\n")));
                }
                *self.stats.failed.entry(name).or_default().entry(e.clone()).or_default() += 1;
                let after = self.watched();
                if before != after {
                    let changed: Vec<String> =
                        before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.to_string()).collect();
                    self.flag(format!("{name} failed ({e}) but changed {changed:?}"));
                }
                None
            }
        }
    }

    fn flag(&mut self, what: String) {
        if self.violation.is_none() {
            self.violation = Some(what);
        }
    }

    fn price(&self, m: &Market, p: Price) -> u64 {
        // a build without a stored band (replaying against an older binary): 10% of the mark
        let band = match m.band_high {
            0 => meridian_engine::band::Band::around(meridian_engine::units::Ticks(m.mark_price), m.mark_price / 10),
            _ => m.band(),
        };
        match p {
            Price::Offset(bps) => {
                let r = band.reference.0 as i128;
                (r + r * bps as i128 / 10_000).clamp(1, u64::MAX as i128) as u64
            }
            Price::Edge(high) => {
                if high {
                    band.high.0
                } else {
                    band.low.0
                }
            }
            Price::Raw(t) => t,
        }
    }

    fn args(&self, m: &Market, o: &OrderSpec) -> PlaceOrderArgs {
        PlaceOrderArgs {
            side: code(o.side),
            price: self.price(m, o.price),
            size: o.size,
            order_kind: code(o.kind),
            self_trade: code(o.self_trade),
            reduce_only: o.reduce_only,
            client_order_id: o.client_id,
            expiry_ts: if o.expiry == 0 { 0 } else { self.ts + o.expiry as i64 },
            match_limit: o.match_limit,
        }
    }

    /// Sends a settlement (`settle_pnl`, `settle_expired`) of `settled`: anyone may settle anyone,
    /// so it must never lower an account's equity.
    fn settle_keeping_equity(&mut self, name: &'static str, ix: Instruction, settled: &[Trader]) {
        let before: Vec<Option<i128>> = settled.iter().map(|t| self.equity(t)).collect();
        if self.tx(name, vec![ix], &[]) {
            for (t, before) in settled.iter().zip(before) {
                if let (Some(b), Some(a)) = (before, self.equity(t)) {
                    if a < b {
                        self.flag(format!("{name} lowered the equity of {}: {b} -> {a}", t.margin));
                    }
                }
            }
        }
    }

    /// The margin accounts of the actors in `mask` (one bit per actor).
    fn accounts_in(&self, mask: u8) -> Vec<Pubkey> {
        (0..ACTORS).filter(|i| mask & (1 << i) != 0).map(|i| self.actors[i].margin).collect()
    }

    fn health(&self, a: &MarginAccount, skip: Option<u16>) -> Vec<Pubkey> {
        ix::health_markets(&self.fx.exchange, a, skip)
    }

    fn set_clock(&mut self) {
        self.h.set_clock(self.slot, self.ts);
    }

    /// Runs one operation, then what the admin resumes.
    pub fn run(&mut self, op: &Op) {
        self.apply(op);
        let admin = self.fx.admin.insecure_clone();
        let mut due = vec![];
        self.resume.retain_mut(|(left, what)| {
            *left -= 1;
            if *left == 0 {
                due.push(*what);
            }
            *left > 0
        });
        for what in due {
            let ix = match what {
                None => ix::set_paused(&self.fx.exchange, &admin.pubkey(), 0),
                Some(m) => {
                    ix::set_market_status(&self.markets[m as usize].accounts, &admin.pubkey(), MarketStatus::Active)
                }
            };
            self.tx(if what.is_none() { "set_paused" } else { "set_market_status" }, vec![ix], &[&admin]);
        }
    }

    fn apply(&mut self, op: &Op) {
        let name = op.name();
        match *op {
            Op::Deposit { acct, amount } => {
                let t = self.actor(acct);
                let wallet = self.h.svm.get_account(&t.token).map_or(0, |_| self.h.token_balance(&t.token));
                let amount = match amount {
                    Amount::PerMille(p) => (wallet as u128 * p as u128 / 1_000) as u64,
                    Amount::Exact(x) => x,
                };
                self.tx(
                    name,
                    vec![ix::deposit(&self.fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, amount)],
                    &[&t.owner],
                );
            }
            Op::Withdraw { acct, amount } => {
                let t = self.actor(acct);
                let Some(a) = self.account(&t) else { return };
                let amount = match amount {
                    Amount::PerMille(p) => (a.collateral.max(0) as u128 * p as u128 / 1_000) as u64,
                    Amount::Exact(x) => x,
                };
                let health = self.health(&a, None);
                let ix =
                    ix::withdraw_checked(&self.fx.collateral, &t.margin, &t.owner.pubkey(), &t.token, amount, &health);
                self.tx(name, vec![ix], &[&t.owner]);
            }
            Op::Place { acct, market, order, wrong_health } => {
                let t = self.actor(acct);
                let (Some((m, state)), Some(a)) = (self.market(market), self.account(&t)) else { return };
                let mut health = self.health(&a, Some(m.index));
                if wrong_health {
                    health.reverse();
                    health.push(m.accounts.market);
                }
                let mut ix =
                    ix::place_order(&m.accounts, &t.margin, &t.owner.pubkey(), self.args(&state, &order), &health);
                raw_order_codes(&mut ix, 8, &order);
                self.tx(name, vec![ix], &[&t.owner]);
            }
            Op::Lever { acct, market, long, per_cent } => {
                let (maker, t) = (self.actors[0].clone_ref(), self.actor(acct));
                let (Some((m, state)), Some(a)) = (self.market(market), self.account(&t)) else { return };
                let markets: BTreeMap<u16, Market> =
                    self.markets.iter().map(|m| (m.index, self.h.market(&m.accounts.market))).collect();
                let Some(health) = meridian_sdk::risk::health_with(
                    &a,
                    &markets,
                    meridian_sdk::risk::Valuation::Conservative { now_slot: self.slot },
                ) else {
                    return;
                };
                // an initial requirement of ~25% of a lot's value (30% for options: a rough guess;
                // the program has the last word)
                let per_lot =
                    state.lot_value().unwrap_or(1).max(1) as i128 * if state.is_option() { 30 } else { 25 } / 100;
                let lots =
                    (health.initial_free().max(0) * per_cent as i128 / 100 / per_lot.max(1)).clamp(1, 1 << 40) as u64;
                let price = state.band().reference.0;
                let (side, maker_side) =
                    if long { (OrderSide::Bid, OrderSide::Ask) } else { (OrderSide::Ask, OrderSide::Bid) };
                let quote = PlaceOrderArgs {
                    side: maker_side,
                    price,
                    size: lots,
                    order_kind: OrderType::PostOnly,
                    ..PlaceOrderArgs::default()
                };
                let maker_health = self.health(&self.account(&maker).unwrap_or(a), Some(m.index));
                self.tx(
                    name,
                    vec![ix::place_order(&m.accounts, &maker.margin, &maker.owner.pubkey(), quote, &maker_health)],
                    &[&maker.owner],
                );
                let take = PlaceOrderArgs {
                    side,
                    price,
                    size: lots,
                    order_kind: OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::default()
                };
                let health = self.health(&a, Some(m.index));
                self.tx(
                    name,
                    vec![ix::place_order(&m.accounts, &t.margin, &t.owner.pubkey(), take, &health)],
                    &[&t.owner],
                );
            }
            Op::Replace { acct, pick, order } => {
                let t = self.actor(acct);
                let Some(a) = self.account(&t) else { return };
                let slots: Vec<usize> = a.order_slots().collect();
                let Some(&slot) = slots.get(pick as usize % slots.len().max(1)) else { return };
                let o = a.open_orders[slot];
                let Some((m, state)) = self.market(o.market_index as u8) else { return };
                let health = self.health(&a, Some(m.index));
                let mut ix = ix::replace_order(
                    &m.accounts,
                    &t.margin,
                    &t.owner.pubkey(),
                    o.seq,
                    self.args(&state, &order),
                    &health,
                );
                raw_order_codes(&mut ix, 16, &order);
                self.tx(name, vec![ix], &[&t.owner]);
            }
            Op::Cancel { acct, pick, by_client_id } => {
                let t = self.actor(acct);
                let Some(a) = self.account(&t) else { return };
                let slots: Vec<usize> = a.order_slots().collect();
                let Some(&slot) = slots.get(pick as usize % slots.len().max(1)) else { return };
                let o = a.open_orders[slot];
                let Some((m, _)) = self.market(o.market_index as u8) else { return };
                let ix = match by_client_id {
                    true => ix::cancel_order_by_client_id(&m.accounts, &t.margin, &t.owner.pubkey(), o.client_order_id),
                    false => ix::cancel_order(&m.accounts, &t.margin, &t.owner.pubkey(), o.seq),
                };
                self.tx(name, vec![ix], &[&t.owner]);
            }
            Op::CancelAll { acct, market, side } => {
                let t = self.actor(acct);
                let Some((m, _)) = self.market(market) else { return };
                let mut ix = ix::cancel_all_orders(&m.accounts, &t.margin, &t.owner.pubkey(), code(side), 0);
                ix.data[8] = side; // 3: no such side, sent as is
                self.tx(name, vec![ix], &[&t.owner]);
            }
            Op::Crank { market, limit, reward, drop_maker } => {
                let Some((m, _)) = self.market(market) else { return };
                let events = self.h.events(&m);
                let mut makers: Vec<Pubkey> =
                    events.iter().take(limit as usize).map(|e| Pubkey::new_from_array(e.maker)).collect();
                makers.sort();
                makers.dedup();
                if drop_maker && !makers.is_empty() {
                    makers.remove(0);
                }
                let reward = self.actor(reward).margin;
                let ixs = vec![ix::consume_events(&m.accounts, &reward, limit, &makers)];
                if let Some(meta) = self.tx_meta(name, ixs.clone(), &[]) {
                    // the crank published exactly the events it applied, in queue order
                    let records = records_of(&ixs, &self.h.payer.pubkey(), &meta);
                    if let Err(e) = check_crank_record(&m.accounts.market, &events, &meta, &records) {
                        self.flag(e);
                    }
                }
            }
            Op::Oracle { underlying, move_bps, mode } => {
                let i = underlying as usize % self.underlyings.len();
                let u = &mut self.underlyings[i];
                u.dollars = (u.dollars * (1.0 + move_bps as f64 / 10_000.0)).clamp(1.0, 10_000_000.0);
                let d = u.dollars;
                let prices: Vec<f64> = match mode {
                    1 => vec![d, d, d * 1.1],
                    _ => vec![d; 3],
                };
                let publish = match mode {
                    2 => 2,
                    3 => 0,
                    _ => 3,
                };
                let u = &self.underlyings[i];
                let (oracle_sources, oracle) = (
                    u.oracle.sources.clone(),
                    OracleFixture { address: u.oracle.address, sources: u.oracle.sources.clone() },
                );
                let partial = OracleFixture { address: oracle.address, sources: oracle_sources[..publish].to_vec() };
                self.h.set_sources(&partial, &prices[..publish]);
                let linear: Vec<Pubkey> = u.linear.iter().map(|m| m.accounts.market).collect();
                let options: Vec<Pubkey> = u.options.iter().map(|m| m.accounts.market).collect();
                self.tx(name, vec![oracle.refresh_markets_ix(&linear)], &[]);
                self.tx(name, vec![oracle.refresh_markets_ix(&options)], &[]);
            }
            Op::Clock { secs } => {
                self.ts += secs as i64;
                self.slot += 2 * secs as u64 + 1;
                self.set_clock();
            }
            Op::UpdateFunding { market } => {
                let Some((m, _)) = self.market(market) else { return };
                self.tx(name, vec![ix::update_funding(&m.accounts)], &[]);
            }
            Op::SettleFunding { market, accts } => {
                let Some((m, _)) = self.market(market) else { return };
                let list: Vec<Pubkey> =
                    (0..ACTORS).filter(|i| accts & (1 << i) != 0).map(|i| self.actors[i].margin).collect();
                self.tx(name, vec![ix::settle_funding(&m.accounts.market, &list)], &[]);
            }
            Op::SettlePnl { market, accts } => {
                let Some((m, _)) = self.market(market) else { return };
                // mostly the accounts with a position there (one without: NoPositionToSettle)
                let settled: Vec<Trader> = (0..ACTORS)
                    .filter(|i| accts & (1 << i) != 0)
                    .filter(|&i| {
                        accts & 0x80 != 0
                            || self.account(&self.actors[i]).is_some_and(|a| a.find_position(m.index).is_some())
                    })
                    .map(|i| self.actors[i].clone_ref())
                    .collect();
                let list: Vec<Pubkey> = settled.iter().map(|t| t.margin).collect();
                self.settle_keeping_equity(name, ix::settle_pnl(&m.accounts, &list), &settled);
            }
            Op::LiquidateCancel { liquidator, target, market } => {
                let (l, t) = (self.actor(liquidator), self.actor(target));
                let Some(a) = self.account(&t) else { return };
                let with_orders: Vec<u8> = a.order_slots().map(|s| a.open_orders[s].market_index as u8).collect();
                let Some((m, _)) = self.market(pick(&with_orders, market)) else { return };
                let health = self.health(&a, Some(m.index));
                let ix = ix::liquidate_cancel_orders(
                    &self.fx.exchange,
                    &m.accounts,
                    &t.margin,
                    &l.margin,
                    &l.owner.pubkey(),
                    &health,
                );
                self.tx(name, vec![ix], &[&l.owner]);
            }
            Op::LiquidateTake { liquidator, target, market, max_lots } => {
                let (l, t) = (self.actor(liquidator), self.actor(target));
                let (Some(a), Some(la)) = (self.account(&t), self.account(&l)) else { return };
                let held: Vec<u8> =
                    a.positions_in_use().filter(|p| p.base_lots != 0).map(|p| p.market_index as u8).collect();
                let Some((m, _)) = self.market(pick(&held, market)) else { return };
                let theirs = self.health(&a, Some(m.index));
                let mut ours = self.health(&la, Some(m.index));
                // the takeover may add this market to the liquidator's positions: its other markets
                ours.retain(|k| *k != m.accounts.market);
                let ix = ix::liquidate_take_position(
                    &self.fx.exchange,
                    &m.accounts,
                    &t.margin,
                    &l.margin,
                    &l.owner.pubkey(),
                    max_lots,
                    &theirs,
                    &ours,
                );
                self.tx(name, vec![ix], &[&l.owner]);
            }
            Op::Bankruptcy { target, market } => {
                let t = self.actor(target);
                let Some(a) = self.account(&t) else { return };
                let owing: Vec<u8> =
                    a.positions_in_use().filter(|p| p.quote_balance < 0).map(|p| p.market_index as u8).collect();
                let Some((m, _)) = self.market(pick(&owing, market)) else { return };
                let caller = self.wallets[0].insecure_clone();
                // half the time every other market is swept first (the fund's whole share)
                let others: Vec<Pubkey> = if market % 2 == 0 {
                    self.markets.iter().filter(|o| o.index != m.index).map(|o| o.accounts.market).collect()
                } else {
                    vec![]
                };
                let ix = ix::liquidate_bankruptcy_sweeping(
                    &self.fx.exchange,
                    &m.accounts,
                    &t.margin,
                    &caller.pubkey(),
                    &others,
                );
                self.tx(name, vec![ix], &[&caller]);
            }
            Op::Insurance { acct, amount } => {
                let t = self.actor(acct);
                self.tx(
                    name,
                    vec![ix::deposit_insurance(&self.fx.collateral, &t.owner.pubkey(), &t.token, amount)],
                    &[&t.owner],
                );
            }
            Op::Band { market, bps } => {
                let Some((m, _)) = self.market(market) else { return };
                let admin = self.fx.admin.insecure_clone();
                self.tx(name, vec![ix::set_price_band(&m.accounts, &admin.pubkey(), bps)], &[&admin]);
            }
            Op::Status { market, status } => {
                let Some((m, _)) = self.market(market) else { return };
                let admin = self.fx.admin.insecure_clone();
                let mut ix = ix::set_market_status(&m.accounts, &admin.pubkey(), code(status));
                ix.data[8] = status; // the raw code, so unknown ones reach the program
                if self.tx(name, vec![ix], &[&admin]) && status != 0 {
                    self.resume.push((10, Some(market)));
                }
            }
            Op::Pause { flags } => {
                let admin = self.fx.admin.insecure_clone();
                if self.tx(name, vec![ix::set_paused(&self.fx.exchange, &admin.pubkey(), flags)], &[&admin])
                    && flags != 0
                {
                    self.resume.push((10, None));
                }
            }
            Op::Close { acct } => {
                let t = self.actor(acct);
                self.tx(
                    name,
                    vec![ix::close_margin_account(&self.fx.exchange, &t.margin, &t.owner.pubkey())],
                    &[&t.owner],
                );
            }
            Op::CancelExpired { market, accts } => {
                let Some((m, _)) = self.market(market) else { return };
                let list = self.accounts_in(accts);
                self.tx(name, vec![ix::cancel_expired_orders(&m.accounts, &list)], &[]);
            }
            Op::FixPrice { market } => {
                let Some((m, _)) = self.market(market) else { return };
                self.tx(name, vec![ix::fix_settlement_price(&m.accounts)], &[]);
            }
            Op::SettleExpired { market, accts } => {
                let Some((m, _)) = self.market(market) else { return };
                let settled: Vec<Trader> =
                    (0..ACTORS).filter(|i| accts & (1 << i) != 0).map(|i| self.actors[i].clone_ref()).collect();
                let list: Vec<Pubkey> = settled.iter().map(|t| t.margin).collect();
                self.settle_keeping_equity(name, ix::settle_expired(&m.accounts, &list), &settled);
            }
            Op::SetSettlementPrice { market, price_bps } => {
                let Some((m, state)) = self.market(market) else { return };
                let admin = self.fx.admin.insecure_clone();
                let price = (state.mark_price as u128 * price_bps as u128 / 10_000).min(u64::MAX as u128) as u64;
                self.tx(name, vec![ix::set_settlement_price(&m.accounts, &admin.pubkey(), price)], &[&admin]);
            }
            Op::CloseMarket { market } => {
                let Some((m, _)) = self.market(market) else { return };
                let admin = self.fx.admin.insecure_clone();
                self.tx(name, vec![ix::close_market(&m.accounts, &admin.pubkey())], &[&admin]);
            }
            Op::SetDelegate { acct, wallet } => {
                let t = self.actor(acct);
                let key = wallet.map_or(Pubkey::default(), |w| self.wallets[w as usize % self.wallets.len()].pubkey());
                self.tx(name, vec![ix::set_delegate(&t.margin, &t.owner.pubkey(), &key)], &[&t.owner]);
            }
            Op::DelegatePlace { acct, wallet, market, order } => {
                let t = self.actor(acct);
                let signer = self.wallets[wallet as usize % self.wallets.len()].insecure_clone();
                let (Some((m, state)), Some(a)) = (self.market(market), self.account(&t)) else { return };
                let health = self.health(&a, Some(m.index));
                let mut ix =
                    ix::place_order(&m.accounts, &t.margin, &signer.pubkey(), self.args(&state, &order), &health);
                raw_order_codes(&mut ix, 8, &order);
                self.tx(name, vec![ix], &[&signer]);
            }
            Op::MassQuote { acct, market, cancel, kind, bids, asks, gap_bps, step_bps, size, expiry, delegate } => {
                let t = self.actor(acct);
                let (Some((m, state)), Some(a)) = (self.market(market), self.account(&t)) else { return };
                let level = |i: u8, sign: i32| QuoteLevel {
                    price: self.price(&state, Price::Offset(sign * (gap_bps + i as i32 * step_bps as i32))),
                    size,
                };
                let args = MassQuoteArgs {
                    cancel_all: cancel == 1,
                    cancel_client_ids: if cancel == 2 { (0..8).collect() } else { vec![] },
                    order_kind: code(kind),
                    expiry_ts: if expiry == 0 { 0 } else { self.ts + expiry as i64 },
                    client_order_id_base: 0,
                    bids: (0..bids).map(|i| level(i, -1)).collect(),
                    asks: (0..asks).map(|i| level(i, 1)).collect(),
                };
                let signer = match delegate {
                    Some(w) => self.wallets[w as usize % self.wallets.len()].insecure_clone(),
                    None => t.owner.insecure_clone(),
                };
                let health = self.health(&a, Some(m.index));
                // the order type follows the flag, the length and the ids (8 bytes each) of the cancels
                let at = 8 + 1 + 4 + 8 * args.cancel_client_ids.len();
                let mut ix = ix::mass_quote(&m.accounts, &t.margin, &signer.pubkey(), args, &health);
                ix.data[at] = kind; // codes no order type has are sent as they are
                self.tx(name, vec![ix], &[&signer]);
            }
            Op::Sweep { market } => {
                let Some((m, _)) = self.market(market) else { return };
                self.tx(name, vec![ix::sweep_market(&m.accounts)], &[]);
            }
            Op::ClearAuction { market } => {
                let Some((m, state)) = self.market(market) else { return };
                if self.tx(name, vec![ix::clear_auction(&m.accounts)], &[])
                    && self.h.market(&m.accounts.market).volume_quote > state.volume_quote
                {
                    // a clearing that traded (the report shows how often)
                    *self.stats.ok.entry("clear_auction (traded)").or_default() += 1;
                }
            }
            Op::SetMode { market, mode, period } => {
                let Some((m, _)) = self.market(market) else { return };
                let admin = self.fx.admin.insecure_clone();
                let mut ix = ix::set_market_mode(&m.accounts, &admin.pubkey(), code(mode), period);
                ix.data[8] = mode; // the raw code, so unknown ones reach the program
                self.tx(name, vec![ix], &[&admin]);
            }
            Op::Reopen { acct } => {
                let i = acct as usize % ACTORS;
                let t = self.actor(acct);
                let sub = ACTOR_KEYS[i].1;
                self.tx(
                    name,
                    vec![ix::create_margin_account(&self.fx.exchange, &t.owner.pubkey(), &t.owner.pubkey(), sub)],
                    &[&t.owner],
                );
            }
        }
    }

    /// The invariants after an operation (see the module docs).
    pub fn check(&mut self) -> Result<(), String> {
        if let Some(v) = self.violation.take() {
            return Err(v);
        }
        let exchange = self.h.exchange(&self.fx.exchange);
        let vault = self.h.token_balance(&self.fx.collateral.vault) as i128;
        let accounts = self.h.margin_accounts(&self.fx.exchange);
        let markets = self.h.markets_of(&self.fx.exchange);
        let totals = exchange.totals_with(&markets);
        let total: i128 = accounts.iter().map(|(_, a)| a.collateral as i128).sum();
        if total != totals.collateral {
            return Err(format!(
                "sum of collateral {total} != total_collateral with the markets' unswept {}",
                totals.collateral
            ));
        }
        if vault != totals.liabilities() {
            return Err(format!("vault {vault} != {totals:?}"));
        }
        for (k, a) in &accounts {
            if a.collateral < 0 {
                return Err(format!(
                    "account {k} holds negative collateral {} (a debt paid out to someone else)",
                    a.collateral
                ));
            }
        }
        let pools: u64 = markets.iter().map(|m| m.pnl_pool).sum();
        if pools != exchange.pnl_pools {
            return Err(format!("the markets' PnL pools {pools} != the exchange's total {}", exchange.pnl_pools));
        }
        for m in self.markets.clone() {
            let market = self.h.market(&m.accounts.market);
            let events = self.h.events(&m);
            if events.is_empty() {
                market_balance(&market, m.index, &accounts)?;
            } else {
                self.drainable(&m, events.len())?;
            }
        }
        Ok(())
    }

    /// A crank that passes every maker drains the queue (simulated: nothing changes).
    fn drainable(&self, m: &MarketFixture, len: usize) -> Result<(), String> {
        let events = self.h.events(m);
        let mut makers: Vec<Pubkey> = events.iter().map(|e| Pubkey::new_from_array(e.maker)).collect();
        makers.sort();
        makers.dedup();
        // one crank applies at most MAX_EVENTS_PER_CONSUME events: as many as the queue needs
        let per = meridian::history::MAX_EVENTS_PER_CONSUME as usize;
        let mut ixs = vec![meridian_sdk::budget::set_compute_unit_limit(1_400_000)];
        for _ in 0..len.div_ceil(per).max(1) {
            ixs.push(ix::consume_events(&m.accounts, &self.actors[0].margin, per as u16, &makers));
        }
        let tx = Transaction::new_signed_with_payer(
            &ixs,
            Some(&self.h.payer.pubkey()),
            &[&self.h.payer],
            self.h.svm.latest_blockhash(),
        );
        match self.h.svm.simulate_transaction(tx) {
            Ok(_) => Ok(()),
            Err(f) => Err(format!(
                "market {}: the event queue ({len} events) cannot be drained: {}\n{}",
                m.index,
                error_name(&f.err),
                f.meta.logs.join("\n")
            )),
        }
    }
}

/// Mostly one of `candidates` (by `k`), one time in eight (or with none) market `k` itself.
fn pick(candidates: &[u8], k: u8) -> u8 {
    if candidates.is_empty() || k % 8 == 7 {
        k % 8
    } else {
        candidates[k as usize % candidates.len()]
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    pub seed: u64,
    pub ops: usize,
    pub stats: Stats,
    pub violation: Option<Violation>,
}

/// The operations of run `seed`.
pub fn operations(seed: u64, n: usize) -> Vec<Op> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| generate(&mut r)).collect()
}

/// Replays `ops` on a fresh world of `seed`; stops at the first violation.
pub fn replay(seed: u64, ops: &[Op]) -> Report {
    let mut w = World::new(seed);
    if let Err(what) = w.check() {
        return Report {
            seed,
            ops: 0,
            stats: w.stats,
            violation: Some(Violation { op_index: 0, op: Op::Clock { secs: 0 }, what }),
        };
    }
    for (i, op) in ops.iter().enumerate() {
        w.run(op);
        if let Err(what) = w.check() {
            return Report {
                seed,
                ops: i + 1,
                stats: w.stats,
                violation: Some(Violation { op_index: i, op: op.clone(), what }),
            };
        }
    }
    Report { seed, ops: ops.len(), stats: w.stats, violation: None }
}

/// A short subsequence of `ops` that still violates an invariant on a world of `seed`, found by
/// delta debugging (drop chunks of halving size while a violation remains), within `budget`
/// replays.
pub fn minimize(seed: u64, ops: &[Op], mut budget: usize) -> Vec<Op> {
    let mut ops = ops.to_vec();
    let mut chunk = ops.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < ops.len() && budget > 0 {
            budget -= 1;
            let mut candidate = ops.clone();
            candidate.drain(i..(i + chunk).min(ops.len()));
            match replay(seed, &candidate).violation {
                // keep what precedes the violation only
                Some(v) => ops = candidate[..=v.op_index].to_vec(),
                None => i += chunk,
            }
        }
        if chunk == 1 || budget == 0 {
            return ops;
        }
        chunk /= 2;
    }
}

/// Runs `n` operations of `seed`; on a violation, shrinks the run and returns the minimal replay
/// as the error (operations listed, ready to paste into a test).
pub fn fuzz(seed: u64, n: usize) -> Result<Report, String> {
    let ops = operations(seed, n);
    let report = replay(seed, &ops);
    let Some(v) = &report.violation else { return Ok(report) };
    let minimal = minimize(seed, &ops[..=v.op_index], 400);
    let last = replay(seed, &minimal).violation.map(|v| v.what).unwrap_or_default();
    let listing: Vec<String> = minimal.iter().map(|op| format!("    {op:?},")).collect();
    Err(format!(
        "seed {seed}: violation at operation {} ({}): {}\nminimal replay ({} operations) on World::new({seed}):\n{}\nwhich ends in: {last}",
        v.op_index,
        v.op.name(),
        v.what,
        minimal.len(),
        listing.join("\n")
    ))
}

/// An argument enum from a raw code (a code no variant has gives the default; the caller then puts
/// the raw code back into the instruction, so absurd codes still reach the program).
fn code<T: AnchorDeserialize + Default>(raw: u8) -> T {
    T::try_from_slice(&[raw]).unwrap_or_default()
}

/// Writes an order's raw side, type and self-trade codes into its instruction's `PlaceOrderArgs`,
/// which start at `at` (after the discriminator and any argument before them): side, price (8),
/// size (8), order type, self-trade behaviour.
fn raw_order_codes(ix: &mut solana_sdk::instruction::Instruction, at: usize, o: &OrderSpec) {
    ix.data[at] = o.side;
    ix.data[at + 17] = o.kind;
    ix.data[at + 18] = o.self_trade;
}
