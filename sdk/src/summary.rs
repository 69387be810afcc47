//! How careledger shows things to people: one readable line per audit event, and one
//! rendering for every quantity, time and set ([`render`]), which the CLI, the demo and the
//! services use too, so the same value never reads two ways. The machine-readable forms are
//! the typed events themselves and the FHIR export (`audit`).
use crate::events::CareledgerEvent;
use crate::Pubkey;

/// One rendering per kind of value.
pub mod render {
    /// An instant, as RFC 3339 in UTC to the second; "never" for 0.
    pub fn instant(unix: i64) -> String {
        if unix == 0 {
            return "never".into();
        }
        chrono::DateTime::from_timestamp(unix, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| format!("unix {unix}"))
    }

    /// A lot's expiry as its label shows it: the last day it may be used (`YYYY-MM-DD`), from
    /// the first second it is expired at (what the chain stores).
    pub fn last_day(expires_at: i64) -> String {
        chrono::DateTime::from_timestamp(expires_at.saturating_sub(1), 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| format!("unix {expires_at}"))
    }

    /// An amount of a token: in the mint's decimals when they are known ("1000.00"), else
    /// said to be base units ("100000 base units"), never a bare base-unit number beside
    /// decimal ones.
    pub fn amount(base_units: u64, decimals: Option<u8>) -> String {
        match decimals {
            Some(d) => crate::claims::format_amount(base_units, d),
            None => format!("{base_units} base units"),
        }
    }

    /// A count of things, with the noun in the right number ("1 pack", "10 packs").
    pub fn count(n: u64, one: &str, many: &str) -> String {
        format!("{n} {}", if n == 1 { one } else { many })
    }

    /// Care roles by name ("clinician, lab"; "none").
    pub fn roles(mask: u8) -> String {
        crate::classes::role_names(mask)
    }

    /// Supply roles by name ("manufacturer, dispenser"; "none").
    pub fn supply_roles(mask: u8) -> String {
        crate::classes::supply_role_names(mask)
    }

    /// Record classes by name, as the consent statement prints them.
    pub fn classes(mask: u16) -> String {
        crate::classes::class_names(mask)
    }

    /// A grant's actions ("read and write", "read", "write").
    pub fn actions(mask: u8) -> &'static str {
        use careledger::logic::consent::action::{READ, WRITE};
        match (mask & READ != 0, mask & WRITE != 0) {
            (true, true) => "read and write",
            (true, false) => "read",
            (false, true) => "write",
            (false, false) => "no action",
        }
    }
}

use render::{actions, classes, instant as when, supply_roles};

fn who(key: &Pubkey) -> String {
    if *key == Pubkey::default() {
        "nobody".into()
    } else {
        key.to_string()
    }
}

fn rule_terms(t: &careledger::state::RuleTerms, d: Option<u8>) -> String {
    format!(
        "allowed {} a unit, copay {}, coinsurance {} bps, at most {} units a claim and {} claims a period{}",
        render::amount(t.allowed_per_unit, d),
        render::amount(t.copay, d),
        t.coinsurance_bps,
        t.max_units_per_claim,
        t.max_claims_per_period,
        if t.prior_auth_required {
            ", prior authorization required"
        } else {
            ""
        }
    )
}

fn reward_terms(t: &careledger::state::RewardTerms, d: Option<u8>) -> String {
    format!(
        "{} at enrolment, then {} every {} s for {} periods",
        render::amount(t.enrolment_reward, d),
        render::amount(t.period_reward, d),
        t.period_secs,
        t.periods
    )
}

/// Who reported a suspect pack, in words: another holder's report counts for the pack, an
/// outsider's (or the actor's own second scan) for the batch only.
fn suspect_reports(pack: u32, batch: u32) -> String {
    if pack == 0 {
        format!(
            "counted for the batch only ({})",
            render::count(u64::from(batch), "report", "reports")
        )
    } else {
        format!(
            "{} for the pack, {} for the batch",
            render::count(u64::from(pack), "report", "reports"),
            render::count(u64::from(batch), "report", "reports")
        )
    }
}

/// Why an access was refused, in a grantee's words (the event keeps the reason's name).
pub fn refusal_sentence(
    reason: careledger::logic::consent::Refusal,
    purpose: careledger::state::Purpose,
) -> String {
    use careledger::logic::consent::Refusal as R;
    let purpose = crate::classes::purpose_name(purpose);
    match reason {
        R::NoGrant => format!("there is no grant from this patient to you for {purpose}"),
        R::Revoked => "the patient revoked this grant".into(),
        R::StaleEpoch => "the patient revoked all grants since this one was made".into(),
        R::Expired => "this grant has expired".into(),
        R::NotYetValid => "this grant is not valid yet".into(),
        R::PurposeMismatch => format!("this grant is not for {purpose}"),
        R::ActionNotGranted => "this grant does not allow that action".into(),
        R::ClassNotGranted => "this grant does not cover this record's class".into(),
        R::RecordOutOfScope => "this grant covers another record only".into(),
        R::ProviderNotVerified => {
            "your provider account is not verified by the credential authority yet".into()
        }
        R::ProviderSuspended => "your provider account is suspended".into(),
        R::CredentialExpired => "your provider credential has expired".into(),
        R::Narrowed => "the patient narrowed this research grant".into(),
        R::Replaced => "the grant at this address was made again: it is another consent".into(),
    }
}

fn short(bytes: &[u8; 32]) -> String {
    bytes[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl CareledgerEvent {
    /// What happened, in one line: who did what to which account, with its terms.
    ///
    /// ```
    /// use careledger_sdk::events::{CareledgerEvent, PauseSet};
    /// use careledger_sdk::Pubkey;
    ///
    /// let e = CareledgerEvent::PauseSet(PauseSet { admin: Pubkey::default(), paused: true, at: 0 });
    /// assert_eq!(e.summary(), "program paused by nobody");
    /// ```
    pub fn summary(&self) -> String {
        self.summary_in(&|_| None)
    }

    /// [`summary`](Self::summary), with amounts in their mint's decimals: `decimals` gives them
    /// for a policy or study address (amounts it does not know read "N base units").
    pub fn summary_in(&self, decimals: &dyn Fn(&Pubkey) -> Option<u8>) -> String {
        use render::amount;
        use CareledgerEvent as E;
        match self {
            E::ConfigInitialized(e) => format!(
                "config created: admin {}, credential authority {}, break-glass at most {} s",
                e.admin, e.credential_authority, e.max_break_glass_secs
            ),
            E::AdminProposed(e) => format!("admin {} proposed {} as successor", e.admin, e.proposed),
            E::AdminAccepted(e) => {
                format!("{} accepted the admin role from {}", e.new_admin, e.old_admin)
            }
            E::PauseSet(e) => format!(
                "program {} by {}",
                if e.paused { "paused" } else { "unpaused" },
                who(&e.admin)
            ),
            E::ConfigUpdated(e) => format!(
                "config updated: credential authority {} -> {}, break-glass {} s -> {} s",
                e.old_credential_authority,
                e.new_credential_authority,
                e.old_max_break_glass_secs,
                e.new_max_break_glass_secs
            ),
            E::ProviderRegistered(e) => format!(
                "provider {} registered (roles {} requested, credential {})",
                e.wallet,
                render::roles(e.requested_roles),
                short(&e.credential_ref)
            ),
            E::ProviderVerified(e) => format!(
                "provider {} verified by {}: roles {} -> {} until {}",
                e.wallet,
                e.authority,
                render::roles(e.old_roles),
                render::roles(e.new_roles),
                when(e.credential_expires_at)
            ),
            E::ProviderCredentialSet(e) => format!(
                "provider {}'s credential set by {}: {} -> {}, valid until {}",
                e.wallet,
                e.authority,
                short(&e.previous),
                short(&e.credential_ref),
                when(e.credential_expires_at)
            ),
            E::ProviderSuspended(e) => format!(
                "provider {} suspended by {} (reason {})",
                e.wallet, e.authority, e.reason_code
            ),
            E::PatientRegistered(e) => format!("patient {} registered", e.wallet),
            E::StatementsRequired(e) => format!(
                "patient {} now requires a signed consent statement for every new grant",
                e.wallet
            ),
            E::GuardianChanged(e) => format!(
                "patient {}'s guardian {} -> {} until {}",
                e.patient,
                who(&e.old_guardian),
                who(&e.new_guardian),
                when(e.guardian_expires_at)
            ),
            E::EncryptionKeySet(e) => format!(
                "{} set its X25519 key to v{}",
                e.wallet, e.key_version
            ),
            E::RecordAnchored(e) => format!(
                "record #{} v{} ({}) anchored by {}: cid {}",
                e.index,
                e.version,
                classes(1 << e.class.min(15)),
                e.author,
                crate::cid::cid_to_string(&e.cid)
            ),
            E::RecordRetracted(e) => format!(
                "record {} retracted by {} (reason {}){}",
                e.record,
                e.by,
                e.reason_code,
                if e.reinstated == Pubkey::default() {
                    String::new()
                } else {
                    format!(", {} reinstated", e.reinstated)
                }
            ),
            E::GrantCreated(e) => format!(
                "{:?} grant to {} by {:?} {}: {} of {} until {}",
                e.purpose,
                e.grantee,
                e.actor,
                e.by,
                actions(e.terms.actions),
                classes(e.terms.classes),
                when(e.terms.expires_at)
            ),
            E::ConsentStatementSigned(e) => format!(
                "grant {} (serial {}) made against a consent statement signed by {} ({:?} form), SHA-256 {}",
                e.grant,
                e.serial,
                e.signer,
                e.form,
                short(&e.statement_hash)
            ),
            E::GrantUpdated(e) => format!(
                "{:?} grant to {} changed by {:?} {}: {} of {} until {} -> {} of {} until {}",
                e.purpose,
                e.grantee,
                e.actor,
                e.by,
                actions(e.old_terms.actions),
                classes(e.old_terms.classes),
                when(e.old_terms.expires_at),
                actions(e.new_terms.actions),
                classes(e.new_terms.classes),
                when(e.new_terms.expires_at)
            ),
            E::GrantRevoked(e) => format!(
                "{:?} grant to {} revoked by {:?} {}",
                e.purpose, e.grantee, e.actor, e.by
            ),
            E::AllGrantsRevoked(e) => format!(
                "every grant of patient {} revoked by {:?} {} (consent epoch {} -> {})",
                e.patient, e.actor, e.by, e.old_epoch, e.new_epoch
            ),
            E::GrantClosed(e) => format!(
                "grant {} closed by {}: {} lamports of rent to {}",
                e.grant, e.by, e.lamports, e.rent_to
            ),
            E::AccessRequested(e) => format!(
                "{} asks for {:?} access: {} of {} for {} s (reason {})",
                e.requester,
                e.purpose,
                actions(e.actions),
                classes(e.classes),
                e.duration_secs,
                e.reason_code
            ),
            E::AccessRequestDecided(e) => format!(
                "request of {} {} by {:?} {}{}",
                e.requester,
                if e.approved { "approved" } else { "denied" },
                e.actor,
                e.by,
                if e.approved {
                    format!(": grant {}", e.grant)
                } else {
                    format!(" (reason {})", e.reason_code)
                }
            ),
            E::BreakGlassOpened(e) => format!(
                "EMERGENCY access by {} to {} for {} s, until {} (reason {}), pending review",
                e.provider,
                classes(e.classes),
                e.window_secs,
                when(e.expires_at),
                e.reason_code
            ),
            E::BreakGlassReviewed(e) => format!(
                "emergency access by {} reviewed by {:?} {}: {:?} after {} accesses{}",
                e.provider,
                e.actor,
                e.by,
                e.outcome,
                e.access_count,
                if e.revoked { ", revoked" } else { "" }
            ),
            E::AccessLogged(e) => format!(
                "{} {} record #{} under its {:?} grant (access #{}){}",
                e.grantee,
                if e.action & careledger::logic::consent::action::WRITE != 0 {
                    "wrote"
                } else {
                    "read"
                },
                e.record_index,
                e.purpose,
                e.access_count,
                if e.emergency { ", EMERGENCY" } else { "" }
            ),
            E::AccessRefused(e) => format!(
                "{} REFUSED {} of record #{} under its {:?} grant: {:?}",
                e.grantee,
                actions(e.action),
                e.record_index,
                e.purpose,
                e.reason
            ),
            E::PolicyCreated(e) => format!(
                "policy #{} of {} for member {}: cover {} to {}, cap {}, deductible {}{}",
                e.policy_id,
                e.insurer,
                e.patient,
                when(e.coverage_start),
                when(e.coverage_end),
                amount(e.benefit_cap, decimals(&e.policy)),
                amount(e.deductible, decimals(&e.policy)),
                if e.network_only { ", network only" } else { "" }
            ),
            E::PolicyFunded(e) => format!(
                "policy {} funded with {} by {} (vault {})",
                e.policy,
                amount(e.amount, decimals(&e.policy)),
                e.funder,
                amount(e.vault_balance, decimals(&e.policy))
            ),
            E::PolicyStatusChanged(e) => format!(
                "policy {} {:?} -> {:?}",
                e.policy, e.old_status, e.new_status
            ),
            E::PolicyWithdrawn(e) => format!(
                "{} withdrawn from policy {} to {} (vault {}, owed {})",
                amount(e.amount, decimals(&e.policy)),
                e.policy,
                e.destination,
                amount(e.vault_balance, decimals(&e.policy)),
                amount(e.owed, decimals(&e.policy))
            ),
            E::PolicyClosed(e) => format!(
                "policy {} closed, {} swept to {}",
                e.policy,
                amount(e.swept, decimals(&e.policy)),
                e.destination
            ),
            E::CoverageRuleAdded(e) => format!(
                "rule {} added to policy {}: {}",
                short(&e.rule_key),
                e.policy,
                rule_terms(&e.terms, decimals(&e.policy))
            ),
            E::CoverageRuleUpdated(e) => format!(
                "rule {} of policy {} changed from {} to {}",
                short(&e.rule_key),
                e.policy,
                rule_terms(&e.old_terms, decimals(&e.policy)),
                rule_terms(&e.new_terms, decimals(&e.policy))
            ),
            E::CoverageRuleRetired(e) => {
                format!("rule {} of policy {} retired", short(&e.rule_key), e.policy)
            }
            E::ClaimSubmitted(e) => format!(
                "claim by {} under rule {}: {} units, {} billed, service day {}",
                e.provider,
                short(&e.rule_key),
                e.units,
                amount(e.billed, decimals(&e.policy)),
                when(e.service_date)
            ),
            E::ClaimAdjudicated(e) if e.state == careledger::state::ClaimState::PendingReview => {
                format!("claim {} waits for review (reason {})", e.claim, e.reason_code)
            }
            E::ClaimAdjudicated(e) => format!(
                "claim {} {:?}{}: eligible {}, plan pays {} (deductible {}, copay {}, coinsurance {})",
                e.claim,
                e.state,
                if e.reason_code != 0 {
                    format!(" (reason {})", e.reason_code)
                } else {
                    String::new()
                },
                amount(e.breakdown.eligible, decimals(&e.policy)),
                amount(e.breakdown.benefit, decimals(&e.policy)),
                amount(e.breakdown.deductible_applied, decimals(&e.policy)),
                amount(e.breakdown.copay, decimals(&e.policy)),
                amount(e.breakdown.coinsurance, decimals(&e.policy))
            ),
            E::ClaimPaid(e) => format!(
                "claim {} paid: {} to {} (vault {})",
                e.claim,
                amount(e.amount, decimals(&e.policy)),
                e.payee,
                amount(e.vault_balance, decimals(&e.policy))
            ),
            E::ClaimAppealed(e) => format!(
                "claim {} appealed by {} (denied for reason {})",
                e.claim, e.provider, e.denial_reason
            ),
            E::ClaimCancelled(e) => format!(
                "claim {} cancelled by {} ({:?}, {} released)",
                e.claim,
                e.provider,
                e.old_state,
                amount(e.released, decimals(&e.policy))
            ),
            E::StudyCreated(e) => format!(
                "study #{} of {}: {} of {}, enrolment {} to {}, at most {} participants, {}",
                e.study_id,
                e.sponsor,
                actions(careledger::logic::consent::action::READ),
                classes(e.classes),
                when(e.enrol_start),
                when(e.enrol_end),
                e.max_participants,
                reward_terms(&e.terms, decimals(&e.study))
            ),
            E::StudyFunded(e) => format!(
                "study {} funded with {} by {} (vault {})",
                e.study,
                amount(e.amount, decimals(&e.study)),
                e.funder,
                amount(e.vault_balance, decimals(&e.study))
            ),
            E::StudyStatusChanged(e) => format!(
                "study {} {:?} -> {:?}{}",
                e.study,
                e.old_status,
                e.new_status,
                if e.swept > 0 {
                    format!(", {} swept", amount(e.swept, decimals(&e.study)))
                } else {
                    String::new()
                }
            ),
            E::StudyWithdrawn(e) => format!(
                "{} withdrawn from study {} to {} (vault {}, outstanding {})",
                amount(e.amount, decimals(&e.study)),
                e.study,
                e.destination,
                amount(e.vault_balance, decimals(&e.study)),
                amount(e.outstanding, decimals(&e.study))
            ),
            E::ParticipantEnrolled(e) => format!(
                "patient {} enrolled in study {} by {:?} {} ({} participants), reward {} to {}",
                e.patient,
                e.study,
                e.actor,
                e.by,
                e.participants,
                amount(e.reward, decimals(&e.study)),
                e.destination
            ),
            E::RewardPaid(e) => format!(
                "study {} paid patient {} periods {}..={}: {} to {}",
                e.study,
                e.patient,
                e.first_period,
                e.last_period,
                amount(e.amount, decimals(&e.study)),
                e.destination
            ),
            E::ParticipationEnded(e) => format!(
                "participation of {} in study {} ended: {:?} at {}, {} released",
                e.patient,
                e.study,
                e.reason,
                when(e.lapsed_at),
                amount(e.released, decimals(&e.study))
            ),
            E::PaymentMintAccepted(e) => format!(
                "mint {} accepted for payments by {} (freeze authority {})",
                e.mint, e.admin, e.freeze_authority
            ),
            E::PaymentMintRemoved(e) => {
                format!("mint {} removed from the accepted list by {}", e.mint, e.admin)
            }
            E::NetworkMemberAdded(e) => {
                format!("provider {} joined the network of {}", e.provider, e.insurer)
            }
            E::NetworkMemberRemoved(e) => {
                format!("provider {} left the network of {}", e.provider, e.insurer)
            }
            E::ParticipantInvited(e) => format!(
                "patient {} invited to study {} by {} until {}",
                e.patient,
                e.study,
                e.invited_by,
                when(e.expires_at)
            ),
            E::InvitationClosed(e) => format!(
                "invitation of {} to study {} closed ({})",
                e.patient,
                e.study,
                if e.used { "used" } else { "unused" }
            ),
            E::StudySiteSet(e) => format!(
                "study {} site {} -> {}",
                e.study,
                who(&e.old_site),
                who(&e.new_site)
            ),
            E::ProviderSupplyRolesSet(e) => format!(
                "provider {} supply roles {} -> {} ({} by {})",
                e.wallet,
                supply_roles(e.old_supply_roles),
                supply_roles(e.new_supply_roles),
                if e.verified { "verified" } else { "asked for" },
                e.set_by
            ),
            E::ProductRegistered(e) => format!(
                "product {} (GTIN hash {}) registered to manufacturer {} by {}",
                e.product,
                short(&e.gtin_hash),
                e.manufacturer,
                e.authority
            ),
            E::BatchCommissioned(e) => format!(
                "batch {} lot {} commissioned by {}: {} (real packs and decoys: the manifest tells them apart; tree depth {}), root {}, use by {}, status map {} bytes holding {} lamports",
                e.batch,
                e.lot,
                e.manufacturer,
                render::count(u64::from(e.capacity), "pack slot", "pack slots"),
                e.depth,
                short(&e.merkle_root),
                render::last_day(e.expires_at),
                e.status_map_bytes,
                e.status_map_lamports
            ),
            E::PackStatusChanged(e) => format!(
                "batch {} pack #{} {:?} -> {:?} by {}{} ({} of the lot no longer active)",
                e.batch,
                e.index,
                e.old_state,
                e.new_state,
                e.actor,
                if e.undo_until == 0 {
                    String::new()
                } else {
                    format!(", undoable until {}", when(e.undo_until))
                },
                render::count(u64::from(e.decommissioned), "pack", "packs")
            ),
            E::SuspectPack(e) => format!(
                "SUSPECT: batch {} pack #{} is {:?}, yet {} tried to set it {:?} (a cloned serial; {})",
                e.batch,
                e.index,
                e.state,
                e.reporter,
                e.attempted_state,
                suspect_reports(u32::from(e.pack_reports), e.batch_reports)
            ),
            E::PackRecordSettled(e) => format!(
                "batch {} pack #{} settled as supplied by {}: {} lamports back to {}",
                e.batch, e.index, e.by, e.lamports, e.actor
            ),
            E::BatchRecalled(e) => format!(
                "batch {} {:?} by {} (reason {}): every pack of the lot still active now fails verification",
                e.batch, e.status, e.manufacturer, e.reason_code
            ),
            E::ShipmentSent(e) => format!(
                "shipment {} of {} of batch {} from {} to {} (EPCIS {})",
                e.shipment,
                render::count(u64::from(e.quantity), "pack", "packs"),
                e.batch,
                e.sender,
                e.receiver,
                short(&e.epcis_hash)
            ),
            E::ShipmentReceived(e) => format!(
                "shipment {} of {} received by {} from {} (receipt {})",
                e.shipment,
                render::count(u64::from(e.quantity), "pack", "packs"),
                e.receiver,
                e.sender,
                short(&e.receipt_hash)
            ),
            E::ProtocolRegistered(e) => format!(
                "protocol of study {} registered by {} (registry {}): version 1, document {}, {} planned",
                e.study,
                e.sponsor,
                crate::trials::registry_id_text(&e.registry_id),
                short(&e.document_sha256),
                render::count(u64::from(e.planned_enrolment), "participant", "participants")
            ),
            E::ProtocolAmended(e) => format!(
                "protocol of study {} amended to version {} by {} (reason {}, document {}){}{}",
                e.study,
                e.version,
                e.sponsor,
                e.reason_code,
                short(&e.document_sha256),
                if e.material {
                    ": material, participants consent again before they accrue more"
                } else {
                    ""
                },
                if e.outcomes_changed && e.after_enrolment {
                    "; the outcome sets changed after enrolment began (results are compared with the pre-specified ones)"
                } else if e.outcomes_changed {
                    "; the outcome sets changed before enrolment"
                } else {
                    ""
                }
            ),
            E::AnalysisPlanAnchored(e) => format!(
                "analysis plan of study {} anchored by {}: {}{}",
                e.study,
                e.sponsor,
                short(&e.analysis_plan_sha256),
                if e.previous == [0; 32] {
                    String::new()
                } else {
                    format!(" (replaces {})", short(&e.previous))
                }
            ),
            E::DataLocked(e) => format!(
                "data of study {} locked by {}: dataset {} under analysis plan {}",
                e.study,
                e.sponsor,
                short(&e.dataset_sha256),
                short(&e.analysis_plan_sha256)
            ),
            E::ResultsReported(e) => format!(
                "results of study {} reported by {}: {}",
                e.study,
                e.sponsor,
                crate::trials::switch_verdict(e.switched)
            ),
            E::ParticipantReconsented(e) => format!(
                "patient {} consented to version {} of study {}'s protocol (was {}) by {:?} {}{}",
                e.patient,
                e.to_version,
                e.study,
                e.from_version,
                e.actor,
                e.by,
                if e.forfeited_periods > 0 {
                    format!(
                        "; {} that came due while the consent was stale forfeited ({} released)",
                        render::count(u64::from(e.forfeited_periods), "period", "periods"),
                        amount(e.released, decimals(&e.study))
                    )
                } else {
                    String::new()
                }
            ),
        }
    }
}
