//! The CapabilityStatement (`GET /fhir/metadata`), listing exactly what the routes in
//! [`super::router`] do, and the OperationDefinition of `Consent/$evaluate`. Both are built from
//! the same tables the routes use ([`Kind::params`]).
use super::search::{Kind, COMMON, DEFAULT_COUNT, MAX_COUNT};
use serde_json::{json, Value};

/// When this API's contract last changed (the CapabilityStatement's `date`).
const CONTRACT_DATE: &str = "2026-12-07";

/// What every caller is told about access.
pub const ACCESS: &str = "Read-only. This API answers only what the Solana ledger already shows anyone: wallet keys, account addresses, opaque record-class ids, purposes of use, times and amounts; no personal health information is on the ledger, and a consent statement is re-rendered from on-chain terms and proven by the hash the grant stores. So no request needs to be signed. Record contents stay encrypted: a DocumentReference gives the ciphertext's CID and SHA-256, and the custodian's gateway releases a key only against an on-chain access event.";

pub fn statement(base: &str) -> Value {
    let resources: Vec<Value> = Kind::ALL
        .into_iter()
        .map(|kind| {
            let interaction = vec![json!({ "code": "search-type" }), json!({ "code": "read" })];
            let params: Vec<Value> = kind
                .params()
                .iter()
                .map(|(name, kind, doc)| json!({ "name": name, "type": kind, "documentation": doc }))
                .collect();
            let mut resource = json!({
                "type": kind.name(),
                "interaction": interaction,
                "searchParam": params,
            });
            if kind == Kind::Consent {
                resource["operation"] = json!([{
                    "name": "evaluate",
                    "definition": format!("{base}/OperationDefinition/consent-evaluate"),
                    "documentation": "May this actor do this to this patient's data, for this purpose, now? The program's own decide_access.",
                }]);
            }
            resource
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CONTRACT_DATE,
        "kind": "instance",
        "software": { "name": "careledger", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "careledger's FHIR API over a Solana ledger", "url": base },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": format!(
                "{ACCESS} Searches read one patient's trail (patient=WALLET) and page by _count (default {DEFAULT_COUNT}, at most {MAX_COUNT}) with next links, oldest first so that pages do not shift as the trail grows; _summary=count gives the total alone. Every search also takes {}. Unknown parameters are ignored and reported in an OperationOutcome entry, or refused (400) with Prefer: handling=strict.",
                COMMON.join(", ")
            ),
            "security": { "description": ACCESS },
            "resource": resources,
        }],
    })
}

/// `Consent/$evaluate`'s definition.
pub fn evaluate_definition(base: &str) -> Value {
    let input = |name: &str, min: u32, kind: &str, doc: &str| json!({ "name": name, "use": "in", "min": min, "max": "1", "type": kind, "documentation": doc });
    let output = |name: &str, min: u32, kind: &str, doc: &str| json!({ "name": name, "use": "out", "min": min, "max": "1", "type": kind, "documentation": doc });
    json!({
        "resourceType": "OperationDefinition",
        "id": "consent-evaluate",
        "url": format!("{base}/OperationDefinition/consent-evaluate"),
        "name": "ConsentEvaluate",
        "title": "Decide an access as the careledger program would",
        "status": "active",
        "kind": "operation",
        "code": "evaluate",
        "system": false,
        "type": true,
        "instance": false,
        "resource": ["Consent"],
        "description": "Answers permit or deny for (patient, actor, purpose, action, class or record, time) with the program's own decide_access, over the accounts access_log reads, in one snapshot of the ledger. HL7 has published no consent-decision operation for FHIR R4, so careledger defines this one. Without `time`, the ledger's clock decides; with it, the accounts as they stand now are judged at that time.",
        "parameter": [
            input("patient", 1, "string", "The patient's wallet: valueString, or a valueIdentifier in urn:solana:pubkey (also taken)"),
            input("actor", 1, "string", "The wallet that would access (a provider's)"),
            input("purpose", 1, "code", "A v3 ActReason code: TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, ETREAT"),
            input("action", 1, "code", "access (read) or correct (write)"),
            input("class", 0, "code", "A record class (lab-result, ...); required without record"),
            input("record", 0, "unsignedInt", "The patient's record number: its class and index decide"),
            input("time", 0, "instant", "When to decide for [default: the ledger's clock]"),
            output("decision", 1, "code", "permit or deny"),
            output("reason", 0, "code", "Why not: a program refusal (revoked, expired, class-not-granted, no-grant, ...) or paused, patient-not-registered, not-a-provider, no-such-record"),
            output("consent", 0, "Reference", "The Consent the decision rests on"),
            output("evaluatedAt", 1, "instant", "The time decided for"),
        ],
    })
}
