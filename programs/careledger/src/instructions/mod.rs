// Every file exports a `handler`; lib.rs calls each by its full path, so the glob clash is harmless.
#![allow(ambiguous_glob_reexports)]
//! One file per instruction: its Args, Accounts, validation and handler side by side.
pub mod claims;
pub mod consent;
pub mod records;
pub mod registry;
pub mod rewards;

pub use claims::*;
pub use consent::*;
pub use records::*;
pub use registry::*;
pub use rewards::*;

use anchor_lang::prelude::*;

/// Unix time from the Clock sysvar (no sysvar account is taken, so none can be spoofed).
pub(crate) fn now() -> Result<i64> {
    Ok(Clock::get()?.unix_timestamp)
}

/// True when no account lives at `info` yet: no data and still the System Program's (an address
/// someone only sent lamports to counts as vacant).
pub(crate) fn is_vacant(info: &AccountInfo) -> bool {
    info.data_is_empty() && info.owner == &anchor_lang::system_program::ID
}

/// Creates the account at the PDA `target` (whose seeds Anchor has already checked), owned by
/// `owner`, even if someone pre-funded the address. Anchor 1.2's `init` takes the System
/// Program's CreateAccountAllowPrefund path for a funded address, which current runtimes refuse,
/// so a few lamports sent ahead would block the address for good; this tops up, allocates and
/// assigns instead. The caller has checked the address is vacant (`is_vacant`).
pub(crate) fn create_pda<'info>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    space: usize,
    signer_seeds: &[&[u8]],
    owner: &Pubkey,
) -> Result<()> {
    use anchor_lang::system_program as sp;
    let rent = Rent::get()?.minimum_balance(space);
    let current = target.lamports();
    let signer = &[signer_seeds];
    if current == 0 {
        let accounts = sp::CreateAccount {
            from: payer.to_account_info(),
            to: target.clone(),
        };
        let ctx = CpiContext::new_with_signer(system.key(), accounts, signer);
        return sp::create_account(ctx, rent, space as u64, owner);
    }
    let top_up = rent.saturating_sub(current);
    if top_up > 0 {
        let accounts = sp::Transfer {
            from: payer.to_account_info(),
            to: target.clone(),
        };
        sp::transfer(CpiContext::new(system.key(), accounts), top_up)?;
    }
    let allocate = sp::Allocate {
        account_to_allocate: target.clone(),
    };
    sp::allocate(
        CpiContext::new_with_signer(system.key(), allocate, signer),
        space as u64,
    )?;
    let assign = sp::Assign {
        account_to_assign: target.clone(),
    };
    sp::assign(
        CpiContext::new_with_signer(system.key(), assign, signer),
        owner,
    )
}

/// Creates our account `T` at the vacant PDA `target` (seeds with bump) and writes `value`; an
/// address that already holds an account is refused with `exists`.
pub(crate) fn init_pda<'info, T: AccountSerialize + Space>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    signer_seeds: &[&[u8]],
    value: &T,
    exists: crate::errors::CareledgerError,
) -> Result<()> {
    if !is_vacant(target) {
        return Err(error!(exists));
    }
    create_pda(
        payer,
        target,
        system,
        crate::state::account_size(T::INIT_SPACE),
        signer_seeds,
        &crate::ID,
    )?;
    write_new_account(target, value)
}

/// Creates an SPL token account for `mint` at the vacant PDA `vault`, owned by `authority` (the
/// policy or study PDA). Refused with `exists` if an account is already there.
#[allow(clippy::too_many_arguments)]
pub(crate) fn init_vault<'info>(
    payer: &Signer<'info>,
    vault: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    system: &Program<'info, System>,
    token_program: &Program<'info, anchor_spl::token::Token>,
    signer_seeds: &[&[u8]],
    exists: crate::errors::CareledgerError,
) -> Result<()> {
    if !is_vacant(vault) {
        return Err(error!(exists));
    }
    create_pda(
        payer,
        vault,
        system,
        anchor_spl::token::TokenAccount::LEN,
        signer_seeds,
        &token_program.key(),
    )?;
    let accounts = anchor_spl::token::InitializeAccount3 {
        account: vault.clone(),
        mint: mint.clone(),
        authority: authority.clone(),
    };
    anchor_spl::token::initialize_account3(CpiContext::new(token_program.key(), accounts))
}

/// Moves `amount` of `mint` out of a vault whose owner is a program PDA (`authority`, signing
/// with `signer_seeds`). Policies and studies pay through this one path.
pub(crate) fn vault_transfer<'info>(
    token_program: &Program<'info, anchor_spl::token::Token>,
    mint: &Account<'info, anchor_spl::token::Mint>,
    vault: &Account<'info, anchor_spl::token::TokenAccount>,
    authority: AccountInfo<'info>,
    to: AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let accounts = anchor_spl::token::TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to,
        authority,
    };
    anchor_spl::token::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, &[signer_seeds]),
        amount,
        mint.decimals,
    )
}

/// Moves `amount` from a funder's token account into a vault (the token program checks the
/// funder's authority) and returns the vault's balance afterwards.
pub(crate) fn fund_vault<'info>(
    token_program: &Program<'info, anchor_spl::token::Token>,
    mint: &Account<'info, anchor_spl::token::Mint>,
    source: &Account<'info, anchor_spl::token::TokenAccount>,
    vault: &Account<'info, anchor_spl::token::TokenAccount>,
    funder: &Signer<'info>,
    amount: u64,
) -> Result<u64> {
    require!(amount > 0, crate::errors::CareledgerError::InvalidAmount);
    let accounts = anchor_spl::token::TransferChecked {
        from: source.to_account_info(),
        mint: mint.to_account_info(),
        to: vault.to_account_info(),
        authority: funder.to_account_info(),
    };
    anchor_spl::token::transfer_checked(
        CpiContext::new(token_program.key(), accounts),
        amount,
        mint.decimals,
    )?;
    vault
        .amount
        .checked_add(amount)
        .ok_or(error!(crate::errors::CareledgerError::MathOverflow))
}

/// An escrow's payment mint must not be freezable by the party the escrow constrains: either it
/// has no freeze authority, or the admin accepted it with the freeze authority it has now
/// (`accepted` is the `AcceptedMint` PDA for the mint, whose seeds the caller's accounts struct
/// checks).
pub(crate) fn check_payment_mint(
    mint: &anchor_spl::token::Mint,
    accepted: &AccountInfo,
) -> Result<()> {
    let freeze_authority = Option::<Pubkey>::from(mint.freeze_authority);
    let Some(freezer) = freeze_authority else {
        return Ok(());
    };
    let listed = accepted.owner == &crate::ID && !accepted.data_is_empty();
    require!(
        listed,
        crate::errors::CareledgerError::FreezableMintNotAccepted
    );
    // accepted for the freeze authority it had then: handed to someone else, it is not
    let entry = crate::state::AcceptedMint::try_deserialize(&mut &accepted.try_borrow_data()?[..])?;
    require_keys_eq!(
        entry.freeze_authority,
        freezer,
        crate::errors::CareledgerError::FreezableMintNotAccepted
    );
    Ok(())
}

/// Writes a freshly created account (`create_pda`): discriminator, then the data.
pub(crate) fn write_new_account<T: AccountSerialize>(info: &AccountInfo, value: &T) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let mut out: &mut [u8] = &mut data;
    value.try_serialize(&mut out)
}
