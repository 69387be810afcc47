use crate::constants::{CONFIG_ADDRESS, PROTOCOL_VERSION_SEED};
use crate::create::{init_pda, is_vacant};
use crate::errors::CareledgerError;
use crate::events::ProtocolAmended;
use crate::instructions::now;
use crate::instructions::trials::{document_cid, validate_version_terms};
use crate::logic::trials::amendment_is_material;
use crate::state::{Config, Protocol, ProtocolVersion, Study};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProtocolAmendArgs {
    pub document_sha256: [u8; 32],
    /// The new document's binary CID, or empty.
    pub document_cid: Vec<u8>,
    /// The new version's outcome commitments (the current ones when unchanged).
    pub primary_outcomes: [u8; 32],
    pub secondary_outcomes: [u8; 32],
    /// Opaque, non-zero reason code of the amendment.
    pub reason_code: u16,
    /// Whether participants must consent again; a change of an outcome set always is.
    pub material: bool,
}

/// The sponsor amends the protocol: a new version, the old one kept, until the data lock. A
/// material amendment stops every participant's accrual until they consent to it. Before the
/// first enrolment the outcome sets may still change and stay pre-specified; after it, the
/// results are compared with the sets in force at the first enrolment.
#[event_cpi]
#[derive(Accounts)]
pub struct ProtocolAmend<'info> {
    #[account(mut)]
    pub sponsor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(has_one = sponsor @ CareledgerError::NotStudySponsor)]
    pub study: Box<Account<'info, Study>>,
    #[account(
        mut,
        constraint = protocol.study == study.key() @ CareledgerError::ProtocolNotRegistered,
    )]
    pub protocol: Box<Account<'info, Protocol>>,
    /// CHECK: the next version's address (`[PROTOCOL_VERSION_SEED, study, version + 1]`,
    /// checked in the handler against the protocol's version); created in the handler.
    #[account(mut)]
    pub protocol_version: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ProtocolAmend<'info> {
    /// Before the data lock, with a reason, non-zero hashes and commitments, a valid document
    /// CID when one is given, at the address of the next version, still vacant.
    pub fn validate(&self, args: &ProtocolAmendArgs) -> Result<()> {
        let protocol = &self.protocol;
        require!(protocol.locked_at == 0, CareledgerError::ProtocolLocked);
        require!(
            args.reason_code != 0,
            CareledgerError::AmendmentReasonRequired
        );
        validate_version_terms(
            &args.document_sha256,
            &args.primary_outcomes,
            &args.secondary_outcomes,
        )?;
        document_cid(&args.document_cid)?;
        self.next_version()?;
        Ok(())
    }

    /// The new version's number and its account's bump: the account passed must be at that
    /// version's address and vacant.
    fn next_version(&self) -> Result<(u16, u8)> {
        let version = self
            .protocol
            .version
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        let (expected, bump) = Pubkey::find_program_address(
            &[
                PROTOCOL_VERSION_SEED,
                self.study.key().as_ref(),
                &version.to_le_bytes(),
            ],
            &crate::ID,
        );
        require_keys_eq!(
            self.protocol_version.key(),
            expected,
            CareledgerError::ProtocolVersionStale
        );
        require!(
            is_vacant(&self.protocol_version),
            CareledgerError::ProtocolVersionStale
        );
        Ok((version, bump))
    }

    pub fn handler(ctx: Context<Self>, args: ProtocolAmendArgs) -> Result<()> {
        let at = now()?;
        let cid = document_cid(&args.document_cid)?;
        let (version, bump) = ctx.accounts.next_version()?;
        let number = version.to_le_bytes();
        let study = ctx.accounts.study.key();
        let protocol = &mut ctx.accounts.protocol;
        let current = (protocol.primary_outcomes, protocol.secondary_outcomes);
        let new = (args.primary_outcomes, args.secondary_outcomes);
        let outcomes_changed = current != new;
        let material = amendment_is_material(args.material, current, new);
        let after_enrolment = protocol.first_enrolment_at != 0;
        let previous_material = protocol.material_version;
        protocol.version = version;
        protocol.primary_outcomes = args.primary_outcomes;
        protocol.secondary_outcomes = args.secondary_outcomes;
        if !after_enrolment {
            protocol.prespecified_primary = args.primary_outcomes;
            protocol.prespecified_secondary = args.secondary_outcomes;
        }
        if material {
            protocol.material_version = version;
            protocol.material_at = at;
        }
        protocol.invariant()?;
        let record = ProtocolVersion {
            study,
            version,
            document_sha256: args.document_sha256,
            document_cid: cid,
            primary_outcomes: args.primary_outcomes,
            secondary_outcomes: args.secondary_outcomes,
            reason_code: args.reason_code,
            material,
            previous_material,
            registered_at: at,
            bump,
        };
        let a = &ctx.accounts;
        let bump = [bump];
        init_pda(
            &a.sponsor,
            &a.protocol_version,
            &a.system_program,
            &ProtocolVersion::seeds(&study, &number, &bump),
            &record,
            CareledgerError::ProtocolVersionStale,
        )?;
        emit_cpi!(ProtocolAmended {
            study,
            sponsor: a.sponsor.key(),
            version,
            document_sha256: args.document_sha256,
            reason_code: args.reason_code,
            material,
            outcomes_changed,
            after_enrolment,
            at,
        });
        Ok(())
    }
}
