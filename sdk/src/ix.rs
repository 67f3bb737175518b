//! Instruction builders, one per program instruction. Account order and data come from the program
//! crate's Anchor-generated `accounts::*` and `instruction::*` types.

use crate::pda;
use anchor_lang::solana_program::{system_instruction, system_program};
use anchor_lang::{InstructionData, ToAccountMetas};
use meridian::{
    accounts, instruction, ExchangeParams, MarketMode, MarketParams, MarketStatus, MassQuoteArgs, OracleParams,
    PlaceOrderArgs,
};
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: meridian::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// Creates exchange `params.index` of `admin`, with its vault for `collateral_mint`.
pub fn initialize_exchange(
    admin: &Pubkey,
    collateral_mint: &Pubkey,
    token_program: &Pubkey,
    params: ExchangeParams,
) -> Instruction {
    let exchange = pda::exchange(admin, params.index).0;
    build(
        accounts::InitializeExchange {
            admin: *admin,
            exchange,
            collateral_mint: *collateral_mint,
            vault: pda::vault(&exchange).0,
            token_program: *token_program,
            system_program: system_program::ID,
        },
        instruction::InitializeExchange { params },
    )
}

pub fn create_margin_account(exchange: &Pubkey, owner: &Pubkey, payer: &Pubkey, sub_account: u16) -> Instruction {
    build(
        accounts::CreateMarginAccount {
            exchange: *exchange,
            margin_account: pda::margin_account(exchange, owner, sub_account).0,
            owner: *owner,
            payer: *payer,
            system_program: system_program::ID,
        },
        instruction::CreateMarginAccount { sub_account },
    )
}

/// The accounts deposit and withdraw share, from an exchange's state.
#[derive(Clone, Copy, Debug)]
pub struct CollateralAccounts {
    pub exchange: Pubkey,
    pub vault: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

impl CollateralAccounts {
    pub fn of(exchange_address: Pubkey, exchange: &meridian::Exchange) -> Self {
        CollateralAccounts {
            exchange: exchange_address,
            vault: exchange.vault,
            mint: exchange.collateral_mint,
            token_program: exchange.collateral_token_program,
        }
    }
}

pub fn deposit(
    c: &CollateralAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    owner_token: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Deposit {
            exchange: c.exchange,
            margin_account: *margin_account,
            owner: *owner,
            owner_token: *owner_token,
            vault: c.vault,
            collateral_mint: c.mint,
            token_program: c.token_program,
        },
        instruction::Deposit { amount },
    )
}

pub fn withdraw(
    c: &CollateralAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    recipient: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::Withdraw {
            exchange: c.exchange,
            margin_account: *margin_account,
            owner: *owner,
            recipient: *recipient,
            vault: c.vault,
            collateral_mint: c.mint,
            token_program: c.token_program,
        },
        instruction::Withdraw { amount },
    )
}

pub fn close_margin_account(exchange: &Pubkey, margin_account: &Pubkey, owner: &Pubkey) -> Instruction {
    build(
        accounts::CloseMarginAccount { exchange: *exchange, margin_account: *margin_account, owner: *owner },
        instruction::CloseMarginAccount {},
    )
}

pub fn set_paused(exchange: &Pubkey, admin: &Pubkey, flags: u8) -> Instruction {
    build(accounts::SetPaused { exchange: *exchange, admin: *admin }, instruction::SetPaused { flags })
}

/// Admin: creates the oracle aggregate `name` of an exchange.
pub fn create_oracle(exchange: &Pubkey, admin: &Pubkey, name: [u8; 16], params: OracleParams) -> Instruction {
    build(
        accounts::CreateOracle {
            exchange: *exchange,
            admin: *admin,
            oracle: pda::oracle(exchange, &name).0,
            system_program: system_program::ID,
        },
        instruction::CreateOracle { name, params },
    )
}

/// Admin: replaces an oracle's sources and limits.
pub fn configure_oracle(exchange: &Pubkey, admin: &Pubkey, oracle: &Pubkey, params: OracleParams) -> Instruction {
    build(
        accounts::ConfigureOracle { exchange: *exchange, admin: *admin, oracle: *oracle },
        instruction::ConfigureOracle { params },
    )
}

/// Permissionless: refreshes an oracle from its source accounts (one per configured source, in
/// configured order: for Pyth any `PriceUpdateV2` of the feed, for Switchboard the feed account) and
/// pushes the result to `markets` (markets priced by this oracle).
pub fn refresh_oracle(oracle: &Pubkey, sources: &[Pubkey], markets: &[Pubkey]) -> Instruction {
    let mut ix = build(accounts::RefreshOracle { oracle: *oracle }, instruction::RefreshOracle {});
    ix.accounts.extend(sources.iter().map(|s| AccountMeta::new_readonly(*s, false)));
    ix.accounts.extend(markets.iter().map(|m| AccountMeta::new(*m, false)));
    ix
}

/// Permissionless: accrues funding into a perpetual's index.
pub fn update_funding(m: &MarketAccounts) -> Instruction {
    build(accounts::UpdateFunding { market: m.market, book: m.book }, instruction::UpdateFunding {})
}

/// Permissionless: settles the funding of `margin_accounts`' positions in the market.
pub fn settle_funding(market: &Pubkey, margin_accounts: &[Pubkey]) -> Instruction {
    let mut ix = build(accounts::SettleFunding { market: *market }, instruction::SettleFunding {});
    ix.accounts.extend(margin_accounts.iter().map(|a| AccountMeta::new(*a, false)));
    ix
}

/// Permissionless: moves market `m`'s unswept fees, insurance share and collateral total into the
/// exchange's.
pub fn sweep_market(m: &MarketAccounts) -> Instruction {
    build(accounts::SweepMarket { exchange: m.exchange, market: m.market }, instruction::SweepMarket {})
}

/// Permissionless: settles the PnL of `margin_accounts`' positions in market `m` through its PnL
/// pool (losses realized from collateral, profits paid from the pool).
pub fn settle_pnl(m: &MarketAccounts, margin_accounts: &[Pubkey]) -> Instruction {
    with_margin_accounts(
        build(accounts::SettlePnl { exchange: m.exchange, market: m.market }, instruction::SettlePnl {}),
        margin_accounts,
    )
}

/// Owner only: `delegate` may trade for `margin_account` (`Pubkey::default()` clears it). The
/// delegate then signs `place_order` & co. in the owner's place (their `owner` argument).
pub fn set_delegate(margin_account: &Pubkey, owner: &Pubkey, delegate: &Pubkey) -> Instruction {
    build(
        accounts::SetDelegate { margin_account: *margin_account, owner: *owner },
        instruction::SetDelegate { delegate: *delegate },
    )
}

fn with_margin_accounts(mut ix: Instruction, margin_accounts: &[Pubkey]) -> Instruction {
    ix.accounts.extend(margin_accounts.iter().map(|a| AccountMeta::new(*a, false)));
    ix
}

/// Permissionless, from a dated market's expiry on: cancels `margin_accounts`' resting orders in
/// market `m`.
pub fn cancel_expired_orders(m: &MarketAccounts, margin_accounts: &[Pubkey]) -> Instruction {
    let ix =
        build(accounts::CancelExpiredOrders { market: m.market, book: m.book }, instruction::CancelExpiredOrders {});
    with_margin_accounts(ix, margin_accounts)
}

/// Permissionless, after expiry: fixes market `m`'s settlement price from its window's samples.
pub fn fix_settlement_price(m: &MarketAccounts) -> Instruction {
    build(
        accounts::FixSettlementPrice { market: m.market, event_queue: m.event_queue },
        instruction::FixSettlementPrice {},
    )
}

/// Admin, after the grace period without enough samples: sets market `m`'s settlement price (ticks).
pub fn set_settlement_price(m: &MarketAccounts, admin: &Pubkey, price: u64) -> Instruction {
    build(
        accounts::SetSettlementPrice {
            exchange: m.exchange,
            market: m.market,
            event_queue: m.event_queue,
            admin: *admin,
        },
        instruction::SetSettlementPrice { price },
    )
}

/// Permissionless, once the price is fixed: settles `margin_accounts`' positions in market `m` at
/// their payoff, through the PnL pool.
pub fn settle_expired(m: &MarketAccounts, margin_accounts: &[Pubkey]) -> Instruction {
    let ix = build(accounts::SettleExpired { exchange: m.exchange, market: m.market }, instruction::SettleExpired {});
    with_margin_accounts(ix, margin_accounts)
}

/// Admin: closes market `m` (no open interest; a dated one settled; empty book and queue), returning
/// the book's and queue's rent to `admin`.
pub fn close_market(m: &MarketAccounts, admin: &Pubkey) -> Instruction {
    build(
        accounts::CloseMarket {
            exchange: m.exchange,
            market: m.market,
            book: m.book,
            event_queue: m.event_queue,
            admin: *admin,
        },
        instruction::CloseMarket {},
    )
}

/// Admin: a perpetual's funding period (seconds), clamp (bp per period) and impact size (quote
/// native units; 0 = best prices).
pub fn set_funding_params(
    m: &MarketAccounts,
    admin: &Pubkey,
    period_secs: u32,
    max_rate_bps: u32,
    impact_notional: u64,
) -> Instruction {
    build(
        accounts::SetFundingParams { exchange: m.exchange, admin: *admin, market: m.market },
        instruction::SetFundingParams { period_secs, max_rate_bps, impact_notional },
    )
}

/// Admin: the half width of a market's price band, basis points of its reference price (1 to
/// 10,000).
pub fn set_price_band(m: &MarketAccounts, admin: &Pubkey, band_bps: u32) -> Instruction {
    build(
        accounts::SetPriceBand { exchange: m.exchange, admin: *admin, market: m.market },
        instruction::SetPriceBand { band_bps },
    )
}

/// Admin: prices `market` from `oracle`.
pub fn set_market_oracle(exchange: &Pubkey, admin: &Pubkey, market: &Pubkey, oracle: &Pubkey) -> Instruction {
    build(
        accounts::SetMarketOracle { exchange: *exchange, admin: *admin, market: *market, oracle: *oracle },
        instruction::SetMarketOracle {},
    )
}

/// The accounts of a market, from its state.
#[derive(Clone, Copy, Debug)]
pub struct MarketAccounts {
    pub exchange: Pubkey,
    pub market: Pubkey,
    pub book: Pubkey,
    pub event_queue: Pubkey,
}

impl MarketAccounts {
    pub fn of(market_address: Pubkey, market: &meridian::Market) -> Self {
        MarketAccounts {
            exchange: market.exchange,
            market: market_address,
            book: market.book,
            event_queue: market.event_queue,
        }
    }
}

/// The markets the program needs for an account's margin check: those of its positions, in
/// position-slot order, except `skip` (the market the instruction itself passes).
pub fn health_markets(exchange: &Pubkey, account: &meridian::MarginAccount, skip: Option<u16>) -> Vec<Pubkey> {
    account
        .positions_in_use()
        .filter(|p| Some(p.market_index) != skip)
        .map(|p| pda::market(exchange, p.market_index).0)
        .collect()
}

fn with_remaining(mut ix: Instruction, remaining: impl IntoIterator<Item = AccountMeta>) -> Instruction {
    ix.accounts.extend(remaining);
    ix
}

fn readonly(keys: &[Pubkey]) -> impl Iterator<Item = AccountMeta> + '_ {
    keys.iter().map(|k| AccountMeta::new_readonly(*k, false))
}

/// Withdraw, passing the markets of the account's positions (see [`health_markets`]).
pub fn withdraw_checked(
    c: &CollateralAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    recipient: &Pubkey,
    amount: u64,
    health: &[Pubkey],
) -> Instruction {
    with_remaining(withdraw(c, margin_account, owner, recipient, amount), readonly(health))
}

/// The system-program instructions that allocate a market's book and event queue (program-owned,
/// exact sizes): they exceed what `create_market` could create by CPI.
pub fn allocate_market_accounts(
    payer: &Pubkey,
    book: &Pubkey,
    event_queue: &Pubkey,
    params: &MarketParams,
    rent: impl Fn(usize) -> u64,
) -> Vec<Instruction> {
    let book_len = meridian::book_account_len(params.book_capacity);
    let queue_len = meridian::queue_account_len(params.event_queue_capacity);
    vec![
        system_instruction::create_account(payer, book, rent(book_len), book_len as u64, &meridian::ID),
        system_instruction::create_account(payer, event_queue, rent(queue_len), queue_len as u64, &meridian::ID),
    ]
}

pub fn create_market(
    exchange: &Pubkey,
    admin: &Pubkey,
    index: u16,
    params: MarketParams,
    book: &Pubkey,
    event_queue: &Pubkey,
) -> Instruction {
    build(
        accounts::CreateMarket {
            exchange: *exchange,
            admin: *admin,
            market: pda::market(exchange, index).0,
            book: *book,
            event_queue: *event_queue,
            system_program: system_program::ID,
        },
        instruction::CreateMarket { index, params },
    )
}

/// The accounts of the admin's market switches (`set_market_status`, `set_market_mode`).
fn market_admin_accounts(m: &MarketAccounts, admin: &Pubkey) -> accounts::SetMarketStatus {
    accounts::SetMarketStatus {
        exchange: m.exchange,
        market: m.market,
        book: m.book,
        event_queue: m.event_queue,
        admin: *admin,
    }
}

pub fn set_market_status(m: &MarketAccounts, admin: &Pubkey, status: MarketStatus) -> Instruction {
    build(market_admin_accounts(m, admin), instruction::SetMarketStatus { status })
}

/// Admin: `mode` Continuous, or Batch with auctions of `period_slots` slots (0 = the default, 2).
/// The market's book and queue must be empty: send it with `create_market` to list a batch market.
pub fn set_market_mode(m: &MarketAccounts, admin: &Pubkey, mode: MarketMode, period_slots: u64) -> Instruction {
    build(market_admin_accounts(m, admin), instruction::SetMarketMode { mode, period_slots })
}

/// Permissionless: clears a batch market's auction once its period is over (returns
/// `AuctionCleared`; the fills go to the event queue for [`consume_events`]).
pub fn clear_auction(m: &MarketAccounts) -> Instruction {
    build(
        accounts::ClearAuction { exchange: m.exchange, market: m.market, book: m.book, event_queue: m.event_queue },
        instruction::ClearAuction {},
    )
}

fn place_accounts(m: &MarketAccounts, margin_account: &Pubkey, owner: &Pubkey) -> accounts::PlaceOrder {
    accounts::PlaceOrder {
        exchange: m.exchange,
        market: m.market,
        book: m.book,
        event_queue: m.event_queue,
        margin_account: *margin_account,
        owner: *owner,
    }
}

/// Places an order. `health`: the markets of the account's other positions ([`health_markets`]
/// with `skip` = this market's index).
pub fn place_order(
    m: &MarketAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    args: PlaceOrderArgs,
    health: &[Pubkey],
) -> Instruction {
    with_remaining(build(place_accounts(m, margin_account, owner), instruction::PlaceOrder { args }), readonly(health))
}

/// Cancels order `cancel_seq` and places `args` in one instruction.
pub fn replace_order(
    m: &MarketAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    cancel_seq: u64,
    args: PlaceOrderArgs,
    health: &[Pubkey],
) -> Instruction {
    with_remaining(
        build(place_accounts(m, margin_account, owner), instruction::ReplaceOrder { cancel_seq, args }),
        readonly(health),
    )
}

/// Cancels and requotes in one instruction (`MassQuoteArgs`); `health` as for [`place_order`].
pub fn mass_quote(
    m: &MarketAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    args: MassQuoteArgs,
    health: &[Pubkey],
) -> Instruction {
    with_remaining(build(place_accounts(m, margin_account, owner), instruction::MassQuote { args }), readonly(health))
}

fn cancel_accounts(m: &MarketAccounts, margin_account: &Pubkey, owner: &Pubkey) -> accounts::CancelOrder {
    accounts::CancelOrder { market: m.market, book: m.book, margin_account: *margin_account, owner: *owner }
}

pub fn cancel_order(m: &MarketAccounts, margin_account: &Pubkey, owner: &Pubkey, order_seq: u64) -> Instruction {
    build(cancel_accounts(m, margin_account, owner), instruction::CancelOrder { order_seq })
}

pub fn cancel_order_by_client_id(
    m: &MarketAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    client_order_id: u64,
) -> Instruction {
    build(cancel_accounts(m, margin_account, owner), instruction::CancelOrderByClientId { client_order_id })
}

/// The account's orders on `side` (bids, asks or both); limit 0 = all.
pub fn cancel_all_orders(
    m: &MarketAccounts,
    margin_account: &Pubkey,
    owner: &Pubkey,
    side: meridian::CancelSide,
    limit: u8,
) -> Instruction {
    build(cancel_accounts(m, margin_account, owner), instruction::CancelAllOrders { side, limit })
}

/// Liquidation stage 1: cancels `liquidatee`'s resting orders in market `m`; the fee goes to
/// `liquidator_account` (owned by `liquidator`). `health`: the liquidatee's other position markets
/// ([`health_markets`] with `m` left out).
pub fn liquidate_cancel_orders(
    exchange: &Pubkey,
    m: &MarketAccounts,
    liquidatee: &Pubkey,
    liquidator_account: &Pubkey,
    liquidator: &Pubkey,
    health: &[Pubkey],
) -> Instruction {
    let accounts = accounts::LiquidateCancelOrders {
        exchange: *exchange,
        market: m.market,
        book: m.book,
        liquidatee: *liquidatee,
        liquidator_account: *liquidator_account,
        liquidator: *liquidator,
    };
    with_remaining(build(accounts, instruction::LiquidateCancelOrders {}), readonly(health))
}

/// Liquidation stage 2: `liquidator_account` (owned by `liquidator`) takes over up to `max_lots` of
/// `liquidatee`'s position in market `m`. `liquidatee_health` / `liquidator_health`: each
/// account's other position markets ([`health_markets`] with `m` left out; the liquidator's as
/// they will be after the takeover, which adds `m`).
pub fn liquidate_take_position(
    exchange: &Pubkey,
    m: &MarketAccounts,
    liquidatee: &Pubkey,
    liquidator_account: &Pubkey,
    liquidator: &Pubkey,
    max_lots: u64,
    liquidatee_health: &[Pubkey],
    liquidator_health: &[Pubkey],
) -> Instruction {
    let accounts = accounts::LiquidateTakePosition {
        exchange: *exchange,
        market: m.market,
        liquidatee: *liquidatee,
        liquidator_account: *liquidator_account,
        liquidator: *liquidator,
    };
    let ix = build(accounts, instruction::LiquidateTakePosition { max_lots });
    with_remaining(ix, readonly(liquidatee_health).chain(readonly(liquidator_health)))
}

/// Liquidation stage 3 sweeping `others` (markets of the exchange) first, so the insurance fund's
/// share collected there counts (`Stage::Bankruptcy` in `liquidation::instruction` passes every
/// market holding some).
pub fn liquidate_bankruptcy_sweeping(
    exchange: &Pubkey,
    m: &MarketAccounts,
    liquidatee: &Pubkey,
    caller: &Pubkey,
    others: &[Pubkey],
) -> Instruction {
    with_remaining(
        liquidate_bankruptcy(exchange, m, liquidatee, caller),
        others.iter().map(|k| AccountMeta::new(*k, false)),
    )
}

/// Liquidation stage 3: resolves `liquidatee`'s bankruptcy; what the insurance fund cannot pay is
/// socialized in market `m` (where the account's quote balance is negative). `caller` signs.
pub fn liquidate_bankruptcy(
    exchange: &Pubkey,
    m: &MarketAccounts,
    liquidatee: &Pubkey,
    caller: &Pubkey,
) -> Instruction {
    let accounts = accounts::LiquidateBankruptcy {
        exchange: *exchange,
        market: m.market,
        event_queue: m.event_queue,
        liquidatee: *liquidatee,
        caller: *caller,
    };
    build(accounts, instruction::LiquidateBankruptcy {})
}

/// Adds `amount` native units from `source` (owned by `depositor`) to the insurance fund.
pub fn deposit_insurance(c: &CollateralAccounts, depositor: &Pubkey, source: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::DepositInsurance {
            exchange: c.exchange,
            depositor: *depositor,
            source: *source,
            vault: c.vault,
            collateral_mint: c.mint,
            token_program: c.token_program,
        },
        instruction::DepositInsurance { amount },
    )
}

/// Applies up to `limit` events (at most `meridian::history::MAX_EVENTS_PER_CONSUME`); `makers`:
/// the margin accounts the events name (writable). The applied events are published as an
/// `EventsApplied` inner instruction (`crate::history` decodes it).
pub fn consume_events(m: &MarketAccounts, reward_account: &Pubkey, limit: u16, makers: &[Pubkey]) -> Instruction {
    let ix = build(
        accounts::ConsumeEvents {
            exchange: m.exchange,
            market: m.market,
            event_queue: m.event_queue,
            reward_account: *reward_account,
            event_authority: crate::pda::event_authority(),
            program: meridian::ID,
        },
        instruction::ConsumeEvents { limit },
    );
    with_remaining(ix, makers.iter().map(|k| AccountMeta::new(*k, false)))
}
