//! `meridian market create|chain|list|show|status|band|set-oracle|set-funding|settle|close`, and
//! resolving a market argument (dated markets: `expiry`).

use super::expiry;
use crate::{
    context::Context,
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use meridian_sdk::{
    amount,
    ix::{self, MarketAccounts},
    pda,
    state::{encode_name, market_name, market_units, MarketKind, MarketMode, MarketStatus},
    MarketParams, Pubkey,
};
use serde_json::{json, Value};
use solana_sdk::{signature::Keypair, signer::Signer};

#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Admin: create a market (its book and event queue accounts are allocated too).
    Create {
        /// Display name, at most 16 bytes (e.g. BTC-PERP).
        #[arg(long)]
        name: String,
        /// perp (or perpetual), future, call or put.
        #[arg(long, default_value = "perp", value_parser = parse_kind)]
        kind: MarketKind,
        /// Decimals of the underlying (8 for BTC).
        #[arg(long, default_value_t = 8)]
        base_decimals: u8,
        /// Lot size in underlying units (e.g. 0.0001).
        #[arg(long)]
        lot: String,
        /// Tick: price increment in collateral per underlying unit (e.g. 0.1).
        #[arg(long)]
        tick: String,
        /// Mark price until the first trade (collateral per underlying unit).
        #[arg(long)]
        mark: String,
        /// Minimum order size in underlying units (default: one lot).
        #[arg(long)]
        min_size: Option<String>,
        /// Taker fee in basis points (decimals allowed: 2.5).
        #[arg(long, default_value = "5")]
        taker_fee_bps: String,
        /// Maker fee in basis points; negative = rebate (at most the taker fee).
        #[arg(long, default_value = "-1", allow_hyphen_values = true)]
        maker_fee_bps: String,
        #[arg(long, default_value_t = 1_000)]
        initial_margin_bps: u32,
        #[arg(long, default_value_t = 500)]
        maintenance_margin_bps: u32,
        /// Orders per side the book holds.
        #[arg(long, default_value_t = 1_024)]
        book_capacity: u32,
        /// Events the queue holds before the crank must run.
        #[arg(long, default_value_t = 512)]
        event_queue_capacity: u32,
        /// Paid to the crank per fill whose taker fee covers it, in collateral (UI units).
        #[arg(long, default_value = "0.0001")]
        crank_reward: String,
        /// Price band: orders and fills within this many basis points of the reference price
        /// (oracle or stable mark); default 1,000 (10%).
        #[arg(long, default_value_t = 1_000)]
        price_band_bps: u32,
        /// Futures and options: expiry, RFC 3339 (2026-12-27T08:00:00Z) or unix seconds.
        #[arg(long)]
        expiry: Option<String>,
        /// Options: strike price (collateral per underlying unit).
        #[arg(long)]
        strike: Option<String>,
        /// Futures and options: the settlement window, seconds (a multiple of 30 up to 86,400;
        /// 0 = 1,800).
        #[arg(long, default_value_t = 0)]
        settlement_window_secs: u32,
        /// Price the market from this oracle aggregate (name or address), linked in the same
        /// transaction (options are valued from it).
        #[arg(long)]
        oracle: Option<String>,
        /// A batch market: orders are collected over auctions of this many slots (1 to 150) and
        /// cleared together at one price (`meridian-keeper auction`). Needs --book-capacity at most
        /// 128 and --event-queue-capacity at least twice that.
        #[arg(long)]
        batch_slots: Option<u64>,
    },
    /// Admin: switch a market with an empty book and queue to continuous or batch matching.
    Mode {
        market: String,
        /// continuous or batch.
        #[arg(value_parser = parse_mode)]
        mode: MarketMode,
        /// Batch: auction period in slots (1 to 150; 0 = 2).
        #[arg(long, default_value_t = 0)]
        slots: u64,
    },
    /// A batch market's auction: the orders waiting, the price and volume it would clear at now,
    /// and the last clearing.
    Auction { market: String },
    /// Admin: list futures and a call and a put per strike for each expiry on an underlying,
    /// named like SOL-27DEC26 and SOL-27DEC26-120C, priced by its oracle, in as few transactions
    /// as fit.
    Chain {
        /// The underlying's short name (SOL).
        #[arg(long)]
        underlying: String,
        /// The underlying's oracle aggregate (name or address).
        #[arg(long)]
        oracle: String,
        /// Expiries, comma-separated (RFC 3339 or unix seconds).
        #[arg(long)]
        expiries: String,
        /// Option strikes, comma-separated prices (100,110,120).
        #[arg(long)]
        strikes: String,
        /// The underlying's price now: the futures' initial mark, the options' intrinsic value.
        #[arg(long)]
        spot: String,
        /// Decimals of the underlying.
        #[arg(long, default_value_t = 9)]
        base_decimals: u8,
        /// The futures' lot and tick (collateral per underlying unit).
        #[arg(long)]
        lot: String,
        #[arg(long)]
        tick: String,
        /// The options' lot and tick.
        #[arg(long)]
        option_lot: String,
        #[arg(long)]
        option_tick: String,
        /// Skip the futures.
        #[arg(long)]
        no_futures: bool,
        #[arg(long, default_value_t = 0)]
        settlement_window_secs: u32,
        #[arg(long, default_value_t = 256)]
        book_capacity: u32,
        #[arg(long, default_value_t = 256)]
        event_queue_capacity: u32,
    },
    /// A future or option past expiry: cancel its resting orders, fix its settlement price, settle
    /// every position at its payoff (what the settle keeper does; anyone may).
    Settle {
        market: String,
        /// Accounts per transaction.
        #[arg(long, default_value_t = 20)]
        batch: usize,
    },
    /// Admin: close a market with no open interest (a dated one once settled) and an empty book;
    /// the book's and queue's rent comes back.
    Close { market: String },
    /// All markets of the exchange.
    List,
    /// One market: parameters, status, fees, book top, open interest.
    Show { market: String },
    /// Admin: active, cancel-only, paused or closed.
    Status {
        market: String,
        #[arg(value_parser = parse_status)]
        status: MarketStatus,
    },
    /// Admin: price the market from an oracle aggregate (name or address).
    SetOracle { market: String, oracle: String },
    /// Admin: the price band's half width, basis points of the reference price (1 to 10,000).
    Band { market: String, bps: u32 },
    /// Admin: a perpetual's funding period, rate clamp and impact size.
    SetFunding {
        market: String,
        /// Funding accrues at the premium over this many seconds.
        #[arg(long, default_value_t = 3_600)]
        period_secs: u32,
        /// Clamp on the rate, basis points per period.
        #[arg(long, default_value_t = 10)]
        max_bps: u32,
        /// Impact size in collateral (UI units); 0 = the best bid and ask.
        #[arg(long, default_value = "0")]
        impact: String,
    },
}

/// The CLI's name of each variant of the market's enums: arguments parse with these tables and
/// output prints with them (perp is also accepted for perpetual).
const KIND_NAMES: [(&str, MarketKind); 4] = [
    ("perpetual", MarketKind::Perpetual),
    ("future", MarketKind::Future),
    ("call", MarketKind::Call),
    ("put", MarketKind::Put),
];
const STATUS_NAMES: [(&str, MarketStatus); 4] = [
    ("active", MarketStatus::Active),
    ("cancel-only", MarketStatus::CancelOnly),
    ("paused", MarketStatus::Paused),
    ("closed", MarketStatus::Closed),
];
const MODE_NAMES: [(&str, MarketMode); 2] = [("continuous", MarketMode::Continuous), ("batch", MarketMode::Batch)];

fn parse_named<T: Copy>(table: &[(&str, T)], s: &str) -> std::result::Result<T, String> {
    table.iter().find(|(name, _)| *name == s).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
        format!("must be {}", names.join(", "))
    })
}

fn name_of<T: PartialEq>(table: &[(&'static str, T)], v: T) -> &'static str {
    table.iter().find(|(_, t)| *t == v).map_or("?", |(name, _)| name)
}

fn parse_kind(s: &str) -> std::result::Result<MarketKind, String> {
    if s == "perp" {
        return Ok(MarketKind::Perpetual);
    }
    parse_named(&KIND_NAMES, s)
}

fn parse_status(s: &str) -> std::result::Result<MarketStatus, String> {
    parse_named(&STATUS_NAMES, s)
}

fn parse_mode(s: &str) -> std::result::Result<MarketMode, String> {
    parse_named(&MODE_NAMES, s)
}

pub fn kind_name(k: MarketKind) -> &'static str {
    name_of(&KIND_NAMES, k)
}

pub fn status_name(s: MarketStatus) -> &'static str {
    name_of(&STATUS_NAMES, s)
}

pub fn mode_name(m: MarketMode) -> &'static str {
    name_of(&MODE_NAMES, m)
}

/// "5" or "2.5" bps -> ppm (1 bp = 100 ppm), signed.
fn bps_to_ppm(s: &str) -> Result<i64> {
    let (neg, body) = s.strip_prefix('-').map_or((false, s), |b| (true, b));
    let ppm =
        amount::parse_ui_amount(body, 2).map_err(|e| anyhow!("fee {s:?}: {e} (at most 2 decimals of a bp)"))? as i64;
    Ok(if neg { -ppm } else { ppm })
}

/// A market given as its index, address or name.
pub async fn resolve(ctx: &Context, exchange: &Pubkey, s: &str) -> Result<(Pubkey, meridian_sdk::state::Market)> {
    ctx.client
        .find_market(exchange, s)
        .await?
        .ok_or_else(|| anyhow!("no market {s:?} on this exchange (`meridian market list`)"))
}

pub fn describe(address: &Pubkey, m: &meridian_sdk::state::Market, quote_decimals: u8) -> Record {
    let u = market_units(m, quote_decimals);
    Record::new()
        .with("market", address.to_string())
        .with("name", market_name(m))
        .with("index", m.index)
        .with("kind", kind_name(m.kind()))
        .with("status", status_name(m.status()))
        .with(
            "mode",
            if m.is_batch() {
                format!("batch ({}-slot auctions)", m.auction_period_slots)
            } else {
                "continuous".to_string()
            },
        )
        .with("lot_size", u.format_size(1))
        .with("tick", u.format_price(1))
        .with("min_size", u.format_size(m.min_order_lots))
        .with("mark", u.format_price(m.mark_price))
        .with("taker_fee_bps", m.taker_fee_ppm as f64 / 100.0)
        .with("maker_fee_bps", m.maker_fee_ppm as f64 / 100.0)
        .with("initial_margin_bps", m.initial_margin_bps)
        .with("maintenance_margin_bps", m.maintenance_margin_bps)
        .with("open_interest", u.format_size(m.open_interest))
        .with("pnl_pool", amount::format_ui_amount(m.pnl_pool, quote_decimals))
        .with("volume", amount::format_ui_amount(m.volume_quote, quote_decimals))
        .with("oracle", if m.has_oracle() { json!(m.oracle.to_string()) } else { json!(null) })
        .with(
            "oracle_status",
            meridian_sdk::oracle::status_name(meridian_sdk::oracle::OracleStatus::from_u8(m.oracle_status)),
        )
        .with("oracle_conf", u.format_price(m.oracle_conf))
        .with("price_band_bps", m.band_bps())
        .with("price_band", {
            let b = m.band();
            format!("{} - {}", u.format_price(b.low.0), u.format_price(b.high.0))
        })
        .with("funding_rate_pct_per_period", m.funding_rate as f64 / 1e7)
        .with("funding_period_secs", m.funding_period_secs)
        .with("funding_max_bps", m.funding_max_bps)
        .with("funding_impact", amount::format_ui_amount(m.funding_impact_notional, quote_decimals))
        .with("funding_last_ts", m.funding_last_ts)
        .with("book", m.book.to_string())
        .with("event_queue", m.event_queue.to_string())
}

pub async fn run(ctx: &Context, cmd: MarketCommand) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    let e = client.exchange(&exchange).await?;
    let qd = e.collateral_decimals;
    match cmd {
        MarketCommand::Create {
            name,
            kind,
            base_decimals,
            lot,
            tick,
            mark,
            min_size,
            taker_fee_bps,
            maker_fee_bps,
            initial_margin_bps,
            maintenance_margin_bps,
            book_capacity,
            event_queue_capacity,
            crank_reward,
            price_band_bps,
            expiry,
            strike,
            settlement_window_secs,
            oracle,
            batch_slots,
        } => {
            let admin = ctx.signer()?;
            if batch_slots.is_some() && (book_capacity > 128 || event_queue_capacity < 2 * book_capacity) {
                bail!("--batch-slots: a batch book holds at most 128 orders a side and its queue twice as many events (--book-capacity 128 --event-queue-capacity 256)");
            }
            if name.len() > 16 {
                bail!("--name is at most 16 bytes");
            }
            // lot in atoms; tick in collateral native units per lot: tick * lot * 10^qd, exact
            let base_lot_size = amount::parse_ui_amount(&lot, base_decimals).map_err(|e| anyhow!("--lot: {e}"))?;
            if base_lot_size == 0 {
                bail!("--lot must be positive");
            }
            let probe = meridian_sdk::engine::ui::MarketUnits {
                base_lot_size,
                base_decimals,
                tick_size: 1,
                quote_decimals: qd,
            };
            // one native unit per lot as a price per underlying unit; the tick must be a whole multiple
            let tick_size = probe.price_to_ticks(&tick).map_err(|e| {
                anyhow!("--tick {tick}: {e} (with this lot one native unit is {})", probe.format_price(1))
            })?;
            let units =
                meridian_sdk::engine::ui::MarketUnits { base_lot_size, base_decimals, tick_size, quote_decimals: qd };
            let initial_mark_price = units.price_to_ticks(&mark).map_err(|e| anyhow!("--mark: {e}"))?;
            let min_order_lots = match &min_size {
                Some(s) => units.size_to_lots(s).map_err(|e| anyhow!("--min-size: {e}"))?,
                None => 1,
            };
            let taker = bps_to_ppm(&taker_fee_bps)?;
            let expiry_ts = match (&expiry, kind) {
                (None, MarketKind::Perpetual) => 0,
                (Some(_), MarketKind::Perpetual) => bail!("--expiry: a perpetual never expires"),
                (Some(e), _) => expiry::parse_time(e).map_err(|e| anyhow!("--expiry: {e}"))?,
                (None, _) => bail!("--expiry is required for futures and options"),
            };
            let strike = match (&strike, kind) {
                (Some(k), MarketKind::Call | MarketKind::Put) => {
                    units.price_to_ticks(k).map_err(|e| anyhow!("--strike: {e}"))?
                }
                (None, MarketKind::Call | MarketKind::Put) => bail!("--strike is required for options"),
                (Some(_), _) => bail!("--strike: only options have one"),
                (None, _) => 0,
            };
            let oracle_address = match &oracle {
                Some(o) => Some(
                    client
                        .find_oracle(&exchange, o)
                        .await?
                        .ok_or_else(|| anyhow!("no oracle {o:?} on this exchange (`meridian oracle list`)"))?
                        .0,
                ),
                None => None,
            };
            let params = MarketParams {
                name: encode_name(&name),
                kind,
                base_decimals,
                base_lot_size,
                tick_size,
                min_order_lots,
                taker_fee_ppm: u32::try_from(taker).map_err(|_| anyhow!("--taker-fee-bps cannot be negative"))?,
                maker_fee_ppm: bps_to_ppm(&maker_fee_bps)? as i32,
                initial_margin_bps,
                maintenance_margin_bps,
                crank_reward: amount::parse_ui_amount(&crank_reward, qd)?,
                initial_mark_price,
                book_capacity,
                event_queue_capacity,
                expiry_ts,
                strike,
                price_band_bps,
                settlement_window_secs,
            };
            let (book, queue) = (Keypair::new(), Keypair::new());
            let index = e.num_markets;
            let mut rents = vec![];
            for len in [
                meridian_sdk::program::book_account_len(book_capacity),
                meridian_sdk::program::queue_account_len(event_queue_capacity),
            ] {
                rents.push((len, client.rpc().get_minimum_balance_for_rent_exemption(len).await?));
            }
            let rent = |len: usize| rents.iter().find(|(l, _)| *l == len).map_or(0, |(_, r)| *r);
            let mut ixs = ix::allocate_market_accounts(&admin.pubkey(), &book.pubkey(), &queue.pubkey(), &params, rent);
            ixs.push(ix::create_market(&exchange, &admin.pubkey(), index, params, &book.pubkey(), &queue.pubkey()));
            let address = pda::market(&exchange, index).0;
            if let Some(o) = oracle_address {
                ixs.push(ix::set_market_oracle(&exchange, &admin.pubkey(), &address, &o));
            }
            if let Some(slots) = batch_slots {
                let accounts =
                    MarketAccounts { exchange, market: address, book: book.pubkey(), event_queue: queue.pubkey() };
                ixs.push(ix::set_market_mode(&accounts, &admin.pubkey(), MarketMode::Batch, slots));
            }
            let signature = ctx.send(&ixs, &[admin, &book, &queue]).await?;
            let m = client.market(&address).await?;
            let mut r = describe(&address, &m, qd);
            expiry::describe_expiry(&mut r, &m, client.clock().await?.unix_timestamp, qd);
            r.push("signature", signature.to_string());
            output::print(ctx.json, &r);
        }
        MarketCommand::List => {
            let markets = client.markets(&exchange).await?;
            if ctx.json {
                let list: Vec<Value> = markets.iter().map(|(a, m)| describe(a, m, qd).to_json()).collect();
                output::print_json(&Value::Array(list));
                return Ok(());
            }
            if markets.is_empty() {
                println!("no markets yet (`meridian market create`)");
                return Ok(());
            }
            println!(
                "{:>3}  {:<16} {:<16} {:<12} {:>14} {:>14} {:>14}",
                "#", "name", "kind", "status", "mark", "best bid", "best ask"
            );
            for (_, m) in &markets {
                let u = market_units(m, qd);
                // a closed market's book account is gone
                let (bid, ask) = match m.status() == MarketStatus::Closed {
                    true => (None, None),
                    false => {
                        let book = client.book(m).await?;
                        (book.best_bid(), book.best_ask())
                    }
                };
                let px = |p: Option<u64>| p.map_or("-".to_string(), |t| u.format_price(t));
                let kind = if m.is_dated() {
                    format!("{} {}", kind_name(m.kind()), expiry::expiry_code(m.expiry_ts))
                } else {
                    kind_name(m.kind()).to_string()
                };
                println!(
                    "{:>3}  {:<16} {:<16} {:<12} {:>14} {:>14} {:>14}",
                    m.index,
                    market_name(m),
                    kind,
                    status_name(m.status()),
                    u.format_price(m.mark_price),
                    px(bid),
                    px(ask)
                );
            }
        }
        MarketCommand::Show { market } => {
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let u = market_units(&m, qd);
            let mut r = describe(&address, &m, qd);
            expiry::describe_expiry(&mut r, &m, client.clock().await?.unix_timestamp, qd);
            if m.status() == MarketStatus::Closed {
                output::print(ctx.json, &r);
                return Ok(());
            }
            let book = client.book(&m).await?;
            let (events, _) = client.events(&m).await?;
            r.push("best_bid", book.best_bid().map_or(json!(null), |t| json!(u.format_price(t))));
            r.push("best_ask", book.best_ask().map_or(json!(null), |t| json!(u.format_price(t))));
            r.push(
                "resting_orders",
                format!(
                    "{} bids, {} asks (capacity {} per side)",
                    book.bids.len(),
                    book.asks.len(),
                    book.orders_per_side
                ),
            );
            r.push("pending_events", events.len());
            output::print(ctx.json, &r);
        }
        MarketCommand::Chain {
            underlying,
            oracle,
            expiries,
            strikes,
            spot,
            base_decimals,
            lot,
            tick,
            option_lot,
            option_tick,
            no_futures,
            settlement_window_secs,
            book_capacity,
            event_queue_capacity,
        } => {
            let oracle = client
                .find_oracle(&exchange, &oracle)
                .await?
                .ok_or_else(|| anyhow!("no oracle {oracle:?} on this exchange (`meridian oracle list`)"))?
                .0;
            let units = |lot: &str, tick: &str, flag: &str| -> Result<meridian_sdk::engine::ui::MarketUnits> {
                let base_lot_size =
                    amount::parse_ui_amount(lot, base_decimals).map_err(|e| anyhow!("--{flag}lot: {e}"))?;
                let probe = meridian_sdk::engine::ui::MarketUnits {
                    base_lot_size,
                    base_decimals,
                    tick_size: 1,
                    quote_decimals: qd,
                };
                let tick_size = probe.price_to_ticks(tick).map_err(|e| anyhow!("--{flag}tick: {e}"))?;
                Ok(meridian_sdk::engine::ui::MarketUnits { tick_size, ..probe })
            };
            let mut expiry_list = vec![];
            for e in expiry::split_list(&expiries) {
                expiry_list.push(expiry::parse_time(&e).map_err(|err| anyhow!("--expiries: {err}"))?);
            }
            let spec = expiry::ChainSpec {
                underlying,
                expiries: expiry_list,
                strikes: expiry::split_list(&strikes),
                futures: !no_futures,
                future_units: units(&lot, &tick, "")?,
                spot,
                option_units: units(&option_lot, &option_tick, "option-")?,
                template: MarketParams {
                    name: [0; 16],
                    kind: MarketKind::Perpetual,
                    base_decimals,
                    base_lot_size: 0,
                    tick_size: 0,
                    min_order_lots: 1,
                    taker_fee_ppm: 500,
                    maker_fee_ppm: -100,
                    initial_margin_bps: 1_000,
                    maintenance_margin_bps: 500,
                    crank_reward: amount::parse_ui_amount("0.0001", qd)?,
                    initial_mark_price: 0,
                    book_capacity,
                    event_queue_capacity,
                    expiry_ts: 0,
                    strike: 0,
                    price_band_bps: 0,
                    settlement_window_secs,
                },
            };
            let markets = expiry::chain_markets(&spec)?;
            if markets.is_empty() {
                bail!("nothing to list: give --expiries and --strikes");
            }
            let listed = expiry::list_chain(ctx, &exchange, &oracle, e.num_markets, &markets).await?;
            output::print(ctx.json, &expiry::chain_record(&listed));
        }
        MarketCommand::Settle { market, batch } => expiry::settle(ctx, &exchange, &market, batch).await?,
        MarketCommand::Close { market } => expiry::close(ctx, &exchange, &market).await?,
        MarketCommand::Mode { market, mode, slots } => {
            let admin = ctx.signer()?;
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let accounts = MarketAccounts::of(address, &m);
            let signature = ctx.send(&[ix::set_market_mode(&accounts, &admin.pubkey(), mode, slots)], &[admin]).await?;
            let m = client.market(&address).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("market", market_name(&m))
                    .with("mode", mode_name(mode))
                    .with("auction_period_slots", m.auction_period_slots)
                    .with("signature", signature.to_string()),
            );
        }
        MarketCommand::Auction { market } => {
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            if !m.is_batch() {
                bail!("{} is a continuous market: it has no auctions", market_name(&m));
            }
            let u = market_units(&m, qd);
            let book = client.book(&m).await?;
            let clock = client.clock().await?;
            let collected = |orders: &[meridian_sdk::book::OrderView]| {
                orders.iter().filter(|o| o.seq >= m.auction_maker_seq).count()
            };
            let mut r = Record::new()
                .with("market", address.to_string())
                .with("name", market_name(&m))
                .with("auction_period_slots", m.auction_period_slots)
                .with("collecting_until_slot", m.auction_end_slot)
                .with("slot", clock.slot)
                .with("awaiting_clearing", m.auction_pending != 0 || clock.slot >= m.auction_end_slot)
                .with("new_orders", format!("{} bids, {} asks", collected(&book.bids), collected(&book.asks)))
                .with("resting_orders", format!("{} bids, {} asks", book.bids.len(), book.asks.len()));
            match meridian_sdk::book::indicative_auction(&m, &book, clock.unix_timestamp) {
                Some(c) => {
                    r.push("indicative_price", u.format_price(c.price.0));
                    r.push("indicative_volume", u.format_size(c.volume.0));
                }
                None => {
                    r.push("indicative_price", json!(null));
                    r.push("indicative_volume", u.format_size(0));
                }
            }
            let last = |v: u64| if m.last_clearing_slot == 0 { json!(null) } else { json!(v) };
            r.push(
                "last_clearing_price",
                if m.last_clearing_slot == 0 { json!(null) } else { json!(u.format_price(m.last_clearing_price)) },
            );
            r.push(
                "last_clearing_volume",
                if m.last_clearing_slot == 0 { json!(null) } else { json!(u.format_size(m.last_clearing_volume)) },
            );
            r.push("last_clearing_slot", last(m.last_clearing_slot));
            r.push("auctions_cleared", m.auctions_cleared);
            output::print(ctx.json, &r);
        }
        MarketCommand::Status { market, status } => {
            let admin = ctx.signer()?;
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let accounts = MarketAccounts::of(address, &m);
            let signature = ctx.send(&[ix::set_market_status(&accounts, &admin.pubkey(), status)], &[admin]).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("market", market_name(&m))
                    .with("status", status_name(status))
                    .with("signature", signature.to_string()),
            );
        }
        MarketCommand::Band { market, bps } => {
            let admin = ctx.signer()?;
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let accounts = MarketAccounts::of(address, &m);
            let signature = ctx.send(&[ix::set_price_band(&accounts, &admin.pubkey(), bps)], &[admin]).await?;
            let mut r = describe(&address, &client.market(&address).await?, qd);
            r.push("signature", signature.to_string());
            output::print(ctx.json, &r);
        }
        MarketCommand::SetFunding { market, period_secs, max_bps, impact } => {
            let admin = ctx.signer()?;
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let impact_notional = amount::parse_ui_amount(&impact, qd).map_err(|e| anyhow!("--impact: {e}"))?;
            let accounts = MarketAccounts::of(address, &m);
            let ix = ix::set_funding_params(&accounts, &admin.pubkey(), period_secs, max_bps, impact_notional);
            let signature = ctx.send(&[ix], &[admin]).await?;
            let mut r = describe(&address, &client.market(&address).await?, qd);
            r.push("signature", signature.to_string());
            output::print(ctx.json, &r);
        }
        MarketCommand::SetOracle { market, oracle } => {
            let admin = ctx.signer()?;
            let (address, m) = resolve(ctx, &exchange, &market).await?;
            let (oracle_address, _) = client
                .find_oracle(&exchange, &oracle)
                .await?
                .ok_or_else(|| anyhow!("no oracle {oracle:?} on this exchange (`meridian oracle list`)"))?;
            let ix = ix::set_market_oracle(&exchange, &admin.pubkey(), &address, &oracle_address);
            let signature = ctx.send(&[ix], &[admin]).await?;
            output::print(
                ctx.json,
                &Record::new()
                    .with("market", market_name(&m))
                    .with("oracle", oracle_address.to_string())
                    .with("signature", signature.to_string()),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_name_that_parses_back() {
        for (name, kind) in KIND_NAMES {
            assert_eq!((parse_kind(name), kind_name(kind)), (Ok(kind), name));
        }
        for (name, status) in STATUS_NAMES {
            assert_eq!((parse_status(name), status_name(status)), (Ok(status), name));
        }
        for (name, mode) in MODE_NAMES {
            assert_eq!((parse_mode(name), mode_name(mode)), (Ok(mode), name));
        }
        assert_eq!(parse_kind("perp"), Ok(MarketKind::Perpetual));
        // each table names every variant once
        assert_eq!(KIND_NAMES.map(|(_, k)| k as u8), [0, 1, 2, 3]);
        assert_eq!(STATUS_NAMES.map(|(_, s)| s as u8), [0, 1, 2, 3]);
        assert_eq!(MODE_NAMES.map(|(_, m)| m as u8), [0, 1]);
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_valid_ones() {
        assert_eq!(parse_status("halted"), Err("must be active, cancel-only, paused, closed".to_string()));
        assert_eq!(parse_mode("Batch"), Err("must be continuous, batch".to_string()));
        assert!(parse_kind("option").is_err());
    }
}
