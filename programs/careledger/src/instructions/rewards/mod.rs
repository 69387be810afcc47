//! Research studies escrow SPL rewards; participants earn them while their research grant to
//! the sponsor stays live (`logic::rewards`).
pub mod invitation_close;
pub mod invitation_create;
pub mod participation_end;
pub mod reward_claim;
pub mod study_close;
pub mod study_close_enrolment;
pub mod study_create;
pub mod study_enroll;
pub mod study_fund;
pub mod study_set_site;
pub mod study_withdraw;

pub use invitation_close::*;
pub use invitation_create::*;
pub use participation_end::*;
pub use reward_claim::*;
pub use study_close::*;
pub use study_close_enrolment::*;
pub use study_create::*;
pub use study_enroll::*;
pub use study_fund::*;
pub use study_set_site::*;
pub use study_withdraw::*;

use crate::errors::CareledgerError;
use crate::logic::consent::Refusal;
use crate::logic::rewards::{self, EpochFacts, Lapse};
use crate::state::{ConsentGrant, Participation, Patient, Study};
use anchor_lang::prelude::*;

/// The grant account at `info`, if one lives there, checked to be the patient's grant to the
/// study's sponsor.
pub(crate) fn load_research_grant(
    info: &AccountInfo,
    study: &Study,
    patient_wallet: &Pubkey,
) -> Result<Option<ConsentGrant>> {
    if info.owner != &crate::ID || info.data_is_empty() {
        return Ok(None);
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
    Ok(Some(grant))
}

/// When the consent behind `p` lapsed (`None` while it is live), its grant read from `info`.
pub(crate) fn participation_lapse(
    info: &AccountInfo,
    study: &Study,
    p: &Participation,
    patient: &Patient,
    now: i64,
) -> Result<Option<Lapse>> {
    let grant = if p.ended {
        None
    } else {
        load_research_grant(info, study, &p.patient)?
    };
    Ok(rewards::participation_lapse(
        p,
        grant.as_ref(),
        study.classes,
        EpochFacts::of(patient),
        now,
    ))
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
