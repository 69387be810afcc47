use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::RecordRetracted;
use crate::instructions::now;
use crate::instructions::records::authorize_writer;
use crate::state::{Config, ConsentGrant, Patient, Provider, RecordAnchor, RecordStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordRetractArgs {
    /// Opaque, non-zero reason code.
    pub reason_code: u16,
}

/// Marks a current record entered-in-error (FHIR DocumentReference status). The anchor stays:
/// lineage is never erased, only flagged. Retracting an amendment reinstates the version it
/// replaced, so an amended record always keeps a current version; retracting a first version
/// withdraws the record as a whole.
#[event_cpi]
#[derive(Accounts)]
pub struct RecordRetract<'info> {
    /// The patient, or the record's author: a provider in good standing with a live write grant.
    pub by: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(
        mut,
        constraint = record.patient == by.key() || record.author == by.key()
            @ CareledgerError::NotRecordAuthorOrPatient,
    )]
    pub record: Account<'info, RecordAnchor>,
    #[account(constraint = patient.wallet == record.patient @ CareledgerError::RecordPatientMismatch)]
    pub patient: Account<'info, Patient>,
    /// The author's Provider account; omit when the patient retracts.
    pub author_provider: Option<Account<'info, Provider>>,
    /// The author's grant with the write action; omit when the patient retracts.
    pub grant: Option<Account<'info, ConsentGrant>>,
    /// The version this one amended (required for version 2 and later): reinstated as current.
    #[account(mut)]
    pub previous: Option<Account<'info, RecordAnchor>>,
}

pub fn handler(ctx: Context<RecordRetract>, args: RecordRetractArgs) -> Result<()> {
    require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
    let at = now()?;
    let a = &ctx.accounts;
    require!(
        a.record.status == RecordStatus::Current,
        CareledgerError::RecordNotCurrent
    );
    let by = a.by.key();
    let amends = a.record.version > 1;
    // as for amending: a record-scoped grant reaches the record it is scoped to
    let scope = if amends {
        a.record.previous
    } else {
        a.record.index
    };
    authorize_writer(
        &by,
        &a.patient,
        a.author_provider.as_ref(),
        a.grant.as_ref(),
        a.record.class,
        scope,
        at,
    )?;
    let reinstated = match (&a.previous, amends) {
        (Some(p), true) => {
            let same_chain = p.patient == a.record.patient
                && p.index == a.record.previous
                && p.status == RecordStatus::Superseded
                && p.version.checked_add(1) == Some(a.record.version);
            require!(same_chain, CareledgerError::PreviousVersionRequired);
            Some(p.key())
        }
        (None, true) => return err!(CareledgerError::PreviousVersionRequired),
        (_, false) => None,
    };
    let accounts = &mut *ctx.accounts;
    if let Some(previous) = accounts.previous.as_mut().filter(|_| amends) {
        previous.status = RecordStatus::Current;
        previous.invariant()?;
    }
    let record = &mut accounts.record;
    record.status = RecordStatus::EnteredInError;
    record.invariant()?;
    let event = RecordRetracted {
        record: record.key(),
        patient: record.patient,
        by,
        reason_code: args.reason_code,
        reinstated: reinstated.unwrap_or_default(),
        at,
    };
    emit_cpi!(event);
    Ok(())
}
