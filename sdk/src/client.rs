//! An async client over solana-client's nonblocking RPC, with typed errors.

use crate::{
    error::ProgramFailure,
    ix::CollateralAccounts,
    state::{DecodeError, Exchange, MarginAccount, ZeroCopyAccount},
    token::{self, MintInfo, TokenAccountInfo},
};
use anchor_lang::Discriminator;
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
    pub async fn send(&self, ixs: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Result<Signature> {
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(signers.iter().copied().filter(|k| k.pubkey() != payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(self.rpc.commitment().commitment),
            ..RpcSendTransactionConfig::default()
        };
        Ok(self.rpc.send_and_confirm_transaction_with_spinner_and_config(&tx, self.rpc.commitment(), config).await?)
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
        let mut filters = vec![
            RpcFilterType::DataSize(MarginAccount::SPACE as u64),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, MarginAccount::DISCRIMINATOR)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, exchange.as_ref())),
        ];
        if let Some(owner) = owner {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_base58_encoded(40, owner.as_ref())));
        }
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_client::rpc_config::UiAccountEncoding::Base64),
                commitment: Some(self.rpc.commitment()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self.rpc.get_program_ui_accounts_with_config(&meridian::ID, config).await?;
        let mut out = Vec::with_capacity(accounts.len());
        for (address, account) in accounts {
            let data = account.data.decode().unwrap_or_default();
            let decoded = MarginAccount::decode(&data).map_err(|source| SdkError::Decode { address, source })?;
            out.push((address, decoded));
        }
        out.sort_by_key(|(_, a)| a.sub_account);
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
