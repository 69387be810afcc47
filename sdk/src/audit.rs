//! The audit trail as an HL7 FHIR R4 `Bundle` (type `collection`): each grant as a `Consent`,
//! each access, refusal, break-glass opening and review, and revocation (one grant or all of
//! them) as an `AuditEvent`, each claim as a `ClaimResponse` summary. Only what is on chain goes
//! in: wallet keys (as identifiers in the `urn:solana:pubkey` system), account addresses, opaque
//! class ids, purpose codes, times, and amounts as decimal values in the mint's own scale, each
//! naming its token (`urn:careledger:token-mint`) since a token is no ISO 4217 currency.
use crate::events::CareledgerEvent;
use careledger::logic::consent::{action, grant_standing, GrantStanding};
use careledger::state::{
    Claim, ClaimState, ConsentGrant, Policy, Purpose, RecordAnchor, ReviewState,
};
use careledger::NO_RECORD_SCOPE;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;

/// The identifier system of wallet keys and account addresses.
pub const KEY_SYSTEM: &str = "urn:solana:pubkey";
const CLASS_SYSTEM: &str = "urn:careledger:record-class";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";
/// Adjudication categories the HL7 code system lacks (coinsurance).
const CARELEDGER_ADJUDICATION: &str = "urn:careledger:adjudication";
/// The extension on a `Money` naming the SPL mint its value is counted in.
pub const TOKEN_MINT_EXTENSION: &str = "urn:careledger:token-mint";

/// An instant as FHIR writes it (`2026-11-22T04:00:00Z`).
pub fn instant(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A reference to a wallet or account by its key.
pub fn key_ref(key: &Pubkey) -> Value {
    json!({ "identifier": { "system": KEY_SYSTEM, "value": key.to_string() } })
}

fn id_of(address: &Pubkey) -> String {
    // FHIR ids are at most 64 characters of [A-Za-z0-9-.]: a base58 address fits.
    address.to_string()
}

/// A grant's Consent id: its address and serial, since a grant closed and made again at the same
/// address is another consent (44 + 1 + 10 characters at most).
pub fn consent_id(address: &Pubkey, g: &ConsentGrant) -> String {
    format!("{address}-{}", g.serial)
}

/// `amount` base units of a mint with `decimals`, as a FHIR decimal in the token's scale.
pub fn token_value(amount: u64, decimals: u8) -> Value {
    // FHIR decimals are JSON numbers; the shortest round-trip form of the quotient is exact to
    // the mint's scale for any amount below 2^53 base units.
    json!(amount as f64 / 10f64.powi(i32::from(decimals)))
}

/// A FHIR Money in the token `mint` (which has `decimals`).
fn money_value(amount: u64, mint: &Pubkey, decimals: u8) -> Value {
    json!({
        "value": token_value(amount, decimals),
        "extension": [{
            "url": TOKEN_MINT_EXTENSION,
            "valueIdentifier": { "system": KEY_SYSTEM, "value": mint.to_string() },
        }],
    })
}

/// The v3 ActReason code of a purpose of use.
pub fn purpose_code(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Treatment => "TREAT",
        Purpose::Payment => "HPAYMT",
        Purpose::Operations => "HOPERAT",
        Purpose::Research => "HRESCH",
        Purpose::PublicHealth => "PUBHLTH",
        Purpose::Emergency => "ETREAT",
    }
}

/// Every purpose of use a grant can carry: those a patient grants, and break-glass.
pub const PURPOSES_OF_USE: [Purpose; 6] = [
    Purpose::Treatment,
    Purpose::Payment,
    Purpose::Operations,
    Purpose::Research,
    Purpose::PublicHealth,
    Purpose::Emergency,
];

/// The purpose whose v3 ActReason code is `code` (the inverse of [`purpose_code`]).
pub fn purpose_of_code(code: &str) -> Option<Purpose> {
    PURPOSES_OF_USE
        .into_iter()
        .find(|p| purpose_code(*p) == code)
}

fn purpose_coding(purpose: Purpose) -> Value {
    json!({ "system": ACT_REASON, "code": purpose_code(purpose) })
}

/// The extension on a Consent's `sourceAttachment` holding the statement's SHA-256 (base64), the
/// hash the grant stores; FHIR's own `hash` is SHA-1.
pub const STATEMENT_SHA256_EXTENSION: &str = "urn:careledger:statement-sha256";
/// Why a Consent is active or inactive: the grant's standing by the program's rule (active,
/// not-yet-valid, expired, revoked, or void after a revoke-all).
pub const GRANT_STANDING_EXTENSION: &str = "urn:careledger:grant-standing";

/// The consent statement a grant was made against, re-rendered and proven by the SHA-256 the
/// grant stores: `None` for a grant made without one, or changed since (an update clears the
/// hash). The statement's `not_before` is "when recorded" (0), or the grant's own, or the one its
/// `ConsentStatementSigned` event names, and only one the grant actually kept.
pub fn statement_of(
    address: &Pubkey,
    g: &ConsentGrant,
    events: &[CareledgerEvent],
) -> Option<Vec<u8>> {
    use careledger::logic::authority::Actor;
    use careledger::logic::statement::{render, statement_hash, StatementTerms};
    if g.statement_hash == [0; 32] {
        return None;
    }
    let stated = events.iter().filter_map(|e| match e {
        CareledgerEvent::ConsentStatementSigned(s)
            if s.grant == *address && s.serial == g.serial =>
        {
            Some(s.stated_not_before)
        }
        _ => None,
    });
    let actor = if g.payer == g.patient {
        Actor::Patient
    } else {
        Actor::Guardian
    };
    // a stated start is the grant's only if the program would have stored it: 0 (or a past time)
    // becomes the moment recorded, a later time stays as it is
    let created = i64::from(g.created_at);
    [0, g.not_before]
        .into_iter()
        .chain(stated)
        .filter(|stated| stated.max(&created) == &g.not_before)
        .map(|not_before| {
            render(&StatementTerms {
                patient: g.patient,
                signer: g.payer,
                actor,
                grantee: g.grantee,
                grant: *address,
                serial: g.serial,
                classes: g.classes,
                actions: g.actions,
                purpose: g.purpose,
                record_scope: g.record_scope,
                not_before,
                expires_at: g.expires_at,
            })
        })
        .find(|text| statement_hash(text) == g.statement_hash)
}

/// The statement as the Consent's `sourceAttachment`.
fn statement_attachment(statement: &[u8], g: &ConsentGrant) -> Value {
    use base64::Engine;
    use sha1::Digest;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({
        "contentType": "text/plain; charset=utf-8",
        "language": "en",
        "data": b64(statement),
        "size": statement.len(),
        "hash": b64(&sha1::Sha1::digest(statement)),
        "title": format!("Consent statement signed by {}", g.payer),
        "creation": instant(i64::from(g.created_at)),
        "extension": [{ "url": STATEMENT_SHA256_EXTENSION, "valueBase64Binary": b64(&g.statement_hash) }],
    })
}

/// A grant as a FHIR `Consent`, as it stands at `now` under the patient's `patient_epoch`, with
/// its signed statement attached where `events` prove one.
pub fn consent(
    address: &Pubkey,
    g: &ConsentGrant,
    now: i64,
    patient_epoch: u32,
    events: &[CareledgerEvent],
) -> Value {
    // where it stands by the program's own rule: active only inside its window, at the
    // patient's current epoch, not revoked
    let standing = grant_standing(g, patient_epoch, now);
    let live = standing == GrantStanding::Active;
    let scope = match g.purpose {
        Purpose::Research => "research",
        Purpose::Treatment | Purpose::Emergency => "treatment",
        _ => "patient-privacy",
    };
    let mut actions = Vec::new();
    if g.actions & action::READ != 0 {
        actions.push(json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access" }] }));
    }
    if g.actions & action::WRITE != 0 {
        actions.push(json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "correct" }] }));
    }
    let classes: Vec<Value> = careledger::logic::statement::class_labels(g.classes)
        .map(|label| json!({ "system": CLASS_SYSTEM, "code": label.to_string() }))
        .collect();
    let mut provision = json!({
        "type": "permit",
        "period": { "start": instant(g.not_before), "end": instant(g.expires_at) },
        "actor": [{
            "role": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP" }] },
            "reference": key_ref(&g.grantee),
        }],
        "action": actions,
        "purpose": [purpose_coding(g.purpose)],
        "class": classes,
    });
    if g.record_scope != NO_RECORD_SCOPE {
        let record = crate::pda::record(&g.patient, g.record_scope).0;
        provision["data"] = json!([{ "meaning": "instance", "reference": { "identifier": { "system": "urn:careledger:record", "value": record.to_string() } } }]);
    }
    let mut consent = json!({
        "resourceType": "Consent",
        "id": consent_id(address, g),
        "identifier": [{ "system": "urn:careledger:grant", "value": address.to_string() }],
        "status": if live { "active" } else { "inactive" },
        "extension": [{ "url": GRANT_STANDING_EXTENSION, "valueCode": standing.name() }],
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": scope }] },
        "category": [{ "coding": [{ "system": "http://loinc.org", "code": "59284-0" }] }],
        "patient": key_ref(&g.patient),
        "dateTime": instant(i64::from(g.created_at)),
        "policyRule": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN" }] },
        "provision": provision,
    });
    if let Some(statement) = statement_of(address, g, events) {
        consent["sourceAttachment"] = statement_attachment(&statement, g);
    }
    consent
}

/// One audited action, as `audit_events` reads it from a program event.
struct Audited<'a> {
    id: String,
    /// FHIR AuditEvent action: C, R, U or D.
    action: &'static str,
    at: i64,
    success: bool,
    outcome_desc: Option<String>,
    purpose: Purpose,
    who: &'a Pubkey,
    entities: Vec<(&'static str, &'a Pubkey)>,
}

fn audit_event(a: Audited) -> Value {
    let entity: Vec<Value> = a
        .entities
        .iter()
        .map(|(kind, key)| json!({ "what": { "identifier": { "system": format!("urn:careledger:{kind}"), "value": key.to_string() } } }))
        .collect();
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": a.id,
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest" },
        "action": a.action,
        "recorded": instant(a.at),
        "outcome": if a.success { "0" } else { "4" },
        "purposeOfEvent": [{ "coding": [purpose_coding(a.purpose)] }],
        "agent": [{ "who": key_ref(a.who), "requestor": true }],
        "source": { "observer": { "display": format!("careledger program {}", careledger::ID) } },
        "entity": entity,
    });
    if let Some(desc) = a.outcome_desc {
        event["outcomeDesc"] = json!(desc);
    }
    event
}

/// AuditEvents for the access-related events among `events` (others are not audit events).
fn audit_events(events: &[CareledgerEvent]) -> Vec<Value> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| audit_event_of(format!("event-{i}"), e))
        .collect()
}

/// The `AuditEvent` with `id` for an access, refusal, break-glass opening or review, or
/// revocation; `None` for any other event.
pub fn audit_event_of(id: String, e: &CareledgerEvent) -> Option<Value> {
    let code = |a: u8| if a == action::WRITE { "U" } else { "R" };
    let audited = match e {
        CareledgerEvent::AccessLogged(a) => Audited {
            id,
            action: code(a.action),
            at: a.at,
            success: true,
            outcome_desc: a.emergency.then(|| "break-glass access".to_string()),
            purpose: a.purpose,
            who: &a.grantee,
            entities: vec![("record", &a.record), ("grant", &a.grant)],
        },
        CareledgerEvent::AccessRefused(a) => Audited {
            id,
            action: code(a.action),
            at: a.at,
            success: false,
            outcome_desc: Some(format!("refused: {:?}", a.reason)),
            purpose: a.purpose,
            who: &a.grantee,
            entities: vec![("record", &a.record), ("grant", &a.grant)],
        },
        CareledgerEvent::BreakGlassOpened(b) => Audited {
            id,
            action: "C",
            at: b.at,
            success: true,
            outcome_desc: Some(format!("break-glass opened, reason code {}", b.reason_code)),
            purpose: Purpose::Emergency,
            who: &b.provider,
            entities: vec![("grant", &b.grant)],
        },
        CareledgerEvent::GrantRevoked(r) => Audited {
            id,
            action: "D",
            at: r.at,
            success: true,
            outcome_desc: Some("consent revoked".to_string()),
            purpose: r.purpose,
            who: &r.by,
            entities: vec![("grant", &r.grant)],
        },
        CareledgerEvent::AllGrantsRevoked(r) => Audited {
            id,
            action: "D",
            at: r.at,
            success: true,
            outcome_desc: Some(format!(
                "every consent revoked by the {} (epoch {} to {})",
                actor_name(r.actor),
                r.old_epoch,
                r.new_epoch
            )),
            // HL7 v3 ActReason has no code for this; the patient's own privacy choice
            purpose: Purpose::Operations,
            who: &r.by,
            entities: vec![("patient", &r.patient)],
        },
        CareledgerEvent::BreakGlassReviewed(r) => Audited {
            id,
            action: if r.revoked { "D" } else { "U" },
            at: r.at,
            success: true,
            outcome_desc: Some(match (r.outcome, r.revoked) {
                (ReviewState::Disputed, true) => {
                    "break-glass disputed by the patient: grant revoked".to_string()
                }
                (ReviewState::Disputed, false) => "break-glass disputed by the patient".to_string(),
                _ => "break-glass accepted by the patient".to_string(),
            }),
            purpose: Purpose::Emergency,
            who: &r.by,
            entities: vec![("grant", &r.grant)],
        },
        _ => return None,
    };
    Some(audit_event(audited))
}

fn actor_name(actor: careledger::logic::authority::Actor) -> &'static str {
    match actor {
        careledger::logic::authority::Actor::Patient => "patient",
        careledger::logic::authority::Actor::Guardian => "guardian",
    }
}

/// A claim as a FHIR `ClaimResponse` summary.
pub fn claim_response(address: &Pubkey, c: &Claim, policy: &Policy, decimals: u8) -> Value {
    let (outcome, disposition) = match c.state {
        ClaimState::PendingReview => ("queued", "pending review"),
        _ if c.state.is_owed() && !c.owes() => ("complete", "approved, nothing to pay"),
        ClaimState::Approved => ("complete", "approved, payment pending"),
        ClaimState::Partial => ("partial", "partly approved, payment pending"),
        ClaimState::Denied => ("complete", "denied"),
        ClaimState::Paid => ("complete", "paid"),
        ClaimState::Cancelled => ("complete", "cancelled by the provider"),
    };
    let money = |system: &str, category: &str, amount: u64| {
        json!({
            "category": { "coding": [{ "system": system, "code": category }] },
            "amount": money_value(amount, &policy.mint, decimals),
        })
    };
    let b = &c.breakdown;
    let decided = matches!(
        c.state,
        ClaimState::Approved | ClaimState::Partial | ClaimState::Paid
    );
    let mut totals = vec![money(ADJUDICATION, "submitted", c.billed)];
    if decided {
        totals.push(money(ADJUDICATION, "eligible", b.eligible));
        totals.push(money(ADJUDICATION, "deductible", b.deductible_applied));
        totals.push(money(ADJUDICATION, "copay", b.copay));
        totals.push(money(CARELEDGER_ADJUDICATION, "coinsurance", b.coinsurance));
        totals.push(money(ADJUDICATION, "benefit", b.benefit));
    }
    let mut response = json!({
        "resourceType": "ClaimResponse",
        "id": id_of(address),
        "status": if c.state == ClaimState::Cancelled { "cancelled" } else { "active" },
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional" }] },
        "use": "claim",
        "patient": key_ref(&policy.patient),
        "created": instant(c.submitted_at),
        "insurer": key_ref(&policy.insurer),
        "requestor": key_ref(&c.provider),
        "outcome": outcome,
        "disposition": disposition,
        "total": totals,
    });
    if c.state == ClaimState::Paid {
        response["payment"] = json!({
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype", "code": "complete" }] },
            "date": instant(c.paid_at).get(..10).unwrap_or_default(),
            "amount": money_value(b.benefit, &policy.mint, decimals),
        });
    }
    response
}

/// The extension on an attachment holding its SHA-256 (base64): FHIR's own `hash` is SHA-1.
pub const CONTENT_SHA256_EXTENSION: &str = "urn:careledger:content-sha256";
/// The identifier system of a record anchor's address.
pub const RECORD_SYSTEM: &str = "urn:careledger:record";

/// A record anchor as a FHIR `DocumentReference`: the encrypted record's CID (a URL at a
/// trustless gateway's `/ipfs` where the caller knows one that holds it, with the size it
/// holds: `held` is that gateway's origin and the ciphertext's size; else an `ipfs://` URI),
/// its SHA-256, its class as the category, and `relatesTo` the version it amends.
pub fn document_reference(address: &Pubkey, r: &RecordAnchor, held: Option<(&str, u64)>) -> Value {
    use base64::Engine;
    use careledger::state::RecordStatus;
    let cid = crate::cid::cid_to_string(&r.cid);
    let url = match held {
        Some((origin, _)) => format!("{}/ipfs/{cid}", origin.trim_end_matches('/')),
        None => format!("ipfs://{cid}"),
    };
    let category: Vec<Value> = careledger::logic::statement::class_labels(1u16 << (r.class & 15))
        .map(|label| json!({ "coding": [{ "system": CLASS_SYSTEM, "code": label.to_string() }] }))
        .collect();
    let mut doc = json!({
        "resourceType": "DocumentReference",
        "id": id_of(address),
        "masterIdentifier": { "system": "urn:ietf:rfc:3986", "value": format!("ipfs://{cid}") },
        "identifier": [{ "system": RECORD_SYSTEM, "value": address.to_string() }],
        "status": match r.status {
            RecordStatus::Current => "current",
            RecordStatus::Superseded => "superseded",
            RecordStatus::EnteredInError => "entered-in-error",
        },
        "category": category,
        "subject": key_ref(&r.patient),
        "date": instant(i64::from(r.anchored_at)),
        "author": [key_ref(&r.author)],
        "description": format!("record #{} version {} (encrypted; the custodian releases keys only against an access event)", r.index, r.version),
        "content": [{
            "attachment": {
                "contentType": "application/octet-stream",
                "url": url,
                "title": format!("careledger envelope, CID {cid}"),
                "creation": instant(i64::from(r.anchored_at)),
                "extension": [{
                    "url": CONTENT_SHA256_EXTENSION,
                    "valueBase64Binary": base64::engine::general_purpose::STANDARD.encode(r.content_sha256),
                }],
            },
        }],
    });
    // R4's unsignedInt stops at 2^31 - 1: a larger record gives no size
    if let Some((_, size)) = held.filter(|(_, size)| *size <= i32::MAX as u64) {
        doc["content"][0]["attachment"]["size"] = json!(size);
    }
    if r.previous != careledger::NO_PREVIOUS_VERSION {
        let previous = crate::pda::record(&r.patient, r.previous).0;
        doc["relatesTo"] = json!([{ "code": "replaces", "target": { "reference": format!("DocumentReference/{previous}") } }]);
    }
    doc
}

/// The identifier system of a transaction signature.
pub const SIGNATURE_SYSTEM: &str = "urn:solana:signature";
/// The extension on a `Provenance` naming the slot its transaction landed in.
pub const SLOT_EXTENSION: &str = "urn:careledger:slot";

/// Where `target` (`Consent/…`, `AuditEvent/…`) came from: the transaction `signature` in `slot`,
/// signed by `who` at `at`.
pub fn provenance(
    id: &str,
    target: &str,
    signature: &str,
    slot: u64,
    at: i64,
    who: &Pubkey,
) -> Value {
    json!({
        "resourceType": "Provenance",
        "id": id,
        "target": [{ "reference": target }],
        "recorded": instant(at),
        "agent": [{ "who": key_ref(who) }],
        "entity": [{
            "role": "source",
            "what": { "identifier": { "system": SIGNATURE_SYSTEM, "value": signature }, "display": format!("Solana transaction in slot {slot}") },
        }],
        "extension": [{ "url": SLOT_EXTENSION, "valueString": slot.to_string() }],
    })
}

/// What goes into an export, fetched by `Client::audit_bundle` or gathered by the caller.
pub struct AuditInput<'a> {
    pub grants: &'a [(Pubkey, ConsentGrant)],
    /// The patient's current consent epoch (older grants export as inactive).
    pub patient_epoch: u32,
    pub events: &'a [CareledgerEvent],
    /// Each claim with its policy and the decimals of the policy's mint.
    pub claims: &'a [(Pubkey, Claim, Policy, u8)],
    /// Time of the export (decides which grants are still active).
    pub now: i64,
}

/// The FHIR R4 Bundle of a patient's audit trail.
pub fn fhir_bundle(input: &AuditInput) -> Value {
    let mut entries = Vec::new();
    for (address, grant) in input.grants {
        entries.push(consent(
            address,
            grant,
            input.now,
            input.patient_epoch,
            input.events,
        ));
    }
    entries.extend(audit_events(input.events));
    for (address, claim, policy, decimals) in input.claims {
        entries.push(claim_response(address, claim, policy, *decimals));
    }
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|resource| {
            let url = format!(
                "urn:careledger:{}:{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({ "fullUrl": url, "resource": resource })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(input.now),
        "entry": entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use careledger::state::GrantStatus;

    #[test]
    fn instants_and_purposes() {
        assert_eq!(instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(instant(1_795_305_600), "2026-11-22T00:00:00Z");
        assert_eq!(purpose_code(Purpose::Emergency), "ETREAT");
    }

    #[test]
    fn a_grant_is_active_only_inside_its_window() {
        let g = ConsentGrant {
            patient: Pubkey::new_unique(),
            grantee: Pubkey::new_unique(),
            classes: 1,
            actions: action::READ,
            purpose: Purpose::Treatment,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: 255,
            consent_epoch: 0,
            record_scope: NO_RECORD_SCOPE,
            access_count: 0,
            not_before: 100,
            expires_at: 200,
            created_at: 50,
            revoked_at: 0,
            serial: 3,
            narrowed_at: 0,
            payer: Default::default(),
            statement_hash: [0; 32],
        };
        let address = Pubkey::new_unique();
        let status = |now| consent(&address, &g, now, 0, &[])["status"].clone();
        assert_eq!(status(99), "inactive");
        assert_eq!(status(100), "active");
        assert_eq!(status(199), "active");
        assert_eq!(status(200), "inactive");
        assert_eq!(
            consent(&address, &g, 150, 0, &[])["id"],
            format!("{address}-3")
        );
    }

    #[test]
    fn amounts_are_in_the_tokens_scale() {
        assert_eq!(token_value(30_400, 2), json!(304.0));
        assert_eq!(token_value(12_345, 2).to_string(), "123.45");
        assert_eq!(token_value(7, 0), json!(7.0));
        assert_eq!(token_value(1, 6).to_string(), "1e-6");
    }
}
