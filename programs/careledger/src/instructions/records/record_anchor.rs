use crate::constants::{CONFIG_ADDRESS, NO_PREVIOUS_VERSION, RECORD_SEED};
use crate::create::init_record;
use crate::errors::CareledgerError;
use crate::events::RecordAnchored;
use crate::instructions::now;
use crate::instructions::records::{authorize_writer, written_for_care};
use crate::logic::cid::parse_cid;
use crate::logic::terms::{validate_hash, validate_record_class};
use crate::state::{stamp, Config, ConsentGrant, Patient, Provider, RecordAnchor, RecordStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecordAnchorArgs {
    /// Binary CID (v0 or v1) of the encrypted record; at most 40 bytes.
    pub cid: Vec<u8>,
    /// SHA-256 of the stored encrypted bytes.
    pub content_sha256: [u8; 32],
    /// Record class id below 16.
    pub class: u8,
}

/// Anchors version 1 of a new record at the patient's next index.
#[event_cpi]
#[derive(Accounts)]
pub struct RecordAnchorCreate<'info> {
    /// The patient, or a provider writing under a grant; pays the rent.
    #[account(mut)]
    pub author: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    /// CHECK: the new account's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [RECORD_SEED, patient.wallet.as_ref(), &patient.record_count.to_le_bytes()],
        bump,
    )]
    pub record: UncheckedAccount<'info>,
    /// The author's Provider account; omit when the patient anchors.
    pub author_provider: Option<Account<'info, Provider>>,
    /// The grant with the write action; omit when the patient anchors.
    pub grant: Option<Account<'info, ConsentGrant>>,
    pub system_program: Program<'info, System>,
}

impl<'info> RecordAnchorCreate<'info> {
    pub fn validate(&self, args: &RecordAnchorArgs) -> Result<()> {
        parse_cid(&args.cid)?;
        validate_hash(&args.content_sha256)?;
        validate_record_class(args.class)?;
        self.written_under(args, now()?)?;
        Ok(())
    }

    /// The grant the author writes under (the default key when the patient writes).
    fn written_under(&self, args: &RecordAnchorArgs, at: i64) -> Result<Pubkey> {
        authorize_writer(
            &self.author.key(),
            &self.patient,
            self.author_provider.as_ref(),
            self.grant.as_ref(),
            args.class,
            self.patient.record_count,
            at,
        )
    }

    pub fn handler(ctx: Context<Self>, args: RecordAnchorArgs) -> Result<()> {
        let cid = parse_cid(&args.cid)?;
        let at = now()?;
        let author = ctx.accounts.author.key();
        let index = ctx.accounts.patient.record_count;
        let grant = ctx.accounts.written_under(&args, at)?;
        let patient = &mut ctx.accounts.patient;
        patient.record_count = index.checked_add(1).ok_or(CareledgerError::MathOverflow)?;
        patient.invariant()?;
        let patient_wallet = patient.wallet;
        let care = written_for_care(&author, &ctx.accounts.patient, ctx.accounts.grant.as_ref());
        let record = RecordAnchor {
            patient: patient_wallet,
            author,
            cid,
            content_sha256: args.content_sha256,
            class: args.class,
            status: RecordStatus::Current,
            bump: ctx.bumps.record,
            index,
            version: 1,
            previous: NO_PREVIOUS_VERSION,
            anchored_at: stamp(at)?,
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
            version: 1,
            previous: NO_PREVIOUS_VERSION,
            class: args.class,
            cid,
            content_sha256: args.content_sha256,
            grant,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
