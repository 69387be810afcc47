pub mod record_amend;
pub mod record_anchor;
pub mod record_retract;

pub use record_amend::*;
pub use record_anchor::*;
pub use record_retract::*;

use crate::errors::CareledgerError;
use crate::logic::consent::{action, decide_access, AccessQuery};
use crate::state::{ConsentGrant, Patient, Provider, Purpose};
use anchor_lang::prelude::*;

/// The patient writes their own records; anyone else must be a provider in good standing
/// holding a live grant with the write action for the class (and record, when scoped).
/// Returns the grant written under, or the default key when the patient wrote.
pub(crate) fn authorize_writer(
    author: &Pubkey,
    patient: &Patient,
    provider: Option<&Account<Provider>>,
    grant: Option<&Account<ConsentGrant>>,
    class: u8,
    record_index: u32,
    now: i64,
) -> Result<Pubkey> {
    if *author == patient.wallet {
        return Ok(Pubkey::default());
    }
    let (Some(provider), Some(grant)) = (provider, grant) else {
        return err!(CareledgerError::GrantRequired);
    };
    require_keys_eq!(provider.wallet, *author, CareledgerError::GranteeMismatch);
    require_keys_eq!(grant.grantee, *author, CareledgerError::GranteeMismatch);
    require_keys_eq!(
        grant.patient,
        patient.wallet,
        CareledgerError::GrantPatientMismatch
    );
    let query = AccessQuery {
        action: action::WRITE,
        purpose: grant.purpose,
        record_class: class,
        record_index,
        now,
        patient_epoch: patient.consent_epoch,
    };
    decide_access(grant, provider, &query).map_err(CareledgerError::from)?;
    Ok(grant.key())
}

/// When the care a record `author` writes under `grant` began, if it is care the provider
/// rendered: a provider (not the patient) writing under a treatment or operations grant.
pub(crate) fn written_for_care(
    author: &Pubkey,
    patient: &Patient,
    grant: Option<&Account<ConsentGrant>>,
) -> Option<i64> {
    let g = grant.filter(|g| matches!(g.purpose, Purpose::Treatment | Purpose::Operations))?;
    (*author != patient.wallet).then(|| crate::logic::claims::care_began(g))
}
