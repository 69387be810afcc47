//! Research rewards, offline: what a participation is owed now (the program's own function) and
//! a patient's summary across studies.
use careledger::logic::rewards::check_research_grant;
use careledger::state::{ConsentGrant, Participation, Study};
use solana_pubkey::Pubkey;

pub use careledger::logic::rewards::{periods_due, Owed};

/// What `reward_claim` would pay now. `grant` is the participation's research grant, `None` if
/// it no longer exists; `patient_epoch` the patient's current consent epoch.
pub fn owed(
    participation: &Participation,
    study: &Study,
    grant: Option<&ConsentGrant>,
    patient_epoch: u32,
    now: i64,
) -> Owed {
    let consent = match grant {
        Some(g) => check_research_grant(g, study.classes, patient_epoch, now),
        None => Err(careledger::logic::consent::Refusal::Revoked),
    };
    careledger::logic::rewards::owed(
        &study.terms,
        participation.enrolled_at,
        participation.periods_paid,
        participation.ended,
        consent,
        now,
    )
}

/// One line of a patient's rewards summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardLine {
    pub study: Pubkey,
    pub participation: Pubkey,
    /// Everything received so far, enrolment reward included.
    pub paid: u64,
    /// Collectable now with `reward_claim`.
    pub claimable: u64,
    /// Still to come if consent stays live: periods neither paid nor yet due.
    pub upcoming: u64,
    pub consent_live: bool,
}

pub fn summary_line(
    participation_address: Pubkey,
    participation: &Participation,
    study: &Study,
    grant: Option<&ConsentGrant>,
    patient_epoch: u32,
    now: i64,
) -> RewardLine {
    let consent_live = grant
        .is_some_and(|g| check_research_grant(g, study.classes, patient_epoch, now).is_ok())
        && !participation.ended;
    let due = owed(participation, study, grant, patient_epoch, now);
    let not_yet_due = study
        .terms
        .periods
        .saturating_sub(participation.periods_paid)
        .saturating_sub(due.periods);
    RewardLine {
        study: participation.study,
        participation: participation_address,
        paid: participation.paid,
        claimable: due.amount,
        upcoming: if consent_live {
            study
                .terms
                .period_reward
                .saturating_mul(u64::from(not_yet_due))
        } else {
            0
        },
        consent_live,
    }
}
