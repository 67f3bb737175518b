//! Where the CLI talks to and as whom: the Solana CLI config, overridden by flags.

use crate::Cli;
use anyhow::{anyhow, Context as _, Result};
use meridian_sdk::{client::Client, Pubkey};
use solana_cli_config::{Config, ConfigInput, CONFIG_FILE};
use solana_sdk::signature::Keypair;
use std::str::FromStr;

pub struct Context {
    pub client: Client,
    keypair_path: String,
    exchange: Option<String>,
    pub json: bool,
}

impl Context {
    pub fn from_cli(cli: &Cli) -> Result<Context> {
        let config_path = cli.config.clone().or_else(|| CONFIG_FILE.clone());
        // A missing config file is normal (fresh machine): the Solana CLI defaults apply.
        let config = match &config_path {
            Some(path) if std::path::Path::new(path).exists() => {
                Config::load(path).with_context(|| format!("reading Solana CLI config {path}"))?
            }
            _ => Config::default(),
        };
        let (_, url) =
            ConfigInput::compute_json_rpc_url_setting(cli.url.as_deref().unwrap_or(""), &config.json_rpc_url);
        let (_, keypair_path) =
            ConfigInput::compute_keypair_path_setting(cli.keypair.as_deref().unwrap_or(""), &config.keypair_path);
        let (_, commitment) =
            ConfigInput::compute_commitment_config(cli.commitment.as_deref().unwrap_or(""), &config.commitment);
        Ok(Context {
            client: Client::new(url.clone(), commitment),

            keypair_path,
            exchange: cli.exchange.clone(),
            json: cli.json,
        })
    }

    pub fn signer(&self) -> Result<Keypair> {
        solana_sdk::signer::keypair::read_keypair_file(&self.keypair_path).map_err(|e| {
            anyhow!("cannot read keypair {}: {e} (set --keypair or `solana config set --keypair`)", self.keypair_path)
        })
    }

    pub fn exchange(&self) -> Result<Pubkey> {
        let s = self
            .exchange
            .as_deref()
            .ok_or_else(|| anyhow!("which exchange? pass --exchange <ADDRESS> or set MERIDIAN_EXCHANGE"))?;
        parse_pubkey(s, "exchange")
    }
}

pub fn parse_pubkey(s: &str, what: &str) -> Result<Pubkey> {
    Pubkey::from_str(s).map_err(|_| anyhow!("{what}: {s:?} is not a base58 address"))
}
