//! Consent grants, access requests, break-glass access and the access log.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey, Purpose};
//!
//! let (patient, clinic) = (Pubkey::new_unique(), Pubkey::new_unique());
//! let grant = pda::grant(&patient, &clinic, Purpose::Treatment).0;
//! let revoke = ix::GrantRevoke {
//!     authority: patient,
//!     patient_wallet: patient,
//!     grant,
//! }
//! .instruction();
//! assert!(revoke.accounts.iter().any(|a| a.pubkey == grant && a.is_writable));
//! ```
use super::{build, ea, system};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::{ConsentGrant, Purpose};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// Grants `grantee_wallet` access to `patient_wallet`'s records for `args.purpose`.
///
/// `authority` is the patient or their guardian.
#[derive(Clone, Debug)]
pub struct GrantCreate {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grantee_wallet: Pubkey,
    pub args: GrantCreateArgs,
}

/// Who gets back the rent of the spent grant `previous` that a grant by `authority` replaces at
/// its address: its payer, unless that is `authority` itself (the rent then stays in place).
pub fn previous_payer(authority: &Pubkey, previous: Option<&ConsentGrant>) -> Option<Pubkey> {
    previous.map(|g| g.payer).filter(|payer| payer != authority)
}

impl GrantCreate {
    pub fn instruction(self) -> Instruction {
        self.renewing(None)
    }

    /// The grant, made where a spent grant stands (revoked, void or expired): `previous_payer`
    /// ([`previous_payer`]) gets that grant's rent back.
    pub fn renewing(self, previous_payer: Option<Pubkey>) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let grantee_wallet = &self.grantee_wallet;
        let args = self.args;
        build(
            acc::GrantCreate {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                grantee_provider: pda::provider(grantee_wallet).0,
                grant: pda::grant(patient_wallet, grantee_wallet, args.purpose).0,
                system_program: system(),
                previous_payer,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantCreate { args },
        )
    }
}

/// Grants as [`GrantCreate`] does, against the consent statement `authority` signed: returns the
/// Ed25519 precompile instruction over `signed_message` and the grant instruction after it, in
/// that order and adjacent (the program reads the check just before the grant).
/// `signed_message` is the statement ([`crate::statement::for_grant`]) or its off-chain
/// envelope; `signature` is `authority`'s signature over exactly those bytes.
#[derive(Clone, Debug)]
pub struct GrantCreateSigned {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grantee_wallet: Pubkey,
    pub args: GrantCreateArgs,
    pub signed_message: Vec<u8>,
    pub signature: [u8; 64],
}

impl GrantCreateSigned {
    pub fn instructions(self) -> [Instruction; 2] {
        self.renewing(None)
    }

    /// As [`GrantCreate::renewing`]: the signed grant made where a spent grant stands.
    pub fn renewing(self, previous_payer: Option<Pubkey>) -> [Instruction; 2] {
        let check = solana_ed25519_program::new_ed25519_instruction_with_signature(
            &self.signed_message,
            &self.signature,
            &self.authority.to_bytes(),
        );
        let grant = build(
            acc::GrantCreateSigned {
                authority: self.authority,
                config: pda::config(),
                patient: pda::patient(&self.patient_wallet).0,
                grantee_provider: pda::provider(&self.grantee_wallet).0,
                grant: pda::grant(
                    &self.patient_wallet,
                    &self.grantee_wallet,
                    self.args.purpose,
                )
                .0,
                instructions: solana_sdk_ids::sysvar::instructions::ID,
                system_program: system(),
                previous_payer,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantCreateSigned { args: self.args },
        );
        [check, grant]
    }
}

/// Narrows or extends the grant `grant` (the patient or guardian `authority` signing).
#[derive(Clone, Debug)]
pub struct GrantUpdate {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grant: Pubkey,
    pub args: GrantUpdateArgs,
}

impl GrantUpdate {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let grant = &self.grant;
        let args = self.args;
        build(
            acc::GrantUpdate {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                grant: *grant,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantUpdate { args },
        )
    }
}

/// Revokes the grant `grant` (the patient or guardian `authority` signing).
#[derive(Clone, Copy, Debug)]
pub struct GrantRevoke {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grant: Pubkey,
}

impl GrantRevoke {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let grant = &self.grant;
        build(
            acc::GrantRevoke {
                authority: *authority,
                patient: pda::patient(patient_wallet).0,
                grant: *grant,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantRevoke {},
        )
    }
}

/// Voids every grant of `patient_wallet` at once (the patient or guardian `authority` signing).
#[derive(Clone, Copy, Debug)]
pub struct GrantRevokeAll {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
}

impl GrantRevokeAll {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        build(
            acc::GrantRevokeAll {
                authority: *authority,
                patient: pda::patient(patient_wallet).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantRevokeAll {},
        )
    }
}

/// Closes an ended grant and returns its rent.
///
/// `rent_to` is the patient's wallet for patient grants, the provider's for break-glass grants.
#[derive(Clone, Copy, Debug)]
pub struct GrantClose {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grant: Pubkey,
    pub rent_to: Pubkey,
}

impl GrantClose {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let grant = &self.grant;
        let rent_to = &self.rent_to;
        build(
            acc::GrantClose {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                grant: *grant,
                rent_to: *rent_to,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::GrantClose {},
        )
    }
}

/// A provider (`requester`, signing) asks `patient_wallet` for access on the terms in `args`.
#[derive(Clone, Debug)]
pub struct RequestCreate {
    pub requester: Pubkey,
    pub patient_wallet: Pubkey,
    pub args: RequestCreateArgs,
}

impl RequestCreate {
    pub fn instruction(self) -> Instruction {
        let requester = &self.requester;
        let patient_wallet = &self.patient_wallet;
        let args = self.args;
        build(
            acc::RequestCreate {
                requester: *requester,
                config: pda::config(),
                requester_provider: pda::provider(requester).0,
                patient: pda::patient(patient_wallet).0,
                request: pda::request(patient_wallet, requester).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RequestCreate { args },
        )
    }
}

/// The patient or guardian `authority` approves `requester`'s pending request, creating the grant.
///
/// `purpose` must be the request's purpose (it names the grant's address).
#[derive(Clone, Debug)]
pub struct RequestApprove {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub requester: Pubkey,
    pub purpose: Purpose,
    pub args: RequestApproveArgs,
}

impl RequestApprove {
    pub fn instruction(self) -> Instruction {
        self.renewing(None)
    }

    /// As [`GrantCreate::renewing`]: the approval's grant made where a spent grant stands.
    pub fn renewing(self, previous_payer: Option<Pubkey>) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let requester = &self.requester;
        let purpose = self.purpose;
        let args = self.args;
        build(
            acc::RequestApprove {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                request: pda::request(patient_wallet, requester).0,
                requester: *requester,
                grant: pda::grant(patient_wallet, requester, purpose).0,
                system_program: system(),
                previous_payer,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RequestApprove { args },
        )
    }
}

/// The patient or guardian `authority` denies `requester`'s pending request, with an opaque `reason_code`.
#[derive(Clone, Copy, Debug)]
pub struct RequestDeny {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub requester: Pubkey,
    pub reason_code: u16,
}

impl RequestDeny {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let requester = &self.requester;
        let reason_code = self.reason_code;
        build(
            acc::RequestDeny {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                request: pda::request(patient_wallet, requester).0,
                requester: *requester,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RequestDeny {
                args: RequestDenyArgs { reason_code },
            },
        )
    }
}

/// An emergency clinician (`clinician`, signing) opens short break-glass access to `patient_wallet`'s records without the patient's signature, flagged for review.
///
/// `serial` is this clinician's next emergency serial with the patient
/// (`Client::next_emergency_serial`): the new grant is `pda::emergency_grant(patient, clinician,
/// serial)`. Only the clinician's own emergencies move it.
#[derive(Clone, Debug)]
pub struct BreakGlassOpen {
    pub clinician: Pubkey,
    pub patient_wallet: Pubkey,
    pub serial: u32,
    pub args: BreakGlassOpenArgs,
}

impl BreakGlassOpen {
    pub fn instruction(self) -> Instruction {
        let clinician = &self.clinician;
        let patient_wallet = &self.patient_wallet;
        let serial = self.serial;
        let args = self.args;
        build(
            acc::BreakGlassOpen {
                clinician: *clinician,
                config: pda::config(),
                provider: pda::provider(clinician).0,
                patient: pda::patient(patient_wallet).0,
                marker: pda::emergency_marker(patient_wallet, clinician).0,
                grant: pda::emergency_grant(patient_wallet, clinician, serial).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::BreakGlassOpen { args },
        )
    }
}

/// The patient or guardian `authority` reviews the break-glass grant `grant` (`outcome`).
#[derive(Clone, Debug)]
pub struct BreakGlassReview {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub grant: Pubkey,
    pub outcome: ReviewOutcome,
}

impl BreakGlassReview {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let grant = &self.grant;
        let outcome = self.outcome;
        build(
            acc::BreakGlassReview {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                grant: *grant,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::BreakGlassReview {
                args: BreakGlassReviewArgs { outcome },
            },
        )
    }
}

/// The grantee (`grantee`, signing) records a read or write of `record` under `grant`; a refusal is recorded too unless `args.strict`.
#[derive(Clone, Debug)]
pub struct AccessLog {
    pub grantee: Pubkey,
    pub patient_wallet: Pubkey,
    pub grant: Pubkey,
    pub record: Pubkey,
    pub args: AccessLogArgs,
}

impl AccessLog {
    pub fn instruction(self) -> Instruction {
        let grantee = &self.grantee;
        let patient_wallet = &self.patient_wallet;
        let grant = &self.grant;
        let record = &self.record;
        let args = self.args;
        build(
            acc::AccessLog {
                grantee: *grantee,
                config: pda::config(),
                grantee_provider: pda::provider(grantee).0,
                patient: pda::patient(patient_wallet).0,
                grant: *grant,
                record: *record,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::AccessLog { args },
        )
    }
}
