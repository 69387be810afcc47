//! Research rewards: whether a research grant is live consent for a study, and what a
//! participation is owed at a time. Program and SDK call these same functions.
use crate::constants::NO_RECORD_SCOPE;
use crate::logic::consent::{action, check_grant, AccessQuery, Refusal};
use crate::state::{ConsentGrant, Purpose, RewardTerms};

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

/// What a participation is owed now: the due periods not yet paid, while consent is live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owed {
    /// The first unpaid period (1-based) through `through` are owed.
    pub through: u16,
    pub periods: u16,
    pub amount: u64,
}

/// `consent` is the result of `check_research_grant` now. A withdrawn consent owes nothing more;
/// what was paid stays paid.
pub fn owed(
    terms: &RewardTerms,
    enrolled_at: i64,
    periods_paid: u16,
    ended: bool,
    consent: Result<(), Refusal>,
    now: i64,
) -> Owed {
    if ended || consent.is_err() {
        return Owed::default();
    }
    let due = periods_due(terms, enrolled_at, now);
    let periods = due.saturating_sub(periods_paid);
    Owed {
        through: due.max(periods_paid),
        periods,
        // at most periods x period_reward, checked to fit in u64 when the study was created
        amount: terms.period_reward.saturating_mul(u64::from(periods)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{GrantStatus, ReviewState};

    const DAY: i64 = 86_400;

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
    fn periods_accrue_and_stop_with_consent() {
        let t = terms();
        assert_eq!(owed(&t, 0, 0, false, Ok(()), DAY - 1).periods, 0);
        let o = owed(&t, 0, 0, false, Ok(()), 2 * DAY);
        assert_eq!((o.periods, o.amount, o.through), (2, 10, 2));
        let o = owed(&t, 0, 2, false, Ok(()), 30 * DAY);
        assert_eq!((o.periods, o.amount, o.through), (1, 5, 3));
        assert_eq!(owed(&t, 0, 3, false, Ok(()), 30 * DAY).periods, 0);
        assert_eq!(
            owed(&t, 0, 0, false, Err(Refusal::Revoked), 30 * DAY),
            Owed::default()
        );
        assert_eq!(owed(&t, 0, 0, true, Ok(()), 30 * DAY), Owed::default());
    }
}
