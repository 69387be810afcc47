//! Validation of the terms callers propose: grants, requests, break-glass windows, guardians.
use crate::constants::*;
use crate::errors::CareledgerError;
use crate::logic::consent::action;
use crate::state::{
    Purpose, ROLES_ALL, ROLE_CLINICIAN, ROLE_EMERGENCY, ROLE_HOSPITAL, ROLE_INSURER, ROLE_LAB,
    ROLE_RESEARCHER, SUPPLY_ROLES_ALL,
};

type Check = std::result::Result<(), CareledgerError>;

/// Terms of a patient grant (or a grant approved from a request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTerms {
    pub classes: u16,
    pub actions: u8,
    pub purpose: Purpose,
    pub record_scope: u32,
    pub not_before: i64,
    pub expires_at: i64,
}

impl GrantTerms {
    /// Whether going from `self` to `new` takes anything away: a class, an action, records (all
    /// of them to one, or one to another), or time at either end of the window.
    pub fn narrowed_by(&self, new: &GrantTerms) -> bool {
        self.classes & !new.classes != 0
            || self.actions & !new.actions != 0
            || (new.record_scope != NO_RECORD_SCOPE && new.record_scope != self.record_scope)
            || new.not_before > self.not_before
            || new.expires_at < self.expires_at
    }

    /// Whether going from `self` to `new` adds anything: a class, an action, records (one to
    /// all, or one to another), or time at either end of the window.
    pub fn widened_by(&self, new: &GrantTerms) -> bool {
        new.classes & !self.classes != 0
            || new.actions & !self.actions != 0
            || (self.record_scope != NO_RECORD_SCOPE && new.record_scope != self.record_scope)
            || new.not_before < self.not_before
            || new.expires_at > self.expires_at
    }
}

/// The care roles: a provider holding one of them may hold health records for care.
pub const CARE_ROLES: u8 = ROLE_CLINICIAN | ROLE_LAB | ROLE_HOSPITAL | ROLE_EMERGENCY;

/// The provider roles that may receive records for `purpose`, any one of them sufficing: a care
/// role for treatment; an insurer or a care role for payment and operations (a plan's or a
/// provider's own); a researcher for research; a care role or a researcher for public health;
/// the emergency role for break-glass. A provider with none of them, such as a drug
/// manufacturer or wholesaler (supply roles are not care roles), receives no grant.
pub fn roles_for_purpose(purpose: Purpose) -> u8 {
    match purpose {
        Purpose::Treatment => CARE_ROLES,
        Purpose::Payment | Purpose::Operations => CARE_ROLES | ROLE_INSURER,
        Purpose::Research => ROLE_RESEARCHER,
        Purpose::PublicHealth => CARE_ROLES | ROLE_RESEARCHER,
        Purpose::Emergency => ROLE_EMERGENCY,
    }
}

/// A grant (or a request for one) for `purpose` to a provider holding `roles`.
pub fn validate_purpose_for_roles(purpose: Purpose, roles: u8) -> Check {
    if roles & roles_for_purpose(purpose) == 0 {
        return Err(CareledgerError::PurposeNotForRoles);
    }
    Ok(())
}

/// `record_count` is the patient's number of anchored records, bounding `record_scope`.
pub fn validate_grant_terms(t: &GrantTerms, now: i64, record_count: u32) -> Check {
    if t.classes == 0 {
        return Err(CareledgerError::InvalidClasses);
    }
    validate_actions(t.actions)?;
    if t.purpose == Purpose::Emergency {
        return Err(CareledgerError::EmergencyPurposeReserved);
    }
    let latest = now
        .checked_add(MAX_GRANT_DURATION_SECS)
        .ok_or(CareledgerError::MathOverflow)?;
    if t.expires_at <= now || t.expires_at > latest {
        return Err(CareledgerError::InvalidExpiry);
    }
    if t.not_before >= t.expires_at {
        return Err(CareledgerError::InvalidNotBefore);
    }
    if t.record_scope != NO_RECORD_SCOPE && t.record_scope >= record_count {
        return Err(CareledgerError::InvalidRecordScope);
    }
    Ok(())
}

pub fn validate_actions(actions: u8) -> Check {
    if actions == 0 || actions & !action::ALL != 0 {
        return Err(CareledgerError::InvalidActions);
    }
    Ok(())
}

/// Care roles (`ROLE_*`) and supply-chain roles (`SUPPLY_*`): each a subset of its known bits,
/// and not both empty (a pharmacy may hold supply roles only).
pub fn validate_roles(roles: u8, supply_roles: u8) -> Check {
    if supply_roles & !SUPPLY_ROLES_ALL != 0 {
        return Err(CareledgerError::InvalidSupplyRoles);
    }
    if roles & !ROLES_ALL != 0 || (roles == 0 && supply_roles == 0) {
        return Err(CareledgerError::InvalidRoles);
    }
    Ok(())
}

pub fn validate_hash(hash: &[u8; 32]) -> Check {
    if hash.iter().all(|b| *b == 0) {
        return Err(CareledgerError::ZeroHash);
    }
    Ok(())
}

pub fn validate_record_class(class: u8) -> Check {
    if class >= RECORD_CLASS_COUNT {
        return Err(CareledgerError::InvalidRecordClass);
    }
    Ok(())
}

/// The admin's cap on break-glass windows.
pub fn validate_break_glass_cap(secs: u32) -> Check {
    if !(60..=MAX_BREAK_GLASS_CAP_SECS).contains(&secs) {
        return Err(CareledgerError::InvalidBreakGlassWindow);
    }
    Ok(())
}

/// A provider's requested break-glass window against the config's cap.
pub fn validate_break_glass_window(window_secs: u32, cap_secs: u32) -> Check {
    if window_secs < 60 || window_secs > cap_secs {
        return Err(CareledgerError::BreakGlassWindowTooLong);
    }
    Ok(())
}

pub fn validate_request(classes: u16, actions: u8, purpose: Purpose, duration_secs: u32) -> Check {
    if classes == 0 {
        return Err(CareledgerError::InvalidClasses);
    }
    validate_actions(actions)?;
    if purpose == Purpose::Emergency {
        return Err(CareledgerError::EmergencyPurposeReserved);
    }
    if !(60..=MAX_REQUEST_DURATION_SECS).contains(&duration_secs) {
        return Err(CareledgerError::InvalidRequestDuration);
    }
    Ok(())
}

/// The patient may narrow a request when approving it, never widen it.
pub fn validate_approval(
    requested_classes: u16,
    requested_actions: u8,
    requested_duration_secs: u32,
    approved_classes: u16,
    approved_actions: u8,
    approved_expires_at: i64,
    now: i64,
) -> Check {
    let latest = now
        .checked_add(i64::from(requested_duration_secs))
        .ok_or(CareledgerError::MathOverflow)?;
    if approved_classes == 0 || approved_actions == 0 || approved_expires_at <= now {
        return Err(CareledgerError::ApprovalWidensRequest);
    }
    if approved_classes & !requested_classes != 0
        || approved_actions & !requested_actions != 0
        || approved_expires_at > latest
    {
        return Err(CareledgerError::ApprovalWidensRequest);
    }
    Ok(())
}

pub fn validate_guardian_expiry(expires_at: i64, now: i64) -> Check {
    let latest = now
        .checked_add(MAX_GUARDIAN_DURATION_SECS)
        .ok_or(CareledgerError::MathOverflow)?;
    if expires_at <= now || expires_at > latest {
        return Err(CareledgerError::InvalidGuardianExpiry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who may receive records for each purpose, written from the rule's words: care roles
    /// treat, insurers and care roles handle payment and operations, researchers research,
    /// both serve public health; supply roles are no care role.
    #[test]
    fn a_purpose_fits_only_the_roles_it_names() {
        use crate::state::{ROLE_CLINICIAN, ROLE_INSURER, ROLE_RESEARCHER};
        let fits = |p, roles| validate_purpose_for_roles(p, roles).is_ok();
        assert!(fits(Purpose::Treatment, ROLE_CLINICIAN));
        assert!(!fits(Purpose::Treatment, ROLE_INSURER));
        assert!(!fits(Purpose::Treatment, ROLE_RESEARCHER));
        assert!(fits(Purpose::Payment, ROLE_INSURER) && fits(Purpose::Payment, ROLE_CLINICIAN));
        assert!(fits(Purpose::Operations, ROLE_INSURER));
        assert!(!fits(Purpose::Operations, ROLE_RESEARCHER));
        assert!(fits(Purpose::Research, ROLE_RESEARCHER));
        assert!(!fits(Purpose::Research, ROLE_CLINICIAN | ROLE_INSURER));
        assert!(fits(Purpose::PublicHealth, ROLE_RESEARCHER));
        assert!(!fits(Purpose::PublicHealth, ROLE_INSURER));
        // a drug manufacturer or wholesaler holds no care role (roles 0)
        for p in [
            Purpose::Treatment,
            Purpose::Payment,
            Purpose::Operations,
            Purpose::Research,
            Purpose::PublicHealth,
        ] {
            assert_eq!(
                validate_purpose_for_roles(p, 0),
                Err(CareledgerError::PurposeNotForRoles)
            );
        }
    }

    #[test]
    fn narrowing_is_any_loss() {
        let t = GrantTerms {
            classes: 0b11,
            actions: action::READ,
            purpose: Purpose::Research,
            record_scope: NO_RECORD_SCOPE,
            not_before: 10,
            expires_at: 100,
        };
        assert!(!t.narrowed_by(&t));
        let wider = GrantTerms {
            classes: 0b111,
            actions: action::ALL,
            not_before: 5,
            expires_at: 200,
            ..t
        };
        assert!(!t.narrowed_by(&wider));
        assert!(t.narrowed_by(&GrantTerms { classes: 0b01, ..t }));
        assert!(t.narrowed_by(&GrantTerms {
            classes: 0b101,
            ..t
        }));
        assert!(wider.narrowed_by(&t));
        assert!(t.narrowed_by(&GrantTerms {
            record_scope: 0,
            ..t
        }));
        assert!(t.narrowed_by(&GrantTerms {
            not_before: 11,
            ..t
        }));
        assert!(t.narrowed_by(&GrantTerms {
            expires_at: 99,
            ..t
        }));
    }

    #[test]
    fn widening_is_any_gain() {
        let t = GrantTerms {
            classes: 0b11,
            actions: action::READ,
            purpose: Purpose::Research,
            record_scope: 4,
            not_before: 10,
            expires_at: 100,
        };
        assert!(!t.widened_by(&t));
        for wider in [
            GrantTerms {
                classes: 0b111,
                ..t
            },
            GrantTerms {
                classes: 0b101,
                ..t
            },
            GrantTerms {
                actions: action::ALL,
                ..t
            },
            GrantTerms {
                record_scope: NO_RECORD_SCOPE,
                ..t
            },
            GrantTerms {
                record_scope: 5,
                ..t
            },
            GrantTerms { not_before: 9, ..t },
            GrantTerms {
                expires_at: 101,
                ..t
            },
        ] {
            assert!(t.widened_by(&wider), "{wider:?}");
        }
        let narrower = GrantTerms {
            classes: 0b01,
            not_before: 20,
            expires_at: 90,
            ..t
        };
        assert!(!t.widened_by(&narrower));
        // from every record to one is narrowing, never widening
        let all = GrantTerms {
            record_scope: NO_RECORD_SCOPE,
            ..t
        };
        assert!(!all.widened_by(&t));
    }

    fn terms() -> GrantTerms {
        GrantTerms {
            classes: 1,
            actions: action::READ,
            purpose: Purpose::Treatment,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: 1_000,
        }
    }

    #[test]
    fn grant_terms() {
        assert_eq!(validate_grant_terms(&terms(), 10, 0), Ok(()));
        let t = |f: fn(&mut GrantTerms)| {
            let mut t = terms();
            f(&mut t);
            validate_grant_terms(&t, 10, 2)
        };
        assert_eq!(t(|t| t.classes = 0), Err(CareledgerError::InvalidClasses));
        assert_eq!(t(|t| t.actions = 4), Err(CareledgerError::InvalidActions));
        assert_eq!(t(|t| t.actions = 0), Err(CareledgerError::InvalidActions));
        assert_eq!(
            t(|t| t.purpose = Purpose::Emergency),
            Err(CareledgerError::EmergencyPurposeReserved)
        );
        assert_eq!(
            t(|t| t.expires_at = 10),
            Err(CareledgerError::InvalidExpiry)
        );
        assert_eq!(
            t(|t| t.expires_at = 11 + MAX_GRANT_DURATION_SECS),
            Err(CareledgerError::InvalidExpiry)
        );
        assert_eq!(t(|t| t.expires_at = 10 + MAX_GRANT_DURATION_SECS), Ok(()));
        assert_eq!(
            t(|t| t.not_before = 1_000),
            Err(CareledgerError::InvalidNotBefore)
        );
        assert_eq!(
            t(|t| t.record_scope = 2),
            Err(CareledgerError::InvalidRecordScope)
        );
        assert_eq!(t(|t| t.record_scope = 1), Ok(()));
        assert_eq!(
            validate_grant_terms(&terms(), i64::MAX - 1, 0),
            Err(CareledgerError::MathOverflow)
        );
    }

    #[test]
    fn approvals_only_narrow() {
        assert_eq!(validate_approval(0b11, 3, 100, 0b01, 1, 110, 10), Ok(()));
        assert_eq!(
            validate_approval(0b01, 3, 100, 0b11, 1, 110, 10),
            Err(CareledgerError::ApprovalWidensRequest)
        );
        assert_eq!(
            validate_approval(0b01, 1, 100, 0b01, 3, 110, 10),
            Err(CareledgerError::ApprovalWidensRequest)
        );
        assert_eq!(
            validate_approval(0b01, 1, 100, 0b01, 1, 111, 10),
            Err(CareledgerError::ApprovalWidensRequest)
        );
    }

    #[test]
    fn windows_and_roles() {
        assert_eq!(
            validate_break_glass_cap(59),
            Err(CareledgerError::InvalidBreakGlassWindow)
        );
        assert_eq!(validate_break_glass_cap(3_600), Ok(()));
        assert_eq!(
            validate_break_glass_window(3_601, 3_600),
            Err(CareledgerError::BreakGlassWindowTooLong)
        );
        assert_eq!(validate_roles(0, 0), Err(CareledgerError::InvalidRoles));
        assert_eq!(validate_roles(0x40, 0), Err(CareledgerError::InvalidRoles));
        assert_eq!(validate_roles(ROLES_ALL, 0), Ok(()));
        assert_eq!(validate_roles(0, SUPPLY_ROLES_ALL), Ok(()));
        assert_eq!(
            validate_roles(ROLES_ALL, 0x08),
            Err(CareledgerError::InvalidSupplyRoles)
        );
        assert_eq!(validate_hash(&[0; 32]), Err(CareledgerError::ZeroHash));
        assert_eq!(
            validate_record_class(16),
            Err(CareledgerError::InvalidRecordClass)
        );
    }
}
