//! `meridian exchange init|show|pause|unpause`

use crate::{
    context::{parse_pubkey, Context},
    output::{self, Record},
};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use meridian_sdk::{amount, ix, pda, token, ExchangeParams, PauseFlags};

#[derive(Subcommand, Debug)]
pub enum ExchangeCommand {
    /// Create an exchange for a collateral mint; the signer becomes its admin.
    Init {
        /// Collateral mint (SPL Token or Token-2022).
        #[arg(long)]
        mint: String,
        /// Exchange number of this admin (several exchanges per admin).
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// Cap on total deposits, in UI units; 0 = no cap.
        #[arg(long, default_value = "0")]
        deposit_cap: String,
        /// Share of protocol fees routed to the insurance fund, basis points.
        #[arg(long, default_value_t = 2_000)]
        insurance_fee_share_bps: u16,
    },
    /// Print an exchange's configuration, balances and the conservation check.
    Show,
    /// Admin: pause parts of the exchange (adds to what is already paused).
    Pause(PauseArgs),
    /// Admin: resume; without flags resumes everything.
    Unpause(PauseArgs),
}

#[derive(Args, Debug)]
pub struct PauseArgs {
    #[arg(long)]
    deposits: bool,
    #[arg(long)]
    withdrawals: bool,
    #[arg(long)]
    trading: bool,
    #[arg(long)]
    account_creation: bool,
    #[arg(long)]
    all: bool,
}

impl PauseArgs {
    fn flags(&self) -> u8 {
        if self.all {
            return PauseFlags::ALL;
        }
        [
            (self.deposits, PauseFlags::DEPOSITS),
            (self.withdrawals, PauseFlags::WITHDRAWALS),
            (self.trading, PauseFlags::TRADING),
            (self.account_creation, PauseFlags::ACCOUNT_CREATION),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, bit)| acc | bit)
    }
}

pub fn pause_names(flags: u8) -> Vec<&'static str> {
    [
        (PauseFlags::DEPOSITS, "deposits"),
        (PauseFlags::WITHDRAWALS, "withdrawals"),
        (PauseFlags::TRADING, "trading"),
        (PauseFlags::ACCOUNT_CREATION, "account-creation"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| *name)
    .collect()
}

pub async fn run(ctx: &Context, cmd: ExchangeCommand) -> Result<()> {
    match cmd {
        ExchangeCommand::Init { mint, index, deposit_cap, insurance_fee_share_bps } => {
            let admin = ctx.signer()?;
            let mint = parse_pubkey(&mint, "--mint")?;
            let (mint_info, token_program) = ctx.client.mint(&mint).await?;
            let deposit_cap = amount::parse_ui_amount(&deposit_cap, mint_info.decimals)?;
            let params = ExchangeParams { index, deposit_cap, insurance_fee_share_bps };
            let exchange = pda::exchange(&admin.pubkey(), index).0;
            let signature =
                ctx.send(&[ix::initialize_exchange(&admin.pubkey(), &mint, &token_program, params)], &[admin]).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("exchange", exchange.to_string())
                    .with("vault", pda::vault(&exchange).0.to_string())
                    .with("collateral_mint", mint.to_string())
                    .with("decimals", mint_info.decimals)
                    .with("admin", admin.pubkey().to_string())
                    .with("signature", signature.to_string()),
            );
            if !ctx.json {
                println!("\nuse it with: export MERIDIAN_EXCHANGE={exchange}");
            }
        }
        ExchangeCommand::Show => {
            let address = ctx.exchange()?;
            let solvency = ctx.client.solvency(&address).await?;
            let (e, t) = (solvency.exchange, solvency.totals);
            let d = e.collateral_decimals;
            let token_program =
                if e.collateral_token_program == token::TOKEN_2022_PROGRAM_ID { "Token-2022" } else { "SPL Token" };
            output::print(
                ctx.json,
                &Record::new()
                    .with("exchange", address.to_string())
                    .with("admin", e.admin.to_string())
                    .with("collateral_mint", e.collateral_mint.to_string())
                    .with("token_program", token_program)
                    .with("decimals", d)
                    .with("vault", e.vault.to_string())
                    .with("vault_balance", amount::format_ui_amount(solvency.vault, d))
                    .with("total_collateral", amount::format_signed_ui_amount(t.collateral, d))
                    .with("fees_accrued", amount::format_signed_ui_amount(t.fees, d))
                    .with("insurance_fund", amount::format_signed_ui_amount(t.insurance, d))
                    .with("pnl_pools", amount::format_signed_ui_amount(t.pnl_pools, d))
                    .with("conservation", if solvency.conserved() { "ok" } else { "VIOLATED" })
                    .with(
                        "deposit_cap",
                        if e.deposit_cap == 0 {
                            "none".to_string()
                        } else {
                            amount::format_ui_amount(e.deposit_cap, d)
                        },
                    )
                    .with("insurance_fee_share_bps", e.insurance_fee_share_bps)
                    .with("margin_accounts", e.num_margin_accounts)
                    .with("paused", pause_names(e.paused)),
            );
        }
        ExchangeCommand::Pause(args) => set_paused(ctx, |current| current | args.flags(), args.flags() == 0).await?,
        ExchangeCommand::Unpause(args) => {
            let flags = args.flags();
            set_paused(ctx, |current| if flags == 0 { 0 } else { current & !flags }, false).await?
        }
    }
    Ok(())
}

async fn set_paused(ctx: &Context, update: impl FnOnce(u8) -> u8, nothing_selected: bool) -> Result<()> {
    if nothing_selected {
        bail!("pause what? pass --deposits, --withdrawals, --trading, --account-creation or --all");
    }
    let admin = ctx.signer()?;
    let address = ctx.exchange()?;
    let current = ctx.client.exchange(&address).await?.paused;
    let flags = update(current);
    let signature = ctx.send(&[ix::set_paused(&address, &admin.pubkey(), flags)], &[admin]).await?;
    output::print(ctx.json, &Record::new().with("paused", pause_names(flags)).with("signature", signature.to_string()));
    Ok(())
}
