use crate::constants::{OUTCOMES_SWITCHED_PRIMARY, OUTCOMES_SWITCHED_SECONDARY, REGISTRY_ID_LEN};
use crate::errors::CareledgerError;
use crate::state::StoredCid;
use anchor_lang::prelude::*;

/// A study's registered protocol, as it stands now. PDA `[PROTOCOL_SEED, study]`; each version
/// is kept in its own [`ProtocolVersion`]. Nothing here is free text: hashes, commitments, a
/// registry identifier of a fixed alphabet, counts and times from the ledger's clock.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Protocol {
    pub study: Pubkey,
    /// The trial registry's identifier (`logic::trials::validate_registry_id`).
    pub registry_id: [u8; REGISTRY_ID_LEN as usize],
    pub planned_enrolment: u32,
    /// The current version, 1 for the registration.
    pub version: u16,
    /// The newest version that needs re-consent (a material amendment; 1 for the
    /// registration), and when it was registered: a participant who consented to an older
    /// version accrues nothing from then until they consent to the current one.
    pub material_version: u16,
    pub material_at: i64,
    /// When the protocol was registered, by the ledger's clock.
    pub registered_at: i64,
    /// The current version's outcome commitments (`logic::trials::outcome_commitment`).
    pub primary_outcomes: [u8; 32],
    pub secondary_outcomes: [u8; 32],
    /// The commitments in force when the first participant enrolled: the pre-specified
    /// outcomes a results record is compared with. They follow the current version until then.
    pub prespecified_primary: [u8; 32],
    pub prespecified_secondary: [u8; 32],
    /// 0 until the first enrolment.
    pub first_enrolment_at: i64,
    /// SHA-256 of the statistical analysis plan, anchored before the data lock; zero until then.
    pub analysis_plan_sha256: [u8; 32],
    pub analysis_plan_at: i64,
    /// SHA-256 of the results dataset at data lock; zero until then.
    pub dataset_sha256: [u8; 32],
    pub locked_at: i64,
    /// When the results were reported (0: not yet), and whether their outcomes differ from the
    /// pre-specified ones (`OUTCOMES_SWITCHED_*` bits).
    pub results_at: i64,
    pub outcomes_switched: u8,
    pub bump: u8,
    pub reserved: [u8; 16],
}

impl Protocol {
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.version >= 1
                && self.material_version >= 1
                && self.material_version <= self.version
                && self.material_at >= self.registered_at
                && (self.locked_at == 0 || self.analysis_plan_at != 0)
                && (self.results_at == 0 || self.locked_at != 0)
                && self.outcomes_switched
                    & !(OUTCOMES_SWITCHED_PRIMARY | OUTCOMES_SWITCHED_SECONDARY)
                    == 0,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }

    pub fn seeds<'a>(study: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::PROTOCOL_SEED, study.as_ref(), bump]
    }
}

/// One version of a study's protocol, kept when later versions replace it. PDA
/// `[PROTOCOL_VERSION_SEED, study, version_u16_le]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct ProtocolVersion {
    pub study: Pubkey,
    pub version: u16,
    /// SHA-256 of the protocol document (it stays off chain), and its CID when given.
    pub document_sha256: [u8; 32],
    pub document_cid: Option<StoredCid>,
    pub primary_outcomes: [u8; 32],
    pub secondary_outcomes: [u8; 32],
    /// Opaque reason code of an amendment (0 for the registration).
    pub reason_code: u16,
    /// Whether participants must consent again (the registration, an amendment the sponsor
    /// marks material, and any change of the outcome set).
    pub material: bool,
    /// The newest material version before this one (0 for the registration): from it, the
    /// first material version after a participant's consented one is checked without reading
    /// every version (`logic::trials::stale_since`).
    pub previous_material: u16,
    pub registered_at: i64,
    pub bump: u8,
}

impl ProtocolVersion {
    pub fn seeds<'a>(study: &'a Pubkey, version: &'a [u8; 2], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::PROTOCOL_VERSION_SEED,
            study.as_ref(),
            version,
            bump,
        ]
    }
}
