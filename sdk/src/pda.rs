//! Program-derived addresses. Seeds mirror `programs/meridian/src/state`.

use meridian::{EXCHANGE_SEED, MARGIN_ACCOUNT_SEED, VAULT_SEED};
use solana_sdk::pubkey::Pubkey;

/// Exchange PDA: [b"exchange", creator, index (u32 le)].
pub fn exchange(creator: &Pubkey, index: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[EXCHANGE_SEED, creator.as_ref(), &index.to_le_bytes()], &meridian::ID)
}

/// Collateral vault PDA: [b"vault", exchange].
pub fn vault(exchange: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[VAULT_SEED, exchange.as_ref()], &meridian::ID)
}

/// Margin account PDA: [b"margin", exchange, owner, sub_account (u16 le)].
pub fn margin_account(exchange: &Pubkey, owner: &Pubkey, sub_account: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[MARGIN_ACCOUNT_SEED, exchange.as_ref(), owner.as_ref(), &sub_account.to_le_bytes()],
        &meridian::ID,
    )
}

/// Market PDA: [b"market", exchange, index (u16 le)].
pub fn market(exchange: &Pubkey, index: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[meridian::MARKET_SEED, exchange.as_ref(), &index.to_le_bytes()], &meridian::ID)
}

/// Oracle aggregate PDA: [b"oracle", exchange, name (16 bytes)].
pub fn oracle(exchange: &Pubkey, name: &[u8; 16]) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[meridian::ORACLE_SEED, exchange.as_ref(), name], &meridian::ID)
}

/// The event authority: [b"__event_authority"]. It signs the self-CPI by which `consume_events`
/// publishes the events it applied (`crate::history`).
pub fn event_authority() -> Pubkey {
    meridian::EVENT_AUTHORITY_AND_BUMP.0
}
