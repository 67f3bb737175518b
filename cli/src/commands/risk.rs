//! `meridian risk`: the risk engine's numbers, offline (no RPC, no keypair).

use crate::output::{self, Record};
use anyhow::{anyhow, bail, Result};
use clap::{Subcommand, ValueEnum};
use meridian_sdk::pricing::{self, black_scholes, format_fixed, parse_fixed, OptionInputs, OptionKind, ONE};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    Call,
    Put,
}

#[derive(Subcommand, Debug)]
pub enum RiskCommand {
    /// Black-Scholes price and greeks of a European option, with the engine's fixed-point math
    /// (the numbers the margin engine uses).
    Price {
        #[arg(long, value_enum)]
        kind: Kind,
        /// Underlying price, e.g. 65000.
        #[arg(long)]
        spot: String,
        /// Strike, in the same unit as --spot.
        #[arg(long)]
        strike: String,
        /// Annual volatility as a fraction: 0.6 = 60%.
        #[arg(long)]
        vol: String,
        /// Annual risk-free rate as a fraction (may be negative).
        #[arg(long, default_value = "0", allow_hyphen_values = true)]
        rate: String,
        /// Days to expiry (fractions allowed: 0.5 = 12 hours).
        #[arg(long)]
        days: String,
    },
}

fn number(name: &str, s: &str) -> Result<i128> {
    parse_fixed(s).ok_or_else(|| anyhow!("--{name} {s:?} is not a decimal number (at most 12 decimals)"))
}

pub fn run(json: bool, cmd: RiskCommand) -> Result<()> {
    match cmd {
        RiskCommand::Price { kind, spot, strike, vol, rate, days } => {
            let (spot, strike) = (number("spot", &spot)?, number("strike", &strike)?);
            let (vol, rate, days) = (number("vol", &vol)?, number("rate", &rate)?, number("days", &days)?);
            if spot <= 0 || strike <= 0 {
                bail!("--spot and --strike must be positive");
            }
            if vol < 0 || days < 0 {
                bail!("--vol and --days cannot be negative");
            }
            let inputs = OptionInputs {
                kind: match kind {
                    Kind::Call => OptionKind::Call,
                    Kind::Put => OptionKind::Put,
                },
                spot,
                strike,
                vol,
                rate,
                years: days / 365,
            };
            let g = black_scholes(&inputs).ok_or_else(|| anyhow!("inputs out of range for the pricing engine"))?;
            let record = Record::new()
                .with("kind", format!("{kind:?}").to_lowercase())
                .with("price", format_fixed(g.price, 6))
                .with("delta", format_fixed(g.delta, 6))
                .with("gamma", format_fixed(g.gamma, 9))
                .with("vega_per_vol_point", format_fixed(g.vega / 100, 6))
                .with("theta_per_day", format_fixed(g.theta / 365, 6))
                .with("price_over_spot", format_fixed(pricing::div(g.price, spot).unwrap_or(0), 9))
                .with("years", format_fixed(inputs.years, 9))
                .with("fixed_point", format!("{ONE} = 1.0"));
            output::print(json, &record);
            Ok(())
        }
    }
}
