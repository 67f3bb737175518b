//! `meridian insurance show|deposit`: the exchange's insurance fund.

use crate::{
    context::Context,
    output::{self, Record},
};
use anyhow::Result;
use clap::Subcommand;
use meridian_sdk::{amount, ix};

#[derive(Subcommand, Debug)]
pub enum InsuranceCommand {
    /// The fund's balance, what it was given and paid, the losses it could not cover.
    Show,
    /// Add collateral to the fund (anyone may; nothing takes it out but bankruptcies).
    Deposit {
        /// UI amount of the collateral mint.
        amount: String,
        /// Source token account; default: the signer's associated token account.
        #[arg(long)]
        from: Option<String>,
    },
}

pub async fn run(ctx: &Context, cmd: InsuranceCommand) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    let mut signature = None;
    if let InsuranceCommand::Deposit { amount: ui_amount, from } = cmd {
        let depositor = ctx.signer()?;
        let e = client.exchange(&exchange).await?;
        let native = amount::parse_ui_amount(&ui_amount, e.collateral_decimals)?;
        let source = super::collateral_source(ctx, &e, &depositor.pubkey(), from, native).await?;
        let c = ix::CollateralAccounts::of(exchange, &e);
        signature =
            Some(ctx.send(&[ix::deposit_insurance(&c, &depositor.pubkey(), &source, native)], &[depositor]).await?);
    }
    let e = client.exchange(&exchange).await?;
    let ui = |v: u64| amount::format_ui_amount(v, e.collateral_decimals);
    let mut record = Record::new()
        .with("exchange", exchange.to_string())
        .with("balance", ui(e.insurance_balance))
        .with("deposited_total", ui(e.insurance_deposited))
        .with("paid_to_bankruptcies_total", ui(e.insurance_paid))
        .with("socialized_loss_total", ui(e.socialized_loss))
        .with("fee_share_bps", e.insurance_fee_share_bps)
        .with("liquidation_discount_share_bps", meridian_sdk::program::LIQUIDATION_INSURANCE_SHARE_BPS);
    if let Some(s) = signature {
        record = record.with("signature", s.to_string());
    }
    output::print(ctx.json, &record);
    Ok(())
}
