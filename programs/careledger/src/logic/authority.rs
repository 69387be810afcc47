//! Who may act for a patient.
use crate::errors::CareledgerError;
use crate::state::Patient;
use anchor_lang::prelude::*;

/// The capacity in which a signer acts for a patient; recorded in events.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Actor {
    Patient,
    Guardian,
}

/// The patient themself, or their guardian while the appointment runs.
pub fn acting_for(
    patient: &Patient,
    signer: &Pubkey,
    now: i64,
) -> std::result::Result<Actor, CareledgerError> {
    if *signer == patient.wallet {
        return Ok(Actor::Patient);
    }
    if patient.guardian != Pubkey::default() && *signer == patient.guardian {
        if now < patient.guardian_expires_at {
            return Ok(Actor::Guardian);
        }
        return Err(CareledgerError::GuardianExpired);
    }
    Err(CareledgerError::NotPatientOrGuardian)
}

/// The patient themself, or their guardian when the guardian is none of `parties`: no act of a
/// guardian for the ward may benefit the guardian. The parties are whoever the act is for or
/// about besides the patient: the grantee of a grant given, changed, revoked or closed, the
/// provider whose request is approved, the clinician whose emergency access is reviewed, the
/// sponsor and site of a study the ward is enrolled in. The patient deciding about a party is
/// their own choice; a guardian who is that party decides nothing.
pub fn acting_for_unconflicted(
    patient: &Patient,
    signer: &Pubkey,
    now: i64,
    parties: &[Pubkey],
) -> std::result::Result<Actor, CareledgerError> {
    let actor = acting_for(patient, signer, now)?;
    if actor == Actor::Guardian && parties.contains(signer) {
        return Err(CareledgerError::GuardianIsParty);
    }
    Ok(actor)
}

/// A grant the guardian gives, extends or approves ends by the end of the guardianship: a
/// guardian cannot commit the patient beyond their own appointment. The patient is not bound.
pub fn within_guardianship(
    actor: Actor,
    patient: &Patient,
    expires_at: i64,
) -> std::result::Result<(), CareledgerError> {
    if actor == Actor::Guardian && expires_at > patient.guardian_expires_at {
        return Err(CareledgerError::GuardianTermExceeded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_guardian_and_strangers() {
        let wallet = Pubkey::new_from_array([1; 32]);
        let guardian = Pubkey::new_from_array([2; 32]);
        let mut p = Patient {
            wallet,
            guardian,
            guardian_expires_at: 100,
            consent_epoch: 0,
            record_count: 0,
            grant_count: 0,
            emergency_count: 0,
            registered_at: 0,
            bump: 255,
            epoch_changed_at: 0,
            consent_flags: 0,
            reserved: [0; 7],
        };
        assert_eq!(acting_for(&p, &wallet, 500), Ok(Actor::Patient));
        assert_eq!(acting_for(&p, &guardian, 99), Ok(Actor::Guardian));
        assert_eq!(
            acting_for(&p, &guardian, 100),
            Err(CareledgerError::GuardianExpired)
        );
        let stranger = Pubkey::new_from_array([3; 32]);
        assert_eq!(
            acting_for(&p, &stranger, 0),
            Err(CareledgerError::NotPatientOrGuardian)
        );
        assert_eq!(
            within_guardianship(Actor::Guardian, &p, 101),
            Err(CareledgerError::GuardianTermExceeded)
        );
        assert_eq!(within_guardianship(Actor::Guardian, &p, 100), Ok(()));
        assert_eq!(within_guardianship(Actor::Patient, &p, 10_000), Ok(()));
        // the guardian is never the other party of what it signs for the ward; the patient may be
        let party = [guardian, stranger];
        assert_eq!(
            acting_for_unconflicted(&p, &guardian, 99, &party),
            Err(CareledgerError::GuardianIsParty)
        );
        assert_eq!(
            acting_for_unconflicted(&p, &guardian, 99, &[stranger]),
            Ok(Actor::Guardian)
        );
        assert_eq!(
            acting_for_unconflicted(&p, &wallet, 99, &party),
            Ok(Actor::Patient)
        );
        assert_eq!(
            acting_for_unconflicted(&p, &guardian, 100, &[stranger]),
            Err(CareledgerError::GuardianExpired)
        );
        p.guardian = Pubkey::default();
        assert_eq!(
            acting_for(&p, &Pubkey::default(), 0),
            Err(CareledgerError::NotPatientOrGuardian)
        );
    }
}
