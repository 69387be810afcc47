//! Token vaults: moving SPL tokens in and out of a vault a policy or study PDA owns, and which
//! payment mints an escrow may use.
use crate::errors::CareledgerError;
use crate::state::{ClaimState, Policy, Study};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

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
    require!(amount > 0, CareledgerError::InvalidAmount);
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
        .ok_or(error!(CareledgerError::MathOverflow))
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
    require!(listed, CareledgerError::FreezableMintNotAccepted);
    // accepted for the freeze authority it had then: handed to someone else, it is not
    let entry = crate::state::AcceptedMint::try_deserialize(&mut &accepted.try_borrow_data()?[..])?;
    require_keys_eq!(
        entry.freeze_authority,
        freezer,
        CareledgerError::FreezableMintNotAccepted
    );
    Ok(())
}

/// The token accounts every payment touches, borrowed from an instruction's context.
pub(crate) struct Payment<'a, 'info> {
    pub token_program: &'a Program<'info, Token>,
    pub policy: &'a Account<'info, Policy>,
    pub mint: &'a Account<'info, Mint>,
    pub vault: &'a Account<'info, TokenAccount>,
    pub to: AccountInfo<'info>,
}

/// Moves `amount` out of the policy's vault, the policy PDA signing.
pub(crate) fn transfer_from_vault(p: &Payment, amount: u64) -> Result<()> {
    let policy = p.policy;
    let id = policy.policy_id.to_le_bytes();
    let bump = [policy.bump];
    let seeds = Policy::seeds(&policy.insurer, &id, &bump);
    vault_transfer(
        p.token_program,
        p.mint,
        p.vault,
        policy.to_account_info(),
        p.to.clone(),
        &seeds,
        amount,
    )
}

/// Pays `benefit` now if the claim owes it (`ClaimState::owes`) and the vault's funds beyond
/// what earlier approved claims are owed cover it (so those keep their reservation); returns
/// whether it paid.
pub(crate) fn pay_if_covered(p: &Payment, state: ClaimState, benefit: u64) -> Result<bool> {
    // a frozen vault pays nothing now: the claim is recorded as owed instead of failing
    let covered = state.owes(benefit)
        && !p.vault.is_frozen()
        && p.policy.unreserved(p.vault.amount) >= benefit;
    if covered {
        transfer_from_vault(p, benefit)?;
    }
    Ok(covered)
}

/// Moves `amount` out of the study's vault, the study PDA signing.
pub(crate) fn pay_from_study<'info>(
    token_program: &Program<'info, Token>,
    study: &Account<'info, Study>,
    mint: &Account<'info, Mint>,
    vault: &Account<'info, TokenAccount>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let id = study.study_id.to_le_bytes();
    let bump = [study.bump];
    let seeds = Study::seeds(&study.sponsor, &id, &bump);
    vault_transfer(
        token_program,
        mint,
        vault,
        study.to_account_info(),
        to,
        &seeds,
        amount,
    )
}
