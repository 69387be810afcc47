use crate::constants::NO_PREVIOUS_VERSION;
use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum RecordStatus {
    Current,
    Superseded,
    EnteredInError,
}

/// A validated CID in compact form; `to_bytes` gives back the exact binary CID.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct StoredCid {
    /// 0 or 1.
    pub version: u8,
    /// Multicodec content codec (dag-pb for v0).
    pub codec: u16,
    /// Multihash function code (sha2-256 for v0).
    pub hash: u8,
    pub digest: [u8; 32],
}

/// Integrity anchor of one version of an encrypted off-chain record.
/// PDA `[RECORD_SEED, patient_wallet, index_u32_le]`. Never edited in place: an amendment is a
/// new anchor at the next index whose `previous` names this one.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct RecordAnchor {
    pub patient: Pubkey,
    /// The patient or the provider who anchored this version.
    pub author: Pubkey,
    pub cid: StoredCid,
    /// SHA-256 of the stored (encrypted) bytes; the CID may hash a DAG root instead.
    pub content_sha256: [u8; 32],
    /// Opaque class id; its meaning lives off chain (the SDK maps names to ids).
    pub class: u8,
    pub status: RecordStatus,
    pub bump: u8,
    /// Position in the patient's sequence of anchors (the PDA's index seed).
    pub index: u32,
    /// 1 for a first version, previous + 1 for an amendment.
    pub version: u32,
    /// Index of the version this one amends, `NO_PREVIOUS_VERSION` for a first version.
    pub previous: u32,
    /// Unix seconds (u32: exact until 2106).
    pub anchored_at: u32,
    /// Written by a provider under a treatment or operations grant: the authorship is a care
    /// relationship that can back a claim (a patient's own record, or one written under an
    /// emergency, research or other grant, is not).
    pub care_authored: bool,
    /// For a care-authored record, when that grant's care began (its creation, or its
    /// `not_before` if later): the record backs no claim for a service before then. 0 otherwise.
    pub care_since: i64,
}

impl RecordAnchor {
    pub fn invariant(&self) -> Result<()> {
        let chain_ok = (self.version == 1) == (self.previous == NO_PREVIOUS_VERSION);
        require!(
            chain_ok && self.version >= 1 && self.previous != self.index && self.class < 16,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl RecordAnchor {
    /// `index` is the record's index, little-endian.
    pub fn seeds<'a>(patient: &'a Pubkey, index: &'a [u8; 4], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [crate::constants::RECORD_SEED, patient.as_ref(), index, bump]
    }
}
