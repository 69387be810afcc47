//! Record anchors: the CID and SHA-256 of an encrypted file, versioned.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey, RecordAnchorArgs};
//!
//! let patient = Pubkey::new_unique();
//! let anchor = ix::RecordAnchor {
//!     patient_wallet: patient,
//!     index: 0, // the patient's record_count
//!     author: ix::Author::Patient,
//!     args: RecordAnchorArgs {
//!         cid: careledger_sdk::cid::raw_cid_v1(&[7; 32]),
//!         content_sha256: [7; 32],
//!         class: 0,
//!     },
//! }
//! .instruction();
//! assert!(anchor.accounts.iter().any(|a| a.pubkey == pda::record(&patient, 0).0));
//! ```
use super::{build, ea, system};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::Purpose;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// Who writes a record: the patient, or a provider under its grant for `purpose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Patient,
    Provider {
        wallet: Pubkey,
        purpose: Purpose,
    },
    /// A clinician writing under its break-glass grant number `serial`.
    Emergency {
        wallet: Pubkey,
        serial: u32,
    },
}

impl Author {
    fn accounts(&self, patient_wallet: &Pubkey) -> (Pubkey, Option<Pubkey>, Option<Pubkey>) {
        match self {
            Author::Patient => (*patient_wallet, None, None),
            Author::Provider { wallet, purpose } => (
                *wallet,
                Some(pda::provider(wallet).0),
                Some(pda::grant(patient_wallet, wallet, *purpose).0),
            ),
            Author::Emergency { wallet, serial } => (
                *wallet,
                Some(pda::provider(wallet).0),
                Some(pda::emergency_grant(patient_wallet, wallet, *serial).0),
            ),
        }
    }
}

/// Anchors a new record (CID and SHA-256 of an encrypted file) for `patient_wallet`, written by `author`.
///
/// `index` must be the patient's current `record_count`.
#[derive(Clone, Debug)]
pub struct RecordAnchor {
    pub patient_wallet: Pubkey,
    pub index: u32,
    pub author: Author,
    pub args: RecordAnchorArgs,
}

impl RecordAnchor {
    pub fn instruction(self) -> Instruction {
        let patient_wallet = &self.patient_wallet;
        let index = self.index;
        let author = self.author;
        let args = self.args;
        let (author, author_provider, grant) = author.accounts(patient_wallet);
        build(
            acc::RecordAnchorCreate {
                author,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                record: pda::record(patient_wallet, index).0,
                author_provider,
                grant,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RecordAnchor { args },
        )
    }
}

/// Anchors a new version of a record, written by `author`.
///
/// Amends the record at `previous_index`; the new version goes to `new_index` (the patient's
/// current `record_count`).
#[derive(Clone, Debug)]
pub struct RecordAmend {
    pub patient_wallet: Pubkey,
    pub previous_index: u32,
    pub new_index: u32,
    pub author: Author,
    pub args: RecordAmendArgs,
}

impl RecordAmend {
    pub fn instruction(self) -> Instruction {
        let patient_wallet = &self.patient_wallet;
        let previous_index = self.previous_index;
        let new_index = self.new_index;
        let author = self.author;
        let args = self.args;
        let (author, author_provider, grant) = author.accounts(patient_wallet);
        build(
            acc::RecordAmend {
                author,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                previous: pda::record(patient_wallet, previous_index).0,
                record: pda::record(patient_wallet, new_index).0,
                author_provider,
                grant,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RecordAmend { args },
        )
    }
}

/// Retracts a record.
///
/// Retracts `record` (its fetched state) as `by`: the patient, or its author writing under a
/// grant. An amendment's predecessor is passed so that it is reinstated.
#[derive(Clone, Debug)]
pub struct RecordRetract {
    pub by: Author,
    pub record: careledger::state::RecordAnchor,
    pub reason_code: u16,
}

impl RecordRetract {
    pub fn instruction(self) -> Instruction {
        let by = self.by;
        let record = &self.record;
        let reason_code = self.reason_code;
        let patient_wallet = record.patient;
        let (by, author_provider, grant) = by.accounts(&patient_wallet);
        let previous =
            (record.version > 1).then(|| pda::record(&patient_wallet, record.previous).0);
        build(
            acc::RecordRetract {
                by,
                config: pda::config(),
                record: pda::record(&patient_wallet, record.index).0,
                patient: pda::patient(&patient_wallet).0,
                author_provider,
                grant,
                previous,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RecordRetract {
                args: RecordRetractArgs { reason_code },
            },
        )
    }
}
