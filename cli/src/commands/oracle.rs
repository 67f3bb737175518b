//! `meridian oracle create|configure|list|show|refresh`: oracle aggregates over Pyth and
//! Switchboard sources.

use crate::{
    context::{parse_pubkey, Context},
    output::{self, Record},
};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use meridian_sdk::{
    engine::oracle::SourceKind,
    ix,
    oracle::{fault_name, feed_id_hex, parse_feed_id, predict, status_name, OracleParams, OracleSourceParams},
    pda,
    state::{encode_name, market_name_bytes, OracleAggregate},
    OracleSourceKind, Pubkey,
};
use serde_json::{json, Value};

/// Sources and limits of an aggregate (create and configure).
#[derive(Args, Debug)]
pub struct OracleConfigArgs {
    /// A Pyth feed id (64 hex digits); repeatable. Any fully verified PriceUpdateV2 of the feed is accepted.
    #[arg(long = "pyth")]
    pyth: Vec<String>,
    /// A Switchboard on-demand pull feed account; repeatable.
    #[arg(long = "switchboard")]
    switchboard: Vec<String>,
    /// Valid sources needed for a Valid price (default: a majority).
    #[arg(long)]
    min_valid: Option<u8>,
    /// A source older than this many slots is left out.
    #[arg(long, default_value_t = 150)]
    max_age_slots: u64,
    /// A source older than this many seconds is left out.
    #[arg(long, default_value_t = 60)]
    max_age_secs: u64,
    /// A source whose confidence exceeds this fraction of its price (bps) is left out.
    #[arg(long, default_value_t = 200)]
    max_conf_bps: u32,
    /// A source further than this from the median (bps) makes the aggregate Divergent.
    #[arg(long, default_value_t = 500)]
    max_deviation_bps: u32,
    /// Memory of the realized-volatility EWMA, seconds.
    #[arg(long, default_value_t = 3_600)]
    vol_tau_secs: u32,
    /// The volatility samples at most once per this many seconds (a fixed cadence: refreshes in
    /// between do not add noise to it).
    #[arg(long, default_value_t = 60)]
    vol_sample_secs: u32,
}

impl OracleConfigArgs {
    fn params(&self) -> Result<OracleParams> {
        let mut sources = Vec::new();
        for p in &self.pyth {
            let id = parse_feed_id(p).ok_or_else(|| anyhow!("--pyth {p:?}: expected a 32-byte feed id in hex"))?;
            sources.push(OracleSourceParams { kind: OracleSourceKind::Pyth, id });
        }
        for s in &self.switchboard {
            let address = parse_pubkey(s, "--switchboard")?;
            sources.push(OracleSourceParams { kind: OracleSourceKind::Switchboard, id: address.to_bytes() });
        }
        if sources.is_empty() || sources.len() > 4 {
            bail!("pass 1 to 4 sources (--pyth FEED_ID, --switchboard ADDRESS)");
        }
        let n = sources.len() as u8;
        Ok(OracleParams {
            sources,
            min_valid_sources: self.min_valid.unwrap_or(n / 2 + 1),
            max_age_slots: self.max_age_slots,
            max_age_secs: self.max_age_secs,
            max_conf_bps: self.max_conf_bps,
            max_deviation_bps: self.max_deviation_bps,
            vol_tau_secs: self.vol_tau_secs,
            vol_sample_secs: self.vol_sample_secs,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum OracleCommand {
    /// Admin: create an oracle aggregate.
    Create {
        /// Name, at most 16 bytes (e.g. SOL).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        config: OracleConfigArgs,
    },
    /// Admin: replace an oracle's sources and limits.
    Configure {
        oracle: String,
        #[command(flatten)]
        config: OracleConfigArgs,
    },
    /// All oracles of the exchange.
    List,
    /// One oracle: price, confidence, status, volatility, TWAP accumulator, each source.
    Show { oracle: String },
    /// Refresh now from each source's current account (anyone may).
    Refresh { oracle: String },
}

fn decimal(v: u64) -> String {
    meridian_sdk::amount::format_ui_amount(v, 12)
}

pub fn describe(address: &Pubkey, o: &OracleAggregate) -> Record {
    let sources: Vec<Value> = o.sources[..o.num_sources as usize]
        .iter()
        .map(|s| {
            let (kind, id) = match SourceKind::from_u8(s.kind) {
                Some(SourceKind::Pyth) => ("pyth", feed_id_hex(&s.id)),
                Some(SourceKind::Switchboard) => ("switchboard", Pubkey::new_from_array(s.id).to_string()),
                None => ("?", String::new()),
            };
            json!({
                "kind": kind, "id": id, "last_fault": fault_name(s.last_fault),
                "last_price": decimal(s.last_price), "last_publish_ts": s.last_publish_ts, "last_slot": s.last_slot,
            })
        })
        .collect();
    Record::new()
        .with("oracle", address.to_string())
        .with("name", market_name_bytes(&o.name))
        .with("status", status_name(o.status()))
        .with("price", decimal(o.price))
        .with("confidence", decimal(o.conf))
        .with("price_slot", o.price_slot)
        .with("price_ts", o.price_ts)
        .with("valid_slot", o.valid_slot)
        .with("realized_vol", decimal(o.realized_vol))
        .with("twap_cumulative", o.twap_cumulative().to_string())
        .with("twap_last_ts", o.twap_last_ts)
        .with("refreshes", o.num_refreshes)
        .with(
            "limits",
            format!(
                "{} of {} sources; age <= {} slots / {} s; conf <= {} bp; deviation <= {} bp; vol memory {} s, sampled every {} s",
                o.min_valid_sources,
                o.num_sources,
                o.max_age_slots,
                o.max_age_secs,
                o.max_conf_bps,
                o.max_deviation_bps,
                o.vol_tau_secs,
                o.vol_sample_secs
            ),
        )
        .with("sources", Value::Array(sources))
}

async fn resolve(ctx: &Context, exchange: &Pubkey, s: &str) -> Result<(Pubkey, OracleAggregate)> {
    ctx.client
        .find_oracle(exchange, s)
        .await?
        .ok_or_else(|| anyhow!("no oracle {s:?} on this exchange (`meridian oracle list`)"))
}

pub async fn run(ctx: &Context, cmd: OracleCommand) -> Result<()> {
    let exchange = ctx.exchange()?;
    let client = &ctx.client;
    match cmd {
        OracleCommand::Create { name, config } => {
            if name.is_empty() || name.len() > 16 {
                bail!("--name is 1 to 16 bytes");
            }
            let admin = ctx.signer()?;
            let name = encode_name(&name);
            let sig =
                ctx.send(&[ix::create_oracle(&exchange, &admin.pubkey(), name, config.params()?)], &[admin]).await?;
            let address = pda::oracle(&exchange, &name).0;
            let mut r = describe(&address, &client.oracle(&address).await?);
            r.push("signature", sig.to_string());
            output::print(ctx.json, &r);
        }
        OracleCommand::Configure { oracle, config } => {
            let admin = ctx.signer()?;
            let (address, _) = resolve(ctx, &exchange, &oracle).await?;
            let sig = ctx
                .send(&[ix::configure_oracle(&exchange, &admin.pubkey(), &address, config.params()?)], &[admin])
                .await?;
            let mut r = describe(&address, &client.oracle(&address).await?);
            r.push("signature", sig.to_string());
            output::print(ctx.json, &r);
        }
        OracleCommand::List => {
            let oracles = client.oracles(&exchange).await?;
            if ctx.json {
                output::print_json(&Value::Array(oracles.iter().map(|(a, o)| describe(a, o).to_json()).collect()));
                return Ok(());
            }
            if oracles.is_empty() {
                println!("no oracles yet (`meridian oracle create`)");
                return Ok(());
            }
            println!("{:<16} {:<16} {:>22} {:>18} {:>10}", "name", "status", "price", "confidence", "vol");
            for (_, o) in &oracles {
                println!(
                    "{:<16} {:<16} {:>22} {:>18} {:>10}",
                    market_name_bytes(&o.name),
                    status_name(o.status()),
                    decimal(o.price),
                    decimal(o.conf),
                    format!("{:.2}%", o.realized_vol as f64 / 1e10)
                );
            }
        }
        OracleCommand::Show { oracle } => {
            let (address, o) = resolve(ctx, &exchange, &oracle).await?;
            output::print(ctx.json, &describe(&address, &o));
        }
        OracleCommand::Refresh { oracle } => {
            ctx.fee_payer()?; // permissionless: only the fee payer signs
            let (address, o) = resolve(ctx, &exchange, &oracle).await?;
            let sources = client.oracle_sources(&o).await.map_err(|e| anyhow!(e))?;
            let clock = client.clock().await?;
            let readings: Vec<_> = sources.iter().map(|(_, r)| *r).collect();
            let (expected, _) = predict(&o, &readings, clock.slot, clock.unix_timestamp);
            let accounts: Vec<Pubkey> = sources.iter().map(|(a, _)| *a).collect();
            let markets: Vec<Pubkey> =
                client.markets_priced_by(&exchange, &address).await?.into_iter().map(|(a, _)| a).collect();
            let sig = ctx.send(&[ix::refresh_oracle(&address, &accounts, &markets)], &[]).await?;
            let mut r = describe(&address, &client.oracle(&address).await?);
            r.push("predicted", format!("{expected:?}"));
            r.push("signature", sig.to_string());
            output::print(ctx.json, &r);
        }
    }
    Ok(())
}
