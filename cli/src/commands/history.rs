//! Fills and the trade tape, read from the records the crank publishes (`meridian_sdk::history`).

use crate::{commands::market::resolve, context::parse_pubkey, context::Context, output};
use anyhow::{anyhow, Result};
use meridian_sdk::{
    amount,
    engine::ui::MarketUnits,
    history::{self, Applied, Fill, Side},
    state::{market_name, market_units, Market},
    Pubkey,
};
use serde_json::{json, Value};
use solana_sdk::signature::Signature;
use std::{collections::HashMap, str::FromStr, time::Duration};

/// How a market's numbers are printed.
struct Shown {
    name: String,
    units: MarketUnits,
    quote_decimals: u8,
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Bid => "buy",
        Side::Ask => "sell",
    }
}

fn other(s: Side) -> Side {
    match s {
        Side::Bid => Side::Ask,
        Side::Ask => Side::Bid,
    }
}

/// One fill as a JSON object; `side` is `account`'s side when given, else the taker's (an auction
/// fill's: its order's).
fn fill_json(a: &Applied, f: &Fill, shown: &Shown, account: Option<&Pubkey>) -> Value {
    let r = &f.record;
    let side = match account {
        Some(k) if *k == r.taker => other(r.maker_side),
        Some(_) => r.maker_side,
        None if r.auction => r.maker_side,
        None => other(r.maker_side),
    };
    let fee = if r.maker_fee < 0 {
        format!("-{}", amount::format_ui_amount(r.maker_fee.unsigned_abs(), shown.quote_decimals))
    } else {
        amount::format_ui_amount(r.maker_fee.unsigned_abs(), shown.quote_decimals)
    };
    json!({
        "time": r.timestamp,
        "market": shown.name,
        "side": side_name(side),
        "price": shown.units.format_price(r.price),
        "size": shown.units.format_size(r.size),
        "role": match account { Some(k) if *k == r.taker => "taker", Some(_) if r.auction => "auction", Some(_) => "maker", None => if r.auction { "auction" } else { "taker" } },
        "maker": r.maker.to_string(),
        "taker": if r.auction { Value::Null } else { json!(r.taker.to_string()) },
        "maker_order_id": r.maker_order_seq,
        "maker_fee": fee,
        "seq_num": r.seq_num,
        "signature": a.signature.to_string(),
        "slot": a.slot,
    })
}

fn print_line(v: &Value) {
    let s = |k: &str| v[k].as_str().map(str::to_string).unwrap_or_else(|| v[k].to_string());
    println!(
        "{:>10} {:<14} {:<4} {:>14} {:>12} {:<7} seq {:<6} fee {:>10} {}",
        s("time"),
        s("market"),
        s("side"),
        s("price"),
        s("size"),
        s("role"),
        s("seq_num"),
        s("maker_fee"),
        s("signature")
    );
}

async fn shown(ctx: &Context, m: &Market) -> Result<Shown> {
    let e = ctx.client.exchange(&m.exchange).await?;
    Ok(Shown {
        name: market_name(m),
        units: market_units(m, e.collateral_decimals),
        quote_decimals: e.collateral_decimals,
    })
}

fn since(s: Option<&str>) -> Result<Option<Signature>> {
    s.map(|s| Signature::from_str(s).map_err(|_| anyhow!("--since: {s:?} is not a transaction signature"))).transpose()
}

/// `meridian fills`: the fills of an account (as maker or taker) or of a market, oldest first,
/// from the newest `limit` transactions of each market read.
pub async fn fills(
    ctx: &Context,
    account: Option<&str>,
    market: Option<&str>,
    since_sig: Option<&str>,
    limit: usize,
) -> Result<()> {
    let account = account.map(|a| parse_pubkey(a, "--account")).transpose()?;
    if account.is_none() && market.is_none() {
        return Err(anyhow!("pass --account <MARGIN_ACCOUNT>, --market <MARKET>, or both"));
    }
    let exchange = ctx.exchange()?;
    let markets: Vec<(Pubkey, Market)> = match market {
        Some(m) => vec![resolve(ctx, &exchange, m).await?],
        None => ctx.client.markets(&exchange).await?,
    };
    let until = since(since_sig)?;
    let mut rows: Vec<(i64, u64, Value)> = Vec::new();
    let mut shown_by: HashMap<Pubkey, Shown> = HashMap::new();
    for (address, m) in &markets {
        shown_by.insert(*address, shown(ctx, m).await?);
        let read = history::market_history(&ctx.client, address, None, until, limit).await?;
        if !read.complete {
            eprintln!(
                "warning: the node could not return every transaction of {} yet; run again for the rest",
                shown_by[address].name
            );
        }
        for (a, f) in history::fills(&read.applied, account.as_ref()) {
            rows.push((f.record.timestamp, f.record.seq_num, fill_json(a, &f, &shown_by[address], account.as_ref())));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    if ctx.json {
        output::print_json(&json!(rows.into_iter().map(|r| r.2).collect::<Vec<_>>()));
    } else if rows.is_empty() {
        println!("no fills in the transactions read (raise --limit)");
    } else {
        rows.iter().for_each(|r| print_line(&r.2));
    }
    Ok(())
}

/// `meridian trades`: a market's trade tape (each match once: the taker's side, or for an
/// auction the buy order's fill), oldest first; `--follow` keeps printing new ones as the crank
/// publishes them (a logs subscription wakes the read; `--interval-ms` at the latest).
pub async fn trades(ctx: &Context, market: &str, limit: usize, follow: bool, interval: Duration) -> Result<()> {
    let exchange = ctx.exchange()?;
    let (address, m) = resolve(ctx, &exchange, market).await?;
    let shown = shown(ctx, &m).await?;
    let tape = |read: &[Applied]| -> Vec<Value> {
        history::fills(read, None)
            .into_iter()
            .filter(|(_, f)| !f.record.auction || f.record.maker_side == Side::Bid)
            .map(|(a, f)| fill_json(a, &f, &shown, None))
            .collect()
    };
    let backfill = history::market_history(&ctx.client, &address, None, None, limit).await?;
    let prints = tape(&backfill.applied);
    if !follow {
        if ctx.json {
            output::print_json(&json!(prints));
        } else {
            prints.iter().for_each(print_line);
        }
        return Ok(());
    }
    let print = |v: &Value| {
        if ctx.json {
            println!("{}", serde_json::to_string(v).unwrap_or_default());
        } else {
            print_line(v);
        }
    };
    prints.iter().for_each(print);
    history::follow_market(&ctx.client, &ctx.ws_url, &address, backfill.newest, interval, |a| {
        tape(std::slice::from_ref(a)).iter().for_each(print);
        true
    })
    .await?;
    Ok(())
}
