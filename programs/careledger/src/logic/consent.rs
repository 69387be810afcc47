//! The consent decision: may grantee G perform action A on record R for purpose P at time T
//! under grant X? Deny-overrides: the first failing condition is the answer.
use crate::constants::NO_RECORD_SCOPE;
use crate::errors::CareledgerError;
use crate::state::{ConsentGrant, GrantStatus, Provider, ProviderStatus, Purpose};
use anchor_lang::prelude::*;

/// Action bits held in `ConsentGrant::actions`.
pub mod action {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
    pub const ALL: u8 = READ | WRITE;
}

/// Why an access was refused. Stored in `AccessRefused` events as its `u8` code.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Refusal {
    Revoked,
    Expired,
    NotYetValid,
    StaleEpoch,
    PurposeMismatch,
    ActionNotGranted,
    ClassNotGranted,
    RecordOutOfScope,
    ProviderNotVerified,
    ProviderSuspended,
    CredentialExpired,
    /// A research grant was narrowed after it was given (rewards need unbroken consent).
    Narrowed,
    /// The grant at this address was closed and made again: another consent.
    Replaced,
    /// The patient gave this grantee no grant for this purpose (none stands at its address).
    NoGrant,
}

impl From<Refusal> for CareledgerError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Revoked => CareledgerError::GrantRevoked,
            Refusal::Expired => CareledgerError::GrantExpired,
            Refusal::NotYetValid => CareledgerError::GrantNotYetValid,
            Refusal::StaleEpoch => CareledgerError::GrantStaleEpoch,
            Refusal::PurposeMismatch => CareledgerError::PurposeMismatch,
            Refusal::ActionNotGranted => CareledgerError::ActionNotGranted,
            Refusal::ClassNotGranted => CareledgerError::ClassNotGranted,
            Refusal::RecordOutOfScope => CareledgerError::RecordOutOfScope,
            Refusal::ProviderNotVerified => CareledgerError::ProviderNotVerified,
            Refusal::ProviderSuspended => CareledgerError::ProviderSuspended,
            Refusal::CredentialExpired => CareledgerError::CredentialExpired,
            Refusal::Narrowed => CareledgerError::GrantNarrowed,
            Refusal::Replaced => CareledgerError::GrantReplaced,
            Refusal::NoGrant => CareledgerError::NoGrant,
        }
    }
}

/// What is being asked of a grant. `patient_epoch` is the patient's current `consent_epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessQuery {
    pub action: u8,
    pub purpose: Purpose,
    pub record_class: u8,
    pub record_index: u32,
    pub now: i64,
    pub patient_epoch: u32,
}

/// Where a grant stands at a moment, whatever is asked of it: what every listing, status and
/// export shows, from the same checks the access decision starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantStanding {
    Active,
    /// Before its `not_before`.
    NotYetValid,
    /// At or past its `expires_at`.
    Expired,
    /// Revoked one by one.
    Revoked,
    /// Of an older consent epoch: voided by the patient's revoke-all.
    Void,
}

impl GrantStanding {
    /// True when the grant can never authorize again (revoked, void or expired): closing it,
    /// or granting anew at its address, loses nothing.
    pub fn is_spent(self) -> bool {
        matches!(
            self,
            GrantStanding::Revoked | GrantStanding::Void | GrantStanding::Expired
        )
    }

    /// The lower-case word shown to people and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            GrantStanding::Active => "active",
            GrantStanding::NotYetValid => "not-yet-valid",
            GrantStanding::Expired => "expired",
            GrantStanding::Revoked => "revoked",
            GrantStanding::Void => "void",
        }
    }
}

/// The life of a grant at `now` under the patient's current epoch: the first checks of
/// [`check_grant`], in its order (revoked, then void, then not yet valid, then expired).
pub fn grant_life(
    grant: &ConsentGrant,
    patient_epoch: u32,
    now: i64,
) -> std::result::Result<(), Refusal> {
    if grant.status == GrantStatus::Revoked {
        return Err(Refusal::Revoked);
    }
    if grant.consent_epoch != patient_epoch {
        return Err(Refusal::StaleEpoch);
    }
    if now < grant.not_before {
        return Err(Refusal::NotYetValid);
    }
    if now >= grant.expires_at {
        return Err(Refusal::Expired);
    }
    Ok(())
}

/// [`grant_life`] as a standing.
pub fn grant_standing(grant: &ConsentGrant, patient_epoch: u32, now: i64) -> GrantStanding {
    match grant_life(grant, patient_epoch, now) {
        Ok(()) => GrantStanding::Active,
        Err(Refusal::Revoked) => GrantStanding::Revoked,
        Err(Refusal::StaleEpoch) => GrantStanding::Void,
        Err(Refusal::NotYetValid) => GrantStanding::NotYetValid,
        Err(_) => GrantStanding::Expired,
    }
}

/// The grant's own terms, without the provider. Callers have already matched
/// `grant.grantee` / `grant.patient` to the accounts in hand (those are wiring errors, not refusals).
pub fn check_grant(grant: &ConsentGrant, q: &AccessQuery) -> std::result::Result<(), Refusal> {
    grant_life(grant, q.patient_epoch, q.now)?;
    if grant.purpose != q.purpose {
        return Err(Refusal::PurposeMismatch);
    }
    if grant.actions & q.action != q.action || q.action == 0 {
        return Err(Refusal::ActionNotGranted);
    }
    if q.record_class >= 16 || grant.classes & (1u16 << q.record_class) == 0 {
        return Err(Refusal::ClassNotGranted);
    }
    if grant.record_scope != NO_RECORD_SCOPE && grant.record_scope != q.record_index {
        return Err(Refusal::RecordOutOfScope);
    }
    Ok(())
}

/// Whether a provider is in good standing at `now`: verified, not suspended, credential unexpired.
pub fn check_provider(provider: &Provider, now: i64) -> std::result::Result<(), Refusal> {
    match provider.status {
        ProviderStatus::Pending => Err(Refusal::ProviderNotVerified),
        ProviderStatus::Suspended => Err(Refusal::ProviderSuspended),
        ProviderStatus::Verified if now >= provider.credential_expires_at => {
            Err(Refusal::CredentialExpired)
        }
        ProviderStatus::Verified => Ok(()),
    }
}

/// The whole decision: the provider's standing first, then the grant's terms.
pub fn decide_access(
    grant: &ConsentGrant,
    provider: &Provider,
    q: &AccessQuery,
) -> std::result::Result<(), Refusal> {
    check_provider(provider, q.now)?;
    check_grant(grant, q)
}

/// True when a grant can never authorize again, so closing it loses nothing.
pub fn grant_is_spent(grant: &ConsentGrant, patient_epoch: u32, now: i64) -> bool {
    grant_standing(grant, patient_epoch, now).is_spent()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ReviewState, ROLE_CLINICIAN};

    fn grant() -> ConsentGrant {
        ConsentGrant {
            patient: Pubkey::new_from_array([1; 32]),
            grantee: Pubkey::new_from_array([2; 32]),
            classes: 0b101,
            actions: action::READ,
            purpose: Purpose::Treatment,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: 255,
            consent_epoch: 3,
            record_scope: NO_RECORD_SCOPE,
            access_count: 0,
            not_before: 100,
            expires_at: 200,
            created_at: 90,
            revoked_at: 0,
            serial: 1,
            narrowed_at: 0,
            payer: Default::default(),
            statement_hash: [0; 32],
        }
    }

    fn provider() -> Provider {
        Provider {
            wallet: Pubkey::new_from_array([2; 32]),
            roles: ROLE_CLINICIAN,
            status: ProviderStatus::Verified,
            bump: 255,
            credential_ref: [7; 32],
            credential_expires_at: 1_000,
            verified_by: Pubkey::new_from_array([9; 32]),
            verified_at: 10,
            registered_at: 5,
            suspension_reason: 0,
            supply_roles: 0,
            reserved: [0; 15],
        }
    }

    fn query() -> AccessQuery {
        AccessQuery {
            action: action::READ,
            purpose: Purpose::Treatment,
            record_class: 2,
            record_index: 4,
            now: 150,
            patient_epoch: 3,
        }
    }

    #[test]
    fn allows_matching_access() {
        assert_eq!(decide_access(&grant(), &provider(), &query()), Ok(()));
    }

    #[test]
    fn expiry_is_exclusive_and_not_before_inclusive() {
        let q = |now| AccessQuery { now, ..query() };
        assert_eq!(check_grant(&grant(), &q(199)), Ok(()));
        assert_eq!(check_grant(&grant(), &q(200)), Err(Refusal::Expired));
        assert_eq!(check_grant(&grant(), &q(100)), Ok(()));
        assert_eq!(check_grant(&grant(), &q(99)), Err(Refusal::NotYetValid));
    }

    #[test]
    fn each_refusal_reason() {
        let g = grant();
        let mut revoked = g.clone();
        revoked.status = GrantStatus::Revoked;
        assert_eq!(check_grant(&revoked, &query()), Err(Refusal::Revoked));
        let stale = AccessQuery {
            patient_epoch: 4,
            ..query()
        };
        assert_eq!(check_grant(&g, &stale), Err(Refusal::StaleEpoch));
        let purpose = AccessQuery {
            purpose: Purpose::Research,
            ..query()
        };
        assert_eq!(check_grant(&g, &purpose), Err(Refusal::PurposeMismatch));
        let write = AccessQuery {
            action: action::WRITE,
            ..query()
        };
        assert_eq!(check_grant(&g, &write), Err(Refusal::ActionNotGranted));
        let none = AccessQuery {
            action: 0,
            ..query()
        };
        assert_eq!(check_grant(&g, &none), Err(Refusal::ActionNotGranted));
        let class = AccessQuery {
            record_class: 1,
            ..query()
        };
        assert_eq!(check_grant(&g, &class), Err(Refusal::ClassNotGranted));
        let class_out = AccessQuery {
            record_class: 16,
            ..query()
        };
        assert_eq!(check_grant(&g, &class_out), Err(Refusal::ClassNotGranted));
        let mut scoped = g.clone();
        scoped.record_scope = 5;
        assert_eq!(
            check_grant(&scoped, &query()),
            Err(Refusal::RecordOutOfScope)
        );
        scoped.record_scope = 4;
        assert_eq!(check_grant(&scoped, &query()), Ok(()));
    }

    #[test]
    fn provider_standing() {
        let mut p = provider();
        assert_eq!(check_provider(&p, 999), Ok(()));
        assert_eq!(check_provider(&p, 1_000), Err(Refusal::CredentialExpired));
        p.status = ProviderStatus::Suspended;
        assert_eq!(check_provider(&p, 0), Err(Refusal::ProviderSuspended));
        p.status = ProviderStatus::Pending;
        assert_eq!(
            decide_access(&grant(), &p, &query()),
            Err(Refusal::ProviderNotVerified)
        );
    }

    /// A grant's standing is what the decision would say of its life, whatever is asked.
    #[test]
    fn standing_follows_the_decision() {
        let g = grant();
        assert_eq!(grant_standing(&g, 3, 150), GrantStanding::Active);
        assert_eq!(grant_standing(&g, 3, 99), GrantStanding::NotYetValid);
        assert_eq!(grant_standing(&g, 3, 200), GrantStanding::Expired);
        assert_eq!(grant_standing(&g, 4, 150), GrantStanding::Void);
        let mut r = g.clone();
        r.status = GrantStatus::Revoked;
        // revocation outranks a revoke-all and expiry, as in the access decision
        assert_eq!(grant_standing(&r, 4, 500), GrantStanding::Revoked);
        assert_eq!(grant_standing(&g, 4, 500), GrantStanding::Void);
        for now in [0, 99, 100, 150, 199, 200, 10_000] {
            for epoch in [3, 4] {
                for status in [GrantStatus::Active, GrantStatus::Revoked] {
                    let mut g = grant();
                    g.status = status;
                    let q = AccessQuery {
                        now,
                        patient_epoch: epoch,
                        ..query()
                    };
                    let standing = grant_standing(&g, epoch, now);
                    assert_eq!(
                        standing == GrantStanding::Active,
                        check_grant(&g, &q).is_ok(),
                        "{standing:?} at {now}, epoch {epoch}"
                    );
                }
            }
        }
    }

    #[test]
    fn spent_grants() {
        let g = grant();
        assert!(!grant_is_spent(&g, 3, 150));
        assert!(grant_is_spent(&g, 3, 200));
        assert!(grant_is_spent(&g, 4, 150));
        let mut r = g.clone();
        r.status = GrantStatus::Revoked;
        assert!(grant_is_spent(&r, 3, 150));
    }
}
