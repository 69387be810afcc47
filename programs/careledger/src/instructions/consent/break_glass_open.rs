use crate::constants::{CONFIG_ADDRESS, EMERGENCY_SEED, NO_RECORD_SCOPE};
use crate::create::init_grant;
use crate::create::{init_pda, is_vacant, write_account};
use crate::errors::CareledgerError;
use crate::events::BreakGlassOpened;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::terms::{validate_actions, validate_break_glass_window};
use crate::state::{
    stamp, Config, ConsentGrant, EmergencyMarker, GrantStatus, Patient, Provider, Purpose,
    ReviewState, ROLE_EMERGENCY,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BreakGlassOpenArgs {
    pub classes: u16,
    pub actions: u8,
    /// At least 60 s and at most the config's `max_break_glass_secs`.
    pub window_secs: u32,
    /// Opaque, non-zero reason code (why the emergency).
    pub reason_code: u16,
}

/// A verified emergency clinician opens a short emergency grant without the patient's
/// signature, one at a time per patient: a new one once the previous window is over, each at
/// its own address so that the old one keeps its review. Flagged for the patient's review; its
/// rent is the provider's.
#[event_cpi]
#[derive(Accounts)]
pub struct BreakGlassOpen<'info> {
    #[account(mut)]
    pub clinician: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = provider.wallet == clinician.key() @ CareledgerError::GranteeMismatch)]
    pub provider: Account<'info, Provider>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    /// CHECK: this clinician's break-glass history with the patient (seeds checked here);
    /// created on the first emergency, updated on each.
    #[account(
        mut,
        seeds = [EMERGENCY_SEED, patient.wallet.as_ref(), clinician.key().as_ref()],
        bump,
    )]
    pub marker: UncheckedAccount<'info>,
    /// CHECK: the new grant: its address carries the pair's next serial (checked in the handler
    /// against the marker), so an old emergency keeps its review while a new one opens; created
    /// in the handler, which refuses an existing account and takes over a pre-funded one.
    #[account(mut)]
    pub grant: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// What opening an emergency needs that the accounts do not give directly.
struct Opening {
    expires_at: i64,
    /// The pair's emergency history so far; `None` before the first.
    marker: Option<EmergencyMarker>,
    serial: u32,
    grant_bump: u8,
}

impl<'info> BreakGlassOpen<'info> {
    pub fn validate(&self, args: &BreakGlassOpenArgs) -> Result<()> {
        self.opening(args, now()?).map(|_| ())
    }

    /// Who may break the glass, and on what terms: a verified, unsuspended provider with the
    /// emergency role, for some record classes, valid actions, a window within the config's
    /// limit, a reason code, and never for itself; one emergency at a time with this patient,
    /// at the address of the pair's next serial.
    fn opening(&self, args: &BreakGlassOpenArgs, at: i64) -> Result<Opening> {
        let provider = &self.provider;
        check_provider(provider, at).map_err(CareledgerError::from)?;
        require!(
            provider.has_role(ROLE_EMERGENCY),
            CareledgerError::MissingRole
        );
        require!(args.classes != 0, CareledgerError::InvalidClasses);
        validate_actions(args.actions)?;
        validate_break_glass_window(args.window_secs, self.config.max_break_glass_secs)?;
        require!(args.reason_code != 0, CareledgerError::MissingReasonCode);
        let clinician = self.clinician.key();
        let patient_wallet = self.patient.wallet;
        require_keys_neq!(clinician, patient_wallet, CareledgerError::SelfGrant);
        let expires_at = at
            .checked_add(i64::from(args.window_secs))
            .ok_or(CareledgerError::MathOverflow)?;
        let info = &self.marker;
        let marker = if info.owner == &crate::ID && !info.data_is_empty() {
            Some(EmergencyMarker::try_deserialize(
                &mut &info.try_borrow_data()?[..],
            )?)
        } else {
            None
        };
        let (opened, last_expires_at) = marker
            .as_ref()
            .map_or((0, 0), |m| (m.opened, m.last_expires_at));
        // one emergency at a time per clinician and patient: a new one once the last window
        // is over
        require!(at >= last_expires_at, CareledgerError::EmergencyStillOpen);
        let serial = opened.checked_add(1).ok_or(CareledgerError::MathOverflow)?;
        let serial_seed = serial.to_le_bytes();
        let (expected, grant_bump) = Pubkey::find_program_address(
            &ConsentGrant::seeds(
                &patient_wallet,
                &clinician,
                &Purpose::Emergency.seed(),
                &serial_seed,
                &[],
            ),
            &crate::ID,
        );
        require_keys_eq!(
            self.grant.key(),
            expected,
            CareledgerError::EmergencySerialMismatch
        );
        Ok(Opening {
            expires_at,
            marker,
            serial,
            grant_bump,
        })
    }

    pub fn handler(ctx: Context<Self>, args: BreakGlassOpenArgs) -> Result<()> {
        let at = now()?;
        let Opening {
            expires_at,
            marker,
            serial,
            grant_bump,
        } = ctx.accounts.opening(&args, at)?;
        let clinician = ctx.accounts.clinician.key();
        let patient_wallet = ctx.accounts.patient.wallet;
        let mut marker = marker.unwrap_or(EmergencyMarker {
            patient: patient_wallet,
            clinician,
            opened: 0,
            last_expires_at: 0,
            bump: ctx.bumps.marker,
        });
        let patient = &mut ctx.accounts.patient;
        patient.emergency_count = patient
            .emergency_count
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        patient.invariant()?;
        let consent_epoch = patient.consent_epoch;
        let grant = ConsentGrant {
            patient: patient_wallet,
            grantee: clinician,
            classes: args.classes,
            actions: args.actions,
            purpose: Purpose::Emergency,
            status: GrantStatus::Active,
            review: ReviewState::Pending,
            bump: grant_bump,
            consent_epoch,
            record_scope: NO_RECORD_SCOPE,
            access_count: 0,
            not_before: at,
            expires_at,
            created_at: stamp(at)?,
            revoked_at: 0,
            serial,
            narrowed_at: 0,
            payer: clinician,
            statement_hash: [0; 32],
        };
        grant.invariant()?;
        let a = &ctx.accounts;
        init_grant(
            &a.clinician,
            &a.grant,
            &a.system_program,
            grant_bump,
            &grant,
        )?;
        let fresh = is_vacant(&a.marker);
        marker.opened = serial;
        marker.last_expires_at = expires_at;
        if fresh {
            let bump = [ctx.bumps.marker];
            let seeds = EmergencyMarker::seeds(&patient_wallet, &clinician, &bump);
            init_pda(
                &a.clinician,
                &a.marker,
                &a.system_program,
                &seeds,
                &marker,
                CareledgerError::InvariantViolated,
            )?;
        } else {
            write_account(&a.marker, &marker)?;
        }
        let event = BreakGlassOpened {
            grant: a.grant.key(),
            patient: patient_wallet,
            provider: clinician,
            classes: args.classes,
            reason_code: args.reason_code,
            window_secs: args.window_secs,
            expires_at,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
