//! Research rewards: whether a research grant is live consent for a study, and what a
//! participation is owed at a time. Program and SDK call these same functions.
use crate::constants::NO_RECORD_SCOPE;
use crate::logic::consent::{action, check_grant, AccessQuery, Refusal};
use crate::state::{ConsentGrant, GrantStatus, Participation, Patient, Purpose, RewardTerms};

/// The grant's consent rule (revoked, epoch, validity window, purpose research, read) for the
/// lowest required class, then coverage of every class the study requires, for all records.
pub fn check_research_grant(
    grant: &ConsentGrant,
    study_classes: u16,
    patient_epoch: u32,
    now: i64,
) -> Result<(), Refusal> {
    let query = AccessQuery {
        action: action::READ,
        purpose: Purpose::Research,
        // trailing_zeros of a u16 is at most 16
        record_class: u8::try_from(study_classes.trailing_zeros()).unwrap_or(u8::MAX),
        record_index: NO_RECORD_SCOPE,
        now,
        patient_epoch,
    };
    check_grant(grant, &query)?;
    if grant.classes & study_classes != study_classes {
        return Err(Refusal::ClassNotGranted);
    }
    Ok(())
}

/// Reward periods whose end has passed at `now`, at most the study's number of periods.
pub fn periods_due(terms: &RewardTerms, enrolled_at: i64, now: i64) -> u16 {
    if terms.period_secs == 0 || now <= enrolled_at {
        return 0;
    }
    // now > enrolled_at and period_secs > 0 were checked above
    let elapsed = now
        .saturating_sub(enrolled_at)
        .checked_div(i64::from(terms.period_secs))
        .unwrap_or(0);
    u16::try_from(elapsed.min(i64::from(terms.periods))).unwrap_or(terms.periods)
}

/// When and why the consent behind a participation stopped being continuously live since
/// enrolment. `reason` is `None` when the grant account is gone (closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lapse {
    pub at: i64,
    pub reason: Option<Refusal>,
}

/// What the program knows of the patient's consent history: the current epoch and when
/// `grant_revoke_all` last moved it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochFacts {
    pub epoch: u32,
    pub changed_at: i64,
}

impl EpochFacts {
    pub fn of(patient: &Patient) -> Self {
        EpochFacts {
            epoch: patient.consent_epoch,
            changed_at: patient.epoch_changed_at,
        }
    }
}

/// The first moment after `enrolled_at` at which the research grant stopped consenting, or
/// `None` while it still does at `now`. `grant` is what lives at the participation's grant
/// address; `grant_serial` is the serial recorded at enrolment. Every way consent can end leaves a
/// time on chain: revocation (`revoked_at`), expiry (`expires_at`, and an expired grant cannot be
/// extended), `grant_revoke_all` (the patient's `epoch_changed_at`), and narrowing (`narrowed_at`;
/// a grant narrowed before enrolment cannot be enrolled with). A grant closed, or closed and made
/// again, has lost its history: accrual is taken to end at enrolment, so nothing is paid for a
/// time the program cannot show was consented.
pub fn consent_lapse(
    grant: Option<&ConsentGrant>,
    grant_serial: u32,
    study_classes: u16,
    epoch: EpochFacts,
    enrolled_at: i64,
    now: i64,
) -> Option<Lapse> {
    let lapse = |at: i64, reason| Lapse {
        at: at.max(enrolled_at),
        reason,
    };
    let Some(g) = grant else {
        return Some(lapse(enrolled_at, None));
    };
    if g.serial != grant_serial {
        return Some(lapse(enrolled_at, Some(Refusal::Replaced)));
    }
    let mut first = (g.expires_at, Refusal::Expired);
    let mut earlier = |at: i64, why: Refusal| {
        if at < first.0 {
            first = (at, why);
        }
    };
    if g.status == GrantStatus::Revoked {
        earlier(i64::from(g.revoked_at), Refusal::Revoked);
    }
    if g.consent_epoch != epoch.epoch {
        // Only the first epoch change after the grant voided it; when several followed, the time
        // of the first is not kept, so accrual is taken to end at enrolment.
        let next = g.consent_epoch.checked_add(1) == Some(epoch.epoch);
        let at = if next { epoch.changed_at } else { enrolled_at };
        earlier(at, Refusal::StaleEpoch);
    }
    if g.narrowed_at != 0 {
        earlier(i64::from(g.narrowed_at), Refusal::Narrowed);
    }
    if first.0 <= now {
        return Some(lapse(first.0, Some(first.1)));
    }
    // No recorded end has come; the grant must still consent now (nothing else can change it).
    match check_research_grant(g, study_classes, epoch.epoch, now) {
        Ok(()) => None,
        Err(refusal) => Some(lapse(enrolled_at, Some(refusal))),
    }
}

/// When the consent behind a participation lapsed, `None` while it is live: recorded on the
/// participation once it has ended, else read from `grant` (the account at its grant address)
/// and the patient's epoch.
pub fn participation_lapse(
    p: &Participation,
    grant: Option<&ConsentGrant>,
    study_classes: u16,
    epoch: EpochFacts,
    now: i64,
) -> Option<Lapse> {
    if p.ended {
        return Some(Lapse {
            at: p.accrual_end,
            reason: None,
        });
    }
    consent_lapse(
        grant,
        p.grant_serial,
        study_classes,
        epoch,
        p.enrolled_at,
        now,
    )
}

/// What a participation is owed now: the due periods not yet paid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owed {
    /// The first unpaid period (1-based) through `through` are owed.
    pub through: u16,
    pub periods: u16,
    pub amount: u64,
}

/// Periods accrue from enrolment until consent lapsed (`accrual_end`, `None` while live) or
/// `now`, whichever is first. Periods that came due before a lapse stay owed after it.
pub fn owed(
    terms: &RewardTerms,
    enrolled_at: i64,
    periods_paid: u16,
    accrual_end: Option<i64>,
    now: i64,
) -> Owed {
    let until = accrual_end.map_or(now, |end| end.min(now));
    let due = periods_due(terms, enrolled_at, until);
    let periods = due.saturating_sub(periods_paid);
    Owed {
        through: due.max(periods_paid),
        periods,
        // at most periods x period_reward, checked to fit in u64 when the study was created
        amount: terms.period_reward.saturating_mul(u64::from(periods)),
    }
}

/// What ending a participation whose consent lapsed at `lapse_at` releases from the study's
/// reservation: the periods that had not come due by then. Those that had stay reserved.
pub fn released_at_end(
    terms: &RewardTerms,
    enrolled_at: i64,
    periods_paid: u16,
    lapse_at: i64,
) -> u64 {
    let kept = periods_due(terms, enrolled_at, lapse_at).max(periods_paid);
    let unpaid = terms.periods.saturating_sub(kept);
    terms.period_reward.saturating_mul(u64::from(unpaid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::SECONDS_PER_DAY as DAY;
    use crate::state::ReviewState;

    fn terms() -> RewardTerms {
        RewardTerms {
            enrolment_reward: 10,
            period_reward: 5,
            period_secs: DAY as u32,
            periods: 3,
        }
    }

    fn grant(classes: u16) -> ConsentGrant {
        ConsentGrant {
            patient: Default::default(),
            grantee: Default::default(),
            classes,
            actions: action::READ,
            purpose: Purpose::Research,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: 0,
            consent_epoch: 2,
            record_scope: NO_RECORD_SCOPE,
            access_count: 0,
            not_before: 0,
            expires_at: 100 * DAY,
            created_at: 0,
            revoked_at: 0,
            serial: 7,
            narrowed_at: 0,
            payer: Default::default(),
            statement_hash: [0; 32],
        }
    }

    #[test]
    fn research_grant_must_cover_every_class_and_be_live() {
        assert_eq!(check_research_grant(&grant(0b111), 0b101, 2, DAY), Ok(()));
        assert_eq!(
            check_research_grant(&grant(0b001), 0b101, 2, DAY),
            Err(Refusal::ClassNotGranted)
        );
        assert_eq!(
            check_research_grant(&grant(0b101), 0b101, 3, DAY),
            Err(Refusal::StaleEpoch)
        );
        assert_eq!(
            check_research_grant(&grant(0b101), 0b101, 2, 100 * DAY),
            Err(Refusal::Expired)
        );
        let mut scoped = grant(0b101);
        scoped.record_scope = 4;
        assert_eq!(
            check_research_grant(&scoped, 0b101, 2, DAY),
            Err(Refusal::RecordOutOfScope)
        );
        let mut treatment = grant(0b101);
        treatment.purpose = Purpose::Treatment;
        assert_eq!(
            check_research_grant(&treatment, 0b101, 2, DAY),
            Err(Refusal::PurposeMismatch)
        );
    }

    #[test]
    fn periods_accrue_until_the_lapse_and_stay_owed_after_it() {
        let t = terms();
        assert_eq!(owed(&t, 0, 0, None, DAY - 1).periods, 0);
        let o = owed(&t, 0, 0, None, 2 * DAY);
        assert_eq!((o.periods, o.amount, o.through), (2, 10, 2));
        let o = owed(&t, 0, 2, None, 30 * DAY);
        assert_eq!((o.periods, o.amount, o.through), (1, 5, 3));
        assert_eq!(owed(&t, 0, 3, None, 30 * DAY).periods, 0);
        // consent lapsed during day 2: one period came due before, and stays owed
        let o = owed(&t, 0, 0, Some(DAY + 5), 30 * DAY);
        assert_eq!((o.periods, o.through), (1, 1));
        assert_eq!(released_at_end(&t, 0, 0, DAY + 5), 10);
        assert_eq!(released_at_end(&t, 0, 3, DAY + 5), 0);
    }

    const LIVE: EpochFacts = EpochFacts {
        epoch: 2,
        changed_at: 0,
    };

    #[test]
    fn every_break_in_consent_ends_accrual_when_it_happened() {
        let g = grant(0b1);
        assert_eq!(consent_lapse(Some(&g), 7, 0b1, LIVE, DAY, 5 * DAY), None);
        let at = |lapse: Option<Lapse>| lapse.map(|l| (l.at, l.reason));
        // expired (and never extended, since an expired grant cannot be updated)
        assert_eq!(
            at(consent_lapse(Some(&g), 7, 0b1, LIVE, DAY, 200 * DAY)),
            Some((100 * DAY, Some(Refusal::Expired)))
        );
        let mut revoked = g.clone();
        revoked.status = GrantStatus::Revoked;
        revoked.revoked_at = 3 * DAY as u32;
        assert_eq!(
            at(consent_lapse(Some(&revoked), 7, 0b1, LIVE, DAY, 50 * DAY)),
            Some((3 * DAY, Some(Refusal::Revoked)))
        );
        // narrowed, even if the class came back later
        let mut narrowed = g.clone();
        narrowed.narrowed_at = 4 * DAY as u32;
        assert_eq!(
            at(consent_lapse(Some(&narrowed), 7, 0b1, LIVE, DAY, 50 * DAY)),
            Some((4 * DAY, Some(Refusal::Narrowed)))
        );
        // revoke-all: the first epoch change counts; after two, the time is unknown
        let once = EpochFacts {
            epoch: 3,
            changed_at: 6 * DAY,
        };
        assert_eq!(
            at(consent_lapse(Some(&g), 7, 0b1, once, DAY, 50 * DAY)),
            Some((6 * DAY, Some(Refusal::StaleEpoch)))
        );
        let twice = EpochFacts {
            epoch: 4,
            changed_at: 9 * DAY,
        };
        assert_eq!(
            at(consent_lapse(Some(&g), 7, 0b1, twice, DAY, 50 * DAY)),
            Some((DAY, Some(Refusal::StaleEpoch)))
        );
        // the earliest of several ends wins
        let mut both = revoked.clone();
        both.narrowed_at = 2 * DAY as u32;
        assert_eq!(
            at(consent_lapse(Some(&both), 7, 0b1, LIVE, DAY, 50 * DAY)),
            Some((2 * DAY, Some(Refusal::Narrowed)))
        );
        // a closed grant, or one made again, is not the consent the participant enrolled with
        assert_eq!(
            at(consent_lapse(None, 7, 0b1, LIVE, DAY, 50 * DAY)),
            Some((DAY, None))
        );
        assert_eq!(
            at(consent_lapse(Some(&g), 8, 0b1, LIVE, DAY, 50 * DAY)),
            Some((DAY, Some(Refusal::Replaced)))
        );
        // a revocation not yet reached by `now` is not a lapse yet... it cannot be in the
        // future on chain, but the expiry can: live until then
        assert_eq!(consent_lapse(Some(&g), 7, 0b1, LIVE, DAY, 99 * DAY), None);
    }
}
