//! An async client over solana-client's nonblocking RPC, with typed errors.

use crate::{
    book::BookView,
    error::ProgramFailure,
    ix::CollateralAccounts,
    state::{DecodeError, Exchange, MarginAccount, Market, ZeroCopyAccount},
    token::{self, MintInfo, TokenAccountInfo},
};
use solana_client::{
    client_error::{ClientError, ClientErrorKind},
    nonblocking::rpc_client::RpcClient,
    rpc_config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig},
    rpc_filter::{Memcmp, RpcFilterType},
    rpc_request::{RpcError, RpcResponseErrorData},
};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::{
    account::Account,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature},
    signer::Signer,
    transaction::{Transaction, TransactionError},
};

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The program rejected the transaction (decoded error number, name and message).
    #[error("{failure}")]
    Program { failure: ProgramFailure, logs: Vec<String> },
    /// The transaction failed outside the program's own errors (e.g. insufficient lamports).
    #[error("transaction failed: {err}")]
    Transaction { err: TransactionError, logs: Vec<String> },
    #[error("account {0} does not exist")]
    AccountNotFound(Pubkey),
    #[error("account {address}: {source}")]
    Decode { address: Pubkey, source: DecodeError },
    #[error("account {0} is not a token account")]
    NotTokenAccount(Pubkey),
    #[error("account {0} is not a mint")]
    NotMint(Pubkey),
    #[error("RPC: {0}")]
    Rpc(Box<ClientError>),
}

impl SdkError {
    /// The program's error name, when the program rejected the transaction.
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            SdkError::Program { failure, .. } => Some(&failure.name),
            _ => None,
        }
    }

    pub fn logs(&self) -> &[String] {
        match self {
            SdkError::Program { logs, .. } | SdkError::Transaction { logs, .. } => logs,
            _ => &[],
        }
    }

    /// Turns an RPC error into a program/transaction error when it carries one (preflight simulation
    /// failures and confirmed failures both do).
    pub fn from_client_error(e: ClientError) -> SdkError {
        let (err, logs) = match e.kind() {
            ClientErrorKind::RpcError(RpcError::RpcResponseError {
                data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
                ..
            }) => match &sim.err {
                Some(err) => (err.clone().into(), sim.logs.clone().unwrap_or_default()),
                None => return SdkError::Rpc(Box::new(e)),
            },
            ClientErrorKind::TransactionError(err) => (err.clone(), vec![]),
            _ => return SdkError::Rpc(Box::new(e)),
        };
        match ProgramFailure::from_transaction_error(&err, &logs) {
            Some(failure) => SdkError::Program { failure, logs },
            None => SdkError::Transaction { err, logs },
        }
    }
}

impl From<ClientError> for SdkError {
    fn from(e: ClientError) -> Self {
        SdkError::from_client_error(e)
    }
}

pub type Result<T> = std::result::Result<T, SdkError>;

/// An exchange's money at one slot (`Client::solvency`).
#[derive(Clone, Copy, Debug)]
pub struct Solvency {
    pub exchange: Exchange,
    /// Totals with the markets' unswept amounts folded in.
    pub totals: meridian::Totals,
    /// The vault's token balance.
    pub vault: u64,
}

impl Solvency {
    /// The conservation invariant: the vault holds exactly what the program owes.
    pub fn conserved(&self) -> bool {
        self.vault as i128 == self.totals.liabilities()
    }
}

pub struct Client {
    rpc: RpcClient,
}

impl Client {
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Client {
        Client { rpc: RpcClient::new_with_commitment(url.into(), commitment) }
    }

    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for confirmation. Preflight
    /// simulation runs first, so a program error comes back decoded, with logs, and costs nothing.
    /// Like [`Client::send`], with a compute-unit limit and a priority fee (micro-lamports per CU).
    pub async fn send_with_budget(
        &self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        compute_units: u32,
        micro_lamports_per_cu: u64,
    ) -> Result<Signature> {
        let mut all = crate::budget::instructions(compute_units, micro_lamports_per_cu);
        all.extend_from_slice(ixs);
        self.send(&all, payer, signers).await
    }

    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Result<Signature> {
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
        self.send_signed(&tx, true).await
    }

    /// Sends a signed transaction and waits for confirmation; `preflight: false` when the caller
    /// simulated it already (a failure still comes back decoded once confirmed).
    pub async fn send_signed(&self, tx: &Transaction, preflight: bool) -> Result<Signature> {
        let config = RpcSendTransactionConfig {
            skip_preflight: !preflight,
            preflight_commitment: Some(self.rpc.commitment().commitment),
            ..RpcSendTransactionConfig::default()
        };
        Ok(self.rpc.send_and_confirm_transaction_with_spinner_and_config(tx, self.rpc.commitment(), config).await?)
    }

    /// Sends a signed transaction the caller simulated already, without preflight and without
    /// waiting: a latency-bound sender (a liquidator) tracks it with [`Client::landed`].
    pub async fn send_unconfirmed(&self, tx: &Transaction) -> Result<Signature> {
        let config = RpcSendTransactionConfig { skip_preflight: true, ..RpcSendTransactionConfig::default() };
        Ok(self.rpc.send_transaction_with_config(tx, config).await?)
    }

    /// Polls `signature` every `every` until it is processed (at the client's commitment) or
    /// `timeout` passes: the slot it landed in, with the program's failure if it failed (decoded
    /// from the error number; statuses carry no logs). None: not seen in time (dropped or expired).
    pub async fn landed(
        &self,
        signature: &Signature,
        every: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Result<Option<(u64, Option<SdkError>)>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let status = self.rpc.get_signature_statuses(&[*signature]).await?.value.into_iter().next().flatten();
            if let Some(s) = status.filter(|s| s.satisfies_commitment(self.rpc.commitment())) {
                let failure = s.err.map(|err| {
                    let err: TransactionError = err;
                    match ProgramFailure::from_transaction_error(&err, &[]) {
                        Some(failure) => SdkError::Program { failure, logs: vec![] },
                        None => SdkError::Transaction { err, logs: vec![] },
                    }
                });
                return Ok(Some((s.slot, failure)));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(every).await;
        }
    }

    pub async fn account(&self, address: &Pubkey) -> Result<Account> {
        let response = self.rpc.get_account_with_commitment(address, self.rpc.commitment()).await?;
        response.value.ok_or(SdkError::AccountNotFound(*address))
    }

    pub async fn account_if_exists(&self, address: &Pubkey) -> Result<Option<Account>> {
        Ok(self.rpc.get_account_with_commitment(address, self.rpc.commitment()).await?.value)
    }

    pub async fn decode<T: ZeroCopyAccount>(&self, address: &Pubkey) -> Result<T> {
        let account = self.account(address).await?;
        if account.owner != meridian::ID {
            return Err(SdkError::Decode {
                address: *address,
                source: DecodeError::WrongDiscriminator { what: T::NAME },
            });
        }
        T::decode(&account.data).map_err(|source| SdkError::Decode { address: *address, source })
    }

    pub async fn exchange(&self, address: &Pubkey) -> Result<Exchange> {
        self.decode(address).await
    }

    pub async fn margin_account(&self, address: &Pubkey) -> Result<MarginAccount> {
        self.decode(address).await
    }

    /// The accounts deposit/withdraw need, read from the exchange.
    pub async fn collateral_accounts(&self, exchange: &Pubkey) -> Result<CollateralAccounts> {
        Ok(CollateralAccounts::of(*exchange, &self.exchange(exchange).await?))
    }

    /// Margin accounts of an exchange, optionally of one owner (getProgramAccounts with filters on
    /// the discriminator, `exchange` at offset 8 and `owner` at offset 40).
    pub async fn margin_accounts(
        &self,
        exchange: &Pubkey,
        owner: Option<&Pubkey>,
    ) -> Result<Vec<(Pubkey, MarginAccount)>> {
        let owner_filter = owner.map(|o| RpcFilterType::Memcmp(Memcmp::new_base58_encoded(40, o.as_ref())));
        let mut out = self.program_accounts::<MarginAccount>(MarginAccount::SPACE, exchange, owner_filter).await?;
        out.sort_by_key(|(_, a)| a.sub_account);
        Ok(out)
    }

    pub async fn market(&self, address: &Pubkey) -> Result<Market> {
        self.decode(address).await
    }

    /// Every market of an exchange, by index.
    pub async fn markets(&self, exchange: &Pubkey) -> Result<Vec<(Pubkey, Market)>> {
        let mut out = self.program_accounts::<Market>(Market::SPACE, exchange, None).await?;
        out.sort_by_key(|(_, m)| m.index);
        Ok(out)
    }

    /// The exchange, its totals with every market's unswept amounts, and the vault's balance, read
    /// in one `getMultipleAccounts` (one slot, so the conservation check `vault ==
    /// totals.liabilities()` holds while markets trade; up to 98 markets).
    pub async fn solvency(&self, exchange: &Pubkey) -> Result<Solvency> {
        let e = self.exchange(exchange).await?;
        let markets = (0..e.num_markets).map(|i| crate::pda::market(exchange, i).0);
        let keys: Vec<Pubkey> = [*exchange, e.vault].into_iter().chain(markets).collect();
        let mut accounts = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            accounts.extend(self.rpc.get_multiple_accounts_with_commitment(chunk, self.rpc.commitment()).await?.value);
        }
        let data = |i: usize| accounts[i].as_ref().map(|a| a.data.as_slice()).ok_or(SdkError::AccountNotFound(keys[i]));
        let keys = &keys;
        let decode_err = |i: usize| move |source| SdkError::Decode { address: keys[i], source };
        let exchange_now = Exchange::decode(data(0)?).map_err(decode_err(0))?;
        let vault = token::decode_token_account(data(1)?).ok_or(SdkError::NotTokenAccount(keys[1]))?.amount;
        let mut markets = Vec::with_capacity(keys.len() - 2);
        for i in 2..keys.len() {
            markets.push(Market::decode(data(i)?).map_err(decode_err(i))?);
        }
        let totals = exchange_now.totals_with(&markets);
        Ok(Solvency { exchange: exchange_now, totals, vault })
    }

    /// A market given as its index, address or name (case-insensitive); None if there is none.
    pub async fn find_market(&self, exchange: &Pubkey, s: &str) -> Result<Option<(Pubkey, Market)>> {
        if let Ok(index) = s.parse::<u16>() {
            let address = crate::pda::market(exchange, index).0;
            return Ok(self.decode::<Market>(&address).await.ok().map(|m| (address, m)));
        }
        if let Ok(address) = s.parse::<Pubkey>() {
            if let Ok(m) = self.decode::<Market>(&address).await {
                return Ok(Some((address, m)));
            }
        }
        let markets = self.markets(exchange).await?;
        Ok(markets.into_iter().find(|(_, m)| crate::state::market_name(m).eq_ignore_ascii_case(s)))
    }

    /// The market's book, decoded (L3; `levels()` for L2).
    pub async fn book(&self, market: &Market) -> Result<BookView> {
        let account = self.account(&market.book).await?;
        BookView::decode(&account.data).ok_or(SdkError::Decode {
            address: market.book,
            source: DecodeError::WrongDiscriminator { what: "OrderBook" },
        })
    }

    /// The market's pending events (oldest first) and the next event sequence number.
    pub async fn events(&self, market: &Market) -> Result<(Vec<meridian_engine::events::Event>, u64)> {
        let account = self.account(&market.event_queue).await?;
        crate::book::decode_events(&account.data).ok_or(SdkError::Decode {
            address: market.event_queue,
            source: DecodeError::WrongDiscriminator { what: "EventQueue" },
        })
    }

    /// Program accounts of type `T` whose `exchange` field (offset 8) is `exchange`.
    pub(crate) async fn program_accounts<T: ZeroCopyAccount>(
        &self,
        space: usize,
        exchange: &Pubkey,
        extra: Option<RpcFilterType>,
    ) -> Result<Vec<(Pubkey, T)>> {
        let mut config = program_accounts_config::<T>(space, exchange, self.rpc.commitment());
        config.filters.get_or_insert_default().extend(extra);
        let accounts = self.rpc.get_program_ui_accounts_with_config(&meridian::ID, config).await?;
        let mut out = Vec::with_capacity(accounts.len());
        for (address, account) in accounts {
            let data = account.data.decode().unwrap_or_default();
            out.push((address, T::decode(&data).map_err(|source| SdkError::Decode { address, source })?));
        }
        Ok(out)
    }

    pub async fn mint(&self, mint: &Pubkey) -> Result<(MintInfo, Pubkey)> {
        let account = self.account(mint).await?;
        if !token::is_token_program(&account.owner) {
            return Err(SdkError::NotMint(*mint));
        }
        let info = token::decode_mint(&account.data).ok_or(SdkError::NotMint(*mint))?;
        Ok((info, account.owner))
    }

    pub async fn token_account(&self, address: &Pubkey) -> Result<TokenAccountInfo> {
        let account = self.account(address).await?;
        if !token::is_token_program(&account.owner) {
            return Err(SdkError::NotTokenAccount(*address));
        }
        token::decode_token_account(&account.data).ok_or(SdkError::NotTokenAccount(*address))
    }
}

/// getProgramAccounts / programSubscribe filters for the exchange's accounts of type `T` (its size,
/// discriminator and exchange field), base64-encoded.
pub fn program_accounts_config<T: ZeroCopyAccount>(
    space: usize,
    exchange: &Pubkey,
    commitment: CommitmentConfig,
) -> RpcProgramAccountsConfig {
    RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::DataSize(space as u64),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, T::DISCRIMINATOR)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, exchange.as_ref())),
        ]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(solana_client::rpc_config::UiAccountEncoding::Base64),
            commitment: Some(commitment),
            ..RpcAccountInfoConfig::default()
        },
        ..RpcProgramAccountsConfig::default()
    }
}
