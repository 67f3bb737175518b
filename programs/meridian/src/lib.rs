//! Meridian: a derivatives exchange on Solana.
//!
//! This crate is the thin Anchor layer: account validation, token CPIs and state updates. The
//! arithmetic lives in `meridian-engine`, shared with the SDK, keepers and CLI.
#![allow(unexpected_cfgs)]

// The registry-only SBF route links memcpy & co. and the i128 libcall shim from these crates.
#[cfg(meridian_upstream_sbf)]
use {sbpf_i128_shim as _, solana_compiler_builtins as _};

use anchor_lang::prelude::*;

/// Logs a label and the remaining compute units in `cu-trace` builds; nothing otherwise.
#[macro_export]
macro_rules! cu_checkpoint {
    ($label:expr) => {
        #[cfg(all(feature = "cu-trace", target_os = "solana"))]
        {
            anchor_lang::prelude::msg!($label);
            unsafe { solana_msg::syscalls::sol_log_compute_units_() };
        }
    };
}

pub mod account_handle;
pub mod args;
pub mod codes;
pub mod error;
pub mod fast_entry;
pub mod history;
pub mod hot_accounts;
pub mod instructions;
pub mod loaders;
pub mod risk;
pub mod state;
pub mod token;
pub mod trading;

pub use args::{CancelSide, OracleSourceKind, OrderSide, OrderType, SelfTradeBehavior};
pub use error::MeridianError;
pub use instructions::*;
pub use state::*;
pub use trading::PlaceOrderArgs;

declare_id!("Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA");

#[program]
pub mod meridian {
    use super::*;

    // Order matters: Anchor dispatches by comparing discriminators in this order, so the order
    // flow comes first.
    /// Places an order; matches at once against the book, rests what may rest. Remaining accounts:
    /// the markets of the account's other positions, in position-slot order (margin check). The
    /// result (order id, fills, fee, resting size) is recorded in the margin account's
    /// `last_placement`.
    pub fn place_order<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: PlaceOrderArgs) -> Result<()> {
        instructions::process_place_order(ctx, args)
    }

    /// Cancels an order by its id (sequence number).
    pub fn cancel_order(ctx: Context<CancelOrder>, order_seq: u64) -> Result<()> {
        instructions::process_cancel_order(ctx, order_seq)
    }

    /// Permissionless crank: applies up to `limit` events to the makers' accounts (remaining
    /// accounts) and pays the reward account. Returns how many were applied.
    pub fn consume_events<'info>(ctx: Context<'info, ConsumeEvents<'info>>, limit: u16) -> Result<u16> {
        instructions::process_consume_events(ctx, limit)
    }

    /// Cancels the account's order `cancel_seq` and places `args`, atomically.
    pub fn replace_order<'info>(
        ctx: Context<'info, PlaceOrder<'info>>,
        cancel_seq: u64,
        args: PlaceOrderArgs,
    ) -> Result<()> {
        instructions::process_replace_order(ctx, cancel_seq, args)
    }

    /// Cancels an order by the client order id given at placement.
    pub fn cancel_order_by_client_id(ctx: Context<CancelOrder>, client_order_id: u64) -> Result<()> {
        instructions::process_cancel_order_by_client_id(ctx, client_order_id)
    }

    /// Cancels the account's orders in a market on `side` (bids, asks or both); at most `limit` (0 =
    /// all). Returns how many.
    pub fn cancel_all_orders(ctx: Context<CancelOrder>, side: CancelSide, limit: u8) -> Result<u8> {
        instructions::process_cancel_all_orders(ctx, side, limit)
    }

    /// Permissionless: moves a market's unswept fees, insurance share and collateral total into
    /// the exchange's (the order flow writes only per-market accounts).
    pub fn sweep_market(ctx: Context<SweepMarket>) -> Result<()> {
        instructions::process_sweep_market(ctx)
    }

    /// A requote in one instruction: cancels the account's orders in the market (all, or by
    /// client ids), then posts up to 32 post-only bids and asks with one margin check. Takes
    /// place_order's accounts. Returns what was cancelled, posted and skipped.
    pub fn mass_quote<'info>(ctx: Context<'info, PlaceOrder<'info>>, args: MassQuoteArgs) -> Result<MassQuoteResult> {
        instructions::process_mass_quote(ctx, args)
    }

    /// Moves `amount` native units of collateral from the owner's token account into the vault.
    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::process_deposit(ctx, amount)
    }

    /// Moves `amount` native units of collateral from the vault to any token account of the mint.
    /// Remaining accounts: the markets of the account's positions, in position-slot order.
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        instructions::process_withdraw(ctx, amount)
    }

    /// Creates the caller's margin account number `sub_account` on an exchange.
    pub fn create_margin_account(ctx: Context<CreateMarginAccount>, sub_account: u16) -> Result<()> {
        instructions::process_create_margin_account(ctx, sub_account)
    }

    /// Owner only: names the key that may place, replace and cancel orders for the account (the
    /// default key clears it); it cannot withdraw, close or change the delegate.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        instructions::process_set_delegate(ctx, delegate)
    }

    /// Closes an empty margin account and returns its rent to the owner.
    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::process_close_margin_account(ctx)
    }

    /// Creates an exchange: its state account, the collateral vault, fee and insurance fields.
    pub fn initialize_exchange(ctx: Context<InitializeExchange>, params: ExchangeParams) -> Result<()> {
        instructions::process_initialize_exchange(ctx, params)
    }

    /// Admin: sets the pause flags (bits of `PauseFlags`); 0 resumes everything.
    pub fn set_paused(ctx: Context<SetPaused>, flags: u8) -> Result<()> {
        instructions::process_set_paused(ctx, flags)
    }

    /// Admin: creates market `index` (= the exchange's market count) with its book and event queue
    /// (both pre-allocated by the client at their exact sizes).
    pub fn create_market(ctx: Context<CreateMarket>, index: u16, params: MarketParams) -> Result<()> {
        instructions::process_create_market(ctx, index, params)
    }

    /// Admin: Active, CancelOnly, Paused or Closed (closing needs an empty book and queue and no
    /// open interest).
    pub fn set_market_status(ctx: Context<SetMarketStatus>, status: MarketStatus) -> Result<()> {
        instructions::process_set_market_status(ctx, status)
    }

    /// Admin: creates the oracle aggregate `name` (PDA [b"oracle", exchange, name]) over 1-4 Pyth or
    /// Switchboard sources with its limits.
    pub fn create_oracle(ctx: Context<CreateOracle>, name: [u8; 16], params: OracleParams) -> Result<()> {
        instructions::process_create_oracle(ctx, name, params)
    }

    /// Admin: replaces an oracle's sources and limits.
    pub fn configure_oracle(ctx: Context<ConfigureOracle>, params: OracleParams) -> Result<()> {
        instructions::process_configure_oracle(ctx, params)
    }

    /// Admin: prices a market from an oracle aggregate of the same exchange.
    pub fn set_market_oracle(ctx: Context<SetMarketOracle>) -> Result<()> {
        instructions::process_set_market_oracle(ctx)
    }

    /// Permissionless: reads every source (remaining accounts, in configured order), takes the
    /// median of the valid ones, updates price, status, TWAP accumulator and realized volatility,
    /// then pushes the result to the markets passed after the sources (each priced by this oracle).
    pub fn refresh_oracle(ctx: Context<RefreshOracle>) -> Result<()> {
        instructions::process_refresh_oracle(ctx)
    }

    /// Permissionless: accrues perpetual funding into the market's index (premium of the book's
    /// impact prices over the oracle, clamped).
    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        instructions::process_update_funding(ctx)
    }

    /// Permissionless: settles the funding of the margin accounts passed (remaining accounts,
    /// writable) in this market. Returns how many positions were settled.
    pub fn settle_funding<'info>(ctx: Context<'info, SettleFunding<'info>>) -> Result<u16> {
        instructions::process_settle_funding(ctx)
    }

    /// Permissionless: settles the PnL of the margin accounts passed (remaining accounts, writable)
    /// in this market through its PnL pool: losses realized from collateral, profits paid from what
    /// losers paid in. Returns how many positions moved money.
    pub fn settle_pnl<'info>(ctx: Context<'info, SettlePnl<'info>>) -> Result<u16> {
        instructions::process_settle_pnl(ctx)
    }

    /// Permissionless, from a dated market's expiry on: cancels the resting orders of the margin
    /// accounts passed (remaining accounts, writable) in it. Returns how many.
    pub fn cancel_expired_orders<'info>(ctx: Context<'info, CancelExpiredOrders<'info>>) -> Result<u16> {
        instructions::process_cancel_expired_orders(ctx)
    }

    /// Permissionless, after a dated market's expiry: fixes its settlement price at the average of
    /// the window's oracle samples, once enough buckets have them.
    pub fn fix_settlement_price(ctx: Context<FixSettlementPrice>) -> Result<()> {
        instructions::process_fix_settlement_price(ctx)
    }

    /// Admin, the last resort: sets the settlement price (ticks) of a dated market whose window
    /// still lacks samples a day after expiry; recorded in the market as set by the admin.
    pub fn set_settlement_price(ctx: Context<SetSettlementPrice>, price: u64) -> Result<()> {
        instructions::process_set_settlement_price(ctx, price)
    }

    /// Permissionless, once the settlement price is fixed: closes the positions of the margin
    /// accounts passed (remaining accounts, writable) at their payoff and settles their PnL through
    /// the market's pool. Returns how many positions moved.
    pub fn settle_expired<'info>(ctx: Context<'info, SettleExpired<'info>>) -> Result<u16> {
        instructions::process_settle_expired(ctx)
    }

    /// Admin: closes a market with no open interest (a dated one once settled) and an empty book and
    /// queue; the book's and queue's rent goes to the admin, the market account stays.
    pub fn close_market(ctx: Context<CloseMarket>) -> Result<()> {
        instructions::process_close_market(ctx)
    }

    /// Admin: a perpetual's funding period (seconds), clamp (bp per period) and impact size.
    pub fn set_funding_params(
        ctx: Context<SetFundingParams>,
        period_secs: u32,
        max_rate_bps: u32,
        impact_notional: u64,
    ) -> Result<()> {
        instructions::process_set_funding_params(ctx, period_secs, max_rate_bps, impact_notional)
    }

    /// Liquidation stage 1, permissionless: cancels the resting orders in one market of an account
    /// below maintenance (every oracle of its positions usable); the caller's account earns a small
    /// fixed fee. Remaining accounts: the liquidatee's other position markets. Returns how many.
    pub fn liquidate_cancel_orders<'info>(ctx: Context<'info, LiquidateCancelOrders<'info>>) -> Result<u8> {
        instructions::process_liquidate_cancel_orders(ctx)
    }

    /// Liquidation stage 2, permissionless: the caller's account takes over up to `max_lots` of the
    /// position in `market` of an account below maintenance with no orders, at the lot's value moved
    /// against it by the liquidation discount; only the lots that restore its liquidation end.
    /// Remaining accounts: the liquidatee's other position markets, then the liquidator's. Returns
    /// the lots taken.
    pub fn liquidate_take_position<'info>(
        ctx: Context<'info, LiquidateTakePosition<'info>>,
        max_lots: u64,
    ) -> Result<u64> {
        instructions::process_liquidate_take_position(ctx, max_lots)
    }

    /// Liquidation stage 3, permissionless: an account with no positions or orders and negative
    /// equity has its deficit paid by the insurance fund; what the fund cannot pay is socialized
    /// over `market`'s open interest.
    pub fn liquidate_bankruptcy<'info>(ctx: Context<'info, LiquidateBankruptcy<'info>>) -> Result<BankruptcyResolved> {
        instructions::process_liquidate_bankruptcy(ctx)
    }

    /// Admin: the half width of a market's price band (basis points of its reference price).
    pub fn set_price_band(ctx: Context<SetPriceBand>, band_bps: u32) -> Result<()> {
        instructions::process_set_price_band(ctx, band_bps)
    }

    /// Permissionless: adds `amount` native units of collateral to the insurance fund.
    pub fn deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
        instructions::process_deposit_insurance(ctx, amount)
    }

    /// Permissionless (the auction keeper): clears a batch market's closed auction at one uniform
    /// price and returns what it matched.
    pub fn clear_auction(ctx: Context<ClearAuction>) -> Result<AuctionCleared> {
        instructions::process_clear_auction(ctx)
    }

    /// Admin: Continuous, or Batch with auctions of `period_slots` slots (1 to 150, 0 = 2); only
    /// with an empty book and event queue.
    pub fn set_market_mode(ctx: Context<SetMarketStatus>, mode: MarketMode, period_slots: u64) -> Result<()> {
        instructions::process_set_market_mode(ctx, mode, period_slots)
    }
}
