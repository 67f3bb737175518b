//! Token movements in and out of the vault, for SPL Token and Token-2022 alike.

use crate::{error::MeridianError, state::EXCHANGE_SEED};
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// Token-2022 mint extensions that would let tokens leave the vault, or stop them from moving,
/// without the program: a permanent delegate can drain the vault, a transfer hook needs accounts
/// this program does not pass, non-transferable tokens cannot be withdrawn, a frozen default state
/// would freeze the vault, confidential balances are invisible to the conservation check.
const DENIED_EXTENSIONS: [ExtensionType; 6] = [
    ExtensionType::PermanentDelegate,
    ExtensionType::TransferHook,
    ExtensionType::NonTransferable,
    ExtensionType::DefaultAccountState,
    ExtensionType::ConfidentialTransferMint,
    ExtensionType::Pausable,
];

/// Rejects collateral mints with a denied Token-2022 extension. A transfer fee is accepted: deposits
/// are credited with what actually reached the vault.
pub fn check_collateral_mint(mint: &AccountInfo) -> Result<()> {
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<anchor_spl::token_2022::spl_token_2022::state::Mint>::unpack(&data)?;
    let extensions = state.get_extension_types()?;
    if extensions.iter().any(|e| DENIED_EXTENSIONS.contains(e)) {
        return err!(MeridianError::UnsupportedMintExtension);
    }
    Ok(())
}

/// Creates the vault token account at its PDA: allocated for the mint's required account extensions
/// (none for SPL Token), initialized with the exchange PDA as authority.
pub fn create_vault<'info>(
    payer: &Signer<'info>,
    vault: &UncheckedAccount<'info>,
    mint: &InterfaceAccount<'info, Mint>,
    authority: &AccountInfo<'info>,
    token_program: &Interface<'info, TokenInterface>,
    system_program: &Program<'info, System>,
    vault_seeds: &[&[u8]],
) -> Result<()> {
    let mint_info = mint.to_account_info();
    let space = if *mint_info.owner == anchor_spl::token_2022::ID {
        let data = mint_info.try_borrow_data()?;
        let state = StateWithExtensions::<anchor_spl::token_2022::spl_token_2022::state::Mint>::unpack(&data)?;
        let required = ExtensionType::get_required_init_account_extensions(&state.get_extension_types()?);
        ExtensionType::try_calculate_account_len::<anchor_spl::token_2022::spl_token_2022::state::Account>(&required)?
    } else {
        anchor_spl::token::TokenAccount::LEN
    };
    create_pda_account(payer, vault, space, &token_program.key(), system_program, vault_seeds)?;
    token_interface::initialize_account3(CpiContext::new(
        token_program.key(),
        token_interface::InitializeAccount3 {
            account: vault.to_account_info(),
            mint: mint_info,
            authority: authority.clone(),
        },
    ))
}

/// Creates a PDA account owned by `owner`. Like Anchor's `init`, it also works when someone sent
/// lamports to the (predictable) address beforehand: top up, allocate, assign instead of create.
fn create_pda_account<'info>(
    payer: &Signer<'info>,
    account: &UncheckedAccount<'info>,
    space: usize,
    owner: &Pubkey,
    system_program: &Program<'info, System>,
    seeds: &[&[u8]],
) -> Result<()> {
    use anchor_lang::system_program as sys;
    let rent = Rent::get()?.minimum_balance(space);
    let (from, to) = (payer.to_account_info(), account.to_account_info());
    let current = to.lamports();
    if current == 0 {
        let accounts = sys::CreateAccount { from, to };
        return sys::create_account(
            CpiContext::new_with_signer(system_program.key(), accounts, &[seeds]),
            rent,
            space as u64,
            owner,
        );
    }
    if current < rent {
        sys::transfer(CpiContext::new(system_program.key(), sys::Transfer { from, to: to.clone() }), rent - current)?;
    }
    let allocate = sys::Allocate { account_to_allocate: to.clone() };
    sys::allocate(CpiContext::new_with_signer(system_program.key(), allocate, &[seeds]), space as u64)?;
    let assign = sys::Assign { account_to_assign: to };
    sys::assign(CpiContext::new_with_signer(system_program.key(), assign, &[seeds]), owner)
}

/// Owner's tokens -> vault. Returns the amount that reached the vault (less than `amount` only
/// under a Token-2022 transfer fee).
pub fn transfer_in<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    vault: &mut InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<u64> {
    let before = vault.amount;
    token_interface::transfer_checked(
        CpiContext::new(
            token_program.key(),
            TransferChecked {
                from: from.to_account_info(),
                mint: mint.to_account_info(),
                to: vault.to_account_info(),
                authority: authority.to_account_info(),
            },
        ),
        amount,
        mint.decimals,
    )?;
    vault.reload()?;
    vault.amount.checked_sub(before).ok_or_else(|| error!(MeridianError::MathOverflow))
}

/// Vault -> any token account of the mint, signed by the exchange PDA.
#[allow(clippy::too_many_arguments)]
pub fn transfer_out<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    exchange: &AccountInfo<'info>,
    creator: &Pubkey,
    index: u32,
    bump: u8,
    amount: u64,
) -> Result<()> {
    let index_bytes = index.to_le_bytes();
    let seeds: &[&[u8]] = &[EXCHANGE_SEED, creator.as_ref(), &index_bytes, &[bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: vault.to_account_info(),
                mint: mint.to_account_info(),
                to: to.to_account_info(),
                authority: exchange.clone(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
