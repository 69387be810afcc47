//! Account creation: the one path every account the program makes goes through. The program has
//! no `init` constraint: Anchor 1.2 creates a pre-funded address with the System Program's
//! CreateAccountAllowPrefund, which current runtimes refuse, so a few lamports sent ahead would
//! block an address for good. `init_pda` refuses an address that already holds an account with
//! that account's own error, and otherwise creates it even if someone pre-funded it.
use crate::errors::CareledgerError;
use crate::logic::consent::grant_standing;
use crate::state::{ConsentGrant, RecordAnchor, ReviewState};
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

/// What a grant made anew where a spent grant stood replaced: the old grant, and the lamports
/// returned to whoever paid for it.
pub(crate) struct Renewed {
    pub previous: ConsentGrant,
    pub lamports: u64,
}

/// Creates the grant `value` at its PDA (`init_grant`) or, where a grant stands that can never
/// authorize again (revoked, void by a revoke-all, or expired: `GrantStanding::is_spent`), makes
/// it anew in place, so that a patient can consent again in one signature. The old grant's
/// lamports go back to whoever paid for them (`previous_payer`, needed when that is not `payer`),
/// and `payer` pays for the new one. A live grant is never overwritten (GrantAlreadyExists): it is
/// updated, or revoked first.
#[allow(clippy::too_many_arguments)]
pub(crate) fn init_or_renew_grant<'info>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    bump: u8,
    value: &ConsentGrant,
    patient_epoch: u32,
    now: i64,
    previous_payer: Option<&AccountInfo<'info>>,
) -> Result<Option<Renewed>> {
    if is_vacant(target) {
        init_grant(payer, target, system, bump, value)?;
        return Ok(None);
    }
    require_keys_eq!(
        *target.owner,
        crate::ID,
        CareledgerError::GrantAlreadyExists
    );
    let previous = ConsentGrant::try_deserialize(&mut &target.try_borrow_data()?[..])?;
    // the address is the pair's and purpose's (Anchor checked its seeds): the same three
    require!(
        previous.patient == value.patient
            && previous.grantee == value.grantee
            && previous.purpose == value.purpose
            && !previous.is_emergency(),
        CareledgerError::InvariantViolated
    );
    require!(
        grant_standing(&previous, patient_epoch, now).is_spent(),
        CareledgerError::GrantAlreadyExists
    );
    require!(
        previous.review != ReviewState::Pending,
        CareledgerError::ReviewPending
    );
    let lamports = target.lamports();
    let rent = Rent::get()?.minimum_balance(target.data_len());
    let same_payer = previous.payer == payer.key();
    let refund_to = if same_payer {
        None
    } else {
        let to = previous_payer.ok_or(CareledgerError::WrongRentDestination)?;
        require_keys_eq!(
            to.key(),
            previous.payer,
            CareledgerError::WrongRentDestination
        );
        Some(to)
    };
    // the new payer funds the grant first (a CPI sees balanced accounts), then the program,
    // which owns the grant, hands the old rent back to whoever paid it
    let owed = if same_payer {
        rent.saturating_sub(lamports)
    } else {
        rent
    };
    if owed > 0 {
        use anchor_lang::system_program as sp;
        let accounts = sp::Transfer {
            from: payer.to_account_info(),
            to: target.clone(),
        };
        sp::transfer(CpiContext::new(system.key(), accounts), owed)?;
    }
    let returned = match refund_to {
        None => 0,
        Some(to) => {
            let left = target
                .lamports()
                .checked_sub(lamports)
                .ok_or(CareledgerError::InvariantViolated)?;
            let credited = to
                .lamports()
                .checked_add(lamports)
                .ok_or(CareledgerError::MathOverflow)?;
            **target.try_borrow_mut_lamports()? = left;
            **to.try_borrow_mut_lamports()? = credited;
            lamports
        }
    };
    write_account(target, value)?;
    Ok(Some(Renewed {
        previous,
        lamports: returned,
    }))
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
