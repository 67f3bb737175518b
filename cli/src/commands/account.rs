//! `meridian account create|deposit|withdraw|settle|show|list|close|delegate`

use crate::{
    context::{parse_pubkey, Context},
    output::{self, Record},
};
use anyhow::{bail, Result};
use clap::Subcommand;
use meridian_sdk::{
    amount,
    client::SdkError,
    engine::margin::Health,
    ix, pda, settlement,
    state::{market_name, market_units, MarginAccount, Market},
    token, Pubkey,
};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create a margin account (one wallet can hold several, numbered).
    Create {
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
    },
    /// Deposit collateral, e.g. `deposit 100.5`.
    Deposit {
        /// UI amount of the collateral mint.
        amount: String,
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        /// Source token account; default: the signer's associated token account.
        #[arg(long)]
        from: Option<String>,
    },
    /// Withdraw collateral, e.g. `withdraw 50` or `withdraw all`.
    Withdraw {
        /// UI amount, or "all" for all free collateral.
        amount: String,
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        /// Destination token account; default: the signer's associated token account (created if
        /// missing).
        #[arg(long)]
        to: Option<String>,
    },
    /// Settle PnL through the markets' PnL pools (settle_pnl): losses realized from collateral,
    /// profits paid into it as far as the pools and the rules allow.
    Settle {
        /// Only this market (index, name or address); default: every position.
        #[arg(long)]
        market: Option<String>,
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        /// Settle another margin account (anyone may: realizing a counterparty's loss fills the
        /// pool your profit is paid from); default: the signer's.
        #[arg(long)]
        account: Option<String>,
    },
    /// Show a margin account.
    Show {
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        /// Whose account; default: the signer.
        #[arg(long)]
        owner: Option<String>,
    },
    /// List all margin accounts of an owner on the exchange.
    List {
        #[arg(long)]
        owner: Option<String>,
    },
    /// Close an empty margin account; the rent returns to the owner.
    Close {
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
    },
    /// Name the key that may place, replace and cancel orders for the account (not withdraw,
    /// close or change this); `none` clears it.
    Delegate {
        /// The delegate's public key, or `none`.
        delegate: String,
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
    },
}

fn describe(address: &Pubkey, m: &MarginAccount, health: &Health, decimals: u8) -> Record {
    let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
    let free = health.initial_free().min(m.collateral as i128).max(0);
    let ratio = match health.ratio_bps() {
        u32::MAX => "-".to_string(),
        r => format!("{:.2}", r as f64 / 10_000.0),
    };
    Record::new()
        .with("margin_account", address.to_string())
        .with("owner", m.owner.to_string())
        .with(
            "delegate",
            if m.delegate == Pubkey::default() { serde_json::Value::Null } else { m.delegate.to_string().into() },
        )
        .with("exchange", m.exchange.to_string())
        .with("sub_account", m.sub_account)
        .with("collateral", ui(m.collateral as i128))
        .with("equity", ui(health.equity))
        .with("initial_margin", ui(health.initial))
        .with("maintenance_margin", ui(health.maintenance))
        .with("free_collateral", ui(free))
        .with("health_ratio", ratio)
        .with("positions", m.positions_in_use().count())
        .with("open_orders", m.num_open_orders())
        .with("realized_pnl", ui(m.realized_pnl as i128))
        .with("pnl_settled", ui(m.pnl_settled as i128))
        .with("fees_paid", ui(m.fees_paid as i128))
        .with("total_deposited", amount::format_ui_amount(m.total_deposited, decimals))
        .with("total_withdrawn", amount::format_ui_amount(m.total_withdrawn, decimals))
}

/// Each position's PnL: realized (a statement), unsettled (what settlement moves: cash plus the base
/// at the settlement price; "-" without a usable price), settle_now (what `settle_pnl` would move
/// into collateral now), held_back (profit the pool or the rules hold back), the market's pool, and
/// for a dated market where it stands at `now` (settled at its price, awaiting it, or trading until
/// its expiry).
fn pnl_view(pnl: &[settlement::PositionPnl], markets: &BTreeMap<u16, Market>, decimals: u8, now: i64) -> Value {
    let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
    let expiry = |m: &Market| match settlement::expiry_state(m, now) {
        settlement::ExpiryState::Perpetual => Value::Null,
        settlement::ExpiryState::Settled { price, .. } => {
            format!("settled at {}", market_units(m, decimals).format_price(price)).into()
        }
        settlement::ExpiryState::AwaitingPrice { .. } => "expired, awaiting the settlement price".into(),
        _ => format!("expires {}", super::expiry::expiry_code(m.expiry_ts)).into(),
    };
    Value::Array(
        pnl.iter()
            .map(|p| {
                serde_json::json!({
                    "market": markets.get(&p.market).map(market_name).unwrap_or_default(),
                    "realized": ui(p.realized as i128),
                    "unsettled": p.unsettled.map_or("-".to_string(), ui),
                    "settle_now": ui(p.settle_now as i128),
                    "held_back": ui(p.held_back()),
                    "pnl_pool": amount::format_ui_amount(p.pool, decimals),
                    "expiry": markets.get(&p.market).map_or(Value::Null, expiry),
                })
            })
            .collect(),
    )
}

/// Sends `settle_pnl` for `margin` where it would move money now (only `only`'s market if given);
/// returns what the positions would still have paid (held back) and how many markets settled.
async fn settle(
    ctx: &Context,
    exchange: &Pubkey,
    margin: &Pubkey,
    only: Option<u16>,
) -> Result<(Vec<settlement::PositionPnl>, usize)> {
    let client = &ctx.client;
    let account = client.margin_account(margin).await?;
    let markets = client.markets_of(exchange, &account).await?;
    let clock = client.clock().await?;
    let pnl: Vec<_> = settlement::preview(&account, &markets, clock.slot, clock.unix_timestamp)
        .into_iter()
        .filter(|p| only.is_none_or(|i| i == p.market))
        .collect();
    let ixs = settlement::instructions(exchange, margin, &pnl, &markets);
    ctx.fee_payer()?; // permissionless: only the fee payer signs
    for chunk in ixs.chunks(8) {
        ctx.send(chunk, &[]).await?;
    }
    Ok((pnl, ixs.len()))
}

/// The account's recorded health (engine `health_history`: the worst reading of each ~1 minute
/// window in which the program checked it), newest first.
fn health_history(m: &MarginAccount, decimals: u8, now_slot: u64) -> Value {
    use meridian_sdk::engine::health_history::source;
    let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
    let names = [
        (source::ORDER, "order"),
        (source::WITHDRAWAL, "withdrawal"),
        (source::LIQUIDATION, "liquidation"),
        (source::BANKRUPTCY, "bankruptcy"),
    ];
    let samples: Vec<_> = m.health_history().collect();
    Value::Array(
        samples
            .iter()
            .rev()
            .map(|s| {
                let by: Vec<&str> = names.iter().filter(|(bit, _)| s.sources & bit != 0).map(|(_, n)| *n).collect();
                let ratio = match s.ratio_bps() {
                    u32::MAX => "-".to_string(),
                    r => format!("{:.2}", r as f64 / 10_000.0),
                };
                serde_json::json!({
                    "slot": s.slot,
                    "slots_ago": now_slot.saturating_sub(s.slot),
                    "equity": ui(s.equity as i128),
                    "maintenance_margin": ui(s.maintenance as i128),
                    "initial_margin": ui(s.initial as i128),
                    "health_ratio": ratio,
                    "below_maintenance": s.maintenance_free() < 0,
                    "by": by,
                })
            })
            .collect(),
    )
}

/// Decodes and describes an account with its live health and its greeks per underlying.
async fn show(ctx: &Context, exchange: &Pubkey, address: &Pubkey, decimals: u8) -> Result<Record> {
    let m = ctx.client.margin_account(address).await?;
    let health = ctx.client.health(exchange, &m).await?;
    let mut r = describe(address, &m, &health, decimals);
    let (markets, clock) = (ctx.client.markets_of(exchange, &m).await?, ctx.client.clock().await?);
    let pnl = settlement::preview(&m, &markets, clock.slot, clock.unix_timestamp);
    r.push("pnl", pnl_view(&pnl, &markets, decimals, clock.unix_timestamp));
    let now_slot = ctx.client.rpc().get_slot().await?;
    r.push("health_history", health_history(&m, decimals, now_slot));
    let greeks = ctx.client.greeks(exchange, &m).await?;
    if !greeks.is_empty() {
        let ui = |v: i128| amount::format_signed_ui_amount(v, decimals);
        r.push(
            "greeks",
            serde_json::json!(greeks
                .iter()
                .map(|g| serde_json::json!({
                    "underlying": g.name,
                    "oracle": g.oracle.to_string(),
                    "delta": g.delta_units.map(|d| meridian_sdk::pricing::format_fixed(d, 8)),
                    "delta_value": ui(g.greeks.delta_value),
                    "gamma_per_1pct": ui(g.greeks.gamma_1pct),
                    "vega_per_vol_point": ui(g.greeks.vega_1pt),
                    "theta_per_day": ui(g.greeks.theta_1d),
                }))
                .collect::<Vec<_>>()),
        );
    }
    Ok(r)
}

pub async fn run(ctx: &Context, cmd: AccountCommand) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    match cmd {
        AccountCommand::Create { sub_account } => {
            let owner = ctx.signer()?;
            let address = pda::margin_account(&exchange, &owner.pubkey(), sub_account).0;
            let ix = ix::create_margin_account(&exchange, &owner.pubkey(), &owner.pubkey(), sub_account);
            let signature = ctx.send(&[ix], &[owner]).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("margin_account", address.to_string())
                    .with("sub_account", sub_account)
                    .with("signature", signature.to_string()),
            );
        }
        AccountCommand::Deposit { amount: ui_amount, sub_account, from } => {
            let owner = ctx.signer()?;
            let e = client.exchange(&exchange).await?;
            let native = amount::parse_ui_amount(&ui_amount, e.collateral_decimals)?;
            let source = super::collateral_source(ctx, &e, &owner.pubkey(), from, native).await?;
            let margin = pda::margin_account(&exchange, &owner.pubkey(), sub_account).0;
            let c = ix::CollateralAccounts::of(exchange, &e);
            let signature = ctx.send(&[ix::deposit(&c, &margin, &owner.pubkey(), &source, native)], &[owner]).await?;
            let mut v = show(ctx, &exchange, &margin, e.collateral_decimals).await?;
            v.push("deposited", amount::format_ui_amount(native, e.collateral_decimals));
            v.push("signature", signature.to_string());
            output::print(ctx.json, &v);
        }
        AccountCommand::Withdraw { amount: ui_amount, sub_account, to } => {
            let owner = ctx.signer()?;
            let e = client.exchange(&exchange).await?;
            let margin = pda::margin_account(&exchange, &owner.pubkey(), sub_account).0;
            let all = ui_amount.eq_ignore_ascii_case("all");
            // all: first settle what can be settled (profits paid into collateral)
            let held: i128 = match all {
                true => settle(ctx, &exchange, &margin, None).await?.0.iter().map(|p| p.held_back()).sum(),
                false => 0,
            };
            let account = client.margin_account(&margin).await?;
            let native = if all {
                // as the program judges it: a stale oracle's positions valued conservatively
                let health = client.health_now(&exchange, &account).await?;
                let free = health.initial_free().min(account.collateral as i128);
                if free <= 0 {
                    let ui = |v: i128| amount::format_signed_ui_amount(v, e.collateral_decimals);
                    match held > 0 {
                        true => bail!(
                            "nothing to withdraw: no free collateral; a profit of {} is not payable yet (it is paid from the markets' PnL pools as losers' losses are settled, an open position's at most 80%, 10% of its notional an hour: `meridian account show` lists it)",
                            ui(held)
                        ),
                        false => bail!("nothing to withdraw: no free collateral"),
                    }
                }
                free as u64
            } else {
                amount::parse_ui_amount(&ui_amount, e.collateral_decimals)?
            };
            let health_markets = ix::health_markets(&exchange, &account, None);
            let mut ixs = vec![];
            let recipient = match to {
                Some(s) => parse_pubkey(&s, "--to")?,
                None => {
                    ixs.push(token::create_associated_token_account_idempotent(
                        &owner.pubkey(),
                        &owner.pubkey(),
                        &e.collateral_mint,
                        &e.collateral_token_program,
                    ));
                    token::associated_token_address(&owner.pubkey(), &e.collateral_mint, &e.collateral_token_program)
                }
            };
            let c = ix::CollateralAccounts::of(exchange, &e);
            ixs.push(ix::withdraw_checked(&c, &margin, &owner.pubkey(), &recipient, native, &health_markets));
            let signature = ctx.send(&ixs, &[owner]).await?;
            let mut v = show(ctx, &exchange, &margin, e.collateral_decimals).await?;
            v.push("withdrawn", amount::format_ui_amount(native, e.collateral_decimals));
            v.push("recipient", recipient.to_string());
            v.push("signature", signature.to_string());
            output::print(ctx.json, &v);
        }
        AccountCommand::Settle { market, sub_account, account } => {
            let e = client.exchange(&exchange).await?;
            let margin = match account {
                Some(s) => parse_pubkey(&s, "--account")?,
                None => pda::margin_account(&exchange, &ctx.signer_pubkey()?, sub_account).0,
            };
            let only = match market {
                Some(m) => Some(super::market::resolve(ctx, &exchange, &m).await?.1.index),
                None => None,
            };
            let before = client.margin_account(&margin).await?;
            let (pnl, sent) = settle(ctx, &exchange, &margin, only).await?;
            let after = client.margin_account(&margin).await?;
            let ui = |v: i128| amount::format_signed_ui_amount(v, e.collateral_decimals);
            let markets = client.markets_of(&exchange, &before).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("margin_account", margin.to_string())
                    .with("markets_settled", sent)
                    .with("settled", ui(after.pnl_settled as i128 - before.pnl_settled as i128))
                    .with("collateral", ui(after.collateral as i128))
                    .with("held_back", ui(pnl.iter().map(|p| p.held_back()).sum()))
                    .with("pnl", pnl_view(&pnl, &markets, e.collateral_decimals, client.clock().await?.unix_timestamp)),
            );
        }
        AccountCommand::Show { sub_account, owner } => {
            let owner = match owner {
                Some(s) => parse_pubkey(&s, "--owner")?,
                None => ctx.signer_pubkey()?,
            };
            let e = client.exchange(&exchange).await?;
            let margin = pda::margin_account(&exchange, &owner, sub_account).0;
            match show(ctx, &exchange, &margin, e.collateral_decimals).await {
                Err(err) if matches!(err.downcast_ref::<SdkError>(), Some(SdkError::AccountNotFound(_))) => {
                    bail!("no margin account {sub_account} for {owner} (create it with `meridian account create`)")
                }
                other => output::print(ctx.json, &other?),
            }
        }
        AccountCommand::List { owner } => {
            let owner = match owner {
                Some(s) => parse_pubkey(&s, "--owner")?,
                None => ctx.signer_pubkey()?,
            };
            let e = client.exchange(&exchange).await?;
            let accounts = client.margin_accounts(&exchange, Some(&owner)).await?;
            if ctx.json {
                let mut list: Vec<Value> = vec![];
                for (a, m) in &accounts {
                    let health = client.health(&exchange, m).await?;
                    list.push(describe(a, m, &health, e.collateral_decimals).to_json());
                }
                output::print_json(&Value::Array(list));
            } else if accounts.is_empty() {
                println!("no margin accounts for {owner}");
            } else {
                println!("{:<4} {:<44} {:>20}", "sub", "margin account", "collateral");
                for (address, m) in &accounts {
                    let c = amount::format_signed_ui_amount(m.collateral as i128, e.collateral_decimals);
                    println!("{:<4} {:<44} {:>20}", m.sub_account, address.to_string(), c);
                }
            }
        }
        AccountCommand::Delegate { delegate, sub_account } => {
            let owner = ctx.signer()?;
            let margin = pda::margin_account(&exchange, &owner.pubkey(), sub_account).0;
            let key = match delegate.as_str() {
                "none" => Pubkey::default(),
                s => parse_pubkey(s, "DELEGATE")?,
            };
            let signature = ctx.send(&[ix::set_delegate(&margin, &owner.pubkey(), &key)], &[owner]).await?;
            let shown = if key == Pubkey::default() { serde_json::Value::Null } else { key.to_string().into() };
            output::print(
                ctx.json,
                &Record::new()
                    .with("margin_account", margin.to_string())
                    .with("delegate", shown)
                    .with("signature", signature.to_string()),
            );
        }
        AccountCommand::Close { sub_account } => {
            let owner = ctx.signer()?;
            let margin = pda::margin_account(&exchange, &owner.pubkey(), sub_account).0;
            let signature =
                ctx.send(&[ix::close_margin_account(&exchange, &margin, &owner.pubkey())], &[owner]).await?;
            output::print(
                ctx.json,
                &Record::new().with("closed", margin.to_string()).with("signature", signature.to_string()),
            );
        }
    }
    Ok(())
}
