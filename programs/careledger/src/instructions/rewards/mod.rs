// Every file exports a `handler`; lib.rs calls each by its full path, so the glob clash is harmless.
#![allow(ambiguous_glob_reexports)]
//! Research studies escrow SPL rewards; participants earn them while their research grant to
//! the sponsor stays live (`logic::rewards`).
pub mod participation_end;
pub mod reward_claim;
pub mod study_close;
pub mod study_close_enrolment;
pub mod study_create;
pub mod study_enroll;
pub mod study_fund;
pub mod study_withdraw;

pub use participation_end::*;
pub use reward_claim::*;
pub use study_close::*;
pub use study_close_enrolment::*;
pub use study_create::*;
pub use study_enroll::*;
pub use study_fund::*;
pub use study_withdraw::*;

use crate::constants::STUDY_SEED;
use crate::errors::CareledgerError;
use crate::instructions::vault_transfer;
use crate::logic::consent::Refusal;
use crate::logic::rewards::check_research_grant;
use crate::state::{ConsentGrant, Study};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

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
    let seeds: &[&[u8]] = &[STUDY_SEED, study.sponsor.as_ref(), &id, &[study.bump]];
    vault_transfer(
        token_program,
        mint,
        vault,
        study.to_account_info(),
        to,
        seeds,
        amount,
    )
}

/// The research grant at `info` as consent for `study`: `Err(None)` when there is no grant
/// account at all, `Err(Some(refusal))` when it does not (or no longer) consents.
pub(crate) fn research_consent(
    info: &AccountInfo,
    study: &Study,
    patient_wallet: &Pubkey,
    patient_epoch: u32,
    now: i64,
) -> Result<std::result::Result<(), Option<Refusal>>> {
    if info.owner != &crate::ID || info.data_is_empty() {
        return Ok(Err(None));
    }
    let grant = ConsentGrant::try_deserialize(&mut &info.try_borrow_data()?[..])?;
    require_keys_eq!(
        grant.patient,
        *patient_wallet,
        CareledgerError::GrantPatientMismatch
    );
    require_keys_eq!(
        grant.grantee,
        study.sponsor,
        CareledgerError::GranteeMismatch
    );
    Ok(check_research_grant(&grant, study.classes, patient_epoch, now).map_err(Some))
}

/// A consent failure as the instruction's error.
pub(crate) fn consent_error(refusal: Option<Refusal>) -> Error {
    match refusal {
        None => error!(CareledgerError::NoResearchConsent),
        Some(Refusal::ClassNotGranted) | Some(Refusal::RecordOutOfScope) => {
            error!(CareledgerError::GrantDoesNotCoverStudy)
        }
        Some(r) => error!(CareledgerError::from(r)),
    }
}
