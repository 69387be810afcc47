//! Random sequences of SDK calls by several actors (a patient, their guardian, an attacker, a
//! clinic in the insurer's network, a locum clinician outside it, an unrelated verified
//! clinician, an insurer and a study sponsor), run on the embedded runtime against a plain
//! reference model (`Model`), with every ledger invariant (`careledger_tests::invariants`)
//! checked after every step. The model predicts each call's exact outcome, error code included.
//!
//! The model is written from the promises (README, issue 12), not from the program: a claim
//! needs a care relationship (a live treatment grant covering the record) and, on this
//! network-only policy, network membership, and it is decided under the terms the provider
//! previewed; only invited patients enrol (sybil wallets are refused); rewards accrue while
//! research consent stays unbroken since enrolment, the model noting the moment it first breaks
//! (revocation, revoke-all, any narrowing, expiry) as it happens; a guardian cannot give consent
//! that outlasts the guardianship; a claim cites a record that documents that day's service.
//!
//! One bank serves every sequence: each sequence gets a new patient, guardian and attacker, and
//! the clock is set back to the same start, so the shared providers, policy terms and study
//! stay valid. `CARELEDGER_SEQUENCES` sets how many sequences run (CI: 10,000).
use anchor_lang::error::ErrorCode as AnchorCode;
use careledger_sdk::claims::service_day;
use careledger_sdk::ix::{self, Author, PolicyKeys, StudyKeys};
use careledger_sdk::{action, pda, AccessLogArgs, CareledgerError as E, ClaimState, Purpose};
use careledger_sdk::{
    ClaimSubmitArgs, GrantCreateArgs, GrantUpdateArgs, PolicyCreateArgs, RecordAmendArgs,
    RecordAnchorArgs, RewardTerms, RuleTerms, StudyCreateArgs, NO_RECORD_SCOPE,
};
use careledger_sdk::{ROLE_CLINICIAN, ROLE_INSURER, ROLE_RESEARCHER};
use careledger_tests::invariants::{self, Decoded, Ledger, TxFacts};
use careledger_tests::{sample_cid, skip_unless_own_cluster, Env, DAY};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestRunner;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

const HOUR: i64 = 3600;
/// Rule terms: 100 per unit, copay 10, coinsurance 20 %; policy: deductible 150, cap 1,000.
const ALLOWED: u64 = 100;
const COPAY: u64 = 10;
const COINSURANCE_BPS: u64 = 2000;
const DEDUCTIBLE: u64 = 150;
const CAP: u64 = 1000;
/// Study: 10 on enrolment, then 5 a day for 3 days; participants share lab results (class 0).
const ENROL_REWARD: u64 = 10;
const PERIOD_REWARD: u64 = 5;
const PERIODS: u16 = 3;
const STUDY_CLASSES: u16 = 1;
const RULE: [u8; 32] = [0x42; 32];

fn rule_terms(allowed_per_unit: u64) -> RuleTerms {
    RuleTerms {
        allowed_per_unit,
        copay: COPAY,
        coinsurance_bps: COINSURANCE_BPS as u16,
        max_units_per_claim: 4,
        max_claims_per_period: 1000,
        prior_auth_required: false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Patient,
    Guardian,
    Attacker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Party {
    Clinic,
    Insurer,
    Sponsor,
    /// A verified clinician the patient may treat with, outside the insurer's network.
    Locum,
}

/// Who bills a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Biller {
    Clinic,
    Locum,
    /// A verified clinician with no relationship to the patient at all.
    Stranger,
}

const PARTIES: [Party; 4] = [Party::Clinic, Party::Insurer, Party::Sponsor, Party::Locum];

const PURPOSES: [Purpose; 3] = [Purpose::Treatment, Purpose::Payment, Purpose::Research];

#[derive(Clone, Debug)]
enum Step {
    Anchor {
        class: u8,
    },
    Amend {
        record: Index,
        stale: bool,
    },
    Grant {
        who: Who,
        to: Party,
        purpose: usize,
        classes: u16,
        actions: u8,
        days: i64,
    },
    /// `grant_update`: new classes and a new expiry, actions and scope kept.
    Update {
        who: Who,
        to: Party,
        purpose: usize,
        classes: u16,
        days: i64,
    },
    Revoke {
        who: Who,
        to: Party,
        purpose: usize,
    },
    RevokeAll {
        who: Who,
    },
    Close {
        to: Party,
        purpose: usize,
    },
    Guardian {
        days: i64,
    },
    Access {
        record: Index,
        purpose: usize,
        write: bool,
        strict: bool,
    },
    AttackerAccess {
        record: Index,
    },
    Advance {
        hours: i64,
    },
    OpenPolicy,
    /// The insurer changes the rule's allowed amount.
    RuleUpdate,
    Claim {
        by: Biller,
        record: Index,
        units: u16,
        billed: u64,
        /// The provider's preview predates the last rule update.
        stale_preview: bool,
    },
    /// The sponsor invites the patient.
    Invite,
    Enrol,
    /// A fresh wallet registers, grants research consent and enrols, uninvited.
    SybilEnrol,
    RewardClaim,
    /// Anyone ends the participation once consent has lapsed.
    EndParticipation,
    /// The sponsor amends the protocol: marked material or not, with new outcome sets or not
    /// (a change of outcomes is material whatever the mark).
    ProtocolAmend {
        material: bool,
        outcomes: bool,
    },
    /// The participant (or guardian, or an attacker) signs consent to the current version.
    Reconsent {
        who: Who,
    },
}

impl Step {
    fn kind(&self) -> &'static str {
        match self {
            Step::Anchor { .. } => "anchor",
            Step::Amend { .. } => "amend",
            Step::Grant { .. } => "grant",
            Step::Update { .. } => "update",
            Step::Revoke { .. } => "revoke",
            Step::RevokeAll { .. } => "revoke_all",
            Step::Close { .. } => "close",
            Step::Guardian { .. } => "guardian",
            Step::Access { .. } => "access",
            Step::AttackerAccess { .. } => "attacker_access",
            Step::Advance { .. } => "advance",
            Step::OpenPolicy => "open_policy",
            Step::RuleUpdate => "rule_update",
            Step::Claim { by, .. } => match by {
                Biller::Clinic => "claim",
                Biller::Locum => "claim_locum",
                Biller::Stranger => "claim_stranger",
            },
            Step::Invite => "invite",
            Step::Enrol => "enrol",
            Step::SybilEnrol => "sybil_enrol",
            Step::RewardClaim => "reward_claim",
            Step::EndParticipation => "end_participation",
            Step::ProtocolAmend { .. } => "protocol_amend",
            Step::Reconsent { .. } => "reconsent",
        }
    }
}

#[derive(Clone, Debug)]
struct GrantM {
    classes: u16,
    actions: u8,
    expires_at: i64,
    epoch: u32,
    revoked: bool,
    narrowed: bool,
    /// Made by the guardian, who paid its rent: closing it gives the rent back to them.
    by_guardian: bool,
}

#[derive(Clone, Debug)]
struct RecordM {
    class: u8,
    version: u32,
    current: bool,
    /// When it was anchored (model time; sequences start at a UTC midnight).
    at: i64,
}

#[derive(Clone, Debug)]
struct PolicyM {
    deductible_left: u64,
    cap_left: u64,
    paid: u64,
    /// The rule's allowed amount per unit now, and before its last update.
    allowed: u64,
    allowed_before: u64,
}

/// The patient's participation in the study.
#[derive(Clone, Debug)]
struct PartM {
    at: i64,
    /// Periods settled: paid, or forfeited at a re-consent.
    paid: u16,
    /// The protocol version consented to, counted in amendments since the sequence began.
    version: u16,
    /// Since when, and by which version, their consent to the protocol went stale: the first
    /// material amendment after the version they consented to.
    stale: Option<(i64, u16)>,
    /// When research consent first broke after enrolment, and how (the error a claim with
    /// nothing left to pay then reports).
    lapse: Option<(i64, E)>,
    ended: bool,
}

/// The reference model: what the ledger should hold for this sequence's patient.
#[derive(Clone, Debug)]
struct Model {
    now: i64,
    epoch: u32,
    guardian_until: Option<i64>,
    grants: BTreeMap<(Party, usize), GrantM>,
    records: Vec<RecordM>,
    policy: Option<PolicyM>,
    claims: BTreeMap<(Biller, i64), ClaimState>,
    invited: bool,
    enrolled: Option<PartM>,
    /// Amendments of the study's protocol in this sequence (its current version, counted from
    /// the sequence's start).
    amendments: u16,
    /// The outcome the last step must have had: Ok, or the exact custom error code.
    expect: Result<(), u32>,
    /// The model before the last step (what its call was built from).
    pre: Option<Box<Model>>,
    /// The setup steps the sequence started from (replayed by `init_test`).
    prologue: Vec<Step>,
}

/// The steps a sequence may start from, each taken or not (`init_state`).
fn prologue() -> [Step; 6] {
    let grant = |to, purpose, classes| Step::Grant {
        who: Who::Patient,
        to,
        purpose,
        classes,
        actions: action::READ,
        days: 20,
    };
    [
        Step::Anchor { class: 0 },
        grant(Party::Clinic, 0, 0b111),
        grant(Party::Insurer, 1, 0b111),
        grant(Party::Sponsor, 2, STUDY_CLASSES),
        Step::Invite,
        Step::OpenPolicy,
    ]
}

fn code(e: E) -> u32 {
    u32::from(e)
}

const MISSING: u32 = AnchorCode::AccountNotInitialized as u32;

const INVITATION_DAYS: i64 = 300;

impl Model {
    /// A freshly registered patient at the sequence's start.
    fn new() -> Model {
        Model {
            now: 0,
            epoch: 0,
            guardian_until: None,
            grants: BTreeMap::new(),
            records: vec![],
            policy: None,
            claims: BTreeMap::new(),
            invited: false,
            enrolled: None,
            amendments: 0,
            expect: Ok(()),
            pre: None,
            prologue: vec![],
        }
    }

    fn acting(&self, who: Who) -> Result<(), u32> {
        match (who, self.guardian_until) {
            (Who::Patient, _) => Ok(()),
            (Who::Guardian, Some(until)) if self.now < until => Ok(()),
            (Who::Guardian, Some(_)) => Err(code(E::GuardianExpired)),
            _ => Err(code(E::NotPatientOrGuardian)),
        }
    }

    /// A guardian cannot commit the patient beyond the guardianship.
    fn bounded(&self, who: Who, expires_at: i64) -> Result<(), u32> {
        match (who, self.guardian_until) {
            (Who::Guardian, Some(until)) if expires_at > until => {
                Err(code(E::GuardianTermExceeded))
            }
            _ => Ok(()),
        }
    }

    /// The consent rule, written out plainly, in the program's order of checks.
    fn consent(&self, g: &GrantM, act: u8, class: u8) -> Result<(), E> {
        if g.revoked {
            Err(E::GrantRevoked)
        } else if g.epoch != self.epoch {
            Err(E::GrantStaleEpoch)
        } else if self.now >= g.expires_at {
            Err(E::GrantExpired)
        } else if g.actions & act != act {
            Err(E::ActionNotGranted)
        } else if g.classes & (1 << class) == 0 {
            Err(E::ClassNotGranted)
        } else {
            Ok(())
        }
    }

    fn research(&self) -> Result<(), u32> {
        let g = self
            .grants
            .get(&(Party::Sponsor, 2))
            .ok_or(code(E::NoResearchConsent))?;
        match self.consent(g, action::READ, 0) {
            Err(E::ClassNotGranted) => Err(code(E::GrantDoesNotCoverStudy)),
            Err(e) => Err(code(e)),
            Ok(()) => Ok(()),
        }
    }

    fn live(&self, g: &GrantM) -> bool {
        !g.revoked && g.epoch == self.epoch && self.now < g.expires_at
    }

    /// Research consent for the study broke at `at`, for `why`: the earliest break counts
    /// (two in the same second are told apart in the order expiry, revocation, revoke-all,
    /// narrowing).
    fn consent_broke(&mut self, at: i64, why: E) {
        let rank = |e: E| {
            [
                E::GrantExpired,
                E::GrantRevoked,
                E::GrantStaleEpoch,
                E::GrantNarrowed,
            ]
            .iter()
            .position(|x| *x == e)
        };
        if let Some(p) = self.enrolled.as_mut().filter(|p| !p.ended) {
            let earlier = p
                .lapse
                .is_none_or(|(t, w)| at < t || (at == t && rank(why) < rank(w)));
            if earlier {
                p.lapse = Some((at, why));
            }
        }
    }

    /// Periods that ended while consent (to the grant and to the protocol) was unbroken, by now.
    fn periods_earned(&self, p: &PartM) -> u16 {
        let mut until = p.lapse.map_or(self.now, |(at, _)| at.min(self.now));
        if let Some((at, _)) = p.stale {
            until = until.min(at);
        }
        periods_by(p, until)
    }

    /// Applies `step`, recording the outcome it must have.
    fn step(&mut self, step: &Step) -> Result<(), u32> {
        match step {
            Step::Anchor { class } => {
                self.records.push(RecordM {
                    class: *class,
                    version: 1,
                    current: true,
                    at: self.now,
                });
            }
            Step::Amend { record, stale } => {
                let i = record.index(self.records.len());
                let r = &self.records[i];
                if !r.current {
                    return Err(code(E::RecordNotCurrent));
                }
                if *stale {
                    return Err(code(E::StaleVersion));
                }
                let next = RecordM {
                    class: r.class,
                    version: r.version + 1,
                    current: true,
                    at: self.now,
                };
                self.records[i].current = false;
                self.records.push(next);
            }
            Step::Grant {
                who,
                to,
                purpose,
                classes,
                actions,
                days,
            } => {
                self.acting(*who)?;
                // a grant's purpose fits the grantee's roles: the clinicians (care roles) for
                // treatment and payment, the insurer for payment, the sponsor (a researcher)
                // for research
                let fits = matches!(
                    (to, PURPOSES[*purpose]),
                    (
                        Party::Clinic | Party::Locum,
                        Purpose::Treatment | Purpose::Payment
                    ) | (Party::Insurer, Purpose::Payment)
                        | (Party::Sponsor, Purpose::Research)
                );
                if !fits {
                    return Err(code(E::PurposeNotForRoles));
                }
                let expires_at = self.now + days * DAY;
                self.bounded(*who, expires_at)?;
                // a live grant is never replaced; a revoked, void or expired one is, in place
                if let Some(old) = self.grants.get(&(*to, *purpose)) {
                    let spent =
                        old.revoked || old.epoch != self.epoch || self.now >= old.expires_at;
                    if !spent {
                        return Err(code(E::GrantAlreadyExists));
                    }
                }
                if (*to, *purpose) == (Party::Sponsor, 2) {
                    // a research grant made again is a new consent, not the one enrolled with
                    if let Some(p) = self.enrolled.as_mut().filter(|p| !p.ended) {
                        p.lapse = Some((p.at, E::GrantReplaced));
                    }
                }
                let grant = GrantM {
                    classes: *classes,
                    actions: *actions,
                    expires_at,
                    epoch: self.epoch,
                    revoked: false,
                    narrowed: false,
                    by_guardian: matches!(who, Who::Guardian),
                };
                self.grants.insert((*to, *purpose), grant);
            }
            Step::Update {
                who,
                to,
                purpose,
                classes,
                days,
            } => {
                let Some(g) = self.grants.get(&(*to, *purpose)).cloned() else {
                    return Err(MISSING);
                };
                self.acting(*who)?;
                if g.revoked {
                    return Err(code(E::GrantRevoked));
                }
                if g.epoch != self.epoch {
                    return Err(code(E::GrantStaleEpoch));
                }
                // consent that lapsed is granted anew, never extended
                if self.now >= g.expires_at {
                    return Err(code(E::GrantLapsed));
                }
                let expires_at = self.now + days * DAY;
                self.bounded(*who, expires_at)?;
                if *classes == g.classes && expires_at == g.expires_at {
                    return Err(code(E::EmptyUpdate));
                }
                let narrows = g.classes & !classes != 0 || expires_at < g.expires_at;
                if narrows && (*to, *purpose) == (Party::Sponsor, 2) {
                    // any narrowing of the research grant ends accrual (docs/DOMAINS.md)
                    self.consent_broke(self.now, E::GrantNarrowed);
                }
                let g = self.grants.get_mut(&(*to, *purpose)).unwrap();
                g.narrowed |= narrows;
                g.classes = *classes;
                g.expires_at = expires_at;
            }
            Step::Revoke { who, to, purpose } => {
                let Some(g) = self.grants.get(&(*to, *purpose)) else {
                    return Err(MISSING);
                };
                self.acting(*who)?;
                if g.revoked {
                    return Err(code(E::GrantRevoked));
                }
                self.grants.get_mut(&(*to, *purpose)).unwrap().revoked = true;
                if (*to, *purpose) == (Party::Sponsor, 2) {
                    self.consent_broke(self.now, E::GrantRevoked);
                }
            }
            Step::RevokeAll { who } => {
                self.acting(*who)?;
                self.epoch += 1;
                if let Some(g) = self.grants.get(&(Party::Sponsor, 2)) {
                    // Only the latest revoke-all's time is kept: after a second one, when the
                    // first broke consent is unknown and accrual is taken to end at enrolment
                    // (docs/DOMAINS.md: end the participation, or collect, before revoking all again).
                    let at = if g.epoch + 1 == self.epoch {
                        self.now
                    } else {
                        self.enrolled.as_ref().map_or(self.now, |p| p.at)
                    };
                    self.consent_broke(at, E::GrantStaleEpoch);
                }
            }
            Step::Close { to, purpose } => {
                let Some(g) = self.grants.get(&(*to, *purpose)) else {
                    return Err(MISSING);
                };
                if self.live(g) {
                    return Err(code(E::GrantStillLive));
                }
                self.grants.remove(&(*to, *purpose));
                if (*to, *purpose) == (Party::Sponsor, 2) {
                    // Closing the grant before the participation is ended takes its history
                    // with it: what was not collected is forfeited (docs/DOMAINS.md).
                    if let Some(p) = self.enrolled.as_mut().filter(|p| !p.ended) {
                        p.lapse = Some((p.at, E::NoResearchConsent));
                    }
                }
            }
            Step::Guardian { days } => {
                self.guardian_until = (*days > 0).then(|| self.now + days * DAY);
            }
            Step::Access {
                record,
                purpose,
                write,
                strict,
            } => {
                let class = self.records[record.index(self.records.len())].class;
                // no grant: the attempt is still recorded as refused, or fails when strict
                let Some(g) = self.grants.get(&(Party::Clinic, *purpose)) else {
                    return if *strict {
                        Err(code(E::NoGrant))
                    } else {
                        Ok(())
                    };
                };
                let act = if *write { action::WRITE } else { action::READ };
                if let Err(e) = self.consent(g, act, class) {
                    if *strict {
                        return Err(code(e));
                    }
                }
            }
            Step::AttackerAccess { .. } => return Err(MISSING),
            Step::Advance { hours } => {
                let until = self.now + hours * HOUR;
                // research consent that expires during the wait breaks at its expiry
                if let Some(g) = self.grants.get(&(Party::Sponsor, 2)) {
                    if self.live(g) && g.expires_at <= until {
                        let at = g.expires_at;
                        self.consent_broke(at, E::GrantExpired);
                    }
                }
                self.now = until;
            }
            Step::OpenPolicy => {
                self.policy = Some(PolicyM {
                    deductible_left: DEDUCTIBLE,
                    cap_left: CAP,
                    paid: 0,
                    allowed: ALLOWED,
                    allowed_before: ALLOWED,
                });
            }
            Step::RuleUpdate => {
                let p = self.policy.as_mut().unwrap();
                p.allowed_before = p.allowed;
                p.allowed = other_allowed(p.allowed);
            }
            Step::Claim {
                by,
                record,
                units,
                billed,
                stale_preview,
            } => {
                let index = record.index(self.records.len());
                let r = &self.records[index];
                let class = r.class;
                if !r.current {
                    return Err(code(E::RecordNotCurrent));
                }
                // the record documents today's service only if anchored today
                if r.at < service_day(self.now) {
                    return Err(code(E::ServiceNotDocumented));
                }
                let p = self.policy.as_ref().unwrap();
                let previewed = if *stale_preview {
                    p.allowed_before
                } else {
                    p.allowed
                };
                if previewed != p.allowed {
                    return Err(code(E::RuleTermsChanged));
                }
                // a care relationship: a live treatment grant covering the record
                let treats = |party| {
                    self.grants
                        .get(&(party, 0))
                        .is_some_and(|g| self.consent(g, action::READ, class).is_ok())
                };
                let cares = match by {
                    Biller::Clinic => treats(Party::Clinic),
                    Biller::Locum => treats(Party::Locum),
                    Biller::Stranger => false,
                };
                if !cares {
                    return Err(code(E::NoCareRelationship));
                }
                // the policy is network-only and only the clinic is in the network
                if *by != Biller::Clinic {
                    return Err(code(E::ProviderOutOfNetwork));
                }
                let g = self
                    .grants
                    .get(&(Party::Insurer, 1))
                    .ok_or(code(E::NoPaymentConsent))?;
                self.consent(g, action::READ, class).map_err(code)?;
                let day = service_day(self.now);
                if self.claims.contains_key(&(*by, day)) {
                    return Err(code(E::DuplicateClaim));
                }
                let p = self.policy.as_mut().unwrap();
                let eligible = (p.allowed * u64::from(*units)).min(*billed);
                let deductible = eligible.min(p.deductible_left);
                let after_deductible = eligible - deductible;
                let after_copay = after_deductible - after_deductible.min(COPAY);
                let uncapped = after_copay - after_copay * COINSURANCE_BPS / 10_000;
                let benefit = uncapped.min(p.cap_left);
                let state = if benefit < uncapped && benefit == 0 {
                    ClaimState::Denied
                } else {
                    p.deductible_left -= deductible;
                    p.cap_left -= benefit;
                    p.paid += benefit;
                    if benefit > 0 {
                        ClaimState::Paid
                    } else {
                        ClaimState::Approved
                    }
                };
                self.claims.insert((*by, day), state);
            }
            Step::Invite => {
                if self.invited {
                    return Err(code(E::InvitationAlreadyExists));
                }
                self.invited = true;
            }
            Step::Enrol => {
                if self.enrolled.is_some() {
                    return Err(code(E::AlreadyEnrolled));
                }
                if !self.invited {
                    return Err(code(E::NotInvited));
                }
                self.research()?;
                if self.grants[&(Party::Sponsor, 2)].narrowed {
                    return Err(code(E::GrantNarrowed));
                }
                self.enrolled = Some(PartM {
                    at: self.now,
                    paid: 0,
                    version: self.amendments,
                    stale: None,
                    lapse: None,
                    ended: false,
                });
            }
            Step::SybilEnrol => return Err(code(E::NotInvited)),
            Step::RewardClaim => {
                let Some(p) = self.enrolled.clone() else {
                    return Err(MISSING);
                };
                let earned = self.periods_earned(&p);
                if earned <= p.paid {
                    return Err(code(match p.lapse {
                        _ if p.ended => E::ParticipationEnded,
                        Some((_, why)) => why,
                        None if p.stale.is_some() => E::ReconsentRequired,
                        None => E::NothingDue,
                    }));
                }
                let p = self.enrolled.as_mut().unwrap();
                p.paid = earned;
                if earned == PERIODS && !p.ended {
                    p.ended = true;
                    p.lapse = Some((self.now, E::ParticipationEnded));
                }
            }
            Step::EndParticipation => {
                let Some(p) = self.enrolled.as_mut() else {
                    return Err(MISSING);
                };
                if p.ended {
                    return Err(code(E::ParticipationEnded));
                }
                if p.lapse.is_none() {
                    return Err(code(E::ConsentStillLive));
                }
                p.ended = true;
            }
            Step::ProtocolAmend { material, outcomes } => {
                self.amendments += 1;
                let (now, version) = (self.now, self.amendments);
                if *material || *outcomes {
                    // the first material amendment after their consent stops their accrual
                    if let Some(p) = self.enrolled.as_mut().filter(|p| p.stale.is_none()) {
                        p.stale = Some((now, version));
                    }
                }
            }
            Step::Reconsent { who } => {
                let Some(p) = self.enrolled.clone() else {
                    return Err(MISSING);
                };
                if p.ended {
                    return Err(code(E::ParticipationEnded));
                }
                self.acting(*who)?;
                if p.version == self.amendments {
                    return Err(code(E::ReconsentNotNeeded));
                }
                if let Some((_, why)) = p.lapse {
                    return Err(code(why));
                }
                let mut settled = p.paid;
                if let Some((at, _)) = p.stale {
                    // what came due before the amendment is collected first; what came due
                    // since, without consent to it, is forfeited
                    if p.paid < periods_by(&p, at) {
                        return Err(code(E::CollectDueFirst));
                    }
                    settled = p.paid.max(periods_by(&p, self.now));
                }
                let (now, current) = (self.now, self.amendments);
                let p = self.enrolled.as_mut().unwrap();
                p.paid = settled;
                p.version = current;
                p.stale = None;
                if settled == PERIODS {
                    p.ended = true;
                    p.lapse = Some((now, E::ParticipationEnded));
                }
            }
        }
        Ok(())
    }
}

/// Periods that came due by `until` since enrolment.
fn periods_by(p: &PartM, until: i64) -> u16 {
    ((until - p.at) / DAY).clamp(0, i64::from(PERIODS)) as u16
}

/// The rule update alternates the allowed amount between two values.
fn other_allowed(allowed: u64) -> u64 {
    if allowed == ALLOWED {
        ALLOWED + 50
    } else {
        ALLOWED
    }
}

struct Reference;

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        6 => Just(Who::Patient),
        2 => Just(Who::Guardian),
        1 => Just(Who::Attacker)
    ]
}

fn party() -> impl Strategy<Value = Party> {
    prop_oneof![
        3 => Just(Party::Clinic),
        3 => Just(Party::Insurer),
        3 => Just(Party::Sponsor),
        1 => Just(Party::Locum)
    ]
}

fn biller() -> impl Strategy<Value = Biller> {
    prop_oneof![
        6 => Just(Biller::Clinic),
        1 => Just(Biller::Locum),
        1 => Just(Biller::Stranger)
    ]
}

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Step;

    /// A fresh patient, with a random part of the usual starting point already done (a record,
    /// the clinic's treatment grant, the insurer's payment grant, the sponsor's research grant
    /// and invitation, a policy), so that short sequences reach claims and rewards.
    fn init_state() -> BoxedStrategy<Model> {
        prop::array::uniform6(prop::bool::weighted(0.6))
            .prop_map(|setup| {
                let mut model = Model::new();
                let steps = prologue();
                for (step, chosen) in steps.into_iter().zip(setup) {
                    if chosen {
                        model.step(&step).expect("the prologue succeeds");
                        model.prologue.push(step);
                    }
                }
                model
            })
            .boxed()
    }

    /// Weighted towards calls that can succeed from `state`: grants mostly for each party's
    /// natural purpose, claims once a policy exists, reward claims once enrolled.
    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let natural = |to: Party| match to {
            Party::Clinic | Party::Locum => 0,
            Party::Insurer => 1,
            Party::Sponsor => 2,
        };
        let purpose_for = move |to: Party| prop_oneof![4 => Just(natural(to)), 1 => 0usize..3];
        let grant = (who(), party())
            .prop_flat_map(move |(who, to)| {
                (
                    Just(who),
                    Just(to),
                    purpose_for(to),
                    1u16..16,
                    1u8..4,
                    1i64..20,
                )
            })
            .prop_map(|(who, to, purpose, classes, actions, days)| Step::Grant {
                who,
                to,
                purpose,
                classes,
                actions,
                days,
            });
        let update = (who(), party())
            .prop_flat_map(move |(who, to)| {
                (Just(who), Just(to), purpose_for(to), 1u16..16, 1i64..20)
            })
            .prop_map(|(who, to, purpose, classes, days)| Step::Update {
                who,
                to,
                purpose,
                classes,
                days,
            });
        let revoke = (who(), party())
            .prop_flat_map(move |(who, to)| (Just(who), Just(to), purpose_for(to)))
            .prop_map(|(who, to, purpose)| Step::Revoke { who, to, purpose });
        let close = party()
            .prop_flat_map(move |to| (Just(to), purpose_for(to)))
            .prop_map(|(to, purpose)| Step::Close { to, purpose });
        let access_purpose = prop_oneof![4 => Just(0usize), 1 => 0usize..3];
        let (policy, enrolled) = (state.policy.is_some(), state.enrolled.is_some());
        let claim = (
            biller(),
            any::<Index>(),
            1u16..5,
            1u64..600,
            prop::bool::weighted(0.3),
        )
            .prop_map(|(by, record, units, billed, stale_preview)| Step::Claim {
                by,
                record,
                units,
                billed,
                stale_preview,
            });
        prop_oneof![
            3 => (0u8..3).prop_map(|class| Step::Anchor { class }),
            1 => (any::<Index>(), prop::bool::weighted(0.3))
                .prop_map(|(record, stale)| Step::Amend { record, stale }),
            8 => grant,
            2 => update,
            2 => revoke,
            1 => who().prop_map(|who| Step::RevokeAll { who }),
            1 => close,
            1 => (0i64..3).prop_map(|days| Step::Guardian { days }),
            4 => (any::<Index>(), access_purpose, prop::bool::weighted(0.3), any::<bool>())
                .prop_map(|(record, purpose, write, strict)| Step::Access {
                    record, purpose, write, strict
                }),
            1 => any::<Index>().prop_map(|record| Step::AttackerAccess { record }),
            3 => (1i64..96).prop_map(|hours| Step::Advance { hours }),
            if policy { 1 } else { 3 } => Just(Step::OpenPolicy),
            1 => Just(Step::RuleUpdate),
            if policy { 5 } else { 1 } => claim,
            if state.invited { 1 } else { 3 } => Just(Step::Invite),
            if enrolled { 1 } else { 3 } => Just(Step::Enrol),
            1 => Just(Step::SybilEnrol),
            if enrolled { 4 } else { 1 } => Just(Step::RewardClaim),
            1 => Just(Step::EndParticipation),
            if enrolled { 3 } else { 1 } => (prop::bool::weighted(0.6), prop::bool::weighted(0.2))
                .prop_map(|(material, outcomes)| Step::ProtocolAmend { material, outcomes }),
            if state.enrolled.as_ref().is_some_and(|p| p.version < state.amendments) { 6 } else { 1 }
                => who().prop_map(|who| Step::Reconsent { who }),
        ]
        .boxed()
    }

    fn preconditions(state: &Model, step: &Step) -> bool {
        let has_records = !state.records.is_empty();
        match step {
            Step::Amend { .. } | Step::Access { .. } | Step::AttackerAccess { .. } => has_records,
            Step::Claim { .. } => has_records && state.policy.is_some(),
            Step::OpenPolicy => state.policy.is_none(),
            Step::RuleUpdate => state.policy.is_some(),
            _ => true,
        }
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        state.pre = None;
        let pre = Box::new(state.clone());
        let mut next = state.clone();
        let expect = next.step(step);
        // a refused call changes nothing
        let mut after = if expect.is_err() { state } else { next };
        after.expect = expect;
        after.pre = Some(pre);
        after
    }
}

/// What every sequence shares: the bank, providers, the mint, the insurer's tokens, the study.
struct World {
    env: Env,
    clinic: Keypair,
    locum: Keypair,
    stranger: Keypair,
    insurer: Keypair,
    sponsor: Keypair,
    mint: Pubkey,
    insurer_tokens: Pubkey,
    /// Each biller's token account.
    payees: BTreeMap<Biller, Pubkey>,
    study: StudyKeys,
    /// The study's protocol now (amendments in one sequence carry over to the next), its
    /// outcome commitments, and its version when the running sequence began.
    protocol: ix::ProtocolRef,
    commitments: ([u8; 32], [u8; 32]),
    base_version: u16,
    start: i64,
    policies: u64,
    sequences: u64,
    steps: u64,
    /// How often each kind of step ended each way (Ok, or an error code).
    outcomes: BTreeMap<(&'static str, Result<(), u32>), u64>,
}

thread_local! {
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Runtime::new().unwrap();
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|r| r.block_on(future))
}

/// Lamports for `wallet`: placed in the embedded bank, or airdropped by a localnet's faucet.
async fn give(env: &Env, wallet: &Pubkey, lamports: u64) {
    match env.client.transport().as_embedded() {
        Some(embedded) => {
            let funds = solana_account::Account {
                lamports,
                owner: solana_sdk_ids::system_program::ID,
                ..Default::default()
            };
            embedded.set_account(wallet, funds).await;
        }
        None => env
            .client
            .transport()
            .fund(wallet, lamports)
            .await
            .expect("airdrop"),
    }
}

fn world() -> World {
    block_on(async {
        let env = Env::new().await;
        env.set_invariant_checks(false); // checked per sequence, on its own accounts
        let clinic = env.verified_provider(ROLE_CLINICIAN).await;
        let locum = env.verified_provider(ROLE_CLINICIAN).await;
        let stranger = env.verified_provider(ROLE_CLINICIAN).await;
        let insurer = env.verified_provider(ROLE_INSURER).await;
        let sponsor = env.verified_provider(ROLE_RESEARCHER).await;
        let (mint, authority) = env.mint(0).await;
        let insurer_tokens = env.token_account(&mint, &insurer.pubkey()).await;
        env.mint_to(&mint, &authority, &insurer_tokens, u64::MAX / 4)
            .await;
        let mut payees = BTreeMap::new();
        for (b, k) in [
            (Biller::Clinic, &clinic),
            (Biller::Locum, &locum),
            (Biller::Stranger, &stranger),
        ] {
            payees.insert(b, env.token_account(&mint, &k.pubkey()).await);
        }
        // only the clinic is in the insurer's network
        env.send(
            ix::NetworkAdd {
                insurer: insurer.pubkey(),
                provider: clinic.pubkey(),
            }
            .instruction(),
            &[&insurer],
        )
        .await
        .expect("network");
        let sponsor_tokens = env.token_account(&mint, &sponsor.pubkey()).await;
        env.mint_to(&mint, &authority, &sponsor_tokens, 1 << 40)
            .await;
        // The clinic pays every claim's rent and the insurer every policy's, for 10,000 sequences.
        for payer in [&clinic, &insurer, &sponsor] {
            give(&env, &payer.pubkey(), 1_000_000 * 1_000_000_000).await;
        }
        // sequences start at a UTC midnight, so model days are the program's service days
        let start = service_day(env.now().await) + DAY;
        env.set_clock(start).await;
        let study = StudyKeys::new(&sponsor.pubkey(), 1, &mint);
        let args = StudyCreateArgs {
            study_id: 1,
            terms: RewardTerms {
                enrolment_reward: ENROL_REWARD,
                period_reward: PERIOD_REWARD,
                period_secs: DAY as u32,
                periods: PERIODS,
            },
            classes: STUDY_CLASSES,
            data_use_code: 0,
            enrol_start: start - DAY,
            enrol_end: start + 300 * DAY,
            max_participants: u32::MAX,
        };
        let fund = ix::StudyFund {
            funder: sponsor.pubkey(),
            keys: study,
            source: sponsor_tokens,
            amount: 1 << 40,
        }
        .instruction();
        env.send_all(
            &[ix::StudyCreate { keys: study, args }.instruction(), fund],
            &[&sponsor],
        )
        .await
        .expect("study");
        let (protocol, outcomes) =
            careledger_tests::register_protocol(&env, &sponsor, &study.study, u32::MAX).await;
        let commitments = (
            outcomes.primary.commitment(),
            outcomes.secondary.commitment(),
        );
        World {
            env,
            clinic,
            locum,
            stranger,
            insurer,
            sponsor,
            mint,
            insurer_tokens,
            payees,
            study,
            protocol,
            commitments,
            base_version: protocol.version,
            start,
            policies: 0,
            sequences: 0,
            steps: 0,
            outcomes: BTreeMap::new(),
        }
    })
}

/// One sequence's actors and the addresses its checks look at.
struct Sequence {
    patient: Keypair,
    guardian: Keypair,
    attacker: Keypair,
    policy: Option<PolicyKeys>,
    watched: Vec<Pubkey>,
}

impl Sequence {
    fn wallet(&self) -> Pubkey {
        self.patient.pubkey()
    }

    fn signer(&self, who: Who) -> &Keypair {
        match who {
            Who::Patient => &self.patient,
            Who::Guardian => &self.guardian,
            Who::Attacker => &self.attacker,
        }
    }

    fn watch(&mut self, address: Pubkey) {
        if !self.watched.contains(&address) {
            self.watched.push(address);
        }
    }
}

impl World {
    fn party(&self, p: Party) -> Pubkey {
        match p {
            Party::Clinic => self.clinic.pubkey(),
            Party::Insurer => self.insurer.pubkey(),
            Party::Sponsor => self.sponsor.pubkey(),
            Party::Locum => self.locum.pubkey(),
        }
    }

    fn biller(&self, b: Biller) -> &Keypair {
        match b {
            Biller::Clinic => &self.clinic,
            Biller::Locum => &self.locum,
            Biller::Stranger => &self.stranger,
        }
    }

    /// The first material version after the participant's, when their consent to the
    /// protocol went stale (what claims, ending and re-consent name).
    fn next_material(&self, model: &Model) -> Option<u16> {
        let (_, amendment) = model.enrolled.as_ref()?.stale?;
        Some(self.base_version + amendment)
    }

    /// The next amendment's document hash and outcome commitments (new ones when `outcomes`).
    fn amendment(&self, outcomes: bool) -> ([u8; 32], ([u8; 32], [u8; 32])) {
        let next = (self.protocol.version + 1).to_le_bytes();
        let mut document = [0x70; 32];
        document[..2].copy_from_slice(&next);
        let commitments = if outcomes {
            let (mut primary, mut secondary) = ([0x81; 32], [0x82; 32]);
            primary[..2].copy_from_slice(&next);
            secondary[..2].copy_from_slice(&next);
            (primary, secondary)
        } else {
            self.commitments
        };
        (document, commitments)
    }

    /// The call a step makes, with its signer.
    fn call(
        &mut self,
        s: &mut Sequence,
        model: &Model,
        step: &Step,
    ) -> (Vec<Instruction>, Keypair) {
        let wallet = s.wallet();
        let patient = s.patient.insecure_clone();
        let record = |i: &Index| pda::record(&wallet, i.index(model.records.len()) as u32).0;
        match step {
            Step::Anchor { class } => {
                let index = model.records.len() as u32;
                let args = RecordAnchorArgs {
                    cid: sample_cid(index as u8 + 1),
                    content_sha256: [index as u8 + 1; 32],
                    class: *class,
                };
                s.watch(pda::record(&wallet, index).0);
                let i = ix::RecordAnchor {
                    patient_wallet: wallet,
                    index,
                    author: Author::Patient,
                    args,
                }
                .instruction();
                (vec![i], patient)
            }
            Step::Amend { record: r, stale } => {
                let i = r.index(model.records.len());
                let version = model.records[i].version;
                let new = model.records.len() as u32;
                let args = RecordAmendArgs {
                    cid: sample_cid(new as u8 + 1),
                    content_sha256: [new as u8 + 1; 32],
                    expected_version: if *stale { version + 1 } else { version },
                };
                s.watch(pda::record(&wallet, new).0);
                let i = ix::RecordAmend {
                    patient_wallet: wallet,
                    previous_index: i as u32,
                    new_index: new,
                    author: Author::Patient,
                    args,
                }
                .instruction();
                (vec![i], patient)
            }
            Step::Grant {
                who,
                to,
                purpose,
                classes,
                actions,
                days,
            } => {
                let args = GrantCreateArgs {
                    purpose: PURPOSES[*purpose],
                    classes: *classes,
                    actions: *actions,
                    record_scope: NO_RECORD_SCOPE,
                    not_before: 0,
                    expires_at: self.start + model.now + days * DAY,
                };
                let signer = s.signer(*who).insecure_clone();
                // the old grant's rent goes back to whoever made it, as a wallet's server names
                let previous_payer = model
                    .grants
                    .get(&(*to, *purpose))
                    .map(|g| {
                        if g.by_guardian {
                            s.guardian.pubkey()
                        } else {
                            wallet
                        }
                    })
                    .filter(|payer| *payer != signer.pubkey());
                let i = ix::GrantCreate {
                    authority: signer.pubkey(),
                    patient_wallet: wallet,
                    grantee_wallet: self.party(*to),
                    args,
                }
                .renewing(previous_payer);
                (vec![i], signer)
            }
            Step::Update {
                who,
                to,
                purpose,
                classes,
                days,
            } => {
                let grant = pda::grant(&wallet, &self.party(*to), PURPOSES[*purpose]).0;
                let actions = model
                    .grants
                    .get(&(*to, *purpose))
                    .map_or(action::READ, |g| g.actions);
                let args = GrantUpdateArgs {
                    classes: *classes,
                    actions,
                    record_scope: NO_RECORD_SCOPE,
                    not_before: 0,
                    expires_at: self.start + model.now + days * DAY,
                };
                let signer = s.signer(*who).insecure_clone();
                let i = ix::GrantUpdate {
                    authority: signer.pubkey(),
                    patient_wallet: wallet,
                    grant,
                    args,
                }
                .instruction();
                (vec![i], signer)
            }
            Step::Revoke { who, to, purpose } => {
                let grant = pda::grant(&wallet, &self.party(*to), PURPOSES[*purpose]).0;
                let signer = s.signer(*who).insecure_clone();
                (
                    vec![ix::GrantRevoke {
                        authority: signer.pubkey(),
                        patient_wallet: wallet,
                        grant,
                    }
                    .instruction()],
                    signer,
                )
            }
            Step::RevokeAll { who } => {
                let signer = s.signer(*who).insecure_clone();
                (
                    vec![ix::GrantRevokeAll {
                        authority: signer.pubkey(),
                        patient_wallet: wallet,
                    }
                    .instruction()],
                    signer,
                )
            }
            Step::Close { to, purpose } => {
                let grant = pda::grant(&wallet, &self.party(*to), PURPOSES[*purpose]).0;
                // the rent goes back to whoever paid it (the program checks the grant's payer)
                let paid_by_guardian = model
                    .grants
                    .get(&(*to, *purpose))
                    .is_some_and(|g| g.by_guardian);
                let rent_to = if paid_by_guardian {
                    s.guardian.pubkey()
                } else {
                    wallet
                };
                (
                    vec![ix::GrantClose {
                        authority: wallet,
                        patient_wallet: wallet,
                        grant,
                        rent_to,
                    }
                    .instruction()],
                    patient,
                )
            }
            Step::Guardian { days } => {
                let guardian = s.guardian.pubkey();
                let until = self.start + model.now + days * DAY;
                let set = (*days > 0).then_some(&guardian);
                (
                    vec![ix::PatientSetGuardian {
                        wallet,
                        guardian: set.copied(),
                        expires_at: until,
                    }
                    .instruction()],
                    patient,
                )
            }
            Step::Access {
                record: r,
                purpose,
                write,
                strict,
            } => {
                let grant = pda::grant(&wallet, &self.clinic.pubkey(), PURPOSES[*purpose]).0;
                let args = AccessLogArgs {
                    action: if *write { action::WRITE } else { action::READ },
                    purpose: PURPOSES[*purpose],
                    strict: *strict,
                };
                let i = ix::AccessLog {
                    grantee: self.clinic.pubkey(),
                    patient_wallet: wallet,
                    grant,
                    record: record(r),
                    args,
                }
                .instruction();
                (vec![i], self.clinic.insecure_clone())
            }
            Step::AttackerAccess { record: r } => {
                let grant = pda::grant(&wallet, &self.clinic.pubkey(), Purpose::Treatment).0;
                let args = AccessLogArgs {
                    action: action::READ,
                    purpose: Purpose::Treatment,
                    strict: true,
                };
                let attacker = s.attacker.pubkey();
                let i = ix::AccessLog {
                    grantee: attacker,
                    patient_wallet: wallet,
                    grant,
                    record: record(r),
                    args,
                }
                .instruction();
                (vec![i], s.attacker.insecure_clone())
            }
            Step::Advance { .. } => (vec![], patient),
            Step::OpenPolicy => {
                self.policies += 1;
                let keys =
                    PolicyKeys::new(&self.insurer.pubkey(), self.policies, &wallet, &self.mint);
                let args = PolicyCreateArgs {
                    policy_id: self.policies,
                    coverage_start: self.start - 30 * DAY,
                    coverage_end: self.start + 300 * DAY,
                    benefit_cap: CAP,
                    deductible: DEDUCTIBLE,
                    network_only: true,
                };
                let terms = rule_terms(ALLOWED);
                let insurer = self.insurer.pubkey();
                let ixs = vec![
                    ix::PolicyCreate { keys, args }.instruction(),
                    ix::RuleAdd {
                        keys,
                        rule_key: RULE,
                        terms,
                    }
                    .instruction(),
                    ix::PolicyFund {
                        funder: insurer,
                        keys,
                        source: self.insurer_tokens,
                        amount: 10 * CAP,
                    }
                    .instruction(),
                ];
                s.watch(keys.policy);
                s.watch(keys.vault);
                s.watch(pda::rule(&keys.policy, &RULE).0);
                s.policy = Some(keys);
                (ixs, self.insurer.insecure_clone())
            }
            Step::RuleUpdate => {
                let keys = s.policy.unwrap();
                let allowed = other_allowed(model.policy.as_ref().unwrap().allowed);
                let terms = RuleTerms {
                    allowed_per_unit: allowed,
                    ..rule_terms(ALLOWED)
                };
                let i = ix::RuleUpdate {
                    keys,
                    rule_key: RULE,
                    terms,
                }
                .instruction();
                (vec![i], self.insurer.insecure_clone())
            }
            Step::Claim {
                by,
                record: r,
                units,
                billed,
                stale_preview,
            } => {
                let keys = s.policy.unwrap();
                // the terms the provider was shown: now, or before the last rule update
                let p = model.policy.as_ref().unwrap();
                let previewed = if *stale_preview {
                    p.allowed_before
                } else {
                    p.allowed
                };
                let args = ClaimSubmitArgs {
                    units: *units,
                    billed: *billed,
                    service_date: service_day(self.start + model.now),
                    document_commitment: [9; 32],
                    expected_terms: rule_terms(previewed),
                };
                let biller = self.biller(*by).insecure_clone();
                let address = pda::claim(&keys.policy, &biller.pubkey(), &RULE, args.service_date);
                s.watch(address.0);
                let care = ix::CareBasis::Grant(Purpose::Treatment);
                let payee = self.payees[by];
                let i = ix::ClaimSubmit {
                    provider: biller.pubkey(),
                    keys,
                    record: record(r),
                    rule_key: RULE,
                    payee,
                    care,
                    args,
                }
                .instruction();
                (vec![i], biller)
            }
            Step::Invite => {
                let until = self.start + model.now + INVITATION_DAYS * DAY;
                let i = ix::InvitationCreate {
                    inviter: self.sponsor.pubkey(),
                    keys: self.study,
                    patient_wallet: wallet,
                    expires_at: until,
                }
                .instruction();
                (vec![i], self.sponsor.insecure_clone())
            }
            Step::Enrol => (
                vec![ix::StudyEnroll {
                    authority: wallet,
                    patient_wallet: wallet,
                    keys: self.study,
                    protocol: self.protocol,
                }
                .instruction()],
                patient,
            ),
            Step::SybilEnrol => {
                // a fresh wallet, registered in the same transaction, never invited
                let sybil = s.attacker.pubkey();
                let until = self.start + model.now + 30 * DAY;
                let mut ixs = vec![ix::PatientRegister { wallet: sybil }.instruction()];
                ixs.extend(
                    ix::StudyEnrollWithGrant {
                        authority: sybil,
                        patient_wallet: sybil,
                        keys: self.study,
                        protocol: self.protocol,
                        classes: STUDY_CLASSES,
                        expires_at: until,
                    }
                    .instructions(),
                );
                (ixs, s.attacker.insecure_clone())
            }
            Step::EndParticipation => (
                vec![ix::ParticipationEnd {
                    caller: s.attacker.pubkey(),
                    patient_wallet: wallet,
                    keys: self.study,
                    next_material: self.next_material(model),
                }
                .instruction()],
                s.attacker.insecure_clone(),
            ),
            Step::RewardClaim => {
                let ata = pda::associated_token(&wallet, &self.mint);
                let i = ix::RewardClaim {
                    authority: wallet,
                    patient_wallet: wallet,
                    keys: self.study,
                    patient_tokens: ata,
                    next_material: self.next_material(model),
                }
                .instruction();
                (vec![i], patient)
            }
            Step::ProtocolAmend { material, outcomes } => {
                let (document_sha256, (primary, secondary)) = self.amendment(*outcomes);
                let i = ix::ProtocolAmend {
                    sponsor: self.sponsor.pubkey(),
                    study: self.study.study,
                    current: self.protocol.version,
                    args: careledger_sdk::ProtocolAmendArgs {
                        document_sha256,
                        document_cid: vec![],
                        primary_outcomes: primary,
                        secondary_outcomes: secondary,
                        reason_code: 1,
                        material: *material,
                    },
                }
                .instruction();
                (vec![i], self.sponsor.insecure_clone())
            }
            Step::Reconsent { who } => {
                use careledger_sdk::program::logic::{authority::Actor, statement};
                let signer = s.signer(*who).insecure_clone();
                let statement = statement::render_reconsent(&statement::ReconsentTerms {
                    study: self.study.study,
                    participation: pda::participation(&self.study.study, &wallet).0,
                    patient: wallet,
                    signer: signer.pubkey(),
                    actor: match who {
                        Who::Guardian => Actor::Guardian,
                        _ => Actor::Patient,
                    },
                    protocol_version: self.protocol.version,
                    document_sha256: self.protocol.document_sha256,
                });
                let signature: [u8; 64] = signer.sign_message(&statement).into();
                let ixs = ix::ParticipationReconsent {
                    authority: signer.pubkey(),
                    patient_wallet: wallet,
                    study: self.study.study,
                    sponsor: self.sponsor.pubkey(),
                    version: self.protocol.version,
                    next_material: self.next_material(model),
                    signed_message: statement,
                    signature,
                }
                .instructions();
                (ixs.to_vec(), signer)
            }
        }
    }
}

struct Sut;

impl StateMachineTest for Sut {
    type SystemUnderTest = Sequence;
    type Reference = Reference;

    fn init_test(initial: &Model) -> Sequence {
        WORLD.with(|w| {
            let mut slot = w.borrow_mut();
            let rebuilt = match slot.take() {
                None => world(),
                // the embedded bank's clock goes back to the start for every sequence
                Some(old) if old.env.client.transport().as_embedded().is_some() => {
                    block_on(old.env.set_clock(old.start));
                    old
                }
                // over JSON-RPC a clock only moves forward: every sequence gets a world on a
                // localnet of its own (the old one stops when dropped)
                Some(old) => World {
                    sequences: old.sequences,
                    steps: old.steps,
                    outcomes: old.outcomes,
                    ..world()
                },
            };
            let world = slot.insert(rebuilt);
            world.sequences += 1;
            let (patient, guardian, attacker) = (Keypair::new(), Keypair::new(), Keypair::new());
            block_on(async {
                for k in [&patient, &guardian, &attacker] {
                    give(&world.env, &k.pubkey(), 10_000_000_000).await;
                }
                world
                    .env
                    .send(
                        ix::PatientRegister {
                            wallet: patient.pubkey(),
                        }
                        .instruction(),
                        &[&patient],
                    )
                    .await
                    .expect("register");
            });
            world.base_version = world.protocol.version;
            let wallet = patient.pubkey();
            let attacker_wallet = attacker.pubkey();
            let mut watched = vec![
                pda::protocol(&world.study.study).0,
                pda::patient(&wallet).0,
                world.study.study,
                world.study.vault,
                pda::participation(&world.study.study, &wallet).0,
                pda::invitation(&world.study.study, &wallet).0,
                pda::patient(&attacker_wallet).0,
                pda::participation(&world.study.study, &attacker_wallet).0,
                pda::grant(&attacker_wallet, &world.sponsor.pubkey(), Purpose::Research).0,
                pda::network_membership(&world.insurer.pubkey(), &world.clinic.pubkey()).0,
            ];
            for p in PARTIES {
                for purpose in PURPOSES {
                    watched.push(pda::grant(&wallet, &world.party(p), purpose).0);
                }
            }
            let mut s = Sequence {
                patient,
                guardian,
                attacker,
                policy: None,
                watched,
            };
            // the chosen setup, through the same calls the steps make
            let mut model = Model::new();
            for step in &initial.prologue {
                let (ixs, signer) = world.call(&mut s, &model, step);
                block_on(world.env.send_all(&ixs, &[&signer])).expect("prologue");
                model.step(step).expect("prologue");
            }
            s
        })
    }

    fn apply(mut s: Sequence, model: &Model, step: Step) -> Sequence {
        WORLD.with(|w| {
            let mut slot = w.borrow_mut();
            let world = slot.as_mut().unwrap();
            world.steps += 1;
            // `model` is the state after the step; the call is built from the one before it,
            // which differs only where the step succeeded.
            let before_model = model.pre.as_deref().expect("model before the step").clone();
            if let Step::Advance { hours } = step {
                let at = world.start + before_model.now + hours * HOUR;
                block_on(world.env.set_clock(at));
                return s;
            }
            // the protocol's versions since the sequence began, and the next one
            for v in world.base_version..=world.protocol.version + 1 {
                s.watch(pda::protocol_version(&world.study.study, v).0);
            }
            let amended = match step {
                Step::ProtocolAmend { outcomes, .. } => Some(world.amendment(outcomes)),
                _ => None,
            };
            let (ixs, signer) = world.call(&mut s, &before_model, &step);
            let now = world.start + before_model.now;
            let outcome = block_on(async {
                let before = world.env.ledger_of(&s.watched).await;
                let result = world.env.send_all(&ixs, &[&signer]).await;
                let after = world.env.ledger_of(&s.watched).await;
                let keys = [signer.pubkey(), world.env.client.payer()];
                let facts = TxFacts {
                    succeeded: result.is_ok(),
                    signers: &keys,
                    now,
                    only_careledger: true,
                };
                let violations = invariants::check(&before, &after, &facts);
                assert!(violations.is_empty(), "{step:?}: {violations:?}");
                compare(world, &s, model, &after);
                result
                    .map(|_| ())
                    .map_err(|e| e.custom_code().unwrap_or(u32::MAX))
            });
            assert_eq!(outcome, model.expect, "{step:?} in {before_model:?}");
            if let (Some((document_sha256, commitments)), Ok(())) = (amended, outcome) {
                world.protocol = ix::ProtocolRef {
                    version: world.protocol.version + 1,
                    document_sha256,
                };
                world.commitments = commitments;
            }
            *world.outcomes.entry((step.kind(), outcome)).or_default() += 1;
            s
        })
    }
}

/// The ledger agrees with the model on everything the model tracks.
fn compare(world: &World, s: &Sequence, model: &Model, after: &Ledger) {
    let wallet = s.wallet();
    let Some(Decoded::Patient(p)) = after.ours.get(&pda::patient(&wallet).0) else {
        panic!("patient missing");
    };
    assert_eq!(p.consent_epoch, model.epoch);
    assert_eq!(p.record_count as usize, model.records.len());
    for party in PARTIES {
        for (i, purpose) in PURPOSES.iter().enumerate() {
            let address = pda::grant(&wallet, &world.party(party), *purpose).0;
            let stored = match after.ours.get(&address) {
                Some(Decoded::Grant(g)) => Some(g),
                _ => None,
            };
            let modelled = model.grants.get(&(party, i));
            assert_eq!(
                stored.is_some(),
                modelled.is_some(),
                "grant {party:?} {purpose:?}"
            );
            if let (Some(g), Some(m)) = (stored, modelled) {
                let revoked = g.status == careledger_sdk::GrantStatus::Revoked;
                assert_eq!(
                    (revoked, g.classes, g.actions, g.consent_epoch),
                    (m.revoked, m.classes, m.actions, m.epoch)
                );
                assert_eq!(g.expires_at, world.start + m.expires_at);
            }
        }
    }
    if let Some(keys) = &s.policy {
        if let Some(Decoded::Policy(p)) = after.ours.get(&keys.policy) {
            assert_eq!(p.paid, model.policy.as_ref().map_or(0, |m| m.paid));
        }
    }
    let participation = pda::participation(&world.study.study, &wallet).0;
    let stored = match after.ours.get(&participation) {
        Some(Decoded::Participation(p)) => Some((p.periods_paid, p.ended, p.protocol_version)),
        _ => None,
    };
    let modelled = model
        .enrolled
        .as_ref()
        .map(|p| (p.paid, p.ended, world.base_version + p.version));
    assert_eq!(stored, modelled, "participation");
    let invitation = pda::invitation(&world.study.study, &wallet).0;
    assert_eq!(after.ours.contains_key(&invitation), model.invited);
}

fn sequences() -> u32 {
    std::env::var("CARELEDGER_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

// Two halves, so that the two test threads each run one on their own bank.
#[test]
fn random_sequences_match_the_model_and_keep_every_invariant_a() {
    run("a", sequences() / 2);
}

#[test]
fn random_sequences_match_the_model_and_keep_every_invariant_b() {
    run("b", sequences() - sequences() / 2);
}

/// Runs `cases` sequences and writes what happened to `target/reports/state_machine_{half}.txt`
/// (CI prints it).
fn run(half: &str, cases: u32) {
    if block_on(skip_unless_own_cluster(
        "starts every sequence at the same time of day",
    )) {
        return;
    }
    // over JSON-RPC (every sequence on a localnet of its own) the report is kept apart
    let half = match std::env::var_os(careledger_tests::RPC_URL_VAR) {
        Some(_) => format!("{half}-rpc"),
        None => half.to_string(),
    };
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    };
    let started = Instant::now();
    let checks_before = invariants::checks_run();
    let mut runner = TestRunner::new(config.clone());
    let result = runner.run(
        &Reference::sequential_strategy(1..20),
        |(initial, transitions, seen)| {
            Sut::test_sequential(config.clone(), initial, transitions, seen);
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let mut report = String::new();
    let (sequences, steps) = WORLD.with(|w| {
        let w = w.borrow();
        let w = w.as_ref().unwrap();
        for ((kind, outcome), n) in &w.outcomes {
            let outcome = match outcome {
                Ok(()) => "ok".to_string(),
                Err(c) => careledger_sdk::error::program_error_from_code(*c)
                    .map_or(format!("error {c}"), |e| format!("{e:?}")),
            };
            report.push_str(&format!("  {kind:>16} {outcome:<28} {n}\n"));
        }
        (w.sequences, w.steps)
    });
    let summary = format!(
        "state machine ({half}): {} sequences passed ({sequences} run, {steps} steps), {} invariant checks, in {:.1} s\n",
        config.cases,
        invariants::checks_run() - checks_before,
        started.elapsed().as_secs_f64()
    );
    print!("{summary}{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/reports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("state_machine_{half}.txt")),
        summary + &report,
    )
    .unwrap();
}
