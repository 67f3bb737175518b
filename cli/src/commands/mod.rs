pub mod account;
pub mod exchange;
pub mod expiry;
pub mod history;
pub mod insurance;
pub mod liquidate;
pub mod market;
pub mod oracle;
pub mod order;
pub mod risk;

use crate::context::{parse_pubkey, Context};
use meridian_sdk::{amount, client::SdkError, state::Exchange, token, Pubkey};

/// The token account collateral is paid from (`--from`, default `owner`'s associated token
/// account), checked to exist and hold `native`: a clear message before paying for a transaction
/// the token program would refuse.
pub async fn collateral_source(
    ctx: &Context,
    e: &Exchange,
    owner: &Pubkey,
    from: Option<String>,
    native: u64,
) -> anyhow::Result<Pubkey> {
    let source = match from {
        Some(s) => parse_pubkey(&s, "--from")?,
        None => token::associated_token_address(owner, &e.collateral_mint, &e.collateral_token_program),
    };
    let balance = match ctx.client.token_account(&source).await {
        Ok(t) => t.amount,
        Err(SdkError::AccountNotFound(_)) => anyhow::bail!("token account {source} does not exist (use --from)"),
        Err(err) => return Err(err.into()),
    };
    if balance < native {
        anyhow::bail!(
            "insufficient tokens in {source}: {} available, {} requested",
            amount::format_ui_amount(balance, e.collateral_decimals),
            amount::format_ui_amount(native, e.collateral_decimals)
        );
    }
    Ok(source)
}
