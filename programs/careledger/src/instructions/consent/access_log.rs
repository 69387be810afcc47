use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::{AccessLogged, AccessRefused};
use crate::instructions::now;
use crate::logic::consent::{action, decide_access, AccessQuery};
use crate::state::{Config, ConsentGrant, Patient, Provider, Purpose, RecordAnchor};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct AccessLogArgs {
    /// Exactly one of read (1) or write (2).
    pub action: u8,
    pub purpose: Purpose,
    /// Strict: a refusal fails the transaction with its error (and leaves no trace).
    /// Otherwise a refusal succeeds and is recorded as an `AccessRefused` event.
    pub strict: bool,
}

/// A grantee records that it accessed a record under its grant. An allowed access bumps the
/// grant's counter and emits `AccessLogged`; a refused one emits `AccessRefused` with its reason.
#[event_cpi]
#[derive(Accounts)]
pub struct AccessLog<'info> {
    pub grantee: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = grantee_provider.wallet == grantee.key() @ CareledgerError::GranteeMismatch)]
    pub grantee_provider: Account<'info, Provider>,
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        constraint = grant.grantee == grantee.key() @ CareledgerError::GranteeMismatch,
        constraint = grant.patient == patient.wallet @ CareledgerError::GrantPatientMismatch,
    )]
    pub grant: Account<'info, ConsentGrant>,
    #[account(constraint = record.patient == patient.wallet @ CareledgerError::RecordPatientMismatch)]
    pub record: Account<'info, RecordAnchor>,
}

pub fn handler(ctx: Context<AccessLog>, args: AccessLogArgs) -> Result<()> {
    require!(
        args.action == action::READ || args.action == action::WRITE,
        CareledgerError::InvalidAccessAction
    );
    let at = now()?;
    let record = &ctx.accounts.record;
    let query = AccessQuery {
        action: args.action,
        purpose: args.purpose,
        record_class: record.class,
        record_index: record.index,
        now: at,
        patient_epoch: ctx.accounts.patient.consent_epoch,
    };
    let record_key = record.key();
    let decision = decide_access(&ctx.accounts.grant, &ctx.accounts.grantee_provider, &query);
    let grant = &mut ctx.accounts.grant;
    match decision {
        Ok(()) => {
            grant.access_count = grant
                .access_count
                .checked_add(1)
                .ok_or(CareledgerError::MathOverflow)?;
            grant.invariant()?;
            let event = AccessLogged {
                grant: grant.key(),
                patient: grant.patient,
                grantee: grant.grantee,
                record: record_key,
                record_index: query.record_index,
                action: args.action,
                purpose: args.purpose,
                emergency: grant.is_emergency(),
                access_count: grant.access_count,
                at,
                grant_serial: grant.serial,
            };
            emit_cpi!(event);
        }
        Err(reason) if args.strict => return Err(CareledgerError::from(reason).into()),
        Err(reason) => {
            let event = AccessRefused {
                grant: grant.key(),
                patient: grant.patient,
                grantee: grant.grantee,
                record: record_key,
                record_index: query.record_index,
                action: args.action,
                purpose: args.purpose,
                reason,
                at,
                grant_serial: grant.serial,
            };
            emit_cpi!(event);
        }
    }
    Ok(())
}
