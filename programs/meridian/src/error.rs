use anchor_lang::prelude::*;

/// Declares the error enum through Anchor's `#[error_code]` and, from the same list, `ALL`: the SDK
/// decodes error numbers with it, so the table can never drift from the enum.
macro_rules! meridian_errors {
    ($($name:ident => $msg:literal,)*) => {
        /// Every error the program returns on purpose. Codes start at 6000 (Anchor's custom range)
        /// in declaration order; append new ones at the end so existing codes stay stable.
        #[error_code]
        pub enum MeridianError {
            $(#[msg($msg)] $name,)*
        }

        impl MeridianError {
            pub const ALL: &'static [MeridianError] = &[$(MeridianError::$name,)*];

            /// The error with this custom error number, if it is one of ours.
            pub fn from_code(code: u32) -> Option<MeridianError> {
                let index = code.checked_sub(anchor_lang::error::ERROR_CODE_OFFSET)?;
                Self::ALL.get(index as usize).copied()
            }
        }
    };
}

meridian_errors! {
    NotAdmin => "signer is not the exchange admin",
    NotAccountOwner => "signer is not the margin account's owner (for orders: nor its trading delegate)",
    WrongExchange => "account belongs to a different exchange",
    WrongVault => "token account is not the exchange's vault",
    WrongMint => "mint is not the exchange's collateral mint",
    WrongTokenProgram => "token program does not own the collateral mint",
    ZeroAmount => "amount must be greater than zero",
    AmountTooLarge => "amount exceeds the largest supported balance (the vault holds at most 2^62 native units)",
    InsufficientCollateral => "not enough free collateral for this withdrawal",
    DepositsPaused => "deposits are paused",
    WithdrawalsPaused => "withdrawals are paused",
    AccountCreationPaused => "new margin accounts are paused",
    AccountNotEmpty => "margin account still holds collateral, positions or orders",
    DepositCapExceeded => "deposit would exceed the exchange's deposit cap",
    InvalidFeeShare => "fee share must be at most 10000 basis points",
    InvalidPauseFlags => "unknown pause flag bits",
    UnsupportedMintExtension => "collateral mint has a Token-2022 extension the exchange cannot custody safely",
    MathOverflow => "arithmetic overflow",
    // Returned by the test-only math probe program (tests/math-probe), kept so later codes stay put.
    UnknownProbeOp => "unknown math probe op",
    ProbeUndefined => "math probe op is undefined for these operands",
    NothingReceived => "nothing of the deposit reached the vault (transfer fee >= amount)",
    InvalidMarketParams => "market parameters are invalid (zero sizes, margins out of order, rebate above the taker fee)",
    InvalidBookAccount => "order book account has the wrong size, owner or layout",
    InvalidEventQueue => "event queue account has the wrong size, owner or layout",
    WrongMarket => "account belongs to a different market",
    WrongBook => "book account is not this market's",
    WrongEventQueue => "event queue account is not this market's",
    // kept so later codes stay put: the status argument is typed (`MarketStatus`), so an unknown
    // code fails to deserialize
    InvalidMarketStatus => "unknown market status (no longer returned: the argument is typed)",
    MarketNotEmpty => "market still has resting orders or unconsumed events",
    TradingPaused => "trading is paused on this exchange",
    MarketCancelOnly => "market is cancel-only",
    MarketPaused => "market is paused",
    MarketClosed => "market is closed",
    // Order arguments are typed (`args.rs`): a side, type or self-trade code no variant has fails to
    // deserialize (Anchor's InstructionDidNotDeserialize). These remain for stored codes (a corrupt
    // order record) and mass quotes of a type that is not post-only; the last is kept so later codes
    // stay put.
    InvalidSide => "a stored order's or event's side is neither bid nor ask",
    InvalidOrderKind => "order type not allowed here (mass quotes: post-only or post-only-slide)",
    InvalidSelfTradeBehavior => "unknown self-trade behavior (no longer returned: the argument is typed)",
    ZeroSize => "order size must be greater than zero",
    ZeroPrice => "order price must be greater than zero",
    BelowMinOrderSize => "order size is below the market's minimum",
    OrderValueOverflow => "price x size overflows",
    MatchLimitTooHigh => "match limit above the maximum per instruction",
    OrderAlreadyExpired => "order expiry is in the past",
    ReduceOnlyWouldIncrease => "reduce-only order would not reduce the position",
    PostOnlyWouldCross => "post-only order would cross the book",
    PostOnlyCannotSlide => "post-only-slide order has no price to slide to",
    FillOrKillNotFilled => "fill-or-kill order cannot fill completely",
    SelfTrade => "order would trade against the same account (self-trade behavior: abort)",
    BookFull => "book side is full and the order is not better than its worst order",
    EventQueueFull => "event queue is full: the crank must consume events first",
    TooManyPositions => "margin account has no free position slot",
    TooManyOpenOrders => "margin account has no free open-order slot",
    OrderNotFound => "no such open order on this account",
    InsufficientMargin => "order would take the account below its initial margin",
    MissingMarketAccount => "a market the account has a position in was not passed",
    NoEventsToConsume => "no event could be consumed (queue empty or maker accounts missing)",
    InvalidOracleParams => "oracle parameters are invalid (1-4 distinct sources, min valid sources within them, non-zero limits, bps at most 10000)",
    OracleSourceCount => "pass exactly the oracle's configured sources, in configured order",
    OracleSourceWrongOwner => "oracle source account is not owned by the Pyth receiver/push oracle or Switchboard on-demand program",
    OracleSourceWrongFeed => "oracle source is not the configured feed (Pyth feed id or Switchboard feed address)",
    OracleSourceInvalidData => "oracle source account is not a Pyth PriceUpdateV2 or Switchboard pull feed",
    OracleSourceNotVerified => "Pyth price update is only partially verified",
    OracleSourceReplayed => "oracle source update is older than one already used",
    OracleNotUsable => "the market's oracle price is stale or degraded: only reduce-only orders are accepted",
    WrongOracle => "oracle aggregate is not this market's (or belongs to another exchange)",
    NotPerpetual => "funding applies to perpetual markets only",
    InvalidFundingParams => "funding period must be 1 s to 30 days and the clamp at most 10000 bp",
    AccountNotWritable => "margin account must be writable",
    OptionNeedsStrikeAndExpiry => "an option market needs a strike and an expiry to be priced from its underlying's oracle",
    NotLiquidatable => "account is not below its maintenance requirement",
    CannotLiquidateSelf => "the liquidator's account is the account being liquidated, or another of its owner's",
    NoOrdersToCancel => "the account has no resting orders in this market to cancel",
    LiquidateeHasOrders => "the account still has resting orders: cancel them first (liquidate_cancel_orders)",
    NoPositionToTake => "the account has no position in this market to take over",
    TakeoverWouldNotHelp => "taking over this position would not bring the account closer to health (a hedge leg?)",
    LiquidatorBelowInitial => "the takeover would leave the liquidator's account below its initial margin",
    PositionsLeft => "the account still has positions: take them over first (liquidate_take_position)",
    NotBankrupt => "the account's equity is not negative",
    NoDebtInMarket => "the account owes nothing in this market: socialize its deficit where its quote balance is negative",
    EventsPending => "the market's event queue must be empty: run the crank first",
    NoOpenInterest => "the market has no open interest to socialize the loss over",
    PriceOutsideBand => "order price is outside the market's price band around its reference price",
    FeeExceedsCollateral => "the taker fee is paid from collateral, and the account's does not cover it",
    PositionLimitExceeded => "the position, with its resting orders filled, would exceed the position limits",
    ReduceOnlyLosesEquity => "reduce-only order would lose more equity than its fee and the band's slippage, or leave the account in deficit",
    BelowMaintenanceReduceOnly => "account is below its maintenance requirement: only reduce-only orders may trade",
    InvalidPriceBand => "price band must be 1 to 10000 bps",
    NoPositionToSettle => "the account has no position in this market to settle",
    InvalidDatedParams => "a perpetual has no expiry or strike; a future needs an expiry in the future; an option a strike and an expiry in the future; a settlement window is a multiple of 30 s from 30 to 86400",
    MarketExpired => "the market has expired: no new orders (cancels, settlement and withdrawals go on)",
    NotDatedMarket => "expiry settlement applies to futures and options only",
    MarketNotExpired => "the market has not expired yet",
    SettlementSamplesTooFew => "too few valid oracle samples in the settlement window: it extends past expiry until there are enough",
    SettlementPriceNotFixed => "the market's settlement price is not fixed yet (fix_settlement_price)",
    SettlementPriceFixed => "the market's settlement price is already fixed",
    SettlementGraceNotOver => "the admin may set a settlement price only once the grace period after expiry has passed without enough samples",
    OpenInterestLeft => "positions with base remain in this market: settle them (or let them close) before closing the market",
    MarketSettled => "the market has expired and its settlement price is known: its positions settle at it (fix_settlement_price, settle_expired), they are not liquidated",
    InvalidSettlementPrice => "settlement price must be above zero, one lot's value at it must fit 63 bits, and it must lie within the market's band of the window's samples",
    TooManyQuotes => "a mass quote posts at most 32 quotes per side",
    InvalidMarketMode => "a batch auction's period is at most 150 slots",
    MarketModeNeedsEmptyBook => "a market changes mode only with an empty book and event queue (a batch book holds at most 128 orders a side and its queue twice as many events)",
    NotBatchMarket => "this market is continuous: it has no auctions",
    AuctionNotDue => "the market's auction is still collecting orders: it clears once its period is over",
    OrderInClosedAuction => "the order is in an auction awaiting its clearing: cancel it after clear_auction",
    BatchOrderKind => "a batch market takes limit orders only (they wait for the auction; mass quotes and post-only, IOC, FOK and market orders are continuous-mode kinds)",
}
