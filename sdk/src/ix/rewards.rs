//! Research studies: escrowed rewards, invitations, enrolment and payouts.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey};
//!
//! let (sponsor, patient, mint) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
//! let keys = ix::StudyKeys::new(&sponsor, 7, &mint);
//! let invite = ix::InvitationCreate {
//!     inviter: sponsor,
//!     keys,
//!     patient_wallet: patient,
//!     expires_at: 1_900_000_000,
//! }
//! .instruction();
//! assert!(invite.accounts.iter().any(|a| a.pubkey == pda::invitation(&keys.study, &patient).0));
//! ```
use super::{build, ea, system, token};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::state::Purpose;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// The addresses of a study every rewards builder needs, from a fetched `Study`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyKeys {
    pub study: Pubkey,
    pub sponsor: Pubkey,
    pub mint: Pubkey,
    pub vault: Pubkey,
}

impl StudyKeys {
    pub fn of(study: Pubkey, state: &careledger::state::Study) -> Self {
        StudyKeys {
            study,
            sponsor: state.sponsor,
            mint: state.mint,
            vault: state.vault,
        }
    }

    /// The keys of a study about to be created.
    pub fn new(sponsor: &Pubkey, study_id: u64, mint: &Pubkey) -> Self {
        let study = pda::study(sponsor, study_id).0;
        StudyKeys {
            study,
            sponsor: *sponsor,
            mint: *mint,
            vault: pda::vault(&study).0,
        }
    }
}

/// The sponsor (`keys.sponsor`, signing) creates a study paying rewards in `keys.mint`.
#[derive(Clone, Debug)]
pub struct StudyCreate {
    pub keys: StudyKeys,
    pub args: StudyCreateArgs,
}

impl StudyCreate {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let args = self.args;
        build(
            acc::StudyCreate {
                sponsor: keys.sponsor,
                config: pda::config(),
                sponsor_provider: pda::provider(&keys.sponsor).0,
                mint: keys.mint,
                accepted_mint: pda::accepted_mint(&keys.mint).0,
                study: keys.study,
                vault: keys.vault,
                token_program: token(),
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyCreate { args },
        )
    }
}

/// `funder` (signing) moves `amount` into the study's vault.
///
/// `source` is the funder's token account for the study's mint.
#[derive(Clone, Copy, Debug)]
pub struct StudyFund {
    pub funder: Pubkey,
    pub keys: StudyKeys,
    pub source: Pubkey,
    pub amount: u64,
}

impl StudyFund {
    pub fn instruction(self) -> Instruction {
        let funder = &self.funder;
        let keys = &self.keys;
        let source = &self.source;
        let amount = self.amount;
        build(
            acc::StudyFund {
                funder: *funder,
                config: pda::config(),
                study: keys.study,
                mint: keys.mint,
                vault: keys.vault,
                source: *source,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyFund {
                args: StudyFundArgs { amount },
            },
        )
    }
}

/// The sponsor closes the study to new participants.
#[derive(Clone, Copy, Debug)]
pub struct StudyCloseEnrolment {
    pub keys: StudyKeys,
}

impl StudyCloseEnrolment {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        build(
            acc::StudyCloseEnrolment {
                sponsor: keys.sponsor,
                study: keys.study,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyCloseEnrolment {},
        )
    }
}

/// The sponsor withdraws `amount` the study does not owe to `destination`.
#[derive(Clone, Copy, Debug)]
pub struct StudyWithdraw {
    pub keys: StudyKeys,
    pub destination: Pubkey,
    pub amount: u64,
}

impl StudyWithdraw {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let destination = &self.destination;
        let amount = self.amount;
        build(
            acc::StudyWithdraw {
                sponsor: keys.sponsor,
                config: pda::config(),
                study: keys.study,
                mint: keys.mint,
                vault: keys.vault,
                destination: *destination,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyWithdraw {
                args: StudyWithdrawArgs { amount },
            },
        )
    }
}

/// The sponsor closes a study that owes nothing, sending what is left to `destination`.
#[derive(Clone, Copy, Debug)]
pub struct StudyClose {
    pub keys: StudyKeys,
    pub destination: Pubkey,
}

impl StudyClose {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let destination = &self.destination;
        build(
            acc::StudyClose {
                sponsor: keys.sponsor,
                config: pda::config(),
                study: keys.study,
                mint: keys.mint,
                vault: keys.vault,
                destination: *destination,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyClose {},
        )
    }
}

/// Enrols a patient in the study.
///
/// Enrols `patient_wallet` (signed by the patient or guardian `authority`) under the research
/// grant to the sponsor; the reward goes to the patient's associated token account.
#[derive(Clone, Copy, Debug)]
pub struct StudyEnroll {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub keys: StudyKeys,
    /// The protocol version the participant read and consents to (the study's current one:
    /// `Client::current_protocol`).
    pub protocol: ProtocolRef,
}

/// A protocol version as a participant names it: its number and its document's SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolRef {
    pub version: u16,
    pub document_sha256: [u8; 32],
}

impl StudyEnroll {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let keys = &self.keys;
        build(
            acc::StudyEnroll {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                patient_wallet: *patient_wallet,
                study: keys.study,
                protocol: pda::protocol(&keys.study).0,
                protocol_version: pda::protocol_version(&keys.study, self.protocol.version).0,
                research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
                invitation: pda::invitation(&keys.study, patient_wallet).0,
                participation: pda::participation(&keys.study, patient_wallet).0,
                mint: keys.mint,
                vault: keys.vault,
                patient_tokens: pda::associated_token(patient_wallet, &keys.mint),
                token_program: token(),
                associated_token_program: anchor_spl::associated_token::ID,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudyEnroll {
                args: StudyEnrollArgs {
                    protocol_version: self.protocol.version,
                    protocol_sha256: self.protocol.document_sha256,
                },
            },
        )
    }
}

/// The research grant to the sponsor and the enrolment, in one transaction.
///
/// The research grant and the enrolment in one transaction: consent and enrolment together.
#[derive(Clone, Copy, Debug)]
pub struct StudyEnrollWithGrant {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub keys: StudyKeys,
    pub classes: u16,
    pub expires_at: i64,
    /// The protocol version consented to (see [`StudyEnroll::protocol`]).
    pub protocol: ProtocolRef,
}

impl StudyEnrollWithGrant {
    pub fn instructions(self) -> Vec<Instruction> {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let keys = &self.keys;
        let classes = self.classes;
        let expires_at = self.expires_at;
        let grant = GrantCreateArgs {
            purpose: Purpose::Research,
            classes,
            actions: careledger::logic::consent::action::READ,
            record_scope: careledger::NO_RECORD_SCOPE,
            not_before: 0,
            expires_at,
        };
        vec![
            super::GrantCreate {
                authority: *authority,
                patient_wallet: *patient_wallet,
                grantee_wallet: keys.sponsor,
                args: grant,
            }
            .instruction(),
            StudyEnroll {
                authority: *authority,
                patient_wallet: *patient_wallet,
                keys: *keys,
                protocol: self.protocol,
            }
            .instruction(),
        ]
    }
}

/// Pays a participant the reward periods that came due while consent lived.
///
/// Pays the due periods to `patient_tokens` (any token account of the patient for the mint).
#[derive(Clone, Copy, Debug)]
pub struct RewardClaim {
    pub authority: Pubkey,
    pub patient_wallet: Pubkey,
    pub keys: StudyKeys,
    pub patient_tokens: Pubkey,
    /// The first material protocol version after the participant's, when theirs is older than
    /// the newest material one (`Client::next_material`).
    pub next_material: Option<u16>,
}

impl RewardClaim {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let patient_wallet = &self.patient_wallet;
        let keys = &self.keys;
        let patient_tokens = &self.patient_tokens;
        build(
            acc::RewardClaim {
                authority: *authority,
                config: pda::config(),
                patient: pda::patient(patient_wallet).0,
                study: keys.study,
                protocol: pda::protocol(&keys.study).0,
                next_material: self
                    .next_material
                    .map(|v| pda::protocol_version(&keys.study, v).0),
                participation: pda::participation(&keys.study, patient_wallet).0,
                research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
                mint: keys.mint,
                vault: keys.vault,
                patient_tokens: *patient_tokens,
                token_program: token(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::RewardClaim {},
        )
    }
}

/// Ends a participation whose consent lapsed (`caller`, signing, may be anyone: the program
/// decides from the grant whether it lapsed).
#[derive(Clone, Copy, Debug)]
pub struct ParticipationEnd {
    pub caller: Pubkey,
    pub patient_wallet: Pubkey,
    pub keys: StudyKeys,
    /// The first material protocol version after the participant's, when theirs is older than
    /// the newest material one (`Client::next_material`).
    pub next_material: Option<u16>,
}

impl ParticipationEnd {
    pub fn instruction(self) -> Instruction {
        let caller = &self.caller;
        let patient_wallet = &self.patient_wallet;
        let keys = &self.keys;
        build(
            acc::ParticipationEnd {
                caller: *caller,
                patient: pda::patient(patient_wallet).0,
                study: keys.study,
                protocol: pda::protocol(&keys.study).0,
                next_material: self
                    .next_material
                    .map(|v| pda::protocol_version(&keys.study, v).0),
                participation: pda::participation(&keys.study, patient_wallet).0,
                research_grant: pda::grant(patient_wallet, &keys.sponsor, Purpose::Research).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ParticipationEnd {},
        )
    }
}

/// The sponsor names the site that may invite participants.
///
/// The sponsor delegates inviting participants to `site` (`Pubkey::default()` to stop).
#[derive(Clone, Copy, Debug)]
pub struct StudySetSite {
    pub keys: StudyKeys,
    pub site: Pubkey,
}

impl StudySetSite {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let site = &self.site;
        build(
            acc::StudySetSite {
                sponsor: keys.sponsor,
                config: pda::config(),
                study: keys.study,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::StudySetSite {
                args: StudySetSiteArgs { site: *site },
            },
        )
    }
}

/// Invites `patient_wallet` to the study.
///
/// The sponsor (or its site, `inviter`) invites a registered patient, usable until `expires_at`.
#[derive(Clone, Copy, Debug)]
pub struct InvitationCreate {
    pub inviter: Pubkey,
    pub keys: StudyKeys,
    pub patient_wallet: Pubkey,
    pub expires_at: i64,
}

impl InvitationCreate {
    pub fn instruction(self) -> Instruction {
        let inviter = &self.inviter;
        let keys = &self.keys;
        let patient_wallet = &self.patient_wallet;
        let expires_at = self.expires_at;
        build(
            acc::InvitationCreate {
                inviter: *inviter,
                config: pda::config(),
                study: keys.study,
                patient: pda::patient(patient_wallet).0,
                invitation: pda::invitation(&keys.study, patient_wallet).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::InvitationCreate {
                args: InvitationCreateArgs { expires_at },
            },
        )
    }
}

/// Withdraws an unused invitation.
///
/// The sponsor closes an invitation; the rent goes back to `invited_by` (who paid it).
#[derive(Clone, Copy, Debug)]
pub struct InvitationClose {
    pub keys: StudyKeys,
    pub patient_wallet: Pubkey,
    pub invited_by: Pubkey,
}

impl InvitationClose {
    pub fn instruction(self) -> Instruction {
        let keys = &self.keys;
        let patient_wallet = &self.patient_wallet;
        let invited_by = &self.invited_by;
        build(
            acc::InvitationClose {
                sponsor: keys.sponsor,
                study: keys.study,
                invitation: pda::invitation(&keys.study, patient_wallet).0,
                rent_to: *invited_by,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::InvitationClose {},
        )
    }
}
