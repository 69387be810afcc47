//! Research rewards, offline: what a participation is owed now (the program's own functions) and
//! a patient's summary across studies.
use careledger::logic::rewards::{participation_lapse, EpochFacts};
use careledger::state::{ConsentGrant, Participation, Patient, Study};
use solana_pubkey::Pubkey;

pub use careledger::logic::rewards::{periods_due, Lapse, Owed};

/// What `reward_claim` would pay now, paused or not. `grant` is the account at the
/// participation's grant address (`None` if it no longer exists); `patient` the patient now.
pub fn owed(
    participation: &Participation,
    study: &Study,
    grant: Option<&ConsentGrant>,
    patient: &Patient,
    now: i64,
) -> Owed {
    let lapse = participation_lapse(
        participation,
        grant,
        study.classes,
        EpochFacts::of(patient),
        now,
    );
    careledger::logic::rewards::owed(
        &study.terms,
        participation.enrolled_at,
        participation.periods_paid,
        lapse.map(|l| l.at),
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
    /// Collectable now with `reward_claim` (0 while the program is paused).
    pub claimable: u64,
    /// Due but not collectable because the program is paused; collectable once it resumes.
    pub held_while_paused: u64,
    /// Still to come if consent stays live: periods neither paid nor yet due.
    pub upcoming: u64,
    pub consent_live: bool,
}

/// `paused` is the program's `Config::paused` now.
pub fn summary_line(
    participation_address: Pubkey,
    participation: &Participation,
    study: &Study,
    grant: Option<&ConsentGrant>,
    patient: &Patient,
    paused: bool,
    now: i64,
) -> RewardLine {
    let lapse = participation_lapse(
        participation,
        grant,
        study.classes,
        EpochFacts::of(patient),
        now,
    );
    let consent_live = lapse.is_none();
    let due = owed(participation, study, grant, patient, now);
    let not_yet_due = study
        .terms
        .periods
        .saturating_sub(participation.periods_paid)
        .saturating_sub(due.periods);
    let (claimable, held_while_paused) = if paused {
        (0, due.amount)
    } else {
        (due.amount, 0)
    };
    RewardLine {
        study: participation.study,
        participation: participation_address,
        paid: participation.paid,
        claimable,
        held_while_paused,
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
