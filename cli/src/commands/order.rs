//! `meridian order place|cancel|cancel-all|replace|quote`, `meridian book|orders|positions`.

use crate::{
    commands::market::resolve,
    context::Context,
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use meridian_sdk::{
    amount,
    engine::{
        matching::{OrderKind, SelfTrade},
        ui::MarketUnits,
    },
    ix::{self, MarketAccounts},
    order::{self, OrderExt, Side},
    pda,
    state::LastPlacement,
    state::{market_name, market_units},
    PlaceOrderArgs, Pubkey,
};
use serde_json::{json, Value};

#[derive(Args, Debug, Clone)]
pub struct NewOrder {
    /// buy or sell.
    pub side: String,
    /// Size in underlying units (e.g. 0.25).
    pub size: String,
    /// Limit price (collateral per underlying unit); for --type market, the worst acceptable price.
    #[arg(long)]
    pub price: String,
    /// limit, post-only, post-only-slide, ioc, fok or market.
    #[arg(long = "type", default_value = "limit")]
    pub order_type: String,
    #[arg(long)]
    pub reduce_only: bool,
    #[arg(long, default_value_t = 0)]
    pub client_id: u64,
    /// Seconds until the order expires (default: good till cancelled).
    #[arg(long)]
    pub expires_in: Option<i64>,
    /// When the order meets your own: cancel-maker, decrement or abort.
    #[arg(long, default_value = "cancel-maker")]
    pub stp: String,
    /// Most makers to match (1..=64; default 16).
    #[arg(long, default_value_t = 0)]
    pub match_limit: u8,
}

/// Whose margin account an order command acts on: yours, or (as its trading delegate, signing
/// with the delegate key) another owner's.
#[derive(Args, Debug, Clone)]
pub struct AccountTarget {
    #[arg(short, long, default_value_t = 0)]
    pub sub_account: u16,
    /// The account's owner, when you trade as its delegate (default: the signer).
    #[arg(long)]
    pub owner: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum OrderCommand {
    /// Place an order: `order place BTC-PERP buy 0.01 --price 65000 [--type post-only]`.
    Place {
        market: String,
        #[command(flatten)]
        order: NewOrder,
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Cancel by order id, or by --client-id.
    Cancel {
        market: String,
        order_id: Option<u64>,
        #[arg(long)]
        client_id: Option<u64>,
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Cancel all your orders in a market (optionally one side).
    CancelAll {
        market: String,
        /// buy or sell; default both.
        #[arg(long)]
        side: Option<String>,
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Cancel an order and place a new one atomically.
    Replace {
        market: String,
        order_id: u64,
        #[command(flatten)]
        order: NewOrder,
        #[command(flatten)]
        target: AccountTarget,
    },
    /// Requote in one instruction (mass_quote): cancel your orders in the market, then post
    /// post-only quotes: `order quote BTC-PERP --bid 64990:0.1 --bid 64980:0.2 --ask 65010:0.1`.
    Quote {
        market: String,
        /// A bid as PRICE:SIZE (repeat, up to 32).
        #[arg(long = "bid")]
        bids: Vec<String>,
        /// An ask as PRICE:SIZE (repeat, up to 32).
        #[arg(long = "ask")]
        asks: Vec<String>,
        /// Keep your resting orders (default: cancel them all first).
        #[arg(long)]
        keep: bool,
        /// Cancel only the orders with these client ids (instead of all).
        #[arg(long = "cancel-client-id")]
        cancel_client_ids: Vec<u64>,
        /// Slide a crossing quote one tick behind the best opposite order (default: skip it).
        #[arg(long)]
        slide: bool,
        /// Client ids: bid i gets BASE + i, ask i BASE + (number of bids) + i.
        #[arg(long, default_value_t = 0)]
        client_id: u64,
        /// Seconds until the quotes expire (default: good till cancelled).
        #[arg(long)]
        expires_in: Option<i64>,
        #[command(flatten)]
        target: AccountTarget,
    },
}

fn side_from(s: &str) -> Result<Side> {
    match s {
        "buy" | "bid" | "b" => Ok(Side::Bid),
        "sell" | "ask" | "s" => Ok(Side::Ask),
        _ => bail!("side must be buy or sell"),
    }
}

fn side_name(s: u8) -> &'static str {
    if s == 0 {
        "buy"
    } else {
        "sell"
    }
}

fn kind_from(s: &str) -> Result<OrderKind> {
    Ok(match s {
        "limit" => OrderKind::Limit,
        "post-only" => OrderKind::PostOnly,
        "post-only-slide" => OrderKind::PostOnlySlide,
        "ioc" => OrderKind::ImmediateOrCancel,
        "fok" => OrderKind::FillOrKill,
        "market" => OrderKind::Market,
        _ => bail!("--type must be limit, post-only, post-only-slide, ioc, fok or market"),
    })
}

fn stp_from(s: &str) -> Result<SelfTrade> {
    Ok(match s {
        "cancel-maker" => SelfTrade::CancelMaker,
        "decrement" => SelfTrade::DecrementTake,
        "abort" => SelfTrade::Abort,
        _ => bail!("--stp must be cancel-maker, decrement or abort"),
    })
}

fn build(o: &NewOrder, u: &MarketUnits) -> Result<PlaceOrderArgs> {
    let side = side_from(&o.side)?;
    let price = u.price_to_ticks(&o.price).map_err(|e| anyhow!("price {}: {e}", o.price))?;
    let size = u.size_to_lots(&o.size).map_err(|e| anyhow!("size {}: {e}", o.size))?;
    let mut args = order::limit(side, price, size)
        .kind(kind_from(&o.order_type)?)
        .self_trade(stp_from(&o.stp)?)
        .client_id(o.client_id);
    if o.reduce_only {
        args = args.reduce_only();
    }
    if let Some(secs) = o.expires_in {
        args = args.expires_at(now_secs()? + secs);
    }
    Ok(args.match_limit(o.match_limit))
}

/// A quote given as PRICE:SIZE in display units.
fn quote_level(s: &str, u: &MarketUnits) -> Result<meridian_sdk::QuoteLevel> {
    let (price, size) = s.split_once(':').ok_or_else(|| anyhow!("quote {s}: give PRICE:SIZE"))?;
    Ok(meridian_sdk::QuoteLevel {
        price: u.price_to_ticks(price).map_err(|e| anyhow!("quote {s}: price: {e}"))?,
        size: u.size_to_lots(size).map_err(|e| anyhow!("quote {s}: size: {e}"))?,
    })
}

fn now_secs() -> Result<i64> {
    Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64)
}

fn describe_result(r: &LastPlacement, u: &MarketUnits, qd: u8) -> Record {
    Record::new()
        .with("order_id", r.order_seq)
        .with("filled", u.format_size(r.filled_lots))
        .with("filled_value", amount::format_ui_amount(r.filled_quote, qd))
        .with("fee", amount::format_ui_amount(r.taker_fee, qd))
        .with("resting", u.format_size(r.posted_lots))
        .with("resting_price", if r.posted_lots > 0 { json!(u.format_price(r.posted_price)) } else { json!(null) })
}

pub async fn run(ctx: &Context, cmd: OrderCommand) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    let owner = ctx.signer()?;
    let e = client.exchange(&exchange).await?;
    let qd = e.collateral_decimals;
    let (market, target) = match &cmd {
        OrderCommand::Place { market, target, .. }
        | OrderCommand::Cancel { market, target, .. }
        | OrderCommand::CancelAll { market, target, .. }
        | OrderCommand::Replace { market, target, .. }
        | OrderCommand::Quote { market, target, .. } => (market.clone(), target.clone()),
    };
    let (address, m) = resolve(ctx, &exchange, &market).await?;
    let accounts = MarketAccounts::of(address, &m);
    let u = market_units(&m, qd);
    let sub = target.sub_account;
    let account_owner = match &target.owner {
        Some(o) => crate::context::parse_pubkey(o, "--owner")?,
        None => owner.pubkey(),
    };
    let margin = pda::margin_account(&exchange, &account_owner, sub).0;
    let account = client.margin_account(&margin).await.map_err(|e| {
        anyhow!("margin account {sub} of {account_owner}: {e} (create it with `meridian account create`)")
    })?;
    if account_owner != owner.pubkey() && account.delegate != owner.pubkey() {
        bail!("{} is not the owner of margin account {margin} nor its delegate", owner.pubkey());
    }
    match cmd {
        OrderCommand::Place { order, .. } => {
            let args = build(&order, &u)?;
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            let ix = ix::place_order(&accounts, &margin, &owner.pubkey(), args, &health);
            let signature = ctx.send(&[ix], &[owner]).await?;
            let mut r = describe_result(&client.margin_account(&margin).await?.last_placement, &u, qd);
            r.push("signature", signature.to_string());
            output::print(ctx.json, &r);
        }
        OrderCommand::Replace { order_id, order, .. } => {
            let args = build(&order, &u)?;
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            let ix = ix::replace_order(&accounts, &margin, &owner.pubkey(), order_id, args, &health);
            let signature = ctx.send(&[ix], &[owner]).await?;
            let mut r = describe_result(&client.margin_account(&margin).await?.last_placement, &u, qd);
            r.push("cancelled", order_id);
            r.push("signature", signature.to_string());
            output::print(ctx.json, &r);
        }
        OrderCommand::Cancel { order_id, client_id, .. } => {
            let ix = match (order_id, client_id) {
                (Some(id), None) => ix::cancel_order(&accounts, &margin, &owner.pubkey(), id),
                (None, Some(cid)) => ix::cancel_order_by_client_id(&accounts, &margin, &owner.pubkey(), cid),
                _ => bail!("give an order id or --client-id (one of them)"),
            };
            let signature = ctx.send(&[ix], &[owner]).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("cancelled", order_id.map_or(json!({"client_id": client_id}), |i| json!(i)))
                    .with("signature", signature.to_string()),
            );
        }
        OrderCommand::Quote { bids, asks, keep, cancel_client_ids, slide, client_id, expires_in, .. } => {
            let args = meridian_sdk::MassQuoteArgs {
                cancel_all: !keep && cancel_client_ids.is_empty(),
                cancel_client_ids,
                order_kind: if slide { OrderKind::PostOnlySlide } else { OrderKind::PostOnly }.into(),
                expiry_ts: match expires_in {
                    Some(secs) => now_secs()? + secs,
                    None => 0,
                },
                client_order_id_base: client_id,
                bids: bids.iter().map(|q| quote_level(q, &u)).collect::<Result<_>>()?,
                asks: asks.iter().map(|q| quote_level(q, &u)).collect::<Result<_>>()?,
            };
            let quoting = !args.bids.is_empty() || !args.asks.is_empty();
            let health = ix::health_markets(&exchange, &account, Some(m.index));
            let ix = ix::mass_quote(&accounts, &margin, &owner.pubkey(), args, &health);
            let signature = ctx.send(&[ix], &[owner]).await?;
            let after = client.margin_account(&margin).await?;
            let resting = after.open_orders.iter().filter(|o| o.in_use != 0 && o.market_index == m.index).count();
            output::print(
                ctx.json,
                &Record::new()
                    .with("first_order_id", if quoting { json!(after.last_placement.order_seq) } else { json!(null) })
                    .with("quoted", u.format_size(if quoting { after.last_placement.posted_lots } else { 0 }))
                    .with("orders_resting", resting)
                    .with("signature", signature.to_string()),
            );
        }
        OrderCommand::CancelAll { side, .. } => {
            let side = match side.as_deref() {
                None => meridian_sdk::CancelSide::Both,
                Some(s) => side_from(s)?.into(),
            };
            let ix = ix::cancel_all_orders(&accounts, &margin, &owner.pubkey(), side, 0);
            let signature = ctx.send(&[ix], &[owner]).await?;
            let after = client.margin_account(&margin).await?.num_open_orders();
            let cancelled = account.num_open_orders().saturating_sub(after);
            output::print(
                ctx.json,
                &Record::new().with("cancelled", cancelled).with("signature", signature.to_string()),
            );
        }
    }
    Ok(())
}

/// `meridian book MARKET`: a ladder of price levels (or every order with --l3).
pub async fn book(ctx: &Context, market: &str, depth: usize, l3: bool) -> Result<()> {
    let exchange = ctx.exchange()?;
    let e = ctx.client.exchange(&exchange).await?;
    let (_, m) = resolve(ctx, &exchange, market).await?;
    match ctx.json {
        true => output::print_json(&book_json(ctx, &m, e.collateral_decimals, depth, l3).await?),
        false => print!("{}", book_text(ctx, &m, e.collateral_decimals, depth, l3).await?),
    }
    Ok(())
}

/// `meridian book MARKET --watch`: reads the market and its book every `interval_ms` and redraws
/// the ladder in place (JSON: one document per read, never cleared) until Ctrl-C.
pub async fn watch_book(ctx: &Context, market: &str, depth: usize, l3: bool, interval_ms: u64) -> Result<()> {
    use std::io::Write;
    let exchange = ctx.exchange()?;
    let qd = ctx.client.exchange(&exchange).await?.collateral_decimals;
    let (address, _) = resolve(ctx, &exchange, market).await?;
    let mut every = tokio::time::interval(std::time::Duration::from_millis(interval_ms.max(50)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            _ = every.tick() => {}
        }
        // a failed read (an RPC hiccup) is shown and retried on the next tick, not fatal
        let m = ctx.client.market(&address).await;
        let frame = match (&m, ctx.json) {
            (Ok(m), true) => book_json(ctx, m, qd, depth, l3).await.map(|v| output::to_json_string(&v) + "\n"),
            (Ok(m), false) => book_text(ctx, m, qd, depth, l3).await,
            (Err(e), _) => Err(anyhow!("{e}")),
        };
        let frame = match (frame, ctx.json) {
            (Ok(f), true) => f,
            (Ok(f), false) => format!("{CLEAR}{f}\n{}  every {interval_ms} ms, Ctrl-C to stop\n", now_utc()),
            (Err(e), true) => output::to_json_string(&json!({ "error": format!("{e:#}") })) + "\n",
            (Err(e), false) => format!("{CLEAR}error: {e:#} (retrying)\n"),
        };
        stdout.write_all(frame.as_bytes())?;
        stdout.flush()?;
    }
    Ok(())
}

/// ANSI: clear the screen, cursor to the top left.
const CLEAR: &str = "\x1b[2J\x1b[H";

fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}:{:02} UTC", secs / 3600 % 24, secs / 60 % 60, secs % 60)
}

async fn book_json(ctx: &Context, m: &meridian_sdk::state::Market, qd: u8, depth: usize, l3: bool) -> Result<Value> {
    let u = market_units(m, qd);
    let book = ctx.client.book(m).await?;
    let level = |l: &meridian_sdk::book::Level| json!({"price": u.format_price(l.price), "size": u.format_size(l.size), "orders": l.orders});
    let order = |o: &meridian_sdk::book::OrderView| json!({"price": u.format_price(o.price), "size": u.format_size(o.size), "order_id": o.seq, "owner": o.owner.to_string(), "client_id": o.client_order_id});
    Ok(if l3 {
        json!({"market": market_name(m), "bids": book.bids.iter().take(depth).map(order).collect::<Vec<_>>(), "asks": book.asks.iter().take(depth).map(order).collect::<Vec<_>>()})
    } else {
        json!({"market": market_name(m), "bids": book.levels(Side::Bid, depth).iter().map(level).collect::<Vec<_>>(), "asks": book.levels(Side::Ask, depth).iter().map(level).collect::<Vec<_>>()})
    })
}

/// The ladder as text: asks (best last), the spread, bids (best first); or every order (--l3).
async fn book_text(ctx: &Context, m: &meridian_sdk::state::Market, qd: u8, depth: usize, l3: bool) -> Result<String> {
    use std::fmt::Write;
    let u = market_units(m, qd);
    let book = ctx.client.book(m).await?;
    let mut out = String::new();
    writeln!(
        out,
        "{}  tick {}  lot {}  mark {}",
        market_name(m),
        u.format_price(1),
        u.format_size(1),
        u.format_price(m.mark_price)
    )?;
    if l3 {
        writeln!(out, "{:<5} {:>16} {:>16} {:>10}  owner", "side", "price", "size", "order id")?;
        for o in book.asks.iter().take(depth).rev() {
            writeln!(
                out,
                "{:<5} {:>16} {:>16} {:>10}  {}",
                "ask",
                u.format_price(o.price),
                u.format_size(o.size),
                o.seq,
                o.owner
            )?;
        }
        for o in book.bids.iter().take(depth) {
            writeln!(
                out,
                "{:<5} {:>16} {:>16} {:>10}  {}",
                "bid",
                u.format_price(o.price),
                u.format_size(o.size),
                o.seq,
                o.owner
            )?;
        }
        return Ok(out);
    }
    writeln!(out, "{:<5} {:>16} {:>16} {:>7}", "side", "price", "size", "orders")?;
    for l in book.levels(Side::Ask, depth).iter().rev() {
        writeln!(out, "{:<5} {:>16} {:>16} {:>7}", "ask", u.format_price(l.price), u.format_size(l.size), l.orders)?;
    }
    match (book.best_bid(), book.best_ask()) {
        (Some(b), Some(a)) => writeln!(out, "{:-^48}", format!(" spread {} ", u.format_price(a - b)))?,
        _ => writeln!(out, "{:-^48}", "")?,
    }
    for l in book.levels(Side::Bid, depth) {
        writeln!(out, "{:<5} {:>16} {:>16} {:>7}", "bid", u.format_price(l.price), u.format_size(l.size), l.orders)?;
    }
    Ok(out)
}

async fn own_account(
    ctx: &Context,
    sub: u16,
    owner: Option<&str>,
) -> Result<(Pubkey, Pubkey, meridian_sdk::state::MarginAccount)> {
    let exchange = ctx.exchange()?;
    let owner = match owner {
        Some(s) => crate::context::parse_pubkey(s, "--owner")?,
        None => ctx.signer_pubkey()?,
    };
    let margin = pda::margin_account(&exchange, &owner, sub).0;
    let account =
        ctx.client.margin_account(&margin).await.map_err(|e| anyhow!("margin account {sub} of {owner}: {e}"))?;
    Ok((exchange, margin, account))
}

/// `meridian orders`: the account's open orders with their live size on the book.
pub async fn orders(ctx: &Context, sub: u16, owner: Option<&str>) -> Result<()> {
    let (exchange, margin, account) = own_account(ctx, sub, owner).await?;
    let qd = ctx.client.exchange(&exchange).await?.collateral_decimals;
    let mut rows: Vec<Value> = vec![];
    let markets = account
        .open_orders
        .iter()
        .filter(|o| o.in_use != 0)
        .map(|o| o.market_index)
        .collect::<std::collections::BTreeSet<_>>();
    for index in markets {
        let m = ctx.client.market(&pda::market(&exchange, index).0).await?;
        let u = market_units(&m, qd);
        let book = ctx.client.book(&m).await?;
        for o in account.open_orders.iter().filter(|o| o.in_use != 0 && o.market_index == index) {
            let live = book.orders_of(&margin).into_iter().find(|b| b.seq == o.seq);
            rows.push(json!({
                "market": market_name(&m),
                "order_id": o.seq,
                "side": side_name(o.side),
                "price": u.format_price(o.price),
                "size": live.map_or("filled/out, awaiting crank".to_string(), |b| u.format_size(b.size)),
                "client_id": o.client_order_id,
            }));
        }
    }
    if ctx.json {
        output::print_json(&Value::Array(rows));
    } else if rows.is_empty() {
        println!("no open orders");
    } else {
        println!(
            "{:<16} {:>10} {:<5} {:>16} {:>16} {:>10}",
            "market", "order id", "side", "price", "size", "client id"
        );
        for r in rows {
            let s = |k: &str| r[k].as_str().map(str::to_string).unwrap_or_else(|| r[k].to_string());
            println!(
                "{:<16} {:>10} {:<5} {:>16} {:>16} {:>10}",
                s("market"),
                s("order_id"),
                s("side"),
                s("price"),
                s("size"),
                s("client_id")
            );
        }
    }
    Ok(())
}

/// `meridian positions`: size, entry, mark, PnL and resting orders per market.
pub async fn positions(ctx: &Context, sub: u16, owner: Option<&str>) -> Result<()> {
    let (exchange, _, account) = own_account(ctx, sub, owner).await?;
    let qd = ctx.client.exchange(&exchange).await?.collateral_decimals;
    let markets = ctx.client.markets_of(&exchange, &account).await?;
    let mut rows = vec![];
    for p in account.positions_in_use() {
        let m = &markets[&p.market_index];
        let u = market_units(m, qd);
        let value = p.base_lots as i128 * m.mark_price as i128 * m.tick_size as i128;
        let pnl = p.quote_balance as i128 + value;
        let entry = if p.base_lots != 0 {
            let per_lot_tick = p.base_lots.unsigned_abs() as i128 * m.tick_size as i128;
            json!(u.format_price(((p.entry_quote.unsigned_abs() as i128 + per_lot_tick / 2) / per_lot_tick) as u64))
        } else {
            json!(null)
        };
        rows.push(json!({
            "market": market_name(m),
            "size": u.format_signed_size(p.base_lots),
            "entry_price": entry,
            "mark": u.format_price(m.mark_price),
            "pnl": amount::format_signed_ui_amount(pnl, qd),
            "realized_pnl": amount::format_signed_ui_amount(p.realized_pnl as i128, qd),
            "bids": u.format_size(p.bid_lots),
            "asks": u.format_size(p.ask_lots),
            "fees_paid": amount::format_signed_ui_amount(p.fees_paid as i128, qd),
        }));
    }
    if ctx.json {
        output::print_json(&Value::Array(rows));
    } else if rows.is_empty() {
        println!("no positions");
    } else {
        println!(
            "{:<16} {:>14} {:>14} {:>14} {:>16} {:>12} {:>12}",
            "market", "size", "entry", "mark", "pnl", "bids", "asks"
        );
        for r in rows {
            let s = |k: &str| r[k].as_str().map(str::to_string).unwrap_or_else(|| "-".to_string());
            println!(
                "{:<16} {:>14} {:>14} {:>14} {:>16} {:>12} {:>12}",
                s("market"),
                s("size"),
                s("entry_price"),
                s("mark"),
                s("pnl"),
                s("bids"),
                s("asks")
            );
        }
    }
    Ok(())
}
