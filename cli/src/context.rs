//! Where the CLI talks to and as whom: the Solana CLI config, overridden by flags; how it signs and
//! pays for the transactions it sends.

use crate::Cli;
use anyhow::{anyhow, Context as _, Result};
use meridian_sdk::{budget, client::Client, Pubkey};
use solana_cli_config::{Config, ConfigInput, CONFIG_FILE};
use solana_sdk::{instruction::Instruction, signature::Signature, signer::Signer, transaction::Transaction};
use std::{cell::OnceCell, str::FromStr};

pub struct Context {
    pub client: Client,
    /// The websocket endpoint (the Solana CLI config's, else derived from the RPC URL).
    pub ws_url: String,
    /// The signer's keypair URI (`--keypair`, else the Solana CLI config's).
    keypair_path: String,
    /// `--fee-payer`'s keypair URI; None: the signer pays.
    fee_payer_path: Option<String>,
    /// Micro-lamports per compute unit on every transaction (`--with-compute-unit-price`).
    pub compute_unit_price: Option<u64>,
    /// Compute unit limit of transactions that do not set their own (`--with-compute-unit-limit`).
    pub compute_unit_limit: Option<u32>,
    exchange: Option<String>,
    /// Machine-readable output (`--output json|json-compact`, or `--json`).
    pub json: bool,
    // loaded on first use, once: a `prompt:` or `usb://ledger` signer asks only once
    signer: OnceCell<Box<dyn Signer>>,
    fee_payer: OnceCell<Box<dyn Signer>>,
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
        let (_, ws_url) = ConfigInput::compute_websocket_url_setting(
            "",
            &config.websocket_url,
            cli.url.as_deref().unwrap_or(""),
            &config.json_rpc_url,
        );
        Ok(Context {
            client: Client::new(url.clone(), commitment),
            ws_url,
            keypair_path,
            fee_payer_path: cli.fee_payer.clone(),
            compute_unit_price: cli.with_compute_unit_price,
            compute_unit_limit: cli.with_compute_unit_limit,
            exchange: cli.exchange.clone(),
            json: cli.output_format().is_json(),
            signer: OnceCell::new(),
            fee_payer: OnceCell::new(),
        })
    }

    /// The signer (`--keypair`): a keypair file, `prompt:` (seed phrase), `stdin:`/`-`, `ASK`,
    /// `usb://ledger`, ... as the Solana CLI reads them (`solana_clap_utils::keypair`).
    pub fn signer(&self) -> Result<&dyn Signer> {
        cached(&self.signer, || load_signer(&self.keypair_path, "keypair"))
    }

    /// The signer's public key without needing its secret when `--keypair` is a bare public key
    /// (read-only commands: `account show`, `orders`, ...).
    pub fn signer_pubkey(&self) -> Result<Pubkey> {
        match Pubkey::from_str(&self.keypair_path) {
            Ok(pubkey) if self.signer.get().is_none() => Ok(pubkey),
            _ => Ok(self.signer()?.pubkey()),
        }
    }

    /// Who pays the transaction fees (`--fee-payer`, default: the signer). Rent of the accounts
    /// a command creates is still paid by the signer.
    pub fn fee_payer(&self) -> Result<&dyn Signer> {
        match &self.fee_payer_path {
            Some(path) if *path != self.keypair_path => cached(&self.fee_payer, || load_signer(path, "fee-payer")),
            _ => self.signer(),
        }
    }

    /// `ixs` behind the compute budget instructions the flags ask for: the limit (`units` when the
    /// command knows what it needs, else `--with-compute-unit-limit`) and the price.
    pub fn with_budget(&self, ixs: &[Instruction], units: Option<u32>) -> Vec<Instruction> {
        let mut all = vec![];
        if let Some(units) = units.or(self.compute_unit_limit) {
            all.push(budget::set_compute_unit_limit(units));
        }
        if let Some(price) = self.compute_unit_price.filter(|p| *p > 0) {
            all.push(budget::set_compute_unit_price(price));
        }
        all.extend_from_slice(ixs);
        all
    }

    /// Signs `ixs` with the fee payer and `signers` (the signer and any new accounts' keypairs),
    /// with the compute budget of the flags, sends it and waits for confirmation.
    pub async fn send(&self, ixs: &[Instruction], signers: &[&dyn Signer]) -> Result<Signature> {
        self.send_with_units(ixs, signers, None).await
    }

    /// [`Context::send`] with a compute unit limit the command chose (`--with-compute-unit-limit`
    /// otherwise).
    pub async fn send_with_units(
        &self,
        ixs: &[Instruction],
        signers: &[&dyn Signer],
        units: Option<u32>,
    ) -> Result<Signature> {
        let payer = self.fee_payer()?;
        let mut tx = Transaction::new_with_payer(&self.with_budget(ixs, units), Some(&payer.pubkey()));
        // the fee payer, then whoever the instructions need (with another fee payer, an
        // instruction anyone may send needs no signature of the signer)
        let required = &tx.message.account_keys[..tx.message.header.num_required_signatures as usize];
        let mut all: Vec<&dyn Signer> = vec![payer];
        for s in signers {
            let key = s.pubkey();
            if required.contains(&key) && !all.iter().any(|a| a.pubkey() == key) {
                all.push(*s);
            }
        }
        let blockhash = self.client.rpc().get_latest_blockhash().await?;
        tx.try_sign(&all, blockhash).map_err(|e| anyhow!("signing the transaction: {e}"))?;
        Ok(self.client.send_signed(&tx, true).await?)
    }

    /// How many signatures a transaction with `signers` carries (the fee payer counted once).
    pub fn signature_count(&self, signers: &[Pubkey]) -> Result<usize> {
        let payer = self.fee_payer()?.pubkey();
        Ok(1 + signers.iter().filter(|s| **s != payer).count())
    }

    pub fn exchange(&self) -> Result<Pubkey> {
        let s = self
            .exchange
            .as_deref()
            .ok_or_else(|| anyhow!("which exchange? pass --exchange <ADDRESS> or set MERIDIAN_EXCHANGE"))?;
        parse_pubkey(s, "exchange")
    }
}

fn cached(cell: &OnceCell<Box<dyn Signer>>, load: impl FnOnce() -> Result<Box<dyn Signer>>) -> Result<&dyn Signer> {
    if cell.get().is_none() {
        let _ = cell.set(load()?);
    }
    Ok(cell.get().expect("set above").as_ref())
}

/// A signer from a keypair URI, by `solana_clap_utils::keypair::signer_from_path` (what the
/// Solana CLI runs for `--keypair` and `--fee-payer`). Its clap 2 matches would carry the Solana
/// CLI's offline-signing flags (`--signer`, `--sign-only`), which this CLI does not have: empty.
fn load_signer(path: &str, name: &str) -> Result<Box<dyn Signer>> {
    let matches = clap_v2::ArgMatches::default();
    let mut wallet_manager = None;
    solana_clap_utils::keypair::signer_from_path(&matches, path, name, &mut wallet_manager).map_err(|e| {
        let e = e.to_string();
        let hint = if path.starts_with("usb:") && e.contains("hidapi") {
            " (this build has no USB support: solana-remote-wallet is compiled without its hidapi feature)"
        } else if Pubkey::from_str(path).is_ok() {
            " (a bare public key cannot sign: pass a keypair file, prompt: or usb://ledger)"
        } else {
            " (set --keypair or `solana config set --keypair`)"
        };
        anyhow!("cannot read {name} {path}: {e}{hint}")
    })
}

pub fn parse_pubkey(s: &str, what: &str) -> Result<Pubkey> {
    Pubkey::from_str(s).map_err(|_| anyhow!("{what}: {s:?} is not a base58 address"))
}
