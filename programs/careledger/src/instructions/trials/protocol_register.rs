use crate::constants::{CONFIG_ADDRESS, PROTOCOL_SEED, PROTOCOL_VERSION_SEED, REGISTRY_ID_LEN};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::ProtocolRegistered;
use crate::instructions::now;
use crate::instructions::trials::{document_cid, validate_version_terms};
use crate::logic::trials::validate_registry_id;
use crate::state::{Config, Protocol, ProtocolVersion, Study, StudyStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProtocolRegisterArgs {
    /// The trial registry's identifier (NCT, EU CT, ISRCTN, ACTRN number): `A`-`Z`, `0`-`9`
    /// and `-`, zero-padded.
    pub registry_id: [u8; REGISTRY_ID_LEN as usize],
    /// SHA-256 of the protocol document.
    pub document_sha256: [u8; 32],
    /// The document's binary CID, or empty.
    pub document_cid: Vec<u8>,
    /// Commitments to the pre-specified primary and secondary outcome sets
    /// (`logic::trials::outcome_commitment`); the salts stay with the sponsor.
    pub primary_outcomes: [u8; 32],
    pub secondary_outcomes: [u8; 32],
    /// How many participants the protocol plans (at most the study's maximum).
    pub planned_enrolment: u32,
}

/// The sponsor registers the study's protocol, version 1, before anyone enrols (enrolment is
/// refused until it does). Its time is the ledger's clock: a registration cannot be back-dated.
#[event_cpi]
#[derive(Accounts)]
pub struct ProtocolRegister<'info> {
    #[account(mut)]
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        has_one = sponsor @ CareledgerError::NotStudySponsor,
        constraint = study.status != StudyStatus::Closed @ CareledgerError::StudyClosed,
    )]
    pub study: Box<Account<'info, Study>>,
    /// CHECK: the new protocol's address (seeds checked here); created in the handler, which
    /// refuses an existing account and takes over a pre-funded one.
    #[account(mut, seeds = [PROTOCOL_SEED, study.key().as_ref()], bump)]
    pub protocol: UncheckedAccount<'info>,
    /// CHECK: version 1's address (seeds checked here); created in the handler.
    #[account(
        mut,
        seeds = [PROTOCOL_VERSION_SEED, study.key().as_ref(), &1u16.to_le_bytes()],
        bump,
    )]
    pub protocol_version: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ProtocolRegister<'info> {
    /// A registry id of the fixed alphabet, non-zero hashes and commitments, a planned
    /// enrolment the study can hold, and a valid document CID when one is given.
    pub fn validate(&self, args: &ProtocolRegisterArgs) -> Result<()> {
        let study = &self.study;
        validate_registry_id(&args.registry_id)?;
        validate_version_terms(
            &args.document_sha256,
            &args.primary_outcomes,
            &args.secondary_outcomes,
        )?;
        require!(
            args.planned_enrolment >= 1 && args.planned_enrolment <= study.max_participants,
            CareledgerError::InvalidProtocolTerms
        );
        // Enrolment needs a protocol, so participants here enrolled before careledger had protocols
        // (an upgraded ledger): they hold version 0, older than the version registered now, and
        // accrue nothing from this registration until they consent to it (participation_reconsent).
        document_cid(&args.document_cid)?;
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProtocolRegisterArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let cid = document_cid(&args.document_cid)?;
        let study = a.study.key();
        let protocol = Protocol {
            study,
            registry_id: args.registry_id,
            planned_enrolment: args.planned_enrolment,
            version: 1,
            material_version: 1,
            material_at: at,
            registered_at: at,
            primary_outcomes: args.primary_outcomes,
            secondary_outcomes: args.secondary_outcomes,
            prespecified_primary: args.primary_outcomes,
            prespecified_secondary: args.secondary_outcomes,
            first_enrolment_at: 0,
            analysis_plan_sha256: [0; 32],
            analysis_plan_at: 0,
            dataset_sha256: [0; 32],
            locked_at: 0,
            results_at: 0,
            outcomes_switched: 0,
            bump: ctx.bumps.protocol,
            reserved: [0; 16],
        };
        protocol.invariant()?;
        let version = ProtocolVersion {
            study,
            version: 1,
            document_sha256: args.document_sha256,
            document_cid: cid,
            primary_outcomes: args.primary_outcomes,
            secondary_outcomes: args.secondary_outcomes,
            reason_code: 0,
            material: true,
            previous_material: 0,
            registered_at: at,
            bump: ctx.bumps.protocol_version,
        };
        let bump = [ctx.bumps.protocol];
        init_pda(
            &a.sponsor,
            &a.protocol,
            &a.system_program,
            &Protocol::seeds(&study, &bump),
            &protocol,
            CareledgerError::ProtocolAlreadyRegistered,
        )?;
        let (number, bump) = (1u16.to_le_bytes(), [ctx.bumps.protocol_version]);
        init_pda(
            &a.sponsor,
            &a.protocol_version,
            &a.system_program,
            &ProtocolVersion::seeds(&study, &number, &bump),
            &version,
            CareledgerError::ProtocolAlreadyRegistered,
        )?;
        emit_cpi!(ProtocolRegistered {
            study,
            protocol: a.protocol.key(),
            sponsor: a.sponsor.key(),
            registry_id: args.registry_id,
            document_sha256: args.document_sha256,
            primary_outcomes: args.primary_outcomes,
            secondary_outcomes: args.secondary_outcomes,
            planned_enrolment: args.planned_enrolment,
            at,
        });
        Ok(())
    }
}
