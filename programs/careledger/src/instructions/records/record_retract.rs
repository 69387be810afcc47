use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::RecordRetracted;
use crate::instructions::now;
use crate::state::{Config, RecordAnchor, RecordStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordRetractArgs {
    /// Opaque, non-zero reason code.
    pub reason_code: u16,
}

/// Marks a current record entered-in-error (FHIR DocumentReference status). The anchor stays:
/// lineage is never erased, only flagged.
#[event_cpi]
#[derive(Accounts)]
pub struct RecordRetract<'info> {
    /// The patient or the record's author.
    pub by: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(
        mut,
        constraint = record.patient == by.key() || record.author == by.key()
            @ CareledgerError::NotRecordAuthorOrPatient,
    )]
    pub record: Account<'info, RecordAnchor>,
}

pub fn handler(ctx: Context<RecordRetract>, args: RecordRetractArgs) -> Result<()> {
    require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
    let record = &mut ctx.accounts.record;
    require!(
        record.status == RecordStatus::Current,
        CareledgerError::RecordNotCurrent
    );
    record.status = RecordStatus::EnteredInError;
    record.invariant()?;
    let event = RecordRetracted {
        record: record.key(),
        patient: record.patient,
        by: ctx.accounts.by.key(),
        reason_code: args.reason_code,
        at: now()?,
    };
    emit_cpi!(event);
    Ok(())
}
