//! meridian: the trader's and operator's command line for the Meridian exchange.
//!
//! Follows the Solana CLI's conventions: URL, keypair and commitment come from
//! `~/.config/solana/cli/config.yml` unless `--url`, `--keypair`, `--commitment` say otherwise;
//! `--output json|json-compact` (or `--json`) prints machine-readable output; keypair URIs
//! (`prompt:`, `usb://ledger`, ...), `--fee-payer` and `--with-compute-unit-price` work as there.
//! Amounts are UI amounts ("100.5"), converted with the
//! collateral mint's decimals.

mod commands;
mod context;
mod output;

use clap::{Parser, Subcommand};
use commands::{
    account::AccountCommand, exchange::ExchangeCommand, insurance::InsuranceCommand, market::MarketCommand,
    oracle::OracleCommand, order::OrderCommand, risk::RiskCommand,
};

#[derive(Parser, Debug)]
#[command(name = "meridian", version, about = "Trade and operate the Meridian derivatives exchange")]
pub struct Cli {
    /// RPC URL or moniker (localhost, devnet, testnet, mainnet-beta); default: the Solana CLI config.
    #[arg(short = 'u', long, global = true, env = "MERIDIAN_URL")]
    url: Option<String>,
    /// Signer: a keypair file, prompt: (seed phrase), stdin:, ASK or usb://ledger, as the Solana
    /// CLI reads them; default: the Solana CLI config's keypair.
    #[arg(short = 'k', long, global = true, env = "MERIDIAN_KEYPAIR", value_name = "KEYPAIR_URI")]
    keypair: Option<String>,
    /// Pays the transaction fees (a keypair URI as --keypair takes); default: the signer.
    #[arg(long, global = true, env = "MERIDIAN_FEE_PAYER", value_name = "KEYPAIR_URI")]
    fee_payer: Option<String>,
    /// Priority fee of every transaction sent, in micro-lamports per compute unit.
    #[arg(long, global = true, env = "MERIDIAN_COMPUTE_UNIT_PRICE", value_name = "MICRO_LAMPORTS")]
    with_compute_unit_price: Option<u64>,
    /// Compute unit limit of every transaction sent (commands that know their need set their own).
    #[arg(long, global = true, env = "MERIDIAN_COMPUTE_UNIT_LIMIT", value_name = "UNITS")]
    with_compute_unit_limit: Option<u32>,
    /// processed, confirmed or finalized; default: the Solana CLI config's, else confirmed.
    #[arg(long, global = true)]
    commitment: Option<String>,
    /// Solana CLI config file.
    #[arg(short = 'C', long, global = true)]
    config: Option<String>,
    /// Exchange address (commands that act on an exchange).
    #[arg(short = 'e', long, global = true, env = "MERIDIAN_EXCHANGE")]
    exchange: Option<String>,
    /// display (text), json or json-compact (one line per document).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    output: Option<output::Format>,
    /// Print JSON instead of text (--output json).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create and inspect exchanges; admin switches.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// Margin accounts: create, deposit, withdraw, show, close.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Markets: create, list, show, status.
    #[command(subcommand)]
    Market(MarketCommand),
    /// Oracle aggregates: create, configure, list, show, refresh.
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// The insurance fund: show, deposit.
    #[command(subcommand)]
    Insurance(InsuranceCommand),
    /// Orders: place, cancel, cancel-all, replace.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Risk engine numbers, offline: option prices and greeks.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// A market's order book as a price ladder.
    Book {
        market: String,
        /// Levels (or orders with --l3) per side.
        #[arg(long, default_value_t = 10)]
        depth: usize,
        /// Every order instead of price levels.
        #[arg(long)]
        l3: bool,
        /// Redraw the book until Ctrl-C (JSON: one document per poll).
        #[arg(long)]
        watch: bool,
        /// How often --watch reads the book.
        #[arg(long, default_value_t = 1_000, value_name = "MS")]
        interval_ms: u64,
    },
    /// Your open orders.
    Orders {
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        #[arg(long)]
        owner: Option<String>,
    },
    /// Liquidate an account below its maintenance requirement, stage after stage: its resting
    /// orders, then its positions (only the lots that restore it), then its bankruptcy. Fees and
    /// the positions taken over go to your margin account.
    Liquidate {
        /// The margin account to liquidate.
        #[arg(long)]
        account: String,
        /// Only this market's orders and position (default: all, largest position first).
        #[arg(long)]
        market: Option<String>,
        /// Take over at most this many lots per position (default: as many as restore it).
        #[arg(long)]
        max_lots: Option<u64>,
        /// Your sub-account that takes the positions and earns the fees.
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
    },
    /// Fills of a margin account (as maker or taker) or of a market, from the records the crank
    /// publishes; reads the newest --limit transactions of each market.
    Fills {
        /// A margin account (either side of its fills).
        #[arg(long)]
        account: Option<String>,
        /// Only this market (index, name or address); default: every market of the exchange.
        #[arg(long)]
        market: Option<String>,
        /// Only after this transaction signature.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// A market's trade tape (each match once), oldest first.
    Trades {
        #[arg(long)]
        market: String,
        /// Transactions read for the backfill.
        #[arg(long, default_value_t = 200)]
        limit: usize,
        /// Keep polling and print new trades as they are cranked (JSON: one object per line).
        #[arg(long)]
        follow: bool,
        #[arg(long, default_value_t = 1_000)]
        interval_ms: u64,
    },
    /// Your positions: size, entry, mark, PnL, resting orders.
    Positions {
        #[arg(short, long, default_value_t = 0)]
        sub_account: u16,
        #[arg(long)]
        owner: Option<String>,
    },
}

impl Cli {
    /// `--output`, else `--json`, else text.
    fn output_format(&self) -> output::Format {
        self.output.unwrap_or(if self.json { output::Format::Json } else { output::Format::Display })
    }
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    output::set_format(cli.output_format());
    let json = cli.output_format().is_json();
    if let Err(e) = runtime.block_on(run(cli)) {
        output::error(json, &e);
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // offline commands need neither an RPC endpoint nor a keypair
    let json = cli.output_format().is_json();
    if let Command::Risk(cmd) = cli.command {
        return commands::risk::run(json, cmd);
    }
    let ctx = context::Context::from_cli(&cli)?;
    match cli.command {
        Command::Exchange(cmd) => commands::exchange::run(&ctx, cmd).await,
        Command::Account(cmd) => commands::account::run(&ctx, cmd).await,
        Command::Market(cmd) => commands::market::run(&ctx, cmd).await,
        Command::Order(cmd) => commands::order::run(&ctx, cmd).await,
        Command::Oracle(cmd) => commands::oracle::run(&ctx, cmd).await,
        Command::Insurance(cmd) => commands::insurance::run(&ctx, cmd).await,
        Command::Book { market, depth, l3, watch, interval_ms } => match watch {
            true => commands::order::watch_book(&ctx, &market, depth, l3, interval_ms).await,
            false => commands::order::book(&ctx, &market, depth, l3).await,
        },
        Command::Orders { sub_account, owner } => commands::order::orders(&ctx, sub_account, owner.as_deref()).await,
        Command::Positions { sub_account, owner } => {
            commands::order::positions(&ctx, sub_account, owner.as_deref()).await
        }
        Command::Liquidate { account, market, max_lots, sub_account } => {
            commands::liquidate::run(&ctx, &account, market.as_deref(), max_lots, sub_account).await
        }
        Command::Fills { account, market, since, limit } => {
            commands::history::fills(&ctx, account.as_deref(), market.as_deref(), since.as_deref(), limit).await
        }
        Command::Trades { market, limit, follow, interval_ms } => {
            commands::history::trades(&ctx, &market, limit, follow, std::time::Duration::from_millis(interval_ms)).await
        }
        Command::Risk(_) => unreachable!("handled above"),
    }
}
