//! Clinical-trial integrity: protocol registration and amendments, the analysis plan, the data
//! lock, the results record, and a participant's re-consent to a protocol version.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey};
//!
//! let sponsor = Pubkey::new_unique();
//! let study = pda::study(&sponsor, 1).0;
//! let register = ix::ProtocolRegister {
//!     sponsor,
//!     study,
//!     args: careledger_sdk::ProtocolRegisterArgs {
//!         registry_id: careledger_sdk::trials::registry_id("NCT01234567").unwrap(),
//!         document_sha256: [1; 32],
//!         document_cid: vec![],
//!         primary_outcomes: [2; 32],
//!         secondary_outcomes: [3; 32],
//!         planned_enrolment: 100,
//!     },
//! }
//! .instruction();
//! assert!(register.accounts.iter().any(|a| a.pubkey == pda::protocol_version(&study, 1).0));
//! ```
use super::{build, ea, system};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::Purpose;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// The sponsor registers `study`'s protocol (version 1).
#[derive(Clone, Debug)]
pub struct ProtocolRegister {
    pub sponsor: Pubkey,
    pub study: Pubkey,
    pub args: ProtocolRegisterArgs,
}

impl ProtocolRegister {
    pub fn instruction(self) -> Instruction {
        build(
            acc::ProtocolRegister {
                sponsor: self.sponsor,
                config: pda::config(),
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                protocol_version: pda::protocol_version(&self.study, 1).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProtocolRegister { args: self.args },
        )
    }
}

/// The sponsor amends `study`'s protocol from version `current` to `current + 1`.
#[derive(Clone, Debug)]
pub struct ProtocolAmend {
    pub sponsor: Pubkey,
    pub study: Pubkey,
    /// The protocol's version now (the new one is the next).
    pub current: u16,
    pub args: ProtocolAmendArgs,
}

impl ProtocolAmend {
    pub fn instruction(self) -> Instruction {
        let next = self.current.saturating_add(1);
        build(
            acc::ProtocolAmend {
                sponsor: self.sponsor,
                config: pda::config(),
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                protocol_version: pda::protocol_version(&self.study, next).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProtocolAmend { args: self.args },
        )
    }
}

/// The sponsor anchors the statistical analysis plan's SHA-256.
#[derive(Clone, Copy, Debug)]
pub struct AnalysisPlanAnchor {
    pub sponsor: Pubkey,
    pub study: Pubkey,
    pub analysis_plan_sha256: [u8; 32],
}

impl AnalysisPlanAnchor {
    pub fn instruction(self) -> Instruction {
        build(
            acc::AnalysisPlanAnchor {
                sponsor: self.sponsor,
                config: pda::config(),
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::AnalysisPlanAnchor {
                args: AnalysisPlanAnchorArgs {
                    analysis_plan_sha256: self.analysis_plan_sha256,
                },
            },
        )
    }
}

/// The sponsor locks the data with the results dataset's SHA-256.
#[derive(Clone, Copy, Debug)]
pub struct DataLock {
    pub sponsor: Pubkey,
    pub study: Pubkey,
    pub dataset_sha256: [u8; 32],
}

impl DataLock {
    pub fn instruction(self) -> Instruction {
        build(
            acc::DataLock {
                sponsor: self.sponsor,
                config: pda::config(),
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::DataLock {
                args: DataLockArgs {
                    dataset_sha256: self.dataset_sha256,
                },
            },
        )
    }
}

/// The sponsor reports the results, revealing the pre-specified outcomes.
#[derive(Clone, Debug)]
pub struct ResultsReport {
    pub sponsor: Pubkey,
    pub study: Pubkey,
    pub args: ResultsReportArgs,
}

impl ResultsReport {
    pub fn instruction(self) -> Instruction {
        build(
            acc::ResultsReport {
                sponsor: self.sponsor,
                config: pda::config(),
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ResultsReport { args: self.args },
        )
    }
}

/// A participant (or guardian) consents to `study`'s current protocol version against the
/// re-consent statement `authority` signed ([`crate::trials::reconsent_statement`], plain or
/// in an off-chain envelope): the Ed25519 check, then the instruction, in that order.
#[derive(Clone, Debug)]
pub struct ParticipationReconsent {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub study: Pubkey,
    pub sponsor: Pubkey,
    /// The protocol's current version.
    pub version: u16,
    /// The first material version after the participant's, when theirs is older than the
    /// newest material one (`Client::next_material`).
    pub next_material: Option<u16>,
    pub signed_message: Vec<u8>,
    pub signature: [u8; 64],
}

impl ParticipationReconsent {
    pub fn instructions(self) -> [Instruction; 2] {
        let check = solana_ed25519_program::new_ed25519_instruction_with_signature(
            &self.signed_message,
            &self.signature,
            &self.authority.to_bytes(),
        );
        let reconsent = build(
            acc::ParticipationReconsent {
                authority: self.authority,
                config: pda::config(),
                patient: pda::patient(&self.patient_wallet).0,
                study: self.study,
                protocol: pda::protocol(&self.study).0,
                current_version: pda::protocol_version(&self.study, self.version).0,
                next_material: self
                    .next_material
                    .map(|v| pda::protocol_version(&self.study, v).0),
                participation: pda::participation(&self.study, &self.patient_wallet).0,
                research_grant: pda::grant(&self.patient_wallet, &self.sponsor, Purpose::Research)
                    .0,
                instructions: solana_sdk_ids::sysvar::instructions::ID,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ParticipationReconsent {},
        );
        [check, reconsent]
    }
}
