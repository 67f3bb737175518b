//! `meridian liquidate`: manual liquidation runs (stage 1 today: the account's resting orders).
use crate::{
    context::Context,
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use meridian_sdk::{amount, ix, pda, Pubkey};
use solana_sdk::signer::Signer;

/// Cancels the resting orders of `account` (in `market` only, or in every market it has some)
/// if it is below its maintenance requirement; the fees go to the signer's sub-account `sub`.
pub async fn run(ctx: &Context, account: &str, market: Option<&str>, sub: u16) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    let liquidator = ctx.signer()?;
    let target: Pubkey = account.parse().map_err(|_| anyhow!("--account: not a public key: {account}"))?;
    let liquidator_account = pda::margin_account(&exchange, &liquidator.pubkey(), sub).0;
    client
        .margin_account(&liquidator_account)
        .await
        .map_err(|e| anyhow!("your margin account {sub}: {e} (fees are paid into it: `meridian account create`)"))?;
    let e = client.exchange(&exchange).await?;
    let decimals = e.collateral_decimals;
    let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
    let before = client.margin_account(&target).await?;
    let health = client.health(&exchange, &before).await?;
    if health.maintenance_free() >= 0 {
        bail!(
            "not liquidatable: equity {} is above the maintenance requirement {}",
            ui(health.equity),
            ui(health.maintenance)
        );
    }
    let mut markets: Vec<u16> = before.order_slots().map(|s| before.open_orders[s].market_index).collect();
    markets.sort();
    markets.dedup();
    if let Some(name) = market {
        let (_, m) = crate::commands::market::resolve(ctx, &exchange, name).await?;
        markets.retain(|i| *i == m.index);
    }
    if markets.is_empty() {
        bail!("the account has no resting orders{} (position takeover, stage 2, is not available yet)", market.map_or(String::new(), |m| format!(" in {m}")));
    }
    let mut signatures = Vec::new();
    for index in markets {
        let address = pda::market(&exchange, index).0;
        let m = client.market(&address).await?;
        let health_markets = ix::health_markets(&exchange, &before, Some(index));
        let accounts = ix::MarketAccounts::of(address, &m);
        let ix = ix::liquidate_cancel_orders(&exchange, &accounts, &target, &liquidator_account, &liquidator.pubkey(), &health_markets);
        signatures.push(client.send(&[ix], &liquidator, &[]).await?.to_string());
    }
    let after = client.margin_account(&target).await?;
    let earned = before.collateral - after.collateral;
    output::print(
        ctx.json,
        &Record::new()
            .with("liquidatee", target.to_string())
            .with("stage", "cancel-orders")
            .with("orders_cancelled", before.num_open_orders() - after.num_open_orders())
            .with("equity", ui(health.equity))
            .with("maintenance_margin", ui(health.maintenance))
            .with("fees_earned", ui(earned as i128))
            .with("signatures", signatures),
    );
    Ok(())
}
