//! Account creation: the one path every account the program makes goes through. The program has
//! no `init` constraint: Anchor 1.2 creates a pre-funded address with the System Program's
//! CreateAccountAllowPrefund, which current runtimes refuse, so a few lamports sent ahead would
//! block an address for good. `init_pda` refuses an address that already holds an account with
//! that account's own error, and otherwise creates it even if someone pre-funded it.
use crate::errors::CareledgerError;
use crate::state::{ConsentGrant, RecordAnchor};
use anchor_lang::prelude::*;

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
fn create_pda<'info>(
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
    exists: CareledgerError,
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
    write_account(target, value)
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
    exists: CareledgerError,
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

/// Creates the grant `value` at its PDA (seeds from its own patient, grantee, purpose and, for a
/// break-glass grant, serial), paid by `payer`; an existing grant there is refused with
/// GrantAlreadyExists.
pub(crate) fn init_grant<'info>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    bump: u8,
    value: &ConsentGrant,
) -> Result<()> {
    let (bump, purpose, serial) = ([bump], value.purpose.seed(), value.serial.to_le_bytes());
    let serial: &[u8] = if value.is_emergency() { &serial } else { &[] };
    let seeds = ConsentGrant::seeds(&value.patient, &value.grantee, &purpose, serial, &bump);
    init_pda(
        payer,
        target,
        system,
        &seeds,
        value,
        CareledgerError::GrantAlreadyExists,
    )
}

/// Creates the anchor `value` at its PDA (seeds from its own patient and index), paid by
/// `payer`; an account already there is refused with RecordIndexTaken.
pub(crate) fn init_record<'info>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    bump: u8,
    value: &RecordAnchor,
) -> Result<()> {
    let (bump, index) = ([bump], value.index.to_le_bytes());
    let seeds = RecordAnchor::seeds(&value.patient, &index, &bump);
    init_pda(
        payer,
        target,
        system,
        &seeds,
        value,
        CareledgerError::RecordIndexTaken,
    )
}

/// Writes `value` (discriminator, then the data) over an account of ours: a freshly created one
/// (`create_pda`), or one loaded by hand from an `UncheckedAccount`.
pub(crate) fn write_account<T: AccountSerialize>(info: &AccountInfo, value: &T) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let mut out: &mut [u8] = &mut data;
    value.try_serialize(&mut out)
}
