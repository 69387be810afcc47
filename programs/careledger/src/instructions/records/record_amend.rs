use crate::constants::{CONFIG_ADDRESS, RECORD_SEED};
use crate::create::init_record;
use crate::errors::CareledgerError;
use crate::events::RecordAnchored;
use crate::instructions::now;
use crate::instructions::records::{authorize_writer, written_for_care};
use crate::logic::cid::parse_cid;
use crate::logic::terms::validate_hash;
use crate::state::{stamp, Config, ConsentGrant, Patient, Provider, RecordAnchor, RecordStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordAmendArgs {
    pub cid: Vec<u8>,
    pub content_sha256: [u8; 32],
    /// The version the caller is amending; a mismatch means someone amended first.
    pub expected_version: u32,
}

/// Anchors the next version of a record and marks the amended one superseded, atomically.
#[event_cpi]
#[derive(Accounts)]
pub struct RecordAmend<'info> {
    #[account(mut)]
    pub author: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    #[account(
        mut,
        constraint = previous.patient == patient.wallet @ CareledgerError::RecordPatientMismatch,
    )]
    pub previous: Account<'info, RecordAnchor>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [RECORD_SEED, patient.wallet.as_ref(), &patient.record_count.to_le_bytes()],
        bump,
    )]
    pub record: UncheckedAccount<'info>,
    pub author_provider: Option<Account<'info, Provider>>,
    pub grant: Option<Account<'info, ConsentGrant>>,
    pub system_program: Program<'info, System>,
}

impl<'info> RecordAmend<'info> {
    pub fn validate(&self, args: &RecordAmendArgs) -> Result<()> {
        parse_cid(&args.cid)?;
        validate_hash(&args.content_sha256)?;
        let previous = &self.previous;
        require!(
            previous.status == RecordStatus::Current,
            CareledgerError::RecordNotCurrent
        );
        require_eq!(
            previous.version,
            args.expected_version,
            CareledgerError::StaleVersion
        );
        next_version(previous)?;
        self.written_under(now()?)?;
        Ok(())
    }

    /// The grant the author writes under (the default key when the patient writes). A
    /// record-scoped grant may amend the record it is scoped to.
    fn written_under(&self, at: i64) -> Result<Pubkey> {
        authorize_writer(
            &self.author.key(),
            &self.patient,
            self.author_provider.as_ref(),
            self.grant.as_ref(),
            self.previous.class,
            self.previous.index,
            at,
        )
    }

    pub fn handler(ctx: Context<Self>, args: RecordAmendArgs) -> Result<()> {
        let cid = parse_cid(&args.cid)?;
        let previous = &ctx.accounts.previous;
        let (class, previous_index) = (previous.class, previous.index);
        let version = next_version(previous)?;
        let at = now()?;
        let author = ctx.accounts.author.key();
        let grant = ctx.accounts.written_under(at)?;
        let patient = &mut ctx.accounts.patient;
        let index = patient.record_count;
        patient.record_count = index.checked_add(1).ok_or(CareledgerError::MathOverflow)?;
        patient.invariant()?;
        let patient_wallet = patient.wallet;
        let previous = &mut ctx.accounts.previous;
        previous.status = RecordStatus::Superseded;
        previous.invariant()?;
        let care = written_for_care(&author, &ctx.accounts.patient, ctx.accounts.grant.as_ref())
            .filter(|_| ctx.accounts.previous.author == author);
        let record = RecordAnchor {
            patient: patient_wallet,
            author,
            cid,
            content_sha256: args.content_sha256,
            class,
            status: RecordStatus::Current,
            bump: ctx.bumps.record,
            index,
            version,
            previous: previous_index,
            anchored_at: stamp(at)?,
            // an amendment is the author's care only if the same provider wrote what it amends
            care_authored: care.is_some(),
            care_since: care.unwrap_or(0),
        };
        record.invariant()?;
        let a = &ctx.accounts;
        init_record(
            &a.author,
            &a.record,
            &a.system_program,
            ctx.bumps.record,
            &record,
        )?;
        let event = RecordAnchored {
            record: a.record.key(),
            patient: patient_wallet,
            author,
            index,
            version,
            previous: previous_index,
            class,
            cid,
            content_sha256: args.content_sha256,
            grant,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}

/// The amendment's version number.
fn next_version(previous: &RecordAnchor) -> Result<u32> {
    Ok(previous
        .version
        .checked_add(1)
        .ok_or(CareledgerError::MathOverflow)?)
}
