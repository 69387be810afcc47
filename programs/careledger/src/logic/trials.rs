//! Clinical-trial integrity: a registered protocol, its versions, pre-specified outcomes kept
//! as commitments, and the rules that tie a participant's consent and rewards to a version.
//! Pure functions shared by the program, the SDK and the services.
use crate::constants::{OUTCOMES_SWITCHED_PRIMARY, OUTCOMES_SWITCHED_SECONDARY, REGISTRY_ID_LEN};
use crate::errors::CareledgerError;
use crate::logic::rewards::periods_due;
use crate::state::{ProtocolVersion, RewardTerms};
use solana_sha256_hasher::hashv;

type Check = std::result::Result<(), CareledgerError>;

/// Domain separation of an outcome set's commitment.
pub const OUTCOME_SET_DOMAIN: &[u8] = b"careledger/outcome-set/v1";

/// A registry identifier: 1 to `REGISTRY_ID_LEN` bytes of `A`-`Z`, `0`-`9` and `-`, then zero
/// padding, nothing after the padding starts ("NCT01234567", "2023-501234-12-00",
/// "ISRCTN12345678", "ACTRN12612000123456"). A fixed alphabet keeps free text off chain.
pub fn validate_registry_id(id: &[u8; REGISTRY_ID_LEN as usize]) -> Check {
    let used = id.iter().position(|b| *b == 0).unwrap_or(id.len());
    let (text, padding) = id.split_at(used);
    let allowed = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'-';
    if text.is_empty() || !text.iter().all(allowed) || padding.iter().any(|b| *b != 0) {
        return Err(CareledgerError::InvalidRegistryId);
    }
    Ok(())
}

/// The commitment to an outcome set: SHA-256 of the domain, a 32-byte salt the sponsor keeps,
/// the number of outcomes and each outcome's 32-byte hash, in the order listed. Without the
/// salt nobody can test a guessed outcome list against it; revealed, it proves the set.
pub fn outcome_commitment(salt: &[u8; 32], outcomes: &[[u8; 32]]) -> [u8; 32] {
    // at most MAX_SECONDARY_OUTCOMES (8) outcomes: the count fits a byte
    let count = [u8::try_from(outcomes.len()).unwrap_or(u8::MAX)];
    let mut parts: Vec<&[u8]> = Vec::with_capacity(outcomes.len().saturating_add(3));
    parts.push(OUTCOME_SET_DOMAIN);
    parts.push(salt);
    parts.push(&count);
    for outcome in outcomes {
        parts.push(outcome);
    }
    hashv(&parts).to_bytes()
}

/// Whether two outcome lists name the same outcomes, whatever their order.
pub fn same_outcomes(a: &[[u8; 32]], b: &[[u8; 32]]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// The switch flags of a results record: which reported outcome sets are not the
/// pre-specified ones (`OUTCOMES_SWITCHED_*`).
pub fn switched(
    registered_primary: &[[u8; 32]],
    reported_primary: &[[u8; 32]],
    registered_secondary: &[[u8; 32]],
    reported_secondary: &[[u8; 32]],
) -> u8 {
    let mut flags = 0;
    if !same_outcomes(registered_primary, reported_primary) {
        flags |= OUTCOMES_SWITCHED_PRIMARY;
    }
    if !same_outcomes(registered_secondary, reported_secondary) {
        flags |= OUTCOMES_SWITCHED_SECONDARY;
    }
    flags
}

/// An amendment is material when the sponsor says so, and always when it changes an outcome
/// set: participants then consent again before they accrue anything more.
/// `current` and `new` are the (primary, secondary) outcome commitments.
pub fn amendment_is_material(
    marked: bool,
    current: ([u8; 32], [u8; 32]),
    new: ([u8; 32], [u8; 32]),
) -> bool {
    marked || current != new
}

/// A material protocol version as the stale rule reads it (from its `ProtocolVersion`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaterialVersion {
    pub version: u16,
    pub material: bool,
    /// The newest material version before this one (0 for the registration).
    pub previous_material: u16,
    pub registered_at: i64,
}

impl ProtocolVersion {
    /// What the stale rule reads of this version.
    pub fn as_material(&self) -> MaterialVersion {
        MaterialVersion {
            version: self.version,
            material: self.material,
            previous_material: self.previous_material,
            registered_at: self.registered_at,
        }
    }
}

/// Since when a participant who consented to `consented_version` accrues nothing: the
/// registration of the first material version after theirs, when the protocol's newest
/// material version (`newest_material`) is later than theirs. That first one is `next`, named
/// by the caller and checked here: material, later than theirs, and with no material version
/// between (its `previous_material` is at most theirs). A later material version's time would
/// let the periods between the two accrue under a protocol they never saw.
pub fn stale_since(
    consented_version: u16,
    newest_material: u16,
    next: Option<MaterialVersion>,
) -> std::result::Result<Option<i64>, CareledgerError> {
    if consented_version >= newest_material {
        return Ok(None);
    }
    match next {
        Some(v)
            if v.material
                && v.previous_material <= consented_version
                && consented_version < v.version =>
        {
            Ok(Some(v.registered_at))
        }
        _ => Err(CareledgerError::NextMaterialVersionRequired),
    }
}

/// When accrual ends for a participant: the earlier of the consent's lapse and the moment
/// their protocol consent became stale (`None`: it runs).
pub fn accrual_end(lapse: Option<i64>, stale: Option<i64>) -> Option<i64> {
    match (lapse, stale) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What consenting again at `now` settles for a participant whose protocol consent became
/// stale at `stale_at`: the periods that came due while it was stale can never be earned, so
/// they are forfeited and their escrow released; the periods due before it must be collected
/// first (`CollectDueFirst`), so that skipping the stale ones skips nothing owed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconsent {
    pub forfeited: u16,
    /// The participation's `periods_paid` after it (paid or forfeited).
    pub periods_settled: u16,
    /// Base units released from the study's reservations.
    pub released: u64,
}

pub fn reconsent_settlement(
    terms: &RewardTerms,
    enrolled_at: i64,
    periods_paid: u16,
    stale_at: Option<i64>,
    now: i64,
) -> std::result::Result<Reconsent, CareledgerError> {
    let Some(stale_at) = stale_at else {
        return Ok(Reconsent {
            forfeited: 0,
            periods_settled: periods_paid,
            released: 0,
        });
    };
    if periods_paid < periods_due(terms, enrolled_at, stale_at) {
        return Err(CareledgerError::CollectDueFirst);
    }
    let forfeited = periods_due(terms, enrolled_at, now).saturating_sub(periods_paid);
    Ok(Reconsent {
        forfeited,
        periods_settled: periods_paid.saturating_add(forfeited),
        released: terms.period_reward.saturating_mul(u64::from(forfeited)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_since_is_the_first_material_version_after_the_participants() {
        // v1 material (t=10), v2 not (t=20), v3 material (t=30), v4 material (t=40)
        let v = |version, material, previous_material, registered_at| MaterialVersion {
            version,
            material,
            previous_material,
            registered_at,
        };
        let (v2, v3, v4) = (v(2, false, 1, 20), v(3, true, 1, 30), v(4, true, 3, 40));
        assert_eq!(stale_since(4, 4, None), Ok(None));
        assert_eq!(stale_since(3, 3, Some(v4)), Ok(None));
        // consented to v1 or v2: stale since v3, not since the newest (v4)
        assert_eq!(stale_since(1, 4, Some(v3)), Ok(Some(30)));
        assert_eq!(stale_since(2, 4, Some(v3)), Ok(Some(30)));
        assert_eq!(stale_since(3, 4, Some(v4)), Ok(Some(40)));
        for (consented, wrong) in [(1, Some(v4)), (1, Some(v2)), (1, None), (4, Some(v4))] {
            let newest = 4;
            if consented < newest {
                assert_eq!(
                    stale_since(consented, newest, wrong),
                    Err(CareledgerError::NextMaterialVersionRequired),
                    "{consented} {wrong:?}"
                );
            }
        }
        // a legacy participation (version 0) is stale from the registration
        assert_eq!(stale_since(0, 1, Some(v(1, true, 0, 10))), Ok(Some(10)));
    }

    fn id(text: &str) -> [u8; REGISTRY_ID_LEN as usize] {
        let mut out = [0u8; REGISTRY_ID_LEN as usize];
        out[..text.len()].copy_from_slice(text.as_bytes());
        out
    }

    #[test]
    fn registry_ids_are_a_fixed_alphabet_never_free_text() {
        for ok in [
            "NCT01234567",
            "2023-501234-12-00",
            "ISRCTN12345678",
            "ACTRN12612000123456",
        ] {
            assert_eq!(validate_registry_id(&id(ok)), Ok(()), "{ok}");
        }
        assert_eq!(validate_registry_id(&id("X".repeat(24).as_str())), Ok(()));
        for bad in ["", "nct01234567", "NCT 0123", "NCT_1", "Diabetes trial"] {
            assert_eq!(
                validate_registry_id(&id(bad)),
                Err(CareledgerError::InvalidRegistryId),
                "{bad:?}"
            );
        }
        // nothing hides behind the padding
        let mut hidden = id("NCT01234567");
        hidden[20] = b'A';
        assert_eq!(
            validate_registry_id(&hidden),
            Err(CareledgerError::InvalidRegistryId)
        );
    }

    #[test]
    fn a_commitment_binds_the_salt_and_every_outcome_in_order() {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let salt = [9u8; 32];
        let base = outcome_commitment(&salt, &[a, b]);
        assert_ne!(base, outcome_commitment(&[8u8; 32], &[a, b]));
        assert_ne!(base, outcome_commitment(&salt, &[b, a]));
        assert_ne!(base, outcome_commitment(&salt, &[a, b, c]));
        assert_ne!(base, outcome_commitment(&salt, &[a]));
        assert_eq!(base, outcome_commitment(&salt, &[a, b]));
        // a set compares whatever its order; the switch flags follow
        assert!(same_outcomes(&[a, b], &[b, a]));
        assert!(!same_outcomes(&[a, b], &[a, c]));
        assert!(!same_outcomes(&[a], &[a, a]));
        assert_eq!(switched(&[a, b], &[b, a], &[c], &[c]), 0);
        assert_eq!(
            switched(&[a, b], &[a, c], &[c], &[c]),
            OUTCOMES_SWITCHED_PRIMARY
        );
        assert_eq!(switched(&[a], &[a], &[c], &[]), OUTCOMES_SWITCHED_SECONDARY);
    }

    /// A participant whose consent went stale on day 10 of weekly periods, consenting again on
    /// day 30: week 1 (due day 7) must be collected first, weeks 2-4 (due days 14, 21, 28)
    /// are forfeited, and accrual runs again from there.
    #[test]
    fn reconsent_forfeits_only_the_stale_periods() {
        let day = crate::constants::SECONDS_PER_DAY;
        let terms = RewardTerms {
            enrolment_reward: 10,
            period_reward: 5,
            period_secs: 7 * day as u32,
            periods: 8,
        };
        assert_eq!(
            reconsent_settlement(&terms, 0, 0, Some(10 * day), 30 * day),
            Err(CareledgerError::CollectDueFirst)
        );
        assert_eq!(
            reconsent_settlement(&terms, 0, 1, Some(10 * day), 30 * day),
            Ok(Reconsent {
                forfeited: 3,
                periods_settled: 4,
                released: 15
            })
        );
        // not stale: nothing to settle
        assert_eq!(
            reconsent_settlement(&terms, 0, 1, None, 30 * day),
            Ok(Reconsent {
                forfeited: 0,
                periods_settled: 1,
                released: 0
            })
        );
        // stale after the last period: nothing is forfeited twice
        assert_eq!(
            reconsent_settlement(&terms, 0, 8, Some(70 * day), 90 * day).map(|r| r.forfeited),
            Ok(0)
        );
    }

    #[test]
    fn accrual_ends_at_the_earlier_of_lapse_and_stale_consent() {
        assert_eq!(accrual_end(None, None), None);
        assert_eq!(accrual_end(Some(5), None), Some(5));
        assert_eq!(accrual_end(None, Some(7)), Some(7));
        assert_eq!(accrual_end(Some(9), Some(7)), Some(7));
    }
}
