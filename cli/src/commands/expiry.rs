//! Dated markets from the CLI: expiry times, the naming convention, `meridian market chain`
//! (a grid of futures and options listed in as few transactions as fit), `meridian market settle`
//! (an expired market to cash) and `meridian market close`.

use crate::{
    context::Context,
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use meridian_sdk::{
    budget::PACKET_DATA_SIZE,
    engine::ui::MarketUnits,
    ix::{self, MarketAccounts},
    pda,
    settlement::{self, ExpiryState, ExpiryStep},
    state::{encode_name, market_name, market_units, Market, MarketKind},
    MarketParams, Pubkey,
};
use solana_sdk::{instruction::Instruction, signature::Keypair, signer::Signer, transaction::Transaction};

/// Unix seconds from `s`: digits (unix time) or RFC 3339 (`2026-12-27T08:00:00Z`, an offset such
/// as `+01:00`, or a bare date `2026-12-27`, midnight UTC).
pub fn parse_time(s: &str) -> Result<i64> {
    if let Ok(t) = s.parse::<i64>() {
        return Ok(t);
    }
    let bad = || anyhow!("{s:?} is neither unix seconds nor RFC 3339 (2026-12-27T08:00:00Z)");
    let num = |r: &str| r.parse::<i64>().map_err(|_| bad());
    let (date, time) = s.split_once(['T', 't', ' ']).unwrap_or((s, "00:00:00Z"));
    let mut d = date.splitn(3, '-');
    let (y, mo, da) =
        (num(d.next().ok_or_else(bad)?)?, num(d.next().ok_or_else(bad)?)?, num(d.next().ok_or_else(bad)?)?);
    // the offset: Z, +HH:MM or -HH:MM after the clock time
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (h, m) = time[i + 1..].split_once(':').ok_or_else(bad)?;
        let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
        (&time[..i], sign * (num(h)? * 3_600 + num(m)? * 60))
    } else {
        bail!("{s:?}: give a time zone (Z or +HH:MM)");
    };
    let mut c = clock.split(':');
    let h = num(c.next().ok_or_else(bad)?)?;
    let mi = num(c.next().ok_or_else(bad)?)?;
    // fractions of a second are dropped
    let sec = c.next().map_or(Ok(0), |x| num(x.split('.').next().unwrap_or("0")))?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    Ok(days_from_civil(y, mo, da) * 86_400 + h * 3_600 + mi * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of unix time `t` as `27DEC26` (UTC).
pub fn expiry_code(t: i64) -> String {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    format!("{d:02}{}{:02}", MONTHS[(m - 1) as usize], y.rem_euclid(100))
}

/// The name of a dated market: `SOL-27DEC26` (future), `SOL-27DEC26-120C` / `-120P` (options), at
/// most 16 bytes (a strike that does not fit is written in thousands: `BTC-27DEC26-95KC`).
pub fn dated_name(underlying: &str, kind: MarketKind, expiry: i64, strike_ui: &str) -> Result<String> {
    let base = format!("{underlying}-{}", expiry_code(expiry));
    let suffix = match kind {
        MarketKind::Call => "C",
        MarketKind::Put => "P",
        _ => return fit(base),
    };
    let full = format!("{base}-{strike_ui}{suffix}");
    if full.len() <= 16 {
        return Ok(full);
    }
    match strike_ui.strip_suffix("000") {
        Some(k) if !k.contains('.') => fit(format!("{base}-{k}K{suffix}")),
        _ => fit(full),
    }
}

fn fit(name: String) -> Result<String> {
    if name.len() > 16 {
        bail!("market name {name:?} is longer than 16 bytes: use a shorter --underlying");
    }
    Ok(name)
}

/// What a dated market's row says about its expiry.
pub fn describe_expiry(r: &mut Record, m: &Market, now: i64, quote_decimals: u8) {
    if !m.is_dated() {
        return;
    }
    let u = market_units(m, quote_decimals);
    let w = m.settlement_window();
    r.push("expiry_ts", m.expiry_ts);
    r.push("expiry", expiry_code(m.expiry_ts));
    if m.kind() != MarketKind::Future {
        r.push("strike", u.format_price(m.strike));
    }
    r.push("settlement_window_secs", w.secs);
    r.push(
        "samples",
        format!(
            "{} buckets of {} needed ({} filled, bucket {} open)",
            m.sampler().filled_at(&w, now),
            meridian_sdk::engine::expiry::MIN_FILLED,
            m.sample_filled,
            m.sample_bucket
        ),
    );
    let state = match settlement::expiry_state(m, now) {
        ExpiryState::Perpetual => "perpetual".to_string(),
        ExpiryState::Trading { window_start } => format!("trading (window opens in {} s)", window_start - now),
        ExpiryState::Sampling => "sampling the settlement window".to_string(),
        ExpiryState::AwaitingPrice { filled, needed } => {
            format!("expired, awaiting the price ({filled}/{needed} buckets)")
        }
        ExpiryState::Settled { by_admin: true, .. } => "settled (price set by the admin)".to_string(),
        ExpiryState::Settled { .. } => "settled".to_string(),
    };
    r.push("expiry_state", state);
    let predicted = settlement::predicted_price(m, now).map(|p| u.format_price(p));
    r.push("settlement_price", if m.is_settled() { predicted.clone() } else { None });
    r.push("predicted_settlement_price", predicted);
    r.push("positions_settled", m.positions_settled);
}

/// `meridian market settle`: the expiry steps for one market, each sent after the previous landed.
pub async fn settle(ctx: &Context, exchange: &Pubkey, market: &str, batch: usize) -> Result<()> {
    ctx.fee_payer()?; // permissionless: only the fee payer signs
    let (address, m) = super::market::resolve(ctx, exchange, market).await?;
    if !m.is_dated() {
        bail!("{} is a perpetual: it never expires (`meridian account settle` settles PnL)", market_name(&m));
    }
    let client = &ctx.client;
    let now = client.clock().await?.unix_timestamp;
    if now < m.expiry_ts {
        bail!("{} expires in {} s", market_name(&m), m.expiry_ts - now);
    }
    let accounts = client.margin_accounts(exchange, None).await?;
    let mut r = Record::new().with("market", market_name(&m));
    let (mut cancelled_for, mut settled) = (0, 0);
    for (step, ix) in settlement::expiry_instructions(&address, &m, &accounts, now, batch) {
        let units = match step {
            ExpiryStep::Settle(n) => 10_000 + 5_000 * n as u32,
            _ => 200_000,
        };
        ctx.send_with_units(&[ix], &[], Some(units)).await.map_err(|e| anyhow!("{step:?}: {e}"))?;
        match step {
            ExpiryStep::CancelOrders(n) => cancelled_for += n,
            ExpiryStep::FixPrice => {}
            ExpiryStep::Settle(n) => settled += n,
        }
    }
    let m = client.market(&address).await?;
    r.push("orders_cancelled_for_accounts", cancelled_for);
    r.push("accounts_settled", settled);
    let decimals = client.exchange(exchange).await?.collateral_decimals;
    r.push("open_interest", market_units(&m, decimals).format_size(m.open_interest));
    describe_expiry(&mut r, &m, now, decimals);
    output::print(ctx.json, &r);
    Ok(())
}

/// `meridian market close`.
pub async fn close(ctx: &Context, exchange: &Pubkey, market: &str) -> Result<()> {
    let admin = ctx.signer()?;
    let (address, m) = super::market::resolve(ctx, exchange, market).await?;
    let signature = ctx.send(&[ix::close_market(&MarketAccounts::of(address, &m), &admin.pubkey())], &[admin]).await?;
    output::print(
        ctx.json,
        &Record::new()
            .with("market", market_name(&m))
            .with("status", "closed")
            .with("signature", signature.to_string()),
    );
    Ok(())
}

/// What `meridian market chain` lists.
pub struct ChainSpec {
    pub underlying: String,
    pub expiries: Vec<i64>,
    /// Strikes as given (UI prices).
    pub strikes: Vec<String>,
    pub futures: bool,
    /// The future's lot and tick, and the underlying's price now (its initial mark).
    pub future_units: MarketUnits,
    pub spot: String,
    /// The options' lot and tick.
    pub option_units: MarketUnits,
    pub template: MarketParams,
}

/// Every market of the chain: its name and parameters, in listing order (per expiry: the future,
/// then a call and a put per strike). An option starts at its intrinsic value (at least a tick)
/// until the oracle revalues it.
pub fn chain_markets(spec: &ChainSpec) -> Result<Vec<(String, MarketParams)>> {
    let mut out = vec![];
    let fu = &spec.future_units;
    let ou = &spec.option_units;
    let spot_option_ticks = ou.price_to_ticks(&spec.spot).map_err(|e| anyhow!("--spot: {e}"))?;
    for &expiry in &spec.expiries {
        let dated = |kind: MarketKind, units: &MarketUnits, mark: u64, strike: u64| MarketParams {
            kind,
            base_decimals: units.base_decimals,
            base_lot_size: units.base_lot_size,
            tick_size: units.tick_size,
            initial_mark_price: mark.max(1),
            expiry_ts: expiry,
            strike,
            ..spec.template
        };
        if spec.futures {
            let mark = fu.price_to_ticks(&spec.spot).map_err(|e| anyhow!("--spot: {e}"))?;
            let name = dated_name(&spec.underlying, MarketKind::Future, expiry, "")?;
            out.push((
                name.clone(),
                MarketParams { name: encode_name(&name), ..dated(MarketKind::Future, fu, mark, 0) },
            ));
        }
        for strike_ui in &spec.strikes {
            let strike = ou.price_to_ticks(strike_ui).map_err(|e| anyhow!("--strikes {strike_ui}: {e}"))?;
            for kind in [MarketKind::Call, MarketKind::Put] {
                let intrinsic = if kind == MarketKind::Call {
                    spot_option_ticks.saturating_sub(strike)
                } else {
                    strike.saturating_sub(spot_option_ticks)
                };
                let name = dated_name(&spec.underlying, kind, expiry, strike_ui)?;
                out.push((
                    name.clone(),
                    MarketParams { name: encode_name(&name), ..dated(kind, ou, intrinsic, strike) },
                ));
            }
        }
    }
    Ok(out)
}

/// Lists `markets` from market index `first`: each market is two account creations, its
/// `create_market` and the oracle link; as many markets per transaction as fit a packet.
pub async fn list_chain(
    ctx: &Context,
    exchange: &Pubkey,
    oracle: &Pubkey,
    first: u16,
    markets: &[(String, MarketParams)],
) -> Result<Vec<(String, Pubkey)>> {
    let admin = ctx.signer()?;
    let client = &ctx.client;
    let mut rent_cache = std::collections::BTreeMap::new();
    let mut listed = vec![];
    // (instructions, keypairs) of each market
    let mut groups = vec![];
    for (i, (name, params)) in markets.iter().enumerate() {
        let index = first + u16::try_from(i).map_err(|_| anyhow!("too many markets"))?;
        let (book, queue) = (Keypair::new(), Keypair::new());
        for len in [
            meridian_sdk::program::book_account_len(params.book_capacity),
            meridian_sdk::program::queue_account_len(params.event_queue_capacity),
        ] {
            if let std::collections::btree_map::Entry::Vacant(e) = rent_cache.entry(len) {
                e.insert(client.rpc().get_minimum_balance_for_rent_exemption(len).await?);
            }
        }
        let mut ixs = ix::allocate_market_accounts(&admin.pubkey(), &book.pubkey(), &queue.pubkey(), params, |len| {
            rent_cache[&len]
        });
        ixs.push(ix::create_market(exchange, &admin.pubkey(), index, *params, &book.pubkey(), &queue.pubkey()));
        let market = pda::market(exchange, index).0;
        ixs.push(ix::set_market_oracle(exchange, &admin.pubkey(), &market, oracle));
        listed.push((name.clone(), market));
        groups.push((ixs, [book, queue]));
    }
    let mut txs = 0;
    let mut pending: Vec<(Vec<Instruction>, [Keypair; 2])> = vec![];
    // as sent: behind the compute budget instructions, paid by the fee payer
    let payer = ctx.fee_payer()?.pubkey();
    let fits = |g: &[(Vec<Instruction>, [Keypair; 2])]| -> Result<bool> {
        let ixs: Vec<Instruction> = g.iter().flat_map(|(i, _)| i.clone()).collect();
        let mut signers = vec![admin.pubkey()];
        signers.extend(g.iter().flat_map(|(_, k)| k.iter().map(|k| k.pubkey())));
        let signatures = ctx.signature_count(&signers)?;
        let message = Transaction::new_with_payer(&ctx.with_budget(&ixs, None), Some(&payer)).message_data().len();
        Ok(message + 1 + 64 * signatures <= PACKET_DATA_SIZE)
    };
    for group in groups {
        pending.push(group);
        if pending.len() > 1 && !fits(&pending)? {
            let last = pending.pop().expect("pushed above");
            send_chain(ctx, admin, &pending).await?;
            txs += 1;
            pending = vec![last];
        }
    }
    if !pending.is_empty() {
        send_chain(ctx, admin, &pending).await?;
        txs += 1;
    }
    eprintln!("listed {} markets in {txs} transactions", listed.len());
    Ok(listed)
}

async fn send_chain(ctx: &Context, admin: &dyn Signer, groups: &[(Vec<Instruction>, [Keypair; 2])]) -> Result<()> {
    let ixs: Vec<Instruction> = groups.iter().flat_map(|(i, _)| i.clone()).collect();
    let mut signers: Vec<&dyn Signer> = vec![admin];
    signers.extend(groups.iter().flat_map(|(_, k)| k.iter().map(|k| k as &dyn Signer)));
    ctx.send(&ixs, &signers).await?;
    Ok(())
}

/// The chain's rows for the output.
pub fn chain_record(listed: &[(String, Pubkey)]) -> Record {
    let names: Vec<serde_json::Value> =
        listed.iter().map(|(n, a)| serde_json::json!({ "name": n, "market": a.to_string() })).collect();
    Record::new().with("markets", listed.len()).with("listed", names)
}

/// "100,110,120" -> the strikes; "a,b" -> expiries.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_unix_or_rfc_3339() {
        assert_eq!(parse_time("1798358400").unwrap(), 1_798_358_400);
        assert_eq!(parse_time("2026-12-27T08:00:00Z").unwrap(), 1_798_358_400);
        assert_eq!(parse_time("2026-12-27T09:00:00+01:00").unwrap(), 1_798_358_400);
        assert_eq!(parse_time("2026-12-27T08:00Z").unwrap(), 1_798_358_400);
        assert_eq!(parse_time("2026-12-27").unwrap(), 1_798_329_600);
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_time("2024-02-29T00:00:00Z").unwrap(), 1_709_164_800);
        assert!(parse_time("2026-13-01T00:00:00Z").is_err());
        assert!(parse_time("2026-12-27T08:00:00").is_err(), "a time zone is required");
        assert!(parse_time("tomorrow").is_err());
    }

    #[test]
    fn dated_names_follow_the_convention_within_16_bytes() {
        let t = parse_time("2026-12-27T08:00:00Z").unwrap();
        assert_eq!(expiry_code(t), "27DEC26");
        assert_eq!(expiry_code(parse_time("2024-02-29").unwrap()), "29FEB24");
        assert_eq!(dated_name("SOL", MarketKind::Future, t, "").unwrap(), "SOL-27DEC26");
        assert_eq!(dated_name("SOL", MarketKind::Call, t, "120").unwrap(), "SOL-27DEC26-120C");
        assert_eq!(dated_name("BTC", MarketKind::Put, t, "95000").unwrap(), "BTC-27DEC26-95KP");
        assert!(dated_name("DOGECOIN", MarketKind::Call, t, "0.125").is_err());
    }
}
