use crate::constants::{CONFIG_ADDRESS, GRANT_SEED};
use crate::create::{is_vacant, write_account};
use crate::errors::CareledgerError;
use crate::events::{AccessLogged, AccessRefused};
use crate::instructions::now;
use crate::logic::consent::{action, decide_access, AccessQuery, Refusal};
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
    /// CHECK: the grant the access is logged under, decoded in the handler: a grant of this
    /// grantee and patient, or, where the patient gave none, the address its grant for
    /// `args.purpose` would have, so that the refusal is recorded against it (`NoGrant`).
    #[account(mut)]
    pub grant: UncheckedAccount<'info>,
    #[account(constraint = record.patient == patient.wallet @ CareledgerError::RecordPatientMismatch)]
    pub record: Account<'info, RecordAnchor>,
}

impl<'info> AccessLog<'info> {
    /// An action that is exactly read or write; with no grant at the address, the address the
    /// patient's grant for the purpose would have (and no strict mode); with one, a grant of
    /// this grantee and patient that allows the access, when strict.
    pub fn validate(&self, args: &AccessLogArgs) -> Result<()> {
        require!(
            args.action == action::READ || args.action == action::WRITE,
            CareledgerError::InvalidAccessAction
        );
        let at = now()?;
        match self.logged_grant()? {
            None => {
                // no grant: the attempt is still a refused access on the patient's trail,
                // recorded against the address the patient's grant would have (an emergency
                // grant's address carries a serial: there is nothing to record it against)
                require!(
                    args.purpose != Purpose::Emergency,
                    CareledgerError::GrantPatientMismatch
                );
                let (expected, _) = Pubkey::find_program_address(
                    &[
                        GRANT_SEED,
                        self.patient.wallet.as_ref(),
                        self.grantee.key().as_ref(),
                        &args.purpose.seed(),
                    ],
                    &crate::ID,
                );
                require_keys_eq!(
                    self.grant.key(),
                    expected,
                    CareledgerError::GrantPatientMismatch
                );
                require!(!args.strict, CareledgerError::NoGrant);
            }
            Some(grant) if args.strict => {
                decide_access(&grant, &self.grantee_provider, &self.query(args, at))
                    .map_err(CareledgerError::from)?;
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The grant the access is logged under, `None` where there is none.
    fn logged_grant(&self) -> Result<Option<ConsentGrant>> {
        if is_vacant(&self.grant) {
            return Ok(None);
        }
        let info = &self.grant;
        require_keys_eq!(
            *info.owner,
            crate::ID,
            anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram
        );
        let grant = ConsentGrant::try_deserialize(&mut &info.try_borrow_data()?[..])?;
        require_keys_eq!(
            grant.grantee,
            self.grantee.key(),
            CareledgerError::GranteeMismatch
        );
        require_keys_eq!(
            grant.patient,
            self.patient.wallet,
            CareledgerError::GrantPatientMismatch
        );
        Ok(Some(grant))
    }

    fn query(&self, args: &AccessLogArgs, at: i64) -> AccessQuery {
        AccessQuery {
            action: args.action,
            purpose: args.purpose,
            record_class: self.record.class,
            record_index: self.record.index,
            now: at,
            patient_epoch: self.patient.consent_epoch,
        }
    }

    pub fn handler(ctx: Context<Self>, args: AccessLogArgs) -> Result<()> {
        let at = now()?;
        let query = ctx.accounts.query(&args, at);
        let record_key = ctx.accounts.record.key();
        let grantee = ctx.accounts.grantee.key();
        let patient = ctx.accounts.patient.wallet;
        let Some(mut grant) = ctx.accounts.logged_grant()? else {
            // validate checked that this is the address the patient's grant would have
            let event = AccessRefused {
                grant: ctx.accounts.grant.key(),
                patient,
                grantee,
                record: record_key,
                record_index: query.record_index,
                action: args.action,
                purpose: args.purpose,
                reason: Refusal::NoGrant,
                at,
                grant_serial: 0,
            };
            emit_cpi!(event);
            return Ok(());
        };
        let decision = decide_access(&grant, &ctx.accounts.grantee_provider, &query);
        match decision {
            Ok(()) => {
                grant.access_count = grant
                    .access_count
                    .checked_add(1)
                    .ok_or(CareledgerError::MathOverflow)?;
                grant.invariant()?;
                let event = AccessLogged {
                    grant: ctx.accounts.grant.key(),
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
                write_account(&ctx.accounts.grant, &grant)?;
                emit_cpi!(event);
            }
            Err(reason) if args.strict => return Err(CareledgerError::from(reason).into()),
            Err(reason) => {
                let event = AccessRefused {
                    grant: ctx.accounts.grant.key(),
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
}
