use super::Market;
use anchor_lang::prelude::*;

pub const EXCHANGE_SEED: &[u8] = b"exchange";
/// The most the vault may owe (collateral + fees + insurance), native units: deposits beyond it
/// are refused, so no credit (a rebate, a reward, an insurance payment) can overflow a balance
/// and block the instruction that pays it (a crank, say). 2^62 is ~4.6 x 10^18: 4.6 trillion
/// units of a 6-decimal stablecoin.
pub const MAX_VAULT_LIABILITIES: u64 = 1 << 62;
pub const VAULT_SEED: &[u8] = b"vault";

/// Pause switches, set by the admin with `set_paused`. Each bit stops one class of instruction;
/// withdrawals have their own bit so an incident can freeze trading while users still exit.
pub struct PauseFlags;
impl PauseFlags {
    pub const DEPOSITS: u8 = 1 << 0;
    pub const WITHDRAWALS: u8 = 1 << 1;
    pub const TRADING: u8 = 1 << 2;
    pub const ACCOUNT_CREATION: u8 = 1 << 3;
    pub const ALL: u8 = Self::DEPOSITS | Self::WITHDRAWALS | Self::TRADING | Self::ACCOUNT_CREATION;
}

/// One exchange: a collateral mint, its vault, the fee and insurance accounting, global limits.
///
/// The order flow writes no account shared between markets, so what it moves is kept per market
/// until swept into these totals (`Market::unswept_liabilities`, `sweep_market`). Conservation
/// invariant, checked by the tests and the fuzzer after every instruction:
/// `vault.amount == total_collateral + fees_accrued + insurance_balance + pnl_pools
///                  + sum over markets of unswept_liabilities()` (`Totals::liabilities`),
/// and `total_collateral + sum of unswept_collateral == sum of the accounts' collateral`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Exchange {
    pub admin: Pubkey,
    /// Seeds: [EXCHANGE_SEED, creator, index (u32 le)].
    pub creator: Pubkey,
    pub collateral_mint: Pubkey,
    /// SPL Token or Token-2022: the owner of `collateral_mint`.
    pub collateral_token_program: Pubkey,
    /// Token account PDA [VAULT_SEED, exchange], authority = the exchange PDA.
    pub vault: Pubkey,
    pub index: u32,
    pub bump: u8,
    pub vault_bump: u8,
    pub collateral_decimals: u8,
    /// Bits of [`PauseFlags`].
    pub paused: u8,
    /// Sum of all margin accounts' collateral, native units (can dip below zero only through a
    /// bankruptcy, which the insurance fund covers).
    pub total_collateral: i64,
    /// Protocol fees owned by the exchange.
    pub fees_accrued: u64,
    /// Insurance fund balance.
    pub insurance_balance: u64,
    /// Cap on `total_collateral` (0 = no cap), a guard rail for a young exchange.
    pub deposit_cap: u64,
    pub num_margin_accounts: u64,
    /// Share of protocol fees routed to the insurance fund, in basis points.
    pub insurance_fee_share_bps: u16,
    pub num_markets: u16,
    pub _padding: [u8; 4],
    /// Lifetime insurance totals, native units: deposited by `deposit_insurance`, paid out to
    /// bankrupt accounts, and the deficits it could not cover (socialized over open interest).
    pub insurance_deposited: u64,
    pub insurance_paid: u64,
    pub socialized_loss: u64,
    /// The sum of the markets' PnL pools (`Market::pnl_pool`), held in the vault.
    pub pnl_pools: u64,
    pub reserved: [u64; 28],
}

impl Exchange {
    pub const SPACE: usize = 8 + core::mem::size_of::<Exchange>();

    pub fn is_paused(&self, flag: u8) -> bool {
        self.paused & flag != 0
    }

    /// The totals with the markets' unswept amounts folded in, given all the exchange's markets:
    /// what sweeping every market would leave here.
    pub fn totals_with<'m>(&self, markets: impl IntoIterator<Item = &'m Market>) -> Totals {
        let mut t = Totals {
            collateral: self.total_collateral as i128,
            fees: self.fees_accrued as i128,
            insurance: self.insurance_balance as i128,
            pnl_pools: self.pnl_pools as i128,
        };
        for m in markets {
            t.collateral += m.unswept_collateral as i128;
            // rebates owed and crank rewards unpaid are fees held until paid out
            t.fees += m.unswept_fees as i128 + m.pending_rebates as i128 + m.crank_pool as i128;
            t.insurance += m.unswept_insurance as i128;
        }
        t
    }

    /// Tokens the vault must hold for the exchange's own totals (markets' unswept amounts aside).
    pub fn vault_liabilities(&self) -> Option<i128> {
        Some(
            self.total_collateral as i128
                + self.fees_accrued as i128
                + self.insurance_balance as i128
                + self.pnl_pools as i128,
        )
    }
}

/// An exchange's money, native units, its markets' unswept amounts included (`Exchange::totals_with`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// The sum of the margin accounts' collateral.
    pub collateral: i128,
    /// Protocol fees, with the rebates and crank rewards they still owe.
    pub fees: i128,
    pub insurance: i128,
    pub pnl_pools: i128,
}

impl Totals {
    /// What the vault must hold: the conservation invariant is `vault == liabilities()`.
    pub fn liabilities(&self) -> i128 {
        self.collateral + self.fees + self.insurance + self.pnl_pools
    }
}

/// Parameters of `initialize_exchange`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExchangeParams {
    /// Lets one creator run several exchanges (PDA seed).
    pub index: u32,
    /// 0 = no cap.
    pub deposit_cap: u64,
    pub insurance_fee_share_bps: u16,
}
