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

impl<'info> RecordRetract<'info> {
    pub fn validate(&self, args: &RecordRetractArgs) -> Result<()> {
        require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
        let at = now()?;
        let record = &self.record;
        require!(
            record.status == RecordStatus::Current,
            CareledgerError::RecordNotCurrent
        );
        // as for amending: a record-scoped grant reaches the record it is scoped to
        let scope = if record.version > 1 {
            record.previous
        } else {
            record.index
        };
        authorize_writer(
            &self.by.key(),
            &self.patient,
            self.author_provider.as_ref(),
            self.grant.as_ref(),
            record.class,
            scope,
            at,
        )?;
        self.reinstated()?;
        Ok(())
    }

    /// The version an amendment's retraction makes current again (`None` for a first
    /// version): the one it amended, which must be passed.
    fn reinstated(&self) -> Result<Option<Pubkey>> {
        let record = &self.record;
        match (&self.previous, record.version > 1) {
            (Some(p), true) => {
                let same_chain = p.patient == record.patient
                    && p.index == record.previous
                    && p.status == RecordStatus::Superseded
                    && p.version.checked_add(1) == Some(record.version);
                require!(same_chain, CareledgerError::PreviousVersionRequired);
                Ok(Some(p.key()))
            }
            (None, true) => err!(CareledgerError::PreviousVersionRequired),
            (_, false) => Ok(None),
        }
    }

    pub fn handler(ctx: Context<Self>, args: RecordRetractArgs) -> Result<()> {
        let at = now()?;
        let by = ctx.accounts.by.key();
        let reinstated = ctx.accounts.reinstated()?;
        let accounts = &mut *ctx.accounts;
        if let Some(previous) = accounts.previous.as_mut().filter(|_| reinstated.is_some()) {
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
}
