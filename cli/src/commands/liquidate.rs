//! `meridian liquidate`: a manual liquidation run, stage after stage as the account needs them
//! (`meridian_sdk::liquidation`): its resting orders, then its positions (largest first, only what
//! restores it), then its bankruptcy, until it is healthy or nothing is left to do.
use crate::{
    context::Context,
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use meridian_sdk::liquidation::{self, Stage};
use meridian_sdk::{amount, pda, Pubkey};

/// Liquidates `account` if it is below its maintenance requirement (in `market` only, for stages 1
/// and 2, if given; stage 2 takes at most `max_lots` per position); fees and positions go to the
/// signer's sub-account `sub`.
pub async fn run(ctx: &Context, account: &str, market: Option<&str>, max_lots: Option<u64>, sub: u16) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    let liquidator = ctx.signer()?;
    let target: Pubkey = account.parse().map_err(|_| anyhow!("--account: not a public key: {account}"))?;
    let liquidator_account = pda::margin_account(&exchange, &liquidator.pubkey(), sub).0;
    client.margin_account(&liquidator_account).await.map_err(|e| {
        anyhow!("your margin account {sub}: {e} (fees and positions go into it: `meridian account create`)")
    })?;
    let decimals = client.exchange(&exchange).await?.collateral_decimals;
    let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
    let only = match market {
        Some(name) => Some(crate::commands::market::resolve(ctx, &exchange, name).await?.1.index),
        None => None,
    };
    let first = client.margin_account(&target).await?;
    let health = client.health(&exchange, &first).await?;
    if health.maintenance_free() >= 0 {
        bail!(
            "not liquidatable: equity {} is above the maintenance requirement {}",
            ui(health.equity),
            ui(health.maintenance)
        );
    }
    let (mut stages, mut signatures) = (Vec::new(), Vec::new());
    let (mut earned, mut lots_taken, mut insurance_paid, mut socialized) = (0u64, 0u64, 0u64, 0u64);
    let orders_before = first.num_open_orders();
    for _ in 0..64 {
        let liquidatee = client.margin_account(&target).await?;
        let markets = client.markets_of(&exchange, &liquidatee).await?;
        let mut all = markets.clone();
        for s in liquidatee.order_slots() {
            let index = liquidatee.open_orders[s].market_index;
            if let std::collections::btree_map::Entry::Vacant(e) = all.entry(index) {
                e.insert(client.market(&pda::market(&exchange, index).0).await?);
            }
        }
        let below = meridian_sdk::risk::health_of(&liquidatee, &markets).is_some_and(|h| h.maintenance_free() < 0);
        let Some(mut stage) = next_stage_in(&liquidatee, &all, only).filter(|_| below) else { break };
        if let (Stage::TakePosition { lots, .. }, Some(max)) = (&mut stage, max_lots) {
            *lots = (*lots).min(max);
        }
        let ours = client.margin_account(&liquidator_account).await?;
        let ix = liquidation::instruction(
            &exchange,
            stage,
            (&target, &liquidatee),
            (&liquidator_account, &ours),
            &liquidator.pubkey(),
            &all,
        )
        .ok_or_else(|| anyhow!("market {} not found", stage.market()))?;
        let signature = ctx.send_with_units(&[ix], &[liquidator], Some(stage.compute_units())).await?;
        let after = client.margin_account(&target).await?;
        match stage {
            Stage::TakePosition { market, .. } => {
                let base = |a: &meridian_sdk::state::MarginAccount| {
                    a.find_position(market).map_or(0, |s| a.position(s).base_lots)
                };
                let taken = base(&liquidatee).abs_diff(base(&after));
                lots_taken += taken;
                earned += liquidation::earnings(stage, taken, &liquidatee, &all, decimals);
            }
            Stage::Bankruptcy { .. } => {
                let e = client.exchange(&exchange).await?;
                (insurance_paid, socialized) = (e.insurance_paid, e.socialized_loss);
            }
            Stage::CancelOrders { .. } => earned += (liquidatee.collateral - after.collateral).max(0) as u64,
        }
        stages.push(stage.name());
        signatures.push(signature.to_string());
        if matches!(stage, Stage::Bankruptcy { .. }) {
            break;
        }
    }
    if stages.is_empty() {
        bail!(
            "nothing to do{}: the account has no orders or positions there",
            market.map_or(String::new(), |m| format!(" in {m}"))
        );
    }
    let last = client.margin_account(&target).await?;
    let now = client.health(&exchange, &last).await?;
    output::print(
        ctx.json,
        &Record::new()
            .with("liquidatee", target.to_string())
            .with("stages", stages)
            .with("orders_cancelled", orders_before - last.num_open_orders())
            .with("lots_taken", lots_taken)
            .with("equity", ui(health.equity))
            .with("maintenance_margin", ui(health.maintenance))
            .with("equity_after", ui(now.equity))
            .with("maintenance_margin_after", ui(now.maintenance))
            .with("fees_earned", ui(earned as i128))
            .with("exchange_insurance_paid_total", ui(insurance_paid as i128))
            .with("exchange_socialized_loss_total", ui(socialized as i128))
            .with("signatures", signatures),
    );
    Ok(())
}

/// The next stage, within market `only` if given (a bankruptcy is never restricted).
fn next_stage_in(
    account: &meridian_sdk::state::MarginAccount,
    markets: &std::collections::BTreeMap<u16, meridian_sdk::state::Market>,
    only: Option<u16>,
) -> Option<Stage> {
    let Some(index) = only else { return liquidation::next_stage(account, markets) };
    if account.order_slots().any(|s| account.open_orders[s].market_index == index) {
        return Some(Stage::CancelOrders { market: index });
    }
    if account.open_order_slots != 0 {
        return None; // stage 2 needs every order gone first
    }
    let slot = account.find_position(index)?;
    let base = account.position(slot).base_lots;
    (base != 0).then_some(Stage::TakePosition { market: index, lots: base.unsigned_abs() })
}
